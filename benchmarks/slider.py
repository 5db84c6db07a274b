"""Slider -> pixels through the real worker thread, against the bare decode of the same model.

slider_latency_overhead_ms: median (setValue on a slider -> image set on the ImageItem) minus the
median bare `decode` of the same code in this run. gui_block_p99_ms / gui_block_max_ms: GUI-thread
stalls while a 1 ms timer moves a slider (1000 events/s) for 5 s: the lateness of each tick.
stale_dropped: the fraction of those requests the worker dropped as superseded.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from checkpoints.images import to_uint8

from .gui import open_window, spin, wait


def run(quick: bool = False) -> dict[str, float]:
    from PySide6.QtCore import QElapsedTimer, QTimer

    app, window, inference, bare_model = open_window()
    slider = window.sliders.slider(0)

    latencies, bare = [], []
    rng = np.random.default_rng(0)
    for _ in range(30 if quick else 200):
        value = float(rng.uniform(-3, 3))
        done = []
        window.image_view.image_updated.connect(lambda done=done: done.append(time.perf_counter()))
        start = time.perf_counter()
        slider.setValue(value)
        if not done:
            wait(window.image_view.image_updated)
        window.image_view.image_updated.disconnect()
        latencies.append(done[0] - start)
        z = torch.from_numpy(window.sliders.z())[None]
        t = time.perf_counter()
        to_uint8(bare_model.decode(z))
        bare.append(time.perf_counter() - t)

    ticks: list[int] = []
    clock = QElapsedTimer()
    sent_before, dropped_before = 0, inference.worker.dropped
    timer = QTimer(interval=1)

    def tick() -> None:
        ticks.append(clock.nsecsElapsed())
        slider.setValue(float(rng.uniform(-3, 3)))

    timer.timeout.connect(tick)
    seconds = 1.0 if quick else 5.0
    clock.start()
    timer.start()
    spin(app, lambda: clock.elapsed() > seconds * 1000)
    timer.stop()
    sent = len(ticks) - sent_before
    final = window.sliders.z()
    expected = to_uint8(bare_model.decode(torch.from_numpy(final)[None]))[0]
    spin(app, lambda: np.array_equal(window.image_view.image(), expected))
    lateness_ms = np.maximum(np.diff(np.array(ticks)) / 1e6 - 1.0, 0.0)
    dropped = inference.worker.dropped - dropped_before
    window.close()
    inference.stop()
    return {
        "slider_latency_overhead_ms": (statistics.median(latencies) - statistics.median(bare)) * 1e3,
        "slider_latency_median_ms": statistics.median(latencies) * 1e3,
        "decode_bare_median_ms": statistics.median(bare) * 1e3,
        "gui_block_p99_ms": float(np.percentile(lateness_ms, 99)),
        "gui_block_max_ms": float(lateness_ms.max()),
        "slider_events_per_s": sent / seconds,
        "stale_dropped": dropped / max(sent, 1),
    }
