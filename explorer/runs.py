"""Training runs: the `<stem>-stepNNNNNNN.safetensors` snapshots that `latent-train --every K` keeps."""

from __future__ import annotations

import re
from pathlib import Path

SNAPSHOT = re.compile(r"^(?P<stem>.+)-step(?P<step>\d{7})\.safetensors$")


def scan_runs(folder: str | Path) -> dict[str, list[tuple[int, str]]]:
    """{stem: [(step, path), ...] sorted by step} for every run with snapshots in `folder`.

    Only complete files match: our writes go through hidden `.<name>.*.tmp` files and a rename.
    """
    runs: dict[str, list[tuple[int, str]]] = {}
    for path in Path(folder).iterdir():
        match = SNAPSHOT.match(path.name)
        if match and path.is_file():
            runs.setdefault(match["stem"], []).append((int(match["step"]), str(path)))
    return {stem: sorted(steps) for stem, steps in sorted(runs.items())}
