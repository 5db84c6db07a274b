"""InfoGAN (`latent-train infogan`, `gan --codes`): the saved layout and Q encoder, the MI term, resume, metrics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import checkpoints
from trainer import datasets
from trainer.cli import main
from trainer.config import TrainConfig
from trainer.loop import train
from trainer.metrics import evaluate

TINY = dict(kind="gan", dataset="digits", image_size=8, width=16, batch_size=32, seed=4)
INFO = 4  # column of the MI term in a GAN's loss-history rows (step, loss, d, g, info)


def _info_rows(model: checkpoints.Model) -> np.ndarray:
    return np.array([row[INFO] for row in model.meta.loss_history])


def test_an_infogan_saves_its_layout_and_reads_its_codes_back(tmp_path):
    out = tmp_path / "ig.safetensors"
    assert main(["infogan", *"--dataset digits --image-size 16 --width 8 --latent-dim 6".split(),
                 "--steps", "3", "--batch-size", "8", "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    model = checkpoints.load(out, device="cpu")
    assert model.kind == "gan" and model.has_encoder  # Q is the encoder
    assert [(g.kind, g.size) for g in model.layout] == [("noise", 6), ("categorical", 10), ("uniform", 2)]
    assert model.latent_dim == 18 and model.meta.train_config["codes"] == "cat:10,cont:2"
    images = model.decode(torch.randn(5, 18, generator=torch.Generator().manual_seed(0)))
    assert images.shape == (5, 1, 16, 16)
    code, logvar = model.encode(images)
    assert logvar is None and code.shape == (5, 18)
    assert torch.equal(code[:, :6], torch.zeros(5, 6))  # the noise is not read back: its prior mean
    assert torch.equal(code[:, 6:16].sum(1), torch.ones(5)) and set(code[:, 6:16].unique().tolist()) <= {0.0, 1.0}


def test_the_mi_term_falls_when_it_is_trained_and_stays_at_log_k_when_not(tmp_path):
    """With lambda = 1, G and Q learn to pass the 4-way code through the image: its cross-entropy falls from
    log 4 = 1.39 nats. With lambda = 0 nothing trains Q's head, so Q cannot tell the classes apart."""
    runs = {}
    for weight in (1.0, 0.0):
        config = TrainConfig(**TINY, codes="cat:4", latent_dim=4, info_weight=weight, steps=50, lr=1e-3)
        model = train(dataclasses.replace(config, out=str(tmp_path / f"w{weight}.safetensors")), progress=False)
        runs[weight] = _info_rows(model)
    trained, untrained = runs[1.0], runs[0.0]
    assert len(trained) == 50 and trained[0] > 0.8 * math.log(4)  # starts near chance
    assert trained[-10:].mean() < 0.25 * math.log(4)
    assert untrained[-10:].mean() > 0.9 * math.log(4)


def test_an_infogan_resumes_where_it_stopped(tmp_path):
    config = TrainConfig(**TINY, codes="cat:3,cont:1", latent_dim=3, steps=4, device="cpu")
    straight = train(dataclasses.replace(config, out=str(tmp_path / "a.safetensors")), progress=False)
    part = dataclasses.replace(config, steps=2, out=str(tmp_path / "b.safetensors"))
    train(part, progress=False)
    resumed = train(
        dataclasses.replace(config, out=str(tmp_path / "b.safetensors"), resume=str(tmp_path / "b.safetensors")),
        progress=False,
        explicit=frozenset({"steps", "resume"}),
    )
    a, b = straight.network.state_dict(), resumed.network.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # Q included
    assert resumed.meta.steps == 4


def test_the_metrics_read_an_infogans_code_from_q(tmp_path):
    config = TrainConfig(
        kind="gan", dataset="dsprites", image_size=32, width=4, batch_size=8, steps=2, codes="cat:3,cont:2",
        latent_dim=2, out=str(tmp_path / "d.safetensors"), device="cpu",
    )  # fmt: skip
    model = train(config, progress=False)
    metrics = evaluate(model, datasets.get("dsprites", image_size=32), n=200)
    for key in ("mig", "factorvae", "dci_disentanglement", "sap"):
        assert 0 <= metrics[key] <= 1, key
    assert metrics["kl_per_dim"] is None  # no posterior variance: Q gives a point code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gan", "--codes", "cat:1"], "--codes 'cat:1': a categorical code needs 2 to 1000 classes, not cat:1"),
        (["infogan", "--codes", "foo"], "--codes 'foo': 'foo' is not a code; write cat:K (K classes) and cont:N"),
        (["infogan", "--codes", "cat:10,cont:x"], "'cont:x' is not a code"),
        (["infogan", "--codes", "cont:0"], "cont:0 must be 1 to 100 continuous codes"),
        (["infogan", "--info-weight", "nan"], "--info-weight must be a finite number, zero or more, got nan"),
        (["infogan", "--info-weight", "-1"], "--info-weight must be a finite number, zero or more, got -1.0"),
        (["infogan", "--conditional"], "--codes (InfoGAN) and --conditional (a class-conditional GAN) are two models"),
        (["vae", "--codes", "cat:3"], "--codes is for gan (latent-train gan or infogan), not vae"),
        (["vae", "--width", "32"], "--width is for the dcgan architecture, not conv"),
        (["gan", "--width", "0"], "--width must be 1 to 1024 channels, got 0"),
    ],
)
def test_bad_code_flags_are_one_sentence_and_exit_2(tmp_path, capsys, args, message):
    code = main([*args, "--dataset", "digits", "--image-size", "8", "--out", str(tmp_path / "a.safetensors")])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
