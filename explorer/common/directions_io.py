"""Discovered latent directions as data: `DirectionSet`, and its `.npz` file (numpy only, both threads).

A file holds `directions` (float32 (k, d), unit-norm rows), `labels` (k strings), `method`
("sefa" | "ganspace" | "factor" | ...), `values` (k: eigenvalue, explained variance or r), and a
JSON string `metadata` (the checkpoint it came from, factor names and correlations, how it was made).
Written atomically; read with `allow_pickle=False`, every problem one sentence (ValueError).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from checkpoints.atomic import atomic_write_bytes
from explorer.common.exporting import metadata_json

METHOD_TITLES = {"sefa": "SeFa", "ganspace": "GANSpace", "factor": "factor"}
UNIT_TOLERANCE = 1e-3  # a row whose norm is further from 1 than this is refused as not a direction


@dataclass(frozen=True)
class DirectionSet:
    """k directions in a model's code space, each with the label the user reads."""

    method: str
    directions: np.ndarray  # float32 (k, d), unit-norm rows
    labels: tuple[str, ...]
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64 (k,): what ranks them
    factor_names: tuple[str, ...] = ()  # columns of `correlations`
    correlations: np.ndarray | None = None  # float64 (k, F): r of the projected codes with each factor
    note: str = ""  # how it was computed, one or two sentences
    source: dict[str, Any] = field(default_factory=dict)  # the checkpoint: file, sha256, steps

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def latent_dim(self) -> int:
        return int(self.directions.shape[1])

    def metadata(self) -> dict[str, Any]:
        return {
            "kind": "directions",
            "method": self.method,
            "labels": list(self.labels),
            "values": np.asarray(self.values, np.float64).tolist(),
            "factor_names": list(self.factor_names),
            "correlations": None if self.correlations is None else np.asarray(self.correlations).tolist(),
            "note": self.note,
            "checkpoint": self.source,
            "latent_dim": self.latent_dim,
        }


def save_directions(path: str | Path, directions: DirectionSet) -> None:
    """Write `directions` to an .npz file atomically."""
    arrays: dict[str, Any] = {
        "directions": np.asarray(directions.directions, np.float32),
        "labels": np.asarray(directions.labels, dtype=str).reshape(len(directions)),
        "method": np.array(directions.method),
        "values": np.asarray(directions.values, np.float64),
        "metadata": np.array(metadata_json(directions.metadata())),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_directions(path: str | Path, latent_dim: int | None = None) -> DirectionSet:
    """Read an .npz of directions; ValueError with one sentence for anything that is not one.

    `latent_dim`: the model's code size, which the directions must match.
    """
    name = Path(path).name
    try:
        stored = np.load(path, allow_pickle=False)
        if not hasattr(stored, "files"):  # a bare .npy array
            raise ValueError
        with stored:
            arrays = {k: stored[k] for k in stored.files}
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist; give the .npz written by `latent-explorer directions`") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise ValueError(
            f"{name} is not a readable .npz file; give one written by `latent-explorer directions`"
        ) from None
    if "directions" not in arrays:
        raise ValueError(f"{name} holds no `directions` array; give a file written by `latent-explorer directions`")
    raw = arrays["directions"]
    if raw.ndim != 2 or raw.shape[0] < 1 or raw.dtype.kind not in "fiu":
        raise ValueError(f"{name}'s `directions` must be a (k, d) array of numbers; it is {raw.dtype} {raw.shape}")
    rows = raw.astype(np.float64)
    norms = np.linalg.norm(rows, axis=1)
    if not np.isfinite(rows).all() or (np.abs(norms - 1) > UNIT_TOLERANCE).any():
        raise ValueError(f"{name}'s `directions` rows must be finite unit vectors (norm 1); some are not")
    k, d = rows.shape
    if latent_dim is not None and d != latent_dim:
        raise ValueError(f"{name} holds directions in {d} dimensions; this model's code has {latent_dim}")
    meta = _metadata(arrays.get("metadata"))
    method = str(arrays["method"]) if "method" in arrays and arrays["method"].ndim == 0 else meta.get("method", "")
    labels = _labels(arrays.get("labels"), k, method)
    values = arrays.get("values")
    values = np.asarray(values, np.float64) if values is not None and values.shape == (k,) else np.zeros(k)
    names = tuple(str(n) for n in meta.get("factor_names") or ())
    correlations = _table(meta.get("correlations"), (k, len(names)))
    return DirectionSet(
        method=str(method),
        directions=(rows / norms[:, None]).astype(np.float32),
        labels=labels,
        values=values,
        factor_names=names if correlations is not None else (),
        correlations=correlations,
        note=str(meta.get("note", "")),
        source=dict(meta["checkpoint"]) if isinstance(meta.get("checkpoint"), dict) else {},
    )


def _metadata(value: np.ndarray | None) -> dict[str, Any]:
    if value is None or value.ndim != 0:
        return {}
    try:
        meta = json.loads(str(value))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _labels(value: np.ndarray | None, k: int, method: str) -> tuple[str, ...]:
    if value is not None and value.shape == (k,) and value.dtype.kind == "U":
        return tuple(str(v) for v in value)
    title = METHOD_TITLES.get(method, method or "direction")
    return tuple(f"{title} {i + 1}" for i in range(k))


def _table(value: Any, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        table = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        return None
    return table if table.shape == shape and shape[1] > 0 and np.isfinite(table).all() else None


def direction_codes(z: np.ndarray, directions: np.ndarray, steps: int, span: float) -> np.ndarray:
    """float32 (k*steps, d): row r is z + t * directions[r] for t in linspace(-span, span, steps)."""
    t = np.linspace(-span, span, steps, dtype=np.float32)
    rows = np.asarray(z, np.float32)[None, None] + t[None, :, None] * np.asarray(directions, np.float32)[:, None]
    return rows.reshape(-1, rows.shape[-1])
