"""JointVAE (Dupont 2018, Schlumberger/joint-vae): `model.pt` (a state dict) with `specs.json` beside it.

Their `VAE(img_size, latent_spec)`: `img_to_features` = Conv2d(C, 32, 4, 2, 1) [+ Conv2d(32, 32) at 64 px],
Conv2d(32, 64), Conv2d(64, 64), each with ReLU; `features_to_hidden` = Linear(1024, 256) + ReLU; `fc_mean`
and `fc_log_var` (the `cont` normal dimensions), `fc_alphas` (one Linear per `disc` categorical, softmax);
`latent_to_features` = Linear(cont + sum(disc), 256), ReLU, Linear(256, 1024), ReLU; view (64, 4, 4);
`features_to_img` = [ConvTranspose2d(64, 64)] ConvTranspose2d(64, 32), (32, 32), (32, C), all (4, 2, 1),
ReLU between, sigmoid at the end. The decoder takes the continuous sample followed by one one-hot per
categorical. Images in [0, 1], 32x32 (MNIST) or 64x64 (dSprites, CelebA, chairs). Their specs.json
({"latent_spec": {"cont": 10, "disc": [10]}, "dataset": "mnist", ...}) has no img_size or model_type,
which is how it is told apart from a disentangling-vae one.

The whole code opens, in their order (`VAE.reparameterize` concatenates the continuous sample, then each
categorical's one-hot): `latent_spec` becomes the latent layout, one normal group of `cont` dimensions, then
one categorical group per `disc` entry. Encoding gives the continuous mean and log-variance, and for each
categorical the one-hot of its alphas' argmax (their own eval-mode sample) with log-variance 0; those
dimensions are not Gaussian, and the window shows them as a class chooser, not as sliders with a KL.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..architectures.common import Network
from ..errors import ArchitectureMismatchError, UnsupportedFormatError
from ..format import Meta
from ..layout import Group, check
from .disentangling_vae import read_json
from .layouts import Layout, State, Table, load_weights, network, on_meta, size

SPECS = "specs.json"
DATASETS = {"mnist": "mnist", "dsprites": "dsprites"}  # theirs -> ours; others are recorded as unknown


class JointVAE(nn.Module):
    def __init__(self, channels: int, side: int, cont: int, disc: list[int], hidden: int) -> None:
        super().__init__()
        self.cont, self.disc = cont, list(disc)
        convs: list[nn.Module] = [nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU()]
        if side == 64:
            convs += [nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU()]
        convs += [nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU()]
        self.img_to_features = nn.Sequential(*convs)
        self.features_to_hidden = nn.Sequential(nn.Linear(64 * 4 * 4, hidden), nn.ReLU())
        if cont:
            self.fc_mean = nn.Linear(hidden, cont)
            self.fc_log_var = nn.Linear(hidden, cont)
        if disc:
            self.fc_alphas = nn.ModuleList(nn.Linear(hidden, d) for d in disc)
        self.latent_to_features = nn.Sequential(
            nn.Linear(cont + sum(disc), hidden), nn.ReLU(), nn.Linear(hidden, 64 * 4 * 4), nn.ReLU()
        )
        deconvs: list[nn.Module] = [nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU()] if side == 64 else []
        deconvs += [nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU()]
        deconvs += [nn.ConvTranspose2d(32, channels, 4, 2, 1), nn.Sigmoid()]
        self.features_to_img = nn.Sequential(*deconvs)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, cont + sum(disc)) mean and log-variance: the continuous part's, then each categorical's one-hot of
        the argmax of its alphas (log-variance 0)."""
        hidden = self.features_to_hidden(self.img_to_features(x).flatten(1))
        means, logvars = [], []
        if self.cont:
            means.append(self.fc_mean(hidden))
            logvars.append(self.fc_log_var(hidden))
        if self.disc:
            for fc_alpha, k in zip(self.fc_alphas, self.disc):
                hot = F.one_hot(fc_alpha(hidden).argmax(dim=1), k).to(hidden)  # softmax keeps the argmax
                means.append(hot)
                logvars.append(torch.zeros_like(hot))
        return torch.cat(means, dim=1), torch.cat(logvars, dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, cont + sum(disc)), the continuous code then one one-hot per categorical, as theirs."""
        out: torch.Tensor = self.features_to_img(self.latent_to_features(z).view(-1, 64, 4, 4))
        return out


def _sizes(state: State) -> tuple[int, int, int, list[int], int]:
    channels = size(state, "img_to_features.0.weight", 1, 1)
    side = 64 if "img_to_features.6.weight" in state else 32
    cont = size(state, "fc_mean.weight", 0, 0) if "fc_mean.weight" in state else 0
    disc, i = [], 0
    while f"fc_alphas.{i}.weight" in state:
        disc.append(size(state, f"fc_alphas.{i}.weight", 0, 1))
        i += 1
    if not cont and not disc:
        cont = 10
    return channels, side, cont, disc, size(state, "features_to_hidden.0.weight", 0, 256)


def _table(state: State) -> Table:
    sizes = _sizes(state)
    return on_meta(lambda: JointVAE(*sizes))


def is_jointvae_specs(specs: Mapping[str, Any]) -> bool:
    return "latent_spec" in specs


def _open(path: Path, state: State, sha256: str, extras: Mapping[str, Any]) -> tuple[Network, Meta]:
    channels, side, cont, disc, hidden = _sizes(state)
    specs = _specs(path.parent / SPECS)
    if specs is not None:
        _check(path, specs, cont, disc)
    try:
        layout = check(latent_layout(cont, disc), cont + sum(disc))
    except ValueError as exc:
        raise ArchitectureMismatchError(f"{path.parent.name}/{path.name}: {exc}") from None
    net = load_weights(path, JointVAE(channels, side, cont, disc, hidden), state)
    foreign = network(net, cont + sum(disc), (channels, side, side), (0.0, 1.0), has_encoder=True)
    parts = ([f"{cont} continuous dims"] if cont else []) + [f"a {k}-way categorical" for k in disc]
    dataset = specs.get("dataset") if specs is not None else None
    name = specs.get("experiment_name") if specs is not None else None
    meta = Meta(
        arch=LAYOUT.arch,
        config=foreign.config,
        dataset=DATASETS.get(dataset) if isinstance(dataset, str) else None,
        source_sha256=sha256,
        train_config={"latent_spec": {"cont": cont, "disc": disc}},
        description=f"JointVAE {path.parent.name}{f' ({name})' if isinstance(name, str) else ''} "
        f"(imported: {', '.join(parts)})",
        layout=layout,
    )
    return foreign, meta


def latent_layout(cont: int, disc: list[int]) -> tuple[Group, ...]:
    """JointVAE's `latent_spec` as a latent layout: the continuous normal dimensions, then each categorical."""
    if not disc:
        return ()  # one normal group: the default
    return ((Group("normal", cont, "continuous"),) if cont else ()) + tuple(
        Group("categorical", k, f"discrete {i + 1}" if len(disc) > 1 else "discrete") for i, k in enumerate(disc)
    )


def _specs(path: Path) -> dict[str, Any] | None:
    specs = read_json(path)
    return specs if isinstance(specs, dict) and is_jointvae_specs(specs) else None


def _check(path: Path, specs: Mapping[str, Any], cont: int, disc: list[int]) -> None:
    """specs.json's latent_spec and the weights must agree; a mix-up of folders shows here."""
    spec = specs.get("latent_spec")
    if not isinstance(spec, dict):
        raise UnsupportedFormatError(f"{path.parent.name}/{SPECS}: latent_spec is not a JSON object")
    declared = (spec.get("cont", 0), list(spec.get("disc", [])))
    if declared != (cont, disc):
        raise ArchitectureMismatchError(
            f"{path.parent.name}/{SPECS} says latent_spec cont={declared[0]}, disc={declared[1]}, but "
            f"{path.name}'s weights have cont={cont}, disc={disc}"
        )


LAYOUT = Layout("JointVAE (Schlumberger/joint-vae) VAE", "jointvae", _table, _open)
