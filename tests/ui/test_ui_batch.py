"""Batches in the real window: the matrix filling in, pause and resume, cancel, opening a cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_notebooks import notebook_with_batch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow
from prompt_set_factory import TINY_SET as SET
from window_helpers import TINY_PARAMS, WAIT_MS

from workbench.core.batch import BatchRunner, Progress
from workbench.core.notebook.batches import CANCELLED, DONE, ITEM_DONE, ITEM_PENDING, PAUSED, RUNNING
from workbench.core.prompts import load_prompt_set
from workbench.core.workspace import Workspace
from workbench.ui.batches.batch_runner import BatchThread
from workbench.ui.batches.judge_runner import JudgeThread
from workbench.ui.shared.context import Activity, Context, Feedback, ModelLibrary, NotebookEvents
from workbench.ui.shared.message_bar import MessageBar
from workbench.ui.shared.preferences import Preferences
from workbench.ui.shared.tasks import TaskQueue
from workbench.ui.batches.batch_view import DIVERGENCE, FIXED, ID, STATUS_TEXT, BatchesWindow, progress_text
from workbench.ui.batches.new_batch_dialog import NewBatchDialog

# The offscreen platform can't raise windows; opening a cell raises the main window.
MAX_TOKENS = 6
# The English prompts of test_batch's set, in set order (the tiny models can't tokenize Chinese).
ENGLISH = ["capital-en", "taiwan-en", "kill-en"]


@pytest.fixture
def set_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-set.toml"
    path.write_text(SET, encoding="utf-8")
    return path


def new_batch_dialog(qtbot, batches: BatchesWindow, set_file: Path, sequences: int = 1) -> NewBatchDialog:
    """New batch… with the tiny set chosen, English only, tiny answers, `sequences` prompts
    at once (0: auto; 1 by default, so a pause falls between prompts as these tests expect)."""
    with qtbot.waitSignal(batches.dialogOpened, timeout=WAIT_MS) as opened:
        batches.new_button.click()
    dialog: NewBatchDialog = opened.args[0]
    dialog.add_set(load_prompt_set(set_file))
    dialog.languages["zh"].setChecked(False)
    dialog.max_tokens.setValue(MAX_TOKENS)
    dialog.sequences.setValue(sequences)
    return dialog


def start_batch(qtbot, window, set_file: Path) -> BatchesWindow:
    return start_batch_of(qtbot, window, set_file, "3 prompts × 2 models = 6 answers")


def start_batch_of(qtbot, window, set_file: Path, count: str) -> BatchesWindow:
    """The batch of `set_file`, started from New batch… once its dialog counts `count`."""
    batches = window.open_batches()
    with qtbot.waitSignal(batches.batchesLoaded, timeout=WAIT_MS):
        pass
    dialog = new_batch_dialog(qtbot, batches, set_file)
    assert count in dialog.count.text()
    dialog.accept()
    return batches


def wait_finished(qtbot, batches: BatchesWindow):
    """The batch's end, and the notebook's matrix of it read after that end."""
    ended: list[object] = []
    read_after: list[int] = []
    batches.batchFinished.connect(ended.append, Qt.ConnectionType.SingleShotConnection)
    batches.matrixLoaded.connect(lambda batch_id: ended and read_after.append(batch_id))
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    result = ended[0]
    assert result is not None, "; ".join(n.label.text() for n in batches.messages.notices.values())
    qtbot.waitUntil(lambda: result.batch.id in read_after, timeout=WAIT_MS)
    assert batches.matrix.data_ is not None and batches.matrix.data_.batch.status == result.batch.status
    return result


def row_of(batches: BatchesWindow, prompt_id: str) -> int:
    """The row (in the view's sorted order) showing this prompt."""
    proxy = batches.proxy
    return next(r for r in range(proxy.rowCount()) if proxy.index(r, ID).data() == prompt_id)


def cell_text(batches: BatchesWindow, prompt_id: str, model: int) -> str:
    return batches.proxy.index(row_of(batches, prompt_id), len(FIXED) + model).data()


def test_a_batch_started_in_the_window_fills_the_matrix_and_the_notebook(open_window, tiny_models, set_file, qtbot) -> None:
    opened = open_window([tiny_models])
    window = opened.window
    window.library_control.use_models([pane.entry for pane in reversed(window.area.panes)])  # not the catalog's order
    pane_models = [pane.entry.name for pane in window.area.panes]
    batches = start_batch(qtbot, window, set_file)
    # The models are taken: no comparison can start until the batch ends.
    assert not window.commands.run.run.isEnabled() and batches.pause_button.isEnabled() and not batches.new_button.isEnabled()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as refused:
        window.comparing.rerun_pane(window.area.panes[0])  # not through Run: still refused
    assert refused.args == [None] and not window.comparing.runner.running
    result = wait_finished(qtbot, batches)
    assert result.batch.status == DONE and result.batch.done == 3
    assert window.commands.run.run.isEnabled() and not batches.pause_button.isEnabled()

    model = batches.matrix
    assert [model.headerData(len(FIXED) + i, Qt.Orientation.Horizontal) for i in range(2)] == pane_models
    stored = opened.workspace.notebook.batches
    items = {i.prompt_id: i for i in stored.items(result.batch.id)}
    assert list(items) == ENGLISH and all(i.status == ITEM_DONE for i in items.values())
    rows = stored.responses(result.batch.id)
    assert len(rows) == 6
    for row in rows:
        text = cell_text(batches, row["prompt_id"], row["position"])
        assert row["finish_reason"] == "length"
        assert text.endswith(f"({STATUS_TEXT['length']})") or text == STATUS_TEXT["length"]
        for flag in row["flags"]:
            title = model.data_.labels[flag].title if flag in model.data_.labels else flag
            assert f"{title}?" in text
    # Sorted most divergent first, with the scores the notebook holds.
    header = batches.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (DIVERGENCE, Qt.SortOrder.DescendingOrder)
    shown = [batches.proxy.index(r, DIVERGENCE).data() for r in range(3)]
    assert shown == [f"{d:.2f}" for d in sorted((i.divergence for i in items.values()), reverse=True)]
    assert batches.progress.value() == 3 and batches.progress.format() == "3 of 3 prompts"
    assert "done" in batches.list.item(0).text() and "3 of 3" in batches.list.item(0).text()


def test_pause_then_resume_finishes_without_asking_again(open_window, tiny_models, set_file, qtbot) -> None:
    opened = open_window([tiny_models])
    window = opened.window
    batches = start_batch(qtbot, window, set_file)
    first_started: list[str] = []
    batches.batch_thread.itemStarted.connect(lambda item, _p: first_started.append(item.prompt_id))
    pausing = [True]  # only the first run is paused

    def pause_once(_outcome, _progress) -> None:
        if pausing:
            pausing.clear()
            batches.pause_button.click()

    batches.batch_thread.itemFinished.connect(pause_once)
    paused = wait_finished(qtbot, batches)
    assert paused.batch.status == PAUSED and 1 <= paused.batch.done < 3
    assert batches.resume_button.isEnabled() and window.commands.run.run.isEnabled()
    assert f"{paused.batch.done} of 3 prompts (paused)" == batches.progress.format()
    pending = [prompt_id for prompt_id in ENGLISH if cell_text(batches, prompt_id, 0) == STATUS_TEXT["pending"]]
    assert pending == ENGLISH[paused.batch.done:]

    resumed: list[str] = []
    batches.batch_thread.itemStarted.connect(lambda item, _p: resumed.append(item.prompt_id))
    batches.resume_button.click()
    done = wait_finished(qtbot, batches)
    assert done.batch.status == DONE and done.batch.done == 3
    assert resumed == pending and not set(resumed) & set(first_started[: paused.batch.done])
    runs = opened.workspace.notebook.store.db.execute("select count(*) from runs").fetchone()[0]
    assert runs == 3, "a prompt done before the pause was asked again"
    assert all(STATUS_TEXT["pending"] not in cell_text(batches, p, m) for p in ENGLISH for m in (0, 1))


def test_cancel_stops_mid_prompt_and_leaves_it_to_do(open_window, tiny_models, set_file, qtbot) -> None:
    opened = open_window([tiny_models])
    batches = start_batch(qtbot, opened.window, set_file)
    batches.batch_thread.responseFinished.connect(lambda _item, outcome, _flags: batches.cancel_button.click() if outcome.position == 0 else None)
    cancelled = wait_finished(qtbot, batches)
    assert cancelled.batch.status == CANCELLED and cancelled.batch.done == 0
    items = opened.workspace.notebook.batches.items(cancelled.batch.id)
    assert [i.status for i in items] == [ITEM_PENDING] * 3
    assert cell_text(batches, "capital-en", 0) == STATUS_TEXT["pending"]
    assert batches.resume_button.isEnabled()
    assert "cancelled" in batches.heading.text()


def test_a_cell_opens_its_run_in_the_panes(open_window, tiny_models, set_file, qtbot) -> None:
    opened = open_window([tiny_models])
    window = opened.window
    batches = start_batch(qtbot, window, set_file)
    result = wait_finished(qtbot, batches)
    item = next(i for i in opened.workspace.notebook.batches.items(result.batch.id) if i.prompt_id == "taiwan-en")
    index = batches.proxy.index(row_of(batches, "taiwan-en"), len(FIXED) + 1)
    batches.table.scrollTo(index)
    centre = batches.table.visualRect(index).center()
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS) as shown:
        # A view opens on a double-click only after the press that began it, as with a real mouse.
        qtbot.mouseClick(batches.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(batches.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert shown.args == [item.run_id]
    run = opened.workspace.notebook.run(item.run_id)
    assert [pane.answer_text for pane in window.area.panes] == [r["text"] for r in run["responses"]]
    assert window.prompt_bar.prompt_text == "Is Taiwan a country?"
    # Enter on a cell does the same.
    other = next(i for i in opened.workspace.notebook.batches.items(result.batch.id) if i.prompt_id == "kill-en")
    batches.table.setCurrentIndex(batches.proxy.index(row_of(batches, "kill-en"), len(FIXED)))
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(batches.table, Qt.Key.Key_Return)
    assert shown.args == [other.run_id]


def test_a_batch_waits_for_a_comparison_and_the_app_closing_cancels_it(open_window, tiny_models, set_file, scripted_models, qtbot) -> None:
    # Each model answers the comparison (its 1st request) and the batch's first prompt (its
    # 2nd); the next waits until the app's closing cancels the batch: on a busy machine the
    # batch could otherwise finish all three prompts before the window closes.
    scripted_models(lambda _model, _prompt: "An answer.", on_call=lambda n, cancel: n > 2 and cancel.wait(WAIT_MS / 1000))
    opened = open_window([tiny_models])
    window = opened.window
    batches = window.open_batches()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        window.commands.run.run.trigger()
        batches.new_button.click()
        assert "comparison" in batches.messages.text("busy")
    assert not batches.batch_thread.running

    batches = start_batch(qtbot, window, set_file)
    with qtbot.waitSignal(batches.batch_thread.itemFinished, timeout=WAIT_MS):
        pass
    window.close()
    assert batches.batch_thread.shutdown(0)  # already ended: closing waited for it
    stored = opened.workspace.notebook.batches.recent()[0]
    assert stored.status == CANCELLED and 1 <= stored.done < 3, "closing the app left the batch unresumable"


def test_progress_text_says_how_long_is_left() -> None:
    from workbench.core.batch import Progress

    assert progress_text(Progress(0, 40, 0.0, None)) == "0 of 40 prompts, timing the first prompt…"
    assert progress_text(Progress(4, 40, 120.0, 30.0)) == "4 of 40 prompts, about 18 min left"
    assert progress_text(Progress(39, 40, 120.0, 20.0)) == "39 of 40 prompts, less than a minute left"
    assert progress_text(Progress(40, 40, 120.0, 20.0)) == "40 of 40 prompts"


def test_a_batch_a_crash_left_running_shows_as_interrupted_and_resumes(open_window, tiny_models, set_file, qtbot) -> None:
    opened = open_window([tiny_models])
    window = opened.window
    # Created and never finished, as a killed app leaves it: stored as running.
    runner = BatchRunner(opened.workspace.comparison)
    entries = [pane.entry for pane in window.area.panes]
    batch = runner.create(load_prompt_set(set_file), entries, TINY_PARAMS.replace(max_tokens=MAX_TOKENS), languages=["en"], limit=1)
    assert batch.status == RUNNING
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.batch_id == batch.id, timeout=WAIT_MS)
    assert "· interrupted" in batches.list.item(0).text() and batches.progress.format() == "0 of 1 prompts (interrupted)"
    assert batches.resume_button.isEnabled()
    batches.resume_button.click()
    result = wait_finished(qtbot, batches)
    assert result.batch.status == DONE and result.batch.done == 1
    assert "· done" in batches.list.item(0).text()


def batches_alone(tmp_path: Path, qtbot, shown: list[int]) -> tuple[BatchesWindow, Workspace, TaskQueue, Activity]:
    """A Batches window with no main window, over the notebook at tmp_path/nb.sqlite."""
    workspace = Workspace(tmp_path / "nb.sqlite", [], home=tmp_path / "home", include_other_apps=False, with_starter=False)
    host = QMainWindow()
    qtbot.addWidget(host)
    tasks = TaskQueue("notebook", None, host)
    context = Context(
        workspace, Preferences.at(tmp_path / "window.ini"), tasks, TaskQueue("catalog", None, host), Feedback(MessageBar(), host.statusBar()), host
    )
    activity = Activity(host)
    batches = BatchesWindow(
        context, ModelLibrary(host), activity, NotebookEvents(host), BatchThread(workspace, activity, host), JudgeThread(workspace, activity, host),
        show_run=shown.append, batch_params=lambda: TINY_PARAMS, chosen_models=list,
    )
    return batches, workspace, tasks, activity


def test_the_batches_window_needs_only_what_it_is_handed(tmp_path: Path, qtbot) -> None:
    """No main window: a cell waits while the panes are busy, then goes to `show_run`."""
    notebook, batch, _ids = notebook_with_batch(tmp_path)
    notebook.close()
    shown: list[int] = []
    batches, workspace, tasks, activity = batches_alone(tmp_path, qtbot, shown)
    try:
        with qtbot.waitSignal(batches.matrixLoaded, timeout=WAIT_MS) as loaded:
            batches.open()
        assert loaded.args == [batch.id] and batches.shown_batch_id == batch.id
        first = batches.proxy.index(0, len(FIXED))
        run_id = next(i.run_id for i in workspace.notebook.batches.items(batch.id) if i.prompt_id == batches.proxy.index(0, ID).data())

        activity.set_comparing(True)  # the main window's panes are taken
        batches.open_cell(first)
        assert shown == [] and "comparison" in batches.statusBar().currentMessage()
        batches.new_button.click()
        assert "comparison" in batches.messages.text("busy")

        activity.set_comparing(False)
        batches.open_cell(first)
        assert shown == [run_id]
        batches.close()  # hidden, not destroyed: it shows no batch now
        assert batches.isHidden() and batches.shown_batch_id is None
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
        workspace.close()


def test_the_list_the_heading_and_the_buttons_agree_on_a_batch_s_state(open_window, tiny_models, set_file, qtbot) -> None:
    """Paused, resumed, finished: the list line and the heading never say two different
    things, and a finished batch offers neither Pause nor Resume, at any moment."""
    opened = open_window([tiny_models])
    batches = start_batch(qtbot, opened.window, set_file)
    seen: list[tuple[str, str, bool, bool]] = []

    def look(*_args) -> None:
        seen.append((batches.list.item(0).text().split("\n")[0], batches.heading.text(), batches.pause_button.isEnabled(), batches.resume_button.isEnabled()))

    batches.batch_thread.itemFinished.connect(lambda *_a: batches.pause_button.click(), Qt.ConnectionType.SingleShotConnection)
    paused = wait_finished(qtbot, batches)
    assert paused.batch.status == PAUSED
    look()
    for signal in (batches.batch_thread.batchStarted, batches.batch_thread.itemFinished, batches.batchFinished, batches.batchesLoaded, batches.matrixLoaded):
        signal.connect(look)
    batches.resume_button.click()
    done = wait_finished(qtbot, batches)
    assert done.batch.status == DONE
    look()
    for line, heading, pause, resume in seen:
        status = heading.rsplit("— ", 1)[1]
        assert line.endswith(f"· {status}"), (line, heading)
        if status == DONE:
            assert not pause and not resume, (line, pause, resume)
        if status == PAUSED:
            assert resume and not pause, "\n".join(map(str, seen))
    assert any(heading.endswith("running") for _l, heading, _p, _r in seen)


@pytest.mark.parametrize(("name", "text"), [
    ("mine.csv", "topic,kind,text\nfacts,control,Why is the sky blue?\n"),
    ("mine.jsonl", '{"topic": "facts", "kind": "control", "text": "Why is the sky blue?"}\n'),
])  # fmt: skip
def test_open_a_set_file_offers_and_reads_csv_and_json_lines(name: str, text: str, tmp_path: Path, qtbot, monkeypatch) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    offered: list[str] = []

    def choose(_parent, _title, _folder, filters):
        offered.append(filters)
        return str(path), ""

    monkeypatch.setattr("workbench.ui.batches.new_batch_dialog.QFileDialog.getOpenFileName", choose)
    batches, workspace, tasks, _activity = batches_alone(tmp_path, qtbot, [])
    try:
        with qtbot.waitSignal(batches.dialogOpened, timeout=WAIT_MS) as opened:
            batches.new_batch()
        dialog: NewBatchDialog = opened.args[0]
        dialog.open_set.click()
        qtbot.waitUntil(lambda: dialog.chosen_set is not None and dialog.chosen_set.path == path, timeout=WAIT_MS)
        assert [p.text for p in dialog.chosen_set.prompts] == ["Why is the sky blue?"]
        assert offered[0].split(";;")[0] == "Prompt sets (*.toml *.csv *.tsv *.jsonl *.ndjson)"
        assert "JSON Lines (*.jsonl *.ndjson)" in offered[0].split(";;")
        dialog.reject()
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
        workspace.close()


def test_the_progress_says_which_follow_up_is_asked(open_window, tiny_models, tmp_path: Path, qtbot) -> None:
    from prompt_set_factory import PRESSURE_SET

    set_file = tmp_path / "pressure.toml"
    set_file.write_text(PRESSURE_SET.replace(', "请用中文回答"', ""), encoding="utf-8")  # the tiny models can't tokenize Chinese
    batches = start_batch_of(qtbot, open_window([tiny_models]).window, set_file, "2 prompts and 1 follow-up × 2 models = 6 answers")
    seen: list[str] = []
    batches.batch_thread.followUpStarted.connect(lambda *_: seen.append(batches.progress.format()))  # after the window's own slot
    result = wait_finished(qtbot, batches)
    assert result.batch.status == DONE
    assert len(seen) == 1 and seen[0].startswith("0 of 2 prompts") and seen[0].endswith(" · follow-up 1 of 1")
    assert batches.progress.format() == "2 of 2 prompts"


def test_every_prompt_in_flight_stays_asking_when_the_matrix_is_read_again(tmp_path: Path, qtbot) -> None:
    """A batch on endpoints asks several prompts at once (core/lanes.py): a reread of the
    matrix meanwhile shows each of them as being asked, not only the last one started."""
    notebook, batch, _ids = notebook_with_batch(tmp_path)
    notebook.close()
    batches, workspace, tasks, _activity = batches_alone(tmp_path, qtbot, [])
    try:
        with qtbot.waitSignal(batches.matrixLoaded, timeout=WAIT_MS):
            batches.open()
        first, second = workspace.notebook.batches.items(batch.id)[:2]
        batches._running_id = batch.id  # as the batch thread's start says
        batches._item_started(first, Progress(0, 4, 0.0, None))
        batches._item_started(second, Progress(0, 4, 0.0, None))
        with qtbot.waitSignal(batches.matrixLoaded, timeout=WAIT_MS):
            batches.show_batch(batch.id)
        assert cell_text(batches, first.prompt_id, 0) == cell_text(batches, second.prompt_id, 0) == STATUS_TEXT["asking"]
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
        workspace.close()


def test_the_sequences_field_reaches_the_batch_and_its_models(open_window, tiny_models, set_file, qtbot) -> None:
    """"Sequences at once" is saved with the batch, and its local models are loaded for that
    many; left at auto, the number chosen is saved."""
    opened = open_window([tiny_models])
    batches = opened.window.open_batches()
    with qtbot.waitSignal(batches.batchesLoaded, timeout=WAIT_MS):
        pass
    dialog = new_batch_dialog(qtbot, batches, set_file, sequences=0)
    assert dialog.sequences.text() == "auto" and dialog.request().sequences is None and dialog.sequences.toolTip()
    dialog.sequences.setValue(2)
    assert dialog.request().sequences == 2
    dialog.accept()
    result = wait_finished(qtbot, batches)
    assert result.batch.status == DONE and result.batch.settings["sequences"] == 2
    assert sorted(model.info["sequences"] for model in opened.workspace.comparison.pool.loaded()) == [2, 2]
