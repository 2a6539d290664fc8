"""The bridge between a blocking `Judge.run` and the window: a model judging answers.

Like `batch_runner.py`: the judging runs on a thread of its own (reading its
answers from the notebook there too), and each `JudgeListener` report
becomes a queued signal of an object living on the GUI thread. Owned by the
shell, like the batch thread: a judge holds a model, so while it runs
no comparison or batch starts, and closing the app cancels it (the verdicts
stored so far are kept; judging again resumes).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ...core.catalog import ModelEntry
from ...core.engine.cancel import Cancel
from ...core.engine.params import GenerationParams
from ...core.judge import DEFAULT_JUDGE_PARAMS, Judge, Judged, JudgeResult, PooledJudgeModel, Target
from ...core.notebook import Notebook
from ...core.workspace import Workspace
from ..shared.background import BackgroundWork
from ..shared.context import Activity


class _Listener:
    def __init__(self, runner: JudgeThread) -> None:
        self._runner = runner

    def judging_started(self, result: JudgeResult) -> None:
        self._runner.judgingStarted.emit(result)

    def loading(self) -> None:
        self._runner.loading.emit()

    def answer_judged(self, judged: Judged, done: int, total: int) -> None:
        self._runner.answerJudged.emit(judged, done, total)

    def problem(self, text: str) -> None:
        self._runner.problem.emit(text)


class JudgeThread(BackgroundWork):
    """Runs one judge at a time over the answers `targets(notebook)` returns."""

    started = Signal()  # on the GUI thread, from start(): the models are now taken
    judgingStarted = Signal(object)  # JudgeResult with the counts known before judging (to judge, skipped)
    loading = Signal()
    answerJudged = Signal(object, int, int)  # Judged, done, total: its verdict is stored
    problem = Signal(str)
    # failed: an EnvironmentProblem that stopped the judge (a model that can't load);
    # finished: JudgeResult, or None when it failed. stop(): the answer being judged
    # is not stored (it is judged again next time).

    def __init__(self, workspace: Workspace, activity: Activity, parent: QObject | None = None) -> None:
        """`activity`: told when the judge takes a model and gives it back (as a batch does)."""
        super().__init__(parent)
        self._workspace = workspace
        self._activity = activity
        self.finished.connect(lambda _result: activity.set_judging(False))  # after `running` is False

    def start(
        self,
        targets: Callable[[Notebook], list[Target]],
        entry: ModelEntry,
        *,
        redo: bool = False,
        params: GenerationParams = DEFAULT_JUDGE_PARAMS,
    ) -> None:
        def work(cancel: Cancel) -> JudgeResult:
            notebook = self._workspace.notebook
            judge = Judge(notebook, PooledJudgeModel(self._workspace.pool, entry, params))
            return judge.run(targets(notebook), redo=redo, listener=_Listener(self), cancel=cancel)

        self._launch("judge", work)
        self._activity.set_judging(True)
        self.started.emit()
