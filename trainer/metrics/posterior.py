"""Per-dimension KL, active dimensions, and the density of codes under the aggregate posterior.

numpy only, so the explorer's worker and `latent-train eval` share it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from checkpoints.statistics import ACTIVE_KL_NATS, ACTIVE_STD

from .common import ShouldStop, check_stop

DENSITY_CHUNK = 256  # query rows per step: the (chunk, N) temporaries stay around 20 MB at N = 10,000
LOG_2PI = math.log(2 * math.pi)


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """mu, logvar (N, D) -> (D,) mean analytic KL(N(mu, exp(logvar)) || N(0, 1)) in nats."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar).mean(axis=0)


def active_dims(mu: np.ndarray, logvar: np.ndarray | None) -> list[int]:
    """Dimensions in use: KL > 0.1 nats for a VAE; for an AE (no logvar), std of the code >= 0.05."""
    if logvar is not None:
        return [int(d) for d in np.flatnonzero(kl_per_dim(mu, logvar) > ACTIVE_KL_NATS)]
    return [int(d) for d in np.flatnonzero(np.asarray(mu, np.float64).std(axis=0) >= ACTIVE_STD)]


def silverman_bandwidth(codes: np.ndarray) -> np.ndarray:
    """(D,) Gaussian kernel widths by Silverman's rule for N points in D dimensions (an AE has no sigma)."""
    n, d = codes.shape
    std = np.maximum(codes.std(axis=0), 1e-6)
    return std * (4.0 / ((d + 2) * n)) ** (1.0 / (d + 4))


def aggregate_log_density(
    mu: np.ndarray,
    logvar: np.ndarray | None,
    *,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """(N,) log q(mu_n), q(z) = 1/(N-1) sum_{m != n} N(z; mu_m, diag exp(logvar_m)).

    The aggregate posterior as the mixture of the per-sample posteriors of the encoded sample,
    evaluated at each sample's own code with its own component left out (else every point would
    find itself dense). Low values are rare codes: the quantity by which debiasing re-weights
    training data (weight proportional to 1/q). Without logvar (an AE) each component is a
    Gaussian kernel of Silverman's width. mu, logvar: (N, D), N >= 2.
    """
    mu = np.asarray(mu, np.float64)
    n = len(mu)
    if n < 2:
        raise ValueError("the aggregate posterior needs at least 2 encoded samples")
    if logvar is None:
        var = np.broadcast_to(silverman_bandwidth(mu) ** 2, mu.shape)
    else:
        var = np.exp(np.asarray(logvar, np.float64))
    inv_var = 1.0 / var
    norm = -0.5 * (LOG_2PI * mu.shape[1] + np.log(var).sum(axis=1))  # (N,) log-normaliser per component
    out = np.empty(n)
    for start in range(0, n, DENSITY_CHUNK):
        check_stop(should_stop)
        query = mu[start : start + DENSITY_CHUNK]
        # (chunk, N) log N(query_i; mu_m, var_m), written as a sum of squares without a (chunk, N, D) loop
        quad = (query**2) @ inv_var.T - 2 * query @ (mu * inv_var).T + ((mu**2) * inv_var).sum(axis=1)
        log_p = norm - 0.5 * np.maximum(quad, 0.0)
        rows = np.arange(len(query))
        log_p[rows, start + rows] = -np.inf
        out[start : start + len(query)] = logsumexp(log_p, axis=1) - math.log(n - 1)
    return out
