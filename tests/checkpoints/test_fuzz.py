"""Property-based: however a checkpoint is damaged, `load` opens it or raises CheckpointError, and a model that
opens decodes to finite pixels or says why (InferenceError). Bounded (about 30 s) and derandomized."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checkpoints
from checkpoints.architectures import MLPAutoencoder, validate_config

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is a bug, never bad luck
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
DTYPES = ["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "X"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


class Original(bytes):
    """The intact file's bytes, shown by name in a failure report instead of 1.3 MB of them."""

    def __repr__(self) -> str:
        return "<the intact checkpoint>"


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> bytes:
    # narrow hidden layers: a 20 kB file, so each case is quick and a flip lands in the header as often as not
    config = validate_config(MLPAutoencoder, {"latent_dim": 2, "image_shape": [1, 8, 8], "hidden": [32, 16]})
    torch.manual_seed(0)
    meta = checkpoints.Meta(arch="mlp", config=config, dataset="digits", kl_per_dim=(1.0, 0.5), steps=3)
    model = checkpoints.Model(MLPAutoencoder(config, "vae"), meta)
    path = tmp_path_factory.mktemp("fuzz") / "m.safetensors"
    checkpoints.save(model, path)
    return Original(path.read_bytes())


def _split(data: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def _opens_or_says_why(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(data)
    try:
        model = checkpoints.load(path, device="cpu")
    except checkpoints.CheckpointError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    z = torch.randn(4, model.latent_dim, generator=torch.Generator().manual_seed(0)) * 3
    try:
        images = model.decode(z)
    except checkpoints.InferenceError as exc:
        assert str(exc) == "the decoder produced NaN for this code; the weights may be damaged"
        return
    assert images.shape == (4, *model.image_shape)
    assert torch.isfinite(images).all() and 0 <= float(images.min()) <= float(images.max()) <= 1


@FUZZ
@given(cut=st.integers(0, 10**7))
def test_truncated_anywhere(tmp_path, original, cut):
    _opens_or_says_why(tmp_path, original[: cut % len(original)])


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 255)), min_size=1, max_size=4))
def test_byte_flips_anywhere(tmp_path, original, flips):
    data = bytearray(original)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    _opens_or_says_why(tmp_path, bytes(data))


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**7), st.sampled_from([0x40, 0x7F, 0x80, 0xFF])), min_size=1, max_size=3)
)
def test_flips_in_the_weights_exponents(tmp_path, original, flips):
    """The issue's case: a flipped exponent bit leaves a huge but finite weight, which decodes to NaN."""
    header, body = _split(original)
    data = bytearray(body)
    for position, mask in flips:
        index = position % (len(data) // 4)
        data[4 * index + 3] ^= mask  # the float32's sign/exponent byte (little-endian)
    _opens_or_says_why(tmp_path, _join(header, bytes(data)))


@FUZZ
@given(length=st.integers(0, 2**64 - 1) | st.integers(-64, 64))
def test_header_length_field(tmp_path, original, length):
    (true_length,) = struct.unpack("<Q", original[:8])
    value = true_length + length if -64 <= length <= 64 else length
    _opens_or_says_why(tmp_path, struct.pack("<Q", value % 2**64) + original[8:])


@FUZZ
@given(data=st.data())
def test_tensor_table_edits(tmp_path, original, data):
    header, body = _split(original)
    names = sorted(k for k in header if k != "__metadata__")
    name = data.draw(st.sampled_from(names))
    edit = data.draw(st.sampled_from(["drop", "reshape", "dtype", "offsets", "rename"]))
    entry = header[name]
    if edit == "drop":
        del header[name]
    elif edit == "reshape":
        entry["shape"] = data.draw(st.lists(st.integers(0, 70), max_size=3))
    elif edit == "dtype":
        entry["dtype"] = data.draw(st.sampled_from(DTYPES))
    elif edit == "offsets":
        entry["data_offsets"] = data.draw(st.lists(st.integers(-10, len(body) + 10), min_size=0, max_size=3))
    else:
        header[name + ".x"] = header.pop(name)
    _opens_or_says_why(tmp_path, _join(header, body))


@FUZZ
@given(data=st.data())
def test_metadata_edits(tmp_path, original, data):
    header, body = _split(original)
    doc = json.loads(header["__metadata__"]["latent_explorer"])
    where = data.draw(st.sampled_from(["top", "config", "meta"]))
    target = doc if where == "top" else doc[where]
    key = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=6))
    if data.draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = data.draw(JSON_VALUES)
    header["__metadata__"]["latent_explorer"] = json.dumps(doc)
    _opens_or_says_why(tmp_path, _join(header, body))


@settings(FUZZ, max_examples=40)  # most of these take the slower path of someone else's safetensors file
@given(raw=st.text(max_size=40) | st.just("NaN") | st.just('{"format_version": 1e999}'))
def test_metadata_that_is_not_a_document(tmp_path, original, raw):
    header, body = _split(original)
    header["__metadata__"]["latent_explorer"] = raw
    _opens_or_says_why(tmp_path, _join(header, body))


def test_a_huge_but_finite_weight_is_said_not_shown_black(tmp_path, original):
    """The issue's damaged copy: it loads (every weight finite), and its decode says why instead of a black image."""
    header, body = _split(original)
    start, _ = header["decoder.0.weight"]["data_offsets"]
    data = bytearray(body)
    data[start : start + 8] = struct.pack("<2f", 3e38, 3e38)
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(_join(header, bytes(data)))
    model = checkpoints.load(path, device="cpu")
    with pytest.raises(checkpoints.InferenceError, match="^the decoder produced NaN for this code; the weights may be"):
        model.decode(torch.ones(1, 2))
    with pytest.raises(checkpoints.InferenceError, match="the code holds NaN or Inf values"):
        model.decode(torch.tensor([float("nan"), 0.0]))
