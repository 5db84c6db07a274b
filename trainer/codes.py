"""Structured GAN codes: InfoGAN's categorical and continuous codes, a conditional GAN's class.

Both feed the generator one code vector, the concatenation of the groups of its latent layout
(checkpoints/layout.py), so the explorer reads these models through `meta.layout` alone:

- InfoGAN (`--codes cat:10,cont:2`, Chen et al. 2016): noise z (N(0, 1), `--latent-dim` of it), then one
  one-hot block per categorical code (a uniform class), then the continuous codes (U(-1, 1));
- conditional GAN (`--conditional`, Mirza & Osindero 2014): noise z, then the one-hot class, named by the
  data set (digits and mnist: "0".."9"; dsprites: square, ellipse, heart).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from checkpoints.layout import Group, Layout

from . import datasets
from .config import TrainConfig, parse_codes

DSPRITES_SHAPES = ("square", "ellipse", "heart")
CLASS_SOURCES = "digits, mnist (the digit) or dsprites (the shape)"


def is_structured(config: TrainConfig) -> bool:
    return config.kind == "gan" and (config.codes is not None or config.conditional)


def arch_options(config: TrainConfig) -> dict[str, Any]:
    """The dcgan config fields a run sets: --width, and an InfoGAN's codes (its Q network)."""
    options: dict[str, Any] = {} if config.width is None else {"width": config.width}
    if config.kind == "gan" and config.codes is not None:
        categorical, continuous = parse_codes(config.codes)
        options.update(q_categorical=list(categorical), q_continuous=continuous)
    return options


def class_table(data: datasets.Dataset) -> tuple[np.ndarray, tuple[str, ...], str]:
    """(int64 class of every image, the class names, the group's name) for --conditional. Raises ValueError."""
    if data.labels is not None:
        k = int(data.labels.max()) + 1
        return data.labels, tuple(str(c) for c in range(k)), "digit" if data.name in ("digits", "mnist") else "class"
    if "shape" in data.factor_names and hasattr(data, "factors_of"):
        shape = data.factor_names.index("shape")
        classes = data.factors_of(np.arange(len(data)))[:, shape].astype(np.int64)
        k = data.factor_sizes[shape]
        names = DSPRITES_SHAPES if k == len(DSPRITES_SHAPES) else tuple(str(c) for c in range(k))
        return classes, names, "shape"
    raise ValueError(f"--conditional needs a data set with classes, {CLASS_SOURCES}; {data.name} has none")


def layout_for(config: TrainConfig, data: datasets.Dataset) -> Layout:
    """The generator's latent layout: () for a plain GAN (one normal group)."""
    if config.kind != "gan":
        return ()
    noise = Group("noise", config.latent_dim, "z")
    if config.conditional:
        _, names, title = class_table(data)
        return (noise, Group("categorical", len(names), title, names))
    if config.codes is None:
        return ()
    categorical, continuous = parse_codes(config.codes)
    groups = [noise, *(Group("categorical", k, f"c{i + 1}") for i, k in enumerate(categorical))]
    if continuous:
        groups.append(Group("uniform", continuous, "continuous"))
    return tuple(groups)


def sample_codes(
    layout: Layout, n: int, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """n codes from each group's prior: (codes (n, d), each categorical group's classes (n,), the continuous
    codes (n, c) of the uniform groups). The same draws for the same generator state on any device."""
    parts, classes, continuous = [], [], []
    for group in layout:
        if group.is_categorical:
            c = torch.randint(group.size, (n,), generator=generator, device=device)
            classes.append(c)
            parts.append(F.one_hot(c, group.size).float())
        elif group.kind == "uniform":
            u = torch.rand(n, group.size, generator=generator, device=device) * 2 - 1
            continuous.append(u)
            parts.append(u)
        else:
            parts.append(torch.randn(n, group.size, generator=generator, device=device))
    cont = torch.cat(continuous, 1) if continuous else torch.zeros(n, 0, device=device)
    return torch.cat(parts, 1), classes, cont
