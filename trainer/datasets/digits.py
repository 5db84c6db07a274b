"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, labels 0-9), upsampled bilinearly."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import Dataset


class Digits(Dataset):
    name = "digits"

    def __init__(self, image_size: int = 32) -> None:
        from sklearn.datasets import load_digits  # bundled with scikit-learn: nothing is downloaded

        if image_size not in (8, 16, 32, 64):
            raise ValueError(f"digits come as 8x8 and upsample to 16, 32 or 64 pixels, not {image_size}")
        bunch = load_digits()
        small = torch.from_numpy(bunch.images).float()[:, None] / 16.0  # values 0..16
        if image_size != 8:
            small = F.interpolate(small, size=(image_size, image_size), mode="bilinear", align_corners=False)
        self._images = small.clamp_(0, 1).contiguous()
        self.labels = bunch.target.astype(np.int64)
        self.image_shape = (1, image_size, image_size)

    def __len__(self) -> int:
        return len(self._images)

    def images(self, indices: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        return self._images[self._check_indices(indices)]
