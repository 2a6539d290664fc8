"""The bridge between a blocking `BatchRunner.run` and the Batches window.

Like `runner.py` for one comparison: the batch runs on a thread of its own
and each `BatchListener` report becomes a signal of an object living on the
GUI thread, so the matrix fills in queued, in order, on the GUI thread.
Pause and cancel are the core's events: pause stops between prompts (and between
a prompt's scripted follow-ups), cancel
also stops the models mid-answer; either way the batch stays resumable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ...core.batch import BatchListener, BatchResult, BatchRunner, ItemOutcome, Progress
from ...core.comparison import ResponseOutcome
from ...core.engine.cancel import Cancel
from ...core.errors import EnvironmentProblem
from ...core.notebook.batches import Batch, BatchItem
from ...core.workspace import Workspace
from ..shared.background import BackgroundWork
from ..shared.context import Activity


class _Listener(BatchListener):
    """Receives the batch's reports on its thread and emits the runner's signals (the
    matrix shows the answers to the prompts: of a follow-up, only its start is told)."""

    def __init__(self, runner: BatchThread) -> None:
        self._runner = runner

    def batch_started(self, batch: Batch, items: list[BatchItem]) -> None:
        self._runner.batchStarted.emit(batch, list(items))

    def item_started(self, item: BatchItem, progress: Progress) -> None:
        self._runner.itemStarted.emit(item, progress)

    def run_created(self, item: BatchItem, run_id: int) -> None:
        self._runner.runCreated.emit(item, run_id)

    def response_finished(self, item: BatchItem, outcome: ResponseOutcome, flags: tuple[str, ...]) -> None:
        self._runner.responseFinished.emit(item, outcome, tuple(flags))

    def follow_up_started(self, item: BatchItem, number: int, total: int) -> None:
        self._runner.followUpStarted.emit(item, number, total)

    def item_finished(self, outcome: ItemOutcome, progress: Progress) -> None:
        self._runner.itemFinished.emit(outcome, progress)

    def problem(self, problem: EnvironmentProblem) -> None:
        self._runner.problem.emit(str(problem))


class BatchThread(BackgroundWork):
    """Runs one batch at a time (a new one or a resumed one: `BatchRunner.run` is both).
    `stop()` cancels: the models stop mid-answer and that prompt is asked again on resume."""

    started = Signal()  # emitted on the GUI thread by start(): the models are now taken
    batchStarted = Signal(object, list)  # Batch, [BatchItem]
    itemStarted = Signal(object, object)  # BatchItem, Progress
    runCreated = Signal(object, int)  # BatchItem, run id
    responseFinished = Signal(object, object, tuple)  # BatchItem, ResponseOutcome, flag names
    followUpStarted = Signal(object, int, int)  # BatchItem, follow-up number (from 1), how many it has
    itemFinished = Signal(object, object)  # ItemOutcome, Progress
    problem = Signal(str)  # an EnvironmentProblem while running (the batch goes on)
    # failed: an EnvironmentProblem that stopped the batch; finished: BatchResult, or None

    def __init__(self, workspace: Workspace, activity: Activity, parent: QObject | None = None) -> None:
        """`activity`: told when the batch takes the models and gives them back, so the
        shell turns Run off and on again without asking this thread."""
        super().__init__(parent)
        self._workspace = workspace
        self._activity = activity
        self._pause = threading.Event()
        self.finished.connect(lambda _result: activity.set_batch(False))  # after `running` is False

    @property
    def pausing(self) -> bool:
        return self.running and self._pause.is_set()

    def start(self, batch_id: int, prepare: Callable[[BatchRunner], int] | None = None) -> None:
        """Run batch `batch_id`; with `prepare`, the batch is first created on the thread
        (it hashes model files, which takes long) and `batch_id` is ignored."""
        pause = self._pause = threading.Event()

        def work(cancel: Cancel) -> BatchResult:
            runner = BatchRunner(self._workspace.comparison)
            chosen = prepare(runner) if prepare is not None else batch_id
            return runner.run(chosen, listener=_Listener(self), cancel=cancel, pause=pause)

        self._launch("batch", work)
        self._activity.set_batch(True)
        self.started.emit()

    def pause(self) -> None:
        """Stop after the prompt or follow-up being asked (its answers are kept and flagged;
        a resume continues the prompt's conversation)."""
        self._pause.set()
