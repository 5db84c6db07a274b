"""Procedural cartoon faces with known factors, rendered on demand (see faces_render.py).

Eight independent factors, each on a discrete grid; image i is the row-major product of the
factor classes (lighting fastest), like dSprites, so 2,970,000 images exist without storing any.
Azimuth and smile both move the mouth's pixels — turning the head shifts it, smiling bends it —
which is what lets a beta=1 VAE entangle them and a beta-VAE separate them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from checkpoints.devices import one_cpu_thread

from .base import FactorGrid
from .faces_render import Pose, render

FACTOR_NAMES = ("azimuth", "elevation", "smile", "skin_tone", "hair_colour", "hair_length", "background", "lighting")
SKIN_TONES = np.array(
    [
        [1.00, 0.87, 0.77],
        [0.96, 0.78, 0.64],
        [0.87, 0.65, 0.48],
        [0.72, 0.50, 0.34],
        [0.55, 0.36, 0.23],
        [0.38, 0.25, 0.16],
    ]
)  # light to dark
LIPS = np.array(
    [
        [0.42, 0.06, 0.10],
        [0.40, 0.05, 0.09],
        [0.34, 0.04, 0.07],
        [0.28, 0.03, 0.06],
        [0.86, 0.52, 0.54],
        [0.84, 0.50, 0.52],
    ]
)  # per skin tone: dark red on light skin, light rose on the two darkest, so the mouth always shows
HAIR_COLOURS = np.array(
    [
        [0.10, 0.08, 0.08],
        [0.36, 0.22, 0.12],
        [0.66, 0.30, 0.14],
        [0.95, 0.82, 0.48],
        [0.75, 0.75, 0.78],
    ]
)  # black, brown, auburn, blonde, grey
BACKGROUNDS = np.array(
    [
        [0.62, 0.80, 0.96],
        [0.66, 0.90, 0.72],
        [0.80, 0.72, 0.95],
        [0.96, 0.60, 0.55],
        [0.98, 0.92, 0.60],
        [0.88, 0.88, 0.88],
    ]
)  # sky, mint, lavender, coral, butter, light grey
FACTOR_VALUES = (
    np.linspace(-60.0, 60.0, 15),  # azimuth, degrees; positive turns the face to the image's right
    np.linspace(-20.0, 20.0, 5),  # elevation, degrees; positive tilts the face up
    np.linspace(-1.0, 1.0, 11),  # smile: -1 frown, 0 closed neutral mouth, 1 open smile
    np.arange(6.0),  # skin tone: row of SKIN_TONES
    np.arange(5.0),  # hair colour: row of HAIR_COLOURS
    np.arange(4.0),  # hair length: short, chin, shoulder, long
    np.arange(6.0),  # background: row of BACKGROUNDS
    np.linspace(-60.0, 60.0, 5),  # lighting: direction of the light about the vertical axis, degrees
)
FACTOR_SIZES = tuple(len(v) for v in FACTOR_VALUES)
CHUNK = 32  # images per render call: keeps the (n, 58, 58) temporaries in cache (1.5x faster than 128)


class Faces(FactorGrid):
    """64x64 RGB cartoon faces (or 32x32, rendered at 32 px) from eight independent factors."""

    name = "faces"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    factor_values = FACTOR_VALUES

    def __init__(self, image_size: int = 64) -> None:
        if image_size not in (32, 64):
            raise ValueError(f"faces renders 64x64 or 32x32 images, not {image_size}")
        self.image_shape = (3, image_size, image_size)

    def render(self, classes: np.ndarray) -> torch.Tensor:
        size = self.image_shape[1]
        out = torch.empty(len(classes), 3, size, size)
        with one_cpu_thread():  # many tiny ops: see checkpoints.devices
            for start in range(0, len(classes), CHUNK):
                out[start : start + CHUNK] = render(pose_of(classes[start : start + CHUNK]), size)
        return out


def pose_of(classes: np.ndarray) -> Pose:
    """int (n, 8) factor classes -> the renderer's per-image parameters."""
    value = [FACTOR_VALUES[k][classes[:, k]] for k in range(len(FACTOR_SIZES))]
    as_tensor: Callable[[np.ndarray], torch.Tensor] = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return Pose(
        azimuth=as_tensor(np.radians(value[0])),
        elevation=as_tensor(np.radians(value[1])),
        smile=as_tensor(value[2]),
        skin=as_tensor(SKIN_TONES[classes[:, 3]]),
        lips=as_tensor(LIPS[classes[:, 3]]),
        hair=as_tensor(HAIR_COLOURS[classes[:, 4]]),
        hair_length=torch.as_tensor(classes[:, 5], dtype=torch.int64),
        background=as_tensor(BACKGROUNDS[classes[:, 6]]),
        light=as_tensor(np.radians(value[7])),
    )
