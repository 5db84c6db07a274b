"""Data ▸ Use Data Set… and --dataset: an imported model that records no data set gets one in the window."""

from __future__ import annotations

import json

import numpy as np
import pytest

import explorer.gui.actions.files
from explorer.cli import main
from explorer.gui.main_window import MainWindow
from explorer.gui.views.open_dialogs import DataChoice, DataSetDialog
from explorer.protocol import LoadOptions
from tests.fixtures.public_layouts import write_beta_vae, write_examples_vae
from trainer.cli import main as train_main

from .conftest import open_and_wait


def _pictures(folder, n=40, size=28):
    """A folder of greyscale PNGs: the images of the user's own data set."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray((rng.random((size, size)) * 255).astype(np.uint8)).save(folder / f"{i:03}.png")
    return folder


def _the_model(window):
    (info,) = window.models.values()
    return info


def _use(qtbot, window, choice):
    info = _the_model(window)
    window.use_data_set(info.model_id, choice)
    qtbot.waitUntil(lambda: not window.loading, timeout=20_000)
    return _the_model(window)


def test_use_data_set_turns_on_reconstruction_and_analysis_for_an_imported_vae(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    open_and_wait(qtbot, window, [write_examples_vae(tmp_path)])  # pytorch/examples' MNIST VAE: MNIST, no folder
    before = _the_model(window)
    assert not before.can_encode_data and before.kl_per_dim is None and before.dataset == "mnist"
    assert before.data_note == "the checkpoint does not record the folder its mnist images came from"
    assert not window.sliders.encode_button.isEnabled()

    images = _pictures(tmp_path / "mine")
    after = _use(qtbot, window, DataChoice("folder", str(images)))
    assert window.banner.text() == ""
    assert after.model_id == before.model_id and len(window.models) == 1  # the same entry, reopened
    assert after.can_encode_data and after.dataset == "folder"
    assert after.kl_per_dim is not None and len(after.kl_per_dim) == 20  # KL measured on the data: sliders by KL
    assert window.sliders.encode_button.isEnabled()

    view = window.tabs.reconstruction
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None, timeout=20_000)
    assert view.result.image.shape[1] > 28 and view.result.mse.shape[0] == 1 and (view.result.mse > 0).all()

    analysis = window.tabs.analysis
    window.tabs.setCurrentWidget(analysis)
    analysis.n.setValue(200)
    analysis.analyse()
    qtbot.waitUntil(lambda: analysis.result is not None, timeout=30_000)
    assert analysis.result.model_id == after.model_id


def test_a_data_set_that_does_not_fit_is_one_sentence_and_the_model_stays_as_it_was(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [write_examples_vae(tmp_path)])
    before = _the_model(window)
    after = _use(qtbot, window, DataChoice("mnist"))  # MNIST's files are the user's: it needs a folder
    assert window.banner.text() == (
        "cannot use --dataset mnist for vae_mnist.pt: the mnist data set needs --data-dir "
        "(the folder holding MNIST's IDX files)"
    )
    assert after == before and not after.can_encode_data
    entry = window.open[after.model_id]
    assert entry.options == LoadOptions() and entry.loading is None
    _use(qtbot, window, DataChoice("faces"))  # a set made at other sizes only
    assert window.banner.text() == (
        "cannot use --dataset faces for vae_mnist.pt: faces renders 64x64 or 32x32 images, not 28"
    )
    assert window.open[after.model_id].options == LoadOptions()


def test_the_data_set_is_kept_in_the_session(qtbot, inference, settings, tmp_path):
    path = write_examples_vae(tmp_path)
    first = MainWindow(inference.worker, settings)
    qtbot.addWidget(first)
    open_and_wait(qtbot, first, [path])
    _use(qtbot, first, DataChoice("folder", str(_pictures(tmp_path / "mine"))))
    first.close()  # saves the session
    second = MainWindow(inference.worker, settings)
    qtbot.addWidget(second)
    assert second.restore_session()
    qtbot.waitUntil(lambda: not second.loading and bool(second.models), timeout=20_000)
    info = _the_model(second)
    assert info.can_encode_data and info.dataset == "folder"
    assert second.open[info.model_id].options.data_dir == str(tmp_path / "mine")


def test_the_menu_asks_for_a_name_and_a_folder(qtbot, window, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, [write_examples_vae(tmp_path)])
    asked = {}

    def answer(parent, name, names, current):
        asked.update(name=name, names=names, current=current)
        return DataChoice("folder", str(_pictures(tmp_path / "mine")))

    monkeypatch.setattr(explorer.gui.actions.files, "ask_data_set", answer)
    window.use_data_set_dialog()
    qtbot.waitUntil(lambda: not window.loading, timeout=20_000)
    assert asked["names"] == ("dsprites", "faces", "digits", "mnist", "folder")
    assert asked["current"] == DataChoice("mnist") and _the_model(window).dataset == "folder"


def test_the_dialog_offers_a_folder_only_to_sets_that_read_one(qtbot, tmp_path):
    dialog = DataSetDialog(None, "m", ("dsprites", "faces", "digits", "mnist", "folder"), DataChoice(None))
    qtbot.addWidget(dialog)
    dialog.name.setCurrentText("folder")
    dialog.folder.setText(str(tmp_path))
    assert dialog.choice() == DataChoice("folder", str(tmp_path), None)
    dialog.name.setCurrentText("faces")  # made here: the folder typed before is not sent
    assert dialog.choice() == DataChoice("faces") and not dialog.folder.isEnabled()
    dialog.name.setCurrentText("dsprites")
    assert dialog.file.isEnabled() and not dialog.folder.isEnabled()


@pytest.mark.parametrize("layout", ["H", "B"])
def test_export_reconstruction_of_an_imported_model_with_dataset(tmp_path, layout, capsys):
    path = write_beta_vae(tmp_path, layout, z_dim=4)  # 1Konny's β-VAE: 64×64 greyscale dSprites, no data recorded
    out = tmp_path / "recon.png"
    args = ["export", "reconstruction", str(path), "--n", "4", "--out", str(out)]
    assert main(args) == 2 and "does not name its data set; pass --dataset" in capsys.readouterr().err
    assert main([*args, "--dataset", "dsprites"]) == 0 and out.exists()
    assert main([*args, "--dataset", "faces", "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(
        "the faces data set has RGB images, but the model expects greyscale ones; "
        "choose a data set with 1-channel images"
    )


def test_eval_measures_an_imported_model_given_a_dataset(tmp_path, capsys):
    path = write_beta_vae(tmp_path, "H", z_dim=4)
    assert train_main(["eval", str(path), "--dataset", "dsprites", "--n", "200", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["dataset"] == "dsprites" and len(metrics["kl_per_dim"]) == 4
    assert all(np.isfinite(metrics[k]) for k in ("mig", "factorvae", "dci_disentanglement", "sap"))
