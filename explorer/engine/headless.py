"""`latent-explorer export ...`: the views' pictures without a window, through the same rendering functions.

    latent-explorer export traversal CKPT --out t.png [--dims 0,3,5|all] [--steps 11] [--range 3] \
        [--z z.npy|--seed S] [--directions d.npz] [--fps 8] [--scale auto|N]   (--out .png, .gif or .mp4)
    latent-explorer export compare CKPT CKPT... --out c.png|c.gif|c.mp4 [--dims auto|FACTOR|0,3] [--steps 7] ...
    latent-explorer export interpolation CKPT [CKPT...] --out i.png --from-seed A --to-seed B [--steps 8] [--slerp]
    latent-explorer export samples CKPT --out s.png [--n 64] [--seed S]
    latent-explorer export reconstruction CKPT [CKPT...] --out r.png [--n 8] [--seed S] [--dataset NAME]
    latent-explorer convert SRC --out DST.safetensors
    latent-explorer project CKPT (--image x.png | --index N) --out z.npy [--steps 200] [--restarts 4] [--seed S]
    latent-explorer directions CKPT --method sefa|ganspace|factor --k 10 --out d.npz [--n N] [--conditional]

Every CKPT may be anything `checkpoints.load` opens (docs/importing.md); export also takes
`--latent-dim N` (TorchScript generators that do not record it) and `--arch-file F.py`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import checkpoints
from checkpoints.atomic import check_output
from checkpoints.flags import add_import_flags, load_options
from checkpoints.layout import has_categorical
from checkpoints.layout import metadata as layout_metadata
from checkpoints.layout import start as layout_start
from explorer.common import exporting, figures
from explorer.common.animation import output_format, save_traversal
from explorer.common.dims import row_order
from explorer.common.flags import OneLineParser, count, finite, seed
from explorer.common.grids import CATEGORICAL_RULE
from explorer.engine import compare_export, directions_cli, projection_cli, rendering
from explorer.protocol import LoadOptions


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="latent-explorer", description="Headless commands of latent-explorer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    export = commands.add_parser("export", help="write a view's picture (PNG with metadata, GIF or MP4)")
    kinds = export.add_subparsers(dest="view", required=True, parser_class=OneLineParser)

    def common(sub: argparse.ArgumentParser, many: bool) -> None:
        sub.add_argument("checkpoints", nargs="+" if many else 1, metavar="CKPT")
        sub.add_argument("--out", required=True, help="file to write: .png (traversal and compare: or .gif, .mp4)")
        sub.add_argument("--overwrite", action="store_true", help="replace --out even if it is a checkpoint")
        sub.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
        add_import_flags(sub)

    traversal = kinds.add_parser("traversal", help="rows = dimensions, columns = values around z")
    common(traversal, many=False)
    traversal.add_argument("--dims", default="all", help="comma-separated dimensions, or all (by KL, largest first)")
    traversal.add_argument("--steps", type=count(2, 1024, "columns of a traversal"), default=11)
    traversal.add_argument("--range", type=finite(0, 1000, "± around z"), default=3.0, dest="span", help="± around z")
    start = traversal.add_mutually_exclusive_group()
    start.add_argument(
        "--z", type=Path, help=".npy file holding the code to traverse around (default zeros; class 0 of a categorical)"
    )
    start.add_argument("--seed", type=seed, help="traverse around a prior sample drawn with this seed")
    traversal.add_argument("--gif", action="store_true", help="an animated GIF, every row at once (--out x.gif)")
    traversal.add_argument("--mp4", action="store_true", help="the same as an H.264 video (--out x.mp4)")
    compare_export.add_video_flags(
        traversal, "GIF, MP4: enlarge each tile N times, nearest (default: 1 for PNG and GIF, MP4 tiles >= 128 px)"
    )
    traversal.add_argument("--directions", help="an .npz of directions (latent-explorer directions): one row each")

    interpolation = kinds.add_parser("interpolation", help="one row per model from one code to another")
    common(interpolation, many=True)
    interpolation.add_argument("--from-seed", type=seed, required=True)
    interpolation.add_argument("--to-seed", type=seed, required=True)
    interpolation.add_argument("--steps", type=count(2, 1024, "columns of an interpolation"), default=8)
    interpolation.add_argument("--slerp", action="store_true", help="spherical instead of straight")

    samples = kinds.add_parser("samples", help="a grid of prior samples")
    common(samples, many=False)
    samples.add_argument("--n", type=count(1, 4096, "tiles of one grid"), default=64)
    samples.add_argument("--seed", type=seed, default=0)

    recon = kinds.add_parser("reconstruction", help="data samples on top, one row of reconstructions per model")
    common(recon, many=True)
    recon.add_argument("--n", type=count(1, 1024, "columns of one grid"), default=8)
    recon.add_argument("--seed", type=seed, default=0)

    convert = commands.add_parser("convert", help="write any checkpoint latent-explorer opens as its own .safetensors")
    convert.add_argument(
        "source", metavar="SRC", help="e.g. a disentangling-vae results folder, model.pt, a state dict"
    )
    convert.add_argument("--out", required=True, help="the .safetensors file to write")
    convert.add_argument("--overwrite", action="store_true", help="replace --out if it is an existing checkpoint")
    add_import_flags(convert)  # accepted so that a model they would open is refused with the reason
    compare_export.add_parser(kinds, common)
    directions_cli.add_parser(commands)
    projection_cli.add_parser(commands)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "directions":
            return directions_cli.run(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "project":
            return projection_cli.run(args)
        options = LoadOptions(**load_options(args))
        named = (getattr(args, "z", None), getattr(args, "directions", None), options.arch_file)
        inputs = [*args.checkpoints, *(str(f) for f in named if f)]
        check_output(args.out, overwrite=args.overwrite, inputs=inputs)  # before any work
        _check_format(args)
        models = [rendering.open_model(p, args.device, options) for p in args.checkpoints]
        EXPORTS[args.view](args, models)
    except (ValueError, checkpoints.CheckpointError, checkpoints.InferenceError) as exc:
        print(f"latent-explorer: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _check_format(args: argparse.Namespace) -> None:
    """The format follows --out's extension: .png, and for traversal and compare .gif or .mp4 (--gif and --mp4 say
    the same and must agree with it)."""
    animated = args.view in ("traversal", "compare")
    fmt = output_format(args.out, ("png", "gif", "mp4") if animated else ("png",))
    for flag in ("gif", "mp4"):
        if getattr(args, flag, False) and fmt != flag:
            raise ValueError(f"--{flag} writes a .{flag} file, but --out {Path(args.out).name} is a .{fmt}")
    if animated:
        args.gif, args.mp4 = fmt == "gif", fmt == "mp4"


def _convert(args: argparse.Namespace) -> int:
    """Lossless: the weights are copied unchanged in float32, so decoding gives identical images."""
    if args.arch_file is not None or args.model_class is not None:  # refused by convert, with the reason
        options = LoadOptions(arch_file=args.arch_file, model_class=args.model_class)
    else:
        options = LoadOptions(**load_options(args))
    if options.dataset is not None:
        raise ValueError("--dataset is for the views; a converted file records the data set its model was trained on")
    model = checkpoints.convert(
        args.source,
        args.out,
        latent_dim=options.latent_dim,
        arch_file=options.arch_file,
        model_class=options.model_class,
        model_args=options.model_args,
        output_range=options.output_range,
        encoder=options.encoder,
        overwrite=args.overwrite,
    )
    print(
        f"wrote {args.out} ({model.kind} {model.meta.arch}, {model.latent_dim} dims, "
        f"{'x'.join(map(str, model.image_shape))})",
        file=sys.stderr,
    )
    return 0


def _sources(args: argparse.Namespace, models: list[checkpoints.Model]) -> list[dict]:
    return [
        {"file": Path(p).name, "sha256": m.sha256, "steps": m.meta.steps, **layout_metadata(m.layout)}
        for p, m in zip(args.checkpoints, models)
    ]


def parse_dims(text: str, model: checkpoints.Model) -> list[int]:
    if text == "all":
        return row_order(model.meta.kl_per_dim, model.meta.latent_std, model.latent_dim, model.layout)
    try:
        dims = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--dims must be 'all' or comma-separated integers, not {text!r}") from None
    bad = [d for d in dims if not 0 <= d < model.latent_dim]
    if bad:
        raise ValueError(f"--dims {bad} out of range: this model has dimensions 0..{model.latent_dim - 1}")
    return dims


def start_code(args: argparse.Namespace, model: checkpoints.Model) -> np.ndarray:
    d = model.latent_dim
    if args.seed is not None:
        return rendering.random_codes(1, d, args.seed, model.layout)[0]
    if args.z is None:
        return layout_start(model.layout, model.kind == "gan")  # the window's start code
    try:
        z = np.load(args.z, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--z {args.z}: cannot read a .npy array ({exc})") from None
    try:
        z = np.asarray(z, np.float32).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"--z {args.z} holds {z.dtype} values, not numbers; save the code with np.save") from None
    if z.shape != (d,) or not np.isfinite(z).all():
        raise ValueError(f"--z {args.z} holds {z.size} values (finite ones needed); this model has {d} dimensions")
    return z


def _export_traversal(args: argparse.Namespace, models: list[checkpoints.Model]) -> None:
    model = models[0]
    if args.directions is not None:
        if args.dims != "all":
            raise ValueError("give --dims or --directions, not both: the rows are dimensions or directions")
        if args.mp4:
            raise ValueError("--directions exports a PNG or a GIF; name --out with .png or .gif")
        return directions_cli.export_traversal(args, model, start_code(args, model), _sources(args, models))
    dims, z = parse_dims(args.dims, model), start_code(args, model)
    grid, tiles = rendering.render_traversal(model, z, dims, args.steps, args.span)
    metadata = exporting.traversal_metadata(
        _sources(args, models), z, dims, args.steps, args.span, has_categorical(model.layout)
    )
    if args.gif or args.mp4:
        scale = args.scale or (figures.auto_scale(tiles.shape[1:3]) if args.mp4 else 1)
        if args.mp4:  # a GIF's metadata stays what it always was; a video also says its rate and enlargement
            metadata = {**metadata, "fps": args.fps, "scale": scale}
        save_traversal(args.out, tiles, len(dims), len(tiles) // len(dims), metadata, args.fps, scale)
    else:
        exporting.save_png(args.out, figures.enlarge(grid, args.scale or 1), metadata)


def _export_compare(args: argparse.Namespace, models: list[checkpoints.Model]) -> None:
    compare_export.export(args, models, None if args.sample is not None else start_code(args, models[0]))


def _export_interpolation(args: argparse.Namespace, models: list[checkpoints.Model]) -> None:
    sizes = {m.latent_dim for m in models}
    if len(sizes) != 1:
        raise ValueError(f"interpolation needs models of one latent size; these have {sorted(sizes)}")
    layouts = {m.layout for m in models}
    if len(layouts) != 1:
        raise ValueError("interpolation needs models of one latent layout; these group their codes differently")
    d, layout = sizes.pop(), layouts.pop()
    a, b = (rendering.random_codes(1, d, s, layout)[0] for s in (args.from_seed, args.to_seed))
    grid = rendering.render_interpolation(models, a, b, args.steps, args.slerp)
    exporting.save_png(
        args.out,
        grid,
        {
            "view": "interpolation",
            "checkpoints": _sources(args, models),
            "from_seed": args.from_seed,
            "to_seed": args.to_seed,
            "steps": args.steps,
            "mode": "slerp" if args.slerp else "linear",
            **({"categorical": CATEGORICAL_RULE} if has_categorical(layout) else {}),
            "from": a.tolist(),
            "to": b.tolist(),
        },
    )


def _export_samples(args: argparse.Namespace, models: list[checkpoints.Model]) -> None:
    grid, _ = rendering.render_samples(models[0], args.n, args.seed)
    exporting.save_png(
        args.out, grid, {"view": "samples", "checkpoints": _sources(args, models), "n": args.n, "seed": args.seed}
    )


def _export_reconstruction(args: argparse.Namespace, models: list[checkpoints.Model]) -> None:
    from trainer import datasets

    shapes = {m.image_shape for m in models}
    if len(shapes) != 1 or not all(m.has_encoder for m in models):
        raise ValueError("reconstruction needs models with encoders and one image shape")
    name = models[0].meta.dataset  # --dataset (with --data-dir / --data-file) is recorded on every model
    if name is None:
        raise ValueError("the checkpoint does not name its data set; pass --dataset (and --data-dir or --data-file)")
    data = datasets.for_model(name, models[0].meta.train_config, models[0].image_shape)
    if args.n > len(data):
        raise ValueError(f"--n {args.n} is more than the {len(data):,} samples of {name}; give at most {len(data)}")
    indices = np.random.default_rng(args.seed).choice(len(data), size=args.n, replace=False)
    grid, errors = rendering.render_reconstruction(models, data.images(indices))
    exporting.save_png(
        args.out,
        grid,
        {
            "view": "reconstruction",
            "checkpoints": _sources(args, models),
            "dataset": name,
            "indices": indices.tolist(),
            "mse": errors.tolist(),
        },
    )


EXPORTS = {
    "traversal": _export_traversal,
    "interpolation": _export_interpolation,
    "samples": _export_samples,
    "reconstruction": _export_reconstruction,
    "compare": _export_compare,
}
