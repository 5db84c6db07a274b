"""Every kind of bad file gets its own clear error, from `load` and from `latent-train --resume`."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import safetensors.torch
import torch

import checkpoints
from checkpoints.format import METADATA_KEY, encode_document
from trainer.cli import main as latent_train


def _write(path, tensors, document):
    metadata = (
        None if document is None else {METADATA_KEY: document if isinstance(document, str) else json.dumps(document)}
    )
    safetensors.torch.save_file(tensors, str(path), metadata=metadata)
    return path


def _valid(tiny_vae):
    tensors = {k: v.contiguous() for k, v in tiny_vae.network.state_dict().items()}
    return tensors, json.loads(encode_document("vae", tiny_vae.meta))


class MakesAFile:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def missing(tmp_path, model):
    return tmp_path / "nope.safetensors"


def empty(tmp_path, model):
    (path := tmp_path / "empty.safetensors").write_bytes(b"")
    return path


def truncated(tmp_path, model):
    checkpoints.save(model, tmp_path / "full.safetensors")
    data = (tmp_path / "full.safetensors").read_bytes()
    (path := tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    return path


def random_bytes(tmp_path, model):
    (path := tmp_path / "noise.safetensors").write_bytes(os.urandom(4096))
    return path


def no_metadata(tmp_path, model):
    return _write(tmp_path / "plain.safetensors", _valid(model)[0], None)


def unknown_metadata(tmp_path, model):
    path = tmp_path / "other.safetensors"
    safetensors.torch.save_file(_valid(model)[0], str(path), metadata={"format": "pt", "producer": "someone"})
    return path


def metadata_not_json(tmp_path, model):
    return _write(tmp_path / "badjson.safetensors", _valid(model)[0], "{not json")


def newer_version(tmp_path, model):
    tensors, doc = _valid(model)
    return _write(tmp_path / "future.safetensors", tensors, {**doc, "format_version": 99})


def missing_tensor(tmp_path, model):
    tensors, doc = _valid(model)
    del tensors["decoder.0.weight"]
    return _write(tmp_path / "missing.safetensors", tensors, doc)


def extra_tensor(tmp_path, model):
    tensors, doc = _valid(model)
    return _write(tmp_path / "extra.safetensors", {**tensors, "decoder.99.weight": torch.zeros(3)}, doc)


def wrong_shape(tmp_path, model):
    tensors, doc = _valid(model)
    return _write(tmp_path / "shape.safetensors", tensors, {**doc, "config": {**doc["config"], "latent_dim": 3}})


def nan_weights(tmp_path, model):
    tensors, doc = _valid(model)
    tensors["decoder.0.weight"] = tensors["decoder.0.weight"].clone()
    tensors["decoder.0.weight"][0, 0] = float("nan")
    return _write(tmp_path / "nan.safetensors", tensors, doc)


def inf_weights(tmp_path, model):
    tensors, doc = _valid(model)
    tensors["encoder.1.bias"] = torch.full_like(tensors["encoder.1.bias"], float("inf"))
    return _write(tmp_path / "inf.safetensors", tensors, doc)


def absurd_latent_dim(tmp_path, model):
    tensors, doc = _valid(model)
    return _write(tmp_path / "huge.safetensors", tensors, {**doc, "config": {**doc["config"], "latent_dim": 10**9}})


def integer_weights(tmp_path, model):
    tensors, doc = _valid(model)
    tensors["decoder.0.bias"] = tensors["decoder.0.bias"].to(torch.int32)
    return _write(tmp_path / "ints.safetensors", tensors, doc)


def unknown_architecture(tmp_path, model):
    tensors, doc = _valid(model)
    return _write(tmp_path / "arch.safetensors", tensors, {**doc, "arch": "transformer"})


def pickle_with_code(tmp_path, model):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(MakesAFile(str(tmp_path / "PWNED")), protocol=2))
    return path


def torch_zip_with_code(tmp_path, model):
    path = tmp_path / "evil.pt"
    torch.save({"x": MakesAFile(str(tmp_path / "PWNED"))}, path)
    return path


CASES = [
    (missing, checkpoints.CheckpointError, "nope.safetensors does not exist"),
    (empty, checkpoints.UnsupportedFormatError, "empty.safetensors is empty"),
    (truncated, checkpoints.UnsupportedFormatError, "cut.safetensors is truncated"),
    (random_bytes, checkpoints.UnsupportedFormatError, "noise.safetensors is not a safetensors file"),
    (
        no_metadata,
        checkpoints.MissingMetadataError,
        "plain.safetensors is a safetensors file without latent-explorer metadata",
    ),
    (
        unknown_metadata,
        checkpoints.MissingMetadataError,
        "other.safetensors is a safetensors file without latent-explorer metadata",
    ),
    (
        metadata_not_json,
        checkpoints.MissingMetadataError,
        "badjson.safetensors: its latent-explorer metadata is not valid JSON",
    ),
    (
        newer_version,
        checkpoints.UnsupportedFormatError,
        "future.safetensors uses checkpoint format 99, newer than this latent-explorer reads",
    ),
    (missing_tensor, checkpoints.ArchitectureMismatchError, "missing decoder.0.weight"),
    (extra_tensor, checkpoints.ArchitectureMismatchError, "unexpected decoder.99.weight"),
    (
        wrong_shape,
        checkpoints.ArchitectureMismatchError,
        r"tensor '.*' has shape \[.*\] but the declared architecture \(latent_dim=3",
    ),
    (nan_weights, checkpoints.ArchitectureMismatchError, "weight 'decoder.0.weight' contains NaN or Inf"),
    (inf_weights, checkpoints.ArchitectureMismatchError, "weight 'encoder.1.bias' contains NaN or Inf"),
    (absurd_latent_dim, checkpoints.ArchitectureMismatchError, "latent_dim=1000000000 is outside 1..4096"),
    (integer_weights, checkpoints.ArchitectureMismatchError, "'decoder.0.bias' is stored as I32"),
    (unknown_architecture, checkpoints.UnsupportedFormatError, "declares architecture 'transformer'"),
    (
        pickle_with_code,
        checkpoints.UnsupportedFormatError,
        "evil.safetensors is a Python pickle that calls io.open, which could run code .* not opened",
    ),
    (
        torch_zip_with_code,
        checkpoints.UnsupportedFormatError,
        "evil.pt is a torch.save file that calls io.open, which could run code .* not opened",
    ),
]
IDS = [case[0].__name__ for case in CASES]


@pytest.mark.parametrize(("make", "error", "message"), CASES, ids=IDS)
def test_load_gives_a_clear_error(tmp_path, tiny_vae, make, error, message):
    path = make(tmp_path, tiny_vae)
    with pytest.raises(error, match=message):
        checkpoints.load(path)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(("make", "error", "message"), CASES, ids=IDS)
def test_resume_gives_the_same_error_in_one_line(tmp_path, tiny_vae, capsys, make, error, message):
    path = make(tmp_path, tiny_vae)
    code = latent_train(["vae", "--resume", str(path), "--steps", "5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("latent-train: error: ")
    assert "Traceback" not in err
    assert not (tmp_path / "PWNED").exists()


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(checkpoints.UnsupportedFormatError, match="is a folder"):
        checkpoints.load(tmp_path)


def test_absurd_sizes_are_refused_before_any_allocation(tmp_path, tiny_vae):
    tensors, doc = _valid(tiny_vae)
    doc["config"]["image_shape"] = [3, 100000, 100000]
    _write(tmp_path / "big.safetensors", tensors, doc)
    with pytest.raises(checkpoints.ArchitectureMismatchError, match="image size 100000x100000 is outside"):
        checkpoints.load(tmp_path / "big.safetensors")
