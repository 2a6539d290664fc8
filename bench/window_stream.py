"""Does the window keep up while the starter pair streams? One JSON object on stdout.

    QT_QPA_PLATFORM=offscreen python bench/window_stream.py [--max-tokens 128] [--threads 2]

Opens the real window (offscreen unless a platform is chosen) on the starter
pair, runs one prompt (temperature 0, fixed seed, the sequential schedule by
default) and measures two things:

- event-loop stalls: a QTimer heartbeat every `--heartbeat-ms`; the longest gap
  between beats while the models load and stream, minus the beat itself, is
  the longest time the GUI thread could not react (the issue asks < 50 ms);
- the app's own CPU from the first text to the end of the run (every thread
  of the process, and the GUI thread alone): on two cores, time the models lose;
- tokens per second as the window saw them: for each pane, (tokens - 1)
  divided by the time from its first to its last text arriving on the GUI
  thread, the same decode-rate definition the engine uses, so it can be set
  against raw llama-cpp-python's figure for the same model and settings.

The notebook and window settings go to a temporary folder; the starter models
come from the usual data folder (WORKBENCH_DATA_DIR moves it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402

from workbench.core.comparison import SCHEDULES, SEQUENTIAL, RunOutcome  # noqa: E402
from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.core.workspace import Workspace  # noqa: E402
from workbench.ui.app import application, freeze_startup_objects  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402
from workbench.ui.preferences import Preferences  # noqa: E402
from workbench.ui.prompt_bar import SAMPLE_PROMPT  # noqa: E402

TIMEOUT_MS = 30 * 60 * 1000
SETTLE_MS = 500


class Heartbeat:
    """Records the gaps between timer ticks while `running`."""

    def __init__(self, interval_ms: int) -> None:
        self.interval_ms = interval_ms
        self.gaps_ms: list[float] = []
        self.running = False
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.running = True
        self._timer.start()

    def stop(self) -> None:
        self.running = False
        self._timer.stop()

    def _beat(self) -> None:
        now = time.perf_counter()
        if self.running:
            self.gaps_ms.append((now - self._last) * 1000)
        self._last = now


def wait_for(signal, timeout_ms: int = TIMEOUT_MS) -> list:
    loop = QEventLoop()
    got: list = []

    def done(*args: object) -> None:
        got.extend(args)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(done)
    return got


def settle(ms: int = 500) -> None:
    """Let the event loop run for `ms`."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def pane_figures(window: MainWindow, outcome: RunOutcome) -> list[dict]:
    figures = []
    for response in outcome.responses:
        pane = window.area.panes[response.position]
        tokens = response.result.completion_tokens
        seen = None
        if tokens and tokens > 1 and pane.first_text_at is not None and pane.last_text_at is not None:
            elapsed = pane.last_text_at - pane.first_text_at
            seen = (tokens - 1) / elapsed if elapsed > 0 else None
        figures.append(
            {
                "model": response.entry.name,
                "origin": response.entry.origin.country,
                "finish_reason": response.result.finish_reason,
                "tokens": tokens,
                "pieces_seen": pane.pieces,
                "window_tokens_per_s": round(seen, 2) if seen else None,
                "engine_tokens_per_s": round(response.result.tokens_per_s, 2) if response.result.tokens_per_s else None,
                "ttft_s": round(response.result.ttft_s, 3) if response.result.ttft_s is not None else None,
                "load_s": round(response.load_s, 3) if response.load_s is not None else None,
            }
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", choices=SCHEDULES, default=SEQUENTIAL)
    parser.add_argument("--heartbeat-ms", type=int, default=5)
    parser.add_argument("--prompt", default=SAMPLE_PROMPT)
    args = parser.parse_args()

    application()
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as temp:
        scratch = Path(temp)
        os.environ["WORKBENCH_CONFIG_DIR"] = str(scratch / "config")
        prefs = Preferences.at(scratch / "window.ini")
        prefs.shared_params = GenerationParams(temperature=0.0, seed=args.seed, max_tokens=args.max_tokens, n_threads=args.threads)
        prefs.schedule = args.schedule
        workspace = Workspace(scratch / "notebook.sqlite", home=scratch, include_other_apps=False, with_starter=True)
        window = MainWindow(workspace, prefs)
        try:
            window.resize(1600, 1000)
            window.show()
            window.start()
            freeze_startup_objects()  # as run_window does
            wait_for(window.panesReady)
            if not window.notebook_checked:
                wait_for(window.historyLoaded)
            if not window.annotating.labels:
                wait_for(window.annotating.labelsLoaded)
            settle(SETTLE_MS)  # nobody presses Run in the instant the window finishes opening
            if len(window.starter_ids) < 2:
                print("window_stream: the starter pair is not ready: " + "; ".join(window.starter_problems), file=sys.stderr)
                return 1
            window.prompt_bar.set_texts(args.prompt, "")
            heartbeat = Heartbeat(args.heartbeat_ms)
            heartbeat.start()
            first_text: list[float] = []  # wall, process and GUI-thread clocks at the first text

            def text_arrived(*_: object) -> None:
                if not first_text:
                    first_text.extend((time.perf_counter(), time.process_time(), time.thread_time()))

            window.runner.text.connect(text_arrived)
            window.commands.run.trigger()
            finished = wait_for(window.runFinished)
            wall, cpu, gui = (now - then for now, then in zip((time.perf_counter(), time.process_time(), time.thread_time()), first_text))
            heartbeat.stop()
            outcome = finished[0] if finished else None
            if outcome is None:
                print("window_stream: the run did not finish", file=sys.stderr)
                return 1
            stalls = [max(0.0, gap - args.heartbeat_ms) for gap in heartbeat.gaps_ms]
            result = {
                "benchmark": "window_stream",
                "prompt": args.prompt,
                "schedule": args.schedule,
                "max_tokens": args.max_tokens,
                "threads": args.threads,
                "seed": args.seed,
                "temperature": 0.0,
                "heartbeat_ms": args.heartbeat_ms,
                "beats": len(heartbeat.gaps_ms),
                "max_stall_ms": round(max(stalls), 2) if stalls else None,
                "p99_stall_ms": round(statistics.quantiles(stalls, n=100)[98], 2) if len(stalls) >= 100 else None,
                "streaming_s": round(wall, 3),
                "app_cpu_ms": round(cpu * 1000, 1),
                "gui_cpu_ms": round(gui * 1000, 1),
                "panes": pane_figures(window, outcome),
            }
            print(json.dumps(result, ensure_ascii=False))
            return 0
        finally:
            window.close()
            workspace.close()


if __name__ == "__main__":
    sys.exit(main())
