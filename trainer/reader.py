"""A factor reader: a small CNN that reads a factored data set's factors back off images.

Trained on the data set's own renders with blur and noise, so it also reads the blurry, noisy images
a VAE decodes, and on blends of two renders that differ in one factor, labelled with the blend of the
two classes: where a decoder is unsure of a factor it draws the average of its values (a smeared
mouth), and the reader then reads that average, steadily, instead of guessing a different smile from
one smear to the next. It is the independent judge of what a traversal does: the head-turn and smile spans of
the faces "classic picture" (trainer/picture.py) and the factor coverage of prior samples (the
Analysis tab's trilemma table) are read with it, never with the model's own encoder.

One classification head per factor (its grid of classes); a factor's value is the softmax-weighted mean
of its grid values, its class the argmax. Readers ship beside the zoo (checkpoints/zoo/readers/) and are
rebuilt by `latent-train zoo --readers`; `load_reader` trains one on the spot when none is stored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from checkpoints.atomic import atomic_write_bytes

from . import datasets

READERS = Path(__file__).resolve().parent.parent / "checkpoints" / "zoo" / "readers"
STEPS, BATCH, LR = 8000, 128, 1e-3
BLURS = (0.0, 0.5, 1.0, 1.5)  # Gaussian blur sigmas (pixels at the reader's size), one per quarter batch
MAX_NOISE = 0.05  # per-image Gaussian noise std, uniform in [0, MAX_NOISE]
MIXED = 0.25  # share of each batch drawn as a blend of two renders that differ in one factor


class ReaderNet(nn.Module):
    def __init__(self, channels: int, size: int, classes: tuple[int, ...]) -> None:
        super().__init__()
        self.classes = classes
        side = size // 8
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * side * side, 256),
            nn.ReLU(),
        )
        self.head = nn.Linear(256, sum(classes))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Per factor, logits (n, k)."""
        return list(self.head(self.features(x)).split(self.classes, dim=1))


@dataclass
class FactorReader:
    dataset: str
    image_shape: tuple[int, int, int]
    factor_names: tuple[str, ...]
    factor_values: tuple[np.ndarray, ...]
    net: ReaderNet
    clean_error: dict[str, float]  # mean absolute error of each factor's value on clean renders

    @torch.inference_mode()
    def probabilities(self, images: torch.Tensor) -> list[np.ndarray]:
        """images (n, C, H, W) in [0, 1] -> per factor, class probabilities (n, k)."""
        self.net.eval()
        out: list[list[np.ndarray]] = [[] for _ in self.factor_names]
        for chunk in images.float().cpu().split(256):
            for i, logits in enumerate(self.net(chunk)):
                out[i].append(logits.softmax(1).numpy())
        return [np.concatenate(p) for p in out]

    def read(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        """Per factor, its value (n,) in the data set's units (degrees for azimuth, −1…1 for smile)."""
        return {
            name: p @ values.astype(np.float64)
            for name, p, values in zip(self.factor_names, self.probabilities(images), self.factor_values)
        }

    def classes(self, images: torch.Tensor) -> np.ndarray:
        """int (n, F): each factor's most likely class."""
        return np.stack([p.argmax(1) for p in self.probabilities(images)], axis=1)


def blended_batch(
    data: datasets.Dataset, n: int, rng: np.random.Generator, share: float = MIXED
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """n renders, a `share` of them blended with a render that differs in one random factor.

    Returns the images and, per factor, target class probabilities (n, k): one-hot, or for a blended
    image w·onehot(a) + (1 − w)·onehot(b) in the factor that differs (w uniform in [0, 1]).
    """
    classes = data.sample_factors(n, rng)
    x = data.images_for_factors(classes)
    targets = [F.one_hot(torch.from_numpy(classes[:, i]), k).float() for i, k in enumerate(data.factor_sizes)]
    rows = np.flatnonzero(rng.random(n) < share)
    if len(rows):
        factor = rng.integers(len(data.factor_sizes), size=len(rows))
        other = classes[rows].copy()
        other[np.arange(len(rows)), factor] = rng.integers(np.asarray(data.factor_sizes)[factor])
        w = torch.from_numpy(rng.random(len(rows))).float()
        x[rows] = w.view(-1, 1, 1, 1) * x[rows] + (1 - w.view(-1, 1, 1, 1)) * data.images_for_factors(other)
        for i, k in enumerate(data.factor_sizes):
            mine = factor == i
            if mine.any():
                b = F.one_hot(torch.from_numpy(other[mine, i]), k).float()
                wi = w[torch.from_numpy(mine)].view(-1, 1)
                targets[i][rows[mine]] = wi * targets[i][rows[mine]] + (1 - wi) * b
    return x, targets


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Blur a quarter of the batch at each of BLURS, then add per-image Gaussian noise; clamp to [0, 1]."""
    parts = []
    for sigma, part in zip(BLURS, x.chunk(len(BLURS))):
        parts.append(blur(part, sigma))
    x = torch.cat(parts)
    noise = torch.rand(len(x), 1, 1, 1, generator=generator) * MAX_NOISE
    return (x + noise * torch.randn(x.shape, generator=generator)).clamp(0, 1)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    if sigma <= 0:
        return x
    radius = max(1, math.ceil(2.5 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def train_reader(name: str, image_size: int, steps: int = STEPS, seed: int = 0, progress: bool = False) -> FactorReader:
    """Train a reader on `name`'s renders at `image_size` (a factored set: dsprites or faces)."""
    data = datasets.get(name, image_size=image_size)
    if not data.has_factors:
        raise ValueError(f"the {name} data set has no factor table; a reader needs one (dsprites or faces)")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    net = ReaderNet(data.image_shape[0], image_size, tuple(data.factor_sizes))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    net.train()
    for step in range(steps):
        x, targets = blended_batch(data, BATCH, rng)
        x = augment(x, generator)
        loss = sum(F.cross_entropy(logits, targets[i]) for i, logits in enumerate(net(x)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        optimizer.step()
        schedule.step()
        if progress and step % 250 == 0:
            print(f"reader {name}-{image_size}: step {step} loss {loss.item():.3f}", flush=True)  # type: ignore[union-attr]
    reader = FactorReader(name, data.image_shape, tuple(data.factor_names), tuple(data.factor_values), net.eval(), {})
    reader.clean_error = clean_error(reader, data)
    return reader


def clean_error(reader: FactorReader, data: datasets.Dataset, n: int = 2000, seed: int = 1) -> dict[str, float]:
    """Mean absolute error of each factor's read value on n clean renders (fixed seed)."""
    classes = data.sample_factors(n, np.random.default_rng(seed))
    read = reader.read(data.images_for_factors(classes))
    return {
        name: float(np.abs(read[name] - values[classes[:, i]]).mean())
        for i, (name, values) in enumerate(zip(data.factor_names, data.factor_values))
    }


def reader_path(name: str, image_size: int) -> Path:
    return READERS / f"{name}-{image_size}.safetensors"


def save_reader(reader: FactorReader, path: Path) -> None:
    meta = {
        "dataset": reader.dataset,
        "image_shape": list(reader.image_shape),
        "factor_names": list(reader.factor_names),
        "clean_error": reader.clean_error,
    }
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in reader.net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, safetensors.torch.save(tensors, metadata={"reader": json.dumps(meta)}))


def load_reader(name: str, image_size: int, train_if_missing: bool = True) -> FactorReader:
    """The shipped reader of `name` at `image_size`; trained here (minutes) when none is stored."""
    path = reader_path(name, image_size)
    if not path.exists():
        if not train_if_missing:
            raise FileNotFoundError(f"no factor reader for {name} at {image_size} px; run latent-train zoo --readers")
        reader = train_reader(name, image_size)
        save_reader(reader, path)
        return reader
    with safetensors.safe_open(str(path), "pt") as f:
        meta = json.loads((f.metadata() or {})["reader"])
    data = datasets.get(name, image_size=image_size)
    net = ReaderNet(data.image_shape[0], image_size, tuple(data.factor_sizes))
    state = {k: v.float() for k, v in safetensors.torch.load_file(str(path)).items()}
    net.load_state_dict(state, strict=True)
    return FactorReader(
        name, data.image_shape, tuple(data.factor_names), tuple(data.factor_values), net.eval(), meta["clean_error"]
    )
