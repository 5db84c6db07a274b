"""The official dSprites file (Matthey et al. 2017), read without unpickling anything.

`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` holds `imgs` (uint8 0/1, N x 64 x 64),
`latents_classes` (int N x 6), `latents_values` and `metadata`, a pickled dict that is never read
(`np.load(..., allow_pickle=False)`; the table in shared/DSPRITES.md replaces it). The factor
table comes from `latents_classes` (the constant colour column dropped). Images are kept
bit-packed (512 bytes each: 377 MB for all 737,280 instead of 2.9 GB) and are decompressed from
the archive in chunks, so the whole uint8 array never exists in memory.

A file with all 737,280 images in the published order (`i = classes · [737280, 245760, 40960,
1024, 32, 1]`) indexes exactly like the procedural set. A file with only some of them is indexed
by its rows; `images_for_factors` finds a row through the same formula and `sample_factors`
draws rows (the factors are then only as independent as the file's rows are).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import IO, cast

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from .dsprites import FACTOR_SIZES, SIZE, DSprites
from .paths import require_file

# colour, shape, scale, orientation, posX, posY
FILE_STRIDES: npt.NDArray[np.int64] = np.array([737280, 245760, 40960, 1024, 32, 1])
FILE_SIZES = (1, *FACTOR_SIZES)
CHUNK_ROWS = 8192  # images decompressed at a time (32 MB)
HOLDING = "the official dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"


class OfficialDSprites(DSprites):
    """dSprites images from the published .npz, with the procedural set's factor table and names."""

    def __init__(self, data_file: str | None = None, image_size: int = 64) -> None:
        super().__init__(image_size)
        path = require_file(data_file, "dsprites", HOLDING)
        self.data_file = str(path)
        self._classes, self._packed = read_npz(path)
        self._file_index = self._classes.astype(np.int64) @ FILE_STRIDES[1:]
        self.is_complete = len(self._classes) == int(np.prod(FACTOR_SIZES)) and bool(
            np.array_equal(self._file_index, np.arange(len(self._classes)))
        )
        self._order = np.argsort(self._file_index, kind="stable")

    def __len__(self) -> int:
        return len(self._classes)

    def factors_of(self, indices: np.ndarray | torch.Tensor) -> np.ndarray:
        """File rows (N,) -> int64 (N, 5) factor classes, from latents_classes."""
        rows = self._check_indices(np.asarray(indices, dtype=np.int64)).numpy()
        return cast("npt.NDArray[np.int64]", self._classes[rows].astype(np.int64))  # numpy types this Any

    def rows_of(self, classes: np.ndarray) -> np.ndarray:
        """int (N, 5) factor classes -> int64 (N,) rows of the file; ValueError for any the file lacks."""
        wanted = np.asarray(classes, dtype=np.int64) @ FILE_STRIDES[1:]
        if self.is_complete:
            return wanted
        sorted_index = self._file_index[self._order]
        at = np.minimum(np.searchsorted(sorted_index, wanted), len(sorted_index) - 1)
        missing = sorted_index[at] != wanted
        if missing.any():
            first = np.asarray(classes)[missing][0].tolist()
            raise ValueError(
                f"{Path(self.data_file).name} has no image for the factor classes {first} "
                f"({int(missing.sum())} of {len(wanted)} missing)"
            )
        return self._order[at]

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        return self._pixels(self._check_indices(indices).numpy())

    def images_for_factors(self, classes: np.ndarray) -> torch.Tensor:
        return self._pixels(self.rows_of(self.check_classes(classes)))

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.is_complete:
            return super().sample_factors(n, rng)
        return self._classes[rng.integers(0, len(self), n)].astype(np.int64)

    def _pixels(self, rows: np.ndarray) -> torch.Tensor:
        bits = np.unpackbits(self._packed[rows], axis=-1)  # (N, 64, 64) uint8 0/1
        images = torch.from_numpy(bits)[:, None].float()
        return F.avg_pool2d(images, 2) if self.image_shape[1] == 32 else images


def read_npz(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The archive's factor classes, uint8 (N, 5), and bit-packed images, uint8 (N, 64, 8). ValueError if bad."""
    name = path.name
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError:  # neither .npy nor .npz: numpy would have to unpickle it, which it refuses
        raise ValueError(f"{name} is not an .npz archive; give {HOLDING}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{name} is not a readable .npz archive ({exc}); give {HOLDING}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{name} is a single .npy array, not an .npz archive; give {HOLDING}")
    try:
        with archive:
            return _read_archive(archive, name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ValueError(f"{name} is damaged ({exc}); give {HOLDING}") from None


def _read_archive(archive: np.lib.npyio.NpzFile, name: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The factor classes and packed images of an open archive (see read_npz)."""
    assert archive.zip is not None  # None only once closed; read_npz holds it open
    missing = [k for k in ("imgs", "latents_classes") if k not in archive.files]
    if missing:
        raise ValueError(f"{name} has no {' or '.join(missing)} array; give {HOLDING}")
    with archive.zip.open("latents_classes.npy") as member:
        shape, _, dtype = _header(member, name, "latents_classes")
    if len(shape) != 2 or shape[1] != 6 or dtype.kind not in "iu":
        raise ValueError(f"{name}: latents_classes must be integers of shape (N, 6), not {dtype} {shape}")
    try:
        classes = archive["latents_classes"]
    except ValueError as exc:  # e.g. fewer bytes than the header promises
        raise ValueError(f"{name}: latents_classes is damaged ({exc})") from None
    if (classes < 0).any() or (classes >= np.array(FILE_SIZES)).any():
        raise ValueError(f"{name}: latents_classes holds classes outside the published grid {FILE_SIZES}")
    with archive.zip.open("imgs.npy") as member:
        shape, fortran_order, dtype = _header(member, name, "imgs")
        if len(shape) != 3 or shape[1:] != (SIZE, SIZE) or fortran_order or dtype.kind not in "biu":
            raise ValueError(f"{name}: imgs must be (N, 64, 64) integers in C order, not {dtype} {shape}")
        if shape[0] != len(classes):
            raise ValueError(f"{name} has {shape[0]:,} images but {len(classes):,} rows of latents_classes")
        packed = _read_packed(member, name, len(classes), dtype)
    return classes[:, 1:].astype(np.uint8), packed


def _header(member: IO[bytes], name: str, key: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read an .npy member's header (shape, fortran_order, dtype); refuse pickled object arrays."""
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"{name}: {key} is stored in .npy format {version[0]}.{version[1]}, which is not read here")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read(member)
    if dtype.hasobject:
        raise ValueError(f"{name}: {key} is stored as pickled Python objects, which are never loaded; give {HOLDING}")
    return shape, fortran_order, dtype


def _read_packed(member: IO[bytes], name: str, rows: int, dtype: np.dtype) -> npt.NDArray[np.uint8]:
    """Decompress the images chunk by chunk into bit-packed rows: uint8 (rows, 64, 8)."""
    packed = np.empty((rows, SIZE, SIZE // 8), np.uint8)
    row_bytes = SIZE * SIZE * dtype.itemsize
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        raw = member.read(count * row_bytes)
        if len(raw) != count * row_bytes:
            raise ValueError(f"{name} is truncated: imgs ends after {start + len(raw) // row_bytes:,} images")
        chunk = np.frombuffer(raw, dtype).reshape(count, SIZE, SIZE)
        packed[start : start + count] = np.packbits(chunk != 0, axis=-1)
    return packed
