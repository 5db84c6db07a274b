"""A damaged or incomplete `.metrics.json` entry is measured again with a one-line note, never a KeyError."""

from __future__ import annotations

import json

import checkpoints
from trainer.cli import main
from trainer.evaluation import sidecar_path


def test_an_entry_without_mig_is_measured_again(tmp_path, capsys):
    path = tmp_path / "sprites.safetensors"
    checkpoints.save(checkpoints.create_model("mlp", "vae", 3, (1, 32, 32), seed=0, dataset="dsprites"), path)
    assert main(["eval", str(path), "--n", "200", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    cache = json.loads(sidecar_path(path).read_text())
    (key,) = cache["entries"]
    del cache["entries"][key]["mig"]  # the damaged entry
    sidecar_path(path).write_text(json.dumps(cache))
    assert main(["eval", str(path), "--n", "200", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == first
    assert "sprites.metrics.json holds an incomplete entry; measuring again" in err and "Traceback" not in err
    assert json.loads(sidecar_path(path).read_text())["entries"][key]["mig"] == first["mig"]  # healed on disk
