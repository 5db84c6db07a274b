"""Models, the checkpoint format and loading. No Qt here.

    model = checkpoints.load("runs/dsprites.safetensors")      # device="auto": cuda, mps, cpu
    images = model.decode(torch.zeros(1, model.latent_dim))    # (1, C, H, W) in [0, 1]
    checkpoints.load("results/betaH_dsprites")                   # importers: see docs/importing.md
    checkpoints.convert("results/betaH_dsprites", "betaH.safetensors")
"""

from __future__ import annotations

from .devices import resolve_device
from .errors import (
    ArchitectureMismatchError,
    CheckpointError,
    InferenceError,
    MissingMetadataError,
    TrainingStateError,
    UnsupportedFormatError,
    UnsupportedOperation,
)
from .format import FORMAT_VERSION, Meta
from .importers import LatentDimRequiredError
from .importers.convert import convert
from .loading import load, load_training_state, save, training_state_path
from .model import Model, create_model

__all__ = [
    "FORMAT_VERSION",
    "ArchitectureMismatchError",
    "CheckpointError",
    "InferenceError",
    "LatentDimRequiredError",
    "Meta",
    "MissingMetadataError",
    "Model",
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
]
