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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..architectures.common import CHANNELS, MAX_LATENT_DIM, Network
from ..errors import ArchitectureMismatchError, CheckpointError, UnsupportedFormatError
from ..format import Meta
from .torchfile import first_line

EXTRA_FILE = "latent_explorer.json"
ARCH = "torchscript"  # in Meta.arch; deliberately not a registered architecture, so never saved as ours
PROBE_CODES = 4
MAX_SIDE = 1024


class LatentDimRequiredError(CheckpointError):
    """A TorchScript generator that does not record its latent size: ask the user, then
    retry with `checkpoints.load(error.path, latent_dim=n)`."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class TorchScriptConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    output_range: tuple[float, float] = (0.0, 1.0)
    code_rank: int = 2  # 4 when the module takes (N, latent_dim, 1, 1)


class ScriptedGenerator(Network):
    """A scripted module as a decoder-only `Network`; `images` maps its output range onto [0, 1]."""

    Config = TorchScriptConfig
    kinds = ("gan",)

    def __init__(self, module: torch.jit.ScriptModule, config: TorchScriptConfig) -> None:
        super().__init__(config, "gan")
        self.decoder = module
        # Model.device reads the first parameter, and a scripted module may have none.
        self.device_anchor = nn.Parameter(torch.empty(0), requires_grad=False)

    def images(self, z: torch.Tensor) -> torch.Tensor:
        low, high = self.config.output_range
        return (self._run(z) - low) / (high - low)

    def _run(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z[:, :, None, None] if self.config.code_rank == 4 else z)


def open_torchscript(path: Path, data: bytes, sha256: str, latent_dim: int | None) -> tuple[Network, Meta]:
    """Load, read the extra file, probe the module with random codes. Raises CheckpointError."""
    extra: dict[str, Any] = {EXTRA_FILE: ""}
    try:
        module = torch.jit.load(io.BytesIO(data), map_location="cpu", _extra_files=extra)
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
            "give the latent size to open it", path)
    if not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise ArchitectureMismatchError(f"{path.name}: latent_dim={latent_dim} is outside 1..{MAX_LATENT_DIM}")
    config = _probe(path, module.eval(), latent_dim, declared)
    meta = Meta(arch=ARCH, config=config, dataset=declared.get("dataset"), source_sha256=sha256,
                description=declared.get("description", f"{path.name} (TorchScript generator)"))
    return ScriptedGenerator(module, config), meta


def _declared(path: Path, raw: str | bytes) -> dict[str, Any]:
    """The checked contents of `latent_explorer.json`, or {} when the archive has none."""
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnsupportedFormatError(f"{path.name}: its {EXTRA_FILE} is not valid JSON") from None
    checks = {
        "latent_dim": lambda v: _is_int(v),
        "image_shape": lambda v: isinstance(v, list) and len(v) == 3 and all(_is_int(x) for x in v),
        "output_range": lambda v: isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v)
        and v[0] < v[1],
        "dataset": lambda v: isinstance(v, str),
        "description": lambda v: isinstance(v, str),
    }
    if not isinstance(doc, dict):
        raise UnsupportedFormatError(f"{path.name}: its {EXTRA_FILE} is not a JSON object")
    for key, ok in checks.items():
        if key in doc and not ok(doc[key]):
            raise UnsupportedFormatError(f"{path.name}: {EXTRA_FILE} has an invalid {key} ({doc[key]!r})")
    return {k: v for k, v in doc.items() if k in checks}


def _probe(path: Path, module: torch.jit.ScriptModule, latent_dim: int, declared: dict[str, Any]) -> TorchScriptConfig:
    """Run a few random codes through the module to learn its input rank, image shape and range."""
    z = torch.randn(PROBE_CODES, latent_dim, generator=torch.Generator().manual_seed(0))
    failures = []
    for rank in (2, 4):
        try:
            with torch.inference_mode():
                out = module(z[:, :, None, None] if rank == 4 else z)
            break
        except Exception as exc:  # whatever the scripted graph raises on a code of the wrong size
            failures.append(_last_line(exc))
    else:
        raise ArchitectureMismatchError(
            f"{path.name}: the TorchScript module fails on codes of shape ({PROBE_CODES}, {latent_dim}) "
            f"({failures[0]}); check the latent size"
        )
    if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[0] != PROBE_CODES:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ArchitectureMismatchError(
            f"{path.name}: the TorchScript module returns {got} for {PROBE_CODES} codes, not images (N, C, H, W)"
        )
    shape = tuple(int(s) for s in out.shape[1:])
    if shape[0] not in CHANNELS or not (4 <= shape[1] <= MAX_SIDE and 4 <= shape[2] <= MAX_SIDE):
        raise ArchitectureMismatchError(
            f"{path.name}: the TorchScript module makes images of shape {list(shape)}; supported are 1 or 3 "
            f"channels and 4..{MAX_SIDE} pixels a side"
        )
    if "image_shape" in declared and list(shape) != declared["image_shape"]:
        raise ArchitectureMismatchError(
            f"{path.name}: {EXTRA_FILE} says image_shape={declared['image_shape']} but the module makes {list(shape)}"
        )
    return TorchScriptConfig(latent_dim, shape, _output_range(path, out, declared), rank)


def _output_range(path: Path, out: torch.Tensor, declared: dict[str, Any]) -> tuple[float, float]:
    if "output_range" in declared:
        return tuple(float(v) for v in declared["output_range"])
    low, high = float(out.min()), float(out.max())
    if not (low >= -1.5 and high <= 1.5):
        raise ArchitectureMismatchError(
            f"{path.name}: the TorchScript module's outputs range over [{low:.3g}, {high:.3g}]; supported are "
            f"images in [0, 1] or [-1, 1] — or declare output_range in {EXTRA_FILE}"
        )
    return (-1.0, 1.0) if low < -1e-3 else (0.0, 1.0)


def _last_line(exc: BaseException) -> str:
    """TorchScript errors end with the Python-level cause, after a long scripted traceback."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
