"""Training loops for ae/vae and gan: seeds, progress, periodic atomic checkpoints, resume, torchrun.

    model = train(TrainConfig(kind="vae", dataset="dsprites", steps=300, out="runs/a.safetensors"))

The same function runs under `torchrun --nproc-per-node N -m trainer.cli ...` (see distributed.py);
the state of one run and its step live in run.py, batches in pipeline.py.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

import checkpoints
from checkpoints import Model, create_model, resolve_device
from checkpoints.atomic import check_output
from checkpoints.format import app_version

from . import codes, datasets, distributed
from .budget import check_batch_fits
from .config import FILE_FLAGS, RESUME_MAY_CHANGE, TrainConfig, check
from .distributed import StopRequest, World
from .divergence import Diverged
from .precision import check_precision
from .run import HISTORY_ROWS, Run, snapshot_path
from .statistics import latent_statistics

__all__ = [
    "HISTORY_ROWS",
    "Diverged",
    "Interrupted",
    "Run",
    "iterate",
    "latent_statistics",
    "prepare",
    "progress_bar",
    "snapshot_path",
    "train",
]


class Interrupted(Exception):
    """Raised after Ctrl+C (or SIGTERM) once the current state is saved; carries the step reached."""

    def __init__(self, step: int, path: Path) -> None:
        super().__init__(f"interrupted at step {step}; saved {path} — continue with --resume {path}")


def prepare(config: TrainConfig, explicit: frozenset[str] | None = None, world: World = World()) -> Run:
    """Check the config, build the data set and model (or reload them to resume).

    `explicit`: the fields the user set on the command line (None: those that differ from the
    defaults); on resume, only those in RESUME_MAY_CHANGE replace the checkpoint's, and the others
    must agree with it. `world`: torchrun's processes (this joins their process group). Raises
    ValueError/CheckpointError.
    """
    if config.resume:
        config = merge_resumed(config, given_fields(config) if explicit is None else explicit)
    check(config)
    assert config.out is not None  # check() requires --out or --resume, and merge_resumed defaults --out to it
    device = distributed.start(world, resolve_device(config.device))
    check_precision(config.precision, device)
    data = datasets.get(
        config.dataset,
        image_size=config.image_size,
        data_dir=config.data_dir,
        data_file=config.data_file,
        channels=config.channels,
    )
    # an InfoGAN's or a conditional GAN's input: the noise, then the codes or the class (checked before any write)
    layout = codes.layout_for(config, data)
    latent_dim = sum(g.size for g in layout) if layout else config.latent_dim
    check_batch_fits(config.batch_size, config.architecture, config.kind, latent_dim, data.image_shape, device)
    if world.is_main:  # the only process that writes
        check_writable(Path(config.out))
        check_run_output(config)
    if config.resume:  # every rank reads the same files: --resume must be on a file system all nodes share
        model = checkpoints.load(config.resume, device=device)
        state = checkpoints.load_training_state(config.resume, model)
        # the record follows the run: a resume may have moved --steps (or --batch-size ...) on
        model.with_meta(train_config={**model.meta.train_config, **config.recorded()})
        run = Run(config, data, model, device, world)
        run.restore(state)
        return run
    torch.manual_seed(config.seed)
    recorded = config.recorded() | ({"world_size": world.size} if world.is_distributed else {})
    model = create_model(
        config.architecture,
        config.kind,
        latent_dim,
        data.image_shape,
        arch_options=codes.arch_options(config),
        layout=layout,
        dataset=data.name,
        factor_names=data.factor_names,
        beta=config.beta if config.kind == "vae" else None,
        recon=None if config.kind == "gan" else config.recon,
        train_config=recorded,
        description=config.description,
        app_version=app_version(),
    )
    return Run(config, data, model.to(device), device, world)


def given_fields(config: TrainConfig) -> frozenset[str]:
    """The fields of `config` that differ from TrainConfig's defaults: what a caller of `train` asked for."""
    return frozenset(f.name for f in dataclasses.fields(config) if getattr(config, f.name) != f.default)


def merge_resumed(config: TrainConfig, explicit: frozenset[str] = frozenset()) -> TrainConfig:
    """The recorded config of --resume's checkpoint, with the flags in RESUME_MAY_CHANGE that were given
    explicitly taken from `config`: a resume is the same run unless told otherwise."""
    assert config.resume is not None  # prepare merges only for a resume
    recorded = _peek_train_config(config.resume)
    given = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    if recorded.get("kind", config.kind) != config.kind:
        raise ValueError(
            f"{Path(config.resume).name} is a {recorded['kind']} run; resume it with `latent-train "
            f"{recorded['kind']} --resume ...`"
        )
    for name in sorted(explicit - RESUME_MAY_CHANGE - FILE_FLAGS):
        if name in recorded and recorded[name] != given[name]:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{Path(config.resume).name} was trained with {flag} {recorded[name]}, not "
                f"{given[name]}; drop {flag} to resume, or start a new run"
            )
    merged = {**recorded, **{k: given[k] for k in RESUME_MAY_CHANGE & explicit}}
    merged.update(out=config.out or config.resume, resume=config.resume, overwrite=config.overwrite)
    return TrainConfig(**{k: v for k, v in merged.items() if k in given})


def _peek_train_config(path: str) -> dict[str, Any]:
    model = checkpoints.load(path, device="cpu")
    recorded = dict(model.meta.train_config)
    if not recorded:
        raise checkpoints.TrainingStateError(
            f"cannot resume from {Path(path).name}: it records no training configuration (not written by latent-train)"
        )
    return recorded


def check_writable(out: Path) -> None:
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name such as {out / 'model.safetensors'}")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out {out}: the folder {folder} does not exist; create it first")
    if not _can_write(folder) or (out.exists() and not _can_write(out)):
        raise ValueError(f"--out {out} is not writable; choose another path")


def check_run_output(config: TrainConfig) -> None:
    """Refuse to replace an existing checkpoint or training state at --out (unless --overwrite) or an input.

    A resume that writes back to its own --resume file continues that run, which is what it is for.
    """
    assert config.out is not None  # check() requires --out, and a resume defaults it to --resume
    out = Path(config.out)
    sidecar = checkpoints.training_state_path(out)
    if config.resume is not None and _same_file(out, Path(config.resume)):
        return
    inputs = [p for p in (config.data_file, config.resume) if p is not None]
    if config.resume is not None:
        inputs.append(str(checkpoints.training_state_path(config.resume)))
    # a new run over an old one: say what is there and how to continue it instead
    remedy = None if config.resume else "continue it with --resume, or pass --overwrite to start over"
    for target in (out, sidecar):
        check_output(target, overwrite=config.overwrite, inputs=inputs, remedy=remedy)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except (OSError, RuntimeError):
        return False


def _can_write(path: Path) -> bool:
    """Try it: os.access says yes to root even where writes fail (read-only mounts, /proc)."""
    if path.is_file():
        return os.access(path, os.W_OK)
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def train(config: TrainConfig, progress: bool = True, explicit: frozenset[str] | None = None) -> Model:
    """Run (or continue) training to `config.steps`; returns the trained model, saved at --out.

    Under torchrun every rank calls this; rank 0 shows the progress bar and writes the files.
    Ctrl+C or SIGTERM stops all ranks at the same step, saves, and raises Interrupted.
    """
    world = distributed.detect()
    try:
        run = prepare(config, explicit, world)
        try:
            model = _loop(run, progress)
        finally:
            run.batches.close()
            del run  # its DDP wrappers hold the process group: let them go before it is destroyed
        return model
    finally:
        distributed.stop()


def _loop(run: Run, progress: bool) -> Model:
    cfg = run.config
    bar = progress_bar(run, enabled=progress and run.world.is_main)
    with StopRequest(run.world, run.device) as stop:  # still catching signals while the last save runs
        try:
            while run.step_count < cfg.steps:
                iterate(run, bar)
                if stop.due(run.step_count):
                    break
        except KeyboardInterrupt:  # where no signal handler could be installed (not the main thread)
            pass
        except Diverged:
            bar.close()  # the message goes on a line of its own
            raise
        bar.close()
        if run.step_count < cfg.steps:
            run.watch.check(run.out, network=run.model.network, step=run.step_count)
            run.save()
            raise Interrupted(run.step_count, run.out)
    run.model.network.eval()
    return run.model


def progress_bar(run: Run, enabled: bool = True) -> tqdm:
    cfg = run.config
    return tqdm(
        total=cfg.steps,
        initial=run.step_count,
        disable=not enabled,
        file=sys.stderr,
        desc=f"{cfg.kind} {cfg.dataset}",
        unit="step",
        dynamic_ncols=True,
        mininterval=0.5,
    )


def iterate(run: Run, bar: tqdm) -> None:
    """One turn of the training loop: a step, the loss record, the progress bar, any due save."""
    cfg = run.config
    means = run.record(run.step())
    if run.watch.every_step or means is not None:  # see divergence.py for when the flag is read
        run.watch.check(run.out)
    if means is not None:
        labels = ("loss", "d", "g", "info") if cfg.kind == "gan" else ("loss", "recon", "kl")
        postfix = {k: f"{v:.4g}" for k, v in zip(labels, means)}
        postfix["data"] = f"{run.data_wait_fraction():.0%}"  # time spent waiting for batches
        bar.set_postfix(postfix, refresh=False)
    bar.update(1)
    snapshot = cfg.every is not None and run.step_count % cfg.every == 0
    if snapshot or run.step_count % cfg.checkpoint_every == 0 or run.step_count == cfg.steps:
        run.watch.check(run.out, network=run.model.network, step=run.step_count)  # never save NaN weights
        run.save(snapshot=snapshot)
