"""Animated exports: which format a file name asks for, GIF or H.264 MP4 (PyAV) with the metadata JSON inside.

An MP4 carries the JSON in its container's `comment` tag (read it with `read_mp4_metadata`, or
`av.open(f).metadata["comment"]`, or `ffprobe -show_format`); a GIF in its comment, as `exporting.save_gif`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from checkpoints.atomic import atomic_write_bytes
from explorer.common import exporting
from explorer.common.grids import GAP_VALUE

FORMATS = ("png", "gif", "mp4")
DEFAULT_FPS = 8.0  # a GIF frame of 125 ms, stored as 12 centiseconds: the 120 ms traversal GIFs always had
CRF = 18  # x264 quality: visually lossless for flat-shaded tiles, small files
MP4_COMMENT = "comment"  # the container tag ffmpeg writes as the MP4's ©cmt atom


def output_format(path: str | Path, allowed: Sequence[str] = FORMATS, flag: str = "--out") -> str:
    """'png', 'gif' or 'mp4' from the file name's extension; any other is refused in one sentence."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        names = " or ".join(f".{f}" for f in allowed)
        given = f"'.{suffix}'" if suffix else "no extension"
        raise ValueError(f"{flag} {Path(path).name} has {given}; name a {names} file (the extension picks the format)")
    return suffix


def even(frame: np.ndarray) -> np.ndarray:
    """Pad a frame with white at the right and bottom to even sizes (H.264's 4:2:0 colour needs them)."""
    h, w = frame.shape[:2]
    pad = ((0, h % 2), (0, w % 2)) + ((0, 0),) * (frame.ndim - 2)
    return np.pad(frame, pad, constant_values=GAP_VALUE) if h % 2 or w % 2 else frame


def save_mp4(
    path: str | Path, frames: Sequence[np.ndarray], metadata: dict[str, Any], fps: float = DEFAULT_FPS
) -> None:
    """uint8 frames (H, W[, 3]), all one size -> H.264 (yuv420p) MP4 at `fps`, written atomically."""
    import av  # PyAV bundles FFmpeg and libx264; loaded only for a video

    comment = exporting.metadata_json(metadata)
    first = even(frames[0])
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        container.metadata[MP4_COMMENT] = comment
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(CRF)}
        for frame in frames:
            rgb = even(frame) if frame.ndim == 3 else np.repeat(even(frame)[..., None], 3, axis=2)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    atomic_write_bytes(path, buffer.getvalue())


def read_mp4_metadata(path: str | Path) -> dict[str, Any]:
    import av

    with av.open(str(path)) as container:
        return dict(json.loads(container.metadata[MP4_COMMENT]))


def save_traversal(
    path: str | Path,
    tiles: np.ndarray,
    rows: int,
    columns: int,
    metadata: dict[str, Any],
    fps: float = DEFAULT_FPS,
    scale: int = 1,
) -> tuple[int, tuple[int, int]]:
    """A traversal's GIF or MP4 (the Traversal tab's and `export traversal`'s): frame t holds every row's tile t side
    by side, swept there and back, enlarged `scale`x; (frames, (width, height) as written)."""
    from explorer.common.figures import enlarge

    frames = [enlarge(f, scale) for f in exporting.traversal_frames(tiles, rows, columns)]
    save_animation(path, frames, metadata, fps)
    height, width = (even(frames[0]) if output_format(path) == "mp4" else frames[0]).shape[:2]
    return len(frames), (width, height)


def save_animation(
    path: str | Path, frames: list[np.ndarray], metadata: dict[str, Any], fps: float = DEFAULT_FPS
) -> None:
    """GIF or MP4 by `path`'s extension (a GIF's frames last round(1000 / fps) ms, in whole centiseconds)."""
    if output_format(path, ("gif", "mp4")) == "mp4":
        save_mp4(path, frames, metadata, fps)
    else:
        exporting.save_gif(path, frames, metadata, frame_ms=round(1000 / fps))
