"""Shared fixtures: tiny models (latent_dim=2, 8x8 or 32x32 images) saved to tmp_path."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import checkpoints  # noqa: E402


@pytest.fixture
def tiny_vae() -> checkpoints.Model:
    return checkpoints.create_model(
        "mlp", "vae", 2, (1, 8, 8), seed=0, dataset="digits", beta=4.0, kl_per_dim=(1.5, 0.01), factor_names=()
    )


@pytest.fixture
def tiny_vae_file(tiny_vae, tmp_path):
    path = tmp_path / "tiny.safetensors"
    checkpoints.save(tiny_vae, path)
    return path


@pytest.fixture(autouse=True)
def _deterministic_threads():
    """Keep CPU results reproducible between the two runs a resume test compares."""
    torch.manual_seed(0)
    yield
