"""Errors raised for bad checkpoints. Each message is the sentence the user reads."""

from __future__ import annotations

from pathlib import Path


class CheckpointError(Exception):
    """A checkpoint cannot be opened or saved; the message says which file, what is wrong, what to do."""


class UnsupportedFormatError(CheckpointError):
    """The file is not a latent-explorer checkpoint (empty, truncated, random bytes, a pickle, a newer format)."""


class MissingMetadataError(CheckpointError):
    """A safetensors file without the `latent_explorer` metadata document, or with an incomplete one."""


class ArchitectureMismatchError(CheckpointError):
    """The tensors do not fit the architecture the metadata declares (names, shapes, dtypes, values)."""


class TrainingStateError(CheckpointError):
    """The `.train.safetensors` sidecar needed to resume training is missing or does not match."""


class OutputExistsError(CheckpointError):
    """A command would write over a file the user did not ask to replace: an existing checkpoint, pickle
    or zip (unless `--overwrite` is given), or one of the command's own inputs (always)."""


class CodeConsentRequiredError(CheckpointError):
    """The file holds compiled code (TorchScript) that would run when it is opened; the user has not
    agreed to run it. Retry with `checkpoints.load(error.path, trust_code=True)` once they have."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class UnsupportedOperation(Exception):
    """The model cannot do this, e.g. `encode` on a GAN, which has no encoder."""


class InferenceError(Exception):
    """A request to a model has the wrong shape or type, e.g. a code of the wrong length."""


def message_lines(exc: BaseException) -> list[str]:
    """The non-blank lines of an exception's message (other libraries' errors span many)."""
    return [line.strip() for line in str(exc).splitlines() if line.strip()]


def first_line(exc: BaseException) -> str:
    lines = message_lines(exc)
    return lines[0] if lines else type(exc).__name__


def last_line(exc: BaseException) -> str:
    """TorchScript and user-code errors end with the Python-level cause, after a long traceback."""
    lines = message_lines(exc)
    return lines[-1] if lines else type(exc).__name__


def one_line(exc: BaseException, limit: int = 300) -> str:
    """The whole message on one line: load_state_dict puts the missing keys after its first line."""
    text = " ".join(message_lines(exc)) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
