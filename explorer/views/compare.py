"""`CompareView`: every open model in its own column, driven by the current model's sliders.

Dimensions are linked by index, or matched through the data set's factors: each dimension of the
current model is paired, in every other model, with the dimension most correlated with the factor
it is most correlated with (e.g. "azimuth" in a β=1 VAE and in a β=250 β-VAE).
"""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from ..grids import dims_by_kl
from ..messages import CodesResult, DecodeRequest, EncodeDatasetRequest, GridResult, TraversalRequest
from .base import AnalysisView
from .grid_view import LabelledGridView

BY_INDEX, BY_FACTOR = "link dimensions by index", "match dimensions by factor"
MATCH_SAMPLES = 2000
MIN_CORRELATION = 0.2  # weaker than this, a dimension carries no factor and stays unlinked


def factor_correlations(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """|Pearson r| between each code dimension and each factor: (d, F)."""
    c = (codes - codes.mean(0)) / (codes.std(0) + 1e-9)
    f = (factors - factors.mean(0)) / (factors.std(0) + 1e-9)
    return np.abs(c.T @ f) / len(codes)


def match_dimensions(reference: np.ndarray, other: np.ndarray) -> dict[int, int]:
    """reference, other: (d, F) correlations -> {reference dim: other dim} through each dim's strongest factor."""
    mapping = {}
    for dim, row in enumerate(reference):
        factor = int(np.argmax(row))
        if row[factor] < MIN_CORRELATION:
            continue
        best = int(np.argmax(other[:, factor]))
        if other[best, factor] >= MIN_CORRELATION:
            mapping[dim] = best
    return mapping


class CompareView(AnalysisView):
    name = "compare"

    def __init__(self, ids: itertools.count) -> None:
        super().__init__(ids)
        self.link = QComboBox()
        self.link.addItems([BY_INDEX, BY_FACTOR])
        self.show_mode = QComboBox()
        self.show_mode.addItems(["decoded image", "traversal (top 6 linked dims)"])
        self.note = QLabel(wordWrap=True)
        controls = QHBoxLayout()
        for w in (self.link, self.show_mode):
            controls.addWidget(w)
        controls.addStretch(1)
        self.columns = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.columns)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.note)
        layout.addWidget(holder, 1)
        self.link.currentIndexChanged.connect(self.refresh)
        self.show_mode.currentIndexChanged.connect(self.refresh)
        self.views: dict[int, LabelledGridView] = {}
        self.latest: dict[str, int] = {}
        self.shown: dict[str, int] = {}
        self.correlations: dict[int, np.ndarray] = {}
        self.mapped_z: dict[int, np.ndarray] = {}

    def set_context(self, context) -> None:
        comparable = self.comparable(context)
        if set(comparable) != set(self.views):
            self._rebuild(comparable)
        for info in comparable.values():
            if info.factor_correlations is not None and info.model_id not in self.correlations:
                self.correlations[info.model_id] = np.asarray(info.factor_correlations)
        if len(self.correlations) >= 2 and all(m in self.correlations for m in comparable):
            with signals_blocked(self.link):
                self.link.setCurrentText(BY_FACTOR)  # stored matches: link through factors at once
        super().set_context(context)

    @staticmethod
    def comparable(context) -> dict:
        """The current model and the open models of its data set that, like it, have (or lack) an encoder."""
        ref = context.info
        if ref is None:
            return {}
        return {m: i for m, i in context.models.items()
                if i.dataset == ref.dataset and i.has_encoder == ref.has_encoder}

    def _rebuild(self, comparable: dict) -> None:
        while self.columns.count():
            self.columns.takeAt(0).widget().deleteLater()
        self.views.clear()
        for col, info in enumerate(comparable.values()):
            title = QLabel(f"<b>{info.name}</b><br>{info.summary}")
            view = LabelledGridView(info.name)
            self.columns.addWidget(title, 0, col)
            self.columns.addWidget(view, 1, col)
            self.views[info.model_id] = view

    def mapping(self, other: int) -> dict[int, int]:
        """current model's dim -> other model's dim."""
        ref = self.context.info
        if other == ref.model_id:
            return {d: d for d in range(ref.latent_dim)}
        if self.link.currentText() == BY_FACTOR and ref.model_id in self.correlations and other in self.correlations:
            return match_dimensions(self.correlations[ref.model_id], self.correlations[other])
        size = min(ref.latent_dim, self.context.models[other].latent_dim)
        return {d: d for d in range(size)}

    def refresh(self) -> None:
        ref = self.context.info
        if ref is None:
            return
        if self.link.currentText() == BY_FACTOR:
            missing = [m for m in self.comparable(self.context).values()
                       if m.model_id not in self.correlations and m.can_encode_data]
            for info in missing:
                self._send_to(f"compare-codes:{info.model_id}",
                              lambda rid, i=info: EncodeDatasetRequest(f"compare-codes:{i.model_id}", rid, i.model_id,
                                                                       MATCH_SAMPLES))
        traversal = self.show_mode.currentIndex() == 1
        order = dims_by_kl(ref.kl_per_dim or ref.latent_std, ref.latent_dim)[:6]
        for model_id, info in self.comparable(self.context).items():
            mapping = self.mapping(model_id)
            z = np.zeros(info.latent_dim, np.float32)
            for src, dst in mapping.items():
                z[dst] = self.context.z[src]
            self.mapped_z[model_id] = z
            key = f"compare:{model_id}"
            if traversal:
                dims = tuple(mapping[d] for d in order if d in mapping)
                if dims:
                    self._send_to(key, lambda rid, m=model_id, zz=z, dd=dims: TraversalRequest(key_of(m), rid, m, zz, dd, 7))
            else:
                self._send_to(key, lambda rid, m=model_id, zz=z: DecodeRequest(key_of(m), rid, m, zz))
        linked = sum(len(self.mapping(m)) for m in self.comparable(self.context) if m != ref.model_id)
        self.note.setText(f"driven by {ref.name}'s sliders; {linked} linked dimension(s) in the other models")

    def _send_to(self, key: str, make) -> None:
        self.latest[key] = next(self._ids)
        self.requested.emit(make(self.latest[key]))

    def is_idle(self) -> bool:
        return all(self.shown.get(k) == v for k, v in self.latest.items())

    def accept(self, result) -> None:
        if self.latest.get(result.view) != result.request_id:
            return
        self.shown[result.view] = result.request_id
        if isinstance(result, CodesResult):
            factors = np.stack(list(result.colours.values()), axis=1) if result.colours else None
            if factors is not None:
                self.correlations[result.model_id] = factor_correlations(result.codes, factors.astype(np.float64))
                self.refresh()
            return
        view = self.views.get(result.model_id)
        if view is None:
            return
        if isinstance(result, GridResult):
            view.set_grid(result.image, result.tiles.shape[1:3], [f"z{d}" for d in result.details["dims"]])
        else:
            view.set_grid(result.image, result.image.shape[:2], [])


def key_of(model_id: int) -> str:
    return f"compare:{model_id}"
