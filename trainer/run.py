"""One training run's state and its hot path: `Run.step()` trains on one batch, `Run.save()` checkpoints.

With one process, fp32 and no compile, a step is exactly the plain loop (same random draws, same
operations in the same order), so runs are bit-identical to those of earlier versions. Under
torchrun the networks are wrapped in DistributedDataParallel and each rank trains on its own rows
of every global batch (distributed.py); rank 0 alone writes files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

import checkpoints
from checkpoints import Model
from checkpoints.architectures import DCGANDiscriminator, InfoGANCritic, Network, infogan_head

from . import codes, datasets
from .config import TrainConfig
from .distributed import World, mean_over_ranks, wrap
from .divergence import DivergenceWatch
from .losses import (
    capacity,
    gan_losses,
    generator_loss,
    info_loss,
    kl_per_dim,
    reconstruction_loss,
    vae_objective,
    warmed_up,
)
from .pipeline import BatchStream, default_workers
from .precision import Precision
from .statistics import latent_statistics

HISTORY_ROWS = 100  # loss-history rows kept in the checkpoint (window means)
ADAM_BETAS_GAN = (0.5, 0.999)  # DCGAN: beta1 = 0.5


def snapshot_path(out: Path, step: int) -> Path:
    """`runs/a.safetensors`, 1200 -> `runs/a-step0001200.safetensors`."""
    return out.with_name(f"{out.name.removesuffix('.safetensors')}-step{step:07d}.safetensors")


class AutoencoderPass(nn.Module):
    """The whole ae/vae forward pass as one module call, so DDP and torch.compile see all of it.

    x: (B, C, H, W); eps: (B, latent_dim) standard normal noise (None for an ae) ->
    (decoder logits (B, C, H, W), KL summed over dimensions and averaged over the batch, or None).
    """

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        mu, logvar = self.network.encode(x)
        if logvar is None:
            return self.network.decoder(mu), None
        z = mu + eps * (0.5 * logvar).exp()  # type: ignore[operator]  # eps is None only for an ae (no logvar)
        kl = kl_per_dim(mu.float(), logvar.float()).sum()  # .float() is a no-op in fp32
        return self.network.decoder(z), kl


class Run:
    """Everything one training run holds; `step()` is the hot path, `save()` the checkpoint."""

    def __init__(
        self, config: TrainConfig, data: datasets.Dataset, model: Model, device: torch.device, world: World = World()
    ) -> None:
        self.config, self.data, self.model, self.device, self.world = config, data, model, device, world
        assert config.out is not None  # check() requires --out, and a resume defaults it to --resume
        self.out = Path(config.out)
        self.step_count = 0
        self.watch = DivergenceWatch(device, world)  # a NaN or Inf loss stops the run (divergence.py)
        self.history: list[list[float]] = []
        self._window: list[torch.Tensor] = []
        self._clock = (time.perf_counter(), 0.0)  # start of the loss window, data wait so far
        self.noise_rng = torch.Generator(device=device).manual_seed(config.seed + 2)
        # channels_last: +10-19 % per conv step on CPU (`make bench`, speedup_channels_last)
        conv = config.architecture in ("conv", "dcgan")
        self.memory_format = torch.channels_last if conv else torch.contiguous_format
        self.workers = config.workers if config.workers is not None else default_workers(data, device, world)
        # a conditional GAN's classes of the data, an InfoGAN's codes: the groups of the generator's input
        self.labels = codes.class_table(data)[0] if config.kind == "gan" and config.conditional else None
        self.layout = codes.layout_for(config, data)
        self.batches = self._open_batches(None)
        self.precision = Precision(config.precision, device)
        net = model.network.train().to(memory_format=self.memory_format)  # type: ignore[call-overload]  # torch's stub of Module.to omits memory_format
        betas = ADAM_BETAS_GAN if config.kind == "gan" else (0.9, 0.999)
        # a GAN's optimizer holds the generator alone: an InfoGAN's encoder (Q) trains with the discriminator
        trained = net.decoder.parameters() if config.kind == "gan" else net.parameters()
        self.optimizer = torch.optim.Adam(trained, lr=config.learning_rate, betas=betas)
        self.discriminator: nn.Module | None = None
        self.is_infogan = config.kind == "gan" and net.encoder is not None
        if config.kind == "gan":
            critic: nn.Module
            if self.is_infogan:  # D's own last layer; its trunk is Q's, in the model file (dcgan.py)
                self.discriminator = infogan_head(net.config).to(device, memory_format=self.memory_format)  # type: ignore[call-overload]  # as above
                critic = InfoGANCritic(net.encoder, self.discriminator).train()
            else:
                classes = len(self.layout[1].labels) if self.labels is not None else 0
                critic = DCGANDiscriminator(net.config, classes).train()
                self.discriminator = critic.to(device, memory_format=self.memory_format)  # type: ignore[call-overload]  # as above
            self.d_optimizer = torch.optim.Adam(critic.parameters(), lr=config.learning_rate, betas=ADAM_BETAS_GAN)
            self.generator = self._engine(net.decoder)
            self.critic = self._engine(critic)
            # the generator's pass needs no averaged discriminator gradients (they are thrown away)
            self.critic_alone = self._engine(critic, distributed=False)
        else:
            self.autoencoder = self._engine(AutoencoderPass(net))

    def _engine(self, module: nn.Module, distributed: bool = True) -> nn.Module:
        """`module` as the step calls it: in DDP under torchrun, compiled with --compile."""
        if distributed:
            module = wrap(module, self.world, self.device)
        # torch.compile is typed to return a Callable; given a Module it returns an OptimizedModule (a Module)
        return cast(nn.Module, torch.compile(module)) if self.config.compile else module

    def _open_batches(self, state: dict[str, Any] | None) -> BatchStream:
        return BatchStream(
            self.data,
            self.config.batch_size,
            self.world,
            self.device,
            self.config.seed + 1,
            self.memory_format,
            self.workers,
            state,
            self.labels,
        )

    def _noise(self) -> torch.Tensor:
        """This rank's rows of a (N*B, latent_dim) standard normal draw (the same draw on every rank)."""
        rows = self.config.batch_size * self.world.size
        eps = torch.randn(rows, self.model.latent_dim, generator=self.noise_rng, device=self.device)
        return eps[self.world.rows(self.config.batch_size)]

    def _codes(self) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """This rank's rows of a global draw of structured codes (codes.sample_codes), the same on every rank."""
        rows = self.world.rows(self.config.batch_size)
        z, classes, continuous = codes.sample_codes(
            self.layout, self.config.batch_size * self.world.size, self.noise_rng, self.device
        )
        return z[rows], [c[rows] for c in classes], continuous[rows]

    # ---- one optimiser step ---------------------------------------------------------------------
    def step(self) -> torch.Tensor:
        """Train on one batch; returns the detached (loss, recon-or-d, kl-or-g) triple (InfoGAN: and the
        mutual-information term)."""
        x, y = self.batches.next_labelled()
        if self.is_infogan:
            parts = self._infogan_step(x)
        elif self.discriminator is not None:
            parts = self._gan_step(x, y)
        else:
            parts = self._autoencoder_step(x)
        self.precision.end_step()
        self.step_count += 1
        self.watch.see(parts, self.step_count)
        return parts

    def _autoencoder_step(self, x: torch.Tensor) -> torch.Tensor:
        cfg, is_vae = self.config, self.model.kind == "vae"
        eps = self._noise() if is_vae else None
        with self.precision.autocast():
            logits, kl = self.autoencoder(x, eps)
        if kl is None:
            kl = torch.zeros((), device=x.device)
        recon = reconstruction_loss(logits.float(), x, cfg.recon, cfg.sigma)
        target = None if cfg.capacity is None else capacity(self.step_count, cfg.capacity, cfg.capacity_steps)
        beta = warmed_up(cfg.beta, self.step_count, cfg.warmup)
        loss = vae_objective(recon, kl, beta, cfg.gamma, target) if is_vae else recon
        self.precision.descend(loss, self.optimizer)
        return torch.stack([loss.detach(), recon.detach(), kl.detach()])

    def _gan_step(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """A DCGAN step; a conditional one (y: the real images' classes) judges each image with its class."""
        real: tuple[torch.Tensor, ...] = ()
        made: tuple[torch.Tensor, ...] = ()
        if y is None:
            z = self._noise()
        else:  # the generated images' classes are drawn uniformly, as the layout's prior says
            z, classes, _ = self._codes()
            real, made = (y,), (classes[0],)
        with self.precision.autocast():
            fake = torch.tanh(self.generator(z))
            real_logits, fake_logits = self.critic(x * 2 - 1, *real), self.critic(fake.detach(), *made)
        d_loss = gan_losses(real_logits.float(), fake_logits.float())
        self.precision.descend(d_loss, self.d_optimizer)
        with self.precision.autocast():
            fake_logits = self.critic_alone(fake, *made)
        g_loss = generator_loss(fake_logits.float())
        self.precision.descend(g_loss, self.optimizer)
        return torch.stack([d_loss.detach() + g_loss.detach(), d_loss.detach(), g_loss.detach()])

    def _infogan_step(self, x: torch.Tensor) -> torch.Tensor:
        """InfoGAN (Chen et al. 2016): the GAN losses plus lambda times the MI term, in both D's step (which
        trains Q's head and the shared trunk) and G's; returns (loss, d, g, info) with d and g the GAN parts."""
        z, classes, continuous = self._codes()
        sizes, weight = self.model.network.config.q_categorical, self.config.info_weight
        with self.precision.autocast():
            fake = torch.tanh(self.generator(z))
            real_logits, _ = self.critic(x * 2 - 1)
            fake_logits, q = self.critic(fake.detach())
        d_gan = gan_losses(real_logits.float(), fake_logits.float())
        self.precision.descend(d_gan + weight * info_loss(q.float(), classes, sizes, continuous), self.d_optimizer)
        with self.precision.autocast():
            fake_logits, q = self.critic_alone(fake)
        g_gan, info = generator_loss(fake_logits.float()), info_loss(q.float(), classes, sizes, continuous)
        self.precision.descend(g_gan + weight * info, self.optimizer)
        d, g, i = d_gan.detach(), g_gan.detach(), info.detach()
        return torch.stack([d + g + weight * i, d, g, i])

    # ---- bookkeeping ----------------------------------------------------------------------------
    def record(self, parts: torch.Tensor) -> np.ndarray | None:
        """Keep the step's losses; every window, append a history row and return the window's means
        (averaged over all ranks; every rank must call this after every step)."""
        self._window.append(parts)
        window = max(1, self.config.steps // HISTORY_ROWS)
        if self.step_count % window and self.step_count != self.config.steps:
            return None
        means = mean_over_ranks(torch.stack(self._window).mean(0), self.world).cpu().numpy()
        self._window.clear()
        self.history.append([float(self.step_count), *map(float, means)])
        return means

    def data_wait_fraction(self) -> float:
        """Share of the wall time since the last call that the loop spent waiting for batches."""
        now, waited = time.perf_counter(), self.batches.wait_seconds
        start, waited_before = self._clock
        self._clock = (now, waited)
        return (waited - waited_before) / max(now - start, 1e-9)

    def training_state(self) -> dict[str, Any]:
        """Everything needed to continue; the same on every rank and valid for any number of ranks."""
        state = {
            "step": self.step_count,
            "optimizer": self.optimizer.state_dict(),
            **self.batches.state(),
            "noise_rng": self.noise_rng.get_state(),
            "history": self.history,
        }
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["d_optimizer"] = self.d_optimizer.state_dict()
        state.update(self.precision.state())
        if self.world.is_distributed:
            state["world_size"] = self.world.size  # for the record; a resume may use any number
        return state

    def restore(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step"])
        self.watch.saved_step = self.step_count
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches = self._open_batches(state)
        try:
            self.noise_rng.set_state(state["noise_rng"])
        except RuntimeError:  # saved on another kind of device: its generator state does not fit here
            self.noise_rng.manual_seed(self.config.seed + 2 + self.step_count)
            if self.world.is_main:
                print(
                    "latent-train: the noise generator restarts (the run was saved on another device type)",
                    file=sys.stderr,
                )
        self.history = [list(r) for r in state["history"]]
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.precision.restore(state)

    def save(self, snapshot: bool = False) -> None:
        """Write --out and its training state atomically, and a -stepNNNNNNN snapshot if asked (rank 0 only)."""
        if not self.world.is_main:
            return
        statistics = latent_statistics(self.model, self.data)
        self.watch.check_statistics(statistics, self.step_count, self.out)
        self.model.with_meta(steps=self.step_count, loss_history=tuple(map(tuple, self.history)), **statistics)
        self.model.network.train()
        checkpoints.save(self.model, self.out, self.training_state())
        self.watch.saved_step = self.step_count
        if snapshot:
            checkpoints.save(self.model, snapshot_path(self.out, self.step_count))
