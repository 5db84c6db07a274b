"""Issue 19's explorer cases: the window's and export's commands never destroy a file, and every bad flag
is one sentence with exit code 2 (the files in the folder are byte for byte what they were)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from explorer.cli import main

from .conftest import make_model_file


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exit
        code = exc.code
    err = capsys.readouterr().err
    return code, err


@pytest.fixture
def folder(tmp_path, monkeypatch, qapp):
    """A folder of files to keep intact; the window's settings (recent files) go to a throw-away place."""
    monkeypatch.chdir(tmp_path)
    for scope in (QSettings.UserScope, QSettings.SystemScope):
        QSettings.setPath(QSettings.NativeFormat, scope, str(tmp_path / "config"))
    make_model_file(tmp_path, "m")
    make_model_file(tmp_path, "victim", seed=3)
    np.save(tmp_path / "strings.npy", np.array(["a", "b", "c"]))
    return tmp_path


CASES = [
    # --screenshot onto an existing checkpoint: refused before the window opens (it used to be truncated to 0 bytes)
    (["--screenshot", "victim.safetensors", "m.safetensors"], "victim.safetensors exists (a latent-explorer vae"),
    (["--screenshot", "m.safetensors", "m.safetensors"], "is one of this command's own inputs"),
    # export over its own input or another checkpoint
    (["export", "traversal", "m.safetensors", "--out", "m.safetensors"], "is one of this command's own inputs"),
    (["export", "samples", "m.safetensors", "--out", "victim.safetensors"], "pass --overwrite to replace it"),
    (["export", "traversal", "m.safetensors", "--out", "t.png", "--range", "nan"], "--range: nan must be a finite"),
    (["export", "traversal", "m.safetensors", "--out", "t.png", "--steps", "20000"], "outside 2..1024"),
    (["export", "reconstruction", "m.safetensors", "--out", "r.png", "--n", "0"], "--n: 0 is outside 1..1024"),
    (
        ["export", "samples", "m.safetensors", "--out", "s.png", "--seed", "1" + "0" * 23],
        "outside 0..9223372036854775807",
    ),
    (["export", "traversal", "m.safetensors", "--out", "t.png", "--z", "strings.npy"], "not numbers"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["convert", "m.safetensors", "--out", "victim.safetensors"], "pass --overwrite"),
]


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_hostile_flags_are_one_sentence_and_leave_every_file_as_it_was(folder, capsys, argv, message):
    before = _digests(folder)
    code, err = _run(argv, capsys)
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _digests(folder) == before


def test_screenshot_replaces_a_png_atomically_and_overwrite_lets_it_replace_a_checkpoint(folder, capsys):
    (folder / "shot.png").write_bytes(b"old")
    assert main(["--screenshot", "shot.png", "m.safetensors"]) == 0
    assert (folder / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["--screenshot", "victim.safetensors", "--overwrite", "m.safetensors"]) == 0
    assert (folder / "victim.safetensors").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_screenshot_of_nothing_opened_says_why_and_exits_1(folder, capsys):
    (folder / "empty.safetensors").write_bytes(b"")
    code, err = _run(["--screenshot", "shot.png", "empty.safetensors"], capsys)
    assert code == 1
    assert "no model opened: empty.safetensors is empty (0 bytes)" in err
