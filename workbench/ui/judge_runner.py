"""The bridge between a blocking `Judge.run` and the window: a model judging answers.

Like `batch_runner.py`: the judging runs on a thread of its own (reading its
answers from the notebook there too), and each `JudgeListener` report
becomes a queued signal of an object living on the GUI thread. Owned by the
main window, like the batch thread: a judge holds a model, so while it runs
no comparison or batch starts, and closing the app cancels it (the verdicts
stored so far are kept; judging again resumes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..core.catalog import ModelEntry
from ..core.engine.cancel import Cancel
from ..core.engine.params import GenerationParams
from ..core.errors import EnvironmentProblem
from ..core.judge import DEFAULT_JUDGE_PARAMS, Judge, Judged, JudgeResult, PooledJudgeModel, Target
from ..core.notebook import Notebook
from ..core.workspace import Workspace


class _Listener:
    def __init__(self, runner: "JudgeThread") -> None:
        self._runner = runner

    def judging_started(self, result: JudgeResult) -> None:
        self._runner.judgingStarted.emit(result)

    def loading(self) -> None:
        self._runner.loading.emit()

    def answer_judged(self, judged: Judged, done: int, total: int) -> None:
        self._runner.answerJudged.emit(judged, done, total)

    def problem(self, text: str) -> None:
        self._runner.problem.emit(text)


class JudgeThread(QObject):
    """Runs one judge at a time over the answers `targets(notebook)` returns."""

    started = Signal()  # on the GUI thread, from start(): the models are now taken
    judgingStarted = Signal(object)  # JudgeResult with the counts known before judging (to judge, skipped)
    loading = Signal()
    answerJudged = Signal(object, int, int)  # Judged, done, total: its verdict is stored
    problem = Signal(str)
    failed = Signal(str)  # an EnvironmentProblem that stopped the judge (a model that can't load)
    finished = Signal(object)  # JudgeResult, or None when it failed
    _bug = Signal(object)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._thread: threading.Thread | None = None
        self._cancel = Cancel()
        self._active = False
        self._bug.connect(self._raise_bug)
        self.finished.connect(self._ended)  # first: `running` is False for every later slot

    @property
    def running(self) -> bool:
        """From start() until `finished` reaches the GUI thread."""
        return self._active

    def start(
        self,
        targets: Callable[[Notebook], list[Target]],
        entry: ModelEntry,
        *,
        redo: bool = False,
        params: GenerationParams = DEFAULT_JUDGE_PARAMS,
    ) -> None:
        if self.running:
            raise RuntimeError("a judge is already running")
        self._cancel = Cancel()
        self._active = True
        self._thread = threading.Thread(target=self._run, args=(targets, entry, redo, params, self._cancel), name="judge", daemon=True)
        self.started.emit()
        self._thread.start()

    def cancel(self) -> None:
        """Stop now: the answer being judged is not stored (it is judged again next time)."""
        self._cancel.set()

    def shutdown(self, timeout_s: float) -> bool:
        """Cancel and wait for the thread (only when the app closes); False if it is still busy."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    def _run(self, targets: Callable[[Notebook], list[Target]], entry: ModelEntry, redo: bool, params: GenerationParams, cancel: Cancel) -> None:
        result: JudgeResult | None = None
        try:
            notebook = self._workspace.notebook
            judge = Judge(notebook, PooledJudgeModel(self._workspace.pool, entry, params))
            result = judge.run(targets(notebook), redo=redo, listener=_Listener(self), cancel=cancel)
        except EnvironmentProblem as problem:
            self.failed.emit(str(problem))
        except BaseException as bug:  # noqa: BLE001 - re-raised on the GUI thread
            self._bug.emit(bug)
        finally:
            self.finished.emit(result)

    @Slot(object)
    def _ended(self, _result: object) -> None:
        self._active = False

    @Slot(object)
    def _raise_bug(self, bug: BaseException) -> None:
        raise bug
