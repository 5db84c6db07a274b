"""Contact sheets of a factored data set: rows that vary one factor with the others held fixed.

    python -m trainer.datasets.sheet faces docs/faces-contact-sheet.png

draws the README's faces picture: three rows turning the head (azimuth), three rows bending
the mouth (smile), then two rows of random faces. Tiles are separated by 2-pixel white gaps.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from PIL import Image

from .base import Dataset

GAP = 2


def traversal(data: Dataset, base: np.ndarray, factor: str) -> np.ndarray:
    """int (F,) base classes -> int64 (size, F): `factor` through its whole grid, the rest as `base`."""
    k = data.factor_names.index(factor)
    rows = np.tile(np.asarray(base, dtype=np.int64), (data.factor_sizes[k], 1))
    rows[:, k] = np.arange(data.factor_sizes[k])
    return rows


def grid(rows: list[torch.Tensor]) -> np.ndarray:
    """Rows of float (n_i, C, H, W) images -> uint8 (H', W', 3) on white, left-aligned, 2-px gaps."""
    h, w = rows[0].shape[2:]
    columns = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + GAP) - GAP, columns * (w + GAP) - GAP, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        tiles = (row.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        for j, tile in enumerate(tiles):
            top, left = i * (h + GAP), j * (w + GAP)
            out[top : top + h, left : left + w] = tile  # one channel broadcasts to grey
    return out


def faces_sheet(seed: int = 0) -> np.ndarray:
    """The README picture: 3 azimuth rows, 3 smile rows, 2 rows of random faces; uint8 (H, W, 3)."""
    from .faces import Faces

    data = Faces()
    rng = np.random.default_rng(seed)
    #        azimuth elevation smile skin hair-colour hair-length background lighting
    people = [
        np.array([7, 2, 8, 1, 1, 2, 0, 2]),
        np.array([7, 2, 5, 4, 0, 0, 1, 1]),
        np.array([7, 3, 10, 0, 3, 3, 3, 3]),
    ]
    rows = [data.images_for_factors(traversal(data, p, "azimuth")) for p in people]
    turned = [np.where(np.arange(8) == 0, a, p) for p, a in zip(people, (7, 3, 11))]
    rows += [data.images_for_factors(traversal(data, p, "smile")) for p in turned]
    rows += [data.images_for_factors(data.sample_factors(data.factor_sizes[0], rng)) for _ in range(2)]
    return grid(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.datasets.sheet", description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["faces"])
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random faces")
    args = parser.parse_args(argv)
    Image.fromarray(faces_sheet(args.seed)).save(args.out, optimize=True)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
