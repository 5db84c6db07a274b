"""Training runs: the `<stem>-stepNNNNNNN.safetensors` snapshots that `latent-train --every K` keeps."""

from __future__ import annotations

import re
from pathlib import Path

from checkpoints.sniff import is_complete

SNAPSHOT = re.compile(r"^(?P<stem>.+)-step(?P<step>\d{7})\.safetensors$")


def scan_runs(folder: str | Path, unfinished: list[str] | None = None) -> dict[str, list[tuple[int, str]]]:
    """{stem: [(step, path), ...] sorted by step} for every run with complete snapshots in `folder`.

    Our writes go through hidden `.<name>.*.tmp` files and a rename, so they never show half
    written; a snapshot copied in by other means may, and is left out until it is whole (its
    path is appended to `unfinished`, so the caller can look again).
    """
    runs: dict[str, list[tuple[int, str]]] = {}
    for path in Path(folder).iterdir():
        match = SNAPSHOT.match(path.name)
        if not (match and path.is_file()):
            continue
        if is_complete(path):
            runs.setdefault(match["stem"], []).append((int(match["step"]), str(path)))
        elif unfinished is not None:
            unfinished.append(str(path))
    return {stem: sorted(steps) for stem, steps in sorted(runs.items())}
