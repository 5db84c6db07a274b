"""disentangling-vae (Dubs et al.) results: `model.pt` (a state dict) and `specs.json` beside it.

Their Burgess model uses our layer names (ours were chosen to match) except the encoder's last
layer: their `mu_logvar_gen` outputs mean and log-variance interleaved per dimension
(`view(-1, latent_dim, 2)`: rows mu_0, logvar_0, mu_1, ...), our `head` outputs the means, then the
log-variances. Their decoder ends in a sigmoid, as our `images()` does, so decoded images are equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..architectures.common import Network
from ..errors import ArchitectureMismatchError, UnsupportedFormatError
from ..format import Meta
from . import state_dicts

SPECS = "specs.json"
MODEL = "model.pt"
THEIR_HEAD = "encoder.mu_logvar_gen."
DATASETS = {"dsprites": "dsprites", "mnist": "mnist"}  # theirs -> ours; others are recorded as unknown
RECONS = ("bernoulli", "gaussian")


def is_theirs(path: Path, state: Mapping[str, torch.Tensor]) -> bool:
    """Their head's name, or a specs.json of their schema beside the file, marks a disentangling-vae model.

    A JointVAE specs.json (`latent_spec`, no `img_size`) is not theirs (importers/jointvae.py).
    """
    if any(k.startswith(THEIR_HEAD) for k in state):
        return True
    if not (path.parent / SPECS).is_file():
        return False
    try:
        specs = json.loads((path.parent / SPECS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True  # read_specs says what is wrong with it
    return not (isinstance(specs, dict) and "latent_spec" in specs and "img_size" not in specs)


def open_theirs(path: Path, state: Mapping[str, torch.Tensor], sha256: str) -> tuple[Network, Meta]:
    """Check specs.json against the weights, rename and reorder the head, build our conv VAE."""
    specs = read_specs(path.parent / SPECS)
    if specs is not None:
        _check_specs(path.parent / SPECS, specs)
    ours = to_our_names(path, state)
    arch, kind, config = state_dicts.infer(path, ours)
    if (arch, kind) != ("conv", "vae"):
        raise ArchitectureMismatchError(
            f"{path.name}: a disentangling-vae model should be a Burgess VAE, but its weights are a {arch} {kind}"
        )
    if specs is not None:
        _check_sizes(path, specs, config)
    network = state_dicts.build(path, arch, kind, config, ours)
    return network, _meta(path, specs, config, sha256)


def read_json(path: Path) -> Any:
    """A results folder's JSON file (disentangling-vae's and JointVAE's specs.json); None when absent."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnsupportedFormatError(f"{path.parent.name}/{path.name} cannot be read as JSON ({exc})") from None


def read_specs(path: Path) -> dict[str, Any] | None:
    specs = read_json(path)
    if specs is None:
        return None
    if not isinstance(specs, dict):
        raise UnsupportedFormatError(f"{path.parent.name}/{SPECS} is not a JSON object")
    return specs


def to_our_names(path: Path, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`encoder.mu_logvar_gen.*` -> `encoder.head.*` with rows [mu_0, lv_0, mu_1, ...] -> [mu..., lv...]."""
    ours = {}
    for name, tensor in state.items():
        if name.startswith(THEIR_HEAD):
            if tensor.ndim == 0 or tensor.shape[0] % 2:
                raise ArchitectureMismatchError(
                    f"{path.name}: '{name}' has {tensor.shape[0] if tensor.ndim else 0} rows; a VAE head has two "
                    "per latent dimension"
                )
            tensor = torch.cat([tensor[0::2], tensor[1::2]])
            name = "encoder.head." + name.removeprefix(THEIR_HEAD)
        ours[name] = tensor
    return ours


def _check_specs(path: Path, specs: Mapping[str, Any]) -> None:
    model_type = specs.get("model_type", "Burgess")
    if not isinstance(model_type, str) or model_type.lower() != "burgess":
        raise UnsupportedFormatError(
            f"{path.parent.name}/{SPECS} says model_type {model_type!r}; only disentangling-vae's 'Burgess' "
            f"model opens by itself — for another one, open its {MODEL} with --arch-file YOUR_MODEL.py "
            "(docs/importing.md)"
        )
    size = specs.get("img_size")
    if not (isinstance(size, list) and len(size) == 3 and all(isinstance(v, int) for v in size)):
        raise UnsupportedFormatError(f"{path.parent.name}/{SPECS} has no valid img_size (expected [C, H, W])")
    if size[1] != size[2] or size[1] not in (32, 64):
        raise UnsupportedFormatError(
            f"{path.parent.name}/{SPECS} says the images are {size[1]}x{size[2]}; the Burgess model is only "
            "32x32 or 64x64"
        )


def _check_sizes(path: Path, specs: Mapping[str, Any], config: Any) -> None:
    """specs.json and the weights must tell the same story; a mix-up of folders shows here."""
    declared = specs.get("latent_dim")
    if isinstance(declared, int) and declared != config.latent_dim:
        raise ArchitectureMismatchError(
            f"{path.parent.name}/{SPECS} says latent_dim={declared} but {path.name}'s weights have {config.latent_dim}"
        )
    if list(specs["img_size"]) != list(config.image_shape):
        raise ArchitectureMismatchError(
            f"{path.parent.name}/{SPECS} says img_size={specs['img_size']} but {path.name}'s weights are for "
            f"{list(config.image_shape)}"
        )


def _meta(path: Path, specs: Mapping[str, Any] | None, config: Any, sha256: str) -> Meta:
    if specs is None:
        return Meta(
            arch="conv",
            config=config,
            source_sha256=sha256,
            description=f"disentangling-vae {path.parent.name} (imported; no {SPECS}, so data set and β unknown)",
        )
    loss = specs.get("loss")
    beta = {"VAE": 1.0, "betaH": specs.get("betaH_B")}.get(loss)  # type: ignore[arg-type]  # a missing loss (None) finds no beta, as meant
    name = specs.get("name") if isinstance(specs.get("name"), str) else path.parent.name
    return Meta(
        arch="conv",
        config=config,
        dataset=DATASETS.get(dataset) if isinstance(dataset := specs.get("dataset"), str) else None,
        beta=float(beta) if isinstance(beta, (int, float)) and not isinstance(beta, bool) else None,
        recon=specs.get("rec_dist") if specs.get("rec_dist") in RECONS else None,
        steps=0,  # they record epochs, not optimizer steps
        description=f"disentangling-vae {name} (imported)",
        source_sha256=sha256,
    )
