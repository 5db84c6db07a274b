"""The Compare tab's links found by matching codes (GUI thread): one pair's links seen from either model, the
sliders' gains, and the words that state each link's strength ("z3 ↔ z7, r −0.93")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.protocol import CodeMatchResult

Pair = tuple[int, int, float]  # (the driving model's dim, the other model's dim, Pearson r)


@dataclass(frozen=True)
class CodeLinks:
    """A code match seen from the driving model."""

    links: tuple[Pair, ...]  # |r| >= threshold, by the driving model's dim
    weak: tuple[Pair, ...]  # assigned but weaker: unlinked
    std: tuple[np.ndarray, np.ndarray]  # (driving model's, other model's) code spread over the samples
    n: int
    threshold: float

    def gains(self) -> dict[int, tuple[int, float]]:
        """driving dim -> (other dim, gain): the partner moves by the same number of its own standard deviations,
        the way r runs."""
        return {
            src: (dst, float(np.sign(r)) * _spread(self.std[1], dst) / _spread(self.std[0], src))
            for src, dst, r in self.links
        }

    def label_of(self, dst: int) -> str:
        """A traversal row of the other model's dim `dst`: its link's strength ("z3 ↔ z7, r −0.93")."""
        return next((strength(a, b, r) for a, b, r in self.links if b == dst), f"z{dst}")

    def summary(self, driver: str) -> str:
        """Every link (the driving model's dim ↔ this model's) with its strength, then the dims left unlinked."""
        parts = [_unbroken(strength(*pair)) for pair in self.links]
        text = "; ".join(parts) if parts else "no dimensions linked"
        if not self.links and not self.weak:
            text = "no active dimensions to pair"
        if self.weak:
            dims = ", ".join(_unbroken(f"z{a} (r {_signed(r)})") for a, _, r in self.weak)
            text += f". Unlinked, |r| below {self.threshold:g}: {dims}"
        return f"matched by codes of {self.n:,} data samples ({driver}'s dim ↔ this model's): {text}"


def oriented(match: CodeMatchResult, flipped: bool) -> CodeLinks:
    """A match seen from its reference model, or (flipped) from the other one (pairs sorted by that one's dims)."""
    links, weak, std = match.links, match.weak, match.std
    if flipped:  # the same pairing, read from the other side
        links = tuple(sorted((b, a, r) for a, b, r in links))
        weak = tuple(sorted((b, a, r) for a, b, r in weak))
        std = (std[1], std[0])
    return CodeLinks(links, weak, std, match.n, match.threshold)


def strength(src: int, dst: int, r: float) -> str:
    return f"z{src} ↔ z{dst}, r {_signed(r)}"


def _unbroken(text: str) -> str:
    """A link's words kept on one line when a label wraps."""
    return text.replace(" ", "\u00a0")


def _signed(r: float) -> str:
    return f"{r:.2f}".replace("-", "−")


def _spread(std: np.ndarray, dim: int) -> float:
    return float(std[dim]) if std[dim] > 1e-6 else 1.0
