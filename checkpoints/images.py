"""Image bytes, the same everywhere (GUI, export, tests): uint8 = round(x * 255), clamped."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [0, 1] -> uint8 (N, H, W) for grey, (N, H, W, 3) for RGB, on the CPU."""
    pixels = (images.detach().float().clamp(0, 1) * 255).round_().to(torch.uint8)
    pixels = pixels[:, 0] if pixels.shape[1] == 1 else pixels.permute(0, 2, 3, 1)
    return pixels.contiguous().cpu().numpy()
