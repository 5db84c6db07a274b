"""The flags that open other people's models, one definition for the window and every headless command.

`add_import_flags` puts them on a parser; `import_options` turns the parsed flags into the keyword
arguments of `protocol.LoadOptions` (what the worker, or the headless path, hands to
`checkpoints.load`). Raises ValueError with the sentence the user reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_import_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("other people's models (docs/importing.md)")
    group.add_argument(
        "--latent-dim", type=int, metavar="N", help="latent size of a generator or arch file that does not record it"
    )
    group.add_argument(
        "--arch-file",
        metavar="F.py",
        help="your Python file that builds the decoder of a state dict of another architecture; it RUNS that file",
    )
    group.add_argument(
        "--model-class", metavar="F.py:Class", help="your own model class, built and loaded strictly; it RUNS that file"
    )
    group.add_argument("--model-args", metavar="ARGS", help="the class's arguments: JSON, or key=value pairs")
    group.add_argument(
        "--output-range", metavar="LOW,HIGH", help="the decoder's pixel range, 0,1 or -1,1 (default: measured)"
    )
    group.add_argument("--encoder", metavar="ENC.onnx", help="the ONNX encoder of an ONNX decoder")
    group.add_argument(
        "--dataset", metavar="NAME", help="the data set to encode for the model: dsprites, faces, digits, mnist, folder"
    )
    group.add_argument("--data-dir", metavar="D", help="where that data set's files are (mnist, folder)")
    group.add_argument("--data-file", metavar="F", help="the data set's one file (the official dSprites .npz)")
    group.add_argument(
        "--trust-code",
        action="store_true",
        help="open TorchScript files, whose compiled code RUNS when they are opened (only files you trust)",
    )


def import_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed flags as LoadOptions' fields; files named must exist (paths made absolute)."""
    if args.latent_dim is not None and args.latent_dim < 1:
        raise ValueError(f"--latent-dim must be a positive number of dimensions, not {args.latent_dim}")
    if args.arch_file is not None and args.model_class is not None:
        raise ValueError("give --arch-file or --model-class, not both: each says how to build the networks")
    if args.model_args is not None and args.model_class is None:
        raise ValueError("--model-args are the arguments of --model-class; name the class too")
    return dict(
        latent_dim=args.latent_dim,
        arch_file=_existing(args.arch_file, "--arch-file", "the Python file that defines the decoder"),
        model_class=_model_class(args.model_class),
        model_args=args.model_args,
        output_range=_output_range(args.output_range),
        encoder=_existing(args.encoder, "--encoder", "the encoder's .onnx file"),
        dataset=args.dataset,
        data_dir=_absolute(args.data_dir),
        data_file=_absolute(args.data_file),
        trust_code=args.trust_code,
    )


def _absolute(value: str | None) -> str | None:
    return None if value is None else str(Path(value).expanduser().absolute())


def _existing(value: str | None, flag: str, what: str) -> str | None:
    if value is None:
        return None
    if not Path(value).expanduser().is_file():
        raise ValueError(f"{flag} {value} does not exist; give {what}")
    return _absolute(value)


def _model_class(value: str | None) -> str | None:
    if value is None:
        return None
    file, sep, name = value.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise ValueError(f"--model-class must be FILE.py:ClassName, not {value!r}")
    return f"{_existing(file, '--model-class', 'the Python file that defines the class')}:{name}"


def _output_range(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    ranges = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0)}
    if value.replace(" ", "") not in ranges:
        raise ValueError(f"--output-range must be 0,1 or -1,1, not {value!r}")
    return ranges[value.replace(" ", "")]
