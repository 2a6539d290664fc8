"""Dialogs about labels: the legend and manager, and a highlight's labels and note.

The label manager lists every label with its number key, colour and
one-line definition (the legend), and adds the user's own labels. Names
are what the notebook stores and never change meaning, so a name is fixed
once made; title and colour can change later (through the core API).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.notebook import Label
from ...core.notebook.labels import NAME_PATTERN, PALETTE
from ..panes.annotation_bar import key_of
from ..shared.actions import DIALOG_SAVE_KEYS, NUMBER_KEYS

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class LabelsDialog(QDialog):
    """The legend (every label, its key and definition) and a form for a new label."""

    createRequested = Signal(str, str, str, str)  # name, title, colour, definition

    def __init__(self, labels: list[Label], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Labels")
        self.resize(760, 520)
        self.legend = QTreeWidget()
        self.legend.setHeaderLabels(["Key", "Label", "Stored as", "Definition"])
        self.legend.setRootIsDecorated(False)
        self.legend.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. whataboutism (lower-case letters, digits, _)")
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. Whataboutism")
        self.definition = QLineEdit()
        self.definition.setPlaceholderText("One line: when does this label apply?")
        self.colour = PALETTE[0]
        self.colour_button = QPushButton()
        self.colour_button.clicked.connect(self._choose_colour)
        self._show_colour()
        self.problem = QLabel()
        self.problem.setObjectName("paneError")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.add_button = QPushButton("Add label")
        self.add_button.clicked.connect(self._add)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Title", self.title)
        form.addRow("Colour", self.colour_button)
        form.addRow("Definition", self.definition)
        form.addRow("", self.add_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        hint = QLabel("Number keys 1–9 and 0 toggle the first ten labels on the focused pane. Your own labels are added at the end.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.legend, 1)
        layout.addWidget(QLabel("New label"))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(close)
        self.set_labels(labels)

    def set_labels(self, labels: list[Label]) -> None:
        self.legend.clear()
        for index, label in enumerate(labels):
            item = QTreeWidgetItem([key_of(index) or "", label.title, label.name, label.definition])
            item.setBackground(1, QColor(label.colour))
            item.setForeground(1, QColor("white"))
            item.setToolTip(3, label.definition)
            item.setData(0, NAME_ROLE, label.name)
            self.legend.addTopLevelItem(item)
        for column in range(3):
            self.legend.resizeColumnToContents(column)

    def label_created(self, labels: list[Label]) -> None:
        self.set_labels(labels)
        for field in (self.name, self.title, self.definition):
            field.clear()
        self.problem.hide()

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def _add(self) -> None:
        name = self.name.text().strip()
        if not NAME_PATTERN.fullmatch(name):
            self.show_problem("The name is what the notebook stores: lower-case letters, digits and _, starting with a letter.")
            return
        self.createRequested.emit(name, self.title.text().strip() or name, self.colour, self.definition.text().strip())

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self.colour), self, "Label colour")
        if colour.isValid():
            self.colour = colour.name()
            self._show_colour()

    def _show_colour(self) -> None:
        self.colour_button.setText(self.colour)
        self.colour_button.setStyleSheet(f"QPushButton {{ background: {self.colour}; color: white; }}")


class HighlightDialog(QDialog):
    """Labels and a note for one highlighted passage (new or existing)."""

    def __init__(self, quote: str, labels: list[Label], chosen: set[str], note: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Highlight")
        self.resize(520, 480)
        shown = QLabel()
        shown.setTextFormat(Qt.TextFormat.PlainText)
        shown.setWordWrap(True)
        shown.setText(f"“{quote}”")
        self.labels = QListWidget()
        for index, label in enumerate(labels):
            key = key_of(index)
            item = QListWidgetItem(f"{key}  {label.title}" if key else label.title)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if label.name in chosen else Qt.CheckState.Unchecked)
            item.setData(NAME_ROLE, label.name)
            item.setToolTip(label.definition)
            self.labels.addItem(item)
        self.note = QPlainTextEdit(note)
        self.note.setPlaceholderText("Note on this passage (Markdown)")
        self.note.setTabChangesFocus(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(shown)
        layout.addWidget(QLabel("Labels (number keys or Space toggle; Ctrl+Enter saves)"))
        layout.addWidget(self.labels, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.labels.installEventFilter(self)
        save = QShortcut(QKeySequence(DIALOG_SAVE_KEYS), self)
        save.activated.connect(self.accept)
        self.labels.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Number keys toggle labels like on a pane (the list would use them to search)."""
        if watched is self.labels and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            text = event.text()
            if text and text in NUMBER_KEYS and NUMBER_KEYS.index(text) < self.labels.count():
                item = self.labels.item(NUMBER_KEYS.index(text))
                checked = item.checkState() == Qt.CheckState.Checked
                item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
                return True
        return super().eventFilter(watched, event)

    def chosen(self) -> list[str]:
        return [
            self.labels.item(i).data(NAME_ROLE) for i in range(self.labels.count()) if self.labels.item(i).checkState() == Qt.CheckState.Checked
        ]

    def note_text(self) -> str:
        return self.note.toPlainText()
