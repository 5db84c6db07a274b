"""Statistics of codes, in numpy, shared by the trainer's metrics and zoo and the explorer's worker."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ACTIVE_KL_NATS = 0.1  # a VAE dimension carrying less than this is collapsed to the prior
ACTIVE_STD = 0.05  # an AE dimension varying less than this carries nothing (the FactorVAE pruning rule)


def factor_correlations(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Pearson r between each code dimension (N, d) and each factor (N, F): a signed (d, F) table.

    A constant column (a dead dimension, a fixed factor) correlates 0 with everything.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    c: npt.NDArray[np.float64] = (codes - codes.mean(0)) / (codes.std(0) + 1e-9)
    f: npt.NDArray[np.float64] = (factors - factors.mean(0)) / (factors.std(0) + 1e-9)
    return c.T @ f / len(codes)
