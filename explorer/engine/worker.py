"""`InferenceWorker`: the one QObject that owns models, the device and every torch call.

It lives in its own QThread (`WorkerThread`). The GUI talks to it only through signals. `load`
and `close_model` are queued. `submit` is connected directly: on the GUI thread it only puts the
request into a lock-guarded one-deep slot per view and wakes the worker, so a burst of slider
events never builds a queue; the worker serves the newest request of each view (older ones are
counted as dropped), and long renders stop between batches once a newer request for their view
is waiting. Results go back as dataclasses of uint8 numpy arrays tagged with request ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

import checkpoints
from checkpoints.layout import spans
from checkpoints.statistics import ACTIVE_KL_NATS, ACTIVE_STD
from explorer.engine import jobs
from explorer.engine.rendering import Cancelled, open_model
from explorer.protocol import (
    CancelRequest,
    DecodeRequest,
    Failure,
    LoadFailed,
    LoadRequest,
    ModelInfo,
    PictureRow,
    Progress,
    Request,
    Result,
    ViewKey,
)

log = logging.getLogger(__name__)
USER_ERRORS = (checkpoints.CheckpointError, checkpoints.InferenceError, checkpoints.UnsupportedOperation, ValueError)


class InferenceWorker(QObject):
    model_loaded = Signal(object)  # ModelInfo
    load_failed = Signal(object)  # LoadFailed
    result_ready = Signal(object)  # a protocol.Result: the answer's kind is the request's (RESULT_OF)
    failed = Signal(object)  # Failure
    notice = Signal(str)  # e.g. a fall-back from CUDA to the CPU
    progress = Signal(object)  # Progress
    _wake = Signal()  # emitted by submit on any thread; runs _drain on the worker's thread

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self.device = checkpoints.resolve_device(device)
        self.served = 0
        self.dropped = 0
        self._models: dict[int, checkpoints.Model] = {}
        self._datasets: dict[tuple, object] = {}
        self._pending: dict[ViewKey, Request] = {}  # view key -> newest request; guarded by _lock
        self._lock = threading.Lock()
        self._drain_scheduled = False
        self._wake.connect(self._drain)

    # ---- slots (worker thread) ------------------------------------------------------------------
    @Slot(object)
    def load(self, request: LoadRequest) -> None:
        try:
            model = self._load(request)
        except checkpoints.CheckpointError as exc:
            needs_latent_dim = isinstance(exc, checkpoints.LatentDimRequiredError)
            consent = isinstance(exc, checkpoints.CodeConsentRequiredError)
            digest = _file_sha256(request.path) if consent else ""
            self.load_failed.emit(
                LoadFailed(request.request_id, request.path, str(exc), needs_latent_dim, consent, digest)
            )
            return
        except Exception as exc:  # an unexpected bug must not kill the worker
            log.exception("loading %s failed", request.path)
            self.load_failed.emit(
                LoadFailed(request.request_id, request.path, f"{Path(request.path).name} could not be opened: {exc}")
            )
            return
        self._models[request.model_id] = model
        self.model_loaded.emit(model_info(request, model))

    @Slot(object)
    def submit(self, request: Request) -> None:
        """Any thread: keep only the newest request per view and wake the worker if it sleeps."""
        with self._lock:
            if request.view in self._pending:
                self.dropped += 1
            self._pending[request.view] = request
            wake, self._drain_scheduled = not self._drain_scheduled, True
        if wake:
            self._wake.emit()

    def superseded(self, request: Request) -> bool:
        """True once a newer request for the same view is waiting (checked between batches)."""
        with self._lock:
            return request.view in self._pending

    def serve_decodes(self) -> None:
        """Between batches of a long job (metrics): serve waiting decodes, so the sliders stay live."""
        while True:
            with self._lock:
                view = next((v for v, r in self._pending.items() if isinstance(r, DecodeRequest)), None)
                if view is None:
                    return
                request = self._pending.pop(view)
            result = self.run_now(request)
            if result is not None:
                (self.failed if isinstance(result, Failure) else self.result_ready).emit(result)

    @Slot(int)
    def close_model(self, model_id: int) -> None:
        self._models.pop(model_id, None)
        with self._lock:
            self._pending = {v: r for v, r in self._pending.items() if model_id not in r.model_ids}
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def release(self) -> None:
        """Drop every model (after the thread has stopped)."""
        self._models.clear()
        self._datasets.clear()
        with self._lock:
            self._pending.clear()

    @property
    def model_count(self) -> int:
        return len(self._models)

    def model(self, model_id: int) -> checkpoints.Model:
        """An open model (worker thread, or tests that drive the worker synchronously)."""
        return self._models[model_id]

    @property
    def waiting(self) -> int:
        """Requests stored and not yet served (any thread)."""
        with self._lock:
            return len(self._pending)

    # ---- serving ---------------------------------------------------------------------------------
    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._drain_scheduled = False
                    return
                view = next(iter(self._pending))
                request = self._pending.pop(view)
            result = self.run_now(request)
            if result is None:
                with self._lock:
                    self.dropped += 1  # cancelled part-way for a newer request of its view
            else:
                (self.failed if isinstance(result, Failure) else self.result_ready).emit(result)

    def run_now(self, request: Request) -> Result | Failure | None:
        """Serve one request synchronously: its result, a Failure, or None if it was superseded."""
        try:
            return self._serve(request)
        except Cancelled:
            return None
        except USER_ERRORS as exc:
            return Failure(request.view, request.request_id, str(exc))
        except RuntimeError as exc:
            if self.device.type == "cuda" and self._fall_back_to_cpu(exc):
                return self.run_now(request)
            log.exception("request %r failed", request)
            return Failure(request.view, request.request_id, f"the model failed: {str(exc).splitlines()[0]}")
        except Exception as exc:
            log.exception("request %r failed", request)
            return Failure(request.view, request.request_id, f"internal error: {type(exc).__name__}: {exc}")

    def _serve(self, request: Request) -> Result | None:
        if isinstance(request, CancelRequest):
            raise Cancelled
        handler = jobs.HANDLERS.get(type(request))
        if handler is None:
            raise TypeError(f"unknown request {type(request).__name__}")
        if any(m not in self._models for m in request.model_ids):
            raise ValueError("that model is no longer open")
        self.served += 1

        def report(fraction: float, text: str) -> None:
            self.progress.emit(Progress(request.view, request.request_id, fraction, text))

        job = jobs.Job(
            models=[self._models[m] for m in request.model_ids],
            dataset=self._dataset,
            should_stop=lambda: self.superseded(request),
            report=report,
            serve_decodes=self.serve_decodes,
            dropped=lambda: self.dropped,
        )
        with torch.inference_mode():
            return handler(job, request)

    def _dataset(self, model: checkpoints.Model):
        from trainer import datasets  # only needed once a user asks for data

        if not model.has_encoder and model.meta.dataset is None:  # a GAN's data is only for projection
            raise checkpoints.UnsupportedOperation("this model has no encoder")
        name, recorded = model.meta.dataset, model.meta.train_config
        key = (name, model.image_shape, recorded.get("data_dir"), recorded.get("data_file"))
        if key not in self._datasets:  # mnist and folder sets read from the data_dir recorded at training
            self._datasets[key] = datasets.for_model(name, recorded, model.image_shape)
        return self._datasets[key]

    def _load(self, request: LoadRequest) -> checkpoints.Model:
        def load() -> checkpoints.Model:
            return open_model(request.path, self.device, request.options)

        try:
            return load()
        except RuntimeError as exc:  # a CUDA out-of-memory or driver error while moving the weights
            if self.device.type != "cuda" or not self._fall_back_to_cpu(exc):
                raise
            return load()

    def _fall_back_to_cpu(self, exc: Exception) -> bool:
        if self.device.type == "cpu":
            return False
        log.warning("CUDA failed, moving to the CPU: %s", exc)
        self.device = torch.device("cpu")
        for model in self._models.values():
            model.to(self.device)
        self.notice.emit(f"The GPU failed ({str(exc).splitlines()[0]}); continuing on the CPU.")
        return True


def model_info(request: LoadRequest, model: checkpoints.Model) -> ModelInfo:
    from trainer.datasets import DATASETS, unavailable_reason

    meta = _with_noise_at_its_prior(model)
    data_reason = unavailable_reason(meta.dataset, meta.train_config)  # None: the data set can be made here
    note = data_reason if model.has_encoder else "the model has no encoder"
    return ModelInfo(
        model_id=request.model_id,
        path=request.path,
        name=_display_name(Path(request.path)),
        kind=model.kind,
        latent_dim=model.latent_dim,
        image_shape=model.image_shape,
        device=str(model.device),
        sha256=model.sha256 or "",
        dataset=meta.dataset,
        can_encode_data=note is None,
        can_project_data=not model.has_encoder and data_reason is None,
        data_note=note or "",
        description=meta.description,
        beta=meta.beta,
        kl_per_dim=meta.kl_per_dim,
        latent_mean=meta.latent_mean,
        latent_std=meta.latent_std,
        steps=meta.steps,
        factor_correlations=_correlations(meta.metrics.get("factor_correlations"), model.latent_dim),
        has_encoder=model.has_encoder,
        active=_active(meta),
        layout=model.layout,
        data_sets=tuple(DATASETS),
        picture=_picture(meta.metrics.get("picture"), model.latent_dim),
    )


def _picture(figures: Any, latent_dim: int) -> tuple[PictureRow, ...]:
    """The classic picture's rows stored by `latent-train zoo --measure` (trainer/picture.py), if well formed."""
    if not isinstance(figures, dict):
        return ()
    try:
        rows = tuple(
            PictureRow(
                factor,
                int(figures[factor]["dim"]),
                float(figures[factor]["r"]),
                float(figures[factor]["turn_deg"]),
                float(figures[factor]["smile_span"]),
                float(figures["smile_floor"]),
                float(figures.get("span_sd", 2.5)),
            )
            for factor in ("azimuth", "smile")
        )
    except (KeyError, TypeError, ValueError):
        return ()
    return rows if all(0 <= row.dim < latent_dim for row in rows) else ()


def _with_noise_at_its_prior(model: checkpoints.Model):
    """The model's meta, with a GAN's noise dims described by their prior: an InfoGAN's encoder (its Q network)
    reads only the codes, so its recorded spread of the noise is 0, which is no statement about the noise."""
    meta, layout = model.meta, model.layout
    if model.kind != "gan" or meta.latent_std is None or not any(g.kind == "noise" for g in layout):
        return meta
    mean, std = list(meta.latent_mean or [0.0] * model.latent_dim), list(meta.latent_std)
    for group, (start, stop) in zip(layout, spans(layout)):
        if group.kind == "noise":
            mean[start:stop], std[start:stop] = [0.0] * (stop - start), [1.0] * (stop - start)
    return dataclasses.replace(meta, latent_mean=tuple(mean), latent_std=tuple(std))


def _active(meta) -> tuple[bool, ...] | None:
    """Which dimensions are in use, by the rule `latent-train eval` counts them with; None when not recorded."""
    if meta.kl_per_dim is not None:
        return tuple(kl > ACTIVE_KL_NATS for kl in meta.kl_per_dim)
    if meta.latent_std is not None:
        return tuple(std >= ACTIVE_STD for std in meta.latent_std)
    return None


def _file_sha256(path: str) -> str:
    """A file's SHA-256 (what the window remembers a user's trust in code by)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _display_name(path: Path) -> str:
    """The file's name; a disentangling-vae model.pt is known by its results folder."""
    return f"{path.parent.name}/{path.name}" if path.name == "model.pt" else path.name.removesuffix(".safetensors")


def _correlations(value, latent_dim: int) -> tuple[tuple[float, ...], ...] | None:
    """A stored (dims x factors) table, if well formed."""
    try:
        table = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if table.ndim != 2 or table.shape[0] != latent_dim or not np.isfinite(table).all():
        return None
    return tuple(map(tuple, table.tolist()))


class WorkerThread:
    """An InferenceWorker built here and moved into its own QThread (tests, benchmarks); `stop()` joins it.

    The application uses `EngineThread`, which builds the worker on its thread after the window painted.
    """

    def __init__(self, device: str = "auto") -> None:
        self.worker = InferenceWorker(device)
        self.thread = QThread()
        self.thread.setObjectName("inference")
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
        self.worker.release()
