"""`latent-train eval`: JSON with every metric, a sidecar cache beside the checkpoint, one-line errors."""

from __future__ import annotations

import json

import pytest

import checkpoints
import trainer.metrics
from trainer.cli import main
from trainer.evaluation import METRICS_VERSION, is_current, sidecar_path

KEYS = {
    "mig",
    "factorvae",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
    "sap",
    "kl_per_dim",
    "active_dims",
}


def _run(args):
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def dsprites_vae(tmp_path):
    model = checkpoints.create_model("mlp", "vae", 3, (1, 32, 32), seed=0, dataset="dsprites")
    path = tmp_path / "sprites.safetensors"
    checkpoints.save(model, path)
    return path


def test_eval_prints_every_metric_as_json_and_caches_it_beside_the_checkpoint(dsprites_vae, capsys, monkeypatch):
    before = dsprites_vae.read_bytes()
    assert _run(["eval", dsprites_vae, "--n", 200, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert KEYS <= set(first) and len(first["kl_per_dim"]) == 3 and first["n"] == 200
    assert sidecar_path(dsprites_vae) == dsprites_vae.with_name("sprites.metrics.json")
    assert sidecar_path(dsprites_vae).exists() and dsprites_vae.read_bytes() == before

    def fail(*args, **kwargs):
        raise AssertionError("the cached result should have been used")

    monkeypatch.setattr(trainer.metrics, "evaluate", fail)
    assert _run(["eval", dsprites_vae, "--n", 200, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert _run(["eval", dsprites_vae, "--n", 200]) == 0
    table = capsys.readouterr().out
    assert "cached" in table and "MIG" in table and "DCI disentanglement" in table and "posY" in table
    # every figure says how it was measured; 300 codes are too few to fill FactorVAE batches from them
    assert "(n=200 + 100 test, seed 0, fast, cached)" in table
    assert "(boosted trees on histograms (100 stages of depth 3), 200 training + 100 test samples, seed 0)" in table
    assert "(freshly encoded batches of 64, 10 training + 5 evaluation votes, seed 0)" in table
    assert "(20-bin histograms, 200 samples, seed 0)" in table
    assert first["estimators"]["sap"] == "linear SVMs (C=0.01), 200 training + 100 test samples, seed 0"


def test_figures_of_an_older_estimator_are_measured_again(dsprites_vae, capsys):
    assert _run(["eval", dsprites_vae, "--n", 200, "--json"]) == 0
    current = json.loads(capsys.readouterr().out)
    assert is_current(current)
    path = sidecar_path(dsprites_vae)
    entries = json.loads(path.read_text())["entries"]
    (key,) = entries
    old_key = key.replace(f"|v{METRICS_VERSION}", "|v2")  # what the random-forest DCI wrote
    path.write_text(json.dumps({"format_version": 1, "entries": {old_key: {**current, "mig": 0.5}}}))
    assert _run(["eval", dsprites_vae, "--n", 200, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mig"] == current["mig"]
    assert list(json.loads(path.read_text())["entries"]) == [key]  # the old estimator's entry is dropped
    assert not is_current({**current, "metrics_version": 2})


def test_another_seed_is_measured_and_kept_next_to_the_first(dsprites_vae, capsys):
    assert _run(["eval", dsprites_vae, "--n", 200, "--seed", 1, "--json"]) == 0
    assert _run(["eval", dsprites_vae, "--n", 200, "--seed", 2, "--json"]) == 0
    entries = json.loads(sidecar_path(dsprites_vae).read_text())["entries"]
    assert sorted(e.split("|")[3] for e in entries) == ["1", "2"]


def test_unreadable_sidecar_is_recomputed(dsprites_vae, capsys):
    sidecar_path(dsprites_vae).write_text("{not json")
    assert _run(["eval", dsprites_vae, "--n", 200, "--json"]) == 0
    assert KEYS <= set(json.loads(capsys.readouterr().out))
    assert len(json.loads(sidecar_path(dsprites_vae).read_text())["entries"]) == 1


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (None, [], "does not exist; check the path"),
        (("dcgan", "gan", (1, 32, 32), "dsprites"), [], "this GAN has no encoder"),
        (("mlp", "vae", (1, 8, 8), "digits"), [], "the digits data set has no known factors"),
        (("mlp", "vae", (1, 32, 32), None), [], "does not record its data set; pass --dataset NAME"),
        (
            ("mlp", "vae", (1, 32, 32), "dsprites"),
            ["--dataset", "faces"],
            "takes 1x32x32 images but the faces data set",
        ),
        (("mlp", "vae", (1, 32, 32), "dsprites"), ["--n", "5"], "n=5 is too few samples"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make, extra, message):
    path = tmp_path / "m.safetensors"
    if make is not None:
        arch, kind, shape, dataset = make
        checkpoints.save(checkpoints.create_model(arch, kind, 2, shape, seed=0, dataset=dataset), path)
    assert _run(["eval", path, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not sidecar_path(path).exists()
