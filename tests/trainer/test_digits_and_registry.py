"""scikit-learn's bundled digits and the data-set registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer import datasets


def test_digits_are_1797_labelled_images_in_unit_range():
    digits = datasets.get("digits")
    x = digits.images(np.arange(len(digits)))
    assert len(digits) == 1797 and x.shape == (1797, 1, 32, 32)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert digits.labels.shape == (1797,) and sorted(set(digits.labels.tolist())) == list(range(10))
    assert digits.factor_names == ()


def test_digits_upsample_keeps_the_mean_brightness():
    small, big = datasets.get("digits", image_size=8), datasets.get("digits", image_size=32)
    assert torch.allclose(small.images([7]).mean(), big.images([7]).mean(), atol=0.02)


def test_sample_batch_is_reproducible_from_the_generator():
    digits = datasets.get("digits", image_size=8)
    a = digits.sample_batch(16, torch.Generator().manual_seed(3))
    b = digits.sample_batch(16, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (16, 1, 8, 8)


def test_unknown_names_and_options_are_explained():
    with pytest.raises(ValueError, match="unknown data set 'cifar'; choose one of dsprites, faces, digits, mnist, fo"):
        datasets.get("cifar")
    with pytest.raises(ValueError, match="the digits data set does not take --data-dir"):
        datasets.get("digits", data_dir="/tmp")
    with pytest.raises(ValueError, match="not 48"):
        datasets.get("dsprites", image_size=48)
    with pytest.raises(ValueError, match="no factor table"):
        datasets.get("digits").sample_factors(3, np.random.default_rng(0))
