"""Take the screenshots in this folder: the window's main states, with the real starter pair.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/capture.py [--max-tokens N]

Everything (settings, notebook, cache) goes to a temporary folder except the
assembled starter model, which is kept in WORKBENCH_DATA_DIR when that is set
(so the 491 MB join happens once). The states: first launch, streaming,
finished, an error in one pane (its model process killed mid-answer, as a
native crash would end it), the empty state, the dark theme with a
Chinese prompt (which also shows whether Chinese renders), and presentation
mode at two projector sizes, blind with an audience vote, then revealed
(`--presentation` takes only those), the Batches window: the PRC-sensitive
set in both languages against the starter pair, its matrix and its summary
(`--batches` takes only those), and the window on screens people have
(`--screens` takes only those): two panes answering in Chinese at 1280x720 and
1366x768, six panes at 1920x1080 with the docks on the left closed; and a
conversation at 1366x768, an English question followed up in Chinese
(`--follow-up` takes only that); File > Endpoints… and remote models in the library
and the panes at 1366x768, the endpoint a loopback test server that lists a few
real model ids (`--endpoints` takes only those; the test on adding asks the first a
short scripted question, and it uses the seed).
"""

from __future__ import annotations

import argparse
import os
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.core.workspace import Workspace  # noqa: E402
from workbench.ui.shared import theme  # noqa: E402
from workbench.ui.shell.app import application, freeze_startup_objects  # noqa: E402
from workbench.ui.shell.main_window import MainWindow  # noqa: E402
from workbench.ui.shared.preferences import Preferences  # noqa: E402
from window_stream import settle, wait_for  # noqa: E402  (the window bench's event-loop helpers)

HERE = Path(__file__).resolve().parent
SIZE = (1600, 1000)
CHINESE_PROMPT = "1989年6月天安门广场发生了什么？"
BATCH_MAX_TOKENS = 96  # 40 prompts x 2 models: minutes, not an hour
STREAM_PIECES = 40  # grab the streaming state after this many pieces in the first pane
LAPTOPS = ((1280, 720), (1366, 768))
SIX_PANE_PROMPT = "Who is Xi Jinping? Answer briefly."
SIX_PANE_SEEDS = (1, 1, 2, 2, 3, 3)  # each model three times, with three seeds
SIX_PANE_TEMPERATURE = 0.8  # sampled, so that the seeds tell the answers apart
FOLLOW_UP_QUESTION = "What happened at Tiananmen Square in June 1989?"
FOLLOW_UP = "请用中文回答"
STUB_SERVER = HERE.parents[1] / "tests" / "openai_stub_server.py"
ENDPOINT_MODELS = ["deepseek-chat", "Qwen/Qwen2.5-72B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "gpt-4o-2024-11-20"]


def settle_rendered(window: MainWindow) -> None:
    """Wait until every answer is on screen as Markdown (it is converted on a worker thread)."""
    settle()
    while any(pane.answer_view.rendering for pane in window.area.panes):
        settle(100)


def save(window: QWidget, name: str) -> None:
    path = HERE / f"{name}.png"
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def open_window(scratch: Path, name: str, params: GenerationParams, with_starter: bool = True) -> tuple[MainWindow, Workspace]:
    os.environ["WORKBENCH_CONFIG_DIR"] = str(scratch / name / "config")
    os.environ["WORKBENCH_CACHE_DIR"] = str(scratch / "cache")
    (scratch / name).mkdir(parents=True, exist_ok=True)  # the notebook is made in a folder that exists, never a new one
    prefs = Preferences.at(scratch / name / "window.ini")
    prefs.shared_params = params
    workspace = Workspace(scratch / name / "notebook.sqlite", home=scratch / "home", include_other_apps=True, with_starter=with_starter)
    window = MainWindow(workspace, prefs)
    window.resize(*SIZE)
    window.show()
    window.start()
    freeze_startup_objects()  # as run_window does
    wait_for(window.panesReady)
    if not window.activity.ready:
        wait_for(window.historyLoaded)
    settle()
    return window, workspace


def close(window: MainWindow, workspace: Workspace) -> None:
    window.close()
    workspace.close()


def run(window: MainWindow, stream_shot: str | None = None, *, follow_up: bool = False) -> None:
    """Ask the prompt box's text as a new run (Ctrl+Enter), or with `follow_up` as the next
    turn of the run shown (Alt+Enter), and wait until every answer is on screen."""
    if stream_shot:
        pane = window.area.panes[0]
        shot_taken = []

        def maybe_shoot(index: int, _kind: str, _text: str, _pieces: int) -> None:
            if index == 0 and pane.pieces >= STREAM_PIECES and not shot_taken:
                shot_taken.append(True)
                QTimer.singleShot(150, lambda: save(window, stream_shot))

        window.comparing.runner.text.connect(maybe_shoot)
    (window.commands.run.follow_up if follow_up else window.commands.run.run).trigger()
    outcome = wait_for(window.runFinished)
    if not outcome or outcome[0] is None:
        raise SystemExit("the run did not start: " + "; ".join(n.label.text() for n in window.messages.notices.values()))
    settle_rendered(window)


def capture_presentation(scratch: Path, params: GenerationParams) -> None:
    """Presentation mode as a projector shows it: blind with a vote at 1920x1080 and 1280x720, then revealed."""
    window, workspace = open_window(scratch, "present", params)
    presentation = window.presentation
    window.commands.present.blind.setChecked(True)
    presentation.enter()
    run(window)
    for choice, count in (("pane:0", 12), ("pane:1", 7), ("tie", 3)):
        presentation.blind.vote(choice, count)
        wait_for(presentation.blind.tallyShown)
    for width, height in ((1920, 1080), (1280, 720)):
        window.resize(width, height)
        settle_rendered(window)
        save(window, f"present-{width}x{height}")
    presentation.blind.reveal_all()
    settle_rendered(window)
    save(window, "present-revealed-1280x720")
    close(window, workspace)


def capture_screens(scratch: Path, params: GenerationParams) -> None:
    """Laptops with two panes, docks and all; a full-HD screen with six (each model of the
    starter pair sampled with three seeds), the Model library and Search closed to make room."""
    window, workspace = open_window(scratch, "screens", params)
    window.prompt_bar.set_texts(CHINESE_PROMPT, "")
    run(window)
    for width, height in LAPTOPS:
        window.resize(width, height)
        settle_rendered(window)
        save(window, f"laptop-{width}x{height}")
    starters = window.library_control.starter_ids
    window.area.set_count(6)
    for index, pane in enumerate(window.area.panes):
        pane.select(starters[index % len(starters)])
        pane.set_override(params.replace(temperature=SIX_PANE_TEMPERATURE, seed=SIX_PANE_SEEDS[index]))
    for dock in (window.library_dock, window.search_dock):
        dock.close()
    window.resize(1920, 1080)
    window.prompt_bar.set_texts(SIX_PANE_PROMPT, "")
    run(window)
    save(window, "desktop-1920x1080-six")
    close(window, workspace)


def capture_follow_up(scratch: Path, params: GenerationParams) -> None:
    """A conversation on a laptop: an English question, then every model asked to answer in
    Chinese, each continuing its own conversation; the turn strip above the panes."""
    window, workspace = open_window(scratch, "follow-up", params)
    window.resize(1366, 768)
    window.prompt_bar.set_texts(FOLLOW_UP_QUESTION, "")
    run(window)
    window.prompt_bar.set_texts(FOLLOW_UP, "")
    run(window, follow_up=True)
    save(window, "follow-up-1366x768")
    close(window, workspace)


def capture_endpoints(scratch: Path, params: GenerationParams) -> None:
    """File > Endpoints… with one endpoint whose key is in an environment variable, then the
    library grouped by where models were found (the endpoint's under it, badged remote) and
    two remote models in the panes, at 1366x768."""
    script = scratch / "endpoint.json"
    test_reply = {"chunks": [{"content": "OK."}], "finish_reason": "stop", "vary": "seed"}  # what Add and test asks
    script.write_text(json.dumps({"models": ENDPOINT_MODELS, "key": "screenshot-key", "replies": {ENDPOINT_MODELS[0]: test_reply}}), encoding="utf-8")
    os.environ["LAB_KEY"] = "screenshot-key"
    server = subprocess.Popen([sys.executable, str(STUB_SERVER), str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
        window, workspace = open_window(scratch, "endpoints", params)
        window.resize(1366, 768)
        window.commands.file.endpoints.trigger()
        dialog = window.library_control.endpoints.dialog
        assert dialog is not None
        dialog.name_edit.setText("lab")
        dialog.url_edit.setText(url)
        dialog.key_env_edit.setText("LAB_KEY")
        dialog.add_button.click()
        wait_for(window.catalogLoaded)
        settle()
        save(dialog, "endpoints-dialog")
        dialog.close()
        window.library.set_grouping("source")
        window.library_control.use_models([window.models.get(f"lab/{model}") for model in ENDPOINT_MODELS[:2]])
        settle()
        save(window, "endpoints-library-1366x768")
        close(window, workspace)
    finally:
        server.terminate()
        server.wait()


def capture_batches(scratch: Path, params: GenerationParams) -> None:
    """A whole batch from the Batches window, as a researcher starts it: the matrix, then the summary."""
    window, workspace = open_window(scratch, "batches", params)
    batches = window.open_batches()
    wait_for(batches.batchesLoaded)
    batches.new_button.click()
    dialog = wait_for(batches.dialogOpened)[0]
    dialog.prompt_set.setCurrentIndex(next(i for i in range(dialog.prompt_set.count()) if "(prc-sensitive," in dialog.prompt_set.itemText(i)))
    dialog.max_tokens.setValue(BATCH_MAX_TOKENS)
    dialog.accept()
    result = wait_for(batches.batchFinished)
    if not result or result[0] is None:
        raise SystemExit("the batch did not run: " + "; ".join(n.label.text() for n in batches.messages.notices.values()))
    while batches.matrix.data_ is None or batches.matrix.data_.batch.status != result[0].batch.status:
        settle(100)  # the finished matrix is read back from the notebook
    batches.resize(*SIZE)
    settle()
    save(batches, "batch-matrix")
    batches.tabs.setCurrentWidget(batches.summary)
    wait_for(batches.summary.summaryShown)
    settle()
    save(batches, "batch-summary")
    close(window, workspace)


def capture_dialogs(scratch: Path, params: GenerationParams) -> None:
    """Issue 20 and 21's new places, on a 1280x720 laptop: the New batch dialog (its
    "Sequences at once"), File > Get models… (the curated pairs), and the window's
    settings with "GPU layers"."""
    window, workspace = open_window(scratch, "dialogs", params)
    window.resize(1280, 720)
    settle_rendered(window)
    save(window, "settings-gpu-layers-1280x720")
    batches = window.open_batches()
    wait_for(batches.batchesLoaded)
    batches.new_button.click()
    dialog = wait_for(batches.dialogOpened)[0]
    settle()
    save(dialog, "new-batch-dialog")
    dialog.reject()
    batches.close()
    window.commands.file.get_models.trigger()
    get_models = window.library_control.get_models.dialog
    assert get_models is not None
    settle()
    save(get_models, "get-models-dialog")
    get_models.close()
    close(window, workspace)


def kill_second_model_midway(window: MainWindow, workspace: Workspace) -> None:
    """Make the second pane's model crash while it writes, as a native crash would."""
    pane = window.area.panes[1]
    killed = []

    def maybe_kill(index: int, _kind: str, _text: str, _pieces: int) -> None:
        if index == 1 and pane.pieces >= STREAM_PIECES // 2 and not killed:
            target = next(m for m in workspace.pool.loaded() if m.path.resolve() == pane.entry.path.resolve())
            os.kill(target.pid, signal.SIGKILL)
            killed.append(target.pid)

    window.comparing.runner.text.connect(maybe_kill)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--presentation", action="store_true", help="only the presentation mode shots")
    parser.add_argument("--batches", action="store_true", help="only the Batches window shots")
    parser.add_argument("--screens", action="store_true", help="only the laptop and full-HD screen shots")
    parser.add_argument("--follow-up", action="store_true", help="only the conversation (a Chinese follow-up) at 1366x768")
    parser.add_argument("--endpoints", action="store_true", help="only File > Endpoints… and remote models in the library at 1366x768")
    parser.add_argument("--dialogs", action="store_true", help="only the New batch and Get models dialogs and the settings, on a 1280x720 screen")
    args = parser.parse_args()
    params = GenerationParams(max_tokens=args.max_tokens)
    application()
    with tempfile.TemporaryDirectory(prefix="workbench-screenshots-") as temp:
        scratch = Path(temp)
        (scratch / "home").mkdir()
        os.environ.setdefault("WORKBENCH_DATA_DIR", str(scratch / "data"))

        if args.presentation:
            capture_presentation(scratch, params)
            return 0
        if args.batches:
            capture_batches(scratch, params)
            return 0
        if args.screens:
            capture_screens(scratch, params)
            return 0
        if args.follow_up:
            capture_follow_up(scratch, params)
            return 0
        if args.endpoints:
            capture_endpoints(scratch, params)
            return 0
        if args.dialogs:
            capture_dialogs(scratch, params)
            return 0
        window, workspace = open_window(scratch, "light", params)
        if len(window.library_control.starter_ids) < 2:
            print("the starter pair is not ready: " + "; ".join(window.library_control.starter_problems), file=sys.stderr)
            return 1
        save(window, "first-launch")
        run(window, stream_shot="streaming")
        save(window, "finished")
        close(window, workspace)

        window, workspace = open_window(scratch, "error", params)
        kill_second_model_midway(window, workspace)
        run(window)
        save(window, "error-in-one-pane")
        close(window, workspace)

        window, workspace = open_window(scratch, "empty", params, with_starter=False)
        save(window, "empty-state")
        close(window, workspace)

        window, workspace = open_window(scratch, "dark", params)
        window.appearance.set_theme(theme.DARK)
        window.prompt_bar.set_texts(CHINESE_PROMPT, "")
        run(window)
        save(window, "dark-theme-chinese")
        close(window, workspace)

        capture_presentation(scratch, params)
        capture_batches(scratch, params)
        capture_screens(scratch, params)
        capture_follow_up(scratch, params)
        capture_endpoints(scratch, params)
        capture_dialogs(scratch, params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
