"""Our metrics against a port of disentanglement_lib's (tests/trainer/dlib_reference.py) on fixed arrays.

MIG and SAP are the same computation and must agree to float precision; DCI's fast default (GradientBoosting's
algorithm on histograms) within 0.01 of the reference's GradientBoostingClassifier, `full=True` to the
reference's own tie-breaking noise; the FactorVAE score by votes drawn from the codes, and by fresh
votes, within 0.03 of disentanglement_lib's 10,000 + 5,000 fresh votes. The full table on the zoo and
disentangling-vae models (reference trees take minutes a model) is `python -m benchmarks.metrics_agreement`.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.trainer import dlib_reference as ref
from trainer.metrics import dci, mig, sap
from trainer.metrics.factorvae import factorvae_from_codes, factorvae_score, uniform_factors

SMALL_SIZES = (3, 6, 5)  # few classes keep the reference's boosted trees to a few seconds
TRAIN, TEST = 800, 400


@pytest.fixture(scope="module")
def entangled_small() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    classes = np.stack([rng.integers(0, s, TRAIN + TEST) for s in SMALL_SIZES], axis=1)
    return ref.entangled_codes(classes, rng, SMALL_SIZES), classes


@pytest.fixture(scope="module")
def reference_dci(entangled_small) -> dict[str, float]:
    codes, classes = entangled_small
    return ref.dci(codes[:TRAIN].T, classes[:TRAIN].T, codes[TRAIN:].T, classes[TRAIN:].T)


def test_mig_is_disentanglement_libs_to_float_precision(entangled_small):
    codes, classes = entangled_small
    ours = mig(codes, classes)
    assert ours == pytest.approx(ref.mig(codes.T, classes.T), abs=1e-12)
    assert 0.0 < ours < 0.3  # entangled: every dimension holds a little of every factor


def test_sap_is_disentanglement_libs_to_float_precision(entangled_small):
    codes, classes = entangled_small
    ours = sap(codes[:TRAIN], classes[:TRAIN], codes[TRAIN:], classes[TRAIN:]).score
    assert ours == pytest.approx(
        ref.sap(codes[:TRAIN].T, classes[:TRAIN].T, codes[TRAIN:].T, classes[TRAIN:].T), abs=1e-9
    )


def test_fast_dci_is_within_002_of_the_boosted_trees(entangled_small, reference_dci):
    codes, classes = entangled_small
    ours = dci(codes[:TRAIN], classes[:TRAIN], codes[TRAIN:], classes[TRAIN:])
    assert ours.model.startswith("boosted trees on histograms")
    # the issue asks for 0.02; the replica of GradientBoosting's algorithm lands about 0.005 away here, and
    # HistGradientBoostingClassifier's own trees (hessian-weighted splits) 0.015-0.024 away
    assert ours.disentanglement == pytest.approx(reference_dci["disentanglement"], abs=0.01)
    assert ours.completeness == pytest.approx(reference_dci["completeness"], abs=0.01)
    assert ours.informativeness == pytest.approx(reference_dci["informativeness_test"], abs=0.03)
    assert 0.1 < reference_dci["disentanglement"] < 0.4  # entangled, yet far from a uniform importance


def test_full_dci_is_the_reference_up_to_its_tie_breaking(entangled_small, reference_dci):
    codes, classes = entangled_small
    ours = dci(codes[:TRAIN], classes[:TRAIN], codes[TRAIN:], classes[TRAIN:], full=True)
    assert ours.disentanglement == pytest.approx(reference_dci["disentanglement"], abs=0.01)
    assert ours.completeness == pytest.approx(reference_dci["completeness"], abs=0.01)
    assert ours.informativeness == pytest.approx(reference_dci["informativeness_test"], abs=0.02)


@pytest.fixture(scope="module")
def entangled_dsprites() -> tuple[np.ndarray, np.ndarray, float]:
    """15,000 entangled codes of dSprites' factor classes and the reference FactorVAE score."""
    rng = np.random.default_rng(0)
    classes = np.stack([rng.integers(0, s, 15_000) for s in ref.DSPRITES_SIZES], axis=1)
    noise = np.random.default_rng(1)
    reference = ref.factor_vae(lambda c: ref.entangled_codes(c, noise), ref.DSPRITES_SIZES, np.random.RandomState(0))
    return ref.entangled_codes(classes, noise), classes, reference["eval_accuracy"]


def test_factorvae_from_the_codes_is_within_003_of_fresh_votes(entangled_dsprites):
    codes, classes, reference = entangled_dsprites
    assert 0.6 < reference < 0.9  # neither chance (0.2) nor perfect
    ours = factorvae_from_codes(codes, classes, codes[:10_000], np.random.default_rng(0))
    assert ours.eval_accuracy == pytest.approx(reference, abs=0.03)
    assert ours.active_dims == tuple(range(10))


def test_factorvae_with_fresh_votes_is_within_003_of_the_reference(entangled_dsprites):
    codes, _, reference = entangled_dsprites
    noise = np.random.default_rng(2)
    ours = factorvae_score(
        lambda c: ref.entangled_codes(c, noise),
        uniform_factors(ref.DSPRITES_SIZES),
        len(ref.DSPRITES_SIZES),
        codes[:10_000],
        np.random.default_rng(0),
    )
    assert ours.eval_accuracy == pytest.approx(reference, abs=0.03)


def test_factorvae_from_codes_is_one_on_the_factors_and_chance_on_noise():
    rng = np.random.default_rng(0)
    classes = np.stack([rng.integers(0, s, 6000) for s in SMALL_SIZES], axis=1)
    exact = factorvae_from_codes(classes.astype(np.float64), classes, classes[:4000], rng, votes_per_half=2000)
    assert exact.eval_accuracy == 1.0
    noise = factorvae_from_codes(rng.normal(size=(6000, 4)), classes, rng.normal(size=(4000, 4)), rng)
    assert noise.eval_accuracy < 0.45  # chance is 1/3
