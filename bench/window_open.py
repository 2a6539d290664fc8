"""The window on a big notebook: how long until it is usable, and whether
browsing history stays smooth (issue 4: 100,000 responses, open in under 1 s).

Uses the notebook bench/notebook_scale.py builds (bench/results/notebook-scale.sqlite).
Measures, offscreen: from creating the workspace to the window showing its
first page of history; then, with a 5 ms heartbeat timer, the longest
event-loop stall while the history is scrolled to the end and older pages
are loaded ten times. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WORKBENCH_NO_STARTER"] = "1"
for var, sub in (("WORKBENCH_DATA_DIR", "data"), ("WORKBENCH_CONFIG_DIR", "window-config"), ("WORKBENCH_CACHE_DIR", "cache")):
    os.environ[var] = str(HERE / "results" / sub)


def main() -> None:
    notebook = HERE / "results" / "notebook-scale.sqlite"
    if not notebook.exists():
        raise SystemExit("Run bench/notebook_scale.py first: it builds the 100,000-response notebook.")
    from PySide6.QtCore import QElapsedTimer, QTimer

    from workbench.core.workspace import Workspace
    from workbench.ui.shell.app import application
    from workbench.ui.shell.main_window import MainWindow
    from workbench.ui.shared.preferences import Preferences

    app = application()
    # One tiny model, so the window opens in its normal state rather than the
    # "add a model" empty state.
    models = HERE / "results" / "window-open-models"
    models.mkdir(parents=True, exist_ok=True)
    if not (models / "tiny.gguf").exists():
        sys.path.insert(0, str(HERE.parent / "tests"))
        from gguf_factory import write_tiny_model

        write_tiny_model(models / "tiny.gguf")
    started = time.perf_counter()
    workspace = Workspace(notebook, [models], include_other_apps=False, with_starter=False)
    window = MainWindow(workspace, Preferences.at(HERE / "results" / "window-config" / "window.ini"))
    window.show()
    window.start()
    history = window.history
    while history.list.count() == 0:
        app.processEvents()
        if time.perf_counter() - started > 60:
            raise SystemExit("history never loaded")
    opened_s = time.perf_counter() - started

    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        stalls.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.timeout.connect(beat)
    heartbeat.start(5)
    pages = 0
    deadline = time.perf_counter() + 60
    while pages < 10 and time.perf_counter() < deadline:
        count = history.list.count()
        bar = history.list.verticalScrollBar()
        for value in range(bar.value(), bar.maximum() + 1, max(1, bar.pageStep() // 4)):
            bar.setValue(value)
            end = time.perf_counter() + 0.016
            while time.perf_counter() < end:
                app.processEvents()
        history.older.click()
        while history.list.count() == count and time.perf_counter() < deadline:
            app.processEvents()
        pages += 1
    heartbeat.stop()
    result = {
        "benchmark": "window_open",
        "open_to_history_s": round(opened_s, 3),
        "runs_listed_after_scrolling": history.list.count(),
        "older_pages_loaded": pages,
        "max_stall_ms": round(max(stalls) - 5, 1) if stalls else None,
        "p99_stall_ms": round(sorted(stalls)[int(len(stalls) * 0.99)] - 5, 1) if stalls else None,
    }
    window.close()
    workspace.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
