"""MNIST from the IDX files the user already has (LeCun et al. 1998); nothing is downloaded.

`--data-dir D` holds train-images-idx3-ubyte and train-labels-idx1-ubyte, plain or gzipped
(`.gz`; the spelling `train-images.idx3-ubyte` is accepted too). When the t10k-* pair is there as
well, its 10,000 images follow the 60,000 training images (70,000 in all). The 28x28 digits are
padded with 2 black pixels on each side to 32x32 (LeNet-5's convention: no pixel is resampled);
--image-size 64 upsamples that 32x32 picture bilinearly, --image-size 28 keeps the original.
Fashion-MNIST and KMNIST ship in the same format and load the same way.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .base import Dataset
from .paths import require_folder

TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SIDE = 28
UBYTE = 0x08  # IDX type code of unsigned bytes


class MNIST(Dataset):
    """28x28 grey digits with labels 0-9, held in memory as uint8 (47 MB for 60,000)."""

    name = "mnist"

    def __init__(self, data_dir: str | None = None, image_size: int = 32) -> None:
        if image_size not in (28, 32, 64):
            raise ValueError(f"mnist comes as 28x28, padded to 32 or upsampled to 64, not {image_size}")
        root = require_folder(
            data_dir, "mnist", "MNIST's IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])"
        )
        pairs = [TRAIN] + ([TEST] if find(root, TEST[0]) and find(root, TEST[1]) else [])
        images, labels = [], []
        for image_name, label_name in pairs:
            x, y = read_idx(require_file(root, image_name), ndim=3), read_idx(require_file(root, label_name), ndim=1)
            if x.shape[1:] != (SIDE, SIDE):
                raise ValueError(
                    f"{find(root, image_name)} holds {x.shape[1]}x{x.shape[2]} images; mnist expects 28x28"
                )
            if len(x) != len(y):
                raise ValueError(
                    f"{require_file(root, image_name).name} holds {len(x):,} images but "
                    f"{require_file(root, label_name).name} {len(y):,} labels; they must come in pairs"
                )
            images.append(x)
            labels.append(y)
        self._images = torch.from_numpy(np.concatenate(images))
        self.labels = np.concatenate(labels).astype(np.int64)
        self.image_shape = (1, image_size, image_size)

    def __len__(self) -> int:
        return len(self._images)

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        x = self._images[self._check_indices(indices)][:, None].float().div_(255)
        if self.image_shape[1] == SIDE:
            return x
        x = F.pad(x, (2, 2, 2, 2))
        if self.image_shape[1] == 64:
            x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False).clamp_(0, 1)
        return x


def find(root: Path, stem: str) -> Path | None:
    """The file for `stem` in root: plain, .gz, or with the '.' spelling (train-images.idx3-ubyte)."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (root / name).is_file():
            return root / name
    return None


def require_file(root: Path, stem: str) -> Path:
    path = find(root, stem)
    if path is None:
        raise ValueError(f"{root} has no {stem} (or {stem}.gz); put MNIST's IDX files there")
    return path


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes (plain or gzipped) -> uint8 array of `ndim` dimensions."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path} could not be read: {exc}") from None
    # Header: two zero bytes, the type code, the number of dimensions, then each size as a big-endian uint32.
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != UBYTE or raw[3] != ndim:
        raise ValueError(
            f"{path} is not an IDX file of {ndim}-dimensional unsigned bytes "
            f"(it starts with {raw[:4].hex() or 'nothing'}, expected 0000080{ndim})"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is cut off inside its IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise ValueError(
            f"{path} is damaged: its header says {'x'.join(map(str, shape))} "
            f"({expected:,} bytes) but it holds {len(raw) - header:,} bytes of data"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()
