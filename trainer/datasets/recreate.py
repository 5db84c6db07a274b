"""Re-create the data set a checkpoint was trained on, from what its meta records.

The explorer asks `unavailable_reason` when it opens a model (cheap: no file is read) to decide
whether "encode a data sample", the scatter and the reconstruction view can work, and shows the
reason when they cannot; `for_model` then builds the set. Sets that read files (mnist, folder)
need the folder recorded in the checkpoint's `train_config["data_dir"]` to still be there; a
dsprites model trained on the official file falls back to the procedural renderer (the same
factor table and index formula) when that file has gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import mnist
from .base import Dataset
from .folder import ImageFolder


def unavailable_reason(name: str | None, train_config: Mapping[str, Any]) -> str | None:
    """None when `for_model` can build the set here; else one sentence saying why not."""
    from . import DATASETS  # the registry imports this module

    if name is None:
        return "the checkpoint does not record which data set it was trained on"
    if name not in DATASETS:
        return f"its data set ({name}) cannot be made here"
    data_dir = train_config.get("data_dir")
    if name in ("mnist", "folder"):
        if not data_dir:
            return f"the checkpoint does not record the folder its {name} images came from"
        if not Path(data_dir).is_dir():
            return f"its training images ({data_dir}) are not on this computer"
        if name == "mnist" and mnist.find(Path(data_dir), mnist.TRAIN[0]) is None:
            return f"{data_dir} no longer holds MNIST's {mnist.TRAIN[0]}"
    return None


def given_data_reason(name: str, train_config: Mapping[str, Any], image_shape: tuple[int, int, int]) -> str | None:
    """None when the set a user named (--dataset, Data ▸ Use Data Set…) suits a model of `image_shape`;
    else one sentence saying what is wrong and what to do. Builds the set when the name is known (cheap:
    the sets render or read lazily), so a channel mismatch is found before any view asks for data."""
    from . import DATASETS  # the registry imports this module

    if name not in DATASETS:
        return f"there is no data set called {name!r}; choose one of {', '.join(DATASETS)}"
    if name in ("mnist", "folder") and not train_config.get("data_dir"):
        where = "the folder holding MNIST's IDX files" if name == "mnist" else "the folder of images"
        return f"the {name} data set needs --data-dir ({where})"
    if name != "dsprites" and train_config.get("data_file"):
        return f"the {name} data set does not take --data-file (only dsprites reads one .npz file)"
    reason = unavailable_reason(name, train_config)
    if reason is not None:
        return reason
    try:
        data = for_model(name, train_config, image_shape)
    except (ValueError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else f"the {name} data set cannot be read"
    have, want = data.image_shape[0], image_shape[0]
    if have != want:
        kinds = {1: "greyscale", 3: "RGB"}
        return (
            f"the {name} data set has {kinds.get(have, f'{have}-channel')} images, but the model expects "
            f"{kinds.get(want, f'{want}-channel')} ones; choose a data set with {want}-channel images"
        )
    return None


def for_model(name: str | None, train_config: Mapping[str, Any], image_shape: tuple[int, int, int]) -> Dataset:
    """The data set a model of `image_shape` (C, H, W) was trained on; ValueError when it cannot be made."""
    from . import DATASETS  # the registry imports this module

    reason = unavailable_reason(name, train_config)
    if reason is not None:
        raise ValueError(reason)
    options: dict[str, Any] = {"image_size": image_shape[1]}
    if name == "folder":
        # No header check of every file: the explorer only reads samples, and unreadable ones give way
        # to the next file anyway (see folder.py); 200k checks would stall the worker for seconds.
        return ImageFolder(train_config["data_dir"], image_shape[1], image_shape[0], check_files=False)
    if name == "mnist":
        options["data_dir"] = train_config["data_dir"]
    data_file = train_config.get("data_file")
    if name == "dsprites" and data_file and Path(data_file).is_file():
        options["data_file"] = data_file
    assert name is not None  # unavailable_reason refused a missing name above
    return DATASETS[name](**options)
