"""The audience vote under the panes: one tally button per answer and one for a tie, and the result.

The bar only shows the tally the notebook returned and says what was asked
(`voteRequested`); the window writes through its notebook queue, so what the
buttons count is what is saved. The result names the models, so it stays
hidden while any answer is still blind.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...core.notebook.votes import Tally, letter, position_of
from ..shared.describe import COUNTRY_NAMES
from ..panes.pane import Identity
from ..shared.flow_layout import empty_layout
from ..shared.text_label import text_label

HINT = "Click a button (or press V, then its letter) to add a vote · right-click or Shift+click (V, then Shift+letter) takes one back"


def choice_key(choice: str) -> str:
    """The letter that votes for a choice after V: A, B, … for answers, T for a tie."""
    position = position_of(choice)
    return "T" if position is None else letter(position)


def choice_title(choice: str) -> str:
    position = position_of(choice)
    return "Tie" if position is None else f"Model {letter(position)}"


def result_name(choice: str, identity: Identity | None) -> str:
    """"A (Qwen2.5, China)", or "tie"."""
    position = position_of(choice)
    if position is None:
        return "tie"
    if identity is None:
        return letter(position)
    country = COUNTRY_NAMES.get(identity.country or "", identity.country or "origin unknown")
    return f"{letter(position)} ({identity.name}, {country})"


class VoteButton(QPushButton):
    """A tally button: a click adds a vote; a right-click or Shift+click takes one back."""

    voted = Signal(int)  # +1 or -1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("voteButton")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # number and letter keys stay with the window

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.RightButton or (
            event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.voted.emit(-1)
            event.accept()
            return
        super().mousePressEvent(event)


class VoteBar(QWidget):
    voteRequested = Signal(str, int)  # choice, +1 or -1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tally: Tally | None = None
        self.offered: list[str] | None = None  # the choices whose answers are on screen (None: all of the run's)
        self.buttons: dict[str, VoteButton] = {}
        self.title = QLabel("Audience vote:")
        self.title.setProperty("heading", True)
        self.note = text_label(role="muted", wrap=False)
        self.hint = text_label(HINT, role="muted")
        self.result_title = text_label(role="heading", wrap=False)
        self.result = QWidget()
        self.result_grid = QGridLayout(self.result)
        self.result_grid.setContentsMargins(0, 0, 0, 0)
        self.result_grid.setColumnStretch(1, 1)
        self.result_grid.setVerticalSpacing(2)
        self.button_row = QHBoxLayout()
        self.button_row.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.title)
        row.addLayout(self.button_row)
        row.addWidget(self.note)
        row.addStretch(1)
        row.addWidget(self.result_title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        layout.addWidget(self.result)
        self.set_tally(None, "Votes go with a run: run the prompt or open one from the history.")
        self.show_result(None)

    def set_tally(self, tally: Tally | None, note: str = "") -> None:
        """The counts to show; None (with a note saying why) when there is no run to vote on.

        Between runs the buttons are hidden, not deleted: every run starts with
        this, and building and styling new buttons there added to the one
        moment the window has the most to redraw."""
        if tally is not None and tally.choices != list(self.buttons):
            self._rebuild(tally.choices)
        self.tally = tally
        for choice, button in self.buttons.items():
            if tally is not None:
                button.setText(f"{choice_title(choice)} · {tally.counts[choice]}")
        self._show_buttons()
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def set_offered(self, choices: list[str] | None) -> None:
        """Offer only these of the run's choices: the answers still on screen, and a tie."""
        self.offered = choices
        self._show_buttons()

    def _show_buttons(self) -> None:
        offered = self.choices
        for choice, button in self.buttons.items():
            button.setVisible(choice in offered)

    def _rebuild(self, choices: list[str]) -> None:
        for button in self.buttons.values():
            self.button_row.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        for choice in choices:
            button = VoteButton()
            button.setToolTip(f"One more vote for {choice_title(choice)} (V, {choice_key(choice)}). Right-click or Shift+click takes one back.")
            button.clicked.connect(lambda _c=False, ch=choice: self.voteRequested.emit(ch, 1))
            button.voted.connect(lambda delta, ch=choice: self.voteRequested.emit(ch, delta))
            self.button_row.addWidget(button)
            self.buttons[choice] = button

    def show_result(self, identities: list[Identity | None] | None) -> None:
        """The result with bars, naming each answer's model (`identities` by answer position); None hides it."""
        empty_layout(self.result_grid)
        tally = self.tally
        shown = identities is not None and tally is not None
        self.result_title.setVisible(shown)
        self.result.setVisible(shown)
        if identities is None or tally is None:
            return
        total = tally.total
        self.result_title.setText(f"Result · {total} vote{'s' if total != 1 else ''}")
        self.result.setAccessibleDescription(self.result_text(identities))
        for row, (choice, count) in enumerate(tally.counts.items()):
            position = position_of(choice)
            identity = identities[position] if position is not None and position < len(identities) else None
            name = text_label(result_name(choice, identity), wrap=False)
            bar = QProgressBar()
            bar.setObjectName("voteBar")
            bar.setTextVisible(False)
            bar.setRange(0, max(total, 1))
            bar.setValue(count)
            bar.setFixedHeight(max(8, name.sizeHint().height() * 2 // 3))  # slim: the answers need the room
            share = QLabel(f"{count}" + (f" ({count / total:.0%})" if total else ""))
            self.result_grid.addWidget(name, row, 0)
            self.result_grid.addWidget(bar, row, 1)
            self.result_grid.addWidget(share, row, 2)

    def result_text(self, identities: list[Identity | None]) -> str:
        """"A (Qwen2.5, China): 12 · B (SmolLM2, United States): 7 · tie: 3"."""
        if self.tally is None:
            return ""
        parts = []
        for choice, count in self.tally.counts.items():
            position = position_of(choice)
            identity = identities[position] if position is not None and position < len(identities) else None
            parts.append(f"{result_name(choice, identity)}: {count}")
        return " · ".join(parts)

    @property
    def choices(self) -> list[str]:
        """What can be voted for now: nothing until a saved run's tally is shown, then its
        choices that are offered."""
        if self.tally is None:
            return []
        return [c for c in self.tally.choices if self.offered is None or c in self.offered]

    def choice_for_key(self, key: str) -> str | None:
        return next((c for c in self.choices if choice_key(c) == key), None)

