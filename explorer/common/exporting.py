"""Writing what the views show: PNG with JSON metadata, animated GIF, .npz of codes. No torch, no Qt."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from checkpoints.atomic import atomic_write_bytes
from checkpoints.format import app_version

METADATA_KEY = "latent-explorer"  # PNG tEXt key, GIF comment, npz array name prefix


def with_version(metadata: dict[str, Any]) -> dict[str, Any]:
    return {"application": "latent-explorer", "version": app_version(), **metadata}


def metadata_json(metadata: dict[str, Any]) -> str:
    """The JSON every export embeds; strict JSON (a NaN or infinity is refused, never written)."""
    try:
        return json.dumps(with_version(metadata), allow_nan=False)
    except ValueError:
        raise ValueError("the export's metadata holds NaN or infinite numbers; nothing was written") from None


def save_png(path: str | Path, image: np.ndarray, metadata: dict[str, Any]) -> None:
    """uint8 (H, W) or (H, W, 3) -> PNG with the JSON metadata under the tEXt key `latent-explorer`."""
    info = PngImagePlugin.PngInfo()
    info.add_text(METADATA_KEY, metadata_json(metadata))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", pnginfo=info)
    atomic_write_bytes(path, buffer.getvalue())


def read_png_metadata(path: str | Path) -> dict[str, Any]:
    with Image.open(path) as image:
        chunks: dict[str, str] = getattr(image, "text", {})  # PNG text chunks (PngImageFile only)
        return dict(json.loads(chunks[METADATA_KEY]))


def save_gif(path: str | Path, frames: list[np.ndarray], metadata: dict[str, Any], frame_ms: int = 120) -> None:
    """Looping animated GIF; the metadata JSON goes in the GIF comment."""
    images = [Image.fromarray(f).convert("RGB") if f.ndim == 3 else Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=frame_ms,
        loop=0,
        comment=metadata_json(metadata).encode(),
    )
    atomic_write_bytes(path, buffer.getvalue())


def save_codes(path: str | Path, codes: np.ndarray, metadata: dict[str, Any], **arrays: np.ndarray) -> None:
    """.npz with `codes` (float32 (N, d)), any extra arrays, and the metadata JSON as a string array."""
    buffer = io.BytesIO()
    named: dict[str, Any] = {
        "codes": np.asarray(codes, np.float32),
        "metadata": np.array(metadata_json(metadata)),
        **arrays,
    }
    np.savez(buffer, **named)
    atomic_write_bytes(path, buffer.getvalue())


def traversal_metadata(
    sources: list[dict[str, Any]],
    z: np.ndarray,
    dims: list[int],
    steps: int,
    span: float | Sequence[float],
    categorical: bool = False,
) -> dict[str, Any]:
    """The same for the GUI's export and `latent-explorer export traversal`; `categorical`: the model's layout has
    a categorical group (the sources then carry the layout)."""
    codes = "row r: z with z[dims[r]] += linspace(-range, range, steps)"
    if categorical:
        codes += "; a row of a categorical group (dims[r] in it): z with that group set to each class in turn"
    return {
        "view": "traversal",
        "checkpoints": sources,
        "z": np.asarray(z, np.float32).tolist(),
        "dims": list(dims),
        "steps": steps,
        "range": span,
        "codes": codes,
    }


def traversal_frames(tiles: np.ndarray, rows: int, columns: int) -> list[np.ndarray]:
    """Frames of a traversal GIF: frame t shows every row's tile t side by side, swept there and back.

    `tiles` is (rows * columns, ...) in row order (a categorical row ends in blank tiles when it is short)."""
    from explorer.common.grids import tile_grid

    frames = [tile_grid(tiles[t::columns], 1, rows) for t in range(columns)]
    return frames + frames[-2:0:-1]
