"""Annotate > Your annotator name…: the name your labels, highlights and notes are credited to.

The name is checked as it is typed (core/annotator_name.person_name: not
empty, no invisible controls, at most 64 characters, not a model judge's
`judge:` name), and OK stays off until it can be used, with one line saying
why. The dialog only reads what is typed; `Annotating` saves it in the
shared settings, where `workbench annotate` finds it too. A WORKBENCH_ANNOTATOR
set for this session wins over the saved name, and the dialog says so.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from ...core.annotator_name import ENV_VAR, AnnotatorNameProblem, env_annotator, person_name
from ..shared.text_label import text_label


def env_note() -> str:
    """What WORKBENCH_ANNOTATOR does to the name chosen here, or "" when it is not set."""
    try:
        name = env_annotator()
    except AnnotatorNameProblem as problem:
        return f"{problem} It is ignored here."
    return f"{ENV_VAR} is set to “{name}”: while it is, your annotations are credited to that name, whatever is saved here." if name else ""


class AnnotatorDialog(QDialog):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your annotator name")
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("e.g. Dana Lee")
        self.name.selectAll()
        self.problem = text_label(role="muted")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Your name:", self.name)
        layout = QVBoxLayout(self)
        layout.addWidget(text_label("Your labels, highlights, notes and ratings are credited to this name, here and in the command “workbench annotate”. "
                                    "Others' annotations (an imported session) show their own names."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        note = env_note()
        if note:
            layout.addWidget(text_label(note, role="muted"))
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self._check()

    def chosen(self) -> str:
        """The typed name as it will be saved (call once accepted: it was checked)."""
        return person_name(self.name.text())

    def _check(self) -> None:
        try:
            person_name(self.name.text())
        except AnnotatorNameProblem as problem:
            self.problem.setText(str(problem))
            self.problem.show()
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return
        self.problem.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
