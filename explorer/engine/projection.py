"""Project images into a decoder (a GAN has no encoder): find a code z whose decoding looks like the image.

`project` minimises, per target, mean squared pixel error + `prior_weight` · mean(z²) over the
normal and noise groups (the prior's negative log-density, up to a constant), with Adam, from
`restarts` starts optimised together in one batch. Each start is one of the best of `candidates`
prior samples (decoded once, without gradients), so a projection is never worse than the best
random code it began from. Uniform groups are clipped to [-1, 1] after every step; categorical
groups keep the class of their start (the candidates try every class). Deterministic for a seed
on the CPU. Worker thread or the headless command path only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

import checkpoints
from checkpoints import layout as layouts
from checkpoints.devices import one_cpu_thread
from checkpoints.images import to_uint8
from explorer.common.grids import tile_grid
from explorer.engine import encoding, rendering
from explorer.engine.rendering import Cancelled
from explorer.protocol import EncodeDatasetRequest, ProjectionRequest, ProjectionResult

if TYPE_CHECKING:
    from explorer.engine.jobs import Job

BATCH = 64  # codes optimised in one forward/backward pass (targets x restarts)
REPORT_EVERY = 10  # steps between progress reports


@dataclass(frozen=True)
class Settings:
    steps: int = 200
    restarts: int = 4
    lr: float = 0.1
    prior_weight: float = 1e-3  # small: the pixel error decides, the penalty only keeps z near the prior's shell
    candidates: int = 256  # prior samples decoded to choose the starts from
    seed: int = 0


@dataclass(frozen=True)
class Projection:
    z: np.ndarray  # float32 (n, d): the best code found for each target
    mse: np.ndarray  # float64 (n,): mean squared pixel error of its decoding, [0, 1] units
    images: np.ndarray  # uint8 (n, H, W[, 3]): the decodings
    start_mse: np.ndarray  # float64 (n,): the same for the best of the random candidates it started from


def project(
    model: checkpoints.Model,
    targets: torch.Tensor,
    settings: Settings = Settings(),
    should_stop: Callable[[], bool] | None = None,
    report: Callable[[float, str], None] | None = None,
) -> Projection:
    """targets: (n, C, H, W) float32 in [0, 1] -> the projection of each. Raises Cancelled once `should_stop()`."""
    if settings.steps < 0 or settings.restarts < 1 or settings.candidates < settings.restarts:
        raise ValueError("a projection needs steps ≥ 0, restarts ≥ 1 and at least as many candidates as restarts")
    targets = torch.as_tensor(targets).to(device=model.device, dtype=torch.float32)
    if targets.ndim != 4 or tuple(targets.shape[1:]) != model.image_shape:
        shape = ", ".join(map(str, model.image_shape))
        raise ValueError(f"expected images of shape (n, {shape}) to project, got {tuple(targets.shape)}")
    groups = model.layout
    candidates = layouts.sample(groups, settings.candidates, np.random.default_rng(settings.seed))
    candidate_images = _decode(model, candidates)
    per_chunk = max(1, BATCH // settings.restarts)
    parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    for start in range(0, len(targets), per_chunk):
        chunk = targets[start : start + per_chunk]

        def progress(step: int, best: float, done: int = start, size: int = len(chunk)) -> None:
            if report is not None:
                fraction = (done + size * step / max(1, settings.steps)) / len(targets)
                report(fraction, f"projecting {len(targets)} image(s): step {step} of {settings.steps}, MSE {best:.4f}")

        parts.append(_project_chunk(model, chunk, candidates, candidate_images, settings, should_stop, progress))
    z = torch.cat([p[0] for p in parts])
    z_np = layouts.project(groups, z.cpu().numpy()).astype(np.float32)
    images = _decode(model, z_np)
    mse = (images - targets).square().flatten(1).mean(1).double().cpu().numpy()
    return Projection(z_np, mse, to_uint8(images), torch.cat([p[1] for p in parts]).double().cpu().numpy())


def _project_chunk(model, targets, candidates, candidate_images, settings, should_stop, progress):
    """(z (n, d), start MSE (n,), final MSE (n,)) for a few targets, all restarts in one batch."""
    n, r = len(targets), settings.restarts
    errors = _mse(candidate_images[None], targets[:, None])  # (n, candidates)
    best = errors.topk(r, dim=1, largest=False)
    starts = torch.from_numpy(candidates).to(model.device)[best.indices.flatten()]  # (n * r, d)
    start_mse = best.values[:, 0]
    if settings.steps == 0:
        return starts.view(n, r, -1)[:, 0], start_mse, start_mse
    # the worker serves requests under inference_mode: leave it, and make every tensor the graph keeps anew
    with torch.inference_mode(False), torch.enable_grad(), one_cpu_thread(model.device):
        penalised, clipped = _masks(model.layout, model.device)
        fixed = ~(penalised | clipped)  # categorical blocks keep their start's one-hot
        goal = targets.repeat_interleave(r, dim=0).clone()
        z = starts.clone().requires_grad_(True)
        optimiser = torch.optim.Adam([z], lr=settings.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings.steps)
        for step in range(settings.steps):
            if should_stop is not None and should_stop():
                raise Cancelled
            pixel = (model.network.images(z).float() - goal).square().flatten(1).mean(1)
            prior = (z * penalised).square().sum(1) / max(1, int(penalised.sum()))
            loss = (pixel + settings.prior_weight * prior).sum()
            (grad,) = torch.autograd.grad(loss, [z])
            z.grad = grad.masked_fill(fixed, 0.0)
            optimiser.step()
            schedule.step()
            with torch.no_grad():
                z.copy_(torch.where(clipped, z.clamp(-layouts.UNIFORM_BOUND, layouts.UNIFORM_BOUND), z))
            if step % REPORT_EVERY == 0:
                progress(step, float(pixel.detach().view(n, r).min(1).values.mean()))
        final = z.detach()
    final_mse = _mse(_decode(model, final), goal).view(n, r)
    choice = final_mse.argmin(1)
    z_best = final.view(n, r, -1)[torch.arange(n), choice]
    progress(settings.steps, float(final_mse.min(1).values.mean()))
    return z_best, start_mse, final_mse.min(1).values


def _masks(groups: layouts.Layout, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(dims under the prior penalty: normal and noise groups; dims clipped to [-1, 1]: uniform groups)."""
    penalised, clipped = [], []
    for g in groups:
        penalised += [g.kind in ("normal", "noise")] * g.size
        clipped += [g.kind == "uniform"] * g.size
    return torch.tensor(penalised, device=device), torch.tensor(clipped, device=device)


def _decode(model: checkpoints.Model, codes: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, d) -> (N, C, H, W) float32 in [0, 1], decoded in batches without gradients."""
    codes = torch.as_tensor(codes)
    return torch.cat([model.decode(codes[i : i + 256]) for i in range(0, len(codes), 256)])


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the last three (image) axes, broadcasting the others."""
    return (a - b).square().mean((-3, -2, -1))


def read_image(path: str | Path, image_shape: tuple[int, int, int]) -> torch.Tensor:
    """An image file as the model sees it: (1, C, H, W) float32 in [0, 1].

    Converted to greyscale or RGB to match C (transparency composited on white) and resized to
    W×H with Lanczos filtering, whatever its aspect ratio. ValueError, one sentence, when it cannot be read.
    """
    path = Path(path)
    channels, height, width = image_shape
    if channels not in (1, 3):
        raise ValueError(f"the model makes {channels}-channel images; only greyscale and RGB models can project a file")
    try:
        with Image.open(path) as image:
            image.load()
            picture = image.convert("RGBA")
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist; give the path of a PNG or JPEG image") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        why = "it is not an image Pillow can read" if isinstance(exc, UnidentifiedImageError) else str(exc)
        raise ValueError(f"cannot read {path.name} as an image ({why}); give a PNG or JPEG file") from None
    flat = Image.new("RGBA", picture.size, (255, 255, 255, 255))
    flat.alpha_composite(picture)
    picture = flat.convert("L" if channels == 1 else "RGB").resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, np.float32) / 255
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(pixels))[None]


# ---- the worker's handlers (explorer/engine/jobs.py) ------------------------------------------------------------
SCATTER = Settings(steps=100, restarts=2)  # many samples: fewer steps each (about 0.1 s a sample on 2 CPU cores)
RECONSTRUCTION = Settings()  # the Reconstruction tab's GAN rows: a few samples, the full recipe
MAX_SCATTER = 2000  # projected samples the scatter may ask for: minutes on a CPU already


def serve(job: Job, request: ProjectionRequest) -> ProjectionResult:
    """A GAN's Encode sample, or Project Image: one target projected, with progress; Cancelled when superseded."""
    model = job.model
    index = None
    if request.path is not None:
        target = read_image(request.path, model.image_shape)
    else:
        data = job.dataset(model)
        index = request.index
        if index is None:
            index = int(np.random.default_rng(request.seed).integers(len(data)))
        if not 0 <= index < len(data):
            raise ValueError(f"sample #{index} is not in the {data.name} data set; choose 0 to {len(data) - 1:,}")
        target = data.images([index])
    settings = Settings(steps=request.steps, restarts=request.restarts, seed=request.seed)
    start = time.perf_counter()
    found = project(model, target, settings, job.should_stop_serving, job.report)
    seconds = time.perf_counter() - start
    return ProjectionResult(
        request.view,
        request.request_id,
        request.model_id,
        index,
        request.path,
        found.z[0],
        to_uint8(target)[0],
        found.images[0],
        float(found.mse[0]),
        float(found.start_mse[0]),
        seconds,
    )


def project_dataset(job: Job, request: EncodeDatasetRequest) -> tuple[np.ndarray, np.ndarray, dict, bool]:
    """A GAN's scatter of projected data samples (the encoder's sample rule: n drawn with seed, sorted),
    coloured by labels and factors and by each projection's error; cached on disk like encoded codes.

    Returns (codes (n, d), data-set indices (n,), colours by name, whether they came from the cache)."""
    model = job.model
    data = job.dataset(model)
    n = min(request.n, len(data))
    if n > MAX_SCATTER:
        raise ValueError(f"projecting {n:,} samples would take too long; ask for at most {MAX_SCATTER:,}")
    cache = encoding.cache_path(encoding.PROJECTED, model, data.name, n, request.seed)
    stored = encoding.read_arrays(cache)
    if stored is not None and {"codes", "indices"} <= stored.keys():
        colours = {k.removeprefix("colour_"): v for k, v in stored.items() if k.startswith("colour_")}
        return stored["codes"], stored["indices"], colours, True
    indices = np.sort(np.random.default_rng(request.seed).choice(len(data), size=n, replace=False))
    found = project(model, data.images(indices), SCATTER, job.should_stop_serving, job.report)
    colours = {**encoding.data_colours(data, indices), "projection error": found.mse}
    encoding.write_arrays(
        cache, {"codes": found.z, "indices": indices, **{f"colour_{k}": v for k, v in colours.items()}}
    )
    return found.z, indices, colours, False


def render_reconstruction(
    models: list[checkpoints.Model],
    images: torch.Tensor,
    should_stop: Callable[[], bool] | None = None,
    report: Callable[[float, str], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """As `rendering.render_reconstruction`, a model without an encoder giving the decodings of its projections."""
    rows, errors = [to_uint8(images)], []
    for model in models:
        if model.has_encoder:
            tiles, error = rendering.reconstruct(model, images)
        else:
            found = project(model, images, RECONSTRUCTION, should_stop, report)
            tiles, error = found.images, found.mse
        rows.append(tiles)
        errors.append(error)
    return tile_grid(np.concatenate(rows), len(rows), len(images)), np.stack(errors)
