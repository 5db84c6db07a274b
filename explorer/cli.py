"""`latent-explorer [FILES...] [--zoo] [--device auto|cpu|cuda|mps] [--screenshot PNG] [--latent-dim N]
[--arch-file F.py]`,
or `latent-explorer export ...`, `latent-explorer convert ...`, `latent-explorer project ...` (explorer/headless.py).

FILES are anything `checkpoints.load` opens (docs/importing.md): our .safetensors files, training-run
folders, disentangling-vae results folders or their model.pt, state dicts, TorchScript generators.

With no files it reopens the last session, else the bundled zoo in checkpoints/zoo/, else a
welcome view; `--zoo` (what `make run` passes) opens the zoo whatever the session held.
`--screenshot PNG` waits until every view has rendered, saves a grab and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from checkpoints.atomic import atomic_write_bytes, check_output
from checkpoints.errors import CheckpointError
from checkpoints.flags import add_import_flags, load_options
from explorer.common.flags import OneLineParser
from explorer.protocol import LoadOptions

SCREENSHOT_TIMEOUT_S = 60
FIRST_PICTURE = "faces-betavae.safetensors"  # selected, and compared with faces-vae, when the zoo opens
TABS = ("explore", "traversal", "interpolation", "reconstruction", "compare", "scatter", "analysis", "directions")


def zoo_files() -> list[str]:
    zoo = resources.files("checkpoints").joinpath("zoo")
    return sorted(str(p) for p in zoo.iterdir() if p.name.endswith(".safetensors")) if zoo.is_dir() else []


# The zoo opens on this face (factor classes of the faces data set: azimuth, elevation, smile, skin,
# hair, hair length, background, lighting): turned a little, half smiling. The worker finds its index.
FIRST_FACE = (6, 2, 8, 1, 1, 1, 0, 2)
FIRST_PAINT_ENV = "LATENT_EXPLORER_FIRST_PAINT"  # "report" or "exit": print when the window first paints (bench)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="latent-explorer", description="Look inside trained generative models.")
    parser.add_argument(
        "files",
        nargs="*",
        help="checkpoints to open: .safetensors files, training-run folders, "
        "disentangling-vae results folders or model.pt, .pt/.pth/.ckpt state dicts, TorchScript generators",
    )
    parser.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="save a picture of the window once it has rendered, then exit"
    )
    parser.add_argument("--overwrite", action="store_true", help="let --screenshot replace a checkpoint-like file")
    parser.add_argument(
        "--zoo",
        action="store_true",
        help="open the bundled models, the faces VAE and β-VAE compared "
        "(the default with no files and no saved session)",
    )
    parser.add_argument("--tab", choices=TABS, help="the view to show first (default: explore; compare for the zoo)")
    add_import_flags(parser)
    return parser


HEADLESS = ("export", "convert", "directions", "project")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in HEADLESS:
        from explorer.engine.headless import main as headless

        return headless(argv)
    args = build_parser().parse_args(argv)
    try:
        _check_device(args.device)
        options = _start_options(args)
        if args.screenshot:
            check_output(args.screenshot, overwrite=args.overwrite, inputs=args.files, flag="--screenshot")
    except (ValueError, CheckpointError) as exc:
        print(f"latent-explorer: error: {exc}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings, QTimer

    from explorer.engine.thread import EngineThread
    from explorer.gui.app import create_app
    from explorer.gui.main_window import MainWindow

    app = create_app(sys.argv[:1])
    window = MainWindow(None, QSettings())  # paints before torch loads; the worker attaches when ready
    window.start_tab = args.tab
    if args.files:
        window.open_files(args.files, options=options)
    elif args.zoo or not window.restore_session():
        zoo = zoo_files()
        pair = [p for p in zoo if Path(p).name == FIRST_PICTURE]
        if pair and args.tab is None:
            window.start_tab = "compare"  # the β=1 VAE beside the β=250 β-VAE, linked by factor
            window.start_sample = FIRST_FACE  # both models start from their encodings of one face
            window.select_path(pair[0])
        window.open_files(zoo)
    _report_first_paint(window, app)
    window.show()
    app.processEvents()  # the first frame, before the worker thread starts importing torch
    engine = EngineThread(args.device)
    engine.worker_ready.connect(window.attach)
    engine.start()
    outcome = {"code": 0}
    if args.screenshot:
        _grab_when_rendered(window, Path(args.screenshot), outcome, QTimer)
    else:
        app.aboutToQuit.connect(window.save_session)
    code = app.exec()
    engine.stop()
    window.deleteLater()
    return outcome["code"] or code


def _check_device(name: str) -> None:
    """An explicit GPU is checked now (that loads torch); `auto` and `cpu` are resolved on the worker."""
    if name not in ("auto", "cpu"):
        import checkpoints

        checkpoints.resolve_device(name)


def _report_first_paint(window: Any, app: Any) -> None:
    """With $LATENT_EXPLORER_FIRST_PAINT set, say on stderr when the window first paints (and maybe exit)."""
    mode = os.environ.get(FIRST_PAINT_ENV)
    if not mode:
        return
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Paint:
                window.removeEventFilter(self)
                print("latent-explorer: first paint", file=sys.stderr, flush=True)
                if mode == "exit":
                    QTimer.singleShot(0, window.close_without_saving)
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)


def _start_options(args: argparse.Namespace) -> LoadOptions:
    """The import flags, which apply to the FILES given with them."""
    options = LoadOptions(**load_options(args))
    if args.zoo and args.files:
        raise ValueError("--zoo opens the bundled models instead of FILES; give one or the other")
    if not args.files and options != LoadOptions():
        raise ValueError("the import flags apply to the FILES given with them; name the files to open")
    return options


def _grab_when_rendered(window, path: Path, outcome: dict, timer_cls) -> None:
    deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
    timer = timer_cls(window)

    from PySide6.QtWidgets import QApplication

    def poll() -> None:
        timed_out = time.monotonic() > deadline
        if not (window.is_idle() or timed_out):
            return
        timer.stop()
        QApplication.processEvents()  # pyqtgraph applies view ranges lazily: let it before grabbing
        if timed_out:
            print(
                f"latent-explorer: error: the window did not finish rendering in {SCREENSHOT_TIMEOUT_S} s",
                file=sys.stderr,
            )
            outcome["code"] = 1
        if not window.models and window.asked_for_files:
            reason = window.banner.text() or "nothing could be opened"
            print(f"latent-explorer: error: no model opened: {reason}", file=sys.stderr)
            outcome["code"] = 1
        try:
            atomic_write_bytes(path, _png_bytes(window.grab()))
        except CheckpointError as exc:
            print(f"latent-explorer: error: {exc}", file=sys.stderr)
            outcome["code"] = 2
        window.hide()
        window.close_without_saving()

    timer.timeout.connect(poll)
    timer.start(50)


def _png_bytes(pixmap: Any) -> bytes:
    """A QPixmap encoded as PNG in memory (then written atomically: an existing file is never truncated)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    pixmap.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


if __name__ == "__main__":
    sys.exit(main())
