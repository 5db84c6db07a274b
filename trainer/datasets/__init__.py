"""Data sets by name: `get("dsprites")`, `get("digits", image_size=64)`. All share `Dataset`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .base import Dataset
from .digits import Digits
from .dsprites import DSprites
from .dsprites_file import OfficialDSprites
from .faces import Faces
from .folder import ImageFolder
from .mnist import MNIST
from .recreate import for_model, given_data_reason, unavailable_reason


def dsprites(image_size: int = 64, data_file: str | None = None) -> Dataset:
    """Procedural dSprites, or the official .npz when `data_file` is given (same factor table)."""
    return DSprites(image_size) if data_file is None else OfficialDSprites(data_file, image_size)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "dsprites": dsprites,
    "faces": Faces,
    "digits": Digits,
    "mnist": MNIST,
    "folder": ImageFolder,
}


def get(name: str, **options: Any) -> Dataset:
    """Build a data set by name; options the set does not take are refused. Raises ValueError."""
    cls = DATASETS.get(name)
    if cls is None:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(k for k, v in options.items() if k not in accepted and v is not None)
    if unknown:
        raise ValueError(f"the {name} data set does not take {', '.join('--' + k.replace('_', '-') for k in unknown)}")
    return cls(**{k: v for k, v in options.items() if k in accepted and v is not None})


__all__ = [
    "DATASETS",
    "Dataset",
    "DSprites",
    "Digits",
    "Faces",
    "ImageFolder",
    "MNIST",
    "OfficialDSprites",
    "for_model",
    "get",
    "given_data_reason",
    "unavailable_reason",
]
