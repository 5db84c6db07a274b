"""`latent-train`: train ae / vae / gan models. Flags come from `TrainConfig`'s fields.

latent-train vae --dataset dsprites --latent-dim 10 --beta 4 --steps 300 --out runs/a.safetensors
latent-train vae --resume runs/a.safetensors --steps 600
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any, NoReturn

from checkpoints import CheckpointError
from checkpoints.flags import add_import_flags
from checkpoints.statistics import ACTIVE_KL_NATS

from .config import KINDS, TrainConfig

EXIT_BAD_INPUT = 2
INFOGAN_CODES = "cat:10,cont:2"  # Chen et al. 2016's MNIST codes: the digit and two continuous (width, slant)
INFOGAN_NOISE = 62  # and their 62 noise dimensions
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """Bad flags end in one line, `latent-train: error: ...`, and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _flag_type(annotation: Any) -> type:
    hint = typing.get_type_hints(TrainConfig)[annotation] if isinstance(annotation, str) else annotation
    if isinstance(hint, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per `TrainConfig` field; defaults are suppressed so we know which flags were given."""
    for f in dataclasses.fields(TrainConfig):
        if f.metadata.get("flag", True) is False:
            continue
        kind = _flag_type(f.name)
        if kind is bool:  # a switch: --compile
            parser.add_argument(
                "--" + f.name.replace("_", "-"),
                dest=f.name,
                action="store_true",
                default=argparse.SUPPRESS,
                help=f.metadata["help"],
            )
            continue
        default = "" if f.default is None else f" (default {f.default})"
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=kind,
            choices=f.metadata.get("choices"),
            default=argparse.SUPPRESS,
            metavar=kind.__name__.upper() if "choices" not in f.metadata else None,
            help=f.metadata["help"] + default,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="latent-train", description="Train models for latent-explorer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for kind, text in zip(KINDS, ("deterministic autoencoder", "VAE / beta-VAE", "DCGAN")):
        sub = commands.add_parser(kind, help=f"train a {text}", description=f"Train a {text}.")
        add_config_flags(sub)
        sub.set_defaults(handler=_train_command, kind=kind)
    info = commands.add_parser(
        "infogan",
        help="train an InfoGAN (gan with --codes, default cat:10,cont:2 and 62 noise dims)",
        description="Train an InfoGAN (Chen et al. 2016): a DCGAN whose generator takes structured codes beside "
        f"the noise and a Q network that reads them back; the same as gan --codes {INFOGAN_CODES} "
        f"--latent-dim {INFOGAN_NOISE} unless given.",
    )
    add_config_flags(info)
    info.set_defaults(handler=_train_command, kind="gan")
    zoo = commands.add_parser(
        "zoo",
        help="rebuild the bundled models in checkpoints/zoo/",
        description="Rebuild the bundled models reproducibly (fixed seeds and recipes).",
    )
    zoo.add_argument("--only", action="append", metavar="NAME", help="build only this model (repeatable)")
    zoo.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    zoo.add_argument(
        "--resume",
        action="store_true",
        help="continue interrupted builds from checkpoints/zoo/.build/ instead of starting over",
    )
    zoo.add_argument(
        "--measure",
        action="store_true",
        help="only recompute the figures (metrics, reconstruction error) stored in the zoo files",
    )
    zoo.add_argument(
        "--readers",
        action="store_true",
        help="only retrain the factor readers that judge the zoo's pictures (checkpoints/zoo/readers/)",
    )
    zoo.set_defaults(handler=_zoo_command)
    add_eval_parser(commands)
    return parser


def add_eval_parser(commands: argparse._SubParsersAction) -> None:
    """`latent-train eval CKPT`: disentanglement metrics as a table or JSON, cached beside the checkpoint."""
    ev = commands.add_parser(
        "eval",
        help="disentanglement metrics of a checkpoint (MIG, FactorVAE, DCI, SAP, KL)",
        description="Measure a checkpoint on a data set with known factors; the result is "
        "cached in <stem>.metrics.json beside it.",
    )
    ev.add_argument(
        "checkpoint",
        metavar="CKPT",
        help="a .safetensors file, a results folder, or any model latent-explorer opens (docs/importing.md)",
    )
    ev.add_argument("--dataset", help="data set with factors (default: the one the checkpoint records)")
    ev.add_argument("--n", type=int, default=10_000, help="encoded samples for MIG, DCI and SAP (default 10000)")
    ev.add_argument("--seed", type=int, default=0, help="seed of the samples and classifiers (default 0)")
    ev.add_argument(
        "--full",
        action="store_true",
        help="disentanglement_lib sizes: 10k/5k FactorVAE votes, boosted trees for DCI (slow)",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ev.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    add_import_flags(ev)  # the same flags the explorer opens models with, and --data-dir / --data-file
    ev.set_defaults(handler=_eval_command)


EVAL_MAX_N = 1_000_000  # encoded samples: more fills memory and takes hours on a CPU, for no steadier scores
MAX_SEED = 2**63 - 1


def _eval_command(args: argparse.Namespace) -> int:
    from checkpoints.sniff import holds_compiled_code

    from .evaluation import eval_command
    from .metrics.evaluate import MIN_SAMPLES

    if args.n < MIN_SAMPLES:
        raise ValueError(
            f"n={args.n} is too few samples for --n; use at least {MIN_SAMPLES} (disentanglement_lib uses 10,000)"
        )
    if args.n > EVAL_MAX_N:
        raise ValueError(f"--n {args.n} is too many samples (at most {EVAL_MAX_N:,}; more only fills memory)")
    if not 0 <= args.seed <= MAX_SEED:
        raise ValueError(f"--seed must be between 0 and 2^63-1 (a 64-bit generator seed), got {args.seed}")
    # decided before anything runs: a TorchScript file's code would run as it opens, for a model with no encoder
    if holds_compiled_code(args.checkpoint) and not (
        getattr(args, "arch_file", None) or getattr(args, "model_class", None)
    ):
        raise CheckpointError(
            f"{Path(args.checkpoint).name} is a TorchScript generator (decoder only), which latent-train eval "
            "cannot measure: the metrics need an encoder; none of its code was run"
        )
    return eval_command(args)


def _zoo_command(args: argparse.Namespace) -> int:
    from . import zoo
    from .loop import Interrupted

    if args.readers:
        zoo.build_readers()
        return 0
    try:
        return zoo.main(args.only, args.device, args.resume, measure_only=args.measure)
    except Interrupted as exc:  # the build's work file is saved; `latent-train zoo --resume` continues it
        print(f"{exc}; or run latent-train zoo --resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _train_command(args: argparse.Namespace) -> int:
    from .distributed import detect
    from .loop import Interrupted, train

    given = {k: v for k, v in vars(args).items() if k not in ("command", "handler")}
    if args.command == "infogan" and "resume" not in given:  # a resume keeps the run's recorded codes
        given.setdefault("codes", INFOGAN_CODES)
        given.setdefault("latent_dim", INFOGAN_NOISE)
    explicit = frozenset(given) - {"kind"}
    config = TrainConfig(**given)
    is_main = detect().is_main  # under torchrun, rank 0 writes the files and says so
    try:
        model = train(config, explicit=explicit)
    except Interrupted as exc:
        if is_main:
            print(exc, file=sys.stderr)
        return EXIT_INTERRUPTED
    if not is_main:
        return 0
    kl = model.meta.kl_per_dim
    active = (
        f", {sum(k > ACTIVE_KL_NATS for k in kl)} of {len(kl)} dims active (KL > {ACTIVE_KL_NATS} nats)" if kl else ""
    )
    out = config.out or config.resume
    print(f"saved {out} (step {model.meta.steps}{active})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, CheckpointError) as exc:
        print(f"latent-train: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
