"""Command-line helpers for the window and the headless commands: a one-line parser and checked number types.

The flags that open other people's models are `checkpoints.flags` (shared with `latent-train eval`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """Bad flags get one line and exit code 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


SEED_MAX = 2**63 - 1


def count(low: int, high: int, why: str) -> Callable[[str], int]:
    """An argparse type: a whole number in low..high, the bound's reason in the message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high} ({why})")
        return value

    return parse


def seed(text: str) -> int:
    """An argparse type: a random seed, 0 … 2^63 − 1 (what a torch generator takes)."""
    return count(0, SEED_MAX, "seeds are 0 to 2^63 - 1")(text)


def finite(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a finite number with low < value <= high."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low < value <= high):
            raise argparse.ArgumentTypeError(
                f"{text} must be a finite number above {low:g} and at most {high:g} ({what})"
            )
        return value

    return parse
