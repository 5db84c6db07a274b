"""Disentanglement metrics on representations whose answer is known, and on the disentangling-vae fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.metrics import Cancelled, aggregate_log_density, dci, evaluate, factorvae_score, kl_per_dim, mig, sap
from trainer.metrics.factorvae import uniform_factors

SIZES = (3, 6, 10, 8)  # at most 20 classes, so MIG's 20 bins can resolve every factor exactly
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "disentangling-vae"


def factor_sample(n: int, seed: int = 0) -> np.ndarray:
    return uniform_factors(SIZES)(n, np.random.default_rng(seed))


def mixed(factors: np.ndarray) -> np.ndarray:
    """Dimensions 0 and 1 each carry half of factors 0 and 1 (a 45 degree rotation of the scaled factors)."""
    codes = (factors / np.array(SIZES)).astype(np.float64)
    a, b = codes[:, 0].copy(), codes[:, 1].copy()
    codes[:, 0], codes[:, 1] = a + b, a - b
    return codes


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    factors = factor_sample(4000)
    return factors.astype(np.float64), factors


@pytest.fixture(scope="module")
def test_sample() -> tuple[np.ndarray, np.ndarray]:
    factors = factor_sample(2000, seed=1)
    return factors.astype(np.float64), factors


def random_codes(n: int, d: int = 4, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def test_mig_of_the_factors_is_one_and_of_noise_is_zero(sample):
    codes, factors = sample
    assert mig(codes, factors) > 0.97
    assert mig(random_codes(len(codes)), factors) < 0.03


def test_mig_ignores_order_sign_and_scale(sample):
    codes, factors = sample
    changed = codes[:, [2, 0, 3, 1]] * np.array([5.0, -0.01, 300.0, 2.0]) + 7.0
    assert mig(changed, factors) == pytest.approx(mig(codes, factors), abs=1e-9)


def test_mixing_two_factors_in_one_dimension_lowers_mig(sample):
    codes, factors = sample
    assert mig(mixed(factors), factors) < mig(codes, factors) - 0.2


def test_dci_of_the_factors_is_one_and_of_noise_is_near_zero(sample, test_sample):
    score = dci(*sample, *test_sample)
    assert score.disentanglement > 0.95 and score.completeness > 0.95 and score.informativeness > 0.99
    assert score.importance.shape == (4, 4)
    noise = dci(random_codes(4000), sample[1], random_codes(2000, seed=3), test_sample[1])
    assert noise.disentanglement < 0.15
    assert noise.informativeness < 0.35  # chance is 1/3, 1/6, 1/10, 1/8


def test_dci_keeps_its_score_under_permutation_and_rescaling(sample, test_sample):
    order, scale = [3, 1, 0, 2], np.array([0.1, -4.0, 50.0, 1.0])
    score = dci(*sample, *test_sample)
    changed = dci(sample[0][:, order] * scale, sample[1], test_sample[0][:, order] * scale, test_sample[1])
    assert changed.disentanglement == pytest.approx(score.disentanglement, abs=0.02)
    np.testing.assert_allclose(changed.importance, score.importance[order], atol=0.02)


def test_dci_gradient_boosted_trees_agree_on_the_factors(sample, test_sample):
    small = slice(0, 600)
    score = dci(sample[0][small], sample[1][small], test_sample[0][:300], test_sample[1][:300], full=True)
    assert score.model.startswith("gradient-boosted trees") and score.disentanglement > 0.9


def test_sap_ranks_factors_over_a_mixture_over_noise(sample, test_sample):
    exact = sap(*sample, *test_sample).score
    mixture = sap(mixed(sample[1]), sample[1], mixed(test_sample[1]), test_sample[1]).score
    noise = sap(random_codes(4000), sample[1], random_codes(2000, seed=3), test_sample[1]).score
    assert noise < 0.03
    assert exact > mixture + 0.05 and exact > 0.3


def test_factorvae_score_of_the_factors_is_one_and_of_noise_is_chance():
    sampler = uniform_factors(SIZES)
    rng = np.random.default_rng(0)
    variance_codes = sampler(2000, rng).astype(np.float64)
    exact = factorvae_score(
        lambda c: c.astype(np.float64), sampler, len(SIZES), variance_codes, rng, train_votes=200, eval_votes=100
    )
    assert exact.eval_accuracy == 1.0 and exact.active_dims == (0, 1, 2, 3)
    noise = factorvae_score(
        lambda c: np.random.default_rng(len(c) + int(c.sum())).normal(size=c.shape),
        sampler,
        len(SIZES),
        random_codes(2000),
        rng,
        train_votes=200,
        eval_votes=200,
    )
    assert noise.eval_accuracy < 0.45  # chance is 1/4


def test_kl_per_dim_is_the_analytic_value():
    mu = np.array([[0.0, 1.0], [0.0, -1.0]])
    logvar = np.array([[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(kl_per_dim(mu, logvar), [0.0, 0.5])


def test_aggregate_density_is_the_leave_one_out_mixture_and_finds_the_outlier():
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(size=(50, 3)) * 0.3, [[4.0, 4.0, 4.0]]])
    logvar = np.full_like(mu, np.log(0.2))
    log_q = aggregate_log_density(mu, logvar)
    assert np.argmin(log_q) == 50
    var = np.exp(logvar)
    dens = np.exp(-0.5 * ((mu[0] - mu[1:]) ** 2 / var[1:]).sum(1)) / np.sqrt((2 * np.pi * var[1:]).prod(1))
    assert log_q[0] == pytest.approx(np.log(dens.mean()), rel=1e-9)
    assert np.argmin(aggregate_log_density(mu, None)) == 50  # an AE: a kernel density instead


class FactorModel:
    """A 'VAE' whose encoder reads the factors back from the pixels the data set below paints."""

    kind, has_encoder, latent_dim, image_shape = "vae", True, 4, (1, 1, 4)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x.reshape(len(x), 4) * 10
        return mu, torch.full_like(mu, -2.0)


class FactorData:
    name, factor_names, factor_sizes, image_shape = "painted", ("a", "b", "c", "d"), SIZES, (1, 1, 4)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return uniform_factors(SIZES)(n, rng)

    def images_for_factors(self, classes: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(classes / np.array(SIZES), dtype=torch.float32).reshape(len(classes), 1, 1, 4)


def test_evaluate_gives_every_key_as_json_deterministically():
    fractions = []
    first = evaluate(FactorModel(), FactorData(), n=1200, seed=3, progress=fractions.append)
    assert evaluate(FactorModel(), FactorData(), n=1200, seed=3) == first
    for key in ("mig", "factorvae", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap"):
        assert 0.0 <= first[key] <= 1.0
    assert first["mig"] > 0.95 and first["factorvae"] == 1.0 and first["dci_disentanglement"] > 0.9
    assert len(first["kl_per_dim"]) == 4 and first["active_dims"] == [0, 1, 2, 3]
    assert np.asarray(first["mi_matrix"]).shape == (4, 4)
    # 1,800 codes hold every factor value 64 times in each half: FactorVAE votes come from them
    assert first["estimators"] == {
        "mig": "20-bin histograms, 1,200 samples, seed 3",
        "factorvae": "votes from batches of 64 drawn from the 1,800 encoded samples (2 halves x 10,000, "
        "cross-fitted), seed 3",
        "dci": "boosted trees on histograms (100 stages of depth 3), 1,200 training + 600 test samples, seed 3",
        "sap": "linear SVMs (C=0.01), 1,200 training + 600 test samples, seed 3",
    }
    assert first["metrics_version"] == 3 and first["n_test"] == 600
    json.dumps(first, allow_nan=False)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_evaluate_stops_when_asked():
    with pytest.raises(Cancelled):
        evaluate(FactorModel(), FactorData(), n=1200, should_stop=lambda: True)


@pytest.mark.skipif(not (FIXTURES / "betaH_dsprites" / "model.pt").exists(), reason="fixtures not present")
def test_beta_vae_fixture_is_more_disentangled_than_the_vae():
    import checkpoints
    from trainer import datasets
    from trainer.metrics.evaluate import encode_classes

    data = datasets.get("dsprites")
    classes = data.sample_factors(2000, np.random.default_rng(0))  # over 8 seeds: gap 0.037 +- 0.009
    scores = {
        name: mig(encode_classes(checkpoints.load(FIXTURES / name, device="cpu"), data, classes)[0], classes)
        for name in ("betaH_dsprites", "VAE_dsprites")
    }
    assert scores["betaH_dsprites"] > scores["VAE_dsprites"] + 0.015
