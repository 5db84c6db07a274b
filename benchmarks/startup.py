"""zoo_first_screen_s: `latent-explorer --zoo --screenshot` from process start until the first screen
(the faces VAE beside the β-VAE, both decoding their encoding of one face) is grabbed and the process
has exited; an upper bound on the time to the first image. Baseline timed in the same run:
plain_first_image_s, a fresh Python that imports torch, loads faces-vae.safetensors and decodes one
code. zoo_first_screen_overhead_s is the difference of the medians.

first_paint_s: `latent-explorer --zoo` from process start until the main window's first paint event
(reported on stderr with $LATENT_EXPLORER_FIRST_PAINT=exit); the GUI thread imports no torch, so this
comes before the models are loaded. Ratios against plain_first_image_s: first_paint_ratio and
zoo_first_screen_ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = """
import torch
import checkpoints
model = checkpoints.load(path, device="cpu")
model.decode(torch.zeros(1, model.latent_dim))
"""


def _seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def _first_paint_seconds(command: list[str], env: dict[str, str]) -> float:
    """Until the app says on stderr that its window painted (then it closes itself)."""
    start = time.perf_counter()
    with subprocess.Popen(command, env={**env, "LATENT_EXPLORER_FIRST_PAINT": "exit"}, stderr=subprocess.PIPE) as p:
        assert p.stderr is not None
        for line in p.stderr:
            if b"first paint" in line:
                seconds = time.perf_counter() - start
                break
        else:
            raise RuntimeError("the window never painted")
        p.stderr.close()
        p.wait(timeout=120)
    return seconds


def run(quick: bool = False) -> dict[str, float]:
    from explorer.cli import zoo_files

    faces = [p for p in zoo_files() if Path(p).name == "faces-vae.safetensors"]
    if not faces:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": tmp, "XDG_RUNTIME_DIR": tmp}
        app = [sys.executable, "-m", "explorer", "--zoo", "--device", "cpu", "--screenshot", f"{tmp}/shot.png"]
        plain = [sys.executable, "-c", f"path = {faces[0]!r}\n{PLAIN}"]
        window = [sys.executable, "-m", "explorer", "--zoo", "--device", "cpu"]
        screen_s, plain_s, paint_s = [], [], []
        for _ in range(1 if quick else 5):  # interleaved, so load on the machine hits all three alike
            screen_s.append(_seconds(app, env))
            plain_s.append(_seconds(plain, env))
            paint_s.append(_first_paint_seconds(window, env))
    screen, baseline, paint = (statistics.median(s) for s in (screen_s, plain_s, paint_s))
    return {
        "first_paint_s": paint,
        "zoo_first_screen_s": screen,
        "plain_first_image_s": baseline,
        "zoo_first_screen_overhead_s": screen - baseline,
        "first_paint_ratio": paint / baseline,
        "zoo_first_screen_ratio": screen / baseline,
    }
