"""Image folders: crop and resize, grey or RGB, broken files skipped and counted, streaming contract."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import checkpoints
from trainer import datasets
from trainer.cli import main


def write_images(folder, n, size=(40, 48), seed=0):
    """n random RGB PNGs, half of them in a subfolder; returns the pixel arrays in sorted-path order."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    pixels = {}
    for i in range(n):
        name = f"{'sub/' if i % 2 else ''}{i:03d}.png"
        pixels[name] = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(pixels[name]).save(folder / name)
    return [pixels[k] for k in sorted(pixels)]


def write_broken(folder):
    """Three files that are not readable images: text, an empty .png, a PNG cut short."""
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    whole = next(folder.glob("*.png")).read_bytes()
    (folder / "cut.png").write_bytes(whole[:120])


def test_broken_files_are_skipped_and_counted_in_one_warning(tmp_path, caplog):
    write_images(tmp_path, 6)
    write_broken(tmp_path)
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: ignored, not counted
    with caplog.at_level(logging.WARNING):
        data = datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    assert len(data) == 6 and [name for name, _ in data.skipped] == ["cut.png", "empty.png", "notes.txt"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(f"skipped 3 files in {tmp_path} that are not readable PNG or JPEG")
    assert data.images(np.arange(6)).shape == (6, 3, 32, 32)


def test_images_are_centre_cropped_then_resized(tmp_path):
    from PIL import Image

    wide = np.zeros((40, 100, 3), np.uint8)
    wide[:, 30:70] = (200, 100, 50)  # the centre 40x40 square; the sides are black
    Image.fromarray(wide).save(tmp_path / "wide.png")
    x = datasets.get("folder", data_dir=str(tmp_path), image_size=32).images([0])
    assert x.shape == (1, 3, 32, 32)
    expected = torch.tensor([200, 100, 50]).float().view(3, 1, 1) / 255
    assert torch.allclose(x[0], expected.expand(3, 32, 32), atol=1 / 255)


def test_grey_channel_and_jpeg(tmp_path):
    from PIL import Image

    Image.new("RGB", (70, 50), (255, 0, 0)).save(tmp_path / "red.jpg", quality=95)
    grey = datasets.get("folder", data_dir=str(tmp_path), image_size=64, channels=1)
    x = grey.images([0])
    assert grey.image_shape == (1, 64, 64) and x.shape == (1, 1, 64, 64)
    assert abs(float(x.mean()) - 0.299) < 0.02  # ITU-R 601 luma of pure red
    assert grey.labels is None and grey.factor_names == ()


def test_pixels_match_the_files_in_sorted_path_order(tmp_path):
    pixels = write_images(tmp_path, 4, size=(32, 32))
    data = datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    assert list(data.files) == ["000.png", "002.png", "sub/001.png", "sub/003.png"]
    x = (data.images([0, 3]) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(x[0], pixels[0]) and np.array_equal(x[1], pixels[3])


def test_a_file_that_breaks_after_the_check_gives_way_to_the_next_one(tmp_path, caplog):
    pixels = write_images(tmp_path, 3, size=(32, 32))
    data = datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    (tmp_path / "000.png").write_bytes((tmp_path / "000.png").read_bytes()[:300])  # truncated since
    with caplog.at_level(logging.WARNING):
        x = data.images([0, 0])
    assert data.read_failures == 2 and len(caplog.records) == 1 and "could not decode 000.png" in caplog.text
    assert np.array_equal((x[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy(), pixels[1])  # 002.png


def test_it_pickles_and_streams_through_dataloader_workers(tmp_path):
    write_images(tmp_path, 8, size=(32, 32))
    data = datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    assert data.streams_from_disk and not datasets.get("digits").streams_from_disk
    assert torch.equal(pickle.loads(pickle.dumps(data)).images([5]), data.images([5]))
    loader = DataLoader(list(range(8)), batch_size=4, num_workers=2, collate_fn=data.images)
    assert torch.equal(torch.cat(list(loader)), data.images(np.arange(8)))


def test_sample_batch_trains_from_a_folder(tmp_path):
    write_images(tmp_path, 5, size=(32, 32))
    data = datasets.get("folder", data_dir=str(tmp_path), image_size=32)
    a = data.sample_batch(7, torch.Generator().manual_seed(1))
    assert torch.equal(a, data.sample_batch(7, torch.Generator().manual_seed(1))) and a.shape == (7, 3, 32, 32)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "--data-dir {d} does not exist; point it at a folder with PNG or JPEG images"),
        ("empty", "--data-dir {d} holds no files; point it at a folder with PNG or JPEG images"),
        ("broken", "none of the 3 files in {d} is a readable PNG or JPEG image (e.g. cut.png: "),
        ("file", "--data-dir {d} is a file, not a folder"),
    ],
)
def test_bad_folders_are_one_clear_sentence(tmp_path, setup, message):
    folder = tmp_path / "images"
    if setup == "empty":
        (folder / "nested").mkdir(parents=True)
    elif setup == "broken":
        write_images(folder, 1)
        write_broken(folder)
        (folder / "000.png").unlink()
    elif setup == "file":
        folder.write_text("x")
    with pytest.raises(ValueError) as caught:
        datasets.get("folder", data_dir=str(folder))
    assert str(caught.value).startswith(message.format(d=folder)) and "\n" not in str(caught.value)


def test_folder_needs_data_dir_and_a_valid_size():
    with pytest.raises(ValueError, match="the folder data set needs --data-dir"):
        datasets.get("folder")
    with pytest.raises(ValueError, match="resized to 8 to 512 pixels, not 4"):
        datasets.get("folder", data_dir=".", image_size=4)
    with pytest.raises(ValueError, match="the digits data set does not take --channels"):
        datasets.get("digits", channels=1)


def test_training_on_a_folder_with_broken_files_reports_them(tmp_path, capsys, caplog):
    images = tmp_path / "images"
    write_images(images, 50, size=(36, 36))
    write_broken(images)
    out = tmp_path / "g.safetensors"
    with caplog.at_level(logging.WARNING):
        code = main(
            [
                "vae",
                "--dataset",
                "folder",
                "--data-dir",
                str(images),
                "--image-size",
                "32",
                "--steps",
                "4",
                "--batch-size",
                "8",
                "--latent-dim",
                "3",
                "--channels",
                "1",
                "--out",
                str(out),
            ]
        )
    assert code == 0 and "skipped 3 files" in caplog.text
    model = checkpoints.load(out)
    assert model.image_shape == (1, 32, 32) and model.meta.dataset == "folder"
    assert model.meta.train_config["data_dir"] == str(images) and model.meta.train_config["channels"] == 1
