"""`EngineThread`: the worker thread, started before torch is imported (no torch at this module's top).

`run()` imports the worker module (torch, checkpoints) and builds the `InferenceWorker` on this thread,
so the GUI thread never pays for the import and the window paints at once. `worker_ready` hands the
worker to the GUI thread; `stop()` quits the event loop, joins, and releases every model.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QThread, Signal


class EngineThread(QThread):
    worker_ready = Signal(object)  # the InferenceWorker, living on this thread

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self.setObjectName("inference")
        self.device = device
        self.worker: Any = None

    def run(self) -> None:
        from explorer.engine.worker import InferenceWorker  # torch loads here, off the GUI thread

        self.worker = InferenceWorker(self.device)
        self.worker_ready.emit(self.worker)
        self.exec()
        self.worker.release()

    def stop(self) -> None:
        if self.isRunning():
            self.quit()
            self.wait()
