"""`--arch-file my_model.py`: the user's own Python code builds the networks for a state dict.

This runs the user's code (importing the file runs everything in it), so it happens only when
they name the file explicitly: `checkpoints.load(path, arch_file=...)`, `latent-explorer --arch-file`.
The contract (docs/importing.md has a complete example):

    LATENT_DIM = 16                  # required: the decoder's input width
    IMAGE_SHAPE = (3, 64, 64)        # optional, checked against the decoder's output: (C, H, W), C 1 or 3
    OUTPUT_RANGE = (-1.0, 1.0)       # optional: the decoder's pixel range
                                     # (default: (-1, 1) if it goes below 0, else (0, 1))
    DATASET = "dsprites"             # optional: the data set it was trained on (for scatter and reconstructions)

    def build_decoder(state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
        ...  # required: the decoder with its weights loaded; (N, LATENT_DIM) codes -> (N, C, H, W) images

    def build_encoder(state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
        ...  # optional: (N, C, H, W) images in [0, 1] -> mean (N, LATENT_DIM), or (mean, log-variance)

`state_dict` is the file's state dict as saved (a Lightning checkpoint's `state_dict` entry), keys
unchanged. Without an encoder the model is decoder-only (kind "gan"); with one, a VAE when the
encoder returns (mean, log-variance), else an AE.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from ..architectures.common import MAX_LATENT_DIM
from ..errors import ArchitectureMismatchError, CheckpointError, one_line
from ..format import Meta, is_int
from .foreign import ForeignNetwork, encoder_kind, probe_decoder
from .model_class import import_user_file

ARCH = "arch-file"  # in Meta.arch; not a registered architecture, so `convert` refuses it


def open_with_arch_file(
    path: Path,
    state: Mapping[str, torch.Tensor],
    arch_file: Path,
    sha256: str,
    *,
    latent_dim: int | None = None,
) -> tuple[ForeignNetwork, Meta]:
    """Import `arch_file`, build its decoder (and encoder) from `state`, check them. Raises CheckpointError.

    `latent_dim` (--latent-dim) stands in for a missing LATENT_DIM, so one file serves every latent size.
    """
    user = _import(arch_file)
    name = arch_file.name
    declared_dim = getattr(user, "LATENT_DIM", None)
    if declared_dim is not None and latent_dim is not None and declared_dim != latent_dim:
        raise CheckpointError(f"{name} sets LATENT_DIM = {declared_dim!r}, but --latent-dim {latent_dim} was given")
    latent_dim = declared_dim if declared_dim is not None else latent_dim
    if not is_int(latent_dim) or not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise CheckpointError(
            f"{name} must set LATENT_DIM to the decoder's input width (1..{MAX_LATENT_DIM}), or give it with "
            f"--latent-dim N; not {latent_dim!r}"
        )
    if not callable(getattr(user, "build_decoder", None)):
        raise CheckpointError(f"{name} must define build_decoder(state_dict) returning the decoder module")
    declared = _declared(user, name)
    decoder = _build(user.build_decoder, state, name, "build_decoder")
    config = probe_decoder(path, decoder, latent_dim, declared, name)
    encoder, kind = None, "gan"
    if callable(getattr(user, "build_encoder", None)):
        encoder = _build(user.build_encoder, state, name, "build_encoder")
        kind = encoder_kind(path, encoder, config, f"the encoder from {name}")
    meta = Meta(
        arch=ARCH,
        config=config,
        dataset=declared.get("dataset"),
        source_sha256=sha256,
        description=f"{path.name} (networks from {name})",
    )
    return ForeignNetwork(decoder, config, encoder, kind), meta


def _import(arch_file: Path) -> ModuleType:
    """Run the user's file as a module, its folder and repository root on sys.path meanwhile (model_class.py)."""
    return import_user_file(arch_file, "--arch-file")


def _declared(user: ModuleType, name: str) -> dict[str, Any]:
    declared: dict[str, Any] = {}
    shape = getattr(user, "IMAGE_SHAPE", None)
    if shape is not None:
        if not (isinstance(shape, (tuple, list)) and len(shape) == 3 and all(is_int(v) for v in shape)):
            raise CheckpointError(f"{name}: IMAGE_SHAPE must be (C, H, W), three integers, not {shape!r}")
        declared["image_shape"] = list(shape)
    output_range = getattr(user, "OUTPUT_RANGE", None)
    if output_range is not None:
        if not (
            isinstance(output_range, (tuple, list))
            and len(output_range) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in output_range)
            and output_range[0] < output_range[1]
        ):
            raise CheckpointError(f"{name}: OUTPUT_RANGE must be (low, high) with low < high, not {output_range!r}")
        declared["output_range"] = list(output_range)
    dataset = getattr(user, "DATASET", None)
    if dataset is not None:
        if not isinstance(dataset, str):
            raise CheckpointError(f"{name}: DATASET must be a data set name (a string), not {dataset!r}")
        declared["dataset"] = dataset
    return declared


def _build(builder: Any, state: Mapping[str, torch.Tensor], name: str, what: str) -> nn.Module:
    try:
        module = builder(dict(state))
    except Exception as exc:  # their code, e.g. load_state_dict's missing-key RuntimeError
        raise ArchitectureMismatchError(
            f"{name}: {what}(state_dict) failed ({type(exc).__name__}: {one_line(exc)})"
        ) from None
    if not isinstance(module, nn.Module):
        raise CheckpointError(f"{name}: {what}(state_dict) returned a {type(module).__name__}, not a torch.nn.Module")
    return module.float().eval()
