"""The training configuration: one frozen dataclass; `trainer/cli.py` builds its flags from the fields."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any

KINDS = ("ae", "vae", "gan")
DEFAULT_LR = {"ae": 5e-4, "vae": 5e-4, "gan": 2e-4}  # Burgess et al. / disentangling-vae; DCGAN (Radford)
# A resume is the same run: it keeps every recorded setting. These may be given again to change how it goes
# on (the total, where it runs, how often it saves, how its steps run; the per-process batch, to keep the
# global batch when the number of torchrun processes changes); any other flag must match the checkpoint.
RESUME_MAY_CHANGE = frozenset(
    {"steps", "device", "every", "checkpoint_every", "workers", "batch_size", "precision", "compile"}
)
# Not settings of the run: which files it reads and writes, and whether it may replace them.
FILE_FLAGS = frozenset({"out", "resume", "overwrite"})
PRECISIONS = ("fp32", "bf16", "fp16")


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class TrainConfig:
    kind: str = _opt("vae", "model kind (the sub-command)", flag=False)
    # data
    dataset: str = _opt(
        "dsprites",
        "data set: dsprites, faces, digits, mnist (IDX files in --data-dir) or folder "
        "(PNG/JPEG images under --data-dir)",
    )
    data_dir: str | None = _opt(None, "folder the data set reads from (mnist, folder); recorded as an absolute path")
    data_file: str | None = _opt(
        None, "file the data set reads from (dsprites: the official .npz); recorded as an absolute path"
    )
    # model
    arch: str | None = _opt(
        None,
        "architecture: mlp, conv (Burgess et al. 2018) or dcgan; default conv, dcgan for gan",
        choices=("mlp", "conv", "dcgan"),
    )
    image_size: int | None = _opt(None, "image size in pixels, 32 or 64; default: the data set's own")
    channels: int | None = _opt(
        None, "colour channels of --dataset folder: 1 (grey) or 3 (RGB, the default)", choices=(1, 3)
    )
    latent_dim: int = _opt(
        10, "number of latent dimensions (gan with --codes or --conditional: of the noise, before the codes)"
    )
    # objective
    beta: float = _opt(1.0, "weight on the KL term (vae); beta > 1 is a beta-VAE")
    recon: str = _opt("bernoulli", "reconstruction likelihood", choices=("bernoulli", "gaussian"))
    sigma: float = _opt(1.0, "standard deviation of the gaussian likelihood")
    capacity: float | None = _opt(None, "capacity annealing (Burgess et al. 2018): final KL target in nats")
    capacity_steps: int = _opt(100_000, "steps over which the KL target grows from 0 to --capacity")
    gamma: float = _opt(1000.0, "weight on |KL - C| under capacity annealing")
    warmup: int = _opt(
        0,
        "KL warm-up (Bowman et al. 2016): steps over which the weight on KL grows linearly "
        "from 0 to --beta; 0: --beta from the first step",
    )
    # structured GAN codes (gan only; recorded only when set)
    codes: str | None = _opt(
        None,
        "InfoGAN (Chen et al. 2016): structured codes fed to the generator beside the --latent-dim noise and read "
        "back by a Q network, e.g. cat:10,cont:2 (a 10-way categorical code and 2 continuous ones in [-1, 1])",
    )
    width: int | None = _opt(None, "dcgan: channels of the generator's last layer and the discriminator's first (64)")
    info_weight: float = _opt(1.0, "InfoGAN: weight lambda on the mutual-information term (both code kinds)")
    conditional: bool = _opt(
        False,
        "conditional GAN (Mirza & Osindero 2014): the generator takes the image's class beside the noise "
        "(digits and mnist: the digit; dsprites: the shape)",
    )
    # optimisation
    steps: int = _opt(10_000, "total optimiser steps; a resumed run stops at the same total")
    batch_size: int = _opt(
        64,
        "images per step in each process (per rank): under torchrun with N processes in "
        "all, one step trains on N times this many",
    )
    lr: float | None = _opt(None, "Adam learning rate; default 5e-4, 2e-4 for gan (DCGAN)")
    seed: int = _opt(0, "random seed (weights, batches, noise)")
    device: str = _opt("auto", "auto (cuda, then mps, then cpu), cpu, cuda or mps")
    # execution (recorded only when not the default, so default runs write the same files as before)
    precision: str = _opt(
        "fp32",
        "fp32, or mixed precision: bf16 (CPU or GPU) or fp16 (CUDA, with loss scaling); "
        "a resume keeps the run's unless given",
        choices=PRECISIONS,
    )
    compile: bool = _opt(False, "compile the networks with torch.compile (slow first steps, faster later ones)")
    workers: int | None = _opt(
        None,
        "DataLoader worker processes preparing batches; default: none for procedural "
        "data on the CPU, else up to 4 per process",
    )
    # output
    out: str | None = _opt(None, "checkpoint to write (.safetensors); training state goes in <stem>.train.safetensors")
    overwrite: bool = _opt(False, "start over even when --out already holds a checkpoint (and its training state)")
    resume: str | None = _opt(None, "continue the run saved in this checkpoint, up to --steps in total")
    every: int | None = _opt(None, "also keep a snapshot <stem>-stepNNNNNNN.safetensors every K steps")
    checkpoint_every: int = _opt(1000, "rewrite --out (and its training state) every K steps")
    description: str = _opt("", "one line describing the model, shown in the explorer")

    def __post_init__(self) -> None:
        # Absolute, so the explorer can find the data again from another working directory.
        for name in ("data_dir", "data_file"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, os.path.abspath(os.path.expanduser(getattr(self, name))))

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.kind]

    @property
    def architecture(self) -> str:
        return self.arch or ("dcgan" if self.kind == "gan" else "conv")

    def recorded(self) -> dict[str, Any]:
        """What goes into the checkpoint's meta, so a resume continues the same run: everything except where
        the files are and the device (the resuming machine's own unless given); precision, compile, warmup
        and workers only when they are not the defaults, so default runs write the same files as before."""
        values = dataclasses.asdict(self)
        for key in (*FILE_FLAGS, "device"):
            values.pop(key)
        for key in ("precision", "compile", "warmup", "workers", "codes", "info_weight", "conditional", "width"):
            if values[key] == TrainConfig.__dataclass_fields__[key].default:
                values.pop(key)
        if values["channels"] is None:  # set only for folder runs; the others record what they always did
            values.pop("channels")
        return values


MAX_COUNT = 10**9  # steps and step intervals: a billion steps is years of training on any machine
MAX_SEED = 2**63 - 1  # seeds go to torch and numpy generators as signed 64-bit integers
MAX_WORKERS = 64  # DataLoader processes per training process; more only compete for the same cores
MAX_BATCH = 2**20  # images per step and process, before the memory check (trainer/budget.py) says more


def _check_numbers(config: TrainConfig) -> None:
    """Every float flag finite and in its range, every count bounded, the seed a 64-bit one."""
    floats = {"lr": config.lr, "beta": config.beta, "sigma": config.sigma, "capacity": config.capacity}
    floats["gamma"] = config.gamma
    for name, value in floats.items():
        if value is not None and not math.isfinite(value):
            raise ValueError(f"--{name} must be a finite number, got {value}")
    if config.gamma < 0:
        raise ValueError(f"--gamma must be zero or positive, got {config.gamma}")
    if config.capacity_steps < 1:
        raise ValueError(f"--capacity-steps must be positive, got {config.capacity_steps}")
    counts = {"steps": config.steps, "every": config.every, "checkpoint_every": config.checkpoint_every}
    counts.update(warmup=config.warmup, capacity_steps=config.capacity_steps)
    for name, count in counts.items():
        if count is not None and count > MAX_COUNT:
            raise ValueError(
                f"--{name.replace('_', '-')} {count} is too large (at most {MAX_COUNT:,} steps, years of training)"
            )
    if not 0 <= config.seed <= MAX_SEED:
        raise ValueError(f"--seed must be between 0 and 2^63-1 (a 64-bit generator seed), got {config.seed}")
    if config.workers is not None and config.workers > MAX_WORKERS:
        raise ValueError(
            f"--workers {config.workers} is too many (at most {MAX_WORKERS}; more processes only compete for the cores)"
        )
    if config.batch_size > MAX_BATCH:
        raise ValueError(f"--batch-size {config.batch_size} is too large (at most {MAX_BATCH:,} images per step)")


CODES_EXAMPLE = "cat:10,cont:2"


def parse_codes(text: str) -> tuple[tuple[int, ...], int]:
    """`--codes cat:10,cont:2` -> ((10,), 2): k of each categorical code, the number of continuous codes.

    Items are `cat:K` (one K-way categorical code, K >= 2) and `cont:N` (N continuous codes), separated by
    commas, in any order; the code lays them out categorical first. Raises ValueError with one sentence.
    """
    categorical, continuous = [], 0
    for item in text.split(","):
        kind, _, count = item.strip().partition(":")
        if kind not in ("cat", "cont") or not count.strip().isdigit():
            raise ValueError(
                f"--codes {text!r}: {item.strip() or 'an empty item'!r} is not a code; write cat:K (K classes) "
                f"and cont:N (N continuous codes) separated by commas, e.g. --codes {CODES_EXAMPLE}"
            )
        n = int(count)
        if kind == "cat" and not 2 <= n <= 1000:
            raise ValueError(f"--codes {text!r}: a categorical code needs 2 to 1000 classes, not cat:{n}")
        if kind == "cont" and not 1 <= n <= 100:
            raise ValueError(f"--codes {text!r}: cont:{n} must be 1 to 100 continuous codes")
        if kind == "cat":
            categorical.append(n)
        else:
            continuous += n
    return tuple(categorical), continuous


def _check_gan_codes(config: TrainConfig) -> None:
    if config.kind != "gan" and (config.codes is not None or config.conditional):
        flag = "--codes" if config.codes is not None else "--conditional"
        raise ValueError(f"{flag} is for gan (latent-train gan or infogan), not {config.kind}")
    if config.codes is not None and config.conditional:
        raise ValueError("--codes (InfoGAN) and --conditional (a class-conditional GAN) are two models; choose one")
    if config.codes is not None:
        parse_codes(config.codes)
    if config.width is not None and config.architecture != "dcgan":
        raise ValueError(f"--width is for the dcgan architecture, not {config.architecture}")
    if config.width is not None and not 1 <= config.width <= 1024:
        raise ValueError(f"--width must be 1 to 1024 channels, got {config.width}")
    if not (math.isfinite(config.info_weight) and config.info_weight >= 0):
        raise ValueError(f"--info-weight must be a finite number, zero or more, got {config.info_weight}")


def check(config: TrainConfig) -> None:
    """Raise ValueError with a one-line reason for values no run can use."""
    if config.kind not in KINDS:
        raise ValueError(f"unknown kind {config.kind!r}; choose one of {', '.join(KINDS)}")
    _check_gan_codes(config)
    if config.kind == "gan" and config.architecture != "dcgan":
        raise ValueError(f"gan trains the dcgan architecture, not {config.architecture}")
    if config.kind != "gan" and config.architecture == "dcgan":
        raise ValueError("the dcgan architecture is for gan; use --arch conv or mlp")
    positive = {
        "steps": config.steps,
        "batch_size": config.batch_size,
        "latent_dim": config.latent_dim,
        "checkpoint_every": config.checkpoint_every,
        "sigma": config.sigma,
    }
    if config.every is not None:
        positive["every"] = config.every
    if config.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {config.precision!r}; choose one of {', '.join(PRECISIONS)}")
    if config.workers is not None and config.workers < 0:
        raise ValueError(f"--workers must be zero or positive, got {config.workers}")
    if config.lr is not None:
        positive["lr"] = config.lr
    _check_numbers(config)
    for name, value in positive.items():
        if not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if config.beta < 0:
        raise ValueError(f"--beta must be zero or positive, got {config.beta}")
    if config.warmup < 0:
        raise ValueError(f"--warmup must be zero or positive, got {config.warmup}")
    if config.warmup and config.capacity is not None:
        raise ValueError("--warmup and --capacity are two schedules for the KL term; choose one")
    if config.capacity is not None and config.capacity < 0:
        raise ValueError(f"--capacity must be zero or positive, got {config.capacity}")
    if config.latent_dim > 4096:
        raise ValueError(f"--latent-dim {config.latent_dim} is too large (at most 4096)")
    if config.steps > 10**9:
        raise ValueError(f"--steps {config.steps} is too large")
    if config.out is None and config.resume is None:
        raise ValueError("--out is required: the checkpoint file to write")
