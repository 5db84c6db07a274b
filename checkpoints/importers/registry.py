"""The well-known public layouts, in the order they are tried (each match is exact, so order only breaks ties)."""

from __future__ import annotations

from . import beta_vae, jointvae, pytorch_examples, pytorch_vae
from .layouts import Layout

LAYOUTS: tuple[Layout, ...] = (
    pytorch_examples.VAE,
    pytorch_examples.DCGAN,
    jointvae.LAYOUT,
    pytorch_vae.LAYOUT,
    beta_vae.H,
    beta_vae.B,
)
