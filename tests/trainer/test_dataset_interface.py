"""Every data set speaks the one interface; sets without factors say so; a checkpoint's set is re-created."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer import datasets

from .test_folder import write_broken, write_images
from .test_mnist import make_mnist


@pytest.fixture
def data(request, tmp_path) -> datasets.Dataset:
    name = request.param
    if name == "mnist":
        make_mnist(tmp_path, n=12)
        return datasets.get("mnist", data_dir=str(tmp_path))
    if name == "folder":
        write_images(tmp_path, 6, size=(24, 30))
        return datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    return datasets.get(name, image_size=32)


ALL = ["dsprites", "faces", "digits", "mnist", "folder"]


@pytest.mark.parametrize("data", ALL, indirect=True)
def test_length_images_and_labels(data):
    n = len(data)
    indices = np.array([0, n - 1, n // 2])
    x = data.images(indices)
    assert x.shape == (3, *data.image_shape) and x.dtype == torch.float32
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(data.images(indices.tolist()), x) and torch.equal(data.images(torch.from_numpy(indices)), x)
    with pytest.raises(IndexError, match="index out of range"):
        data.images([n])
    if data.labels is not None:
        assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert data.sample_batch(4, torch.Generator().manual_seed(0)).shape == (4, *data.image_shape)


@pytest.mark.parametrize("data", ["dsprites", "faces"], indirect=True)
def test_factored_sets_have_a_consistent_factor_table(data):
    f = len(data.factor_names)
    assert data.has_factors and f == len(data.factor_sizes) == len(data.factor_values)
    assert [len(v) for v in data.factor_values] == list(data.factor_sizes)
    classes = data.sample_factors(5, np.random.default_rng(0))
    assert classes.shape == (5, f) and classes.dtype == np.int64
    assert (classes >= 0).all() and (classes < np.array(data.factor_sizes)).all()
    assert data.images_for_factors(classes).shape == (5, *data.image_shape)
    indices = np.array([3, 1000, len(data) - 1])
    assert data.factors_of(indices).shape == (3, f)
    assert torch.equal(data.images(indices), data.images_for_factors(data.factors_of(indices)))


@pytest.mark.parametrize("data", ["digits", "mnist", "folder"], indirect=True)
def test_sets_without_factors_say_so(data):
    assert not data.has_factors and data.factor_names == data.factor_sizes == data.factor_values == ()
    message = f"the {data.name} data set has no factor table"
    with pytest.raises(ValueError, match=message):
        data.sample_factors(3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        data.images_for_factors(np.zeros((1, 1), np.int64))
    with pytest.raises(ValueError, match=message):
        data.factors_of(np.array([0]))


def test_labels_are_known_for_digit_sets_only(tmp_path):
    assert datasets.get("digits").labels is not None
    assert datasets.get("faces").labels is None and datasets.get("dsprites").labels is None


# ---- re-creating a checkpoint's data set ----------------------------------------------------------
def test_unavailable_reasons_name_what_is_missing(tmp_path):
    reason = datasets.unavailable_reason
    assert reason(None, {}) == "the checkpoint does not record which data set it was trained on"
    assert reason("celeba", {}) == "its data set (celeba) cannot be made here"
    assert reason("folder", {}) == "the checkpoint does not record the folder its folder images came from"
    gone = str(tmp_path / "gone")
    assert reason("folder", {"data_dir": gone}) == f"its training images ({gone}) are not on this computer"
    assert reason("mnist", {"data_dir": str(tmp_path)}) == f"{tmp_path} no longer holds MNIST's train-images-idx3-ubyte"
    assert reason("folder", {"data_dir": str(tmp_path)}) is None
    assert reason("faces", {}) is None and reason("dsprites", {"data_file": gone}) is None


def test_for_model_reopens_the_recorded_folder_without_checking_every_file(tmp_path):
    write_images(tmp_path, 3, size=(20, 20))
    write_broken(tmp_path)
    data = datasets.for_model("folder", {"data_dir": str(tmp_path), "channels": 1}, (1, 32, 32))
    assert data.image_shape == (1, 32, 32) and len(data) == 6  # broken files listed, not checked
    assert data.images(np.arange(6)).shape == (6, 1, 32, 32)  # and they give way to readable ones
    with pytest.raises(ValueError, match="are not on this computer"):
        datasets.for_model("folder", {"data_dir": str(tmp_path / "gone")}, (3, 64, 64))


def test_for_model_mnist_and_dsprites_fallback(tmp_path):
    make_mnist(tmp_path, n=3)
    assert len(datasets.for_model("mnist", {"data_dir": str(tmp_path)}, (1, 28, 28))) == 3
    procedural = datasets.for_model("dsprites", {"data_file": str(tmp_path / "gone.npz")}, (1, 32, 32))
    assert type(procedural) is datasets.DSprites and procedural.image_shape == (1, 32, 32)
    assert datasets.for_model("digits", {}, (1, 8, 8)).image_shape == (1, 8, 8)
