"""What the explorer remembers between runs (QSettings): recent files, open models, codes, layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


def recent_files(settings: QSettings) -> list[str]:
    return _json(settings, "recent", [])


def remember_recent(settings: QSettings, path: str) -> None:
    paths = [path] + [p for p in recent_files(settings) if p != path]
    settings.setValue("recent", json.dumps(paths[:MAX_RECENT]))


DATA_KEYS = ("dataset", "data_dir", "data_file")  # LoadOptions fields a session keeps (Data ▸ Use Data Set…)


def save_session(
    settings: QSettings,
    models: list[tuple[str, np.ndarray, dict[str, str]]],
    selected: str | None,
    bookmarks: list[dict],
    geometry: QByteArray,
    state: QByteArray,
) -> None:
    """models: (path, current z, the data set it was given) in list order."""
    entries = [{"path": p, "z": z.tolist(), **({"data": data} if data else {})} for p, z, data in models]
    settings.setValue("session/models", json.dumps(entries))
    settings.setValue("session/selected", selected or "")
    settings.setValue("session/bookmarks", json.dumps(bookmarks))
    settings.setValue("window/geometry", geometry)
    settings.setValue("window/state", state)
    settings.sync()


def restored_models(settings: QSettings) -> tuple[list[tuple[str, np.ndarray, dict[str, str]]], list[str]]:
    """The last session's (path, z, data set) whose files still exist, and the paths that went missing."""
    kept, missing = [], []
    for entry in _json(settings, "session/models", []):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            continue
        if Path(path).exists():  # a checkpoint, or the folder of a training run
            given = entry.get("data") if isinstance(entry.get("data"), dict) else {}
            data = {k: v for k, v in given.items() if k in DATA_KEYS and isinstance(v, str)}
            kept.append((path, np.asarray(entry.get("z", []), dtype=np.float32), data))
        else:
            missing.append(path)
    return kept, missing


def is_trusted(settings: QSettings, sha256: str) -> bool:
    """The user agreed to run the code of a file with this content before."""
    return bool(sha256) and sha256 in _json(settings, "trusted-code", [])


def trust(settings: QSettings, sha256: str) -> None:
    settings.setValue("trusted-code", json.dumps(sorted({*_json(settings, "trusted-code", []), sha256})))
    settings.sync()


def restored_selection(settings: QSettings) -> str | None:
    return settings.value("session/selected", "") or None


def restored_bookmarks(settings: QSettings) -> list[dict]:
    return [b for b in _json(settings, "session/bookmarks", []) if isinstance(b, dict) and "path" in b and "z" in b]


def _json(settings: QSettings, key: str, default):
    try:
        value = json.loads(settings.value(key, "") or "null")
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default
