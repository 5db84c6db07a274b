"""Importers: other people's checkpoints opened as the same `Model` as ours (docs/importing.md).

`checkpoints.load` sends everything that is not a `.safetensors` file here: a folder, a pickle
(legacy torch.save) or a zip (torch.save or torch.jit.save). What opens:

- a disentangling-vae results folder, or its `model.pt` with `specs.json` beside it;
- a TorchScript generator (decoder-only, kind "gan") whose latent size is known;
- a state dict of one of our registered architectures (plain, or inside a Lightning checkpoint);
- with `arch_file` (the user's own Python file, run only when named): a state dict of any architecture,
  in a torch file or a safetensors file without our metadata.

Nothing is unpickled except by `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from ..architectures.common import Network
from ..devices import resolve_device
from ..errors import ArchitectureMismatchError, CheckpointError, UnsupportedFormatError
from ..format import Meta
from ..model import Model
from ..sniff import is_pickle, is_zip
from . import disentangling_vae, layouts, state_dicts
from .arch_file import open_with_arch_file
from .model_class import open_with_model_class
from .torchfile import is_torchscript, read_torch_file, zip_names
from .torchscript import LatentDimRequiredError, open_torchscript

__all__ = ["LatentDimRequiredError", "is_known_state_dict", "open_foreign"]


def open_foreign(
    path: Path,
    data: bytes | None,
    device: str | torch.device = "auto",
    latent_dim: int | None = None,
    arch_file: str | Path | None = None,
    *,
    model_class: str | None = None,
    model_args: str | Mapping[str, Any] | None = None,
    output_range: tuple[float, float] | None = None,
) -> Model:
    """Open `path` (a folder, or a torch or plain safetensors file whose bytes are `data`) on `device`.

    `latent_dim` is the latent size of a TorchScript generator that does not record it (or of an
    `arch_file`'s or `model_class`'s decoder); for any other file it is checked against the file's own.
    `arch_file` builds the networks of a state dict with the user's code (arch_file.py); `model_class`
    ("FILE.py:ClassName", with `model_args`) instantiates the user's class (model_class.py).
    `output_range` overrides the measured range of a `model_class` decoder. Raises CheckpointError.
    """
    if data is None:
        path = _model_in_folder(path)
        data = _read(path)
    sha256 = hashlib.sha256(data).hexdigest()
    network: Network
    if is_zip(data) and is_torchscript(zip_names(path, data)):
        network, meta = open_torchscript(path, data, sha256, latent_dim)
    elif model_class is not None:
        state, _ = state_dicts.unwrap(path, _tensors(path, data))
        network, meta = open_with_model_class(
            path, state, model_class, model_args, sha256, latent_dim=latent_dim, output_range=output_range
        )
    elif arch_file is not None:
        state, _ = state_dicts.unwrap(path, _tensors(path, data))
        network, meta = open_with_arch_file(path, state, Path(arch_file), sha256, latent_dim=latent_dim)
    else:
        network, meta = _open_state_dict(path, _tensors(path, data), sha256)
    if latent_dim is not None and latent_dim != network.config.latent_dim:
        raise ArchitectureMismatchError(
            f"{path.name} has latent_dim={network.config.latent_dim}, but {latent_dim} was given"
        )
    try:
        target = resolve_device(device)
    except ValueError as exc:
        raise CheckpointError(f"{path.name}: {exc}") from None
    # sha256 is that of the file the user opened (model.pt for a results folder): its identity.
    return Model(network.to(target), meta, sha256=sha256)


def _open_state_dict(path: Path, obj: object, sha256: str) -> tuple[Network, Meta]:
    """A well-known public layout (exact names and shapes), a disentangling-vae model, or one of ours."""
    saved, steps = state_dicts.unwrap(path, obj)
    found = layouts.recognise(saved)
    if found is not None:
        layout, matched = found
        return layout.open(path, matched, sha256, state_dicts.extras(obj))
    state = state_dicts.strip_prefix(saved)
    try:
        if disentangling_vae.is_theirs(path, state):
            return disentangling_vae.open_theirs(path, state, sha256)
        arch, kind, config = state_dicts.infer(path, state)
        network = state_dicts.build(path, arch, kind, config, state)
    except ArchitectureMismatchError as exc:
        # A near miss of a public layout says how it differs; one of ours keeps its own sentence. A file that
        # looks like none of ours is told the nearest layout sharing any name.
        ours = any(k in state for k in state_dicts.SIGNATURES)
        raise layouts.near_miss_error(path, saved, 0.5 if ours else 0.0) or exc from None
    meta = Meta(
        arch=arch,
        config=config,
        steps=steps,
        source_sha256=sha256,
        description=f"{path.name} (imported {arch} state dict)",
    )
    return network, meta


def is_known_state_dict(path: Path, data: bytes) -> bool:
    """Whether a safetensors file without our metadata holds exactly a well-known public layout."""
    try:
        tensors = safetensors.torch.load(data)
    except Exception:  # safetensors raises its own error types; the caller's message stands
        return False
    return layouts.recognise(tensors) is not None


def _model_in_folder(folder: Path) -> Path:
    model = folder / disentangling_vae.MODEL
    if not model.is_file():
        raise UnsupportedFormatError(
            f"{folder} is a folder without a disentangling-vae {disentangling_vae.MODEL}; open a .safetensors "
            "checkpoint file inside it, or a disentangling-vae results folder (model.pt and specs.json)"
        )
    return model


def _tensors(path: Path, data: bytes) -> object:
    """What a torch file holds (tensors and containers only), or a plain safetensors file's tensors."""
    if is_pickle(data) or is_zip(data):
        return read_torch_file(path, data)
    try:
        return safetensors.torch.load(data)
    except Exception as exc:  # safetensors raises its own error types for malformed files
        raise UnsupportedFormatError(f"{path.name} is not a readable safetensors file ({exc})") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None
