"""`CompareView`: every open model in its own column, driven by the current model's sliders.

Dimensions are linked by index, or matched through the data set's factors: each dimension of the
current model is paired, in every other model, with the dimension most correlated with the factor
it is most correlated with (e.g. "azimuth" in a β=1 VAE and in a β=250 β-VAE), in the direction of
that factor, and moved by the same number of its own standard deviations.

After *Encode sample*, every model starts from its own encoding of that same data sample, and the
sliders' offsets from the sample's code move the linked dimensions: the picture of Higgins et al.
(2017), one face turned in two models. Without a sample every model starts from zero.

Only continuous dimensions are linked (a slider never writes into another model's one-hot block); a
categorical group's class is carried over, by index, to another model whose layout has a categorical group
of the same size at the same place. Every other categorical group stays at its own start (class 0, or the
model's own encoding of the sample).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from checkpoints.layout import continuous_mask, resolve, spans, with_class
from explorer.common.animation import output_format
from explorer.common.dims import row_order
from explorer.common.linking import match_dimensions, picture_captions, picture_rows, spread
from explorer.gui.views.base import AnalysisView
from explorer.gui.views.compare_links import CodeLinks, oriented
from explorer.gui.views.grid_view import LabelledGridView
from explorer.protocol import (
    CodeMatchRequest,
    CodeMatchResult,
    CompareExportRequest,
    CompareExportResult,
    DecodeRequest,
    DecodeResult,
    EncodeDatasetRequest,
    EncodeDatasetResult,
    EncodeSampleRequest,
    EncodeSampleResult,
    Failure,
    Result,
    TraversalRequest,
    TraversalResult,
    ViewKey,
)

BY_INDEX, BY_FACTOR = "link dimensions by index", "match dimensions by factor"
BY_CODES = "match dimensions by codes"  # any two encoders of the same data (explorer/engine/code_matching.py)
MATCH_SAMPLES = 2000
TRAVERSAL_SPAN = 3.0  # ± around the code, in the current model's units, for "traversal" mode
TRAVERSAL_ROWS = 6
TRAVERSAL_STEPS = 7
PICTURE = "the classic picture: head turn and smile"  # each model's measured rows (ModelInfo.picture)
PICTURE_STEPS = 7
EXPORT_FILTERS = {"PNG picture (*.png)": "png", "GIF animation (*.gif)": "gif", "MP4 video (*.mp4)": "mp4"}
LINK_NAMES = {BY_INDEX: "index", BY_FACTOR: "factor", BY_CODES: "codes"}  # as export metadata records them


class CompareView(AnalysisView):
    name = "compare"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.link = QComboBox()
        self.link.addItems([BY_INDEX, BY_FACTOR, BY_CODES])
        self.show_mode = QComboBox()
        self.show_mode.addItems(["decoded image", f"traversal (top {TRAVERSAL_ROWS} linked dims)", PICTURE])
        self.picture_chosen = False  # the picture is shown once, the first time every model has it; then the user's
        self.note = QLabel(wordWrap=True)
        controls = QHBoxLayout()
        for w in (self.link, self.show_mode):
            controls.addWidget(w)
        controls.addStretch(1)
        self.exported = QLabel()  # what the last Export… wrote, on its own line under the note
        controls.addWidget(QPushButton("Export…", clicked=lambda: self.export()))
        self.columns = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.columns)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.note)
        layout.addWidget(self.exported)
        layout.addWidget(holder, 1)
        self.link.currentIndexChanged.connect(self.refresh)
        self.show_mode.currentIndexChanged.connect(self.refresh)
        self.views: dict[int, LabelledGridView] = {}
        self.correlations: dict[int, np.ndarray] = {}
        self.bases: dict[tuple[int, int], np.ndarray] = {}  # (model id, data index) -> its encoding of that sample
        self.mapped_z: dict[int, np.ndarray] = {}
        # code matches by the two files matched (driving model's, other's): a model reloaded from another file
        # (a run's next snapshot) is matched again; a pair that failed says why instead of asking again
        self.code_matches: dict[tuple[str, str], CodeMatchResult] = {}
        self.match_failures: dict[tuple[str, str], str] = {}
        self.asked: dict[ViewKey, tuple[str, str]] = {}  # the pair each waiting match request is for
        self.strengths: dict[int, QLabel] = {}  # model id -> its links and their strengths, under its column
        self.vertical = False  # models stacked one above the other (the picture: rows as wide as the tab)

    def set_context(self, context) -> None:
        comparable = self.comparable(context)
        if set(comparable) != set(self.views):
            self._rebuild(comparable)
        for info in comparable.values():
            if info.factor_correlations is not None and info.model_id not in self.correlations:
                self.correlations[info.model_id] = np.asarray(info.factor_correlations)
        if not self.picture_chosen and len(comparable) >= 2 and all(i.picture for i in comparable.values()):
            self.picture_chosen = True  # the zoo's faces pair: open on the slide of Higgins et al. (2017)
            with signals_blocked(self.show_mode):
                self.show_mode.setCurrentText(PICTURE)
        stored = len(self.correlations) >= 2 and all(m in self.correlations for m in comparable)
        if stored and self.link.currentText() != BY_CODES:
            with signals_blocked(self.link):
                self.link.setCurrentText(BY_FACTOR)  # stored matches: link through factors at once
        super().set_context(context)

    @staticmethod
    def comparable(context) -> dict:
        """The current model and the open models of its data set that, like it, have (or lack) an encoder."""
        ref = context.info
        if ref is None:
            return {}
        return {
            m: i for m, i in context.models.items() if i.dataset == ref.dataset and i.has_encoder == ref.has_encoder
        }

    def _rebuild(self, comparable: dict) -> None:
        while self.columns.count():
            self.columns.takeAt(0).widget().deleteLater()
        for i in range(self.columns.rowCount()):
            self.columns.setRowStretch(i, 0)
        for i in range(self.columns.columnCount()):
            self.columns.setColumnStretch(i, 0)
        self.views.clear()
        self.strengths.clear()
        self.vertical = self.show_mode.currentText() == PICTURE
        for n, info in enumerate(comparable.values()):
            title = QLabel(f"<b>{info.name}</b><br>{info.summary}")
            view = LabelledGridView(info.name, min_tile_px=0)  # row labels get the room their strengths need
            row, col = (3 * n, 0) if self.vertical else (0, n)
            self.columns.addWidget(title, row, col)
            self.columns.addWidget(view, row + 1, col)
            self.views[info.model_id] = view
            self.strengths[info.model_id] = QLabel(wordWrap=True, alignment=Qt.AlignTop | Qt.AlignLeft)
            self.columns.addWidget(self.strengths[info.model_id], row + 2, col)
            if self.vertical:
                self.columns.setRowStretch(row + 1, 1)  # equal rows of the picture, as wide as the tab
            else:
                self.columns.setColumnStretch(col, 1)  # equal columns, whatever their labels need

    def links(self, other: int) -> dict[int, tuple[int, float]]:
        """current model's dim -> (other model's dim, gain): the other dim moves by gain × this dim's offset.

        Continuous dimensions only, in both models."""
        ref = self.context.selected()
        mine = continuous_mask(resolve(ref.layout, ref.latent_dim))
        if other == ref.model_id:
            return {d: (d, 1.0) for d in range(ref.latent_dim) if mine[d]}
        info = self.context.models[other]
        theirs = continuous_mask(resolve(info.layout, info.latent_dim))
        if self.link.currentText() == BY_CODES:
            found = self.code_links(other)
            return found.gains() if found is not None else {}
        if self.link.currentText() == BY_FACTOR and ref.model_id in self.correlations and other in self.correlations:
            return {
                src: (dst, sign * spread(info, dst) / spread(ref, src))
                for src, (dst, sign) in match_dimensions(
                    self.correlations[ref.model_id],
                    self.correlations[other],
                    _usable(ref.active, mine),
                    _usable(info.active, theirs),
                ).items()
            }
        size = min(ref.latent_dim, info.latent_dim)
        return {d: (d, 1.0) for d in range(size) if mine[d] and theirs[d]}

    def code_links(self, other: int) -> CodeLinks | None:
        """The links to `other` found by matching codes, seen from the current model; None until they arrive."""
        mine, theirs = self.pair(other)
        if (mine, theirs) in self.code_matches:
            return oriented(self.code_matches[(mine, theirs)], flipped=False)
        if (theirs, mine) in self.code_matches:
            return oriented(self.code_matches[(theirs, mine)], flipped=True)
        return None

    def pair(self, other: int) -> tuple[str, str]:
        """The files of the current model and `other` (SHA-256 and path): what a code match is kept by."""
        ref, info = self.context.selected(), self.context.models[other]
        return f"{ref.sha256}:{ref.path}", f"{info.sha256}:{info.path}"

    def why_no_code_match(self, other: int) -> str:
        """Why the codes of the current model and `other` cannot be matched here ("" when they can)."""
        ref, info = self.context.selected(), self.context.models[other]
        for model in (ref, info):
            if not model.can_encode_data:
                return f"{model.name} cannot encode its data here" + (f": {model.data_note}" if model.data_note else "")
        if info.image_shape != ref.image_shape:
            return f"{info.name} sees {info.image_shape[2]}×{info.image_shape[1]} images, {ref.name} another size"
        mine, theirs = self.pair(other)
        return self.match_failures.get((mine, theirs)) or self.match_failures.get((theirs, mine)) or ""

    def request_code_matches(self, comparable: dict) -> None:
        """Ask the worker to match the current model's codes with each other model's (once per pair)."""
        ref = self.context.selected()
        mine = _usable(ref.active, continuous_mask(resolve(ref.layout, ref.latent_dim)))
        for other, info in comparable.items():
            key = ViewKey(self.name, "match", other)
            if other == ref.model_id or self.code_links(other) is not None or self.latest.waiting(key):
                continue
            if self.why_no_code_match(other):
                continue
            theirs = _usable(info.active, continuous_mask(resolve(info.layout, info.latent_dim)))
            usable = (tuple(mine), tuple(theirs))
            request = CodeMatchRequest(key, self.latest.next_id(key), (ref.model_id, other), usable, MATCH_SAMPLES)
            self.asked[key] = self.pair(other)
            self.requested.emit(request)

    def on_failure(self, failure: Failure) -> None:
        pair = self.asked.pop(failure.view, None)
        if pair is not None:  # a pair that cannot be matched (different data): say so under its column
            self.match_failures[pair] = failure.message
            self.show_strengths(self.comparable(self.context))

    def show_strengths(self, comparable: dict) -> None:
        """Under each column: its links and their strengths (matching by codes), or why there are none."""
        ref = self.context.selected()
        for model_id, label in self.strengths.items():
            text = ""
            if self.link.currentText() == BY_CODES and model_id in comparable:
                if model_id == ref.model_id:
                    text = "drives the others"
                elif found := self.code_links(model_id):
                    text = found.summary(ref.name)
                else:
                    reason = self.why_no_code_match(model_id)
                    text = f"not linked: {reason}" if reason else "matching codes…"
            label.setText(text)

    def row_label(self, model_id: int, dim: int) -> str:
        """A traversal row's label in `model_id`'s column: the dim, and (matched by codes) its link's strength."""
        found = self.code_links(model_id) if self.link.currentText() == BY_CODES else None
        return found.label_of(dim) if found is not None and model_id != self.context.current else f"z{dim}"

    def carried_classes(self, z: np.ndarray, model_id: int) -> np.ndarray:
        """z of `model_id` with the current model's class in each categorical group they share (same size, same
        place in the code)."""
        ref, info = self.context.selected(), self.context.models[model_id]
        mine, theirs = resolve(ref.layout, ref.latent_dim), resolve(info.layout, info.latent_dim)
        where = dict(zip(spans(theirs), range(len(theirs))))
        for g, span in zip(mine, spans(mine)):
            other = where.get(span)
            if g.is_categorical and other is not None and theirs[other].is_categorical:
                z = with_class(theirs, z, other, int(np.argmax(self.context.z[span[0] : span[1]])))
        return z

    def linked_code(self, model_id: int) -> np.ndarray | None:
        """The code shown for `model_id`; None while its encoding of the anchor sample is on its way.

        Its own encoding of the anchor sample (or zeros), plus each linked dimension's gain times the
        current model's offset from the anchor's code.
        """
        ctx, ref = self.context, self.context.selected()
        if model_id == ref.model_id:
            return ctx.z.copy()
        info = ctx.models[model_id]
        z, ref_base = info.start_code(), ref.start_code()
        if ctx.anchor is not None:
            ref_base = ctx.anchor.z
            if self.needs_base(model_id):
                base = self.bases.get((model_id, ctx.anchor.index))
                if base is None:
                    return None
                z = base.copy()
        for src, (dst, gain) in self.links(model_id).items():
            z[dst] += gain * (ctx.z[src] - ref_base[src])
        return z if self.link.currentText() == BY_FACTOR else self.carried_classes(z, model_id)

    def needs_base(self, model_id: int) -> bool:
        """Another model that can encode the anchor's data sample itself (a model whose data is gone starts at zero)."""
        return model_id != self.context.current and self.context.models[model_id].can_encode_data

    def refresh(self) -> None:
        ref = self.context.info
        if ref is None:
            return
        comparable = self.comparable(self.context)
        if self.link.currentText() == BY_FACTOR:
            for info in comparable.values():
                if info.model_id not in self.correlations and info.can_encode_data:
                    key = ViewKey(self.name, "codes", info.model_id)
                    self.requested.emit(
                        EncodeDatasetRequest(key, self.latest.next_id(key), info.model_id, MATCH_SAMPLES)
                    )
        if self.link.currentText() == BY_CODES:
            self.request_code_matches(comparable)
        self.show_strengths(comparable)
        if (self.show_mode.currentText() == PICTURE) != self.vertical:
            self._rebuild(comparable)
        anchor = self.context.anchor
        traversal = self.show_mode.currentIndex() == 1
        picture = self.show_mode.currentText() == PICTURE
        order = self.traversal_order()
        for model_id in comparable:
            if anchor is not None and self.needs_base(model_id) and (model_id, anchor.index) not in self.bases:
                key = ViewKey(self.name, "anchor", model_id)
                if not self.latest.waiting(key):
                    request_id = self.latest.next_id(key)
                    self.requested.emit(EncodeSampleRequest(key, request_id, model_id, index=anchor.index))
                continue
            z = self.linked_code(model_id)
            if z is None:
                continue
            self.mapped_z[model_id] = z
            key = key_of(model_id)
            if picture:
                self.request_picture(model_id, z)
                continue
            if not traversal:
                self.requested.emit(DecodeRequest(key, self.latest.next_id(key), model_id, z))
                continue
            links = self.links(model_id)
            rows = [links[d] for d in order if d in links]
            if rows:
                dims = tuple(dst for dst, _ in rows)
                spans = tuple(TRAVERSAL_SPAN * gain for _, gain in rows)
                self.requested.emit(
                    TraversalRequest(key, self.latest.next_id(key), model_id, z, dims, TRAVERSAL_STEPS, spans)
                )
        linked = sum(len(self.links(m)) for m in comparable if m != ref.model_id)
        start = (
            f"data sample #{anchor.index}, encoded by each model"
            if anchor
            else "zero (Encode sample to start every model from the same data sample)"
        )
        self.note.setText(
            f"driven by {ref.name}'s sliders; {linked} linked dimension(s) in the other models; starting from {start}"
        )

    def picture_rows(self, model_id: int, z: np.ndarray) -> tuple[np.ndarray, tuple[int, ...], tuple[float, ...]]:
        """The picture's traversal of a model (`linking.picture_rows`)."""
        return picture_rows(self.context.models[model_id], z)

    def request_picture(self, model_id: int, z: np.ndarray) -> None:
        info, view = self.context.models[model_id], self.views.get(model_id)
        if not info.picture:
            if view is not None:
                view.clear()
            self.strengths[model_id].setText("not measured: no head-turn and smile rows (latent-train zoo --measure)")
            return
        start, dims, spans = self.picture_rows(model_id, z)
        self.strengths[model_id].setText("")
        key = key_of(model_id)
        request = TraversalRequest(key, self.latest.next_id(key), model_id, start, dims, PICTURE_STEPS, spans)
        self.requested.emit(request)

    def traversal_order(self) -> list[int]:
        """The current model's traversal rows: its top TRAVERSAL_ROWS continuous dims (by KL, else spread)."""
        ref = self.context.selected()
        mine = continuous_mask(resolve(ref.layout, ref.latent_dim))
        order = [d for d in row_order(ref.kl_per_dim, ref.latent_std, ref.latent_dim, ref.layout) if mine[d]]
        return order[:TRAVERSAL_ROWS]

    def export(self, path: str | None = None) -> CompareExportRequest | None:
        """Export… (GUI thread): ask where (PNG, GIF or MP4 by the extension); the worker renders the traversal
        rows, the current model's above each model's linked row, and writes the file (engine/compare_export.py)."""
        if self.context.info is None:
            return None
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(self, "Export compare", "compare.png", ";;".join(EXPORT_FILTERS))
            if not path:
                return None
            if not Path(path).suffix:
                path += "." + EXPORT_FILTERS.get(chosen, "png")
        try:
            output_format(path, flag="the file")
        except ValueError as exc:
            self.failed.emit(str(exc))
            return None
        request = self.export_request(path)
        if request is None:
            self.failed.emit("the Compare tab is still encoding the sample for each model; export once it shows them")
        else:
            self.requested.emit(request)
        return request

    def export_request(self, path: str) -> CompareExportRequest | None:
        """The request for what the traversal mode shows: for each current-model row, each model's linked dim
        (-1 where it has none); a model with no linked dim is left out. None while a model's start is unknown."""
        ref, order = self.context.selected(), self.traversal_order()
        comparable = self.comparable(self.context)
        picture = self.show_mode.currentText() == PICTURE
        models, codes, dims, spans = [], [], [], []
        for model_id in [ref.model_id, *(m for m in comparable if m != ref.model_id)]:
            z = self.linked_code(model_id)
            if z is None:
                return None
            if picture:  # each model's own head-turn and smile rows, aligned by factor
                if self.context.models[model_id].picture:
                    start, own_dims, own_spans = self.picture_rows(model_id, z)
                    models.append(model_id)
                    codes.append(start)
                    dims.append(own_dims)
                    spans.append(own_spans)
                continue
            found = self.links(model_id)
            rows = [found.get(d, (-1, 0.0)) for d in order]
            if not any(d >= 0 for d, _ in rows):
                continue
            models.append(model_id)
            codes.append(z)
            dims.append(tuple(d for d, _ in rows))
            spans.append(tuple(TRAVERSAL_SPAN * gain for _, gain in rows))
        infos = [self.context.models[m] for m in models]
        key = ViewKey(self.name, "export")
        return CompareExportRequest(
            key,
            self.latest.next_id(key),
            tuple(models),
            tuple(codes),
            tuple(dims),
            tuple(spans),
            tuple(i.name for i in infos),
            tuple(i.source for i in infos),
            "picture (each model's measured head-turn and smile dims)" if picture else self.link_name(models),
            path,
            PICTURE_STEPS if picture else TRAVERSAL_STEPS,
            captions=tuple(picture_captions(i) for i in infos) if picture else (),
        )

    def link_name(self, models: list[int]) -> str:
        """How the export's rows were linked, as its metadata says (factor links need both models' correlations)."""
        mode = self.link.currentText()
        if mode == BY_FACTOR and not all(m in self.correlations for m in models):
            return "factor where both models have factor correlations, else index"
        return LINK_NAMES.get(mode, mode)

    def show_result(self, result: Result) -> None:
        if isinstance(result, CompareExportResult):
            w, h = result.size
            frames = f"{result.frames} frames, " if result.frames > 1 else ""
            self.exported.setText(f"wrote {Path(result.path).name} ({frames}{w}×{h} px)")
            return
        if isinstance(result, EncodeSampleResult):
            self.bases[(result.model_id, result.index)] = result.z
            self.refresh()
            return
        if isinstance(result, CodeMatchResult):
            pair = self.asked.pop(result.view, None)
            if pair is not None:
                self.code_matches[pair] = result
            self.refresh()
            return
        if isinstance(result, EncodeDatasetResult):
            if result.correlations is not None:
                self.correlations[result.model_id] = result.correlations
                self.refresh()
            return
        view = self.views.get(result.model_id)
        if view is None:
            return
        if isinstance(result, TraversalResult):
            info = self.context.models.get(result.model_id)
            if self.show_mode.currentText() == PICTURE and info is not None and info.picture:
                view.set_grid(result.image, result.tiles.shape[1:3], [row.label for row in info.picture])
                return
            labels = [self.row_label(result.model_id, d) for d in result.dims]
            view.set_grid(result.image, result.tiles.shape[1:3], labels)
        elif isinstance(result, DecodeResult):
            view.set_grid(result.image, result.image.shape[:2], [])


def _usable(active: Sequence[bool] | None, continuous: np.ndarray) -> list[bool]:
    """Dimensions that may be matched: active (when known) and continuous."""
    return [bool(c) and (active is None or bool(a)) for a, c in zip(active or [True] * len(continuous), continuous)]


def key_of(model_id: int) -> ViewKey:
    """The key of a model's column (its image or traversal)."""
    return ViewKey("compare", "", model_id)
