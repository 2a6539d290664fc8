"""How much CPU does the window itself spend to show a stream? One JSON object on stdout.

    QT_QPA_PLATFORM=offscreen python bench/window_cpu.py [--rate 80] [--seconds 6]

On a two-core laptop the model's threads use both cores, so every
millisecond the app process spends is taken from the model (issue 3:
streaming in the window at 0.97 of raw). This feeds a synthetic Markdown
answer into one pane through the runner's listener, from a thread, at
`--rate` pieces per second (SmolLM2's pace on these machines is ~60-70), and
reports the app process's CPU time per second of streaming, and the GUI
thread's share of it. No model runs, so the figure is stable on a busy
machine, unlike tokens per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))

from capture import close, open_window, settle  # noqa: E402
from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.ui.shell.app import application  # noqa: E402
from workbench.ui.compare.runner import _Listener  # noqa: E402

ANSWER = (
    "In a small village between rolling hills there lived a keeper named **Lily**, who loved the sea.\n\n"
    "- she read every *message* the tide brought\n- and answered some of them with `ink`\n\n"
) * 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=80.0, help="pieces per second")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    pieces = [ANSWER[i : i + 4] for i in range(0, len(ANSWER), 4)]
    application()
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as temp:
        window, workspace = open_window(Path(temp), "cpu", GenerationParams(), with_starter=False)
        try:
            settle(1000)
            # No model files here, so the window shows its empty state; show the panes as a
            # window with models does, or the stream would be drawn into a hidden pane.
            window.stack.setCurrentWidget(window.area)
            pane = window.area.panes[0]
            pane.begin("bench", pane.params(), "synthetic")
            listener = _Listener(window.comparing.runner, (0,))
            done = threading.Event()

            def model() -> None:
                started, sent = time.perf_counter(), 0
                while time.perf_counter() - started < args.seconds:
                    listener.text(0, "answer", pieces[sent % len(pieces)])
                    sent += 1
                    time.sleep(max(0.0, started + sent / args.rate - time.perf_counter()))
                done.set()

            feeder = threading.Thread(target=model)
            wall, cpu, gui = time.perf_counter(), time.process_time(), time.thread_time()
            feeder.start()
            while not done.is_set():
                settle(50)
            wall = time.perf_counter() - wall
            result = {
                "benchmark": "window_cpu",
                "rate": args.rate,
                "seconds": round(wall, 2),
                "process_cpu_share": round((time.process_time() - cpu) / wall, 4),
                "gui_thread_cpu_share": round((time.thread_time() - gui) / wall, 4),
                "chars_shown": len(pane.answer_view.text),
                "pane_visible": pane.answer_view.isVisible(),
            }
            feeder.join()
            print(json.dumps(result))
            return 0
        finally:
            close(window, workspace)


if __name__ == "__main__":
    sys.exit(main())
