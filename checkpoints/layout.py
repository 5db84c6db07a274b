"""The latent layout: how a model's code splits into groups, each with its own prior.

A code of `latent_dim` numbers is an ordered list of groups:

- `normal`: continuous, prior N(0, 1) per dimension (a VAE's code; the default, one group of all dims);
- `uniform`: continuous, prior U(-1, 1) per dimension (InfoGAN's continuous codes);
- `categorical`: one of k classes as a one-hot block of k dimensions (InfoGAN's categorical code, a
  conditional GAN's class, JointVAE's discrete codes), with optional class names;
- `noise`: continuous N(0, 1) that is not meant to be read one dimension at a time (InfoGAN's z).

The checkpoint's metadata stores it as `meta.layout`, a JSON list of
`{"kind": ..., "size": ..., "name": ..., "labels": [...]}`; an empty list (every file before
layouts existed) means one `normal` group over the whole code. Standard library and numpy only,
so the GUI thread may use it (see pyproject's import contracts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("normal", "uniform", "categorical", "noise")
CONTINUOUS = ("normal", "uniform", "noise")
UNIFORM_BOUND = 1.0  # uniform groups live on [-1, 1]


@dataclass(frozen=True)
class Group:
    """One group of consecutive code dimensions. `size` is k for a categorical group."""

    kind: str
    size: int
    name: str = ""
    labels: tuple[str, ...] = ()  # class names of a categorical group (k of them), when known

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    def title(self, index: int) -> str:
        """How the window and exports name the group: its name, else e.g. "categorical 1 (10 classes)"."""
        if self.name:
            return self.name
        return f"{self.kind} {index + 1}" + (f" ({self.size} classes)" if self.is_categorical else "")

    def class_label(self, c: int) -> str:
        return self.labels[c] if self.labels else str(c)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "size": self.size}
        if self.name:
            out["name"] = self.name
        if self.labels:
            out["labels"] = list(self.labels)
        return out


Layout = tuple[Group, ...]


def default_layout(latent_dim: int) -> Layout:
    return (Group("normal", latent_dim),)


def resolve(layout: Sequence[Group], latent_dim: int) -> Layout:
    """The groups of a code of `latent_dim` numbers: `layout`, or the default when it is empty."""
    return tuple(layout) if layout else default_layout(latent_dim)


def is_default(layout: Sequence[Group]) -> bool:
    """One plain normal group: the models every view treated the same way before layouts existed."""
    return len(layout) == 0 or (len(layout) == 1 and layout[0].kind == "normal" and not layout[0].name)


def from_json(raw: Any) -> Layout:
    """Parse `meta.layout`; ValueError with one sentence for a malformed entry (sizes are checked by `check`)."""
    if not isinstance(raw, list):
        raise ValueError("must be a list of groups")
    groups = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ValueError(f"group {i + 1} is not a JSON object")
        kind, size = entry.get("kind"), entry.get("size")
        if kind not in KINDS:
            raise ValueError(f"group {i + 1} has kind {kind!r}; it must be one of {', '.join(KINDS)}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"group {i + 1} has size {size!r}; it must be a whole number of at least 1")
        name, labels = entry.get("name", ""), entry.get("labels", [])
        if not isinstance(name, str):
            raise ValueError(f"group {i + 1}'s name must be a string")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError(f"group {i + 1}'s labels must be a list of strings")
        groups.append(Group(kind, size, name, tuple(labels)))
    return tuple(groups)


def to_json(layout: Sequence[Group]) -> list[dict[str, Any]]:
    return [g.to_json() for g in layout]


def check(layout: Sequence[Group], latent_dim: int) -> Layout:
    """`layout` if it describes a code of `latent_dim` numbers; else ValueError with one sentence."""
    if not layout:
        return ()
    total = sum(g.size for g in layout)
    if total != latent_dim:
        sizes = " + ".join(str(g.size) for g in layout) + f" = {total}" if len(layout) > 1 else str(total)
        raise ValueError(f"its latent layout's group sizes add up to {sizes}, not the latent size {latent_dim}")
    for i, g in enumerate(layout):
        if g.is_categorical and g.size < 2:
            raise ValueError(
                f"its latent layout's group {i + 1} is categorical with k={g.size}; it needs k ≥ 2 classes"
            )
        if g.labels and (not g.is_categorical or len(g.labels) != g.size):
            want = f"{g.size} class names" if g.is_categorical else "no class names (only categorical groups have them)"
            count = f"{len(g.labels)} label{'s' if len(g.labels) != 1 else ''}"
            raise ValueError(f"its latent layout's group {i + 1} has {count}; it needs {want}")
    return tuple(layout)


def spans(layout: Sequence[Group]) -> list[tuple[int, int]]:
    """[start, stop) of each group in the code."""
    out, start = [], 0
    for g in layout:
        out.append((start, start + g.size))
        start += g.size
    return out


def group_of(layout: Sequence[Group], dim: int) -> int:
    """The index of the group that holds code dimension `dim`."""
    for i, (start, stop) in enumerate(spans(layout)):
        if start <= dim < stop:
            return i
    raise IndexError(f"dimension {dim} is outside the layout ({sum(g.size for g in layout)} dims)")


def sample(layout: Sequence[Group], n: int, rng: np.random.Generator) -> np.ndarray:
    """n codes (n, d) float32, each group drawn from its own prior (a categorical group: a uniform class, one-hot)."""
    return from_normal(layout, rng.standard_normal((n, sum(g.size for g in layout))))


def from_normal(layout: Sequence[Group], x: np.ndarray) -> np.ndarray:
    """Standard-normal draws (n, d) turned into draws of each group's prior, float32 (n, d).

    Normal and noise groups keep their numbers; a uniform group takes erf(x / sqrt 2) = 2 Phi(x) - 1, which is
    U(-1, 1); a categorical group becomes the one-hot of its block's argmax, a uniform class (the k draws are
    exchangeable). So one seeded torch.randn (DESIGN.md's rule for random codes) serves every layout, and a
    model with the default layout gets exactly the codes it always got.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    for g, (start, stop) in zip(layout, spans(layout)):
        block = out[..., start:stop]
        if g.is_categorical:
            _one_hot_argmax(block)
        elif g.kind == "uniform":
            block[...] = UNIFORM_BOUND * _erf(block.astype(np.float64) / math.sqrt(2.0))
    return out


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _one_hot_argmax(block: np.ndarray) -> None:
    """In place: each row of a categorical block (..., k) becomes the one-hot of its argmax."""
    hot = np.argmax(block, axis=-1)
    block[...] = 0.0
    np.put_along_axis(block, hot[..., None], 1.0, axis=-1)


def neutral(layout: Sequence[Group]) -> np.ndarray:
    """The code Reset goes to (d,): zero in continuous groups, class 0 in each categorical group."""
    parts = [np.eye(g.size, dtype=np.float32)[0] if g.is_categorical else np.zeros(g.size, np.float32) for g in layout]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


START_SEED = 0  # the numpy seed of a GAN's start code


def start(layout: Sequence[Group], generator: bool = False) -> np.ndarray:
    """The code a model opens at and Reset returns to (d,).

    A model with an encoder starts at `neutral`, the prior's centre, where its codes gather. A GAN's generator
    was only ever fed prior draws, whose norm lies near sqrt(d), never near zero, and many draw a flat,
    untypical tile at z = 0 (the zoo's faces-dcgan does). So a generator starts at one fixed draw of its prior
    (numpy seed START_SEED) in its normal and noise groups, with uniform codes at 0 and class 0 in each
    categorical group, as `neutral` has them.
    """
    z = neutral(layout)
    if generator:
        draw = np.random.default_rng(START_SEED).standard_normal(len(z)).astype(np.float32)
        for g, (lo, hi) in zip(layout, spans(layout)):
            if g.kind in ("normal", "noise"):
                z[lo:hi] = draw[lo:hi]
    return z


def classes(layout: Sequence[Group], z: np.ndarray) -> list[int | None]:
    """Per group, the class a code (d,) picks (argmax of the block), None for continuous groups."""
    return [
        int(np.argmax(z[start:stop])) if g.is_categorical else None for g, (start, stop) in zip(layout, spans(layout))
    ]


def with_class(layout: Sequence[Group], z: np.ndarray, group: int, c: int) -> np.ndarray:
    """A copy of code z with categorical `group` set to class c (one-hot)."""
    start, stop = spans(layout)[group]
    out = np.array(z, dtype=np.float32, copy=True)
    out[start:stop] = 0.0
    out[start + c] = 1.0
    return out


def project(layout: Sequence[Group], z: np.ndarray) -> np.ndarray:
    """Codes (n, d) or (d,) made valid: each categorical block becomes the one-hot of its argmax,
    each uniform group is clipped to [-1, 1]."""
    out = np.array(z, dtype=np.float32, copy=True)
    for g, (start, stop) in zip(layout, spans(layout)):
        block = out[..., start:stop]
        if g.is_categorical:
            _one_hot_argmax(block)
        elif g.kind == "uniform":
            np.clip(block, -UNIFORM_BOUND, UNIFORM_BOUND, out=block)
    return out


def describe(layout: Sequence[Group]) -> str:
    """One line, e.g. "noise 62 + categorical 10 + uniform 2"."""
    return " + ".join(f"{g.name or g.kind} {g.size}" for g in layout)


def continuous_mask(layout: Sequence[Group]) -> np.ndarray:
    """bool (d,): the dimensions of continuous groups (normal, uniform, noise)."""
    parts = [np.full(g.size, not g.is_categorical) for g in layout]
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def has_categorical(layout: Sequence[Group]) -> bool:
    return any(g.is_categorical for g in layout)


def metadata(layout: Sequence[Group]) -> dict[str, Any]:
    """What an export records of a model's layout: nothing for the default (old exports stay as they were),
    else {"layout": [groups as stored in the checkpoint]}."""
    return {} if is_default(layout) else {"layout": to_json(layout)}
