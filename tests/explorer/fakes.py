"""`FakeWorker`: the InferenceWorker's signals and slots without torch, for GUI-only tests (napari's fake layers).

It records what the window asks for; a test answers by emitting the signals itself.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from explorer.protocol import LoadRequest, ModelInfo, Request


class FakeWorker(QObject):
    model_loaded = Signal(object)
    load_failed = Signal(object)
    result_ready = Signal(object)
    failed = Signal(object)
    notice = Signal(str)
    progress = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[LoadRequest] = []
        self.requests: list[Request] = []
        self.closed: list[int] = []

    @Slot(object)
    def load(self, request: LoadRequest) -> None:
        self.loads.append(request)

    @Slot(object)
    def submit(self, request: Request) -> None:
        self.requests.append(request)

    @Slot(int)
    def close_model(self, model_id: int) -> None:
        self.closed.append(model_id)

    def last(self, kind: type) -> Request:
        """The newest request of this kind the window sent."""
        return next(r for r in reversed(self.requests) if isinstance(r, kind))


def model_info(model_id: int, path: str, latent_dim: int = 3, **fields) -> ModelInfo:
    """What the worker would say of a small VAE."""
    defaults = dict(
        name=path.rsplit("/", 1)[-1].removesuffix(".safetensors"),
        kind="vae",
        latent_dim=latent_dim,
        image_shape=(1, 8, 8),
        device="cpu",
        sha256="0" * 64,
        kl_per_dim=(0.2, 2.0, 0.9)[:latent_dim],
    )
    defaults.update(fields)
    return ModelInfo(model_id=model_id, path=path, **defaults)
