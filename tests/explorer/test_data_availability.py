"""Models trained on a folder or MNIST open anywhere; encoding their data works only where the data is."""

from __future__ import annotations

import shutil

import numpy as np

import checkpoints
from explorer.engine.worker import InferenceWorker
from explorer.protocol import MAIN, EncodeSampleRequest, EncodeSampleResult, Failure, LoadRequest
from tests.trainer.test_folder import write_images

from .conftest import open_and_wait


def _folder_model(tmp_path, images) -> str:
    model = checkpoints.create_model(
        "mlp",
        "vae",
        2,
        (1, 32, 32),
        seed=0,
        dataset="folder",
        kl_per_dim=(1.0, 0.5),
        train_config={"dataset": "folder", "data_dir": str(images), "channels": 1},
    )
    path = tmp_path / "folder-vae.safetensors"
    checkpoints.save(model, path)
    return str(path)


def _load(qtbot, path):
    worker = InferenceWorker("cpu")
    with qtbot.waitSignal(worker.model_loaded, timeout=5000) as loaded:
        worker.load(LoadRequest(1, 1, path))
    return worker, loaded.args[0]


def test_a_folder_model_encodes_from_its_recorded_folder(qtbot, tmp_path):
    images = tmp_path / "images"
    write_images(images, 4, size=(32, 32))
    worker, info = _load(qtbot, _folder_model(tmp_path, images))
    assert info.can_encode_data and info.data_note == ""
    result = worker.run_now(EncodeSampleRequest(MAIN, 1, 1, index=2))
    assert isinstance(result, EncodeSampleResult) and result.original.shape == (32, 32) and result.z.shape == (2,)


def test_without_its_folder_the_model_opens_and_says_why_it_cannot_encode(qtbot, window, tmp_path):
    images = tmp_path / "images"
    write_images(images, 2, size=(32, 32))
    path = _folder_model(tmp_path, images)
    shutil.rmtree(images)
    worker, info = _load(qtbot, path)
    assert not info.can_encode_data
    assert info.data_note == f"its training images ({images}) are not on this computer"
    failure = worker.run_now(EncodeSampleRequest(MAIN, 1, 1, index=0))
    assert isinstance(failure, Failure) and "are not on this computer" in failure.message
    open_and_wait(qtbot, window, [path])
    assert not window.sliders.encode_button.isEnabled()
    assert window.sliders.encode_button.toolTip() == f"Cannot encode a data sample: {info.data_note}"
    assert np.isfinite(window.sliders.z()).all()  # the sliders and decoding still work
