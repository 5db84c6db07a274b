"""A run whose loss turns NaN or Inf stops at once, keeps its last good checkpoint and writes nothing else.

Each step records, on the device and without waiting for it, the first step whose losses were not
finite. The loop reads that flag (one synchronisation) after every step on a single CPU process, where
it costs nothing, and otherwise at the end of each loss window and before every save, so a GPU step is
never made to wait; the step it names is exact either way. Under torchrun every rank checks at the same
steps and the ranks agree (any rank's NaN stops all of them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from .distributed import World


class Diverged(ValueError):
    """Training stopped because the loss (or the weights) became NaN or Inf; the message says where."""


class DivergenceWatch:
    """The first non-finite step of a run, kept on its device; `check` raises Diverged once there is one."""

    def __init__(self, device: torch.device, world: World) -> None:
        self.world = world
        self.every_step = device.type == "cpu" and not world.is_distributed
        self.saved_step: int | None = None  # of the last checkpoint written (or resumed from)
        self._first = torch.full((), -1, dtype=torch.int64, device=device)
        self._is_nan = torch.zeros((), dtype=torch.bool, device=device)

    def see(self, losses: torch.Tensor, step: int) -> None:
        """After step `step` (1-based) with these losses; queues two tiny device ops, never waits."""
        is_new = ~torch.isfinite(losses).all() & (self._first < 0)
        self._first = torch.where(is_new, step, self._first)
        self._is_nan = self._is_nan | (is_new & torch.isnan(losses).any())

    def check(self, out: Path, lr_flag: str = "--lr", network: nn.Module | None = None, step: int = 0) -> None:
        """Raise Diverged if a step's loss was not finite (on any rank), or if `network`'s weights are not."""
        first = self._first
        if self.world.is_distributed:
            first = first.clone()
            dist.all_reduce(first, op=dist.ReduceOp.MAX)
        bad_step = int(first)
        if bad_step >= 0:
            what = "NaN" if bool(self._is_nan) or int(self._first) < 0 else "Inf"
            raise Diverged(f"the loss became {what} at step {bad_step} (try a lower {lr_flag}); {self._kept(out)}")
        if network is not None and not all(bool(torch.isfinite(p).all()) for p in network.parameters()):
            raise Diverged(f"the weights became NaN or Inf at step {step} (try a lower {lr_flag}); {self._kept(out)}")

    def check_statistics(self, statistics: dict[str, Any], step: int, out: Path, lr_flag: str = "--lr") -> None:
        """Raise Diverged if the code statistics about to be saved (KL per dimension, means, stds) are not finite:
        huge but finite weights can overflow there before the loss does."""
        for name, values in statistics.items():
            if not all(math.isfinite(v) for v in values):
                raise Diverged(
                    f"the encoder's codes became NaN or Inf at step {step} ({name}; try a lower {lr_flag}); "
                    f"{self._kept(out)}"
                )

    def _kept(self, out: Path) -> str:
        if self.saved_step is None:
            return f"no checkpoint was saved before it, so nothing was written to {out}"
        return f"the last good checkpoint is step {self.saved_step}, kept in {out}"
