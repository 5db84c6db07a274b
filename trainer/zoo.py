"""The bundled model zoo: fixed recipes, rebuilt reproducibly by `latent-train zoo [--only NAME]`.

Each model trains through the ordinary loop into `checkpoints/zoo/.build/` (with its training
state, so a build can stop and `--resume` in a later session), then is written as float16 to
`checkpoints/zoo/<name>.safetensors` with a one-line description and, where the data set has
factors, its disentanglement metrics and its dimension-factor correlations (used to link the
dimensions of two models side by side without encoding anything at start-up).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import checkpoints
from checkpoints.statistics import factor_correlations

from . import datasets
from .config import TrainConfig
from .loop import train

ZOO = Path(checkpoints.__file__).resolve().parent / "zoo"
CORRELATION_SAMPLES = 4000
RECON_SAMPLES = 2000


@dataclass(frozen=True)
class Recipe:
    kind: str
    dataset: str
    arch: str
    latent_dim: int
    steps: int
    description: str
    # The training settings default to latent-train's own, so a recipe names only what it changes.
    image_size: int | None = TrainConfig.image_size
    beta: float = TrainConfig.beta
    batch_size: int = TrainConfig.batch_size
    lr: float | None = TrainConfig.lr
    recon: str = TrainConfig.recon
    sigma: float = TrainConfig.sigma
    seed: int = 1  # latent-train's default is 0; the zoo was built with 1
    precision: str = TrainConfig.precision
    warmup: int = TrainConfig.warmup
    codes: str | None = TrainConfig.codes
    conditional: bool = TrainConfig.conditional
    width: int | None = TrainConfig.width


RECIPES: dict[str, Recipe] = {
    "digits-ae-2d": Recipe(
        "ae", "digits", "mlp", 2, 4000, "digits autoencoder, 2 latent dims (compare with 5)", batch_size=128, lr=1e-3
    ),
    "digits-ae-5d": Recipe(
        "ae", "digits", "mlp", 5, 4000, "digits autoencoder, 5 latent dims (compare with 2)", batch_size=128, lr=1e-3
    ),
    "digits-vae-2d": Recipe(
        "vae",
        "digits",
        "mlp",
        2,
        6000,
        "digits VAE, 2 latent dims: the whole manifold on a plane",
        batch_size=128,
        lr=1e-3,
    ),
    # bf16 autocast makes a 64-px step 1.6x faster on CPU, so 30k steps take 17 min on 2 cores.
    "dsprites-vae": Recipe(
        "vae",
        "dsprites",
        "conv",
        10,
        30000,
        "dSprites VAE (β=1), 10 dims: position, scale and shape mixed across rows",
        beta=1.0,
        precision="bf16",
    ),
    "dsprites-betavae": Recipe(
        "vae",
        "dsprites",
        "conv",
        10,
        30000,
        "dSprites β-VAE (β=4), 10 dims: y, x and scale on a row each, rotation mixed with x",
        beta=4.0,
        precision="bf16",
    ),
    # The faces pair shares one likelihood, Gaussian with sigma 0.035 summed over pixels, a KL warm-up over the
    # first half of training (30k of 60k steps), bf16 autocast and 10 latent dimensions, and differs in beta
    # alone. With a fixed sigma the loss is SSE/(2 sigma^2) + beta*KL, so the pressure on the code is
    # 2*sigma^2*beta: 0.61 for beta=250 here. At sigma 0.02 (0.2) the beta=250 model kept 22.6 nats on all ten
    # dimensions and put head turn and smile on one plane of two of them (azimuth as the angle, smile as the
    # radius): its smile dimension turned the head 42 deg. At sigma 0.035 it keeps 17.0 nats, one dimension
    # turns the head from profile to profile and keeps the mouth, another bends the smile alone (seeds 1 and 2
    # alike); at 0.03 the head turn still moved the smile (0.73 above the reader's floor at 41k steps), at
    # 0.04 (0.8) 0.32, at 0.05 0.55, and at 0.06 (1.8) the smile dimension closed (0.2 nats at 43k steps).
    # Bernoulli, like sigma ~0.45 on these grey levels, collapses every dimension at beta 250. The faces fill
    # the frame and the mouth is a cartoon's that grows with the smile (a thin frown, a closed line, an open
    # smile), so a smile changes 0.19 as much of the image as a head turn (summed squared difference; 0.12 with
    # the earlier mouth, whose frown was as thick as its smile). Capacity annealing (Burgess et al. 2018: gamma
    # 250, C rising to 25 or 35 nats over 40k steps, at sigma 0.02 on the earlier mouth) did no better than
    # plain beta. 32 px faces are ray-cast at 32 px, so 60k steps take ~24 min alone on 2 cores, or ~35-38 min
    # for two side by side with OMP_NUM_THREADS=1 each (two 2-thread processes on 2 cores ran 15x slower:
    # their OpenMP threads spin against each other).
    "faces-vae": Recipe(
        "vae",
        "faces",
        "conv",
        10,
        60000,
        "faces VAE (β=1), 10 dims: sharper faces; its head-turn dimension moves the smile too",
        image_size=32,
        lr=1e-3,
        recon="gaussian",
        sigma=0.035,
        precision="bf16",
        warmup=30000,
    ),
    "faces-betavae": Recipe(
        "vae",
        "faces",
        "conv",
        10,
        60000,
        "faces β-VAE (β=250, Higgins et al.), 10 dims: one dim turns the head, another bends the smile",
        beta=250.0,
        image_size=32,
        lr=1e-3,
        recon="gaussian",
        sigma=0.035,
        precision="bf16",
        warmup=30000,
    ),
    # Width 32 and bf16, like the structured GANs below: 8,000 steps in 11 min on a busy 2-core machine.
    "faces-dcgan": Recipe(
        "gan", "faces", "dcgan", 64, 8000, "faces DCGAN generator, 32×32", image_size=32, precision="bf16", width=32
    ),
    # Structured GANs at width 32 (a quarter of the default's multiply-adds at 32 px: ~60 ms a step on 2 idle
    # cores against ~400), with step counts that build both side by side, one thread each, in under 25 minutes
    # on a shared 2-core machine (~3 steps/s each).
    "digits-cgan": Recipe(
        "gan",
        "digits",
        "dcgan",
        32,
        4000,
        "digits conditional DCGAN (Mirza & Osindero): pick the digit, the 32 noise dims vary the hand",
        image_size=32,
        precision="bf16",
        conditional=True,
        width=32,
    ),
    # InfoGAN's MNIST setting (Chen et al. 2016: a 10-way code, 2 continuous codes, 62 noise dims) on the 1,797
    # digits. Q reads every code back (L_I 0.05 nats), but the digit follows the noise: the 10-way code matches
    # the labels for 23 % of the images (best one-to-one mapping); 16 noise dims gave 32 %, lr 1e-3 23 %.
    "digits-infogan": Recipe(
        "gan",
        "digits",
        "dcgan",
        62,
        4000,
        "digits InfoGAN (10-way code, 2 continuous, 62 noise): the noise, not the code, picks the digit",
        image_size=32,
        precision="bf16",
        codes="cat:10,cont:2",
        width=32,
    ),
    # InfoGAN (Chen et al. 2016) on dSprites at 32 px: a 3-way code for the shape, 4 continuous codes for
    # scale, rotation and position, 5 noise dims; its Q network is the encoder the metrics read.
    "dsprites-infogan": Recipe(
        "gan",
        "dsprites",
        "dcgan",
        5,
        4500,
        "dSprites InfoGAN, 32×32 (3-way code, 4 continuous, 5 noise): the code picks the size, not the shape",
        image_size=32,
        precision="bf16",
        codes="cat:3,cont:4",
        width=32,
    ),
}


def build(name: str, device: str = "auto", resume: bool = False, progress: bool = True) -> checkpoints.Model:
    """Train (or continue) one recipe, write its float16 zoo file and its figures; returns the shipped model."""
    recipe = RECIPES[name]
    work = ZOO / ".build" / f"{name}.safetensors"
    work.parent.mkdir(parents=True, exist_ok=True)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in dataclasses.asdict(recipe).items() if k in fields}
    config = TrainConfig(
        **values,
        device=device,
        out=str(work),
        checkpoint_every=500,
        resume=str(work) if resume and work.exists() else None,
        overwrite=True,  # without --resume a build starts over: its work file is ours, not the user's
    )
    explicit = frozenset({"steps", "resume", "device"}) if config.resume else frozenset()
    model = train(config, progress=progress, explicit=explicit)
    checkpoints.save(model, ZOO / f"{name}.safetensors", dtype=torch.float16)
    return measure(name, device)


def measure(name: str, device: str = "auto") -> checkpoints.Model:
    """(Re)compute the figures of the shipped zoo file from its own float16 weights and store them in it.

    The figures describe exactly the weights a user opens; `latent-train zoo --measure` reruns this
    alone when the metrics code changes, without retraining.
    """
    path = ZOO / f"{name}.safetensors"
    model = checkpoints.load(path, device=device)
    assert model.meta.dataset is not None  # every zoo file is trained by a recipe, which records its data set
    data = datasets.get(model.meta.dataset, image_size=model.image_shape[1])
    model.with_meta(description=RECIPES[name].description, **describe(model, data))
    checkpoints.save(model, path, dtype=torch.float16)
    return model


def describe(model: checkpoints.Model, data: datasets.Dataset) -> dict:
    """Reconstruction error, and for a data set with factors the metrics and dimension-factor correlations."""
    if not model.has_encoder:
        return {}
    # an InfoGAN's encoder reads its codes, not the noise: decode(encode(x)) is no reconstruction of x
    quality = {} if model.kind == "gan" else {"recon_mse": reconstruction_mse(model, data)}
    if not (data.factor_names and hasattr(data, "factors_of")):
        return {"metrics": {**model.meta.metrics, **quality}}
    indices = np.random.default_rng(0).choice(len(data), size=CORRELATION_SAMPLES, replace=False)
    codes = np.concatenate([model.encode(data.images(chunk))[0].cpu().numpy() for chunk in np.array_split(indices, 16)])
    # signed: the explorer links dimensions in the factor's direction
    correlations = factor_correlations(codes, data.factors_of(indices))
    metrics = {**quality, "factor_correlations": correlations.round(4).tolist()}
    metrics.update(_disentanglement(model, data))
    if data.name == "faces":
        metrics.update(_picture(model, data))
    return {"metrics": {**model.meta.metrics, **metrics}}


READERS = (("faces", 32),)  # the factor readers the zoo ships (checkpoints/zoo/readers/)


def _picture(model: checkpoints.Model, data: datasets.Dataset) -> dict:
    """The classic picture's figures (trainer/picture.py), read by the shipped faces reader."""
    from .picture import measure_picture
    from .reader import load_reader

    try:
        reader = load_reader(data.name, model.image_shape[1], train_if_missing=False)
    except FileNotFoundError as exc:
        print(f"latent-train: note: {exc}; the picture's figures were not measured", file=sys.stderr)
        return {}
    return {"picture": measure_picture(model, data, reader)}


def build_readers() -> None:
    """Train and write the factor readers of READERS (a few minutes each on 2 CPU cores)."""
    from .reader import reader_path, save_reader, train_reader

    for name, size in READERS:
        reader = train_reader(name, size, progress=True)
        save_reader(reader, reader_path(name, size))
        errors = ", ".join(f"{k} {v:.3g}" for k, v in reader.clean_error.items())
        print(f"wrote {reader_path(name, size)} (mean error on clean renders: {errors})", file=sys.stderr)


def reconstruction_mse(model: checkpoints.Model, data: datasets.Dataset, n: int = RECON_SAMPLES) -> float:
    """Mean squared pixel error of decode(encoder mean) over `n` fixed data samples (seed 0)."""
    indices = np.random.default_rng(0).choice(len(data), size=min(n, len(data)), replace=False)
    total = 0.0
    for chunk in np.array_split(indices, max(1, len(indices) // 256)):
        x = data.images(chunk).to(model.device)
        total += float((model.decode(model.encode(x)[0]) - x).square().mean(dim=(1, 2, 3)).sum())
    return total / len(indices)


def _disentanglement(model: checkpoints.Model, data: datasets.Dataset) -> dict:
    try:
        from .metrics import evaluate  # the metrics package; absent in builds that predate it
    except ImportError:
        return {}
    return evaluate(model, data)


def main(names: list[str] | None, device: str, resume: bool, measure_only: bool = False) -> int:
    unknown = [name for name in names or () if name not in RECIPES]
    if unknown:
        print(f"latent-train: error: no zoo model {unknown[0]!r}; choose from {', '.join(RECIPES)}", file=sys.stderr)
        return 2
    for name in names or list(RECIPES):
        model = measure(name, device) if measure_only else build(name, device, resume)
        print(f"wrote {ZOO / name}.safetensors (step {model.meta.steps})", file=sys.stderr)
    return 0
