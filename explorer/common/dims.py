"""The order dimensions are shown in, one rule for sliders, traversals, compare, analysis and exports."""

from __future__ import annotations

from collections.abc import Sequence


def dimension_order(kl: Sequence[float] | None, std: Sequence[float] | None, latent_dim: int) -> list[int]:
    """All dimensions, most informative first.

    By per-dimension KL when it was measured (a VAE); else by the spread of the encoder means over the
    data (an autoencoder, or an imported model whose statistics were estimated); else index order (a GAN).
    Ties keep index order.
    """
    key = kl if kl else std
    if not key:
        return list(range(latent_dim))
    return sorted(range(latent_dim), key=lambda d: (-key[d], d))


def order_basis(kl: Sequence[float] | None, std: Sequence[float] | None) -> str:
    """What `dimension_order` sorted by, said to the user: "KL", "code spread" or "index"."""
    return "KL" if kl else "code spread" if std else "index"
