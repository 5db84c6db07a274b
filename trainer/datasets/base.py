"""The one data-set interface shared by the trainer, the explorer and the metrics."""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import torch


class Dataset:
    """Images in [0, 1] as float32 (N, C, H, W) tensors, with labels and a factor table where known.

    Subclasses set `name`, `image_shape`, `labels` (int64 (len,) or None), `factor_names`,
    `factor_sizes`, `factor_values` (per factor, the grid of values) and implement `__len__` and
    `images`. Factored sets (dsprites, faces) also implement `factors_of` and `images_for_factors`;
    constant factors are not listed. Sets without a factor table (digits, mnist, folder) keep the
    empty tuples, and `factors_of`, `sample_factors` and `images_for_factors` raise ValueError.
    """

    name: str
    image_shape: tuple[int, int, int]
    labels: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    factor_values: tuple[np.ndarray, ...] = ()
    # True for sets that read files at `images()` time (folder): the loop may then feed them through
    # a torch DataLoader with workers. Such a set holds no open files, so it pickles to worker
    # processes, and `images()` never raises for a file that passed the set's check at construction.
    streams_from_disk: bool = False

    def __len__(self) -> int:
        raise NotImplementedError

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        """indices: (N,) int -> float32 (N, C, H, W) in [0, 1]."""
        raise NotImplementedError

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n images drawn uniformly with replacement; reproducible from the generator's state."""
        return self.images(torch.randint(len(self), (n,), generator=generator))

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """int64 (n, F) class indices (0-based), each factor uniform and independent."""
        if not self.factor_sizes:
            raise ValueError(f"the {self.name} data set has no factor table")
        return np.stack([rng.integers(0, size, n) for size in self.factor_sizes], axis=1).astype(np.int64)

    @property
    def has_factors(self) -> bool:
        return bool(self.factor_sizes)

    def factors_of(self, indices: np.ndarray | torch.Tensor) -> np.ndarray:
        """Image indices (N,) -> int64 (N, F) factor class indices of those images."""
        raise ValueError(f"the {self.name} data set has no factor table")

    def images_for_factors(self, classes: np.ndarray) -> torch.Tensor:
        """classes: int (N, F) factor class indices -> float32 (N, C, H, W)."""
        raise ValueError(f"the {self.name} data set has no factor table")

    def _check_indices(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        idx = torch.as_tensor(np.asarray(indices) if isinstance(indices, list) else indices, dtype=torch.int64)
        if idx.ndim != 1:
            raise ValueError(f"indices must be one-dimensional, got shape {tuple(idx.shape)}")
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= len(self)):
            raise IndexError(f"index out of range for the {self.name} data set of {len(self)} images")
        return idx


class FactorGrid(Dataset):
    """A set holding one image per combination of its factor classes (dsprites, faces).

    Image i is the row-major product of the classes (the last factor fastest), so
    `factors_of` and `index_of` are exact inverses. Subclasses set the factor table and implement
    `render(classes)`: int64 (N, F) valid classes -> float32 (N, C, H, W).
    """

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes))

    @property
    def strides(self) -> npt.NDArray[np.int64]:
        return np.cumprod((self.factor_sizes[1:] + (1,))[::-1])[::-1].astype(np.int64)

    def factors_of(self, indices: np.ndarray | torch.Tensor) -> np.ndarray:
        """Image indices (N,) -> int64 (N, F) factor classes."""
        idx = np.asarray(indices, dtype=np.int64)
        return cast("npt.NDArray[np.int64]", (idx[:, None] // self.strides) % np.array(self.factor_sizes))  # numpy: Any

    def index_of(self, classes: np.ndarray) -> np.ndarray:
        """int (N, F) factor classes -> int64 (N,) image indices."""
        return np.asarray(classes, dtype=np.int64) @ self.strides

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        return self.images_for_factors(self.factors_of(self._check_indices(indices).numpy()))

    def images_for_factors(self, classes: np.ndarray) -> torch.Tensor:
        return self.render(self.check_classes(classes))

    def render(self, classes: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def check_classes(self, classes: np.ndarray) -> np.ndarray:
        """int (N, F) factor classes -> int64 copy; ValueError for a wrong shape or a class out of range."""
        classes = np.asarray(classes)
        if classes.ndim != 2 or classes.shape[1] != len(self.factor_sizes):
            raise ValueError(f"factor classes must be (N, {len(self.factor_sizes)}), got {classes.shape}")
        if (classes < 0).any() or (classes >= np.array(self.factor_sizes)).any():
            raise ValueError("a factor class index is out of range")
        return classes.astype(np.int64)
