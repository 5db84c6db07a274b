"""The classic picture, measured: does a model's head-turn dimension also move the smile?

Higgins et al. 2017's slide: traverse the latent dimension that turns the head; in a β=1 VAE the smile
changes too, in a β=250 β-VAE it stays. Here an independent factor reader (trainer/reader.py, trained
on the renderer with blur and noise) reads azimuth and smile off the decoded images:

- the dimension most correlated with azimuth (Pearson r of the encoder means with the factor over 4,000
  data samples), and the one most correlated with smile;
- each is traversed over the codes' mean ± 2.5 standard deviations (11 steps) from 48 encoded faces,
  every other dimension kept at the face's own code;
- azimuth span: max − min of the read azimuth along a traversal (degrees), mean over the faces;
- smile span: max − min of the read smile (−1…1) over the steps where the read head turn is ≤ 35°
  (where the mouth shows), mean over the faces that have two such steps;
- the floor: the reader's own smile span along a true rendered head turn (all 15 azimuths) with the
  smile fixed, on 48 random faces — what "the smile does not move" reads as;
- the floor on reconstructions (`recon_floor`, not part of the criterion): the same, read off the model's own
  reconstructions of those turns (decode of the encoder mean) — what "the smile does not move" reads as
  through this model's blur, which makes the reader less steady than on clean renders.

`HOLDS` states when the picture holds (issue 21); `latent-train zoo --measure` stores the figures in
each faces model's `meta.metrics["picture"]`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import checkpoints
from checkpoints.statistics import factor_correlations

from . import datasets
from .reader import FactorReader

SAMPLES, FACES, STEPS, SPAN_SD, FRONTAL_DEG = 4000, 48, 11, 2.5, 35.0


def smile_spans(azimuth: np.ndarray, smile: np.ndarray) -> np.ndarray:
    """Per row (face), max − min of smile over the steps with |azimuth| ≤ FRONTAL_DEG; NaN with < 2 such steps."""
    frontal = np.abs(azimuth) <= FRONTAL_DEG
    out = np.full(len(smile), np.nan)
    for i, keep in enumerate(frontal):
        if keep.sum() >= 2:
            out[i] = np.ptp(smile[i][keep])
    return out


def _spans(reader: FactorReader, images: torch.Tensor, faces: int) -> tuple[float, float]:
    read = reader.read(images)
    azimuth = read["azimuth"].reshape(faces, -1)
    smile = read["smile"].reshape(faces, -1)
    return float(np.ptp(azimuth, axis=1).mean()), float(np.nanmean(smile_spans(azimuth, smile)))


def true_turns(data: datasets.Dataset, faces: int = FACES, seed: int = 2) -> torch.Tensor:
    """Renders of `faces` random faces, each at all the data set's azimuths with everything else fixed."""
    azimuth = data.factor_names.index("azimuth")
    base = data.sample_factors(faces, np.random.default_rng(seed))
    turns = np.repeat(base, data.factor_sizes[azimuth], axis=0)
    turns[:, azimuth] = np.tile(np.arange(data.factor_sizes[azimuth]), faces)
    return data.images_for_factors(turns)


def smile_floor(reader: FactorReader, turns: torch.Tensor, faces: int = FACES) -> float:
    """The reader's smile span along true head turns (`true_turns`) with the smile fixed: its noise floor."""
    return _spans(reader, turns, faces)[1]


def recon_floor(model: checkpoints.Model, reader: FactorReader, turns: torch.Tensor, faces: int = FACES) -> float:
    """The same span read off the model's reconstructions (decoded encoder means) of those true head turns."""
    with torch.inference_mode():
        rebuilt = torch.cat([model.decode(model.encode(x)[0]).cpu() for x in turns.split(240)])
    return _spans(reader, rebuilt, faces)[1]


def measure_picture(
    model: checkpoints.Model, data: datasets.Dataset, reader: FactorReader, seed: int = 0
) -> dict[str, Any]:
    """The figures of the module docstring for one faces model."""
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(data), size=SAMPLES, replace=False)
    codes = np.concatenate([model.encode(data.images(chunk))[0].cpu().numpy() for chunk in np.array_split(indices, 16)])
    r = factor_correlations(codes, data.factors_of(indices))
    mean, std = codes.mean(0), codes.std(0)
    faces = codes[:FACES]
    turns = true_turns(data)  # rendered once: the floor reads them, the recon floor reads their reconstructions
    figures: dict[str, Any] = {
        "faces": FACES,
        "steps": STEPS,
        "span_sd": SPAN_SD,
        "frontal_deg": FRONTAL_DEG,
        "smile_floor": smile_floor(reader, turns),
        "recon_floor": recon_floor(model, reader, turns),
        "reader_error": {k: round(reader.clean_error[k], 4) for k in ("azimuth", "smile")},
    }
    for factor in ("azimuth", "smile"):
        column = r[:, data.factor_names.index(factor)]
        dim = int(np.nanargmax(np.abs(column)))
        values = mean[dim] + np.linspace(-SPAN_SD, SPAN_SD, STEPS, dtype=np.float32) * std[dim]
        walk = np.repeat(faces, STEPS, axis=0)
        walk[:, dim] = np.tile(values, FACES)
        with torch.inference_mode():
            images = torch.cat([model.decode(torch.from_numpy(c)).cpu() for c in np.array_split(walk, 8)])
        turn, smile = _spans(reader, images, FACES)
        figures[factor] = {"dim": dim, "r": round(float(column[dim]), 4), "turn_deg": turn, "smile_span": smile}
    return figures


# (figure, test, threshold) per model, from issue 21's criterion; "above floor" is smile_span − smile_floor.
HOLDS = {
    "betavae": (
        ("azimuth dimension turns the head", "azimuth.turn_deg", ">=", 60.0),
        ("azimuth dimension keeps the smile (above the floor)", "azimuth.smile_above_floor", "<=", 0.15),
        ("smile dimension moves the smile", "smile.smile_span", ">=", 0.8),
        ("smile dimension keeps the head", "smile.turn_deg", "<=", 20.0),
    ),
    "vae": (
        ("azimuth dimension turns the head", "azimuth.turn_deg", ">=", 30.0),
        ("azimuth dimension drags the smile (above the floor)", "azimuth.smile_above_floor", ">=", 0.3),
    ),
}


def value(figures: dict[str, Any], key: str) -> float:
    part, name = key.split(".")
    if name == "smile_above_floor":
        return float(figures[part]["smile_span"] - figures["smile_floor"])
    return float(figures[part][name])


def verdict(role: str, figures: dict[str, Any]) -> list[tuple[str, float, str, float, bool]]:
    """(criterion, measured, op, threshold, met) for a "vae" or "betavae" model's figures."""
    out = []
    for label, key, op, threshold in HOLDS[role]:
        v = value(figures, key)
        out.append((label, v, op, threshold, v >= threshold if op == ">=" else v <= threshold))
    return out


def caption(figures: dict[str, Any], factor: str) -> str:
    """The label the Compare tab and the README put on a traversal: "head turn 85°, smile moves 0.12"."""
    f = figures[factor]
    return f"head turn {f['turn_deg']:.0f}°, smile moves {f['smile_span']:.2f} (floor {figures['smile_floor']:.2f})"
