"""Presentation mode (View > Present, F11): the panes and the prompt, full screen, for a projector.

Entering hides the docks, the menu bar, the status bar and the annotation
strip, switches to the high-contrast scheme and sizes the type from the
window (so 1920x1080 and 1280x720 projectors show the same proportions,
drawn sharp at each size rather than scaled). Everything it changes is
saved first and put back exactly on leaving (dock layout through
saveState/restoreState, geometry and maximized state, type size, theme), and
nothing of it is written to the preferences: closing the app while
presenting saves the workbench as it was before.

A run started while presenting takes the keyboard focus to the answers: the
keys a presenter presses next are the room's single-key commands (V then a
letter, R, L), which the prompt box would take as text ("Answer briefly.va").

Esc is also Stop: while a run streams, Esc stops it; otherwise, presenting,
it leaves. The two actions are never enabled at once, and the key line on
screen says which one Esc does now. This module also holds the classroom's
other commands (blind comparison, reveal, votes, labels shown), since they
are what a teacher uses while presenting.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QVBoxLayout, QWidget

from ..panes.compare_area import CompareArea
from ..shared import theme
from ..shared.actions import MAX_PANES, VOTE_KEYS, PresentActions
from ..shared.appearance import Appearance
from ..shared.context import Activity, Context, PaneEvents
from ..shared.fonts import clamp_points
from ..shared.text_label import text_label
from .blind import BlindComparison

POINTS_AT_1080P = 22.0  # type size for a full-HD window; other sizes scale from it
REFERENCE = (1920, 1080)


def presentation_points(width: int, height: int) -> float:
    """Type size for a window of this size, to the half point (the smaller of the two ratios,
    so a narrow window never gets type too wide for its panes)."""
    scale = min(width / REFERENCE[0], height / REFERENCE[1])
    return clamp_points(round(POINTS_AT_1080P * scale * 2) / 2)


@dataclass(frozen=True)
class SavedWorkbench:
    """The workbench as it was before presenting: what leaving puts back."""

    geometry: QRect  # the window's normal (not maximized) place and size
    dock_state: QByteArray
    window_state: Qt.WindowState
    points: float
    theme: str
    menu_bar: bool
    status_bar: bool
    strip: bool
    labels_shown: bool


def key_line(presenting: bool, running: bool, blind: bool) -> str:
    """The keys a presenter needs now, as one line on screen."""
    keys = ["Esc: stop the run", "F11: leave"] if running else ["Esc or F11: leave", "Ctrl+Enter: run", "Alt+Enter: follow up"]
    if blind:
        keys += ["R: reveal all", f"Shift+1…{MAX_PANES}: reveal one"]
    keys += ["V then A/B/T: vote (Shift+letter takes back)", "L: labels", "Ctrl+Shift+B: blind"]
    return "   ·   ".join(keys) if presenting else ""


class Presentation(QObject):
    """Presents `window` (the docks, menu and status bars it hides and puts back) with the
    panes of `area`; `strip` is the annotation strip, hidden while presenting. The type size
    and scheme it borrows are `appearance`'s; `activity` says whether Esc stops a run."""

    def __init__(
        self,
        context: Context,
        window: QMainWindow,
        actions: PresentActions,
        appearance: Appearance,
        activity: Activity,
        pane_events: PaneEvents,
        area: CompareArea,
        strip: QWidget,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.appearance = appearance
        self.activity = activity
        self.area = area
        self.strip = strip
        self.actions = actions
        self.saved: SavedWorkbench | None = None
        self.blind = BlindComparison(context, area, pane_events, self)
        self.keys = text_label(role="muted", name="presentKeys")
        self.panel = QWidget()  # under the panes: the vote and, presenting, the keys
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.blind.bar)
        layout.addWidget(self.keys)
        self.actions.present.toggled.connect(self._present_toggled)
        self.actions.leave.triggered.connect(self.leave)
        self.actions.blind.toggled.connect(self._blind_toggled)
        self.actions.reveal_all.triggered.connect(self.blind.reveal_all)
        for index, action in enumerate(self.actions.reveal_pane):
            action.triggered.connect(lambda _c=False, i=index: self.blind.reveal(i))
        for key in VOTE_KEYS:
            self.actions.add_vote[key].triggered.connect(lambda _c=False, k=key: self.blind.vote_key(k, 1))
            self.actions.remove_vote[key].triggered.connect(lambda _c=False, k=key: self.blind.vote_key(k, -1))
        self.actions.show_labels.toggled.connect(self._labels_toggled)
        area.panesChanged.connect(self._panes_changed)
        pane_events.runStarting.connect(self._run_starting)
        pane_events.turnStarting.connect(lambda panes: self._run_starting(panes, False))  # a follow-up, likewise
        activity.changed.connect(self.update)
        window.installEventFilter(self)
        self.update()

    @property
    def active(self) -> bool:
        return self.saved is not None

    # --- entering and leaving --------------------------------------------------------

    def enter(self) -> None:
        self.actions.present.setChecked(True)

    def leave(self) -> None:
        self.actions.present.setChecked(False)

    def _present_toggled(self, on: bool) -> None:
        if on and not self.active:
            self._enter()
        elif not on and self.active:
            self._leave()

    def _enter(self) -> None:
        w = self.window
        self.saved = SavedWorkbench(
            geometry=w.normalGeometry(),
            dock_state=w.saveState(),
            window_state=w.windowState(),
            points=self.appearance.points,
            theme=self.appearance.theme,
            menu_bar=w.menuBar().isVisible(),
            status_bar=w.statusBar().isVisible(),
            strip=self.strip.isVisible(),
            labels_shown=self.actions.show_labels.isChecked(),
        )
        for dock in w.findChildren(QDockWidget):
            dock.hide()
        w.menuBar().hide()
        w.statusBar().hide()
        self.strip.hide()
        self.actions.show_labels.setChecked(False)
        self.appearance.borrow_scheme(theme.CONTRAST)
        w.showFullScreen()
        self.update()
        self.fit_type()

    def _leave(self) -> None:
        w, saved = self.window, self.saved
        assert saved is not None
        self.saved = None
        self.update()
        self.appearance.set_theme(saved.theme)
        self.appearance.set_points(saved.points)
        self.actions.show_labels.setChecked(saved.labels_shown)
        w.menuBar().setVisible(saved.menu_bar)
        w.statusBar().setVisible(saved.status_bar)
        self.strip.setVisible(saved.strip)
        # Minimum sizes still reflect the large type until the layouts hear of the change;
        # they would stretch the restored geometry.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        w.showNormal()
        w.setGeometry(saved.geometry)
        if saved.window_state & Qt.WindowState.WindowFullScreen:
            w.showFullScreen()
        elif saved.window_state & Qt.WindowState.WindowMaximized:
            w.showMaximized()
        w.restoreState(saved.dock_state)

    def fit_type(self) -> None:
        """Type size from the window's size: large, and drawn at that size (sharp on any projector)."""
        if self.active:
            points = presentation_points(self.window.width(), self.window.height())
            if points != self.appearance.points:
                self.appearance.set_points(points, remember=False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.window and event.type() == QEvent.Type.Resize:
            self.fit_type()
        return False

    # --- what shows -------------------------------------------------------------------

    def _blind_toggled(self, on: bool) -> None:
        self.blind.set_active(on)
        self.update()

    def _labels_toggled(self, shown: bool) -> None:
        for pane in self.area.panes:
            pane.set_annotations_visible(shown)

    def _run_starting(self, panes: list[int], _pane_rerun: bool) -> None:
        if self.active and self.area.panes:
            first = panes[0] if panes and panes[0] < len(self.area.panes) else 0
            self.area.panes[first].answer_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _panes_changed(self) -> None:
        """A new pane shows labels as the others do, and presents as they do."""
        for pane in self.area.panes:
            pane.set_annotations_visible(self.actions.show_labels.isChecked())
        self.update()

    def update(self) -> None:
        """Which commands work now, and the key line: while a run streams, Esc stops it instead of leaving."""
        running = self.activity.panes_busy
        presenting, blind = self.active, self.blind.active
        self.actions.leave.setEnabled(presenting and not running)
        self.panel.setVisible(presenting or blind)
        self.keys.setVisible(presenting)
        self.blind.bar.hint.setVisible(not presenting)  # the key line says it, shorter
        self.keys.setText(key_line(presenting, running, blind))
        for action in (self.actions.reveal_all, *self.actions.reveal_pane):
            action.setEnabled(blind)
        for action in (*self.actions.add_vote.values(), *self.actions.remove_vote.values()):
            action.setEnabled(presenting or blind)
        for pane in self.area.panes:
            pane.set_presenting(presenting)
