"""Plain state dicts of our registered architectures, recognised by key names and shapes.

Rules (also in docs/importing.md):
- A dict of tensors opens as is; a dict with a `state_dict` (PyTorch Lightning) or `model_state_dict`
  entry opens that entry. A prefix before our names (Lightning's `model.`, DataParallel's `module.`)
  is found from a decoder key and stripped; keys outside that prefix belong to other modules and are
  dropped.
- The architecture comes from the first decoder key: `decoder.lin1.weight` conv (Burgess),
  `decoder.main.0.weight` dcgan, `decoder.0.weight` mlp.
- latent_dim is the decoder's input width; the image shape comes from the encoder's first layer
  (conv: its input channels, 64x64 when `conv_64` is present else 32x32; mlp: C*H*W inputs taken as
  1xSxS when a square, else 3xSxS) or, for dcgan, from the number of transposed convolutions (4 -> 32x32,
  5 -> 64x64) and the last one's output channels. A head twice as wide as latent_dim is a VAE, as wide
  an AE.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..architectures import ARCHITECTURES, validate_config
from ..architectures.common import Network
from ..errors import ArchitectureMismatchError, UnsupportedFormatError
from .torchfile import few

# decoder key -> architecture; the decoder is what every kind has
SIGNATURES = {"decoder.lin1.weight": "conv", "decoder.main.0.weight": "dcgan", "decoder.0.weight": "mlp"}
WRAPPER_KEYS = ("state_dict", "model_state_dict")
NESTED_WRAPPER = ("model_states", "net")  # 1Konny/Beta-VAE's solver: {'model_states': {'net': state_dict}, ...}


def unwrap(path: Path, obj: Any) -> tuple[dict[str, torch.Tensor], int]:
    """The state dict inside what torch.load returned, and the training step when it records one."""
    if not isinstance(obj, Mapping):
        raise UnsupportedFormatError(
            f"{path.name} holds a {type(obj).__name__}, not a state dict (a dict of tensors); save one with "
            "`torch.save(model.state_dict(), path)`"
        )
    steps = obj.get("global_step", obj.get("iter", 0))  # Lightning's optimizer step; 1Konny/Beta-VAE's iteration
    for key in WRAPPER_KEYS:
        if isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    else:
        nested = obj.get(NESTED_WRAPPER[0])
        if isinstance(nested, Mapping) and isinstance(nested.get(NESTED_WRAPPER[1]), Mapping):
            obj = nested[NESTED_WRAPPER[1]]
    others = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if others or not obj:
        found = f"its entries {few(others)} are not tensors" if others else "it is empty"
        raise UnsupportedFormatError(
            f"{path.name} is not a state dict: {found}; expected a dict of tensors, or a checkpoint dict "
            f"with one under {' or '.join(repr(k) for k in WRAPPER_KEYS)}"
        )
    return dict(obj), steps if isinstance(steps, int) and steps >= 0 else 0


def extras(obj: Any) -> dict[str, Any]:
    """A checkpoint dict's entries beside its state dict (Lightning's version and step, an iteration count)."""
    if not isinstance(obj, Mapping) or not any(k in obj for k in (*WRAPPER_KEYS, NESTED_WRAPPER[0])):
        return {}
    return {str(k): v for k, v in obj.items() if k not in (*WRAPPER_KEYS, NESTED_WRAPPER[0])}


def strip_prefix(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the shortest prefix in front of a decoder key, keeping only the keys under it."""
    prefixes = [
        key[: -len(signature)]
        for key in state
        for signature in SIGNATURES
        if key.endswith(signature) and (key == signature or key[-len(signature) - 1] == ".")
    ]
    if not prefixes:
        return dict(state)
    prefix = min(prefixes, key=len)
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def infer(path: Path, state: Mapping[str, torch.Tensor]) -> tuple[str, str, Any]:
    """(arch, kind, config) from key names and shapes. Raises ArchitectureMismatchError."""
    arch = next((a for key, a in SIGNATURES.items() if key in state), None)
    if arch is None:
        raise ArchitectureMismatchError(
            f"{path.name}: its tensors ({few(sorted(state))}) match none of the known layouts (latent-explorer's "
            f"{', '.join(ARCHITECTURES)}; pytorch/examples vae and dcgan, JointVAE, PyTorch-VAE, 1Konny/Beta-VAE); "
            "open it with --model-class YOUR_FILE.py:ClassName (the class that built it, docs/importing.md), or "
            "export the decoder to ONNX or TorchScript"
        )
    try:
        raw, kind = {"conv": _conv, "mlp": _mlp, "dcgan": _dcgan}[arch](path, state)
    except (IndexError, ValueError):  # a tensor with too few dimensions where a layer's weight should be
        raise ArchitectureMismatchError(
            f"{path.name}: its key names are those of the {arch} architecture but its tensor shapes are not"
        ) from None
    try:
        config = validate_config(ARCHITECTURES[arch], raw)
    except ValueError as exc:
        raise ArchitectureMismatchError(f"{path.name}: {exc}") from None
    return arch, kind, config


def build(path: Path, arch: str, kind: str, config: Any, state: Mapping[str, torch.Tensor]) -> Network:
    """The network with exactly these weights in float32 on the CPU; names and shapes checked first."""
    cls = ARCHITECTURES[arch]
    with torch.device("meta"):
        skeleton = cls(config, kind)
    expected = skeleton.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        parts = ([f"missing {few(missing)}"] if missing else []) + ([f"unexpected {few(extra)}"] if extra else [])
        raise ArchitectureMismatchError(
            f"{path.name}: looks like a {arch} {kind.upper()} (latent_dim={config.latent_dim}, image_shape="
            f"{list(config.image_shape)}) but its keys differ: {'; '.join(parts)}"
        )
    weights = {}
    for name, want in expected.items():
        tensor = state[name]
        if tuple(tensor.shape) != tuple(want.shape):
            raise ArchitectureMismatchError(
                f"{path.name}: tensor '{name}' has shape {list(tensor.shape)} but a {arch} {kind.upper()} with "
                f"latent_dim={config.latent_dim} and image_shape={list(config.image_shape)} needs {list(want.shape)}"
            )
        if want.is_floating_point() != tensor.is_floating_point():
            raise ArchitectureMismatchError(f"{path.name}: tensor '{name}' is {tensor.dtype}, expected {want.dtype}")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ArchitectureMismatchError(f"{path.name}: weight '{name}' contains NaN or Inf values")
        weights[name] = tensor.to(want.dtype).contiguous()
    skeleton.load_state_dict(weights, strict=True, assign=True)
    return skeleton


def _require(path: Path, state: Mapping[str, torch.Tensor], arch: str, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in state]
    if missing:
        raise ArchitectureMismatchError(
            f"{path.name}: looks like the {arch} architecture but lacks {few(missing)}, so its sizes cannot be read"
        )


def _kind(path: Path, arch: str, head: int, latent_dim: int) -> str:
    if head == 2 * latent_dim:
        return "vae"
    if head == latent_dim:
        return "ae"
    raise ArchitectureMismatchError(
        f"{path.name}: the encoder's head has {head} outputs but the decoder takes {latent_dim} latent dims; a "
        f"{arch} VAE needs {2 * latent_dim} (mean and log-variance), an AE {latent_dim}"
    )


def _conv(path: Path, state: Mapping[str, torch.Tensor]) -> tuple[dict[str, Any], str]:
    _require(
        path,
        state,
        "conv",
        ("encoder.conv1.weight", "encoder.lin1.weight", "encoder.head.weight", "decoder.lin1.weight"),
    )
    conv1, lin1 = state["encoder.conv1.weight"], state["encoder.lin1.weight"]
    latent_dim = state["decoder.lin1.weight"].shape[-1]
    size = 64 if any(k.startswith(("encoder.conv_64.", "decoder.convT_64.")) for k in state) else 32
    raw = {
        "latent_dim": latent_dim,
        "image_shape": [conv1.shape[1], size, size],
        "channels": conv1.shape[0],
        "hidden": lin1.shape[0],
    }
    return raw, _kind(path, "conv", state["encoder.head.weight"].shape[0], latent_dim)


def _mlp(path: Path, state: Mapping[str, torch.Tensor]) -> tuple[dict[str, Any], str]:
    _require(path, state, "mlp", ("encoder.1.weight", "decoder.0.weight"))
    layers = sorted(
        int(k.split(".")[1])
        for k in state
        if k.startswith("encoder.") and k.endswith(".weight") and k.split(".")[1].isdigit()
    )
    widths = [state[f"encoder.{i}.weight"].shape for i in layers]
    pixels, latent_dim = widths[0][-1], state["decoder.0.weight"].shape[-1]
    side = math.isqrt(pixels)
    if side * side == pixels:
        shape = [1, side, side]
    elif pixels % 3 == 0 and math.isqrt(pixels // 3) ** 2 == pixels // 3:
        shape = [3, math.isqrt(pixels // 3), math.isqrt(pixels // 3)]
    else:
        raise ArchitectureMismatchError(
            f"{path.name}: the mlp encoder takes {pixels} inputs, which is not a square grey or RGB image"
        )
    raw = {"latent_dim": latent_dim, "image_shape": shape, "hidden": [w[0] for w in widths[:-1]]}
    return raw, _kind(path, "mlp", widths[-1][0], latent_dim)


def _dcgan(path: Path, state: Mapping[str, torch.Tensor]) -> tuple[dict[str, Any], str]:
    names = [
        k
        for k in state
        if k.startswith("decoder.main.")
        and k.endswith(".weight")
        and k.count(".") == 3
        and k.split(".")[2].isdigit()
        and state[k].ndim == 4
    ]
    convs = [state[k] for k in sorted(names, key=lambda k: int(k.split(".")[2]))]
    size = {4: 32, 5: 64}.get(len(convs))
    if size is None:
        raise ArchitectureMismatchError(
            f"{path.name}: its generator has {len(convs)} transposed convolutions; the dcgan architecture has "
            "4 (32x32 images) or 5 (64x64)"
        )
    raw = {
        "latent_dim": convs[0].shape[0],
        "image_shape": [convs[-1].shape[1], size, size],
        "width": convs[-1].shape[0],
    }
    return raw, "gan"
