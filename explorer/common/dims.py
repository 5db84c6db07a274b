"""The order dimensions are shown in, one rule for sliders, traversals, compare, analysis and exports."""

from __future__ import annotations

from collections.abc import Sequence

from checkpoints.layout import Group, resolve, spans


def group_order(layout: Sequence[Group]) -> list[int]:
    """The groups in the order the views show them: the layout's order, noise groups last.

    A noise group (InfoGAN's z) is not meant to be read one dimension at a time, so its many sliders and
    rows come after the codes that carry meaning (a categorical class, the continuous codes)."""
    return sorted(range(len(layout)), key=lambda i: (layout[i].kind == "noise", i))


def dimension_order(
    kl: Sequence[float] | None, std: Sequence[float] | None, latent_dim: int, layout: Sequence[Group] = ()
) -> list[int]:
    """All dimensions, most informative first within each group; groups in `group_order`.

    By per-dimension KL when it was measured (a VAE); else by the spread of the encoder means over the
    data (an autoencoder, or an imported model whose statistics were estimated); else index order (a GAN).
    Ties keep index order; a categorical group's dimensions stay in class order. With the default layout
    (one normal group, every file before layouts existed) this is the order the views always had.
    """
    groups = resolve(layout, latent_dim)
    key = kl if kl else std
    where = spans(groups)
    order: list[int] = []
    for i in group_order(groups):
        dims = range(*where[i])
        order += sorted(dims, key=lambda d: (-key[d], d)) if key and not groups[i].is_categorical else list(dims)
    return order


def row_order(
    kl: Sequence[float] | None, std: Sequence[float] | None, latent_dim: int, layout: Sequence[Group] = ()
) -> list[int]:
    """The rows of a traversal (and of the sliders panel): `dimension_order`, each categorical group once, named
    by its first dimension (its row shows one column per class)."""
    groups = resolve(layout, latent_dim)
    firsts = {start for g, (start, _) in zip(groups, spans(groups)) if g.is_categorical}
    inside = {d for g, (start, stop) in zip(groups, spans(groups)) if g.is_categorical for d in range(start, stop)}
    return [d for d in dimension_order(kl, std, latent_dim, groups) if d in firsts or d not in inside]


def order_basis(kl: Sequence[float] | None, std: Sequence[float] | None) -> str:
    """What `dimension_order` sorted by, said to the user: "KL", "code spread" or "index"."""
    return "KL" if kl else "code spread" if std else "index"
