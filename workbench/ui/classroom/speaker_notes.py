"""The speaker note of the current demo step, where only the teacher sees it.

With a second screen (a projector beside a laptop), the notes open as a
window of their own on the screen the main window is not on, so the class
sees the panes and the teacher sees the notes. With one screen they live in
a dock of the main window, which the teacher can float and place anywhere.
Notes, prompts and titles may come from a file someone sent: they are shown
as plain text only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from ...core.notebook.demos import DemoStep
from ..shared import describe
from ..shared.text_label import text_label

MODE_TEXT = {"live": "asks the models live", "replay": "replays the recorded run", "instant": "shows the recorded run at once"}


def notes_screen(screens: list[QScreen], window_screen: QScreen | None) -> QScreen | None:
    """The screen for the notes window: one the main window is not on, or None with one screen."""
    return next((screen for screen in screens if screen is not window_screen), None) if len(screens) > 1 else None


class SpeakerNotes(QWidget):
    """Step n of m, its title, how it plays, its follow-ups, the note, and what comes next."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speakerNotes")
        self.models_hidden = False
        self._shown: tuple[DemoStep | None, int, DemoStep | None] = (None, 0, None)
        self.heading = text_label()
        self.heading.setStyleSheet("font-weight: bold;")  # also in the window on the second screen
        self.how = text_label(role="muted")
        self.then = text_label(role="muted")  # the follow-ups a live step asks after its prompt
        self.note = QPlainTextEdit()
        self.note.setReadOnly(True)
        self.note.setPlaceholderText("No note for this step.")
        self.upcoming = text_label(role="muted")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.how)
        layout.addWidget(self.then)
        layout.addWidget(self.note, 1)
        layout.addWidget(self.upcoming)
        self.show_step(None, 0, None)

    def set_models_hidden(self, hidden: bool) -> None:
        """Notes in a dock of the window are on the projector too: blind, they name no model."""
        self.models_hidden = hidden
        self.show_step(*self._shown)

    def show_step(self, step: DemoStep | None, count: int, following: DemoStep | None) -> None:
        self._shown = (step, count, following)
        if step is None:
            self.heading.setText("No demo step yet")
            self.how.setText("Choose a script in the Demo scripts panel, then press Page Down.")
            self.note.setPlainText("")
            self.then.hide()
            self.upcoming.setText(f"First (Page Down): {following.label}" if following is not None else "")
            return
        self.heading.setText(f"Step {step.position + 1} of {count}: {step.label}")
        language = f" · prompt in {step.language}" if step.language else ""
        models = describe.MODELS_HIDDEN if self.models_hidden else ", ".join(m["name"] for m in step.models) or "the panes' models"
        self.how.setText(f"{MODE_TEXT.get(step.mode, step.mode)}{language} · {models}")
        self.then.setText("\n".join(f"then: {' '.join(follow_up.split())}" for follow_up in step.follow_ups))
        self.then.setVisible(bool(step.follow_ups))
        self.note.setPlainText(step.note)
        self.upcoming.setText(f"Next (Page Down): {following.label}" if following is not None else "Last step.")


class SpeakerNotesWindow(QWidget):
    """The notes as a window of their own, for a second screen."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowTitle("Speaker notes — Model Values Workbench")
        self.notes = SpeakerNotes()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.notes)

    def show_on(self, screen: QScreen) -> None:
        self.setScreen(screen)
        self.setGeometry(screen.availableGeometry().adjusted(40, 40, -40, -40))
        self.show()


def other_screen(window: QWidget) -> QScreen | None:
    """Where a notes window should go for `window`, if anywhere (see notes_screen)."""
    return notes_screen(QGuiApplication.screens(), window.screen())
