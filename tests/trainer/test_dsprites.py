"""Procedural dSprites against the published geometry (shared/DSPRITES.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer import datasets
from trainer.datasets.dsprites import mean_area


@pytest.fixture(scope="module")
def dsprites():
    return datasets.get("dsprites")


def _draw(ds, shape=0, scale=5, orientation=0, x=15, y=15):
    return ds.images_for_factors(np.array([[shape, scale, orientation, x, y]]))[0, 0]


def test_factor_table(dsprites):
    assert len(dsprites) == 737_280
    assert dsprites.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert dsprites.factor_sizes == (3, 6, 40, 32, 32)
    assert np.allclose(dsprites.factor_values[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert dsprites.factor_values[2][-1] == pytest.approx(2 * np.pi)


def test_index_formula_is_row_major_with_posy_fastest(dsprites):
    classes = np.array([[0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0], [2, 5, 39, 31, 31]])
    # i = classes . [737280, 245760, 40960, 1024, 32, 1] with the constant colour index 0
    assert dsprites.index_of(classes).tolist() == [1, 32, 245760, 737279]
    indices = np.random.default_rng(0).integers(0, len(dsprites), 500)
    assert np.array_equal(dsprites.index_of(dsprites.factors_of(indices)), indices)
    assert torch.equal(dsprites.images(indices[:20]), dsprites.images_for_factors(dsprites.factors_of(indices[:20])))


@pytest.mark.parametrize(("shape", "area"), [(0, 368.6), (1, 289.5)])
def test_mean_area_over_all_positions_matches_the_spec(shape, area):
    assert mean_area(shape) == pytest.approx(area, abs=4)


def test_images_are_binary_sprites_on_black(dsprites):
    x = dsprites.images(np.arange(0, len(dsprites), 9973))
    assert x.shape == (74, 1, 64, 64) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert (x.sum(dim=(1, 2, 3)) > 20).all()


def test_rendering_is_deterministic(dsprites):
    idx = np.array([5, 123_456, 700_000])
    assert torch.equal(dsprites.images(idx), dsprites.images(idx))


def test_orientation_0_and_39_are_the_same_picture(dsprites):
    for shape in range(3):
        a, b = _draw(dsprites, shape, orientation=0), _draw(dsprites, shape, orientation=39)
        assert (a != b).sum() <= 2


def test_position_puts_posy_zero_at_the_top_and_posx_zero_at_the_left(dsprites):
    sprite = _draw(dsprites, x=0, y=0)
    rows, cols = sprite.nonzero().float().mean(0)
    assert rows == pytest.approx(16, abs=0.6) and cols == pytest.approx(16, abs=0.6)
    sprite = _draw(dsprites, x=31, y=31)
    rows, cols = sprite.nonzero().float().mean(0)
    assert rows == pytest.approx(48, abs=0.6) and cols == pytest.approx(48, abs=0.6)


def test_ellipse_major_axis_is_horizontal_and_turns_counter_clockwise(dsprites):
    flat = _draw(dsprites, shape=1, orientation=0)
    assert flat.any(0).sum() > 1.5 * flat.any(1).sum()  # wider than tall
    turned = _draw(dsprites, shape=1, orientation=5)  # 46 degrees counter-clockwise on screen
    pixels = turned.nonzero().float()
    rows, cols = pixels[:, 0] - pixels[:, 0].mean(), pixels[:, 1] - pixels[:, 1].mean()
    assert float((rows * cols).mean()) < -5  # right end up: column grows as row shrinks


def test_heart_has_lobes_on_top_and_point_at_the_bottom(dsprites):
    heart = _draw(dsprites, shape=2)
    rows = heart.nonzero()[:, 0]
    top, bottom = int(rows.min()), int(rows.max())
    assert heart[top + 2].sum() > 3 * heart[bottom - 1].sum()


def test_scale_grows_the_area(dsprites):
    areas = [float(_draw(dsprites, scale=s).sum()) for s in range(6)]
    assert areas == sorted(areas) and areas[-1] == pytest.approx(4 * areas[0], rel=0.15)


def test_32_pixel_images_average_2x2_blocks(dsprites):
    small = datasets.get("dsprites", image_size=32).images([1234])
    assert small.shape == (1, 1, 32, 32)
    assert torch.allclose(small, torch.nn.functional.avg_pool2d(dsprites.images([1234]), 2))


def test_sample_factors_covers_each_grid_independently(dsprites):
    classes = dsprites.sample_factors(20_000, np.random.default_rng(1))
    assert classes.dtype == np.int64 and classes.shape == (20_000, 5)
    assert (classes.min(0) == 0).all() and (classes.max(0) == np.array(dsprites.factor_sizes) - 1).all()
    assert abs(np.corrcoef(classes.T)[3, 4]) < 0.03


def test_bad_factor_classes_are_refused(dsprites):
    with pytest.raises(ValueError, match="out of range"):
        dsprites.images_for_factors(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(IndexError, match="out of range"):
        dsprites.images([len(dsprites)])
