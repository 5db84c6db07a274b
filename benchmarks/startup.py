"""zoo_first_screen_s: `latent-explorer --zoo --screenshot` from process start until the first screen
(the faces VAE beside the β-VAE, both decoding their encoding of one face) is grabbed and the process
has exited; an upper bound on the time to the first image. Baseline timed in the same run:
plain_first_image_s, a fresh Python that imports torch, loads faces-vae.safetensors and decodes one
code. zoo_first_screen_overhead_s is the difference of the medians.
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


def run(quick: bool = False) -> dict[str, float]:
    from explorer.cli import zoo_files

    faces = [p for p in zoo_files() if Path(p).name == "faces-vae.safetensors"]
    if not faces:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": tmp, "XDG_RUNTIME_DIR": tmp}
        app = [sys.executable, "-m", "explorer", "--zoo", "--device", "cpu", "--screenshot", f"{tmp}/shot.png"]
        plain = [sys.executable, "-c", f"path = {faces[0]!r}\n{PLAIN}"]
        screen_s, plain_s = [], []
        for _ in range(1 if quick else 5):
            screen_s.append(_seconds(app, env))
            plain_s.append(_seconds(plain, env))
    screen, baseline = statistics.median(screen_s), statistics.median(plain_s)
    return {
        "zoo_first_screen_s": screen,
        "plain_first_image_s": baseline,
        "zoo_first_screen_overhead_s": screen - baseline,
    }
