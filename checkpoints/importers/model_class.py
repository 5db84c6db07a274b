"""`--model-class FILE.py:ClassName [--model-args ARGS]`: the user's own class, with one flag and no glue code.

This RUNS the user's code (importing FILE.py runs everything in it), so it happens only when they
name the class: `checkpoints.load(path, model_class=...)`. Then:

1. FILE.py is imported with its folder and its repository root (the nearest parent holding `.git`,
   `pyproject.toml` or `setup.py`) on `sys.path` for that import only, so `from mymodel import VAE`
   beside it works. A missing module names the module and the file and line that imported it.
2. `ClassName(**model_args)`; `model_args` is a JSON object or `key=value` pairs (values read as JSON
   when they parse, else as strings): `--model-args latent_dim=16 hidden=[64,32]`.
3. `load_state_dict(state, strict=True)`, the state as saved or without a common prefix (`model.`).
4. The decoder is the first of `decode`, `generate`, `forward` that maps codes (N, d) or (N, d, 1, 1)
   to images (N, C, H, W); d is `latent_dim` (given), else `model_args`', the instance's or the
   constructor's default `latent_dim`, `z_dim`, `nz` or `latent_size`. Its output range is measured on
   a probe batch (below zero: [-1, 1], else [0, 1]) unless `output_range` is given.
5. `encode`, when there is one, gives (mu, logvar), a `torch.distributions.Normal`, or a mean alone (an
   AE); it receives images in the decoder's range (a [-1, 1] model was trained on [-1, 1] images).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import json
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from ..architectures.common import MAX_LATENT_DIM
from ..errors import ArchitectureMismatchError, CheckpointError, last_line
from ..format import Meta
from .foreign import ForeignNetwork, encoder_kind, probe_decoder
from .layouts import candidates

ARCH = "model-class"  # in Meta.arch; not a registered architecture, so `convert` refuses it
DECODER_METHODS = ("decode", "generate", "forward")
LATENT_NAMES = ("latent_dim", "z_dim", "nz", "latent_size")
ROOT_MARKERS = (".git", "pyproject.toml", "setup.py")


def parse_model_args(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """`{"latent_dim": 16}` or `latent_dim=16 hidden=[64,32]` (spaces or commas between). Raises CheckpointError."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    text = raw.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CheckpointError(f"--model-args is not valid JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(value, dict):
            raise CheckpointError("--model-args must be a JSON object or key=value pairs")
        return value
    args: dict[str, Any] = {}
    for pair in _pairs(text):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise CheckpointError(f"--model-args: {pair!r} is not key=value; write e.g. latent_dim=16 or JSON")
        try:
            args[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            args[key.strip()] = value
    return args


def _pairs(text: str) -> list[str]:
    """Split on spaces and on commas outside brackets, so `hidden=[64,32],latent_dim=8` is two pairs."""
    pairs, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[{("
        depth -= ch in "]})"
        if depth == 0 and (ch.isspace() or ch == ","):
            if current:
                pairs.append(current)
            current = ""
        else:
            current += ch
    return pairs + ([current] if current else [])


def repository_root(folder: Path) -> Path | None:
    for parent in (folder, *folder.parents):
        if any((parent / marker).exists() for marker in ROOT_MARKERS):
            return parent
    return None


@contextlib.contextmanager
def _on_sys_path(folders: list[Path]) -> Iterator[None]:
    added = [str(f) for f in dict.fromkeys(folders) if str(f) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def import_user_file(file: Path, flag: str) -> ModuleType:
    """Run the user's file as a module, its folder and repository root on sys.path meanwhile. Raises CheckpointError."""
    if not file.is_file():
        raise CheckpointError(f"{flag} {file} does not exist; give the Python file that defines the model")
    if file.suffix != ".py":
        raise CheckpointError(f"{flag} {file.name} is not a Python file (.py)")
    file = file.resolve()
    name = f"latent_explorer_user_{hashlib.sha256(str(file).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise CheckpointError(f"{flag} {file.name} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so dataclasses and pickling inside the user's code find it
    root = repository_root(file.parent)
    try:
        with _on_sys_path([file.parent] + ([root] if root else [])):
            spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        sys.modules.pop(name, None)
        where = _importer(exc, root or file.parent)
        raise CheckpointError(
            f"{file.name} needs the module '{exc.name}', which is not installed here (imported at {where}); "
            f"install it (pip install ...) or move the model class into a file that does not import it"
        ) from None
    except (Exception, SystemExit) as exc:  # the user's code may raise anything; say what and where
        sys.modules.pop(name, None)
        raise CheckpointError(
            f"{file.name} failed while being imported ({type(exc).__name__}: {last_line(exc)} at "
            f"{_importer(exc, root or file.parent)}); fix the file and open again"
        ) from None
    return module


def _importer(exc: BaseException, base: Path) -> str:
    """`file:line` of the user's line that raised (the deepest frame outside importlib's own code)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    frames = [f for f in frames if Path(f.filename).name != "model_class.py"] or frames
    if not frames:
        return "an unknown line"
    frame = frames[-1]
    try:
        shown = str(Path(frame.filename).resolve().relative_to(base.resolve()))
    except ValueError:
        shown = frame.filename
    return f"{shown}:{frame.lineno}"


def open_with_model_class(
    path: Path,
    state: Mapping[str, torch.Tensor],
    spec: str,
    model_args: str | Mapping[str, Any] | None,
    sha256: str,
    *,
    latent_dim: int | None = None,
    output_range: tuple[float, float] | None = None,
) -> tuple[ForeignNetwork, Meta]:
    """Build the user's class, load `state` strictly, find its decoder and encoder. Raises CheckpointError."""
    file_name, sep, class_name = spec.rpartition(":")
    if not sep or not file_name or not class_name.isidentifier():
        raise CheckpointError(f"--model-class {spec!r} must be FILE.py:ClassName, e.g. models/vae.py:VAE")
    args = parse_model_args(model_args)
    module = import_user_file(Path(file_name), "--model-class")
    cls = getattr(module, class_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        found = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module))
        raise CheckpointError(
            f"{Path(file_name).name} has no torch.nn.Module class {class_name!r}"
            + (f" (it defines {', '.join(found[:6])})" if found else "")
        )
    try:
        net = cls(**args)
    except Exception as exc:  # their constructor
        raise CheckpointError(
            f"{class_name}(**{args}) failed ({type(exc).__name__}: {last_line(exc)}); pass its constructor "
            "arguments with --model-args, e.g. --model-args latent_dim=16"
        ) from None
    _load_strict(path, net, state, class_name)
    net = net.float().eval()
    d = _latent_dim(net, args, latent_dim, class_name)
    declared: dict[str, Any] = {} if output_range is None else {"output_range": list(output_range)}
    method, config = _decoder(path, net, d, declared, class_name)
    encoder, kind = None, "gan"
    if callable(getattr(net, "encode", None)):
        encoder = _Encoder(net, config.output_range)
        kind = encoder_kind(path, encoder, config, f"{class_name}.encode")
    meta = Meta(
        arch=ARCH,
        config=config,
        source_sha256=sha256,
        description=f"{path.name} ({Path(file_name).name}:{class_name}, decoder {class_name}.{method})",
    )
    return ForeignNetwork(_Method(net, method), config, encoder, kind), meta


def _load_strict(path: Path, net: nn.Module, state: Mapping[str, torch.Tensor], class_name: str) -> None:
    names = set(net.state_dict())
    best: Exception | None = None  # the error of the candidate sharing the most names: the telling one
    for candidate in sorted(candidates(state), key=lambda c: -len(names & set(c))):
        try:
            net.load_state_dict(candidate, strict=True)
            return
        except Exception as exc:  # RuntimeError listing missing/unexpected keys and size mismatches
            best = best or exc
    text = " ".join(line.strip() for line in str(best).splitlines() if line.strip())
    raise ArchitectureMismatchError(
        f"{path.name} does not fit {class_name}: {text[:400]}; check --model-args (the sizes it was built with)"
    )


def _latent_dim(net: nn.Module, args: Mapping[str, Any], given: int | None, class_name: str) -> int:
    found = given
    try:
        defaults = {n: p.default for n, p in inspect.signature(type(net)).parameters.items()}
    except (TypeError, ValueError):  # a signature inspect cannot read
        defaults = {}
    for name in LATENT_NAMES:
        if found is not None:
            break
        value = args.get(name, getattr(net, name, defaults.get(name)))
        if isinstance(value, int) and not isinstance(value, bool):
            found = value
    if found is None:
        raise CheckpointError(
            f"{class_name} does not say its latent size (no {', '.join(LATENT_NAMES)} argument or attribute); "
            "give it with --latent-dim N"
        )
    if not 1 <= found <= MAX_LATENT_DIM:
        raise CheckpointError(f"latent size {found} is outside 1..{MAX_LATENT_DIM}")
    return found


def _decoder(path: Path, net: nn.Module, d: int, declared: dict[str, Any], class_name: str) -> tuple[str, Any]:
    failures = []
    for method in DECODER_METHODS:
        if not callable(getattr(net, method, None)):
            continue
        try:
            return method, probe_decoder(path, getattr(net, method), d, declared, f"{class_name}.{method}")
        except ArchitectureMismatchError as exc:
            failures.append(f"{method}: {str(exc).removeprefix(path.name + ': ')}")
    raise ArchitectureMismatchError(
        f"{path.name}: none of {class_name}'s {', '.join(DECODER_METHODS)} maps ({d}) codes to images "
        f"({'; '.join(failures) or 'it has none of them'}); check --latent-dim"
    )


class _Method(nn.Module):
    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net = net
        self.method = method

    def forward(self, z: torch.Tensor) -> Any:
        return getattr(self.net, self.method)(z)


class _Encoder(nn.Module):
    """`net.encode` on images in the decoder's range; a Normal becomes (mean, log-variance)."""

    def __init__(self, net: nn.Module, output_range: tuple[float, float]) -> None:
        super().__init__()
        self.net = net
        self.low, self.high = output_range

    def forward(self, x: torch.Tensor) -> Any:
        encode: Any = self.net.encode  # the user's method (nn.Module's attribute typing says Tensor | Module)
        out = encode(self.low + x * (self.high - self.low))
        if isinstance(out, torch.distributions.Normal):
            return out.loc, 2 * torch.log(out.scale)
        return out
