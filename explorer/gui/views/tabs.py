"""`AnalysisTabs`: the tab widget holding the explore page and every analysis view.

It routes the worker's answers, progress and failures to the view that asked (by the view key's
view) and gives only the visible view the current context, so hidden views cost nothing.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from explorer.gui.views.analysis import AnalysisPanel
from explorer.gui.views.base import AnalysisView, ViewContext
from explorer.gui.views.compare import CompareView
from explorer.gui.views.directions import DirectionsPanel
from explorer.gui.views.interpolation import InterpolationView
from explorer.gui.views.reconstruction import ReconstructionView
from explorer.gui.views.scatter import LatentScatterView
from explorer.gui.views.traversal import TraversalGrid
from explorer.protocol import Failure, Progress, Result, ViewKey


class AnalysisTabs(QTabWidget):
    requested = Signal(object)
    failed = Signal(str)

    def __init__(self, explore: QWidget, ids: itertools.count) -> None:
        super().__init__()
        self.addTab(explore, "Explore")
        self.traversal = TraversalGrid(ids)
        self.interpolation = InterpolationView(ids)
        self.reconstruction = ReconstructionView(ids)
        self.compare = CompareView(ids)
        self.scatter = LatentScatterView(ids)
        self.analysis = AnalysisPanel(ids)
        self.directions = DirectionsPanel(ids)
        self.views: dict[str, AnalysisView] = {}
        for title, view in (
            ("Traversal", self.traversal),
            ("Interpolation", self.interpolation),
            ("Reconstruction", self.reconstruction),
            ("Compare", self.compare),
            ("Scatter", self.scatter),
            ("Analysis", self.analysis),
            ("Directions", self.directions),
        ):
            self.addTab(view, title)
            self.views[view.name] = view
            view.requested.connect(self.requested)
            view.failed.connect(self.failed)
        self.context = ViewContext()
        self.currentChanged.connect(lambda _: self._push())

    def is_idle(self) -> bool:
        view = self.currentWidget()
        return not isinstance(view, AnalysisView) or view.is_idle()

    def open_tab(self, name: str) -> None:
        """Show a tab by name ('explore' or a view's name); the scatter, analysis and directions start at once."""
        view = self.views.get(name)
        self.setCurrentWidget(view if view is not None else self.widget(0))
        if view is self.scatter and self.context.info is not None and self.scatter.codes is None:
            self.scatter.encode()
        if view is self.analysis and self.context.info is not None and self.analysis.result is None:
            self.analysis.analyse()
        if view is self.directions and self.context.info is not None and self.directions.directions is None:
            self.directions.compute()

    def view_for(self, key: ViewKey) -> AnalysisView | None:
        """The view a request's key belongs to (None: the main window's own)."""
        return self.views.get(key.view)

    def set_context(self, context: ViewContext) -> None:
        self.context = context
        self._push()

    def _push(self) -> None:
        view = self.currentWidget()
        if isinstance(view, AnalysisView) and view.context is not self.context:
            view.set_context(self.context)

    def route_result(self, result: Result) -> bool:
        view = self.view_for(result.view)
        if view is None:
            return False
        view.accept(result)
        return True

    def route_progress(self, progress: Progress) -> None:
        view = self.view_for(progress.view)
        if view is not None and view.latest.wants(progress.view, progress.request_id):
            view.show_progress(progress)

    def route_failure(self, failure: Failure) -> bool:
        view = self.view_for(failure.view)
        if view is None:
            return False
        view.fail(failure)
        return True
