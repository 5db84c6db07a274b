"""MNIST from IDX files the test writes: plain and gzipped, labels, padding, and every bad file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from trainer import datasets


def write_idx(path, array: np.ndarray, gz: bool = False) -> None:
    """The IDX layout: 0, 0, type 0x08 (ubyte), ndim, sizes as big-endian uint32, then the bytes."""
    raw = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def make_mnist(folder, n=5, gz=False, test=0, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    suffix = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images, gz)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labels, gz)
    if test:
        write_idx(folder / "t10k-images-idx3-ubyte", np.full((test, 28, 28), 7, np.uint8))
        write_idx(folder / "t10k-labels-idx1-ubyte", np.full(test, 9))
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_reads_plain_and_gzipped_idx_with_labels(tmp_path, gz):
    images, labels = make_mnist(tmp_path, gz=gz)
    mnist = datasets.get("mnist", data_dir=str(tmp_path), image_size=28)
    assert len(mnist) == 5 and mnist.image_shape == (1, 28, 28)
    x = mnist.images(np.arange(5))
    assert x.shape == (5, 1, 28, 28) and x.dtype == torch.float32
    assert torch.equal((x[:, 0] * 255).round().to(torch.uint8), torch.from_numpy(images))
    assert mnist.labels.tolist() == labels.tolist() and mnist.labels.dtype == np.int64


def test_32_pixels_pads_two_black_pixels_each_side_and_64_upsamples_that(tmp_path):
    images, _ = make_mnist(tmp_path)
    x = datasets.get("mnist", data_dir=str(tmp_path)).images([1])
    assert x.shape == (1, 1, 32, 32)
    assert torch.equal(x[0, 0, 2:30, 2:30], torch.from_numpy(images[1]).float() / 255)
    assert x[0, 0, :2].abs().sum() == 0 and x[0, 0, :, 30:].abs().sum() == 0
    big = datasets.get("mnist", data_dir=str(tmp_path), image_size=64).images([1])
    assert big.shape == (1, 1, 64, 64) and float(big.min()) >= 0 and float(big.max()) <= 1
    assert abs(float(big.mean()) - float(x.mean())) < 0.01  # the same picture, twice as big
    assert big[0, 0, :3].abs().sum() == 0 and big[0, 0, :, -3:].abs().sum() == 0  # the padding scales too


def test_t10k_files_when_present_follow_the_training_images(tmp_path):
    make_mnist(tmp_path, n=4, test=3)
    mnist = datasets.get("mnist", data_dir=str(tmp_path), image_size=28)
    assert len(mnist) == 7 and mnist.labels[4:].tolist() == [9, 9, 9]
    assert torch.all(mnist.images([6]) == 7 / 255)


def test_dotted_file_names_are_accepted(tmp_path):
    write_idx(tmp_path / "train-images.idx3-ubyte", np.zeros((2, 28, 28)))
    write_idx(tmp_path / "train-labels.idx1-ubyte", np.array([3, 4]))
    assert datasets.get("mnist", data_dir=str(tmp_path)).labels.tolist() == [3, 4]


def test_no_factor_table(tmp_path):
    make_mnist(tmp_path)
    mnist = datasets.get("mnist", data_dir=str(tmp_path))
    assert mnist.factor_names == () and not mnist.has_factors
    with pytest.raises(ValueError, match="the mnist data set has no factor table"):
        mnist.images_for_factors(np.zeros((1, 1), np.int64))


def _error(tmp_path, **options) -> str:
    with pytest.raises(ValueError) as caught:
        datasets.get("mnist", **{"data_dir": str(tmp_path), **options})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_folder_and_missing_files_are_named(tmp_path):
    with pytest.raises(ValueError, match="the mnist data set needs --data-dir: a folder with MNIST's IDX files"):
        datasets.get("mnist")
    assert "does not exist" in _error(tmp_path, data_dir=str(tmp_path / "nowhere"))
    assert (
        _error(tmp_path) == f"{tmp_path} has no train-images-idx3-ubyte (or train-images-idx3-ubyte.gz); "
        "put MNIST's IDX files there"
    )
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), gz=True)
    assert "has no train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz)" in _error(tmp_path)


def test_corrupt_header_truncated_data_and_bad_gzip_are_explained(tmp_path):
    make_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    raw = images.read_bytes()
    images.write_bytes(b"\x89PNG" + raw[4:])
    assert "is not an IDX file of 3-dimensional unsigned bytes (it starts with 89504e47" in _error(tmp_path)
    images.write_bytes(raw[:-100])
    assert "is damaged: its header says 5x28x28 (3,920 bytes) but it holds 3,820 bytes" in _error(tmp_path)
    images.write_bytes(raw[:10])
    assert "cut off inside its IDX header" in _error(tmp_path)
    images.unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    assert "train-images-idx3-ubyte.gz could not be read" in _error(tmp_path)


def test_images_and_labels_must_pair_up_and_be_28x28(tmp_path):
    make_mnist(tmp_path, n=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4))
    assert "holds 5 images but train-labels-idx1-ubyte 4 labels" in _error(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 32, 32)))
    assert "holds 32x32 images; mnist expects 28x28" in _error(tmp_path)
    assert "not 48" in _error(tmp_path, image_size=48)
