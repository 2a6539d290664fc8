"""The turns of the conversation the panes show: "Turn 1", "Turn 2", … above the panes.

A run is a conversation once it has a follow-up (core/notebook: its turns, in
order). Every pane shows the same turn, its own answer to it, so one strip
for all panes chooses it: a click shows that turn everywhere, and a single-turn
run shows no strip at all (nothing to choose).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QWidget

from ..shared import describe


class TurnStrip(QWidget):
    turnChosen = Signal(int)  # the turn index (0 = the run's first question)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._group.idClicked.connect(self._clicked)
        self._buttons: list[QToolButton] = []
        self._current = -1
        self._label = QLabel("Conversation:")
        self._label.setProperty("muted", True)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 2)
        self._row.addWidget(self._label)
        self._row.addStretch(1)
        self.hide()

    def set_turns(self, prompts: list[str], current: int) -> None:
        """The run's turns (their prompts), turn `current` shown; hidden for a run of one turn."""
        for button in self._buttons:
            self._group.removeButton(button)
            button.deleteLater()
        self._buttons = []
        for index, prompt in enumerate(prompts):
            button = QToolButton()
            button.setText(f"Turn {index + 1}")
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(describe.tooltip(f"Turn {index + 1}: {prompt}"))
            self._group.addButton(button, index)
            self._row.insertWidget(1 + index, button)
            self._buttons.append(button)
        self._current = -1
        self.select(current)
        self.setVisible(len(prompts) > 1)

    def clear(self) -> None:
        """A live run of one turn, or nothing: no strip."""
        self.set_turns([], -1)

    @property
    def count(self) -> int:
        return len(self._buttons)

    @property
    def current(self) -> int:
        """The turn shown (-1: none)."""
        return self._current

    def select(self, turn: int) -> None:
        """Mark `turn` as the one shown, without asking for it (whoever showed it tells the strip)."""
        self._current = turn if 0 <= turn < len(self._buttons) else -1
        for index, button in enumerate(self._buttons):
            button.setChecked(index == self._current)

    def choose(self, turn: int) -> None:
        """Show `turn` in every pane, as a click on its button does."""
        if 0 <= turn < len(self._buttons) and turn != self._current:
            self._buttons[turn].click()

    def _clicked(self, turn: int) -> None:
        if turn != self._current:
            self._current = turn
            self.turnChosen.emit(turn)
