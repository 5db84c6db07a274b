"""`latent-explorer project CKPT --image x.png --out z.npy`: the code whose decoding looks most like an image.

    latent-explorer project CKPT (--image FILE | --index N) --out z.npy [--steps 200] [--restarts 4] [--seed 0]

The image is converted to the model's channels and resized to its size (`projection.read_image`);
`--index` projects a sample of the model's data set instead. z.npy holds float32 (latent_dim,), what
`export traversal --z` reads. The file is written atomically and, as every export, never over the
checkpoint, the image, or another checkpoint without --overwrite.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from checkpoints.atomic import atomic_write_bytes, check_output
from checkpoints.flags import add_import_flags, load_options
from explorer.common.flags import count, seed
from explorer.engine import projection, rendering
from explorer.protocol import LoadOptions


def add_parser(commands: Any) -> None:
    sub = commands.add_parser("project", help="find the code of an image (a GAN's encoding, by optimisation)")
    sub.add_argument("checkpoint", metavar="CKPT")
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("--image", help="the image file to project (converted to the model's channels and size)")
    target.add_argument("--index", type=count(0, 2**62, "a data-set index"), help="project this data-set sample")
    sub.add_argument("--out", required=True, help="the .npy file to write: float32 (latent_dim,)")
    sub.add_argument("--overwrite", action="store_true", help="replace --out even if it is a checkpoint")
    sub.add_argument("--steps", type=count(0, 100_000, "Adam steps"), default=projection.Settings.steps)
    sub.add_argument(
        "--restarts", type=count(1, 256, "starts optimised together"), default=projection.Settings.restarts
    )
    sub.add_argument("--seed", type=seed, default=0, help="the random starts' seed")
    sub.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    add_import_flags(sub)


def run(args: argparse.Namespace) -> int:
    """Exit 0 with the code written; ValueError / CheckpointError propagate to the caller's one-line report."""
    options = LoadOptions(**load_options(args))
    inputs = [args.checkpoint, *(str(f) for f in (args.image, options.arch_file) if f)]
    check_output(args.out, overwrite=args.overwrite, inputs=inputs)  # before any work
    model = rendering.open_model(args.checkpoint, args.device, options)
    if args.image is not None:
        target, what = projection.read_image(args.image, model.image_shape), Path(args.image).name
    else:
        target, what = _sample(model, args.index), f"{model.meta.dataset} sample #{args.index}"
    settings = projection.Settings(steps=args.steps, restarts=args.restarts, seed=args.seed)
    start = time.perf_counter()
    found = projection.project(model, target, settings)
    seconds = time.perf_counter() - start
    buffer = io.BytesIO()
    np.save(buffer, found.z[0], allow_pickle=False)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(
        f"projected {what} in {seconds:.1f} s: MSE {found.mse[0]:.5f} (best random start {found.start_mse[0]:.5f}); "
        f"wrote {args.out}",
        file=sys.stderr,
    )
    return 0


def _sample(model: Any, index: int) -> Any:
    from trainer import datasets

    name = model.meta.dataset
    if name is None:
        raise ValueError("the checkpoint does not name its data set; project an --image instead")
    data = datasets.for_model(name, model.meta.train_config, model.image_shape)
    if index >= len(data):
        raise ValueError(f"--index {index} is not in the {name} data set; choose 0 to {len(data) - 1:,}")
    return data.images([index])
