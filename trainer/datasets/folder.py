"""Any folder tree of PNG or JPEG images (e.g. CelebA's img_align_celeba), read from disk per batch.

Each image is centre-cropped to a square, resized to the model's size (32 or 64 to train; any of
8…512 pixels for an imported model; bilinear, antialiased by Pillow) and converted to RGB or grey;
transparent pixels become black. Nothing but the list of
relative paths is held in memory, so 200,000 images cost a few megabytes.

Broken files are caught in two places:
- At construction every file gets a cheap header check (Pillow identifies it as PNG or JPEG of a
  non-zero size; a PNG's chunks are walked and their checksums verified, which catches truncated
  PNGs). Files that fail (not images, other formats, empty, garbage, truncated PNGs) are skipped
  and counted in one warning line: "skipped 3 files in D that are not readable PNG or JPEG images ...".
  Hidden files and folders (names starting with ".") are ignored without counting.
  `check_files=False` (the explorer, re-opening a model's folder) lists the files without this check.
- At read time a file that passed the check but cannot be decoded (a truncated JPEG, or a file
  changed since) is replaced by the next file in the list that reads, counted in
  `read_failures` (per process) and logged once. `images()` never raises for such a file.

The set holds no open files, so it pickles to DataLoader worker processes (`streams_from_disk`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from .base import Dataset
from .paths import require_folder

log = logging.getLogger(__name__)
FORMATS = ("PNG", "JPEG")
MIN_SIZE, MAX_SIZE = 8, 512
HOLDING = "PNG or JPEG images (any tree of subfolders)"
RETRIES = 16  # consecutive unreadable files tried before a black image stands in


class ImageFolder(Dataset):
    """Images under `data_dir` in sorted path order; no labels and no factor table."""

    name = "folder"
    streams_from_disk = True

    def __init__(
        self, data_dir: str | None = None, image_size: int = 64, channels: int = 3, check_files: bool = True
    ) -> None:
        if not MIN_SIZE <= image_size <= MAX_SIZE:  # training takes 32 or 64; an imported model any size
            raise ValueError(f"folder images are resized to {MIN_SIZE} to {MAX_SIZE} pixels, not {image_size}")
        if channels not in (1, 3):
            raise ValueError(f"--channels must be 1 (grey) or 3 (RGB), not {channels}")
        root = require_folder(data_dir, "folder", HOLDING)
        candidates = list_files(root)
        if not candidates:
            raise ValueError(f"--data-dir {data_dir} holds no files; point it at a folder with {HOLDING}")
        good, skipped = [], []
        for relative in candidates:
            problem = check_image(root / relative) if check_files else None
            (skipped.append((relative, problem)) if problem else good.append(relative))
        if not good:
            example, why = skipped[0]
            raise ValueError(
                f"none of the {len(skipped)} files in {data_dir} is a readable PNG or JPEG image "
                f"(e.g. {example}: {why})"
            )
        if skipped:
            example, why = skipped[0]
            log.warning(
                "skipped %d file%s in %s that %s not readable PNG or JPEG images (e.g. %s: %s)",
                len(skipped),
                "s" if len(skipped) > 1 else "",
                data_dir,
                "are" if len(skipped) > 1 else "is",
                example,
                why,
            )
        self.root = str(root)
        self.files = np.array(good)  # relative paths as one numpy string array: compact, quick to pickle
        self.skipped: tuple[tuple[str, str], ...] = tuple(skipped)
        self.read_failures = 0
        self._logged: set[int] = set()
        self.image_shape = (channels, image_size, image_size)

    def __len__(self) -> int:
        return len(self.files)

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        idx = self._check_indices(indices).tolist()
        c, size = self.image_shape[0], self.image_shape[1]
        out = np.empty((len(idx), size, size, c), np.uint8)
        for row, i in enumerate(idx):
            out[row] = self._read(i).reshape(size, size, c)
        return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255).contiguous()

    def _read(self, index: int) -> np.ndarray:
        """One image as uint8 (S, S) or (S, S, 3); an unreadable file gives way to the next one that reads."""
        for step in range(RETRIES):
            i = (index + step) % len(self.files)
            try:
                return load_image(Path(self.root) / str(self.files[i]), self.image_shape[1], self.image_shape[0])
            except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... for damaged data
                self.read_failures += 1
                if i not in self._logged:
                    self._logged.add(i)
                    log.warning("could not decode %s (%s); using the next image instead", self.files[i], exc)
        return np.zeros(self.image_shape[1:] + (self.image_shape[0],), np.uint8)


def list_files(root: Path) -> list[str]:
    """Every non-hidden file under root, as sorted relative paths (stable indices on any machine)."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [s for s in subfolders if not s.startswith(".")]
        found += [os.path.relpath(os.path.join(folder, n), root) for n in names if not n.startswith(".")]
    return sorted(found)


def check_image(path: Path) -> str | None:
    """None if Pillow reads `path`'s header as a PNG or JPEG of non-zero size, else why not."""
    try:
        with Image.open(path) as image:
            if image.format not in FORMATS:
                return f"a {image.format} image, not PNG or JPEG"
            if min(image.size) < 1:
                return "an image of zero size"
            if image.format == "PNG":
                image.verify()  # walks the chunks and their CRCs without decompressing
    except Exception as exc:  # UnidentifiedImageError, SyntaxError, struct errors: all mean "not readable"
        return str(exc).replace(str(path), path.name) or type(exc).__name__
    return None


def load_image(path: Path, size: int, channels: int) -> np.ndarray:
    """Decode, centre-crop to a square and resize: uint8 (size, size) grey or (size, size, 3) RGB."""
    mode = "L" if channels == 1 else "RGB"
    image: Image.Image  # an ImageFile from open, a plain Image once transposed or converted
    with Image.open(path) as image:
        image.draft(mode, (size, size))  # JPEG: decode at the smallest DCT scale still >= size
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):  # 16-bit grey PNGs: keep the top 8 bits (Pillow would clip at 255)
            image = Image.fromarray((np.asarray(image).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8))
        if image.has_transparency_data:
            image = image.convert("RGBA").convert("RGBa")  # premultiplied: transparent pixels turn black
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        # Crop first, then resize: resizing with a box would blend in pixels from outside the square.
        square = image.convert(mode).crop((left, top, left + side, top + side))
        return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR))
