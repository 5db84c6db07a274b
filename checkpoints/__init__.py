"""Models, the checkpoint format and loading. No Qt here.

    model = checkpoints.load("runs/dsprites.safetensors")      # device="auto": cuda, mps, cpu
    images = model.decode(torch.zeros(1, model.latent_dim))    # (1, C, H, W) in [0, 1]
    checkpoints.load("results/betaH_dsprites")                   # importers: see docs/importing.md
    checkpoints.convert("results/betaH_dsprites", "betaH.safetensors")

The names that need torch load on first use (PEP 562), so that the stdlib-only modules
`checkpoints.atomic` and `checkpoints.errors` can be imported on the GUI thread without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ArchitectureMismatchError,
    CheckpointError,
    CodeConsentRequiredError,
    InferenceError,
    MissingMetadataError,
    OutputExistsError,
    TrainingStateError,
    UnsupportedFormatError,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from .devices import resolve_device
    from .format import FORMAT_VERSION, Meta
    from .importers import LatentDimRequiredError
    from .importers.convert import convert
    from .loading import load, load_training_state, save, training_state_path, with_data
    from .model import Model, create_model

_LAZY = {
    "resolve_device": ".devices",
    "FORMAT_VERSION": ".format",
    "Meta": ".format",
    "LatentDimRequiredError": ".importers",
    "convert": ".importers.convert",
    "load": ".loading",
    "load_training_state": ".loading",
    "save": ".loading",
    "training_state_path": ".loading",
    "with_data": ".loading",
    "Model": ".model",
    "create_model": ".model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'checkpoints' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


__all__ = [
    "FORMAT_VERSION",
    "ArchitectureMismatchError",
    "CheckpointError",
    "CodeConsentRequiredError",
    "InferenceError",
    "LatentDimRequiredError",
    "Meta",
    "MissingMetadataError",
    "Model",
    "OutputExistsError",
    "create_model",
    "TrainingStateError",
    "UnsupportedFormatError",
    "UnsupportedOperation",
    "convert",
    "load",
    "load_training_state",
    "resolve_device",
    "save",
    "training_state_path",
    "with_data",
]
