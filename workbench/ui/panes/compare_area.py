"""The row of panes, two to six, side by side in a splitter.

Owns what concerns all panes at once: how many there are, the models they
can offer, the shared settings, the turn of a conversation they all show
(turn_strip.py), and synchronised scrolling (each answer scrolled to the same
fraction of its length, since answers differ in length).

The area asks the window for the width of two panes only: a third to sixth
pane takes room from the others down to their minimum, then the row scrolls
sideways, and to whichever pane takes the keyboard focus (F6, a click). Were every pane's minimum added up, adding panes would push the
window past the screen's edge (four panes once made it 1754 px wide on a
1600 px screen), and it would stay that wide after they were removed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QVBoxLayout, QWidget

from ...core.catalog import ModelEntry
from ...core.engine.params import GenerationParams
from ..shared.actions import MAX_PANES, MIN_PANES
from ..shared.application import the_application
from .pane import ComparePane
from .turn_strip import TurnStrip


class CompareArea(QWidget):
    modelChosen = Signal(object)  # pane
    rerunRequested = Signal(object)  # pane
    settingsRequested = Signal(object)  # pane
    linkHovered = Signal(str)
    panesChanged = Signal()  # a pane was added or removed
    paneRevealed = Signal(object)  # pane: a blind pane now shows its model

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.row = QScrollArea()
        self.row.setWidgetResizable(True)
        self.row.setFrameShape(QFrame.Shape.NoFrame)
        self.row.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.row.setWidget(self.splitter)
        self.splitter.installEventFilter(self)  # a pane's minimum changed: the window asks this area again
        the_application().focusChanged.connect(self._focus_changed)
        self.turns = TurnStrip()  # a conversation's turns: every pane shows the one chosen
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.turns)
        layout.addWidget(self.row)
        self.panes: list[ComparePane] = []
        self._entries: list[ModelEntry] = []
        self._shared = GenerationParams()
        self._css = ""
        self._running = False
        self._sync = False
        self._syncing = False
        for _ in range(MIN_PANES):
            self.add_pane()

    # --- how many panes -----------------------------------------------------------

    def add_pane(self) -> ComparePane | None:
        if len(self.panes) >= MAX_PANES or self._running:
            return None
        pane = ComparePane()
        pane.set_entries(self._entries)
        pane.set_shared_params(self._shared)
        pane.answer_view.set_css(self._css)
        pane.modelChosen.connect(self.modelChosen)
        pane.rerunRequested.connect(self.rerunRequested)
        pane.settingsRequested.connect(self.settingsRequested)
        pane.removeRequested.connect(self.remove_pane)
        pane.linkHovered.connect(self.linkHovered)
        pane.revealed.connect(self.paneRevealed)
        pane.answer_view.verticalScrollBar().valueChanged.connect(lambda _value, p=pane: self._scrolled(p))
        self.panes.append(pane)
        self.splitter.addWidget(pane)
        self._equalize()
        self._update_buttons()
        self.panesChanged.emit()
        return pane

    def remove_pane(self, pane: ComparePane) -> None:
        if len(self.panes) <= MIN_PANES or self._running or pane not in self.panes:
            return
        self.panes.remove(pane)
        pane.hide()
        pane.setParent(None)
        pane.deleteLater()
        self._equalize()
        self._update_buttons()
        self.panesChanged.emit()

    def set_count(self, count: int) -> None:
        count = max(MIN_PANES, min(MAX_PANES, count))
        while len(self.panes) < count:
            self.add_pane()
        while len(self.panes) > count:
            self.remove_pane(self.panes[-1])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.splitter and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return False

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        pane = next((p for p in self.panes if new is not None and p.isAncestorOf(new)), None)
        if pane is not None:
            self.row.ensureWidgetVisible(pane, 0, 0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As wide as the narrowest MIN_PANES panes, as tall as the tallest pane's minimum
        and the sideways scroll bar."""
        widths = sorted(pane.minimumSizeHint().width() for pane in self.panes)[:MIN_PANES]
        handles = (MIN_PANES - 1) * self.splitter.handleWidth()
        height = self.splitter.minimumSizeHint().height() + self.row.horizontalScrollBar().sizeHint().height()
        return QSize(sum(widths) + handles, height)

    def _equalize(self) -> None:
        self.splitter.setSizes([1000] * len(self.panes))

    def _update_buttons(self) -> None:
        for pane in self.panes:
            pane.set_running(self._running, removable=len(self.panes) > MIN_PANES)

    # --- what every pane shares ---------------------------------------------------

    def set_entries(self, entries: list[ModelEntry]) -> None:
        self._entries = list(entries)
        for pane in self.panes:
            pane.set_entries(self._entries)

    @property
    def shared_params(self) -> GenerationParams:
        """The last valid shared settings."""
        return self._shared

    def set_shared_params(self, shared: GenerationParams) -> None:
        self._shared = shared
        for pane in self.panes:
            pane.set_shared_params(shared)

    def set_css(self, css: str) -> None:
        self._css = css
        for pane in self.panes:
            pane.answer_view.set_css(css)

    def set_running(self, running: bool) -> None:
        self._running = running
        self.turns.setEnabled(not running)  # the turn streaming is the one shown until it ends
        self._update_buttons()

    @property
    def can_add(self) -> bool:
        return len(self.panes) < MAX_PANES and not self._running

    # --- synchronised scrolling -------------------------------------------------------

    @property
    def sync_scrolling(self) -> bool:
        return self._sync

    def set_sync_scrolling(self, on: bool) -> None:
        self._sync = on

    def _scrolled(self, source: ComparePane) -> None:
        if not self._sync or self._syncing:
            return
        bar = source.answer_view.verticalScrollBar()
        fraction = bar.value() / bar.maximum() if bar.maximum() > 0 else 0.0
        self._syncing = True
        try:
            for pane in self.panes:
                if pane is not source:
                    other = pane.answer_view.verticalScrollBar()
                    other.setValue(round(fraction * other.maximum()))
        finally:
            self._syncing = False
