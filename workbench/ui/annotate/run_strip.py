"""Above the panes: the verdict on the whole run.

How far the answers diverge (none, minor, substantive, opposite; keys
Alt+1 to Alt+4, the same key again clears), a one-line "how they differ",
a language-shift link to the same prompt asked in another language, and a
Markdown note on the run. Like the pane bars, it only shows what was read
from the notebook and signals what the user asked for.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, QWidget

from ...core.notebook import DIVERGENCE, RunAnnotations
from ..panes.note_editor import SAVE_DELAY_MS, NoteEditor
from ..shared import describe
from ..shared.actions import DIVERGENCE_KEYS

DIVERGENCE_TEXT = {"none": "None", "minor": "Minor", "substantive": "Substantive", "opposite": "Opposite"}


class RunStrip(QWidget):
    divergenceChosen = Signal(object)  # one of DIVERGENCE, or None to clear
    summaryEdited = Signal(str)
    linkRequested = Signal()  # pick a run to mark as the same prompt in another language
    unlinkRequested = Signal(int)  # a link id
    openRunRequested = Signal(int)
    noteEdited = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runStrip")
        self.run_id: int | None = None
        self.divergence: str | None = None
        self.title = QLabel("No run shown")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(False)  # clicking the chosen rating again clears it
        rating = QHBoxLayout()
        rating.setSpacing(2)
        rating.addWidget(QLabel("Diverge:"))
        for name in DIVERGENCE:
            button = QToolButton()
            button.setText(DIVERGENCE_TEXT[name])
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"The answers diverge: {name} ({DIVERGENCE_KEYS[name]}; again to clear)")
            button.clicked.connect(lambda _checked=False, n=name: self.choose(n))
            group.addButton(button)
            rating.addWidget(button)
            self.buttons[name] = button
        self.summary = QLineEdit()
        self.summary.setPlaceholderText("How they differ, in one line")
        self.summary.setToolTip("Saved as you type")
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(SAVE_DELAY_MS)
        self._summary_timer.timeout.connect(self._save_summary)
        self.summary.textEdited.connect(lambda _t: self._summary_timer.start())
        self.summary.editingFinished.connect(self._save_summary)
        self._saved_summary = ""
        self.links = QLabel()
        self.links.setTextFormat(Qt.TextFormat.PlainText)
        self.links.setProperty("muted", True)
        self.link_button = QPushButton("Link…")
        self.link_button.setToolTip("Mark another run as the same prompt asked in another language")
        self.link_button.clicked.connect(self.linkRequested)
        self.unlink_button = QPushButton("Unlink")
        self.unlink_button.clicked.connect(self._unlink)
        self._link_ids: list[int] = []
        self._linked_runs: list[int] = []
        self.open_link_button = QPushButton("Open")
        self.open_link_button.setToolTip("Show the linked run")
        self.open_link_button.clicked.connect(self._open_link)
        self.note = NoteEditor("Note on the run (Markdown)", "What this comparison shows")
        self.note.edited.connect(self.noteEdited)
        self.note.setMaximumHeight(110)
        self.note.setMinimumWidth(160)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 4)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.title, 0, 0)
        grid.addLayout(rating, 0, 1)
        shift = QHBoxLayout()  # two rows, not three: the answers below need the height
        shift.addWidget(self.summary, 2)
        shift.addWidget(self.links, 1)
        shift.addWidget(self.open_link_button)
        shift.addWidget(self.unlink_button)
        shift.addWidget(self.link_button)
        grid.addLayout(shift, 1, 0, 1, 2)
        grid.addWidget(self.note, 0, 2, 2, 1)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 3)
        self.show_run(None, None, "")

    def show_run(self, run_id: int | None, annotations: RunAnnotations | None, annotator: str) -> None:
        """The caller's own verdict and note on `run_id`; others' verdicts are in the summary's
        tooltip and their notes on the run in the note's, with their names."""
        if run_id != self.run_id:
            self._summary_timer.stop()
            self.note.flush()
        self.run_id = run_id
        self.setEnabled(run_id is not None)
        self.title.setText(f"Run #{run_id}" if run_id is not None else "No run shown")
        mine = next((a for a in annotations.assessments if a.annotator == annotator), None) if annotations else None
        others = [a for a in annotations.assessments if a.annotator != annotator] if annotations else []
        self.divergence = mine.divergence if mine else None
        for name, button in self.buttons.items():
            button.setChecked(name == self.divergence)
        if not self._summary_timer.isActive() and not self.summary.hasFocus():
            self._saved_summary = mine.summary if mine else ""
            self.summary.setText(self._saved_summary)
        self.summary.setToolTip(describe.tooltip("\n".join(f"{a.annotator}: {a.divergence or 'unrated'} — {a.summary}" for a in others) or "Saved as you type"))
        links = annotations.links if annotations else ()
        self._link_ids = [link.id for link in links]
        self._linked_runs = [link.other(run_id) for link in links] if run_id is not None else []
        self.links.setText(
            "Language shift: " + ", ".join(f"run #{r}" for r in self._linked_runs) if links else "No language-shift link"
        )
        self.unlink_button.setVisible(bool(links))
        self.open_link_button.setVisible(bool(links))
        note = next((n.body for n in annotations.notes if n.annotator == annotator), "") if annotations else ""
        self.note.set_text(note)
        others_notes = [n for n in annotations.notes if n.annotator != annotator] if annotations else []
        self.note.editor.setToolTip(describe.tooltip("\n\n".join(f"Note on the run by {n.annotator}, {describe.local_time(n.updated_at)}:\n{n.body}" for n in others_notes)) if others_notes else "")

    def choose(self, divergence: str) -> None:
        """The rating keys and buttons: choosing the current rating again clears it."""
        if self.run_id is None:
            return
        self.divergenceChosen.emit(None if divergence == self.divergence else divergence)

    def flush(self) -> None:
        self._save_summary()
        self.note.flush()

    def _save_summary(self) -> None:
        self._summary_timer.stop()
        text = " ".join(self.summary.text().split())
        if self.run_id is not None and text != self._saved_summary:
            self._saved_summary = text
            self.summaryEdited.emit(text)

    def _open_link(self) -> None:
        if self._linked_runs:
            self.openRunRequested.emit(self._linked_runs[0])

    def _unlink(self) -> None:
        if self._link_ids:
            self.unlinkRequested.emit(self._link_ids[0])
