"""The native checkpoint format: one `.safetensors` file whose header metadata holds one JSON document.

The document lives under the metadata key `latent_explorer`:

    {"format_version": 1, "kind": "vae", "arch": "conv", "config": {...arch config...},
     "meta": {...everything in `Meta` except arch and config...}}

Tensors are exactly the network's state dict (float32 or float16). Training state never goes in
this file; it goes in the `<stem>.train.safetensors` sidecar.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeGuard, TypeVar, overload

from . import layout as _layout

METADATA_KEY = "latent_explorer"
FORMAT_VERSION = 1
WEIGHT_DTYPES = ("F32", "F16")  # safetensors dtype names; computed in float32 either way


@dataclass(frozen=True)
class Meta:
    """What a checkpoint says about itself. Everything but `arch` and `config` is optional."""

    arch: str
    config: Any  # the architecture's frozen config dataclass
    dataset: str | None = None
    factor_names: tuple[str, ...] = ()
    beta: float | None = None
    recon: str | None = None  # "bernoulli" | "gaussian"
    steps: int = 0
    kl_per_dim: tuple[float, ...] | None = None  # nats, mean over data, in dimension order
    latent_mean: tuple[float, ...] | None = None  # of the encoder means over data
    latent_std: tuple[float, ...] | None = None
    loss_history: tuple[tuple[float, ...], ...] = ()  # (step, loss, recon, kl) rows
    train_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source_sha256: str | None = None  # hash of the file this one was converted from
    app_version: str | None = None
    layout: tuple[_layout.Group, ...] = ()  # the code's groups (checkpoints/layout.py); () = one normal group

    def to_json(self) -> dict[str, Any]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["arch"], out["config"]
        out["layout"] = _layout.to_json(self.layout)
        return _plain(out)


@overload
def _plain(value: dict[str, Any]) -> dict[str, Any]: ...
@overload
def _plain(value: object) -> object: ...
def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so the document is plain JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def encode_document(kind: str, meta: Meta) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "arch": meta.arch,
        "config": _plain(dataclasses.asdict(meta.config)),
        "meta": meta.to_json(),
    }
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))


# Each optional meta field: (accepts, converts) — kept explicit so a malformed value is named.
def _floats(v: Any) -> tuple[float, ...]:
    if not isinstance(v, list) or not all(is_number(x) for x in v):
        raise ValueError("must be a list of numbers")
    return tuple(float(x) for x in v)


def _rows(v: Any) -> tuple[tuple[float, ...], ...]:
    if not isinstance(v, list):
        raise ValueError("must be a list of rows")
    return tuple(_floats(r) for r in v)


def _strings(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("must be a list of strings")
    return tuple(v)


_T = TypeVar("_T")


def _optional(convert: Callable[[Any], _T]) -> Callable[[Any], _T | None]:
    return lambda v: None if v is None else convert(v)


def _of(kind: type[_T]) -> Callable[[Any], _T]:
    def convert(v: Any) -> _T:
        if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
            raise ValueError(f"must be {kind.__name__}")
        return v

    return convert


def _number(v: Any) -> float:
    if not is_number(v):
        raise ValueError("must be a number")
    return float(v)


def is_int(v: object) -> TypeGuard[int]:
    """A whole number as JSON and Python configs hold one (True and False are not)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: object) -> TypeGuard[float]:
    """A finite int or float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_META_FIELDS: dict[str, Callable[[Any], Any]] = {  # Any: each field converts to its own type
    "dataset": _optional(_of(str)),
    "factor_names": _strings,
    "beta": _optional(_number),
    "recon": _optional(_of(str)),
    "steps": _of(int),
    "kl_per_dim": _optional(_floats),
    "latent_mean": _optional(_floats),
    "latent_std": _optional(_floats),
    "loss_history": _rows,
    "train_config": _of(dict),
    "metrics": _of(dict),
    "description": _of(str),
    "source_sha256": _optional(_of(str)),
    "app_version": _optional(_of(str)),
    "layout": _layout.from_json,
}


def parse_meta(raw: Any, arch: str, config: Any) -> Meta:
    """Build `Meta` from the document's `meta` object. Unknown keys from newer minor writers are ignored."""
    if not isinstance(raw, dict):
        raise ValueError("'meta' is not a JSON object")
    values = {}
    for name, convert in _META_FIELDS.items():
        if name in raw:
            try:
                values[name] = convert(raw[name])
            except ValueError as exc:
                raise ValueError(f"meta '{name}' {exc}") from None
    return Meta(arch=arch, config=config, **values)


def app_version() -> str:
    """The installed latent-explorer's version, as checkpoints and exports record it ("unknown" uninstalled)."""
    try:
        return version("latent-explorer")
    except PackageNotFoundError:
        return "unknown"
