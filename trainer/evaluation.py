"""`latent-train eval CKPT`: the disentanglement metrics of one checkpoint, cached in a sidecar file.

The sidecar sits beside the checkpoint (`<stem>.metrics.json`; inside a disentangling-vae results
folder, `latent-explorer.metrics.json`) and maps "sha256|dataset|n|seed|fast-or-full|version" to
the metrics, so a rewritten checkpoint or a new metrics version never reuses old numbers. It is
written atomically and never rewrites the checkpoint itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import checkpoints
from checkpoints.atomic import atomic_write_bytes
from checkpoints.flags import load_options
from checkpoints.statistics import ACTIVE_KL_NATS, ACTIVE_STD

from . import datasets

# Bump when a metric's definition, estimator or default sizes change: old caches and stored figures are then
# recomputed. 3: DCI by boosted trees on histograms, FactorVAE votes from the encoded codes, n/2 test samples.
METRICS_VERSION = 3
FOLDER_SIDECAR = "latent-explorer.metrics.json"
HEADLINE = (
    ("mig", "MIG"),
    ("factorvae", "FactorVAE score"),
    ("dci_disentanglement", "DCI disentanglement"),
    ("dci_completeness", "DCI completeness"),
    ("dci_informativeness", "DCI informativeness"),
    ("sap", "SAP"),
)


ESTIMATOR_OF = {  # headline key -> its entry in metrics["estimators"]
    "mig": "mig",
    "factorvae": "factorvae",
    "dci_disentanglement": "dci",
    "dci_completeness": "dci",
    "dci_informativeness": "dci",
    "sap": "sap",
}


def is_current(metrics: dict) -> bool:
    """Whether `metrics` (cached or stored in a checkpoint) came from this version's estimators.

    Older figures (the random-forest DCI, a few hundred FactorVAE votes) disagree with
    disentanglement_lib by up to 0.08; they are recomputed rather than shown.
    """
    return metrics.get("metrics_version") == METRICS_VERSION and isinstance(metrics.get("estimators"), dict)


def estimator_note(metrics: dict, key: str) -> str:
    """How the headline figure `key` was measured, e.g. "boosted trees on histograms (100 stages of depth 3),
    10,000 training + 5,000 test samples, seed 0"; "" when `metrics` does not say."""
    estimators = metrics.get("estimators")
    note = estimators.get(ESTIMATOR_OF.get(key, key)) if isinstance(estimators, dict) else None
    return note if isinstance(note, str) else ""


def sidecar_path(checkpoint: str | Path) -> Path:
    """Where the metrics of `checkpoint` are cached: beside the file, or inside a results folder."""
    path = Path(checkpoint)
    if path.is_dir():
        return path / FOLDER_SIDECAR
    return path.with_name(path.name.removesuffix(".safetensors").removesuffix(".pt") + ".metrics.json")


def cache_key(sha256: str, dataset: str, n: int, seed: int, full: bool) -> str:
    return f"{sha256}|{dataset}|{n}|{seed}|{'full' if full else 'fast'}|v{METRICS_VERSION}"


def read_cached(checkpoint: str | Path, key: str) -> dict | None:
    """The cached metrics for `key`, or None (no sidecar, another key, or an unreadable file)."""
    try:
        entries = json.loads(sidecar_path(checkpoint).read_text())["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    found = entries.get(key) if isinstance(entries, dict) else None
    if not isinstance(found, dict):
        return None
    if not all(isinstance(found.get(k), (int, float)) and not isinstance(found.get(k), bool) for k, _ in HEADLINE):
        # damaged or written by other code: measure again rather than fail on it ever after
        print(
            f"latent-train: note: {sidecar_path(checkpoint).name} holds an incomplete entry; measuring again",
            file=sys.stderr,
        )
        return None
    return found


def write_cached(checkpoint: str | Path, key: str, metrics: dict) -> None:
    """Add `metrics` under `key`, dropping entries of other versions of the checkpoint or of the estimators.

    Raises CheckpointError."""
    path = sidecar_path(checkpoint)
    sha, version = key.split("|", 1)[0], key.rsplit("|", 1)[-1]
    try:
        entries = json.loads(path.read_text())["entries"]
        entries = {k: v for k, v in entries.items() if k.split("|", 1)[0] == sha and k.rsplit("|", 1)[-1] == version}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        entries = {}
    entries[key] = metrics
    text = json.dumps({"format_version": 1, "entries": entries}, indent=1, allow_nan=False)
    atomic_write_bytes(path, text.encode())


def dataset_for(model: checkpoints.Model, name: str | None) -> datasets.Dataset:
    """The data set to measure on: `name`, else the one the checkpoint records, at the model's image size."""
    recorded = model.meta.dataset
    name = name or recorded
    if not name:
        raise ValueError("the checkpoint does not record its data set; pass --dataset NAME (e.g. dsprites)")
    if name != recorded or model.meta.train_config.get("data_dir") or model.meta.train_config.get("data_file"):
        where = model.meta.train_config if name == recorded else {}
        reason = datasets.given_data_reason(name, where, model.image_shape)
        if reason is not None:
            raise ValueError(f"cannot measure on --dataset {name}: {reason}")
    options: dict[str, Any] = {"image_size": model.image_shape[1]}
    if name == recorded:  # the files it was trained on (or given with --data-dir / --data-file)
        options.update(
            data_dir=model.meta.train_config.get("data_dir"), data_file=model.meta.train_config.get("data_file")
        )
    if name == "folder":  # folder images are read at the model's size and channels
        options["channels"] = model.image_shape[0]
    return datasets.get(name, **options)


def format_table(name: str, metrics: dict, cached: bool) -> str:
    """The metrics as a readable table, with the mutual information matrix normalised by factor entropy."""
    mode = "full: disentanglement_lib's estimators" if metrics.get("full") else "fast"
    test = f" + {metrics['n_test']:,} test" if metrics.get("n_test") else ""
    lines = [
        f"{name} on {metrics.get('dataset')} (n={metrics.get('n', 0):,}{test}, seed {metrics.get('seed')}, "
        f"{mode}{', cached' if cached else ''})"
    ]
    notes = {key: estimator_note(metrics, key) for key, _ in HEADLINE}
    notes["dci_completeness"] = "the same trees" if notes["dci_completeness"] else ""
    notes["dci_informativeness"] = "their mean test accuracy" if notes["dci_informativeness"] else ""
    for key, label in HEADLINE:
        note = f"   ({notes[key]})" if notes[key] else ""
        lines.append(f"  {label:<22}{metrics[key]:6.3f}{note}")
    kl, active = metrics.get("kl_per_dim"), metrics.get("active_dims", [])
    dims = len(kl) if kl else len(metrics.get("mi_matrix", []))
    rule = f"KL > {ACTIVE_KL_NATS} nats" if kl else f"code std >= {ACTIVE_STD}"
    lines.append(f"  {'active dims':<22}{len(active)} of {dims} ({rule}): {', '.join(f'z{d}' for d in active)}")
    if kl:
        lines.append(f"  {'KL per dim (nats)':<22}" + "  ".join(f"z{d} {v:.2f}" for d, v in enumerate(kl)))
    factors, mi, entropy = metrics.get("factor_names", []), metrics.get("mi_matrix"), metrics.get("factor_entropy")
    if mi and entropy:
        width = max(8, *(len(f) + 2 for f in factors))
        lines.append("")
        lines.append("  mutual information / factor entropy (MIG's table)")
        lines.append("  " + " " * 6 + "".join(f"{f:>{width}}" for f in factors))
        for d, row in enumerate(mi):
            cells = "".join(f"{v / h if h > 0 else 0.0:>{width}.3f}" for v, h in zip(row, entropy))
            lines.append(f"  {'z' + str(d):<6}{cells}")
    return "\n".join(lines)


def eval_command(args: Any) -> int:
    """Load, measure (or read the cache), print a table or one JSON object. Errors reach the CLI as exceptions."""
    from tqdm import tqdm

    from .metrics import evaluate
    from .metrics.evaluate import check_model

    model = checkpoints.load(args.checkpoint, device=args.device, **load_options(args))
    check_model(model)
    data = dataset_for(model, args.dataset)
    key = cache_key(model.sha256 or "", data.name, args.n, args.seed, args.full)
    metrics = read_cached(args.checkpoint, key)
    cached = metrics is not None
    if metrics is None:
        with tqdm(
            total=1000,
            desc="eval",
            file=sys.stderr,
            disable=None,
            leave=False,
            bar_format="{l_bar}{bar}| {elapsed}<{remaining}",
        ) as bar:

            def progress(fraction: float) -> None:
                bar.update(int(fraction * 1000) - bar.n)

            try:
                metrics = evaluate(model, data, n=args.n, seed=args.seed, full=args.full, progress=progress)
            except KeyboardInterrupt:
                print("latent-train: interrupted; nothing was cached", file=sys.stderr)
                return 130
        try:
            write_cached(args.checkpoint, key, metrics)
        except checkpoints.CheckpointError as exc:
            print(f"latent-train: note: the metrics were not cached: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(metrics, allow_nan=False))
    else:
        print(format_table(Path(args.checkpoint).name, metrics, cached))
    return 0
