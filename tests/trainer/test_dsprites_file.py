"""The official dSprites .npz: a synthetic file checks the loader and the index formula; the real file,
when it is on this machine, is compared with our procedural renderer (IoU targets: shared/DSPRITES.md)."""

from __future__ import annotations

import itertools
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer import datasets
from trainer.datasets.dsprites import render

OFFICIAL_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
SIZES = (1, 3, 6, 40, 32, 32)  # colour, shape, scale, orientation, posX, posY


def official_file() -> Path | None:
    """$DSPRITES_NPZ, else the usual places a user keeps the file; None when it is nowhere."""
    candidates = [
        os.environ.get("DSPRITES_NPZ", ""),
        Path.home() / ".cache" / "latent-explorer" / OFFICIAL_NAME,
        Path.home() / "data" / OFFICIAL_NAME,
        Path("/work/shared/data") / OFFICIAL_NAME,
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def published_rows(start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of latents_classes as the published file orders them: itertools.product, posY fastest."""
    return np.array(list(itertools.islice(itertools.product(*map(range, SIZES)), start, stop)), dtype=np.int64)


def write_npz(path, classes: np.ndarray, **extra) -> np.ndarray:
    """A file laid out like the official one; the images are our renders of `classes` (uint8 0/1)."""
    imgs = render(torch.from_numpy(classes[:, 1:])).to(torch.uint8).numpy()
    metadata = np.array({"description": "a pickled dict, as in the real file"}, dtype=object)
    arrays = {
        "imgs": imgs,
        "latents_classes": classes,
        "latents_values": classes.astype(np.float64),
        "metadata": metadata,
        **extra,
    }
    np.savez_compressed(path, **{k: v for k, v in arrays.items() if v is not None})
    return imgs


@pytest.fixture
def subset(tmp_path):
    """70 rows from the middle of the published order (a heart at scale 0 crossing a posX boundary)."""
    classes = published_rows(2 * 245760 + 1000, 2 * 245760 + 1070)
    path = tmp_path / "part.npz"
    return path, classes, write_npz(path, classes)


def test_the_index_formula_matches_the_published_order(subset):
    _, classes, _ = subset
    strides = np.array([737280, 245760, 40960, 1024, 32, 1])
    assert (classes @ strides).tolist() == list(range(2 * 245760 + 1000, 2 * 245760 + 1070))
    procedural = datasets.get("dsprites")
    assert np.array_equal(procedural.factors_of(classes @ strides), classes[:, 1:])
    assert np.array_equal(procedural.index_of(classes[:, 1:]), classes @ strides)


def test_loader_reads_rows_factors_and_images_skipping_metadata(subset):
    path, classes, imgs = subset
    data = datasets.get("dsprites", data_file=str(path))
    assert len(data) == 70 and not data.is_complete and data.factor_names[0] == "shape"
    assert np.array_equal(data.factors_of(np.arange(70)), classes[:, 1:])
    x = data.images(np.arange(70))
    assert x.shape == (70, 1, 64, 64) and x.dtype == torch.float32
    assert torch.equal(x[:, 0].to(torch.uint8), torch.from_numpy(imgs))


def test_images_for_factors_finds_rows_through_the_index_formula(subset):
    path, classes, imgs = subset
    data = datasets.get("dsprites", data_file=str(path))
    order = np.random.default_rng(0).permutation(70)
    assert np.array_equal(data.rows_of(classes[order, 1:]), order)
    assert torch.equal(data.images_for_factors(classes[order, 1:])[:, 0].to(torch.uint8), torch.from_numpy(imgs[order]))
    sampled = data.sample_factors(50, np.random.default_rng(1))  # a partial file samples the rows it has
    assert sampled.shape == (50, 5) and data.images_for_factors(sampled).shape == (50, 1, 64, 64)
    with pytest.raises(ValueError, match=r"part.npz has no image for the factor classes \[0, 0, 0, 0, 0\]"):
        data.images_for_factors(np.zeros((1, 5), np.int64))


def test_32_pixels_averages_2x2_like_the_procedural_set(subset):
    path, classes, _ = subset
    small = datasets.get("dsprites", data_file=str(path), image_size=32)
    expected = datasets.get("dsprites", image_size=32).images_for_factors(classes[:4, 1:])
    assert torch.equal(small.images(np.arange(4)), expected)


def _error(path) -> str:
    with pytest.raises(ValueError) as caught:
        datasets.get("dsprites", data_file=str(path))
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_bad_files_are_one_clear_sentence(tmp_path):
    classes = published_rows(0, 4)
    assert "--data-file {} does not exist".format(tmp_path / "none.npz") in _error(tmp_path / "none.npz")
    assert "is a folder" in _error(tmp_path)
    write_npz(tmp_path / "no_imgs.npz", classes, imgs=None)
    assert _error(tmp_path / "no_imgs.npz").startswith("no_imgs.npz has no imgs array")
    np.savez(tmp_path / "pickled.npz", imgs=np.array([object()] * 4, dtype=object), latents_classes=classes)
    assert "pickled.npz: imgs is stored as pickled Python objects, which are never loaded" in _error(
        tmp_path / "pickled.npz"
    )
    write_npz(tmp_path / "pickled2.npz", classes, latents_classes=np.array([None] * 4, dtype=object))
    assert "latents_classes is stored as pickled Python objects" in _error(tmp_path / "pickled2.npz")
    (tmp_path / "noise.npz").write_bytes(os.urandom(256))
    assert _error(tmp_path / "noise.npz").startswith("noise.npz is not an .npz archive")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "no_imgs.npz").read_bytes()[:300])
    assert _error(tmp_path / "cut.npz").startswith("cut.npz is not a readable .npz archive (File is not a zip file)")
    np.save(tmp_path / "single.npy", np.zeros(3))
    assert "a single .npy array, not an .npz archive" in _error(tmp_path / "single.npy")
    write_npz(tmp_path / "flat.npz", classes, imgs=np.zeros((4, 32, 32), np.uint8))
    assert "imgs must be (N, 64, 64) integers" in _error(tmp_path / "flat.npz")
    write_npz(tmp_path / "grid.npz", classes + np.array([0, 3, 0, 0, 0, 0]))
    assert "latents_classes holds classes outside the published grid" in _error(tmp_path / "grid.npz")
    write_npz(tmp_path / "count.npz", classes, latents_classes=classes[:3])
    assert "count.npz has 4 images but 3 rows of latents_classes" in _error(tmp_path / "count.npz")


def test_a_damaged_archive_is_refused(tmp_path):
    write_npz(tmp_path / "whole.npz", published_rows(0, 8))
    with zipfile.ZipFile(tmp_path / "whole.npz") as archive:
        info = archive.getinfo("imgs.npy")
    raw = bytearray((tmp_path / "whole.npz").read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + 20 : start + 60] = bytes(40)  # overwrite deflated image data
    (tmp_path / "damaged.npz").write_bytes(bytes(raw))
    assert "damaged.npz" in _error(tmp_path / "damaged.npz")


def test_the_other_data_sets_refuse_a_data_file(tmp_path):
    with pytest.raises(ValueError, match="the faces data set does not take --data-file"):
        datasets.get("faces", data_file=str(tmp_path / "x.npz"))


@pytest.mark.skipif(official_file() is None, reason=f"{OFFICIAL_NAME} is not on this machine (set $DSPRITES_NPZ)")
def test_procedural_renderer_matches_the_official_images():
    official = datasets.get("dsprites", data_file=str(official_file()))
    assert len(official) == 737_280 and official.is_complete  # rows follow the index formula
    rows = np.random.default_rng(0).choice(len(official), 3000, replace=False)
    classes = official.factors_of(rows)
    ours = datasets.get("dsprites").images_for_factors(classes)[:, 0] > 0.5
    theirs = official.images(rows)[:, 0] > 0.5
    iou = (ours & theirs).sum(dim=(1, 2)).double() / (ours | theirs).sum(dim=(1, 2)).double()
    for shape, target in ((0, 0.99), (1, 0.99), (2, 0.98)):  # square, ellipse, heart (DSPRITES.md: ≈ 0.99)
        assert float(iou[torch.from_numpy(classes[:, 0] == shape)].mean()) >= target, shape
