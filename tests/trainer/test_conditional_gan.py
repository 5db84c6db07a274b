"""Conditional GAN (`latent-train gan --conditional`): the class is a categorical group beside the noise."""

from __future__ import annotations

import numpy as np
import torch

import checkpoints
from checkpoints.layout import with_class
from trainer import datasets
from trainer.cli import main
from trainer.codes import class_table
from trainer.config import TrainConfig
from trainer.loop import train


def test_a_conditional_gan_saves_the_class_as_a_named_categorical_group(tmp_path):
    out = tmp_path / "c.safetensors"
    assert main(["gan", "--conditional", *"--dataset digits --image-size 16 --width 8 --latent-dim 5".split(),
                 "--steps", "3", "--batch-size", "8", "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    model = checkpoints.load(out, device="cpu")
    assert model.kind == "gan" and not model.has_encoder and model.latent_dim == 15
    noise, digit = model.layout
    assert (noise.kind, noise.size) == ("noise", 5)
    assert (digit.kind, digit.name, digit.labels) == ("categorical", "digit", tuple("0123456789"))
    assert model.decode(torch.zeros(2, 15)).shape == (2, 1, 16, 16)


def test_the_generator_takes_the_class_and_the_discriminator_judges_it(tmp_path):
    """The same noise with another class gives another image; D's logit of one image moves with the class it is
    shown with (projection). Whether the generated digits follow their class is checked on the zoo's digits-cgan,
    which needs more training than a test can afford (tests/trainer/test_zoo.py)."""
    config = TrainConfig(
        kind="gan", dataset="digits", image_size=8, width=16, latent_dim=8, conditional=True, batch_size=32,
        steps=20, seed=2, device="cpu", out=str(tmp_path / "c.safetensors"),
    )  # fmt: skip
    model = train(config, progress=False)
    z = np.random.default_rng(0).standard_normal((20, 18)).astype(np.float32)
    codes = np.stack([with_class(model.layout, row, 1, c % 10) for c, row in enumerate(z)])
    other_class = np.stack([with_class(model.layout, row, 1, (c + 5) % 10) for c, row in enumerate(z)])
    other_noise = np.concatenate([codes[10:, :8], codes[:10, 8:]], 1)
    image = model.decode(codes[:10])
    by_class = float((model.decode(other_class[:10]) - image).abs().mean())
    by_noise = float((model.decode(other_noise) - image).abs().mean())  # the same classes, other noise
    assert by_class > 0.3 * by_noise > 0  # the class moves the image about as much as the noise does
    state = checkpoints.load_training_state(config.out, checkpoints.load(config.out, device="cpu"))
    assert "embed.weight" in state["discriminator"]  # the projection's class embedding trained with D


def test_dsprites_classes_are_its_shapes():
    data = datasets.get("dsprites", image_size=32)
    classes, names, title = class_table(data)
    assert (names, title) == (("square", "ellipse", "heart"), "shape")
    picked = np.array([0, 300_000, len(data) - 1])
    assert np.array_equal(classes[picked], data.factors_of(picked)[:, 0])


def test_conditional_needs_a_data_set_with_classes(tmp_path, capsys):
    code = main(["gan", "--conditional", "--dataset", "faces", "--image-size", "32", "--out", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert code == 2 and "--conditional needs a data set with classes, digits, mnist" in err and "faces" in err
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []
