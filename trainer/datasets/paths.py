"""Checks on the folders and files a data set reads from, with the sentence the user will see."""

from __future__ import annotations

from pathlib import Path


def require_folder(data_dir: str | None, dataset: str, holding: str) -> Path:
    """`data_dir` as an existing folder, or ValueError saying what `--data-dir` should hold."""
    if data_dir is None:
        raise ValueError(f"the {dataset} data set needs --data-dir: a folder with {holding}")
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise ValueError(f"--data-dir {data_dir} does not exist; point it at a folder with {holding}")
    if not root.is_dir():
        raise ValueError(f"--data-dir {data_dir} is a file, not a folder; point it at a folder with {holding}")
    return root


def require_file(data_file: str | None, dataset: str, holding: str) -> Path:
    """`data_file` as an existing file, or ValueError saying what `--data-file` should be."""
    if data_file is None:
        raise ValueError(f"the {dataset} data set needs --data-file: {holding}")
    path = Path(data_file).expanduser()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"--data-file {data_file} {what}; give {holding}")
    return path
