"""Training runs: the `<stem>-stepNNNNNNN.safetensors` snapshots that `latent-train --every K` keeps."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

SNAPSHOT = re.compile(r"^(?P<stem>.+)-step(?P<step>\d{7})\.safetensors$")
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


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


def is_complete(path: str | Path) -> bool:
    """True when the file is as long as its safetensors header says: header length, header, every tensor."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return False
            (header_bytes,) = struct.unpack("<Q", head)
            if header_bytes > MAX_HEADER_BYTES:
                return False
            header = json.loads(f.read(header_bytes))
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
            return os.fstat(f.fileno()).st_size >= 8 + header_bytes + end
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return False  # unreadable, or a header cut off part-way: not whole (yet)
