"""Does the window keep up while the starter pair streams? One JSON object on stdout.

    QT_QPA_PLATFORM=offscreen python bench/window_stream.py [--max-tokens 128] [--threads 2] [--pace ROUNDS]

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

With `--pace ROUNDS` it measures speed alone, with the models warm: after one
run that loads them, the window and raw llama-cpp-python (bench/raw_llama.py
--serve, one loaded process per model) take turns answering the prompt, and it
prints every round's tokens/s for both sides.

With `--wakeups ROUNDS` (Linux) it counts, for ROUNDS warm runs, how often each
of the app's threads was woken while the pair streamed and how much CPU it
took (voluntary context switches and time on a CPU from /proc, per second from
the first text to the end). On two cores every wake-up preempts a model thread
and every millisecond of the app's CPU is one the model waits for, so these are
the figures to drive down: tokens/s on this host needs hundreds of rounds to
resolve 1%.

The notebook and window settings go to a temporary folder; the starter models
come from the usual data folder (WORKBENCH_DATA_DIR moves it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402

from workbench.core.comparison import SCHEDULES, SEQUENTIAL, RunOutcome  # noqa: E402
from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.core.workspace import Workspace  # noqa: E402
from workbench.ui.shell.app import application, freeze_startup_objects  # noqa: E402
from workbench.ui.shell.main_window import MainWindow  # noqa: E402
from workbench.ui.shared.preferences import Preferences  # noqa: E402
from workbench.ui.compare.prompt_bar import SAMPLE_PROMPT  # noqa: E402

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


class RawModel:
    """Raw llama-cpp-python kept loaded in its own process (bench/raw_llama.py --serve)."""

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        command = [sys.executable, str(Path(__file__).with_name("raw_llama.py")), str(path), "--serve",
                   "--seed", str(args.seed), "--max-tokens", str(args.max_tokens), "--threads", str(args.threads)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()  # {"ready": true}: loaded

    def answer(self, prompt: str) -> dict:
        self._process.stdin.write(json.dumps(prompt) + "\n")
        self._process.stdin.flush()
        return self._read()

    def _read(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            raise SystemExit(f"window_stream: raw llama-cpp-python exited ({self._process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


@contextmanager
def starter_window(args: argparse.Namespace) -> Iterator[MainWindow]:
    """The real window on the starter pair, opened in a temporary folder and settled."""
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
            if not window.activity.ready:
                wait_for(window.historyLoaded)
            if not window.annotating.labels:
                wait_for(window.annotating.labelsLoaded)
            settle(SETTLE_MS)  # nobody presses Run in the instant the window finishes opening
            if len(window.library_control.starter_ids) < 2:
                raise SystemExit("window_stream: the starter pair is not ready: " + "; ".join(window.library_control.starter_problems))
            window.prompt_bar.set_texts(args.prompt, "")
            yield window
        finally:
            window.close()
            workspace.close()


def run_once(window: MainWindow, heartbeat_ms: int, threads: ThreadActivity | None = None) -> tuple[RunOutcome, dict]:
    """Press Run and wait for the end: the outcome, and the stall and CPU figures (and each
    thread's wake-ups and CPU, counted by `threads`)."""
    heartbeat = Heartbeat(heartbeat_ms)
    heartbeat.start()
    first_text: list[float] = []  # wall, process and GUI-thread clocks at the first text
    threads_then: list[dict] = []

    def text_arrived(*_: object) -> None:
        if not first_text:
            first_text.extend((time.perf_counter(), time.process_time(), time.thread_time()))
            if threads is not None:
                threads_then.append(threads.snapshot())

    window.comparing.runner.text.connect(text_arrived)
    window.commands.run.run.trigger()
    finished = wait_for(window.runFinished)
    ended = (time.perf_counter(), time.process_time(), time.thread_time())
    heartbeat.stop()
    window.comparing.runner.text.disconnect(text_arrived)
    if not finished or finished[0] is None or not first_text:
        raise SystemExit("window_stream: the run did not finish with an answer")
    wall, cpu, gui = (now - then for now, then in zip(ended, first_text))
    stalls = [max(0.0, gap - heartbeat_ms) for gap in heartbeat.gaps_ms]
    figures = {
        "heartbeat_ms": heartbeat_ms,
        "beats": len(heartbeat.gaps_ms),
        "max_stall_ms": round(max(stalls), 2) if stalls else None,
        "p99_stall_ms": round(statistics.quantiles(stalls, n=100)[98], 2) if len(stalls) >= 100 else None,
        "streaming_s": round(wall, 3),
        "app_cpu_ms": round(cpu * 1000, 1),
        "gui_cpu_ms": round(gui * 1000, 1),
        "panes": pane_figures(window, finished[0]),
    }
    if threads is not None:
        figures["threads"] = threads.since(threads_then[0], wall)
    return finished[0], figures


class ThreadActivity:
    """Voluntary context switches and CPU time of every thread of this process, by name.

    A sampler thread reads them every `interval_s`, so threads that end before the
    run does (the comparison's reader, the notebook writer) keep their last figures;
    its own wake-ups and CPU are reported under its name."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self._interval_s = interval_s
        self._latest: dict[str, tuple[str, int, int]] = {}
        self._names: dict[str, str] = {}
        self._comms: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="wakeup-sampler", daemon=True)
        self._thread.start()

    def snapshot(self) -> dict[str, tuple[str, int, int]]:
        """thread id -> (name, voluntary switches so far, nanoseconds on a CPU so far), read now.

        It runs five times a second inside the process it measures, so it reads two small
        files per thread with plain `os` calls (a thread's OS name is read once)."""
        now = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                if tid not in self._comms:
                    self._comms[tid] = _read(f"/proc/self/task/{tid}/comm").strip()
                status = _read(f"/proc/self/task/{tid}/status")
                on_cpu_ns = int(_read(f"/proc/self/task/{tid}/schedstat").split()[0])
            except OSError:
                continue  # ended between the listing and the read
            now[tid] = (self._comms[tid], int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0]), on_cpu_ns)
        return now

    def since(self, before: dict[str, tuple[str, int, int]], seconds: float) -> dict[str, dict[str, float]]:
        """Wake-ups and milliseconds of CPU per second of each thread alive at `before`, by
        name (Python's, else the OS's), summed over threads of the same name."""
        time.sleep(self._interval_s * 1.5)  # one more sample of threads that just ended
        rates: dict[str, dict[str, float]] = {}
        for tid, (comm, switches, on_cpu_ns) in before.items():
            name = self._names.get(tid, comm)
            _, switches_now, on_cpu_ns_now = self._latest.get(tid, (comm, switches, on_cpu_ns))
            rate = rates.setdefault(name, {"wakeups": 0.0, "cpu_ms": 0.0})
            rate["wakeups"] += (switches_now - switches) / seconds
            rate["cpu_ms"] += (on_cpu_ns_now - on_cpu_ns) / 1e6 / seconds
        return {name: {key: round(value, 2) for key, value in rate.items()} for name, rate in sorted(rates.items())}

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._latest.update(self.snapshot())
            self._names.update({str(t.native_id): t.name for t in threading.enumerate()})


def _read(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096).decode()
    finally:
        os.close(fd)


def thread_activity(window: MainWindow, rounds: int) -> dict[str, dict[str, float]]:
    """Median wake-ups and milliseconds of CPU per second of each thread over `rounds` warm
    runs (the 1 s heartbeat adds about one wake-up a second to the GUI thread's)."""
    run_once(window, 1000)  # loads the models: not counted
    counter = ThreadActivity()
    per_round: list[dict[str, dict[str, float]]] = []
    try:
        for _ in range(rounds):
            per_round.append(run_once(window, 1000, counter)[1]["threads"])
            settle(SETTLE_MS)
    finally:
        counter.close()
    names = sorted({name for threads in per_round for name in threads})
    return {
        key: {name: statistics.median(threads.get(name, {}).get(key, 0.0) for threads in per_round) for name in names}
        for key in ("wakeups", "cpu_ms")
    }


def pace(window: MainWindow, args: argparse.Namespace) -> dict:
    """The window and raw llama-cpp-python, both with their models loaded, take turns answering
    (window first in even rounds, raw first in odd ones), so each pair of figures is taken
    seconds apart and the host's drift, which moves raw alone by 15-30% between minutes here,
    hits both sides alike."""
    outcome, _ = run_once(window, 1000)  # loads the models: not measured
    figures = {response.entry.name: {"window": [], "engine_in_window": [], "raw": []} for response in outcome.responses}
    raws: dict[str, RawModel] = {}

    def window_turn() -> None:
        _, run = run_once(window, 1000)
        for pane in run["panes"]:
            figures[pane["model"]]["window"].append(pane["window_tokens_per_s"])
            figures[pane["model"]]["engine_in_window"].append(pane["engine_tokens_per_s"])
        settle(SETTLE_MS)  # the window's work after a run (history, flags) stays out of raw's turn

    def raw_turn() -> None:
        for name, raw in raws.items():
            figures[name]["raw"].append(raw.answer(args.prompt)["tokens_per_s"])

    try:
        for response in outcome.responses:
            raws[response.entry.name] = RawModel(response.entry.path, args)
        for round_ in range(args.pace):
            for turn in (window_turn, raw_turn) if round_ % 2 == 0 else (raw_turn, window_turn):
                turn()
    finally:
        for raw in raws.values():
            raw.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", choices=SCHEDULES, default=SEQUENTIAL)
    parser.add_argument("--heartbeat-ms", type=int, default=5)
    parser.add_argument("--prompt", default=SAMPLE_PROMPT)
    parser.add_argument("--pace", type=int, default=0, metavar="ROUNDS", help="take turns with raw llama-cpp-python for ROUNDS rounds instead")
    parser.add_argument("--wakeups", type=int, default=0, metavar="ROUNDS", help="count each thread's wake-ups and CPU over ROUNDS runs instead")
    args = parser.parse_args()

    settings = {"prompt": args.prompt, "schedule": args.schedule, "max_tokens": args.max_tokens, "threads": args.threads,
                "seed": args.seed, "temperature": 0.0}
    with starter_window(args) as window:
        if args.pace:
            result = {"benchmark": "window_pace", **settings, "rounds": args.pace, "models": pace(window, args)}
        elif args.wakeups:
            activity = thread_activity(window, args.wakeups)
            result = {"benchmark": "window_wakeups", **settings, "rounds": args.wakeups, "per_second": activity["wakeups"],
                      "cpu_ms_per_s": activity["cpu_ms"]}
        else:
            _, figures = run_once(window, args.heartbeat_ms)
            result = {"benchmark": "window_stream", **settings, **figures}
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
