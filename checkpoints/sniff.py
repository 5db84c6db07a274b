"""Recognise what a file is from its first bytes: pickles and zips go to the importers, broken files are explained."""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

from .errors import UnsupportedFormatError

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit on the JSON header


def header_length(head: bytes) -> int | None:
    """The JSON header's length from a safetensors file's first 8 bytes (little-endian u64); None if too short."""
    return struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else None


def is_complete(path: str | Path) -> bool:
    """True when the file is as long as its safetensors header says: header length, header, every tensor.

    Standard library only (the GUI thread scans training runs with it).
    """
    try:
        with open(path, "rb") as f:
            length = header_length(f.read(8))
            if length is None or length > MAX_HEADER_BYTES:
                return False
            header = json.loads(f.read(length))
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
            return os.fstat(f.fileno()).st_size >= 8 + length + end
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return False  # unreadable, or a header cut off part-way: not whole (yet)


def sniff(path: Path, data: bytes) -> None:
    """Raise UnsupportedFormatError with the specific reason when `data` cannot be a safetensors file.

    Pickles and zips never get here: `load` hands them to the importers (see `is_pickle`, `is_zip`).
    """
    name = path.name
    if not data:
        raise UnsupportedFormatError(
            f"{name} is empty (0 bytes); it was probably cut off while being written — re-save or re-train it"
        )
    if len(data) < 8:
        raise UnsupportedFormatError(f"{name} is only {len(data)} bytes long; it is not a safetensors file")
    header_len = struct.unpack("<Q", data[:8])[0]
    looks_like_header = data[8:9] == b"{"
    if not looks_like_header:
        raise UnsupportedFormatError(f"{name} is not a safetensors file (its first bytes are not a safetensors header)")
    if header_len > len(data) - 8:
        raise UnsupportedFormatError(
            f"{name} is truncated: its header alone needs {header_len + 8} bytes but the file has {len(data)}; "
            "it was cut off while being copied or written"
        )
    try:
        header = json.loads(data[8 : 8 + header_len])
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError):
        raise UnsupportedFormatError(f"{name} is not a safetensors file (its header is not valid)") from None
    if 8 + header_len + end > len(data):
        raise UnsupportedFormatError(
            f"{name} is truncated: it should be {8 + header_len + end} bytes but has {len(data)}; "
            "it was cut off while being copied or written"
        )


def is_pickle(data: bytes) -> bool:
    """Pickle protocol 2+ starts with PROTO (0x80) and the protocol number; torch's legacy files do too.

    A safetensors header length can begin with the same two bytes (0x0580 = 1408), so a file whose
    ninth byte opens the JSON header is taken for safetensors.
    """
    return len(data) >= 2 and data[0] == 0x80 and 1 <= data[1] <= 5 and data[8:9] != b"{"


def is_zip(data: bytes) -> bool:
    """A zip archive's first local header: torch.save (since 1.6) and torch.jit.save files are zips."""
    return data[:4] == b"PK\x03\x04"


def is_torchscript_archive(names: list[str]) -> bool:
    """torch.jit.save archives hold compiled code (`<name>/code/...`) and `constants.pkl`; torch.save zips do not."""
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def holds_compiled_code(path: str | Path) -> bool:
    """Whether opening `path` (a file, or a results folder's model.pt) would run code stored in it: a
    TorchScript archive. Read from the zip's directory only; nothing in the file is loaded or run."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    try:
        with open(path, "rb") as f:
            if not is_zip(f.read(4)):
                return False
        with zipfile.ZipFile(path) as archive:
            return is_torchscript_archive(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):  # unreadable or damaged: load says why
        return False
