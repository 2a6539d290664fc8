"""View > Differences between two answers… and View > English and Chinese side by side….

`SideBySide` answers the two actions: it reads what they show on the notebook
queue (never the GUI thread), then opens the difference view or the language
grid. It is handed the Context, its actions and two callables for what other
features show (the run in the panes, the runs selected in History), never the
window. While a blind comparison hides the models, both commands wait: their
views name the models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject

from ...core.analysis.answer_diff import AnswerDiff, diff_answers
from ...core.errors import EnvironmentProblem
from ...core.notebook import Label
from ...core.side_by_side import LanguageGrid, SavedAnswer, read_language_grid, run_answers
from ..shared.actions import SideBySideActions
from ..shared.context import Context
from .answer_picker import AnswerPicker
from .diff_view import DiffView
from .language_grid_view import LanguageGridView

T = TypeVar("T")
NOTICE_KEY = "side-by-side"
NO_RUN = "Show a run first (pick one in History), or select runs there."
BLIND = "Reveal the models first: this view names them."


class SideBySide(QObject):
    def __init__(
        self,
        context: Context,
        actions: SideBySideActions,
        *,
        shown_run: Callable[[], int | None],
        selected_runs: Callable[[], list[int]],
        focused_answer: Callable[[], int | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._actions = actions
        self._shown_run = shown_run
        self._selected_runs = selected_runs
        self._focused_answer = focused_answer
        self.picker: AnswerPicker | None = None
        self.diff_view: DiffView | None = None
        self.grid_view: LanguageGridView | None = None
        actions.difference.triggered.connect(self.pick_answers)
        actions.languages.triggered.connect(self.show_languages)

    def set_models_hidden(self, hidden: bool) -> None:
        """A blind comparison started or ended."""
        for action in (self._actions.difference, self._actions.languages):
            action.setEnabled(not hidden)
            action.setStatusTip(BLIND if hidden else action.toolTip())
        if hidden:  # views already open name the models too
            for view in (self.picker, self.diff_view, self.grid_view):
                if view is not None:
                    view.hide()

    # --- differences ----------------------------------------------------------------------

    def pick_answers(self) -> None:
        """Offer the answers of the shown run and the selected runs, two to compare, the focused
        pane's answer (the one whose context menu asked) first."""
        shown = self._shown_run()
        runs = list(dict.fromkeys(([shown] if shown is not None else []) + self._selected_runs()))
        if not runs:
            self._context.feedback.status(NO_RUN, 8000)
            return
        ws = self._context.workspace
        self._context.notebook_tasks.submit(
            lambda: _gone_is_a_problem(lambda: [a for run_id in runs for a in run_answers(ws.notebook, run_id)]), self._offer, self._problem
        )

    def _offer(self, answers: list[SavedAnswer]) -> None:
        if len(answers) < 2:
            self._context.feedback.status("There is only one answer here: select two runs in History to compare one model's answers.", 8000)
            return
        self.picker = AnswerPicker(answers, self._context.parent, first=self._focused_answer())
        picker = self.picker
        picker.accepted.connect(lambda: self.show_difference(*picker.chosen))
        picker.open()

    def show_difference(self, left: SavedAnswer, right: SavedAnswer) -> None:
        """Compare two answers (off the GUI thread: long answers take a moment) and show them."""

        def shown(diff: AnswerDiff) -> None:
            if self.diff_view is None:
                self.diff_view = DiffView(self._context.parent)
            self.diff_view.show_diff(left, right, diff)
            self.diff_view.show()
            self.diff_view.raise_()

        self._context.notebook_tasks.submit(lambda: diff_answers(left.text, right.text), shown, self._problem)

    # --- languages ------------------------------------------------------------------------

    def show_languages(self) -> None:
        """The grid of the run selected in History (one) or else the run shown, with its other language."""
        selected = self._selected_runs()
        run_id = selected[0] if len(selected) == 1 else self._shown_run()
        if run_id is None:
            self._context.feedback.status(NO_RUN, 8000)
            return
        ws = self._context.workspace

        def read() -> tuple[LanguageGrid | None, dict[str, Label]]:
            notebook = ws.notebook
            return _gone_is_a_problem(lambda: read_language_grid(notebook, run_id)), {label.name: label for label in notebook.labels.all()}

        def shown(result: tuple[LanguageGrid | None, dict[str, Label]]) -> None:
            grid, labels = result
            if grid is None:
                self._context.feedback.notice(
                    NOTICE_KEY,
                    f"Run {run_id} has no run of the same question in the other language. Ask a bilingual prompt set as a batch, "
                    "or mark two runs as one question in two languages with the run strip's language-shift link.",
                )
                return
            self._context.feedback.dismiss(NOTICE_KEY)
            if self.grid_view is None:
                self.grid_view = LanguageGridView(self._context.parent)
            self.grid_view.show_grid(grid, labels)
            self.grid_view.show()
            self.grid_view.raise_()

        self._context.notebook_tasks.submit(read, shown, self._problem)

    def _problem(self, problem: EnvironmentProblem) -> None:
        self._context.feedback.problem(NOTICE_KEY, str(problem))


def _gone_is_a_problem(read: Callable[[], T]) -> T:
    """A run deleted (or an import undone) since it was on screen: said, not a crash."""
    try:
        return read()
    except LookupError as gone:
        raise EnvironmentProblem(str(gone.args[0])) from gone
