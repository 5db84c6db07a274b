"""The rendering functions the worker and the headless `export` command share, so their pixels agree.

Everything here takes a `checkpoints.Model` and numpy codes and returns uint8 numpy images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import checkpoints
from checkpoints.images import to_uint8
from checkpoints.layout import Group, from_normal, is_default
from explorer.common.grids import (
    corner_grid_codes,
    interpolation_codes,
    padded_tiles,
    square_shape,
    tile_grid,
    traversal_rows,
)
from explorer.protocol import LoadOptions

BATCH = 256  # codes decoded per forward pass


def open_model(path: str, device: Any, options: LoadOptions | None = None) -> checkpoints.Model:
    """`checkpoints.load`, then the code statistics an imported model lacks (see `complete_statistics`).

    A data set the user named (`options.dataset`) is checked against the model first: a set that needs
    a folder, cannot be read, or has the wrong number of channels is a CheckpointError, one sentence.
    """
    options = options or LoadOptions()
    model = checkpoints.load(path, device=device, **options.kwargs())
    if options.dataset is not None:
        from trainer.datasets import given_data_reason

        reason = given_data_reason(options.dataset, model.meta.train_config, model.image_shape)
        if reason is not None:
            raise checkpoints.CheckpointError(f"cannot use --dataset {options.dataset} for {Path(path).name}: {reason}")
    complete_statistics(model)
    return model


def complete_statistics(model: checkpoints.Model) -> None:
    """Estimate per-dimension KL and the spread of the codes when the checkpoint does not record them.

    Imported models (a disentangling-vae folder, a state dict) carry no statistics, so their sliders
    and `--dims all` rows could not be ordered by KL. When the model's data set can be made here,
    its encoder runs on the same 1,024 fixed samples our trainer uses at every save.
    """
    meta = model.meta
    if not model.has_encoder or meta.latent_std is not None or meta.dataset is None:
        return
    from trainer.datasets import for_model, unavailable_reason
    from trainer.statistics import latent_statistics

    if unavailable_reason(meta.dataset, meta.train_config) is None:
        model.with_meta(**latent_statistics(model, for_model(meta.dataset, meta.train_config, model.image_shape)))


class Cancelled(Exception):
    """A newer request for the same view arrived while this one was being rendered."""


def decode_tiles(
    model: checkpoints.Model, codes: np.ndarray, should_stop: Callable[[], bool] | None = None
) -> np.ndarray:
    """float32 (N, d) -> uint8 tiles (N, H, W[, 3]), decoded in batches; checks `should_stop` between them."""
    tiles = []
    with torch.inference_mode():
        for start in range(0, len(codes), BATCH):
            if should_stop is not None and should_stop():
                raise Cancelled
            tiles.append(to_uint8(model.decode(torch.from_numpy(np.ascontiguousarray(codes[start : start + BATCH])))))
    return np.concatenate(tiles)


def random_codes(n: int, latent_dim: int, seed: int | None, layout: Sequence[Group] = ()) -> np.ndarray:
    """Prior samples exactly as DESIGN.md fixes them: torch.randn on a CPU generator seeded with `seed`; with a
    latent layout, each group then follows its own prior (`checkpoints.layout.from_normal`: one-hot classes,
    uniform codes in [-1, 1])."""
    generator = torch.Generator().manual_seed(int(seed or 0))
    codes = torch.randn(n, latent_dim, generator=generator).numpy()
    return codes if is_default(layout) else from_normal(layout, codes)


def render_traversal(
    model: checkpoints.Model,
    z: np.ndarray,
    dims: list[int],
    steps: int,
    span: float | Sequence[float],
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(grid image, tiles): one row per dimension in `dims`, `steps` columns over z[dim] ± span; a dimension of a
    categorical group gives that group's row, one column per class. Rows shorter than the longest end in blank
    tiles; `tiles` (rows * columns, H, W[, 3]) holds them too."""
    rows = traversal_rows(z, dims, steps, span, model.layout)
    tiles, columns = padded_tiles(decode_tiles(model, np.concatenate(rows), should_stop), [len(r) for r in rows])
    return tile_grid(tiles, len(dims), columns), tiles


def render_interpolation(
    models: list[checkpoints.Model],
    a: np.ndarray,
    b: np.ndarray,
    steps: int,
    slerp: bool,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """One row per model, `steps` columns from a to b (categorical groups: `grids.CATEGORICAL_RULE`)."""
    codes = interpolation_codes(a, b, steps, slerp, models[0].layout)
    tiles = np.concatenate([decode_tiles(m, codes, should_stop) for m in models])
    return tile_grid(tiles, len(models), steps)


def render_corner_grid(
    model: checkpoints.Model, corners: np.ndarray, n: int, should_stop: Callable[[], bool] | None = None
) -> np.ndarray:
    return tile_grid(decode_tiles(model, corner_grid_codes(corners, n, model.layout), should_stop), n, n)


def render_samples(model: checkpoints.Model, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(near-square grid of n prior samples, their codes); missing tiles at the end stay white."""
    codes = random_codes(n, model.latent_dim, seed, model.layout)
    tiles = decode_tiles(model, codes)
    rows, cols = square_shape(n)
    blank = np.full((rows * cols - n, *tiles.shape[1:]), 255, np.uint8)
    return tile_grid(np.concatenate([tiles, blank]), rows, cols), codes


def reconstruct(model: checkpoints.Model, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 reconstructions of the encoder means, per-image mean squared error in [0, 1] pixel units)."""
    with torch.inference_mode():
        mu, _ = model.encode(images)
        out = model.decode(mu)
        error = ((out.cpu() - images.cpu()) ** 2).flatten(1).mean(1)
    return to_uint8(out), error.numpy()


def render_reconstruction(models: list[checkpoints.Model], images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(grid: originals on top, then one row per model; errors (models, K))."""
    rows, errors = [to_uint8(images)], []
    for model in models:
        tiles, error = reconstruct(model, images)
        rows.append(tiles)
        errors.append(error)
    grid = tile_grid(np.concatenate(rows), len(rows), len(images))
    return grid, np.stack(errors) if errors else np.zeros((0, len(images)))


def render_compare(
    models: list[checkpoints.Model],
    codes: Sequence[np.ndarray],
    dims: Sequence[Sequence[int]],
    spans: Sequence[Sequence[float]],
    steps: int,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[np.ndarray], int]:
    """(blocks, columns) of the Compare export: per model its traversal tiles (rows * columns, H, W[, 3]) around
    codes[i], row r moving dims[i][r] by ± spans[i][r]; a row whose dim is -1 (not linked) is blank, and every
    row is padded with blank tiles to one column count."""
    shapes = {m.image_shape for m in models}
    if len(shapes) != 1:
        sizes = ", ".join(sorted({"x".join(map(str, s)) for s in shapes}))
        raise ValueError(f"compare needs models of one image shape (channels x height x width); these have {sizes}")
    rows: list[list[np.ndarray | None]] = []
    for model, z, model_dims, model_spans in zip(models, codes, dims, spans):
        shown = [r for r, d in enumerate(model_dims) if d >= 0]
        found: list[np.ndarray | None] = [None] * len(model_dims)
        if shown:
            chosen = [model_dims[r] for r in shown]
            _, tiles = render_traversal(
                model, np.asarray(z, np.float32), chosen, steps, tuple(model_spans[r] for r in shown), should_stop
            )
            for k, r in enumerate(np.array_split(tiles, len(shown))):
                found[shown[k]] = r
        rows.append(found)
    columns = max(len(r) for model_rows in rows for r in model_rows if r is not None)
    tile = next(r for model_rows in rows for r in model_rows if r is not None)[0]
    blank = np.full((columns, *tile.shape), 255, np.uint8)
    blocks = [
        np.concatenate([blank if r is None else np.concatenate([r, blank[len(r) :]]) for r in model_rows])
        for model_rows in rows
    ]
    return blocks, columns
