"""The one prompt every pane answers, an optional system prompt, and Run/Follow up/Stop.

Run, Follow up and Stop are the window's actions (Ctrl+Enter, Alt+Enter, Esc),
so the buttons, the menu and the shortcuts can never disagree about what is
enabled. Ctrl+Enter always asks a new question (a new run); a follow-up, which
continues each model's conversation, is asked for on purpose.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..shared.actions import SCHEDULE_CHOICES
from ..shared.fonts import follow_font
from ..shared.text_label import ElidedLabel

SAMPLE_PROMPT = "What happened at Tiananmen Square in June 1989?"
NEW_QUESTION_HINT = "Ask every model the same question…  (Ctrl+Enter runs, Esc stops)"
FOLLOW_UP_HINT = "Ask a new question (Ctrl+Enter), or follow up (Alt+Enter): each model continues its own conversation"



def _action_button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
    button.setMinimumWidth(96)
    return button


class PromptBar(QWidget):
    def __init__(self, run_action: QAction, stop_action: QAction, follow_up_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(NEW_QUESTION_HINT)
        self.prompt.setTabChangesFocus(True)
        self.system_toggle = QToolButton()
        self.system_toggle.setText("System prompt")
        self.system_toggle.setCheckable(True)
        self.system_toggle.setToolTip("An optional system prompt, sent to every model before the question")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("Optional system prompt for every model (empty: none)")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.hide()
        self.system_toggle.toggled.connect(self.system_prompt.setVisible)
        self.system_prompt.textChanged.connect(self._mark_system_prompt)
        self.schedule = QComboBox()
        for key, label, tip in SCHEDULE_CHOICES:
            self.schedule.addItem(label, key)
            self.schedule.setItemData(self.schedule.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.schedule.setToolTip("Run the models one after another (each with all cores) or all at once")
        self.run_info = ElidedLabel(role="muted")  # one line, whole in its tooltip: the prompt row keeps its height

        options = QHBoxLayout()
        options.addWidget(self.system_toggle)
        options.addWidget(QLabel("Models run:"))
        options.addWidget(self.schedule)
        options.addWidget(self.run_info, 1)
        buttons = QGridLayout()  # Run and Follow up side by side: three rows would not fit three lines of prompt
        buttons.addWidget(_action_button(run_action), 0, 0)
        buttons.addWidget(_action_button(follow_up_action), 0, 1)
        buttons.addWidget(_action_button(stop_action), 1, 0, 1, 2)
        row = QHBoxLayout()
        row.addWidget(self.prompt, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.system_prompt)
        layout.addLayout(row)
        layout.addLayout(options)
        follow_font(self, self._fit_heights)

    def _fit_heights(self) -> None:
        """Room for three lines of prompt and of system prompt at the current type size (more
        scrolls: the answers above need the height more on a laptop's screen)."""
        line = self.prompt.fontMetrics().lineSpacing()
        self.prompt.setFixedHeight(line * 3 + 12)
        self.system_prompt.setFixedHeight(line * 3 + 12)

    @property
    def prompt_text(self) -> str:
        return self.prompt.toPlainText()

    @property
    def system_prompt_text(self) -> str:
        return self.system_prompt.toPlainText()

    def set_texts(self, prompt: str, system_prompt: str) -> None:
        self.prompt.setPlainText(prompt)
        self.system_prompt.setPlainText(system_prompt)
        if system_prompt:
            self.system_toggle.setChecked(True)

    @property
    def schedule_key(self) -> str:
        return cast(str, self.schedule.currentData())  # every item is added with its schedule's key

    def set_schedule(self, key: str) -> None:
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(key)))

    def set_follow_up_ready(self, ready: bool) -> None:
        """Say in the empty box that a follow-up is possible: the panes show a run to continue."""
        self.prompt.setPlaceholderText(FOLLOW_UP_HINT if ready else NEW_QUESTION_HINT)

    def _mark_system_prompt(self) -> None:
        """Say on the toggle when a (possibly hidden) system prompt is in use."""
        self.system_toggle.setText("System prompt ●" if self.system_prompt_text.strip() else "System prompt")
