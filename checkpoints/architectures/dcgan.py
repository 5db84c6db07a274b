"""DCGAN generator and discriminator (Radford et al. 2015) for 8, 16, 32 or 64 pixel square images.

Generator: z -> transposed conv 4x4 (stride 1) to 4x4, then stride-2 doublings, batch norm and
ReLU, tanh output. Discriminator: the mirror with LeakyReLU(0.2), no batch norm on its first layer,
one logit out. Weights start from N(0, 0.02).

InfoGAN (Chen et al. 2016): a generator whose config names structured codes (`q_categorical`,
`q_continuous`) also holds Q, the network that reads the codes back from an image: the
discriminator's convolutional trunk (shared with D while training) and a head FC 128 - batch norm -
LeakyReLU - FC to the logits of each categorical code and the means of the continuous ones. Q is the
model's encoder: `encode(x)` returns a whole code of `latent_dim` numbers laid out as
[noise | categorical one-hots | continuous], with the noise part at its prior mean 0, each categorical
block the one-hot of Q's most likely class and the continuous part Q's means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from .common import Network, init_normal

SIZES = (8, 16, 32, 64)
Q_HIDDEN = 128  # InfoGAN's Q head: FC 128 (Chen et al. 2016, appendix C)


@dataclass(frozen=True)
class DCGANConfig:
    latent_dim: int
    image_shape: tuple[int, int, int]
    width: int = 64  # channels of the last generator / first discriminator layer (ngf = ndf)
    # InfoGAN: k of each categorical code and the number of continuous codes; both empty: a plain GAN (no Q).
    # The code is [noise (the rest) | one-hot blocks | continuous], the order of meta.layout.
    q_categorical: tuple[int, ...] = ()
    q_continuous: int = 0

    @property
    def q_outputs(self) -> int:
        """Width of Q's head: the logits of every categorical code and one mean per continuous code."""
        return sum(self.q_categorical) + self.q_continuous

    @property
    def noise_dim(self) -> int:
        return self.latent_dim - self.q_outputs


def _widths(config: DCGANConfig) -> list[int]:
    """Feature widths from the 4x4 layer outward: [8w, 4w, 2w, w] at 64 px, [4w, 2w, w] at 32 px, [w] at 8 px."""
    doublings = {8: 1, 16: 2, 32: 3, 64: 4}[config.image_shape[1]]
    return [config.width * 2 ** (doublings - 1 - i) for i in range(doublings)]


def trunk_layers(config: DCGANConfig) -> list[nn.Module]:
    """The discriminator's convolutions down to (widths[-1], 4, 4) features, before its final 4x4 logit."""
    widths = list(reversed(_widths(config)))
    layers: list[nn.Module] = [
        nn.Conv2d(config.image_shape[0], widths[0], 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, True),
    ]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
    return layers


def feature_width(config: DCGANConfig) -> int:
    """Channels of the trunk's 4x4 features."""
    return _widths(config)[0]


class _Generator(nn.Module):
    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        widths = _widths(config)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers.append(nn.ConvTranspose2d(widths[-1], config.image_shape[0], 4, 2, 1, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.main(z[:, :, None, None]))  # nn.Module.__call__ is typed Any


class DCGANGenerator(Network):
    """A GAN is decoder-only: `decoder` is the generator; the discriminator lives in training state."""

    Config = DCGANConfig
    kinds = ("gan",)

    def __init__(self, config: DCGANConfig, kind: str = "gan") -> None:
        super().__init__(config, kind)
        self.decoder = _Generator(config)
        self.encoder = QNetwork(config) if config.q_outputs else None
        self.apply(init_normal)

    def images(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.decoder(z)) + 1) / 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """InfoGAN: images in [0, 1] -> the code Q reads from them (see the module's note), and None."""
        assert isinstance(self.encoder, QNetwork)  # callers check has_encoder first
        return self.encoder.code(self.encoder(x * 2 - 1)), None

    @classmethod
    def check_config(cls, config: DCGANConfig) -> str | None:
        _, h, w = config.image_shape
        if h != w or h not in SIZES:
            return f"the dcgan architecture makes 8x8, 16x16, 32x32 or 64x64 images, not {h}x{w}"
        if not 1 <= config.width <= 1024:
            return f"width={config.width} is out of range 1..1024"
        if any(k < 2 for k in config.q_categorical) or config.q_continuous < 0:
            return "each categorical code needs k of at least 2 classes, and continuous codes cannot be negative"
        if config.noise_dim < 0:
            return f"the codes need {config.q_outputs} dimensions but latent_dim is {config.latent_dim}"
        return super().check_config(config)


class QNetwork(nn.Module):
    """InfoGAN's Q: images in [-1, 1] -> Q's raw outputs (n, q_outputs): categorical logits, then continuous means.

    `trunk` is the discriminator's convolutional trunk; while training, D's logit is computed from the same
    features (trainer/run.py), so the two share every convolution as in Chen et al. 2016.
    """

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = nn.Sequential(*trunk_layers(config))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(feature_width(config) * 16, Q_HIDDEN),
            nn.BatchNorm1d(Q_HIDDEN),
            nn.LeakyReLU(0.2, True),
            nn.Linear(Q_HIDDEN, config.q_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.head(self.trunk(x)))  # nn.Module.__call__ is typed Any

    def code(self, q: torch.Tensor) -> torch.Tensor:
        """Q's outputs (n, q_outputs) -> a code (n, latent_dim): noise 0, one-hot of each argmax, the means."""
        parts = [q.new_zeros(q.shape[0], self.config.noise_dim)]
        start = 0
        for k in self.config.q_categorical:
            parts.append(nn.functional.one_hot(q[:, start : start + k].argmax(1), k).to(q.dtype))
            start += k
        parts.append(q[:, start:])
        return torch.cat(parts, dim=1)


class DCGANDiscriminator(nn.Module):
    """Images in [-1, 1] (n, C, H, W) -> one real/fake logit each (n,).

    With `classes` > 0 it is a conditional discriminator with projection (Miyato & Koyama 2018): the
    logit gains <embed(y), sum of the 4x4 features>, so it judges whether an image fits its class y.
    """

    def __init__(self, config: DCGANConfig, classes: int = 0) -> None:
        super().__init__()
        layers = trunk_layers(config)
        layers.append(nn.Conv2d(feature_width(config), 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)
        self.embed = nn.Embedding(classes, feature_width(config)) if classes else None
        self.apply(init_normal)
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is None or y is None:
            return cast(torch.Tensor, self.main(x)).flatten()  # nn.Module.__call__ is typed Any
        features = self.main[:-1](x)
        logit = self.main[-1](features).flatten()
        return cast(torch.Tensor, logit + (self.embed(y) * features.sum((2, 3))).sum(1))


class InfoGANCritic(nn.Module):
    """InfoGAN's D and Q on one trunk: images in [-1, 1] -> (real/fake logits (n,), Q's outputs (n, q_outputs)).

    `q` is the generator network's encoder (trunk and Q head, saved in the model file); `head` is D's
    final 4x4 logit, which lives in the training state like a plain GAN's discriminator.
    """

    def __init__(self, q: QNetwork, head: nn.Module) -> None:
        super().__init__()
        self.q, self.head = q, head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.q.trunk(x)
        return cast(torch.Tensor, self.head(features)).flatten(), cast(torch.Tensor, self.q.head(features))


def infogan_head(config: DCGANConfig) -> nn.Module:
    """D's final layer for an InfoGAN critic: the 4x4 features -> one logit."""
    head = nn.Conv2d(feature_width(config), 1, 4, 1, 0, bias=False)
    nn.init.normal_(head.weight, 0.0, 0.02)
    return head
