"""Code statistics stored at every save: per-dimension KL and the spread of the encoder means.

Its own module so the explorer's engine can estimate them for an imported model without importing
the training run (and its DDP machinery).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from checkpoints import Model

from . import datasets
from .losses import kl_per_dim

STATS_SAMPLES = 1024  # images encoded for per-dimension KL and code statistics at each save


def latent_statistics(model: Model, data: datasets.Dataset, n: int = STATS_SAMPLES) -> dict[str, Any]:
    """Per-dimension KL (VAE) and the mean/std of encoder means over `n` fixed data samples."""
    if not model.has_encoder:
        return {}
    indices = torch.from_numpy(np.random.default_rng(0).choice(len(data), size=min(n, len(data)), replace=False))
    model.network.eval()
    mus, kls = [], []
    for chunk in indices.split(256):
        mu, logvar = model.encode(data.images(chunk))
        mus.append(mu)
        if logvar is not None:
            kls.append(kl_per_dim(mu, logvar) * len(chunk))
    mu = torch.cat(mus)
    stats = {"latent_mean": tuple(mu.mean(0).tolist()), "latent_std": tuple(mu.std(0).tolist())}
    if kls:
        stats["kl_per_dim"] = tuple((torch.stack(kls).sum(0) / len(mu)).tolist())
    return stats
