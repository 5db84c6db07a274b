"""Data for any model: `load(..., dataset=, data_dir=, data_file=)` and `latent-train eval` on an imported model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import checkpoints
from trainer import cli, datasets

_SPEC = importlib.util.spec_from_file_location(
    "public_layouts", Path(__file__).resolve().parents[1] / "fixtures" / "public_layouts.py"
)
ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ref)


@pytest.fixture(scope="module")
def beta_vae_b(tmp_path_factory):
    """A 1Konny BetaVAE_B for 1x64x64 images (dSprites' shape), saved by their solver."""
    return ref.write_beta_vae(tmp_path_factory.mktemp("konny"), "B", z_dim=6, nc=1)


def test_a_data_set_makes_an_imported_model_encodable_by_the_explorer(beta_vae_b, tmp_path):
    model = checkpoints.load(beta_vae_b, device="cpu")
    assert model.meta.dataset is None
    assert datasets.unavailable_reason(model.meta.dataset, model.meta.train_config) is not None
    model = checkpoints.load(beta_vae_b, device="cpu", dataset="dsprites")
    assert datasets.unavailable_reason(model.meta.dataset, model.meta.train_config) is None
    data = datasets.for_model(model.meta.dataset, model.meta.train_config, model.image_shape)
    assert data.image_shape == model.image_shape
    mu, _ = model.encode(data.images([0, 1, 2]))  # reconstruction and scatter work from here
    assert mu.shape == (3, 6)
    # a folder-reading set records its folder, as training does
    (tmp_path / "imgs").mkdir()
    model = checkpoints.load(beta_vae_b, device="cpu", dataset="folder", data_dir=tmp_path / "imgs")
    assert model.meta.train_config["data_dir"] == str((tmp_path / "imgs").resolve())


def test_data_flags_are_checked_in_one_sentence(beta_vae_b, tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="name it with --dataset NAME"):
        checkpoints.load(beta_vae_b, device="cpu", data_dir=tmp_path)
    with pytest.raises(checkpoints.CheckpointError, match=r"--data-dir .*nowhere is not a folder"):
        checkpoints.load(beta_vae_b, device="cpu", dataset="mnist", data_dir=tmp_path / "nowhere")


def test_eval_measures_an_imported_model_on_a_given_data_set(beta_vae_b, capsys):
    code = cli.main(["eval", str(beta_vae_b), "--dataset", "dsprites", "--n", "300", "--json", "--device", "cpu"])
    out = capsys.readouterr()
    assert code == 0, out.err
    metrics = json.loads(out.out)
    assert metrics["dataset"] == "dsprites" and 0.0 <= metrics["mig"] <= 1.0
    assert len(metrics["kl_per_dim"]) == 6


def test_eval_takes_the_import_flags(tmp_path, capsys):
    code = cli.main(["eval", str(tmp_path / "x.pt"), "--model-class", "nofile.py", "--dataset", "dsprites"])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not exist" in err or "FILE.py:ClassName" in err
    code = cli.main(["eval", str(tmp_path / "x.pt"), "--output-range", "1"])
    assert code == 2 and "--output-range '1' must be LOW,HIGH" in capsys.readouterr().err


def test_eval_on_a_data_set_of_the_wrong_shape_is_one_sentence(beta_vae_b, capsys):
    code = cli.main(["eval", str(beta_vae_b), "--dataset", "faces", "--n", "100", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert "the model takes 1x64x64 images but the faces data set makes 3x64x64" in err


def test_output_range_flag_with_a_minus():
    import argparse

    from checkpoints.flags import add_import_flags, load_options

    parser = argparse.ArgumentParser()
    add_import_flags(parser)
    assert load_options(parser.parse_args(["--output-range=-1,1"])) == {"output_range": (-1.0, 1.0)}
    assert load_options(parser.parse_args(["--dataset", "mnist", "--data-dir", "d"])) == {
        "dataset": "mnist",
        "data_dir": "d",
    }
