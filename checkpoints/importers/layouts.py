"""Well-known public layouts: other people's state dicts recognised exactly from key names and shapes.

Each layout (one module per public repository) reads its sizes (latent size, widths, channels)
from a few of the file's tensors, builds the full table of names and shapes those sizes imply,
and matches only when the file holds exactly those names with exactly those shapes. A file that
matches none is told which layout is nearest and what differed (`no_match_message`).

Keys may sit under one common prefix (a Lightning module's `model.`, DataParallel's `module.`):
`candidates` also tries the state with it removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from ..architectures.common import Network
from ..errors import ArchitectureMismatchError
from ..format import Meta
from .foreign import ForeignConfig, ForeignNetwork
from .torchfile import few

Table = dict[str, tuple[int, ...]]
M = TypeVar("M", bound=nn.Module)
State = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class Layout:
    """One public architecture: `table(state)` is what a file of it with `state`'s sizes holds;
    `open(path, state, sha256, extras)` builds the network (state already matched exactly); `extras` are
    the checkpoint's other top-level entries (a Lightning checkpoint's `pytorch-lightning_version`...)."""

    name: str  # what the user reads, e.g. "pytorch/examples vae/main.py VAE"
    arch: str  # Meta.arch of the imported model (not a registered architecture)
    table: Callable[[State], Table]
    open: Callable[[Path, State, str, Mapping[str, Any]], tuple[Network, Meta]]


@dataclass
class Difference:
    """How a state differs from a layout's table."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shapes: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # name, got, wanted
    shared: int = 0  # names present in both

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.unexpected) + len(self.shapes)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing {few(self.missing)}")
        if self.unexpected:
            parts.append(f"unexpected {few(self.unexpected)}")
        for name, got, want in self.shapes[:3]:
            parts.append(f"'{name}' has shape {list(got)} where it needs {list(want)}")
        if len(self.shapes) > 3:
            parts.append(f"{len(self.shapes) - 3} more shapes differ")
        return "; ".join(parts)


def shapes_of(module: nn.Module) -> Table:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def on_meta(build: Callable[[], nn.Module]) -> Table:
    """The state-dict table of a module built without allocating memory."""
    with torch.device("meta"):
        return shapes_of(build())


def size(state: State, key: str, axis: int, default: int) -> int:
    """`state[key].shape[axis]`, or `default` when that tensor is absent or too small (a near miss)."""
    tensor = state.get(key)
    if tensor is None or tensor.ndim <= axis or tensor.shape[axis] < 1:
        return default
    return int(tensor.shape[axis])


def compare(state: State, table: Table) -> Difference:
    diff = Difference(
        missing=sorted(set(table) - set(state)),
        unexpected=sorted(set(state) - set(table)),
    )
    for name in sorted(set(table) & set(state)):
        diff.shared += 1
        got = tuple(state[name].shape)
        if got != table[name]:
            diff.shapes.append((name, got, table[name]))
    return diff


def candidates(state: State) -> Iterator[dict[str, torch.Tensor]]:
    """The state as saved, then without the first name component every key shares (`model.`, `module.`)."""
    current = dict(state)
    yield current
    for _ in range(2):
        heads = {k.split(".", 1)[0] for k in current}
        if len(heads) != 1 or not all("." in k for k in current):
            return
        current = {k.split(".", 1)[1]: v for k, v in current.items()}
        yield current


def _table(layout: Layout, state: State) -> Table | None:
    try:
        return layout.table(state)
    except (RuntimeError, ValueError):  # sizes read from a near miss that no module can be built with
        return None


def recognise(state: State) -> tuple[Layout, dict[str, torch.Tensor]] | None:
    """The layout `state` (or `state` without its common prefix) matches exactly, with that state."""
    from .registry import LAYOUTS

    for candidate in candidates(state):
        for layout in LAYOUTS:
            table = _table(layout, candidate)
            if table is not None and compare(candidate, table).count == 0:
                return layout, candidate
    return None


def nearest(state: State, share: float = 0.5) -> tuple[Layout, Difference] | None:
    """The layout with the fewest differences among those sharing at least `share` of their names with `state`."""
    from .registry import LAYOUTS

    best: tuple[Layout, Difference] | None = None
    for candidate in candidates(state):
        for layout in LAYOUTS:
            table = _table(layout, candidate)
            if table is None:
                continue
            diff = compare(candidate, table)
            if diff.shared == 0 or diff.shared < share * len(table):
                continue
            if best is None or diff.count < best[1].count:
                best = layout, diff
    return best


def near_miss_error(path: Path, state: State, share: float = 0.5) -> ArchitectureMismatchError | None:
    """The nearest-layout sentence when `state` shares at least `share` of a known layout's names, else None."""
    found = nearest(state, share)
    if found is None:
        return None
    layout, diff = found
    return ArchitectureMismatchError(
        f"{path.name}: its tensors match no known layout exactly; the nearest is {layout.name}, which differs: "
        f"{diff.describe()}. If the file was saved from your own variant of it, open it with "
        "--model-class YOUR_FILE.py:ClassName (docs/importing.md)"
    )


# ---- helpers the layout modules share ----------------------------------------------------------


def load_weights(path: Path, module: M, state: State) -> M:
    """`state` (already matched to `module`'s table) into `module`: float32, finite, strict. Returns it in eval mode."""
    weights = {}
    expected = module.state_dict()
    for name, want in expected.items():
        tensor = state[name]
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ArchitectureMismatchError(
                f"{path.name}: weight '{name}' contains NaN or Inf values; the training run diverged — "
                "use an earlier checkpoint"
            )
        weights[name] = tensor.to(want.dtype).contiguous()
    module.load_state_dict(weights, strict=True, assign=True)
    return module.eval()


class Call(nn.Module):
    """`net.<method>(x)` as a module, so one network can be a ForeignNetwork's decoder and encoder."""

    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net = net
        self.method = method

    def forward(self, x: torch.Tensor) -> Any:
        return getattr(self.net, self.method)(x)


def network(
    net: nn.Module,
    latent_dim: int,
    image_shape: tuple[int, int, int],
    output_range: tuple[float, float],
    *,
    has_encoder: bool,
) -> ForeignNetwork:
    """`net.decode` (codes -> images in `output_range`) and `net.encode` (images in [0, 1] -> mean, log-variance)."""
    config = ForeignConfig(latent_dim, image_shape, output_range)
    encoder = Call(net, "encode") if has_encoder else None
    return ForeignNetwork(Call(net, "decode"), config, encoder, "vae" if has_encoder else "gan")
