"""projection_*: projecting images into the zoo DCGAN (faces, 32x32) against the best of 1,000 random codes.

Two sets of 16 targets: the GAN's own decodings of prior codes (seed 7; a code reproducing each exists)
and real data samples of its `faces` set (drawn with seed 0). For each, the mean squared pixel error of
the projection (`explorer.engine.projection.project`, default settings: 200 Adam steps, 4 restarts, seed 0),
the same for the best of 1,000 prior codes per target (seed 12345), their ratio, and the projection's
wall time for all 16 on this machine's CPU. `python -m benchmarks.projection` prints just these.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

DCGAN = Path(__file__).resolve().parents[1] / "checkpoints" / "zoo" / "faces-dcgan.safetensors"
TARGETS = 16
RANDOM = 1000


def run(quick: bool = False) -> dict[str, float]:
    import checkpoints
    from explorer.engine import projection
    from explorer.engine.rendering import random_codes
    from trainer import datasets

    if not DCGAN.exists():
        return {}
    model = checkpoints.load(DCGAN, device="cpu")
    data = datasets.for_model(model.meta.dataset, model.meta.train_config, model.image_shape)
    n = 4 if quick else TARGETS
    sets = {
        "decoded": model.decode(random_codes(n, model.latent_dim, 7)),
        "data": data.images(np.random.default_rng(0).choice(len(data), n, replace=False)),
    }
    prior = torch.cat([model.decode(c) for c in np.split(random_codes(RANDOM, model.latent_dim, 12345), 4)])
    figures: dict[str, float] = {}
    for name, targets in sets.items():
        best = torch.stack([((prior - t) ** 2).mean((1, 2, 3)).min() for t in targets]).double().numpy()
        start = time.perf_counter()
        found = projection.project(model, targets, projection.Settings(steps=50 if quick else 200))
        seconds = time.perf_counter() - start
        figures[f"projection_{name}_mse"] = float(found.mse.mean())
        figures[f"projection_{name}_random_best_mse"] = float(best.mean())
        figures[f"projection_{name}_ratio"] = float(found.mse.mean() / best.mean())
        figures[f"projection_{name}_beats_random_fraction"] = float((found.mse < best).mean())
        figures[f"projection_{name}_s"] = seconds
    return figures


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    for key, value in run(quick).items():
        print(f"{key:40s} {value:.4g}")
