"""Saving streamed text while it arrives, without slowing the stream.

Tokens are appended to a `ResponseState` by whichever thread receives them;
one writer thread commits every state that changed, all in one transaction,
then looks again ("group commit"), so a killed app keeps what was shown
(up to the last commit) and the token path never waits for the disk.

Commits are spaced at least MIN_INTERVAL_S apart. Each one wakes this
process, and on a small machine where the model's threads hold every core a
wake-up preempts one of them and stalls the whole decode step. Measured on 2
cores (bench/run.py, 5 rounds): a commit every 50 ms kept 0.966 and 0.941 of
raw llama-cpp-python's speed, every 250 ms 0.975 and 1.028. Each commit also
writes the answer so far and its whole timeline again, so its cost grows with
the answer: every 250 ms the writer took 3.0 ms of CPU a second while the
starter pair streamed, every second 0.95. The price is that a killed app loses
at most the last second of the answer. `flush()` skips the wait.
For the same reason these commits don't sync the disk (`save_partials`), and
text arriving during the pause doesn't wake the writer: with both, the writer
woke 5 times a second while SmolLM2 streamed, instead of 29.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from ..errors import NotebookProblem
from .database import Notebook

ANSWER, REASONING = 0, 1
RETRY_AFTER_PROBLEM_S = 2.0
MIN_INTERVAL_S = 1.0


class ResponseState:
    """The text of one response so far, with its timeline for replay."""

    def __init__(self, response_id: int) -> None:
        self.response_id = response_id
        self._answer: list[str] = []
        self._reasoning: list[str] = []
        self._timeline: list[list[int]] = []
        self._lock = threading.Lock()

    def append(self, kind: int, text: str, at_ms: int) -> None:
        with self._lock:
            (self._reasoning if kind == REASONING else self._answer).append(text)
            self._timeline.append([at_ms, kind, len(text)])

    def snapshot(self) -> tuple[str, str, str]:
        """(answer, reasoning, timeline JSON) as they stand now."""
        with self._lock:
            answer, reasoning = "".join(self._answer), "".join(self._reasoning)
            self._answer[:] = [answer] if answer else []
            self._reasoning[:] = [reasoning] if reasoning else []
            timeline = json.dumps(self._timeline, separators=(",", ":"))
        return answer, reasoning, timeline


class StreamRecorder:
    """The writer thread. `mark(state)` after appending; `flush()` before finishing a response."""

    def __init__(self, notebook: Notebook, on_problem: Callable[[NotebookProblem], None] | None = None) -> None:
        self._notebook = notebook
        self._on_problem = on_problem
        self._dirty: dict[int, ResponseState] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._reported: str | None = None
        self._failures = 0
        self._flushing = 0
        self._pausing = False
        self._thread = threading.Thread(target=self._loop, name="notebook-writer", daemon=True)
        self._thread.start()

    def mark(self, state: ResponseState) -> None:
        """Called after each batch of streamed text. Only a writer waiting for work is
        woken: in its pause between commits it would wake for nothing."""
        with self._cond:
            self._dirty[state.response_id] = state
            if not self._pausing:
                self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything marked so far is committed; False if saving is failing
        (the problem was reported, and the recorder keeps retrying)."""
        with self._cond:
            failures = self._failures
            self._flushing += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: (not self._dirty and not self._busy) or self._failures > failures, timeout)
                return not self._dirty and not self._busy
            finally:
                self._flushing -= 1

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._closed)
                if self._closed and not self._dirty:
                    return
                batch, self._dirty = self._dirty, {}
                self._busy = True
            try:
                self._notebook.save_partials([(rid, *state.snapshot()) for rid, state in batch.items()])
                self._reported = None
            except NotebookProblem as problem:
                self._report(problem)
                with self._cond:
                    # Keep them for the next try; newer marks win.
                    self._dirty = {**batch, **self._dirty}
                    self._failures += 1
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait(RETRY_AFTER_PROBLEM_S)
                    if self._closed:
                        return
                continue
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._pausing = True
                self._cond.wait_for(lambda: self._closed or self._flushing > 0, MIN_INTERVAL_S)
                self._pausing = False

    def _report(self, problem: NotebookProblem) -> None:
        if self._on_problem is not None and str(problem) != self._reported:
            self._reported = str(problem)
            self._on_problem(problem)
