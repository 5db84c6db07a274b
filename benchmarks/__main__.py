"""`python -m benchmarks [--quick] [--out bench-results.json]`: run every benchmark, write one flat JSON object."""

from __future__ import annotations

import argparse
import json
import sys

import torch

from . import faces_render, projection, scale, slider, startup, train_step, views

BENCHMARKS = {
    "train_step": train_step.run,
    "slider": slider.run,
    "views": views.run,
    "scale": scale.run,
    "startup": startup.run,
    "faces_render": faces_render.run,
    "projection": projection.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--out", default="bench-results.json")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args(argv)
    results: dict[str, object] = {}
    for name in args.only or BENCHMARKS:
        figures = BENCHMARKS[name](quick=args.quick)
        for key, value in figures.items():
            print(f"{key:28s} {value:.4g}")
        results.update(figures)
    results["device"] = "cpu"
    results["torch"] = torch.__version__
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
