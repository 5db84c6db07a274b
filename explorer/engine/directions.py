"""Discovered directions in a decoder's code space (worker thread, and the headless `directions` command).

- SeFa (Shen & Zhou 2021): the top eigenvectors of AᵀA, A the weight of the first layer that takes z
  (read exactly as the layer's response to each basis vector, so a transposed convolution's padding
  and a 1x1 code image are handled alike); closed form.
- GANSpace (Härkönen et al. 2020): PCA of the first hidden layer's activations (what enters the second
  layer with weights, after the first layer's normalisation and non-linearity) over n prior samples,
  each component mapped back to z by least squares on the PCA coordinates. A decoder whose layers
  cannot be read (TorchScript, ONNX) gets the PCA of its decoded images instead, and says so.
- factor (InterFaceGAN, Shen et al. 2020): per data-set factor (or label class), the least-squares
  direction of the factor in encoded codes (a GAN: in prior codes whose images a pixel regression
  labelled); `conditional` projects out the other factors' directions.

Only continuous dimensions of the latent layout move; categorical blocks stay zero in every direction.
Every direction is named by the factor its projected codes correlate with most (`name_directions`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

import checkpoints
from checkpoints import layout as latent_layout
from explorer.common.directions_io import METHOD_TITLES, DirectionSet, direction_codes
from explorer.common.grids import tile_grid
from explorer.engine import rendering
from explorer.engine.directions_data import LabelledCodes, correlations, embed, factor_directions, name_directions
from explorer.protocol import DirectionsRequest, DirectionsResult, DirectionTraversalRequest, DirectionTraversalResult

METHODS = ("sefa", "ganspace", "factor")
FIRST_LAYERS = (nn.Linear, nn.ConvTranspose2d, nn.Conv2d)  # layers whose weight SeFa can factorise
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm2d)
BATCH = 500
POWER_ITERATIONS = 6  # of the randomised PCA: exact to float precision for the top components used here
OVERSAMPLE = 10
Report = Callable[[float, str], None]
Stop = Callable[[], bool]


class _Captured(Exception):
    """Raised by a hook once it has what it needs, so the rest of the decoder does not run."""


@dataclass
class _Call:
    module: nn.Module
    input: torch.Tensor


def continuous_mask(model: checkpoints.Model) -> np.ndarray:
    """bool (d,): the dimensions directions may move (every group but categorical ones)."""
    mask = np.ones(model.latent_dim, bool)
    for group, (start, stop) in zip(model.layout, latent_layout.spans(model.layout)):
        if group.is_categorical:
            mask[start:stop] = False
    if not mask.any():
        raise ValueError("this model's code is all categorical; there is no continuous direction to find")
    return mask


def prior_codes(model: checkpoints.Model, n: int, seed: int) -> np.ndarray:
    """n codes from the model's prior: DESIGN.md's seeded randn for a plain code, else the layout's priors."""
    if latent_layout.is_default(model.layout):
        return rendering.random_codes(n, model.latent_dim, seed)
    return latent_layout.sample(model.layout, n, np.random.default_rng(seed))


def _parametrised_calls(model: checkpoints.Model, z: torch.Tensor, stop_after: int | None = None) -> list[_Call]:
    """The decoder's layers with weights in the order they run on `z`, each with its input."""
    calls: list[_Call] = []

    def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], torch.Tensor):
            calls.append(_Call(module, args[0]))
            if stop_after is not None and len(calls) >= stop_after:
                raise _Captured

    handles = [
        m.register_forward_pre_hook(hook)
        for m in model.network.modules()
        if not isinstance(m, torch.jit.ScriptModule) and any(True for _ in m.parameters(recurse=False))
    ]
    try:
        model.network.images(z)
    except _Captured:
        pass
    finally:
        for h in handles:
            h.remove()
    return calls


def _first_layer(model: checkpoints.Model) -> tuple[nn.Module, tuple[int, ...]] | str:
    """The layer that takes z and the shape of one code as it sees it; or why there is none, one sentence."""
    z = torch.from_numpy(prior_codes(model, 2, 0)).to(model.device)
    calls = _parametrised_calls(model, z, stop_after=1)
    if not calls:
        return "its decoder's layers cannot be read (a compiled TorchScript or ONNX graph)"
    first = calls[0]
    seen = first.input.detach().reshape(len(z), -1) if first.input.shape[:1] == z.shape[:1] else None
    if seen is None or seen.shape != z.shape or not torch.allclose(seen.float(), z):
        return f"its first layer with weights ({type(first.module).__name__}) does not take the code itself"
    if not isinstance(first.module, FIRST_LAYERS):
        return f"the first layer that takes z is a {type(first.module).__name__}, not a linear or transposed-conv layer"
    return first.module, tuple(first.input.shape[1:])


def first_layer_weight(model: checkpoints.Model) -> np.ndarray:
    """A (outputs, d) float64: the first layer's linear map of the code (bias removed). ValueError if none."""
    found = _first_layer(model)
    if isinstance(found, str):
        raise ValueError(f"SeFa needs the decoder's first layer, and {found}; use GANSpace or factor directions")
    layer, shape = found
    d = model.latent_dim
    basis = torch.eye(d, device=model.device).reshape(d, *shape)
    with torch.inference_mode():
        response = layer(basis) - layer(torch.zeros_like(basis[:1]))
    return response.reshape(d, -1).double().cpu().numpy().T


def sefa(model: checkpoints.Model, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(directions (k, d) float32, eigenvalues (k,)): the top eigenvectors of AᵀA over the continuous dims."""
    mask = continuous_mask(model)
    a = first_layer_weight(model)[:, mask]
    eigenvalues, vectors = np.linalg.eigh(a.T @ a)
    top = np.argsort(eigenvalues)[::-1][: min(k, int(mask.sum()))]
    return embed(vectors[:, top].T, mask), eigenvalues[top]


def _hidden(model: checkpoints.Model) -> tuple[nn.Module | None, str]:
    """The module whose input is the first hidden layer's activations; None: use the decoded images."""
    z = torch.from_numpy(prior_codes(model, 2, 0)).to(model.device)
    layers = [c.module for c in _parametrised_calls(model, z) if not isinstance(c.module, NORMS)]
    if len(layers) >= 2:
        return layers[1], f"the first hidden layer's activations (the input of its {type(layers[1]).__name__})"
    why = "its decoder's layers cannot be read" if not layers else "its decoder has a single layer with weights"
    return None, f"the decoded images ({why})"


def _features(model: checkpoints.Model, codes: np.ndarray, hidden: nn.Module | None, stop: Stop, report: Report):
    """(n, F) float32 tensor on the model's device: the hidden activations (or images) of `codes`."""
    parts: list[torch.Tensor] = []

    def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        parts.append(args[0].detach().flatten(1).float())
        raise _Captured

    handle = hidden.register_forward_pre_hook(hook) if hidden is not None else None
    try:
        for start in range(0, len(codes), BATCH):
            if stop():
                raise rendering.Cancelled
            z = torch.from_numpy(np.ascontiguousarray(codes[start : start + BATCH])).to(model.device)
            if hidden is None:
                parts.append(model.decode(z).flatten(1))
            else:
                try:
                    model.network.images(z)
                except _Captured:
                    pass
            done = min(start + BATCH, len(codes))
            report(0.8 * done / len(codes), f"sampled {done:,} codes")
    finally:
        if handle is not None:
            handle.remove()
    return torch.cat(parts)


def principal_components(x: torch.Tensor, k: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(components (F, k), variances (k,)) of the rows of x (n, F), by seeded randomised SVD (Halko et al.)."""
    centred = x - x.mean(0, keepdim=True)
    n, f = centred.shape
    q = min(k + OVERSAMPLE, n, f)
    generator = torch.Generator().manual_seed(seed)
    basis = torch.randn(f, q, generator=generator).to(x)
    for _ in range(POWER_ITERATIONS):
        basis, _ = torch.linalg.qr(centred.T @ (centred @ basis))
    small = centred @ basis  # (n, q): the data in the found subspace
    _, s, vh = torch.linalg.svd(small, full_matrices=False)
    components = basis @ vh.T[:, :k]
    return components, s[:k] ** 2 / max(n - 1, 1)


def ganspace(
    model: checkpoints.Model, k: int, n: int, seed: int, stop: Stop, report: Report
) -> tuple[np.ndarray, np.ndarray, str]:
    """(directions (k, d), explained variance ratios (k,), what was analysed)."""
    mask = continuous_mask(model)
    codes = prior_codes(model, n, seed)
    hidden, where = _hidden(model)
    x = _features(model, codes, hidden, stop, report)
    k = min(k, int(mask.sum()), n - 1)
    report(0.85, f"PCA of {where.split(' (')[0]}")
    components, variances = principal_components(x, k, seed)
    total = float((x - x.mean(0)).square().sum()) / max(n - 1, 1)
    coordinates = ((x - x.mean(0)) @ components).double().cpu().numpy()  # (n, k)
    target = codes[:, mask].astype(np.float64)
    # least squares: z ≈ coordinates @ U, so row j of U is the code direction of component j
    u, *_ = np.linalg.lstsq(coordinates, target - target.mean(0), rcond=None)
    return embed(u, mask), variances.double().cpu().numpy() / max(total, 1e-12), where


def discover(
    model: checkpoints.Model,
    method: str,
    k: int,
    *,
    n: int = 5000,
    seed: int = 0,
    conditional: bool = False,
    labelled: Callable[[], LabelledCodes | None] = lambda: None,
    stop: Stop = lambda: False,
    report: Report = lambda f, t: None,
) -> DirectionSet:
    """The directions of `method` for `model`, named by factor when `labelled()` gives codes with factors."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    mask = continuous_mask(model)
    masked = "" if mask.all() else f" Categorical dimensions ({int((~mask).sum())}) are left out."
    if method == "sefa":
        report(0.1, "SeFa: eigenvectors of the first layer's AᵀA")
        directions, values = sefa(model, k)
        note = f"SeFa: eigenvectors of AᵀA of the first layer that takes z; value = eigenvalue.{masked}"
    elif method == "ganspace":
        directions, values, where = ganspace(model, k, n, seed, stop, report)
        note = (
            f"GANSpace: PCA of {where} over {n:,} prior samples (seed {seed}), mapped to z by least squares; "
            f"value = explained variance.{masked}"
        )
    if method == "factor":
        data = labelled()
        if data is None or not data.names:
            raise ValueError(
                "factor directions need data with factors or labels, and this model's data set has none here"
            )
        directions, values, names = factor_directions(data, mask, conditional)
        labels = tuple(
            f"{name}{' | others fixed' if conditional else ''} (r {r:.2f})" for name, r in zip(names, values)
        )
        note = (
            f"factor: least-squares direction of each factor in {data.source}"
            + ("; each made orthogonal to the other factors' directions (conditional)" if conditional else "")
            + f"; value = r of the projected codes with the factor.{masked}"
        )
        return DirectionSet(method, directions, labels, values, names, correlations(directions, data), note)
    report(0.9, "naming the directions by factor")
    data = labelled()
    directions, labels, table = name_directions(method, directions, data)
    if data is not None and data.names:
        note += f" Names: r of the projected {data.source} with each factor."
    names = data.names if data is not None and table is not None else ()
    return DirectionSet(method, directions, labels, np.asarray(values, np.float64), names, table, note)


def serve(model: checkpoints.Model, request: DirectionsRequest, stop: Stop, report: Report) -> DirectionsResult | None:
    """The worker's answer to a DirectionsRequest; None when stopped for a newer request of the view."""
    from explorer.engine.directions_data import labelled_codes

    start = time.perf_counter()
    try:
        found = discover(
            model,
            request.method,
            request.k,
            n=request.n,
            seed=request.seed,
            conditional=request.conditional,
            labelled=lambda: labelled_codes(model, request.n, request.seed, stop, report),
            stop=stop,
            report=report,
        )
    except rendering.Cancelled:
        return None
    report(1.0, f"{len(found)} {METHOD_TITLES[request.method]} directions")
    seconds = time.perf_counter() - start
    return DirectionsResult(request.view, request.request_id, request.model_id, found, seconds)


def render_rows(
    model: checkpoints.Model, z: np.ndarray, rows: np.ndarray, steps: int, span: float, stop: Stop | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(grid, tiles): one row per direction, `steps` columns z + linspace(-span, span) * direction."""
    tiles = rendering.decode_tiles(model, direction_codes(z, rows, steps, span), stop)
    return tile_grid(tiles, len(rows), steps), tiles


def serve_traversal(
    model: checkpoints.Model, request: DirectionTraversalRequest, stop: Stop
) -> DirectionTraversalResult:
    rows = np.asarray(request.directions, np.float32).reshape(-1, model.latent_dim)
    grid, tiles = render_rows(model, np.asarray(request.z, np.float32), rows, request.steps, request.span, stop)
    return DirectionTraversalResult(
        request.view, request.request_id, request.model_id, grid, tiles, len(rows), request.steps, request.span
    )
