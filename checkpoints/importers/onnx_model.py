"""ONNX decoders and generators (`.onnx`), run by onnxruntime: no Python code from the file runs.

The graph's first input is the code: (N, d) or (N, d, 1, 1), d a fixed number (the latent size); its
first output the images (N, C, H, W), C 1 or 3 — or (N, H, W, C), as Keras and TensorFlow make them.
The output range is measured on a probe batch (below zero: [-1, 1], else [0, 1]) unless `output_range`
is given. An optional encoder graph (`encoder=`) takes images in the decoder's range and layout and
returns (mean, log-variance) as two outputs, or one output of width 2d (mean then log-variance) or d (a
mean alone: an AE). onnxruntime runs on the CPU, and on CUDA when the model's device is a GPU and the
CUDA provider is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..architectures.common import MAX_LATENT_DIM
from ..errors import ArchitectureMismatchError, CheckpointError, UnsupportedFormatError, first_line
from ..format import Meta
from .foreign import ForeignConfig, ForeignNetwork, probe_decoder

ARCH = "onnx"  # in Meta.arch; not a registered architecture, so `convert` refuses it
_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


def _session(path: Path, data: bytes, device: torch.device) -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise UnsupportedFormatError(
            f"{path.name} is an ONNX model, which needs the onnxruntime package; install it (pip install onnxruntime)"
        ) from None
    providers = ["CPUExecutionProvider"]
    if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings would go to the terminal
    try:
        return ort.InferenceSession(data, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own error types for files that are not ONNX graphs
        raise UnsupportedFormatError(
            f"{path.name} is not a readable ONNX model ({first_line(exc)}); export it again "
            "(docs/importing.md shows torch.onnx.export and tf2onnx)"
        ) from None


class OnnxGraph(nn.Module):
    """One onnxruntime session as a module: tensors in, the graph's outputs as tensors on the input's device."""

    def __init__(self, session: Any, name: str) -> None:
        super().__init__()
        self.session = session
        self.name = name
        first = session.get_inputs()[0]
        self.input_name, self.input_shape = first.name, list(first.shape)
        self.dtype = _DTYPES.get(first.type, np.float32)
        batch = self.input_shape[0] if self.input_shape else None
        self.fixed_batch = batch if isinstance(batch, int) else None

    def run(self, x: torch.Tensor) -> list[torch.Tensor]:
        array = x.detach().to("cpu", torch.float32).numpy().astype(self.dtype)
        if self.fixed_batch == 1 and len(array) != 1:  # exported with batch 1: one row at a time
            rows = [self.session.run(None, {self.input_name: array[i : i + 1]}) for i in range(len(array))]
            outs = [np.concatenate([r[k] for r in rows]) for k in range(len(rows[0]))]
        else:
            outs = self.session.run(None, {self.input_name: array})
        return [torch.from_numpy(np.asarray(o, dtype=np.float32)).to(x.device) for o in outs]


def _channels_last(shape: list[Any]) -> bool:
    """(N, H, W, C) with C 1 or 3, as Keras and TensorFlow lay images out, rather than torch's (N, C, H, W)."""
    return len(shape) == 4 and shape[3] in (1, 3) and shape[1] not in (1, 3)


class OnnxDecoder(OnnxGraph):
    def __init__(self, session: Any, name: str, code_rank: int) -> None:
        super().__init__(session, name)
        self.code_rank = code_rank
        self.channels_last = _channels_last(list(session.get_outputs()[0].shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.run(z[:, :, None, None] if self.code_rank == 4 and z.ndim == 2 else z)[0]
        return out.permute(0, 3, 1, 2) if self.channels_last and out.ndim == 4 else out


class OnnxEncoder(OnnxGraph):
    def __init__(self, session: Any, name: str, latent_dim: int, output_range: tuple[float, float]) -> None:
        super().__init__(session, name)
        self.latent_dim = latent_dim
        self.low, self.high = output_range

    def forward(self, x: torch.Tensor) -> Any:
        x = self.low + x * (self.high - self.low)
        outs = self.run(x.permute(0, 2, 3, 1) if _channels_last(self.input_shape) else x)
        if len(outs) >= 2:
            return outs[0].flatten(1), outs[1].flatten(1)
        out = outs[0].flatten(1)
        return tuple(out.chunk(2, dim=1)) if out.shape[1] == 2 * self.latent_dim else out


def _code_shape(path: Path, graph: OnnxGraph, latent_dim: int | None) -> tuple[int, int]:
    """(latent size, code rank) from the graph's first input."""
    shape = graph.input_shape
    fixed = [s if isinstance(s, int) else None for s in shape]
    if len(shape) == 4 and fixed[2:] == [1, 1]:
        rank = 4
    elif len(shape) == 2:
        rank = 2
    else:
        raise ArchitectureMismatchError(
            f"{path.name}: its input '{graph.input_name}' has shape {shape}; a decoder takes codes (N, d) or "
            "(N, d, 1, 1)"
        )
    d = fixed[1]
    if d is None:
        if latent_dim is None:
            raise CheckpointError(
                f"{path.name}: its input '{graph.input_name}' has no fixed latent size ({shape}); give it with "
                "--latent-dim N"
            )
        d = latent_dim
    elif latent_dim is not None and latent_dim != d:
        raise ArchitectureMismatchError(f"{path.name} takes codes of size {d}, but --latent-dim {latent_dim} was given")
    if not 1 <= d <= MAX_LATENT_DIM:
        raise ArchitectureMismatchError(f"{path.name}: latent size {d} is outside 1..{MAX_LATENT_DIM}")
    return d, rank


def open_onnx(
    path: Path,
    data: bytes,
    sha256: str,
    device: torch.device,
    *,
    latent_dim: int | None = None,
    encoder: Path | None = None,
    output_range: tuple[float, float] | None = None,
) -> tuple[ForeignNetwork, Meta]:
    """The decoder graph in `data` (and the encoder graph in the file `encoder`) as a ForeignNetwork."""
    probe = OnnxGraph(_session(path, data, device), path.name)
    d, rank = _code_shape(path, probe, latent_dim)
    decoder = OnnxDecoder(probe.session, path.name, rank)
    declared: dict[str, Any] = {} if output_range is None else {"output_range": list(output_range)}
    probed = probe_decoder(path, decoder, d, declared, "the command line (--output-range)")
    config = ForeignConfig(d, probed.image_shape, probed.output_range)  # the module itself reshapes the codes
    onnx_encoder, kind = None, "gan"
    if encoder is not None:
        onnx_encoder = _encoder(Path(encoder), device, config)
        kind = "vae" if isinstance(onnx_encoder(torch.zeros(1, *config.image_shape)), tuple) else "ae"
    meta = Meta(
        arch=ARCH,
        config=config,
        source_sha256=sha256,
        description=f"{path.name} (ONNX decoder{' and ' + Path(encoder).name if encoder else ''})",
    )
    return ForeignNetwork(decoder, config, onnx_encoder, kind), meta


def _encoder(path: Path, device: torch.device, config: ForeignConfig) -> OnnxEncoder:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"--encoder {path}: cannot be read ({exc.strerror or exc})") from None
    graph = OnnxEncoder(_session(path, data, device), path.name, config.latent_dim, config.output_range)
    x = torch.rand(2, *config.image_shape, generator=torch.Generator().manual_seed(0))
    try:
        out = graph(x)
    except Exception as exc:  # onnxruntime's errors on an input of the wrong shape
        raise ArchitectureMismatchError(
            f"--encoder {path.name} fails on images of the decoder's shape {list(config.image_shape)} "
            f"({first_line(exc)})"
        ) from None
    widths = [tuple(t.shape) for t in (out if isinstance(out, tuple) else (out,))]
    if any(w != (2, config.latent_dim) for w in widths):
        raise ArchitectureMismatchError(
            f"--encoder {path.name} returns {widths} for 2 images; expected ({2}, {config.latent_dim}) for the mean "
            "(and the log-variance)"
        )
    return graph
