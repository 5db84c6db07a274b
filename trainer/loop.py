"""Training loops for ae/vae and gan: seeds, progress, periodic atomic checkpoints, resume.

    model = train(TrainConfig(kind="vae", dataset="dsprites", steps=300, out="runs/a.safetensors"))
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import checkpoints
from checkpoints import Model, create_model, resolve_device
from checkpoints.architectures import DCGANDiscriminator

from . import datasets
from .config import RESUME_MAY_CHANGE, TrainConfig, check
from .losses import capacity, gan_losses, generator_loss, kl_per_dim, reconstruction_loss, vae_objective

HISTORY_ROWS = 100  # loss-history rows kept in the checkpoint (window means)
STATS_SAMPLES = 1024  # images encoded for per-dimension KL and code statistics at each save
ADAM_BETAS_GAN = (0.5, 0.999)  # DCGAN: beta1 = 0.5


class Interrupted(Exception):
    """Raised after Ctrl+C once the current state is saved; carries the step reached."""

    def __init__(self, step: int, path: Path) -> None:
        super().__init__(f"interrupted at step {step}; saved {path} — continue with --resume {path}")


def snapshot_path(out: Path, step: int) -> Path:
    """`runs/a.safetensors`, 1200 -> `runs/a-step0001200.safetensors`."""
    return out.with_name(f"{out.name.removesuffix('.safetensors')}-step{step:07d}.safetensors")


class Run:
    """Everything one training run holds; `step()` is the hot path, `save()` the checkpoint."""

    def __init__(self, config: TrainConfig, data: datasets.Dataset, model: Model, device: torch.device) -> None:
        self.config, self.data, self.model, self.device = config, data, model, device
        self.out = Path(config.out)
        self.step_count = 0
        self.history: list[list[float]] = []
        self._window: list[torch.Tensor] = []
        self.data_rng = torch.Generator().manual_seed(config.seed + 1)
        self.noise_rng = torch.Generator(device=device).manual_seed(config.seed + 2)
        # channels_last: +10-19 % per conv step on CPU (`make bench`, speedup_channels_last)
        conv = config.architecture in ("conv", "dcgan")
        self.memory_format = torch.channels_last if conv else torch.contiguous_format
        net = model.network.train().to(memory_format=self.memory_format)
        betas = ADAM_BETAS_GAN if config.kind == "gan" else (0.9, 0.999)
        self.optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate, betas=betas)
        self.discriminator = None
        if config.kind == "gan":
            self.discriminator = DCGANDiscriminator(net.config).to(device, memory_format=self.memory_format).train()
            self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.learning_rate,
                                                betas=ADAM_BETAS_GAN)

    # ---- one optimiser step ---------------------------------------------------------------------
    def step(self) -> torch.Tensor:
        """Train on one batch; returns the detached (loss, recon-or-d, kl-or-g) triple."""
        x = self.data.sample_batch(self.config.batch_size, self.data_rng)
        x = x.to(self.device, memory_format=self.memory_format, non_blocking=True)
        parts = self._gan_step(x) if self.discriminator is not None else self._autoencoder_step(x)
        self.step_count += 1
        return parts

    def _autoencoder_step(self, x: torch.Tensor) -> torch.Tensor:
        cfg, net = self.config, self.model.network
        mu, logvar = net.encode(x)
        if logvar is None:
            z, kl = mu, torch.zeros((), device=x.device)
        else:
            eps = torch.randn(mu.shape, generator=self.noise_rng, device=x.device)
            z = mu + eps * (0.5 * logvar).exp()
            kl = kl_per_dim(mu, logvar).sum()
        recon = reconstruction_loss(net.decoder(z), x, cfg.recon, cfg.sigma)
        target = None if cfg.capacity is None else capacity(self.step_count, cfg.capacity, cfg.capacity_steps)
        loss = recon if logvar is None else vae_objective(recon, kl, cfg.beta, cfg.gamma, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return torch.stack([loss.detach(), recon.detach(), kl.detach()])

    def _gan_step(self, x: torch.Tensor) -> torch.Tensor:
        generator, disc = self.model.network.decoder, self.discriminator
        z = torch.randn(x.shape[0], self.model.latent_dim, generator=self.noise_rng, device=x.device)
        fake = torch.tanh(generator(z))
        d_loss = gan_losses(disc(x * 2 - 1), disc(fake.detach()))
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        g_loss = generator_loss(disc(fake))
        self.optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.optimizer.step()
        return torch.stack([d_loss.detach() + g_loss.detach(), d_loss.detach(), g_loss.detach()])

    # ---- bookkeeping ----------------------------------------------------------------------------
    def record(self, parts: torch.Tensor) -> np.ndarray | None:
        """Keep the step's losses; every window, append a history row and return the window's means."""
        self._window.append(parts)
        window = max(1, self.config.steps // HISTORY_ROWS)
        if self.step_count % window and self.step_count != self.config.steps:
            return None
        means = torch.stack(self._window).mean(0).cpu().numpy()
        self._window.clear()
        self.history.append([float(self.step_count), *map(float, means)])
        return means

    def training_state(self) -> dict[str, Any]:
        state = {
            "step": self.step_count,
            "optimizer": self.optimizer.state_dict(),
            "data_rng": self.data_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
            "history": self.history,
        }
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["d_optimizer"] = self.d_optimizer.state_dict()
        return state

    def restore(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.data_rng.set_state(state["data_rng"])
        self.noise_rng.set_state(state["noise_rng"])
        self.history = [list(r) for r in state["history"]]
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.d_optimizer.load_state_dict(state["d_optimizer"])

    def save(self, snapshot: bool = False) -> None:
        """Write --out and its training state atomically, and a -stepNNNNNNN snapshot if asked."""
        self.model.with_meta(steps=self.step_count, loss_history=tuple(map(tuple, self.history)),
                             **latent_statistics(self.model, self.data))
        self.model.network.train()
        checkpoints.save(self.model, self.out, self.training_state())
        if snapshot:
            checkpoints.save(self.model, snapshot_path(self.out, self.step_count))


def latent_statistics(model: Model, data: datasets.Dataset, n: int = STATS_SAMPLES) -> dict[str, Any]:
    """Per-dimension KL (VAE) and the mean/std of encoder means over `n` fixed data samples."""
    if not model.has_encoder:
        return {}
    indices = torch.from_numpy(np.random.default_rng(0).choice(len(data), size=min(n, len(data)), replace=False))
    model.network.eval()
    mus, kls = [], []
    for chunk in indices.split(256):
        mu, logvar = model.encode(data.images(chunk))
        mus.append(mu)
        if logvar is not None:
            kls.append(kl_per_dim(mu, logvar) * len(chunk))
    mu = torch.cat(mus)
    stats = {"latent_mean": tuple(mu.mean(0).tolist()), "latent_std": tuple(mu.std(0).tolist())}
    if kls:
        stats["kl_per_dim"] = tuple((torch.stack(kls).sum(0) / len(mu)).tolist())
    return stats


def prepare(config: TrainConfig, explicit: frozenset[str] = frozenset()) -> Run:
    """Check the config, build the data set and model (or reload them to resume).

    `explicit`: the fields the user set on the command line; on resume, those that would change
    the model or its objective must agree with the checkpoint. Raises ValueError/CheckpointError.
    """
    if config.resume:
        config = merge_resumed(config, explicit)
    check(config)
    device = resolve_device(config.device)
    data = datasets.get(config.dataset, image_size=config.image_size, data_dir=config.data_dir,
                        data_file=config.data_file, channels=config.channels)
    check_writable(Path(config.out))
    if config.resume:
        model = checkpoints.load(config.resume, device=device)
        state = checkpoints.load_training_state(config.resume, model)
        run = Run(config, data, model, device)
        run.restore(state)
        return run
    torch.manual_seed(config.seed)
    model = create_model(config.architecture, config.kind, config.latent_dim, data.image_shape,
                         dataset=data.name, factor_names=data.factor_names,
                         beta=config.beta if config.kind == "vae" else None,
                         recon=None if config.kind == "gan" else config.recon,
                         train_config=config.recorded(), description=config.description,
                         app_version=_version())
    return Run(config, data, model.to(device), device)


def merge_resumed(config: TrainConfig, explicit: frozenset[str] = frozenset()) -> TrainConfig:
    """The recorded config of --resume's checkpoint, with the flags a resume may change taken from `config`."""
    recorded = _peek_train_config(config.resume)
    given = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    if recorded.get("kind", config.kind) != config.kind:
        raise ValueError(f"{Path(config.resume).name} is a {recorded['kind']} run; resume it with `latent-train "
                         f"{recorded['kind']} --resume ...`")
    for name in sorted(explicit - RESUME_MAY_CHANGE):
        if name in recorded and recorded[name] != given[name]:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{Path(config.resume).name} was trained with {flag} {recorded[name]}, not "
                             f"{given[name]}; drop {flag} to resume, or start a new run")
    merged = {**recorded, **{k: given[k] for k in RESUME_MAY_CHANGE}}
    merged["out"] = config.out or config.resume
    return TrainConfig(**{k: v for k, v in merged.items() if k in given})


def _peek_train_config(path: str) -> dict[str, Any]:
    model = checkpoints.load(path, device="cpu")
    recorded = dict(model.meta.train_config)
    if not recorded:
        raise checkpoints.TrainingStateError(
            f"cannot resume from {Path(path).name}: it records no training configuration (not written by latent-train)"
        )
    return recorded


def check_writable(out: Path) -> None:
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name such as {out / 'model.safetensors'}")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out {out}: the folder {folder} does not exist; create it first")
    if not _can_write(folder) or (out.exists() and not _can_write(out)):
        raise ValueError(f"--out {out} is not writable; choose another path")


def _can_write(path: Path) -> bool:
    """Try it: os.access says yes to root even where writes fail (read-only mounts, /proc)."""
    if path.is_file():
        return os.access(path, os.W_OK)
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def train(config: TrainConfig, progress: bool = True, explicit: frozenset[str] = frozenset()) -> Model:
    """Run (or continue) training to `config.steps`; returns the trained model, saved at --out."""
    run = prepare(config, explicit)
    cfg = run.config
    bar = progress_bar(run, enabled=progress)
    try:
        while run.step_count < cfg.steps:
            iterate(run, bar)
    except KeyboardInterrupt:
        bar.close()
        run.save()
        raise Interrupted(run.step_count, run.out) from None
    bar.close()
    run.model.network.eval()
    return run.model


def progress_bar(run: Run, enabled: bool = True) -> tqdm:
    cfg = run.config
    return tqdm(total=cfg.steps, initial=run.step_count, disable=not enabled, file=sys.stderr,
                desc=f"{cfg.kind} {cfg.dataset}", unit="step", dynamic_ncols=True, mininterval=0.5)


def iterate(run: Run, bar: tqdm) -> None:
    """One turn of the training loop: a step, the loss record, the progress bar, any due save."""
    cfg = run.config
    means = run.record(run.step())
    if means is not None:
        labels = ("loss", "d", "g") if cfg.kind == "gan" else ("loss", "recon", "kl")
        bar.set_postfix({k: f"{v:.4g}" for k, v in zip(labels, means)}, refresh=False)
    bar.update(1)
    snapshot = cfg.every is not None and run.step_count % cfg.every == 0
    if snapshot or run.step_count % cfg.checkpoint_every == 0 or run.step_count == cfg.steps:
        run.save(snapshot=snapshot)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("latent-explorer")
    except PackageNotFoundError:
        return "unknown"


