"""The on-disk caches of encoded data (worker thread): one path rule, one reader, one writer.

Codes for the scatter and the per-sample arrays of the Analysis tab are keyed by checkpoint hash,
data set (and the folder or file it was read from), image shape, sample count and seed, under
`$XDG_CACHE_HOME/latent-explorer/<kind>/`.
A damaged file is treated as missing and recomputed.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

import checkpoints
from checkpoints.atomic import atomic_write_bytes

CODES, ANALYSIS, PROJECTED = "codes", "analysis", "projected"  # PROJECTED: a GAN's codes found by optimisation
VERSIONS = {CODES: "", ANALYSIS: "|v1", PROJECTED: "|v1"}  # bump one to retire its old entries


def cache_path(kind: str, model: checkpoints.Model, dataset: str, n: int, seed: int) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "latent-explorer" / kind
    text = f"{model.sha256}|{dataset}|{model.image_shape}|{n}|{seed}{VERSIONS[kind]}"
    where = [model.meta.train_config.get(k) for k in ("data_dir", "data_file")]
    if any(where):  # the same set name read from another folder or file (Data ▸ Use Data Set…) is other data
        text += "|" + "|".join(str(w or "") for w in where)
    return root / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.npz"


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file; None when it is missing or damaged (then it is recomputed)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    except (OSError, ValueError, EOFError):
        return None


def write_arrays(path: Path, arrays: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def data_colours(data: Any, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Per-sample values to colour a scatter by: the label, then each factor's class index."""
    colours = {}
    if data.labels is not None:
        colours["label"] = np.asarray(data.labels)[indices]
    if data.factor_names and hasattr(data, "factors_of"):
        factors = data.factors_of(indices)
        for i, name in enumerate(data.factor_names):
            colours[name] = factors[:, i]
    return colours
