"""Reading other people's torch files without running code from them.

`torch.load(..., weights_only=True)` is the only unpickler the project calls: it rebuilds tensors,
dicts, lists and plain scalars and refuses every other Python object. When it refuses, the
pickle's opcodes are read with `pickletools` (parsed, never executed) to tell the user what the
file holds: a whole pickled model, or something that would call arbitrary code.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import UnsupportedFormatError, first_line
from ..sniff import is_zip

# A pickle that names one of these classes is a whole model object, not a state dict. (Lightning's
# own classes are not listed: a Lightning checkpoint may hold an AttributeDict of hyper-parameters
# beside a perfectly good state dict.)
_MODULE_PREFIXES = ("torch.nn.modules.",)
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_NEUTRAL_OPS = {"FRAME", "PROTO", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"}  # push nothing


def zip_names(path: Path, data: bytes) -> list[str]:
    """The member names of a zip file, read from its directory (nothing inside is opened)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsupportedFormatError(
            f"{path.name} is a damaged zip archive (its directory cannot be read); it was probably cut off "
            "while being copied or written"
        ) from None


def is_torchscript(names: list[str]) -> bool:
    """torch.jit.save archives hold compiled code (`<name>/code/...`) and `constants.pkl`; torch.save zips do not."""
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def read_torch_file(path: Path, data: bytes) -> Any:
    """What a torch.save file (zip or legacy format) holds, restricted to tensors and containers.

    Raises UnsupportedFormatError naming what was refused and what to do instead.
    """
    if is_zip(data) and not any(n.endswith("data.pkl") for n in zip_names(path, data)):
        hint = " (it looks like a NumPy .npz)" if any(n.endswith(".npy") for n in zip_names(path, data)) else ""
        raise UnsupportedFormatError(
            f"{path.name} is a zip archive but not a torch.save file or TorchScript module{hint}; it was not opened"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols; the error below says it all
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, data, str(exc)) from None
    except Exception as exc:  # torch raises RuntimeError, EOFError, ValueError... for damaged files
        raise UnsupportedFormatError(
            f"{path.name} looks like a torch.save file but cannot be read ({first_line(exc)}); it may be damaged "
            "or cut off — save it again"
        ) from None


def _refusal(path: Path, data: bytes, torch_message: str) -> UnsupportedFormatError:
    names = pickle_globals(data)
    modules = [n for n in names if n.startswith(_MODULE_PREFIXES)]
    if modules:
        return UnsupportedFormatError(
            f"{path.name} holds a whole pickled model object ({few(modules)}), not only its weights; opening "
            "it would run code from the file, so it was not opened. Save the weights instead with "
            "`torch.save(model.state_dict(), 'model.pt')` and open that file"
        )
    refused = re.findall(r"GLOBAL ([\w.]+)", torch_message) or [
        n for n in names if not n.startswith(("torch.", "collections."))
    ]
    what = "a torch.save file" if is_zip(data) else "a Python pickle"
    calls = f" that calls {few(refused)}" if refused else " with Python objects other than tensors"
    return UnsupportedFormatError(
        f"{path.name} is {what}{calls}, which could run code when opened, so it was not opened; only state "
        "dicts (tensors in dicts and lists) are read from such files. If you trust the file, save its weights "
        "alone with `torch.save(model.state_dict(), 'model.pt')` (for a Lightning checkpoint: "
        "`torch.save(torch.load(F, weights_only=False)['state_dict'], 'model.pt')`) and open that"
    )


def pickle_globals(data: bytes) -> list[str]:
    """`module.name` of every class or function the file's pickles refer to, read without running them."""
    streams: list[bytes]
    if is_zip(data):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            streams = [archive.read(n) for n in archive.namelist() if n.endswith("data.pkl")]
    else:
        streams = [data]  # legacy torch files are several pickles back to back, then raw storage bytes
    found: list[str] = []
    for stream in streams:
        buffer = io.BytesIO(stream)
        for _ in range(8):
            if buffer.tell() >= len(stream) or not _scan(buffer, found):
                break
    return list(dict.fromkeys(found))


def _scan(buffer: io.BytesIO, found: list[str]) -> bool:
    """Collect globals of one pickle; False when the bytes are not (or no longer) a pickle."""
    pushed: list[str | None] = []  # what recent opcodes pushed, for protocol 4's STACK_GLOBAL
    memo: dict[int, str | None] = {}
    try:
        for op, arg, _ in pickletools.genops(buffer):
            if op.name == "GLOBAL":
                found.append(str(arg).replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(pushed) >= 2 and None not in pushed[-2:]:
                found.append(f"{pushed[-2]}.{pushed[-1]}")
            elif op.name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = pushed[-1] if pushed else None  # type: ignore[arg-type]  # genops types args Any | None; these are ints
            elif op.name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(int(arg)))  # type: ignore[arg-type]  # genops types args Any | None; these are ints
            elif op.name in _STRING_OPS:
                pushed.append(arg if isinstance(arg, str) else None)
            elif op.name not in _NEUTRAL_OPS:
                pushed.append(None)
    except Exception:  # pickletools raises ValueError and friends on bytes that are not opcodes
        return False
    return True


def few(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
