"""Training objectives. Reconstruction terms are summed over pixels and averaged over the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor, recon: str, sigma: float = 1.0) -> torch.Tensor:
    """Negative log-likelihood per image (constants dropped).

    bernoulli: binary cross-entropy of the decoder logits against x (grey levels are fine).
    gaussian: squared error of sigmoid(logits) scaled by 1 / (2 sigma^2).
    """
    n = x.shape[0]
    if recon == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    if recon == "gaussian":
        return F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / (2 * sigma**2 * n)
    raise ValueError(f"unknown reconstruction loss {recon!r}")


def kl_terms(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(mu, exp(logvar)) || N(0, 1)) per sample and latent dimension: (N, d), in nats."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """`kl_terms` averaged over the batch: (d,)."""
    return kl_terms(mu, logvar).mean(0)


def capacity(step: int, capacity_max: float, capacity_steps: int) -> float:
    """Burgess et al. 2018: the KL target C grows linearly from 0 to capacity_max over capacity_steps."""
    if capacity_steps <= 0:
        return capacity_max
    return capacity_max * min(step / capacity_steps, 1.0)


def warmed_up(beta: float, step: int, warmup: int) -> float:
    """KL warm-up: the weight on KL grows linearly from 0 at step 0 to `beta` at step `warmup`."""
    return beta if warmup <= 0 else beta * min(step / warmup, 1.0)


def vae_objective(
    recon: torch.Tensor, kl: torch.Tensor, beta: float, gamma: float, target: float | None
) -> torch.Tensor:
    """recon + beta * KL, or with capacity annealing recon + gamma * |KL - C|."""
    if target is None:
        return recon + beta * kl
    return recon + gamma * (kl - target).abs()


def gan_losses(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss: real images -> 1, generated -> 0 (Goodfellow et al. 2014, Algorithm 1)."""
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: maximise log D(G(z)) instead of minimising log(1 - D(G(z)))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def info_loss(
    q: torch.Tensor, classes: list[torch.Tensor], sizes: tuple[int, ...], continuous: torch.Tensor
) -> torch.Tensor:
    """InfoGAN's mutual-information term as a loss to minimise (Chen et al. 2016): -E[log Q(c | G(z, c))].

    q: Q's outputs (n, sum(sizes) + c), the logits of each categorical code then the means of the
    continuous ones; classes: each categorical code's drawn class (n,), with `sizes` its k; continuous: the
    drawn continuous codes (n, c). Cross-entropy per categorical code plus, per continuous code, the negative
    log-likelihood of a Gaussian of fixed unit variance, 0.5 (c - mu)^2 (its constant dropped); summed over
    the codes, averaged over the batch. The mutual information I(c; G(z, c)) is at least H(c) minus this.
    """
    loss = q.new_zeros(())
    start = 0
    for c, k in zip(classes, sizes):
        loss = loss + F.cross_entropy(q[:, start : start + k], c)
        start += k
    if continuous.shape[1]:
        loss = loss + 0.5 * (q[:, start:] - continuous).square().sum(1).mean()
    return loss
