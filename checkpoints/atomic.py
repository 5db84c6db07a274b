"""The one output rule of every command: what may be written where, and how.

`check_output` decides before anything is computed: a command never writes over one of its own
inputs, and never replaces an existing checkpoint, pickle or zip unless the user passed --overwrite.
`atomic_write_bytes` then writes: a temporary file beside the target, fsync, rename, so a killed
process leaves either the old file or the new one, never half of one; the temporary files that
killed writers left for the same target are removed on the next write.

Standard library only: the GUI thread imports this module without torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import CheckpointError, OutputExistsError
from .sniff import header_length, is_pickle, is_zip

try:  # POSIX: a writer holds a lock on its temporary file, so only the files of dead writers are removed
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale files are left alone
    fcntl = None  # type: ignore[assignment]

_HEADER_BYTES = 1 << 20  # enough of a safetensors header for its metadata; a longer one is "a safetensors checkpoint"


def check_output(
    target: str | os.PathLike[str],
    *,
    overwrite: bool,
    inputs: Sequence[str | os.PathLike[str]] = (),
    flag: str = "--out",
    remedy: str | None = None,
) -> None:
    """Refuse, in one sentence, a write the user did not ask for. Raises OutputExistsError (a CheckpointError).

    A `target` that is one of `inputs` (the same file, or a checkpoint directly inside an input folder)
    is refused even with `overwrite`. An existing file whose first bytes are a safetensors header, a
    pickle or a zip is refused unless `overwrite`; the message names what it holds ("a 50-step ae
    run") and ends in `remedy` (default: pass --overwrite or choose another `flag`). Any other
    existing file (a PNG, a JSON file) is replaced. A folder is refused with a CheckpointError.
    """
    path = Path(target)
    if path.is_dir():
        raise CheckpointError(f"{flag} {path} is a folder; give a file name inside it")
    for source in inputs:
        if _is_input(path, Path(source)):
            raise OutputExistsError(f"{flag} {path} is one of this command's own inputs; write to another file")
    if overwrite:
        return
    what = describe_file(path)
    if what is not None:
        todo = remedy or f"pass --overwrite to replace it, or choose another {flag}"
        raise OutputExistsError(f"{path} exists ({what}); {todo}")


def describe_file(path: str | os.PathLike[str]) -> str | None:
    """What an existing file holds when it must not be replaced silently ("a 50-step ae run", "a pickle");
    None for a missing or unreadable file and for every other kind of file."""
    try:
        with open(path, "rb") as f:
            head = f.read(8 + _HEADER_BYTES)
    except OSError:
        return None
    if is_zip(head):
        return "a zip archive: a torch.save file, TorchScript module or NumPy .npz"
    if is_pickle(head):
        return "a pickle"
    if head[8:9] == b"{":
        length = header_length(head) or 0
        return _describe_safetensors(head[8 : 8 + length])
    return None


def _describe_safetensors(header: bytes) -> str:
    try:
        metadata = json.loads(header).get("__metadata__") or {}
        if "latent_explorer_training" in metadata:
            return "the training state of a latent-train run"
        doc = json.loads(metadata["latent_explorer"])
        kind, meta = str(doc["kind"]), doc["meta"]
        steps = meta.get("steps")
        if meta.get("train_config") and isinstance(steps, int) and steps > 0:
            return f"a {steps}-step {kind} run"
        return f"a latent-explorer {kind} checkpoint"
    except (ValueError, KeyError, TypeError, AttributeError):  # a cut-off header, someone else's metadata
        return "a safetensors checkpoint"


def _is_input(target: Path, source: Path) -> bool:
    try:
        if source.is_dir():
            return target.parent.resolve() == source.resolve() and describe_file(target) is not None
        if target.exists() and source.exists():
            return os.path.samefile(target, source)
        return target.resolve() == source.resolve()
    except (OSError, RuntimeError):  # a symlink loop: not a file this command reads
        return False


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file in the same folder, fsync it, then `os.replace` it into place.

    Removes the temporary files of earlier, killed writes to `path` (`remove_stale_temporaries`).
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(
            f"cannot write {path}: {exc.strerror or exc}; choose a folder that exists and is writable"
        ) from None
    _lock(fd)
    remove_stale_temporaries(path, keep=tmp)
    try:
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CheckpointError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    _fsync_folder(path.parent)


def remove_stale_temporaries(path: str | os.PathLike[str], keep: str | None = None) -> list[Path]:
    """Delete the `.{name}.XXXXXXXX.tmp` files that killed writers of `path` left beside it; returns them.

    A live writer holds a lock on its temporary file (POSIX), so only the files of dead processes go.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if fcntl is None or entry.path == keep or not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError while its writer lives
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            finally:
                os.close(fd)
    return removed


def _lock(fd: int) -> None:
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
