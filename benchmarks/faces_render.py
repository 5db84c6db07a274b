"""faces_render_contended_ratio: 128 procedural faces rendered with two torch threads while another
process keeps a core busy, against the same render with one thread on an idle machine.

The renderer is thousands of small tensor ops; with two OpenMP threads and a competing process each
op can wait for a descheduled thread (issue 21 measured 3.7 s against 44 ms). `Faces.render` runs on
one thread whatever the caller's setting, so the ratio should stay near 1.
"""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import torch

from trainer.datasets.faces import Faces

from .timing import interleaved

FACES = 128


def _spin(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x += 1


def run(quick: bool = False) -> dict[str, float]:
    data = Faces(32)
    classes = data.sample_factors(FACES, np.random.default_rng(0))
    render = lambda: data.images_for_factors(classes)
    calls, rounds = (2, 3) if quick else (3, 5)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        idle = interleaved({"one": render}, calls, rounds)["one"]
        torch.set_num_threads(2)
        competitor = multiprocessing.get_context("spawn").Process(target=_spin, args=(time.time() + 600,))
        competitor.start()
        try:
            time.sleep(0.5)  # let it take its core
            contended = interleaved({"two": render}, calls, rounds)["two"]
        finally:
            competitor.terminate()
            competitor.join()
    finally:
        torch.set_num_threads(threads)
    return {
        "faces_render_idle_1thread_s": idle,
        "faces_render_contended_2threads_s": contended,
        "faces_render_contended_ratio": contended / idle,
    }
