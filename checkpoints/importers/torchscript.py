"""TorchScript generators (`torch.jit.save`) opened as decoder-only models.

`torch.jit.load` does not unpickle arbitrary Python: it reads the archive with TorchScript's own
restricted loader and compiles the TorchScript code stored in it. Decoding then runs that compiled
graph, which is code written by whoever made the file (see docs/importing.md).

The module must map codes (N, latent_dim) — or (N, latent_dim, 1, 1), as DCGAN generators take —
to images (N, C, H, W) with C 1 or 3, in [0, 1] or [-1, 1]. The latent size comes from the extra file
`latent_explorer.json` (`{"latent_dim": 128, "image_shape": [3, 64, 64], "output_range": [-1, 1]}`,
all but latent_dim optional) or from `load(path, latent_dim=...)`. Without an output_range, a module
whose outputs on random codes go below zero is taken as [-1, 1] (tanh), else as [0, 1].
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..architectures.common import MAX_LATENT_DIM
from ..errors import ArchitectureMismatchError, CheckpointError, UnsupportedFormatError, first_line
from ..format import Meta, is_int, is_number
from .foreign import ForeignNetwork, probe_decoder

EXTRA_FILE = "latent_explorer.json"
ARCH = "torchscript"  # in Meta.arch; deliberately not a registered architecture, so never saved as ours


class LatentDimRequiredError(CheckpointError):
    """A TorchScript generator that does not record its latent size: ask the user, then
    retry with `checkpoints.load(error.path, latent_dim=n)`."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def open_torchscript(path: Path, data: bytes, sha256: str, latent_dim: int | None) -> tuple[ForeignNetwork, Meta]:
    """Load, read the extra file, probe the module with random codes. Raises CheckpointError."""
    extra: dict[str, Any] = {EXTRA_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # newer torch deprecates TorchScript; files remain
            module = torch.jit.load(io.BytesIO(data), map_location="cpu", _extra_files=extra)  # type: ignore[no-untyped-call]  # torch.jit.load is unannotated
    except Exception as exc:  # TorchScript raises RuntimeError and its own error types for bad archives
        raise UnsupportedFormatError(
            f"{path.name} looks like a TorchScript module but cannot be loaded ({first_line(exc)}); it may be "
            "damaged or written by a newer PyTorch"
        ) from None
    declared = _declared(path, extra[EXTRA_FILE])
    if "latent_dim" in declared and latent_dim is not None and declared["latent_dim"] != latent_dim:
        raise ArchitectureMismatchError(
            f"{path.name} records latent_dim={declared['latent_dim']} in {EXTRA_FILE}, but {latent_dim} was given"
        )
    latent_dim = declared.get("latent_dim", latent_dim)
    if latent_dim is None:
        raise LatentDimRequiredError(
            f"{path.name} is a TorchScript generator that does not record its latent size (no {EXTRA_FILE} inside); "
            "give its latent size (on the command line: --latent-dim N)",
            path,
        )
    if not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise ArchitectureMismatchError(f"{path.name}: latent_dim={latent_dim} is outside 1..{MAX_LATENT_DIM}")
    config = probe_decoder(path, module.eval(), latent_dim, declared, EXTRA_FILE)
    meta = Meta(
        arch=ARCH,
        config=config,
        dataset=declared.get("dataset"),
        source_sha256=sha256,
        description=declared.get("description", f"{path.name} (TorchScript generator)"),
    )
    return ForeignNetwork(module, config), meta


def _declared(path: Path, raw: str | bytes) -> dict[str, Any]:
    """The checked contents of `latent_explorer.json`, or {} when the archive has none."""
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnsupportedFormatError(f"{path.name}: its {EXTRA_FILE} is not valid JSON") from None
    checks: dict[str, Callable[[Any], bool]] = {
        "latent_dim": lambda v: is_int(v),
        "image_shape": lambda v: isinstance(v, list) and len(v) == 3 and all(is_int(x) for x in v),
        "output_range": lambda v: isinstance(v, list) and len(v) == 2 and all(is_number(x) for x in v) and v[0] < v[1],
        "dataset": lambda v: isinstance(v, str),
        "description": lambda v: isinstance(v, str),
    }
    if not isinstance(doc, dict):
        raise UnsupportedFormatError(f"{path.name}: its {EXTRA_FILE} is not a JSON object")
    for key, ok in checks.items():
        if key in doc and not ok(doc[key]):
            raise UnsupportedFormatError(f"{path.name}: {EXTRA_FILE} has an invalid {key} ({doc[key]!r})")
    return {k: v for k, v in doc.items() if k in checks}
