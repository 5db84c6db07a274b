"""The command-line flags that open other people's models, shared by every command that loads one.

    add_import_flags(parser)                       # --latent-dim, --arch-file, --model-class, ...
    model = checkpoints.load(args.checkpoint, **load_options(args))

Standard library only (no torch), so a GUI process can build its parser without loading torch.
Flags a parser already has (say its own --latent-dim or --dataset) are left as they are;
`load_options` reads whichever of them are there.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

IMPORT_FLAGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--latent-dim", {"type": int, "metavar": "N", "help": "latent size of a TorchScript or ONNX generator, or of "
                      "an --arch-file / --model-class decoder that does not say it"}),
    ("--model-class", {"metavar": "FILE.py:CLASS", "help": "build the networks with your own class (runs FILE.py; "
                       "its folder and repository root are importable), load the state dict strictly"}),
    ("--model-args", {"metavar": "ARGS", "help": "constructor arguments for --model-class: JSON or key=value pairs, "
                      "e.g. latent_dim=16 hidden=[64,32]"}),
    ("--arch-file", {"metavar": "FILE.py", "help": "a Python file with build_decoder(state_dict) (runs it; "
                     "docs/importing.md)"}),
    ("--output-range", {"metavar": "LOW,HIGH", "help": "the decoder's pixel range: --output-range=0,1 or "
                        "--output-range=-1,1 (with '=': it starts with a minus); default: measured on a probe batch"}),
    ("--encoder", {"metavar": "ENC.onnx", "help": "the ONNX encoder beside an ONNX decoder"}),
    ("--trust-code", {"action": "store_true", "help": "open TorchScript files, whose compiled code RUNS when they "
                      "are opened (only files you trust)"}),
)  # fmt: skip

DATA_FLAGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--dataset", {"metavar": "NAME", "help": "the data set to encode for this model (dsprites, faces, digits, "
                   "mnist, folder); default: the one the checkpoint records"}),
    ("--data-dir", {"metavar": "DIR", "help": "the folder the data set reads (mnist, folder)"}),
    ("--data-file", {"metavar": "FILE", "help": "the file the data set reads (the official dsprites .npz)"}),
)  # fmt: skip


def add_import_flags(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    """Add the import flags (and, with `data`, the data-set flags) the parser does not have yet."""
    have = set(parser._option_string_actions)  # argparse has no public way to ask
    group = parser.add_argument_group("opening other people's models (docs/importing.md)")
    for flag, options in IMPORT_FLAGS + (DATA_FLAGS if data else ()):
        if flag not in have:
            group.add_argument(flag, **({"default": None} | options))


def parse_output_range(text: str | None) -> tuple[float, float] | None:
    """'0,1' or '-1,1' (or '-1:1') -> (low, high). Raises ValueError with the sentence to show."""
    if text is None:
        return None
    parts = text.replace(":", ",").split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--output-range {text!r} must be LOW,HIGH, e.g. 0,1 or -1,1") from None
    if not low < high:
        raise ValueError(f"--output-range {text!r}: LOW must be below HIGH")
    return low, high


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `checkpoints.load` keyword arguments the parsed flags ask for (absent flags are left out).

    Raises ValueError, with the sentence to show, for flags that cannot work together or name no file.
    """
    names = ("latent_dim", "model_class", "model_args", "arch_file", "encoder", "dataset", "data_dir", "data_file")
    options = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    _check(options)
    output_range = parse_output_range(getattr(args, "output_range", None))
    if output_range is not None:
        options["output_range"] = output_range
    if getattr(args, "trust_code", False):
        options["trust_code"] = True
    return options


def _check(options: dict[str, Any]) -> None:
    latent_dim = options.get("latent_dim")
    if latent_dim is not None and latent_dim < 1:
        raise ValueError(f"--latent-dim must be a positive number of dimensions, not {latent_dim}")
    if "arch_file" in options and "model_class" in options:
        raise ValueError("give --arch-file or --model-class, not both: each says how to build the networks")
    if "model_args" in options and "model_class" not in options:
        raise ValueError("--model-args are the arguments of --model-class; name the class too")
    for flag, what in (("arch_file", "the Python file that defines the decoder"), ("encoder", "the encoder's .onnx")):
        if flag in options and not Path(options[flag]).expanduser().is_file():
            raise ValueError(f"--{flag.replace('_', '-')} {options[flag]} does not exist; give {what}")
