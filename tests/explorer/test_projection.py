"""Projecting images into the zoo DCGAN: codes are re-found, the CLI writes them, the window loads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import checkpoints
from checkpoints.images import to_uint8
from explorer.cli import main
from explorer.engine import projection
from explorer.engine.rendering import random_codes
from explorer.gui.actions.projection import PROJECT
from explorer.gui.views import project_dialog
from explorer.gui.views.project_dialog import ProjectionChoice
from explorer.protocol import EncodeDatasetRequest, LoadRequest, ProjectionRequest, ReconstructionRequest, ViewKey

from .conftest import open_and_wait

DCGAN = Path(__file__).resolve().parents[2] / "checkpoints" / "zoo" / "faces-dcgan.safetensors"
pytestmark = pytest.mark.skipif(not DCGAN.exists(), reason="the zoo is not built")
QUICK = projection.Settings(steps=60, restarts=4)  # a few steps: enough to beat random codes by far
MARGIN = 4  # on average the projection's error must be under a quarter of the best random code's


@pytest.fixture(scope="module")
def gan():
    return checkpoints.load(DCGAN, device="cpu")


def random_best(model, targets: torch.Tensor) -> np.ndarray:
    """Per target, the MSE of the best of 1,000 prior codes: what projection has to beat."""
    images = model.decode(random_codes(1000, model.latent_dim, 12345))
    return ((images[None] - targets[:, None]) ** 2).mean((2, 3, 4)).min(1).values.numpy()


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a.astype(np.float64) - b.astype(np.float64)) / 255).__pow__(2).mean())


def write_target(model, folder: Path, seed: int = 7) -> tuple[Path, np.ndarray]:
    """A PNG of the GAN's own decoding of a prior code (so a code reproducing it exists)."""
    image = to_uint8(model.decode(random_codes(1, model.latent_dim, seed)))[0]
    path = folder / "target.png"
    Image.fromarray(image).save(path)
    return path, image


def test_a_decoded_code_is_refound_far_below_the_best_random_code(gan):
    targets = gan.decode(random_codes(4, gan.latent_dim, 7))
    found = projection.project(gan, targets, QUICK)
    baseline = random_best(gan, targets)
    assert found.z.shape == (4, gan.latent_dim) and found.z.dtype == np.float32
    assert found.mse.mean() * MARGIN < baseline.mean() and (found.mse < baseline).all(), (found.mse, baseline)
    decoded = gan.decode(found.z)
    assert np.allclose(((decoded - targets) ** 2).mean((1, 2, 3)).numpy(), found.mse, atol=1e-6)


def test_a_projection_is_the_same_for_the_same_seed(gan):
    targets = gan.decode(random_codes(2, gan.latent_dim, 3))
    settings = projection.Settings(steps=5, restarts=2, seed=4)
    first, second = (projection.project(gan, targets, settings) for _ in range(2))
    assert np.array_equal(first.z, second.z)


def test_project_cli_writes_a_code_that_decodes_close_to_the_image(gan, tmp_path, capsys):
    png, image = write_target(gan, tmp_path)
    out = tmp_path / "z.npy"
    args = ["project", str(DCGAN), "--image", str(png), "--out", str(out), "--steps", "60", "--restarts", "4"]
    assert main([*args, "--device", "cpu"]) == 0
    z = np.load(out)
    assert z.shape == (gan.latent_dim,) and z.dtype == np.float32
    decoded = to_uint8(gan.decode(z))[0]
    baseline = random_best(gan, torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255)[None])[0]
    assert mse(decoded, image) * MARGIN < baseline
    assert "projected target.png" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"not a png at all",
            "cannot read bad.png as an image (it is not an image Pillow can read); give a PNG or JPEG file",
        ),
        (None, "does not exist; give the path of a PNG or JPEG image"),
    ],
)
def test_a_bad_image_is_one_sentence_and_exit_2(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.png"
    if content is not None:
        bad.write_bytes(content)
    out = tmp_path / "z.npy"
    assert main(["project", str(DCGAN), "--image", str(bad), "--out", str(out), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("latent-explorer: error: ") and err.rstrip().endswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_project_cli_never_writes_over_a_checkpoint_or_its_image(gan, tmp_path, capsys):
    png, _ = write_target(gan, tmp_path)
    other = tmp_path / "other.safetensors"
    other.write_bytes(DCGAN.read_bytes())
    before = png.read_bytes(), other.read_bytes()
    for out, message in ((png, "is one of this command's own inputs"), (other, "pass --overwrite to replace it")):
        assert main(["project", str(DCGAN), "--image", str(png), "--out", str(out), "--device", "cpu"]) == 2
        assert message in capsys.readouterr().err
    assert (png.read_bytes(), other.read_bytes()) == before


def test_the_worker_projects_gan_reconstructions_and_a_scatter_of_data(qtbot, inference, gan, tmp_path, monkeypatch):
    from trainer import datasets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("RECONSTRUCTION", "SCATTER"):  # the wiring is under test here, the recipe above
        monkeypatch.setattr(projection, name, projection.Settings(steps=30, restarts=2))
    worker = inference.worker
    with qtbot.waitSignal(worker.model_loaded, timeout=20_000) as loaded:
        worker.load(LoadRequest(1, 1, str(DCGAN)))
    assert loaded.args[0].can_project_data and not loaded.args[0].can_encode_data
    recon = worker.run_now(ReconstructionRequest(ViewKey("reconstruction"), 2, (1,), n=2, seed=0))
    samples = datasets.get("faces", image_size=32).images(list(recon.indices))
    assert recon.mse.shape == (1, 2) and (recon.mse[0] < random_best(gan, samples)).all()
    codes = worker.run_now(EncodeDatasetRequest(ViewKey("scatter"), 3, 1, n=4, projected=True))
    assert codes.codes.shape == (4, 64) and (codes.indices >= 0).all()
    assert {"azimuth", "projection error"} <= set(codes.colours)
    again = worker.run_now(EncodeDatasetRequest(ViewKey("scatter"), 4, 1, n=4, projected=True))
    assert again.from_cache and np.array_equal(again.codes, codes.codes)
    failure = worker.run_now(ProjectionRequest(PROJECT, 5, 1, path=str(tmp_path / "missing.png")))
    assert failure.message == f"{tmp_path / 'missing.png'} does not exist; give the path of a PNG or JPEG image"


def test_project_image_sets_the_sliders_and_the_image_approaches_the_target(qtbot, window, gan, tmp_path, monkeypatch):
    png, target = write_target(gan, tmp_path, seed=11)
    open_and_wait(qtbot, window, [DCGAN])
    start = window.image_view.image().copy()
    monkeypatch.setattr(
        project_dialog, "ask_projection", lambda parent, info: ProjectionChoice(path=str(png), steps=60, restarts=4)
    )
    window.project_dialog()
    assert window.projection_bar.isVisible()
    qtbot.waitUntil(lambda: not window.projection_bar.isVisible(), timeout=60_000)
    z = window.code
    assert np.array_equal(window.sliders.z(), z) and not np.array_equal(z, np.zeros_like(z))
    shown = window.image_view.image()
    assert np.array_equal(shown, to_uint8(gan.decode(z))[0])
    assert mse(shown, target) * MARGIN < mse(start, target)
    baseline = random_best(gan, torch.from_numpy(target.transpose(2, 0, 1).astype(np.float32) / 255)[None])[0]
    assert mse(shown, target) < baseline
    assert "MSE" in window.statusBar().currentMessage()


def test_a_gans_encode_sample_projects_a_data_sample(qtbot, window):
    open_and_wait(qtbot, window, [DCGAN])
    assert window.sliders.encode_button.isEnabled()
    before = window.code.copy()
    window.sliders.encode_button.click()
    qtbot.waitUntil(lambda: window.original_view.isVisible() and not window.projection_bar.isVisible(), timeout=60_000)
    assert not np.array_equal(window.code, before)
    assert "data sample #" in window.original_view.toolTip()


def test_a_gans_reconstruction_tab_and_scatter_show_projections(qtbot, window, tmp_path, monkeypatch):
    from explorer.gui.views.scatter import PROJECTED

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("RECONSTRUCTION", "SCATTER"):
        monkeypatch.setattr(projection, name, projection.Settings(steps=20, restarts=2))
    open_and_wait(qtbot, window, [DCGAN])
    recon = window.tabs.reconstruction
    recon.n.setValue(2)
    window.tabs.setCurrentWidget(recon)
    qtbot.waitUntil(lambda: recon.result is not None and len(recon.result.indices) == 2, timeout=60_000)
    assert recon.result.mse.shape == (1, 2) and "projections" in recon.note.text()
    window.set_z(np.ones(64, np.float32))  # a new code asks for no new reconstructions
    assert recon.latest.is_idle()
    scatter = window.tabs.scatter
    window.tabs.setCurrentWidget(scatter)
    assert scatter.source.isVisible()
    scatter.source.setCurrentText(PROJECTED)
    scatter.n.setValue(3)
    scatter.encode()
    qtbot.waitUntil(lambda: scatter.codes is not None, timeout=60_000)
    assert scatter.codes.codes.shape == (3, 64) and (scatter.codes.indices >= 0).all()
    assert "projection error" in scatter.codes.colours and "projected codes" in scatter.bar.text()
