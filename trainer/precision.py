"""Mixed precision for the training step: `--precision fp32|bf16|fp16`, fp32 (the default) untouched.

bf16 and fp16 run the networks' forward passes under torch.autocast; the losses are computed from
float32 copies of the outputs, and the weights and Adam's state stay float32. fp16 needs a loss
scale (GradScaler) and is offered on CUDA only: on the CPU, bf16 is the supported fast type and
fp16 has no advantage, so asking for it there is refused rather than silently slow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from .config import PRECISIONS

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device) -> None:
    """Raise ValueError with one line when `precision` cannot run on `device`."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return
    if device.type == "mps":
        raise ValueError(f"--precision {precision} is not supported on mps here; use --precision fp32")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("--precision fp16 needs a CUDA GPU; on the CPU use --precision bf16 (or fp32)")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError("this GPU does not support bf16; use --precision fp16 (or fp32)")


class Precision:
    """The autocast context and, for fp16, the loss scaler; for fp32 both do nothing at all."""

    def __init__(self, precision: str, device: torch.device) -> None:
        check_precision(precision, device)
        self.name, self.device = precision, device
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.name == "fp32":
            yield
            return
        with torch.autocast(self.device.type, dtype=DTYPES[self.name]):
            yield

    def descend(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Zero the gradients, backpropagate `loss` (scaled for fp16) and step `optimizer`."""
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)

    def end_step(self) -> None:
        """Once per training step, after every optimizer has stepped: adapt the fp16 loss scale."""
        if self.scaler is not None:
            self.scaler.update()

    def state(self) -> dict[str, Any]:
        return {"grad_scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def restore(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state.get("grad_scaler"):
            self.scaler.load_state_dict(state["grad_scaler"])
