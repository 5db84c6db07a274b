"""Objectives on values that can be worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from trainer.losses import (
    capacity,
    gan_losses,
    generator_loss,
    kl_per_dim,
    reconstruction_loss,
    vae_objective,
    warmed_up,
)


def test_kl_is_zero_at_the_prior_and_matches_the_closed_form():
    assert torch.equal(kl_per_dim(torch.zeros(4, 3), torch.zeros(4, 3)), torch.zeros(3))
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]])
    # KL(N(1,1)||N(0,1)) = 0.5; KL(N(0,4)||N(0,1)) = 0.5 (4 - 1 - ln 4)
    assert kl_per_dim(mu, logvar).tolist() == pytest.approx([0.5, 0.5 * (3 - math.log(4))])


def test_bernoulli_reconstruction_is_summed_over_pixels_and_averaged_over_images():
    x = torch.tensor([[[[1.0, 0.0]]], [[[1.0, 1.0]]]])
    logits = torch.zeros_like(x)  # p = 0.5 everywhere: -log 0.5 per pixel, 2 pixels per image
    assert float(reconstruction_loss(logits, x, "bernoulli")) == pytest.approx(2 * math.log(2))


def test_gaussian_reconstruction_scales_with_sigma():
    x = torch.ones(1, 1, 2, 2)
    logits = torch.zeros_like(x)  # mean 0.5: squared error 0.25 per pixel, 4 pixels
    assert float(reconstruction_loss(logits, x, "gaussian", sigma=0.5)) == pytest.approx(1.0 / (2 * 0.25))


def test_beta_weights_the_kl_and_capacity_replaces_it():
    recon, kl = torch.tensor(10.0), torch.tensor(3.0)
    assert float(vae_objective(recon, kl, beta=4, gamma=1000, target=None)) == 22.0
    assert float(vae_objective(recon, kl, beta=4, gamma=100, target=2.5)) == 60.0
    assert [capacity(s, 25.0, 100) for s in (0, 50, 100, 1000)] == [0.0, 12.5, 25.0, 25.0]


def test_kl_warm_up_ramps_beta_from_zero_and_then_holds_it():
    assert [warmed_up(250.0, s, 100) for s in (0, 40, 100, 5000)] == [0.0, 100.0, 250.0, 250.0]
    assert warmed_up(4.0, 0, 0) == 4.0  # no warm-up: beta from the first step


def test_gan_losses_at_an_undecided_discriminator():
    zeros = torch.zeros(8)
    assert float(gan_losses(zeros, zeros)) == pytest.approx(2 * math.log(2))
    assert float(generator_loss(zeros)) == pytest.approx(math.log(2))
    assert float(generator_loss(torch.full((8,), 10.0))) < 1e-3  # fooled discriminator: nothing to learn
