"""Under each answer: its labels, the detectors' suggestions, its highlights, a note.

The bar only shows what the window read from the notebook and says what
the user asked for (signals); the window writes it through the notebook
queue and redraws from the notebook, so the screen always shows what is
saved. Human labels are solid chips; machine suggestions (flags) are shown
apart, dashed, and become a label only when someone accepts them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.notebook import Label
from ..core.notebook.annotations import ResponseAnnotations, Span
from . import describe
from .note_editor import NoteEditor

CHIP_COLUMNS = 2  # three squeezed titles to "4 Stat…rative" in a 2-pane window
NUMBER_KEYS = "1234567890"  # the first ten labels, in order
SPAN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
QUOTE_CHARS = 60


def key_of(index: int) -> str | None:
    """The number key of the label at `index` in the label set (None after the tenth)."""
    return NUMBER_KEYS[index] if index < len(NUMBER_KEYS) else None


def chip_css(colour: str) -> str:
    return (
        f"QToolButton {{ border: 1px solid {colour}; border-radius: 9px; padding: 1px 6px; }}"
        f"QToolButton:checked {{ background: {colour}; color: white; }}"
    )


class AnnotationBar(QWidget):
    labelToggled = Signal(str)  # a label name
    flagAccepted = Signal(str)  # a flag name that is also a label
    noteEdited = Signal(str)
    spanEditRequested = Signal(int)
    spanRemoveRequested = Signal(int)
    spanActivated = Signal(int)  # scroll the answer to this highlight

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: dict[str, Label] = {}
        self._chips: dict[str, QToolButton] = {}
        self.suggestions: list[str] = []  # flag names that could become labels, not yet accepted
        self.chip_grid = QGridLayout()
        self.chip_grid.setContentsMargins(0, 0, 0, 0)
        self.chip_grid.setSpacing(3)
        self.flag_row = QHBoxLayout()
        self.flag_row.setContentsMargins(0, 0, 0, 0)
        self.flag_title = QLabel("Suggested (A accepts):")
        self.flag_title.setProperty("muted", True)
        self.flag_title.setToolTip("Found by the automatic detectors, not by a person. Accepting one adds it as your label.")
        self.flag_row.addWidget(self.flag_title)
        self.flag_row.addStretch(1)
        self.spans = QListWidget()
        self.spans.setMaximumHeight(70)
        self.spans.setToolTip("Highlighted passages. Enter edits one, Delete removes it.")
        self.spans.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.spans.customContextMenuRequested.connect(self._span_menu)
        self.spans.itemActivated.connect(lambda item: self.spanEditRequested.emit(item.data(SPAN_ID_ROLE)))
        self.spans.currentItemChanged.connect(lambda item, _old: item is not None and self.spanActivated.emit(item.data(SPAN_ID_ROLE)))
        remove = QAction("Remove highlight", self.spans)
        remove.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_current)
        self.spans.addAction(remove)
        self.note = NoteEditor("Note on this answer (Markdown)", "Why these labels? What stands out?")
        self.note.edited.connect(self.noteEdited)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(self.chip_grid)
        layout.addLayout(self.flag_row)
        layout.addWidget(self.spans)
        layout.addWidget(self.note, 1)
        self.set_annotations(None, "")

    # --- the label set ------------------------------------------------------------

    def set_labels(self, labels: list[Label]) -> None:
        """One chip per label, numbered 1-9, 0 for the first ten."""
        for chip in self._chips.values():
            self.chip_grid.removeWidget(chip)
            chip.deleteLater()
        self._labels = {label.name: label for label in labels}
        self._chips = {}
        for index, label in enumerate(labels):
            key = key_of(index)
            chip = QToolButton()
            chip.setCheckable(True)
            chip.setText(f"{key} {label.title}" if key else label.title)
            chip.setToolTip(describe.tooltip(f"{label.title} ({label.name}){f' — key {key}' if key else ''}\n{label.definition}"))
            chip.setStyleSheet(chip_css(label.colour))
            chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the pane, not to a chip
            chip.clicked.connect(lambda _checked=False, name=label.name: self.labelToggled.emit(name))
            self.chip_grid.addWidget(chip, index // CHIP_COLUMNS, index % CHIP_COLUMNS)
            self._chips[label.name] = chip

    # --- one answer's annotations ---------------------------------------------------

    def set_annotations(self, annotations: ResponseAnnotations | None, annotator: str) -> None:
        """Light the chips of the labels on the answer (everyone's; yours are bold in the tooltip)."""
        self.setEnabled(annotations is not None)
        on = annotations.label_names() if annotations else set()
        mine = annotations.label_names(annotator) if annotations else set()
        for name, chip in self._chips.items():
            chip.setChecked(name in on)
            others = sorted({l.annotator for l in annotations.labels if l.label == name} - {annotator}) if annotations else []
            label = self._labels[name]
            who = ("by you" if name in mine else "") + (f"{' and ' if name in mine else 'by '}{', '.join(others)}" if others else "")
            chip.setToolTip(describe.tooltip(f"{label.title} ({label.name}) {who}\n{label.definition}".strip()))
        self._show_flags(annotations, on)
        self._show_spans(annotations.spans if annotations else ())
        note = next((n.body for n in annotations.notes if n.annotator == annotator), "") if annotations else ""
        self.note.set_text(note)

    def _show_flags(self, annotations: ResponseAnnotations | None, on: set[str]) -> None:
        while self.flag_row.count() > 2:
            item = self.flag_row.takeAt(1)
            if item.widget() is not None:
                item.widget().deleteLater()
        flags = annotations.flags if annotations else ()
        names = list(dict.fromkeys(f.name for f in flags))
        self.suggestions = [n for n in names if n in self._labels and n not in on]
        for name in names:
            detectors = ", ".join(sorted({f.detector for f in flags if f.name == name}))
            label = self._labels.get(name)
            button = QToolButton()
            button.setText(f"{label.title if label else name}?")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setStyleSheet("QToolButton { border: 1px dashed palette(mid); border-radius: 9px; padding: 1px 6px; }")
            if name in self.suggestions:
                button.setToolTip(describe.tooltip(f"Suggested by {detectors}. Click (or press A) to accept it as your label."))
                button.clicked.connect(lambda _checked=False, n=name: self.flagAccepted.emit(n))
            else:
                accepted = name in on
                button.setEnabled(False)
                button.setToolTip(describe.tooltip(f"Found by {detectors}" + (": already labelled." if accepted else ": no label of that name.")))
            self.flag_row.insertWidget(self.flag_row.count() - 1, button)
        self.flag_title.setVisible(bool(names))

    def _show_spans(self, spans: tuple[Span, ...]) -> None:
        self.spans.blockSignals(True)
        self.spans.clear()
        for span in spans:
            quote = " ".join(span.quote.split())
            quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1] + "…"
            titles = ", ".join(self._labels[n].title if n in self._labels else n for n in span.labels)
            where = " (reasoning)" if span.field == "reasoning" else ""
            text = f"“{quote}”{where}" + (f" — {titles}" if titles else "")
            if not span.intact:
                text = "⚠ text changed: " + text
            item = QListWidgetItem(text)
            item.setData(SPAN_ID_ROLE, span.id)
            tip = f"{span.quote}\n\nby {span.annotator}" + (f"\n\n{span.note}" if span.note else "")
            if not span.intact:
                tip = "The answer no longer reads this at the stored place: this highlight is not trusted.\n\n" + tip
            item.setToolTip(describe.tooltip(tip))
            self.spans.addItem(item)
        self.spans.setVisible(bool(spans))
        self.spans.blockSignals(False)

    @property
    def checked_labels(self) -> set[str]:
        return {name for name, chip in self._chips.items() if chip.isChecked()}

    def _span_menu(self, point: QPoint) -> None:
        item = self.spans.itemAt(point)
        if item is None:
            return
        span_id = item.data(SPAN_ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Labels and note…", lambda: self.spanEditRequested.emit(span_id))
        menu.addAction("Remove highlight", lambda: self.spanRemoveRequested.emit(span_id))
        menu.popup(self.spans.viewport().mapToGlobal(point))

    def _remove_current(self) -> None:
        item = self.spans.currentItem()
        if item is not None:
            self.spanRemoveRequested.emit(item.data(SPAN_ID_ROLE))
