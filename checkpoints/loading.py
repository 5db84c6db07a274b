"""`load` and `save` for the native format, and the training-state sidecar.

Loading checks, in order and before any network is built: the file exists and is not empty, it
is not a pickle, it is a safetensors file, its metadata document is ours and not newer than this
code, the architecture config is sane, the tensor names, dtypes and shapes are exactly those of
that architecture, and every weight is finite.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import safetensors
import safetensors.torch
import torch

from .architectures import ARCHITECTURES, validate_config
from .atomic import atomic_write_bytes
from .devices import resolve_device
from .errors import (
    ArchitectureMismatchError,
    CheckpointError,
    CodeConsentRequiredError,
    MissingMetadataError,
    TrainingStateError,
    UnsupportedFormatError,
)
from .format import FORMAT_VERSION, METADATA_KEY, WEIGHT_DTYPES, Meta, encode_document, parse_meta
from .importers import is_known_state_dict, open_foreign
from .layout import check as check_layout
from .model import Model
from .sniff import holds_compiled_code, is_pickle, is_zip, sniff

_TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "I64": torch.int64}


def load(
    path: str | Path,
    device: str | torch.device = "auto",
    *,
    latent_dim: int | None = None,
    arch_file: str | Path | None = None,
    model_class: str | None = None,
    model_args: str | Mapping[str, Any] | None = None,
    output_range: tuple[float, float] | None = None,
    encoder: str | Path | None = None,
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    data_file: str | Path | None = None,
    trust_code: bool = False,
) -> Model:
    """Open a checkpoint on `device` (auto: cuda, mps, cpu). Raises CheckpointError.

    `path` is our `.safetensors` file or anything an importer recognises (checkpoints/importers,
    docs/importing.md: a well-known public layout, a disentangling-vae or JointVAE folder, a TorchScript
    generator, an `.onnx` decoder, a state dict of one of our architectures). `latent_dim` is for
    TorchScript and ONNX generators that do not record it (importers.LatentDimRequiredError says when),
    and for an `arch_file` without LATENT_DIM; our own files record theirs.
    `arch_file` is the user's Python file that builds the networks of a state dict of any other
    architecture, `model_class` ("FILE.py:ClassName", built with `model_args`: a dict, a JSON object or
    `key=value` pairs) the user's own class: both RUN that file, so pass them only on the user's
    explicit request. They apply to torch files and safetensors files without our metadata; our own
    checkpoints ignore them. `output_range` ((-1, 1) or (0, 1)) overrides the range measured on a
    probe batch for `model_class` and ONNX decoders; `encoder` is the ONNX encoder beside an ONNX decoder.
    `dataset` (with `data_dir` or `data_file`) records the data set to encode for this model (see
    `with_data`). `trust_code`: the user agreed to run the compiled code of a TorchScript file (naming an
    `arch_file` or `model_class` counts as agreeing); without it such a file raises
    CodeConsentRequiredError before any of its code runs.
    """
    path = Path(path)
    if not (trust_code or arch_file is not None or model_class is not None):
        require_consent(path)
    if path.suffix.lower() == ".onnx":
        model = _open_onnx(path, device, latent_dim, encoder, output_range)
    else:
        if encoder is not None:
            raise CheckpointError(
                f"--encoder is for ONNX decoders (.onnx); {path.name}'s encoder, if it has one, is inside it"
            )
        imports: dict[str, Any] = {"model_class": model_class, "model_args": model_args, "output_range": output_range}
        model = _open(path, device, latent_dim, arch_file, imports)
    return with_data(model, dataset, data_dir, data_file)


def with_data(
    model: Model, dataset: str | None, data_dir: str | Path | None = None, data_file: str | Path | None = None
) -> Model:
    """Record the data set to encode for `model`: `meta.dataset` and `meta.train_config["data_dir" | "data_file"]`.

    That is where trainer.datasets.for_model / unavailable_reason and `latent-train eval` look, so an
    imported model gets reconstructions, scatter and metrics like one of ours. The names are not checked
    here (checkpoints does not know the data sets); the folder or file must exist. Returns `model`.
    """
    if dataset is None:
        if data_dir is not None or data_file is not None:
            raise CheckpointError("--data-dir and --data-file say where a data set is; name it with --dataset NAME")
        return model
    if data_dir is not None and data_file is not None:
        raise CheckpointError("give --data-dir (a folder) or --data-file (one file), not both")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise CheckpointError(f"--data-dir {data_dir} is not a folder")
    if data_file is not None and not Path(data_file).is_file():
        raise CheckpointError(f"--data-file {data_file} does not exist")
    config = dict(model.meta.train_config)
    if dataset != model.meta.dataset or data_dir is not None or data_file is not None:
        config.pop("data_dir", None)
        config.pop("data_file", None)
    if data_dir is not None:
        config["data_dir"] = str(Path(data_dir).resolve())
    if data_file is not None:
        config["data_file"] = str(Path(data_file).resolve())
    return model.with_meta(dataset=dataset, train_config=config)


def _open_onnx(
    path: Path,
    device: str | torch.device,
    latent_dim: int | None,
    encoder: str | Path | None,
    output_range: tuple[float, float] | None,
) -> Model:
    from .importers.onnx_model import open_onnx

    data = _read(path)
    try:
        target = resolve_device(device)
    except ValueError as exc:
        raise CheckpointError(f"{path.name}: {exc}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    network, meta = open_onnx(
        path,
        data,
        sha256,
        target,
        latent_dim=latent_dim,
        encoder=Path(encoder) if encoder is not None else None,
        output_range=output_range,
    )
    return Model(network.to(target), meta, sha256=sha256)


def _open(
    path: Path,
    device: str | torch.device,
    latent_dim: int | None,
    arch_file: str | Path | None,
    imports: dict[str, Any],
) -> Model:
    # Other people's files (folders, pickles, zips) go to the importers, which never unpickle
    # except through torch.load(weights_only=True).
    if path.is_dir():  # a results folder: its model.pt, with the same flags as the file itself
        return open_foreign(path, None, device, latent_dim, arch_file, **imports)
    data = _read(path)
    if is_pickle(data) or is_zip(data):
        return open_foreign(path, data, device, latent_dim, arch_file, **imports)
    sniff(path, data)
    try:
        doc, shapes = _read_header(path)
    except MissingMetadataError:
        if arch_file is None and imports["model_class"] is None and not is_known_state_dict(path, data):
            raise
        # someone else's safetensors state dict: a well-known layout, or one the user's code builds
        return open_foreign(path, data, device, latent_dim, arch_file, **imports)
    kind, cls, config, meta = _parse_document(path, doc)
    with torch.device("meta"):
        skeleton = cls(config, kind)
    expected = skeleton.state_dict()
    _check_tensor_table(path, shapes, expected, config)
    tensors = safetensors.torch.load(data)
    state = {}
    for name, tensor in tensors.items():
        if tensor.is_floating_point():
            if not torch.isfinite(tensor).all():
                raise ArchitectureMismatchError(
                    f"{path.name}: weight '{name}' contains NaN or Inf values; the training run diverged — "
                    "use an earlier checkpoint or snapshot"
                )
            tensor = tensor.float()
        state[name] = tensor
    skeleton.load_state_dict(state, strict=True, assign=True)
    try:
        target = resolve_device(device)
    except ValueError as exc:
        raise CheckpointError(f"{path.name}: {exc}") from None
    return Model(skeleton.to(target), meta, sha256=hashlib.sha256(data).hexdigest())


def require_consent(path: str | Path) -> None:
    """Raise CodeConsentRequiredError if opening `path` would run code stored in it (a TorchScript file).

    Decided from the zip's directory alone: nothing in the file is loaded or run.
    """
    path = Path(path)
    if holds_compiled_code(path):
        raise CodeConsentRequiredError(
            f"{path.name} is a TorchScript file: it contains compiled code that runs when it is opened; "
            "open it only if you trust where it came from, by passing --trust-code",
            path,
        )


def save(
    model: Model,
    path: str | Path,
    optimizer_state: Mapping[str, Any] | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> str:
    """Write `model` atomically; returns the file's sha256 and sets `model.sha256` to it.

    `optimizer_state` (optimizer, discriminator, step, random states: any nest of dicts, lists,
    tensors and JSON scalars) goes to the `<stem>.train.safetensors` sidecar together with a copy
    of the model's weights, so the sidecar alone is a consistent resume point even when a process
    is killed between writing it (first) and the model file (second).
    `dtype=torch.float16` halves the size (the zoo); integer buffers keep their type.
    """
    path = Path(path)
    tensors = {}
    for name, t in model.network.state_dict().items():
        t = t.detach().to("cpu", copy=True)
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(
                f"cannot save {path.name}: weight '{name}' holds NaN or Inf values; nothing was written"
            )
        tensors[name] = (t.to(dtype) if t.is_floating_point() else t).contiguous()
    data = safetensors.torch.save(tensors, metadata={METADATA_KEY: _document(path, model)})
    digest = hashlib.sha256(data).hexdigest()
    if optimizer_state is not None:
        state = {**optimizer_state, "model": {k: t.float() for k, t in model.network.state_dict().items()}}
        save_training_state(training_state_path(path), state, model_sha256=digest)
    atomic_write_bytes(path, data)
    model.sha256 = digest
    return digest


def _document(path: Path, model: Model) -> str:
    """The metadata document, always valid JSON: a NaN or Inf in the meta is refused, naming its field."""
    try:
        check_layout(model.meta.layout, model.latent_dim)
    except ValueError as exc:
        raise CheckpointError(f"cannot save {path.name}: {exc}; nothing was written") from None
    try:
        return encode_document(model.kind, model.meta)
    except ValueError:  # json's "Out of range float values are not JSON compliant"
        fields = model.meta.to_json()
        bad = [k for k, v in fields.items() if not _is_json(v)] or ["(unknown)"]
        raise CheckpointError(
            f"cannot save {path.name}: its metadata field '{bad[0]}' holds NaN or Inf; nothing was written"
        ) from None


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def training_state_path(path: str | Path) -> Path:
    """`runs/a.safetensors` -> `runs/a.train.safetensors`."""
    path = Path(path)
    stem = path.name.removesuffix(".safetensors")
    return path.with_name(f"{stem}.train.safetensors")


def _read(path: Path) -> bytes:
    if not path.exists() and path.is_symlink():
        raise CheckpointError(f"{path} is a symbolic link that leads nowhere (a loop or a missing target); fix it")
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise UnsupportedFormatError(f"{path} is a folder; open the .safetensors checkpoint file inside it")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_header(path: Path) -> tuple[Any, dict[str, tuple[str, tuple[int, ...]]]]:
    """Our JSON document and {tensor name: (dtype, shape)}, without reading any tensor."""
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            shapes = {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for every malformed header
        raise UnsupportedFormatError(
            f"{path.name} is not a valid safetensors file ({exc}); it may be damaged — re-save or re-train it"
        ) from None
    if METADATA_KEY not in metadata:
        raise MissingMetadataError(
            f"{path.name} is a safetensors file without latent-explorer metadata, so its architecture is "
            "unknown; save it with latent-explorer (latent-train, or `latent-explorer convert` from a "
            "supported format), or open it with --model-class YOUR_FILE.py:ClassName (docs/importing.md)"
        )
    try:
        return json.loads(metadata[METADATA_KEY]), shapes
    except json.JSONDecodeError:
        raise MissingMetadataError(f"{path.name}: its latent-explorer metadata is not valid JSON") from None


def _parse_document(path: Path, doc: Any) -> tuple[str, type, Any, Meta]:
    if not isinstance(doc, dict):
        raise MissingMetadataError(f"{path.name}: its latent-explorer metadata is not a JSON object")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MissingMetadataError(f"{path.name}: its metadata has no format_version")
    if version > FORMAT_VERSION:
        raise UnsupportedFormatError(
            f"{path.name} uses checkpoint format {version}, newer than this latent-explorer reads "
            f"(up to {FORMAT_VERSION}); upgrade latent-explorer to open it"
        )
    if version < 1:
        raise UnsupportedFormatError(f"{path.name}: format_version {version} is not valid")
    for key in ("kind", "arch", "config", "meta"):
        if key not in doc:
            raise MissingMetadataError(f"{path.name}: its metadata lacks '{key}'; the file is incomplete")
    arch, kind = doc["arch"], doc["kind"]
    cls = ARCHITECTURES.get(arch) if isinstance(arch, str) else None
    if cls is None:
        raise UnsupportedFormatError(
            f"{path.name} declares architecture {arch!r}, which this version does not know "
            f"(known: {', '.join(ARCHITECTURES)})"
        )
    if kind not in cls.kinds:
        raise UnsupportedFormatError(
            f"{path.name} declares kind {kind!r}, but the {arch} architecture is one of {', '.join(cls.kinds)}"
        )
    try:
        config = validate_config(cls, doc["config"])
        meta = parse_meta(doc["meta"], arch, config)
        check_layout(meta.layout, config.latent_dim)
    except ValueError as exc:
        raise ArchitectureMismatchError(f"{path.name}: {exc}") from None
    return kind, cls, config, meta


def _check_tensor_table(
    path: Path, found: dict[str, tuple[str, tuple[int, ...]]], expected: Mapping[str, torch.Tensor], config: Any
) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_names(missing)}")
        if extra:
            parts.append(f"unexpected {_names(extra)}")
        raise ArchitectureMismatchError(
            f"{path.name}: tensors do not match the declared architecture ({'; '.join(parts)}); "
            "the file was edited or written by other code"
        )
    for name, tensor in expected.items():
        dtype, shape = found[name]
        if shape != tuple(tensor.shape):
            raise ArchitectureMismatchError(
                f"{path.name}: tensor '{name}' has shape {list(shape)} but the declared architecture "
                f"(latent_dim={config.latent_dim}, image_shape={list(config.image_shape)}) needs "
                f"{list(tensor.shape)}"
            )
        allowed = WEIGHT_DTYPES if tensor.is_floating_point() else ("I64",)
        if dtype not in allowed:
            raise ArchitectureMismatchError(
                f"{path.name}: tensor '{name}' is stored as {dtype}; expected one of {', '.join(allowed)}"
            )


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


# ---- training-state sidecar -------------------------------------------------------------------

_STATE_KEY = "latent_explorer_training"


def save_training_state(path: Path, state: Mapping[str, Any], model_sha256: str) -> None:
    tensors: dict[str, torch.Tensor] = {}
    tree = _flatten(state, tensors)
    doc = {"format_version": FORMAT_VERSION, "model_sha256": model_sha256, "tree": tree}
    try:
        text = json.dumps(doc, allow_nan=False)
    except ValueError:
        raise CheckpointError(
            f"cannot save {path.name}: its training state holds NaN or Inf; nothing was written"
        ) from None
    data = safetensors.torch.save(tensors, metadata={_STATE_KEY: text})
    atomic_write_bytes(path, data)


def load_training_state(checkpoint: str | Path, model: Model) -> dict[str, Any]:
    """Read the sidecar of `checkpoint` and put its weights into `model` (loaded from that file).

    The sidecar may be one save ahead of the model file (a kill between the two writes); its
    weights are the ones that match its optimizer state, so they win.
    """
    path = training_state_path(checkpoint)
    if not path.exists():
        raise TrainingStateError(
            f"cannot resume from {Path(checkpoint).name}: its training state {path.name} is missing "
            "(only checkpoints written by latent-train have one); start a new run instead"
        )
    try:
        with open(path, "rb"):  # the system's own reason (permissions, a folder), not safetensors' guess
            pass
    except OSError as exc:
        raise TrainingStateError(
            f"cannot read {path.name} ({exc.strerror or exc}); fix its permissions, or start a new run"
        ) from None
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            doc = json.loads((f.metadata() or {})[_STATE_KEY])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        state = _unflatten(doc["tree"], tensors)
    except Exception as exc:  # any malformed file, missing key, bad JSON or a tree that names no tensor
        raise TrainingStateError(f"{path.name} is not a readable training state ({exc}); start a new run") from None
    # whatever the file holds: None or a non-mapping fails below as AttributeError/TypeError
    weights: Any = state.pop("model", None) if isinstance(state, dict) else None
    try:
        if not all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point()):
            raise ValueError("weights contain NaN or Inf")
        model.network.load_state_dict(weights, strict=True)
    except (AttributeError, KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise TrainingStateError(
            f"{path.name} does not match {Path(checkpoint).name} ({str(exc).splitlines()[0]}); start a new run"
        ) from None
    return cast("dict[str, Any]", state)  # a state that is not a dict has no weights and failed above


def _flatten(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Nested dicts/lists of tensors and JSON scalars -> a JSON tree; tensors go into `tensors`."""
    if isinstance(value, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = value.detach().to("cpu", copy=True).contiguous()
        return {"t": name}
    if isinstance(value, Mapping):
        return {"d": [[k, _flatten(v, tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"l": [_flatten(v, tensors) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in a training state")


def _unflatten(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(tree, dict):
        if "t" in tree:
            return tensors[tree["t"]]
        if "d" in tree:
            return {k: _unflatten(v, tensors) for k, v in tree["d"]}
        return [_unflatten(v, tensors) for v in tree["l"]]
    return tree
