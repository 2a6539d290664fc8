"""Replaying recorded answers into the panes at the speed they were recorded.

`ReplayPlayer` merges every pane's schedule (core/classroom/replay.py) into
one list and hands out each piece when its time has come. Time is read from
a monotonic clock (QElapsedTimer) at every tick rather than counted in timer
intervals, so late ticks (a busy GUI thread, a slow projector driver) catch
up instead of adding up: a few-second answer ends within a tick of its
recorded length. The timer sleeps until the next piece is due, so a replay
costs nothing between pieces.

`ReplayBanner` is the strip above the panes that says a run is a recording:
on a projector a replay must never pass for a live answer.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from ...core.notebook.recorder import REASONING as REC_REASONING
from ...core.classroom.replay import Chunk
from ...core.engine.reasoning import ANSWER, REASONING

MIN_TICK_MS = 1
BANNER_CSS = (
    "#replayBanner { background: #ffb300; color: #1a1a1a; font-weight: bold;"
    " border-radius: 4px; padding: 6px 10px; }"
)


class ReplayPlayer(QObject):
    """Feeds recorded pieces to panes on time. `stop()` (Esc) ends a replay early."""

    chunk = Signal(int, str, str)  # pane, kind (engine ANSWER / REASONING), text
    finished = Signal(bool)  # True: every piece was shown; False: stopped

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._queue: list[tuple[int, int, Chunk]] = []
        self._next = 0
        self._speed = 1.0
        self.elapsed_ms = 0.0  # recorded milliseconds replayed so far (for tests and the status line)

    @property
    def active(self) -> bool:
        return self._clock.isValid()

    def start(self, tracks: dict[int, list[Chunk]], speed: float = 1.0) -> None:
        """Replay each pane's pieces; `speed` 2.0 plays twice as fast."""
        self.stop()
        # Sorted by time, then pane: pieces due together arrive in pane order.
        self._queue = sorted(((chunk.at_ms, pane, chunk) for pane, chunks in tracks.items() for chunk in chunks), key=lambda item: item[:2])
        self._next = 0
        self._speed = speed if speed > 0 else 1.0
        self.elapsed_ms = 0.0
        self._clock.start()
        self._tick()

    def stop(self) -> None:
        if not self.active:
            return
        self._timer.stop()
        self._clock.invalidate()
        self.finished.emit(False)

    def _tick(self) -> None:
        self.elapsed_ms = self._clock.elapsed() * self._speed
        while self._next < len(self._queue) and self._queue[self._next][0] <= self.elapsed_ms:
            _, pane, chunk = self._queue[self._next]
            self._next += 1
            self.chunk.emit(pane, REASONING if chunk.kind == REC_REASONING else ANSWER, chunk.text)
            if not self.active:  # a receiver stopped the replay
                return
        if self._next >= len(self._queue):
            self._timer.stop()
            self._clock.invalidate()
            self.finished.emit(True)
            return
        wait = (self._queue[self._next][0] - self.elapsed_ms) / self._speed
        self._timer.start(max(MIN_TICK_MS, int(wait)))


class ReplayBanner(QLabel):
    """"Replay of a run recorded on …", in a colour no live run uses."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayBanner")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setStyleSheet(BANNER_CSS)
        self.setAccessibleName("Replay notice")
        self.run_id: int | None = None
        self.hide()

    def show_replay(self, run_id: int, recorded: str, *, speed: float | None, playing: bool, stopped: bool = False) -> None:
        """`speed` None: shown at once; `stopped`: Esc ended the replay early."""
        self.run_id = run_id
        if speed is None:
            how = "shown all at once"
        elif playing:
            pace = "at the recorded speed" if speed == 1.0 else f"at {speed:g}× the recorded speed"
            how = f"replaying {pace}… Esc shows it all"
        else:
            how = "replay stopped, the whole recorded answer is shown" if stopped else "replayed"
        self.setText(f"▶ Replay of a run recorded on {recorded} (run #{run_id}) — not a live answer; {how}.")
        self.show()

    def clear(self) -> None:
        self.run_id = None
        self.hide()
