"""Disentanglement metrics on models whose data set has known factors (disentanglement_lib conventions).

    from trainer.metrics import evaluate
    scores = evaluate(model, datasets.get("dsprites"))      # {"mig": 0.21, "factorvae": ..., ...}

The single metrics take plain arrays (codes (N, D), factor classes (N, F)) and can be used alone:
`mig`, `factorvae_score`, `dci`, `sap`; `posterior` has per-dimension KL and the aggregate density.
"""

from __future__ import annotations

from .common import Cancelled
from .dci import dci
from .evaluate import evaluate
from .factorvae import factorvae_score
from .mig import mig, mutual_information_matrix
from .posterior import active_dims, aggregate_log_density, kl_per_dim
from .sap import sap

__all__ = [
    "Cancelled",
    "active_dims",
    "aggregate_log_density",
    "dci",
    "evaluate",
    "factorvae_score",
    "kl_per_dim",
    "mig",
    "mutual_information_matrix",
    "sap",
]
