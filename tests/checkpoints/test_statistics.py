import numpy as np

from checkpoints.statistics import factor_correlations


def test_factor_correlations_are_signed_pearson_r_and_zero_for_a_dead_dimension():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 8, size=(500, 2)).astype(np.float64)
    noise = rng.normal(size=500)
    codes = np.stack([3 * factors[:, 0] + 1, -factors[:, 1], np.full(500, 0.25), noise], axis=1).astype(np.float32)
    r = factor_correlations(codes, factors)
    assert r.shape == (4, 2)
    np.testing.assert_allclose(r[0], [1.0, np.corrcoef(factors[:, 0], factors[:, 1])[0, 1]], atol=1e-6)
    np.testing.assert_allclose(r[1, 1], -1.0, atol=1e-6)
    assert np.all(r[2] == 0)  # a constant (collapsed) dimension
    np.testing.assert_allclose(r[3], [np.corrcoef(noise, f)[0, 1] for f in factors.T], atol=1e-6)
