"""`latent-explorer directions MODEL --method sefa|ganspace|factor --k 10 --out d.npz`, and the rows of
`latent-explorer export traversal MODEL --directions d.npz` (called from explorer/engine/headless.py).

The same functions as the window's Directions tab (explorer/engine/directions.py), run synchronously.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

import checkpoints
from checkpoints.atomic import check_output
from checkpoints.flags import add_import_flags, load_options
from explorer.common import exporting
from explorer.common.directions_io import load_directions, save_directions
from explorer.common.flags import count, seed
from explorer.engine import directions, rendering
from explorer.engine.directions_data import labelled_codes
from explorer.protocol import LoadOptions


def add_parser(commands: Any) -> None:
    """The `directions` sub-command on the headless parser's sub-parsers."""
    sub = commands.add_parser("directions", help="discover latent directions (SeFa, GANSpace, per factor) as .npz")
    sub.add_argument("checkpoint", metavar="MODEL")
    sub.add_argument("--method", choices=directions.METHODS, default="sefa")
    sub.add_argument("--k", type=count(1, 4096, "directions"), default=10, help="how many (factor: one per factor)")
    sub.add_argument("--out", required=True, help="the .npz file to write")
    sub.add_argument("--n", type=count(2, 1_000_000, "samples"), default=10_000, help="prior or data samples")
    sub.add_argument("--seed", type=seed, default=0)
    sub.add_argument("--conditional", action="store_true", help="factor: project out the other factors' directions")
    sub.add_argument("--overwrite", action="store_true", help="replace --out even if it is a checkpoint")
    sub.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    add_import_flags(sub)


def run(args: argparse.Namespace) -> int:
    """Write the directions file; errors propagate as ValueError / CheckpointError (one sentence)."""
    if not args.out.endswith(".npz"):
        raise ValueError(f"--out {args.out} must end in .npz (the directions are written as a numpy archive)")
    if args.conditional and args.method != "factor":
        raise ValueError("--conditional applies to --method factor only")
    options = LoadOptions(**load_options(args))
    check_output(args.out, overwrite=args.overwrite, inputs=[args.checkpoint], flag="--out")
    model = rendering.open_model(args.checkpoint, args.device, options)

    def report(fraction: float, text: str) -> None:
        print(f"\r{fraction:4.0%} {text[:70]:<70}", end="", file=sys.stderr, flush=True)

    found = directions.discover(
        model,
        args.method,
        args.k,
        n=args.n,
        seed=args.seed,
        conditional=args.conditional,
        labelled=lambda: labelled_codes(model, args.n, args.seed, lambda: False, report),
        report=report,
    )
    source = {"file": Path(args.checkpoint).name, "sha256": model.sha256, "steps": model.meta.steps}
    from dataclasses import replace

    save_directions(args.out, replace(found, source=source))
    print("\r" + " " * 76 + "\r", end="", file=sys.stderr)
    for label in found.labels:
        print(label)
    print(f"wrote {args.out} ({len(found)} directions; {found.note})", file=sys.stderr)
    return 0


def export_traversal(args: argparse.Namespace, model: checkpoints.Model, z: np.ndarray, sources: list[dict]) -> None:
    """One row per direction of `--directions`, `--steps` columns over z + linspace(-range, range) * direction."""
    found = load_directions(args.directions, model.latent_dim)
    grid, tiles = directions.render_rows(model, z, found.directions, args.steps, args.span)
    metadata = {
        "view": "traversal",
        "checkpoints": sources,
        "z": np.asarray(z, np.float32).tolist(),
        "directions_file": Path(args.directions).name,
        "method": found.method,
        "labels": list(found.labels),
        "directions": found.directions.tolist(),
        "steps": args.steps,
        "range": args.span,
        "codes": "row r: z + linspace(-range, range, steps) * directions[r]",
    }
    if args.gif:
        exporting.save_gif(args.out, exporting.traversal_frames(tiles, len(found), args.steps), metadata)
    else:
        exporting.save_png(args.out, grid, metadata)
