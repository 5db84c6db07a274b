"""The latent layout (checkpoints/layout.py): stored in meta, checked at load and save, each group's prior."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.torch

import checkpoints
from checkpoints.layout import Group, from_normal, neutral, project, sample, start

INFOGAN = (
    Group("noise", 4),
    Group("categorical", 3, "digit", ("zero", "one", "two")),
    Group("uniform", 2, "width"),
)
ZOO = Path(__file__).resolve().parents[2] / "checkpoints" / "zoo"


def _structured(path: Path) -> Path:
    model = checkpoints.create_model("mlp", "vae", 9, (1, 8, 8), seed=0).with_meta(layout=INFOGAN)
    checkpoints.save(model, path)
    return path


def _with_layout(source: Path, target: Path, layout: object) -> Path:
    """A copy of `source` whose stored meta.layout is `layout` (any JSON), as a hand-edited file would have."""
    with safetensors.safe_open(source, "pt") as f:
        doc = json.loads(f.metadata()["latent_explorer"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    doc["meta"]["layout"] = layout
    safetensors.torch.save_file(tensors, target, metadata={"latent_explorer": json.dumps(doc)})
    return target


def test_a_layout_round_trips_through_save_and_load(tmp_path):
    model = checkpoints.load(_structured(tmp_path / "m.safetensors"), device="cpu")
    assert model.meta.layout == INFOGAN and model.layout == INFOGAN


def test_a_layout_survives_latent_explorer_convert(tmp_path):
    from explorer.cli import main

    src = _structured(tmp_path / "m.safetensors")
    assert main(["convert", str(src), "--out", str(tmp_path / "c.safetensors")]) == 0
    assert checkpoints.load(tmp_path / "c.safetensors", device="cpu").layout == INFOGAN


def test_old_files_open_as_one_normal_group():
    model = checkpoints.load(ZOO / "digits-vae-2d.safetensors", device="cpu")  # written before layouts existed
    assert model.meta.layout == () and model.layout == (Group("normal", 2),)


@pytest.mark.parametrize(
    ("layout", "sentence"),
    [
        (
            [{"kind": "noise", "size": 4}, {"kind": "uniform", "size": 2}],
            "bad.safetensors: its latent layout's group sizes add up to 4 + 2 = 6, not the latent size 9",
        ),
        (
            [{"kind": "normal", "size": 8}, {"kind": "categorical", "size": 1}],
            "bad.safetensors: its latent layout's group 2 is categorical with k=1; it needs k ≥ 2 classes",
        ),
        (
            [{"kind": "normal", "size": 6}, {"kind": "categorical", "size": 3, "labels": ["a", "b"]}],
            "bad.safetensors: its latent layout's group 2 has 2 labels; it needs 3 class names",
        ),
        (
            [{"kind": "normal", "size": 9, "labels": ["a"] * 9}],
            "bad.safetensors: its latent layout's group 1 has 9 labels; it needs no class names "
            "(only categorical groups have them)",
        ),
        ("normal", "bad.safetensors: meta 'layout' must be a list of groups"),
        ([["normal", 9]], "bad.safetensors: meta 'layout' group 1 is not a JSON object"),
        (
            [{"kind": "gaussian", "size": 9}],
            "bad.safetensors: meta 'layout' group 1 has kind 'gaussian'; it must be one of normal, uniform, "
            "categorical, noise",
        ),
        (
            [{"kind": "normal", "size": "9"}],
            "bad.safetensors: meta 'layout' group 1 has size '9'; it must be a whole number of at least 1",
        ),
    ],
)
def test_a_bad_layout_is_one_sentence_naming_the_file(tmp_path, layout, sentence):
    bad = _with_layout(_structured(tmp_path / "m.safetensors"), tmp_path / "bad.safetensors", layout)
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load(bad, device="cpu")
    assert str(error.value) == sentence


def test_saving_a_layout_that_does_not_add_up_writes_nothing(tmp_path):
    model = checkpoints.create_model("mlp", "vae", 9, (1, 8, 8), seed=0).with_meta(layout=INFOGAN[:2])
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.save(model, tmp_path / "m.safetensors")
    assert str(error.value) == (
        "cannot save m.safetensors: its latent layout's group sizes add up to 4 + 3 = 7, not the latent size 9; "
        "nothing was written"
    )
    assert not (tmp_path / "m.safetensors").exists()


def test_sample_draws_one_hot_classes_and_uniform_codes_in_range():
    codes = sample(INFOGAN, 3000, np.random.default_rng(0))
    assert codes.shape == (3000, 9) and codes.dtype == np.float32
    block = codes[:, 4:7]
    assert set(np.unique(block)) == {0.0, 1.0} and (block.sum(1) == 1).all()
    assert np.allclose(np.bincount(block.argmax(1)) / 3000, 1 / 3, atol=0.03)  # a uniform class
    width = codes[:, 7:]
    assert width.min() >= -1 and width.max() <= 1 and abs(width.std() - 1 / np.sqrt(3)) < 0.02  # U(-1, 1)
    assert abs(codes[:, :4].std() - 1) < 0.05  # noise stays N(0, 1)


def test_the_default_layout_keeps_the_seeded_normal_codes_unchanged():
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    assert np.array_equal(from_normal((Group("normal", 3),), x), x)


def test_neutral_and_project_give_valid_codes():
    assert neutral(INFOGAN).tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    z = project(INFOGAN, np.array([5, 0, 0, 0, 0.2, 0.7, 0.1, 3, -2], np.float32))
    assert z.tolist() == [5, 0, 0, 0, 0, 1, 0, 1, -1]


def test_an_encoder_model_starts_at_the_centre_and_a_generator_at_one_fixed_prior_draw():
    assert start(INFOGAN).tolist() == neutral(INFOGAN).tolist()
    z = start(INFOGAN, generator=True)
    assert z.tolist() == start(INFOGAN, generator=True).tolist()  # the same draw every time
    assert z[4:7].tolist() == [1, 0, 0] and z[7:].tolist() == [0, 0]  # class 0, uniform codes at 0
    assert np.all(z[:4] != 0)  # the noise is a draw, not the prior's centre
    wide = start((Group("normal", 512),), generator=True)
    assert abs(np.linalg.norm(wide) / np.sqrt(512) - 1) < 0.1  # where the prior's draws lie, far from zero
