"""Procedural faces: the factor table, determinism, and what each factor does to the pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trainer import datasets
from trainer.datasets.sheet import faces_sheet, traversal

SIZES = {
    "azimuth": 15,
    "elevation": 5,
    "smile": 11,
    "skin_tone": 6,
    "hair_colour": 5,
    "hair_length": 4,
    "background": 6,
    "lighting": 5,
}


@pytest.fixture(scope="module")
def faces():
    return datasets.get("faces")


@pytest.fixture(scope="module")
def bases(faces):
    """Twelve random faces to vary one factor at a time from."""
    return faces.sample_factors(12, np.random.default_rng(5))


def test_factor_table_names_grids_and_length(faces):
    assert faces.factor_names == tuple(SIZES) and faces.factor_sizes == tuple(SIZES.values())
    assert [len(v) for v in faces.factor_values] == list(SIZES.values())
    assert faces.factor_values[0][[0, 7, -1]].tolist() == [-60.0, 0.0, 60.0]  # azimuth in degrees
    assert faces.factor_values[2][[0, 5, -1]].tolist() == [-1.0, 0.0, 1.0]  # smile
    assert len(faces) == int(np.prod(list(SIZES.values()))) == 2_970_000
    assert faces.image_shape == (3, 64, 64) and faces.labels is None


def test_index_formula_is_row_major_with_lighting_fastest(faces):
    assert faces.factors_of(np.array([1, 5, len(faces) - 1])).tolist() == [
        [0, 0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1, 0],
        [s - 1 for s in SIZES.values()],
    ]
    indices = np.random.default_rng(0).integers(0, len(faces), 1000)
    assert np.array_equal(faces.index_of(faces.factors_of(indices)), indices)
    assert torch.equal(faces.images(indices[:6]), faces.images_for_factors(faces.factors_of(indices[:6])))


def test_shapes_and_dtypes_of_the_interface(faces):
    classes = faces.sample_factors(7, np.random.default_rng(0))
    assert classes.shape == (7, 8) and classes.dtype == np.int64
    x = faces.images_for_factors(classes)
    assert x.shape == (7, 3, 64, 64) and x.dtype == torch.float32
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert faces.factors_of(np.arange(3)).shape == (3, 8)
    with pytest.raises(ValueError, match=r"must be \(N, 8\)"):
        faces.images_for_factors(classes[:, :7])
    with pytest.raises(ValueError, match="out of range"):
        faces.images_for_factors(np.array([[15, 0, 0, 0, 0, 0, 0, 0]]))


def test_sampled_factors_are_uniform_and_independent(faces):
    classes = faces.sample_factors(40_000, np.random.default_rng(1))
    for k, size in enumerate(faces.factor_sizes):
        counts = np.bincount(classes[:, k], minlength=size)
        assert len(counts) == size and counts.min() > 0.85 * len(classes) / size
    correlation = np.corrcoef(classes.T.astype(np.float64))
    assert np.abs(correlation - np.eye(8)).max() < 0.03


def test_rendering_is_deterministic_and_independent_of_the_batch(faces):
    classes = faces.sample_factors(40, np.random.default_rng(2))
    batch = faces.images_for_factors(classes)
    assert torch.equal(batch, faces.images_for_factors(classes))
    alone = torch.cat([faces.images_for_factors(classes[i : i + 1]) for i in (0, 17, 39)])
    assert torch.allclose(alone, batch[[0, 17, 39]], atol=1e-6)


# Pixels changing by more than 0.1 between the first and last value of a factor, at the least.
# Smile moves only the mouth, but on every skin tone (the lips contrast with each): at least 9 pixels.
VISIBLE_PIXELS = {"smile": 8, "elevation": 50}


@pytest.mark.parametrize("factor", list(SIZES))
def test_each_factor_alone_visibly_changes_the_image(faces, bases, factor):
    for base in bases:
        images = faces.images_for_factors(traversal(faces, base, factor))
        changed = (images[0] - images[-1]).abs().amax(0) > 0.1
        assert int(changed.sum()) >= VISIBLE_PIXELS.get(factor, 100), (factor, base)
        # every step of the grid is a different picture
        assert float((images[1:] - images[:-1]).abs().amax(dim=(1, 2, 3)).min()) > 0.03, (factor, base)


def test_only_the_background_factor_changes_the_corners(faces):
    classes = faces.sample_factors(600, np.random.default_rng(3))
    x = faces.images_for_factors(classes)
    # The head fills the frame: only the top corners' 3x3 pixels are never hair, head or shoulders.
    corners = torch.cat([x[:, :, :3, :3], x[:, :, :3, -3:]], dim=3).flatten(1)
    for b in range(faces.factor_sizes[6]):
        same = corners[classes[:, 6] == b]
        assert len(same) > 50 and torch.equal(same, same[:1].expand_as(same))
    assert not torch.equal(corners[classes[:, 6] == 0][0], corners[classes[:, 6] == 1][0])


def test_smile_changes_only_the_mouth_region(faces, bases):
    for base in bases:
        images = faces.images_for_factors(traversal(faces, base, "smile"))
        moved = (images - images[:1]).abs().amax(dim=(0, 1)) > 0
        # below the eyes (row 27 frontal, ~17 tilted up), above the frame's edge
        rows = moved.any(1).nonzero().flatten()
        assert len(rows) and int(rows.min()) >= 24 and int(rows.max()) <= 62


def test_32_pixels_is_the_same_face_rendered_on_a_coarser_grid(faces):
    # 32 px is ray-cast at 32 px (3.6x faster than averaging a 64 px render), and its one-pixel soft
    # edges anti-alias it: it stays within a few grey levels of the 64 px face averaged 2x2.
    small = datasets.get("faces", image_size=32)
    classes = faces.sample_factors(16, np.random.default_rng(4))
    assert small.image_shape == (3, 32, 32)
    coarse, fine = small.images_for_factors(classes), F.avg_pool2d(faces.images_for_factors(classes), 2)
    assert coarse.shape == (16, 3, 32, 32)
    assert float((coarse - fine).abs().mean()) < 0.02
    assert not torch.allclose(coarse, fine, atol=1e-3)  # really rendered, not pooled


def test_contact_sheet_has_the_readme_layout():
    sheet = faces_sheet()
    # 8 rows of 64-pixel tiles (3 azimuth, 3 smile, 2 random) and 15 columns, 2-pixel gaps
    assert sheet.shape == (8 * 66 - 2, 15 * 66 - 2, 3) and sheet.dtype == np.uint8
    assert (sheet[64:66] == 255).all() and (sheet[:, 64:66] == 255).all()
    assert (sheet[3 * 66 : 4 * 66 - 2, 11 * 66 :] == 255).all()  # smile rows have 11 tiles


def test_tracing_nose_and_ears_in_their_band_of_rows_changes_no_pixel(faces, monkeypatch):
    from trainer.datasets import faces_render

    classes = faces.sample_factors(256, np.random.default_rng(5))
    classes[:64, 1], classes[64:128, 1] = 0, faces.factor_sizes[1] - 1  # the extreme elevations
    classes[:32, 0], classes[32:64, 0] = 0, faces.factor_sizes[0] - 1  # and azimuths
    banded = faces.images_for_factors(classes)
    monkeypatch.setattr(faces_render, "_small_parts_rows", lambda elevation, g: slice(None))
    assert torch.equal(banded, faces.images_for_factors(classes))


def test_rendering_runs_on_one_thread_and_gives_the_callers_thread_count_back():
    data = datasets.get("faces", image_size=32)
    classes = data.sample_factors(8, np.random.default_rng(0))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        seen = []
        original = torch.Tensor.clamp

        def spy(self, *args, **kwargs):
            seen.append(torch.get_num_threads())
            return original(self, *args, **kwargs)

        torch.Tensor.clamp = spy
        try:
            two = data.images_for_factors(classes)
        finally:
            torch.Tensor.clamp = original
        assert torch.get_num_threads() == 2
        assert seen and set(seen) == {1}  # every op of the renderer ran on one thread
        torch.set_num_threads(1)
        assert torch.equal(two, data.images_for_factors(classes))
    finally:
        torch.set_num_threads(before)
