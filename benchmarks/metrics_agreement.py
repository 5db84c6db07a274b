"""`python -m benchmarks.metrics_agreement`: our fast DCI and FactorVAE against a port of disentanglement_lib's.

For each case, 15,000 codes drawn as `evaluate` draws them (seed 0): DCI trained on the first 10,000
and tested on the other 5,000, by our default (GradientBoosting's algorithm on histograms) and by
disentanglement_lib's `compute_importance_gbt` (GradientBoostingClassifier(), 80-400 s a case); the
FactorVAE score by our
default (votes drawn from the 15,000 codes) and, for the entangled known case (and every case with
`--factorvae-reference`: 960,000 images encoded, ~10 min a model on 2 cores), by disentanglement_lib's
10,000 + 5,000 freshly encoded votes. Prints one row per case and appends it as JSON to `--out`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path("/work/shared/fixtures/disentangling-vae")
CASES = {
    "zoo dsprites-vae": ROOT / "checkpoints" / "zoo" / "dsprites-vae.safetensors",
    "zoo dsprites-betavae": ROOT / "checkpoints" / "zoo" / "dsprites-betavae.safetensors",
    "disentangling-vae VAE_dsprites": FIXTURES / "VAE_dsprites",
    "disentangling-vae betaH_dsprites": FIXTURES / "betaH_dsprites",
    "entangled (random rotation of factors)": None,
}
N = 10_000


def codes_of(case: str) -> tuple[np.ndarray, np.ndarray, Any]:
    """(15,000, D) codes, (15,000, F) factor classes and a `represent(classes) -> codes` for fresh votes."""
    from tests.trainer.dlib_reference import DSPRITES_SIZES, entangled_codes

    rng = np.random.default_rng(0)
    path = CASES[case]
    if path is None:
        classes = np.stack([rng.integers(0, s, N + N // 2) for s in DSPRITES_SIZES], axis=1)
        noise = np.random.default_rng(1)
        return entangled_codes(classes, noise), classes, lambda c: entangled_codes(c, noise)
    import checkpoints
    from trainer import datasets
    from trainer.metrics.evaluate import encode_classes

    model = checkpoints.load(path, device="cpu")
    data = datasets.get("dsprites", image_size=model.image_shape[1])
    classes = data.sample_factors(N + N // 2, rng)
    return encode_classes(model, data, classes)[0], classes, lambda c: encode_classes(model, data, c)[0]


def measure(case: str, factorvae_reference: bool) -> dict[str, Any]:
    from tests.trainer import dlib_reference as ref
    from trainer.metrics import dci
    from trainer.metrics.factorvae import factorvae_from_codes

    codes, classes, represent = codes_of(case)
    row: dict[str, Any] = {"case": case}
    start = time.perf_counter()
    ours = dci(codes[:N], classes[:N], codes[N:], classes[N:])
    row.update(dci_d=ours.disentanglement, dci_c=ours.completeness, dci_i=ours.informativeness)
    row["dci_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    row["factorvae"] = factorvae_from_codes(codes, classes, codes[:N], np.random.default_rng(0)).eval_accuracy
    row["factorvae_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    reference = ref.dci(codes[:N].T, classes[:N].T, codes[N:].T, classes[N:].T)
    row.update(ref_dci_d=reference["disentanglement"], ref_dci_c=reference["completeness"])
    row.update(ref_dci_i=reference["informativeness_test"], ref_dci_seconds=time.perf_counter() - start)
    if factorvae_reference or CASES[case] is None:
        start = time.perf_counter()
        sizes = tuple(int(s) for s in classes.max(axis=0) + 1)
        result = ref.factor_vae(represent, sizes, np.random.RandomState(0))
        row.update(ref_factorvae=result["eval_accuracy"], ref_factorvae_seconds=time.perf_counter() - start)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics_agreement", description=__doc__)
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--factorvae-reference", action="store_true", help="also the slow reference for models")
    parser.add_argument("--out", default="metrics-agreement.jsonl")
    args = parser.parse_args(argv)
    for case in args.cases:
        row = measure(case, args.factorvae_reference)
        with open(args.out, "a") as out:
            out.write(json.dumps(row) + "\n")
        fvae = f"{row['factorvae']:.3f} / " + (f"{row['ref_factorvae']:.3f}" if "ref_factorvae" in row else "–")
        print(
            f"{case:<40} DCI-D {row['dci_d']:.3f} / {row['ref_dci_d']:.3f}  DCI-C {row['dci_c']:.3f} / "
            f"{row['ref_dci_c']:.3f}  FactorVAE {fvae}  ({row['dci_seconds']:.0f} s vs {row['ref_dci_seconds']:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
