"""Runs come back: from the history panel, and after a restart."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from PySide6.QtWidgets import QStatusBar, QWidget
from window_helpers import WAIT_MS, close, run_and_wait

from workbench.core.notebook import open_notebook
from workbench.core.workspace import Workspace
from workbench.ui.runs.history import PAGE_SIZE
from workbench.ui.runs.past_runs import UPGRADE_TEXT, PastRuns
from workbench.ui.shared.context import Activity, Context, Feedback, NotebookEvents, PaneEvents
from workbench.ui.shared.message_bar import MessageBar
from workbench.ui.shared.preferences import Preferences, default_settings_file

OLD_NOTEBOOK = Path(__file__).parents[1] / "data" / "notebooks" / "m001.sqlite"  # the first schema's


def test_selecting_a_run_in_history_shows_it_again(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.prompt_bar.prompt.setPlainText("First question")
    first = run_and_wait(qtbot, window)
    first_texts = [pane.answer_text for pane in window.area.panes]
    window.prompt_bar.prompt.setPlainText("Second question")
    window.settings_form.max_tokens.setValue(6)
    second = run_and_wait(qtbot, window)
    # History reads the notebook on the notebook thread, never the GUI's: the list
    # catches up just after the run ends, behind whatever else the run queued there.
    qtbot.waitUntil(lambda: window.history.run_ids == [second.run_id, first.run_id], timeout=WAIT_MS)  # newest first
    assert [pane.answer_text for pane in window.area.panes] != first_texts

    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS) as shown:
        window.history.select_run(first.run_id)
    assert shown.args == [first.run_id]
    rows = opened.workspace.notebook.run(first.run_id)["responses"]
    assert [pane.answer_text for pane in window.area.panes] == [row["text"] for row in rows] == first_texts
    assert window.prompt_bar.prompt_text == "First question"
    for pane, row in zip(window.area.panes, rows):
        assert f"Run #{first.run_id}" in pane.caption_label.text()
        assert row["model_name"] in pane.caption_label.text()
        assert pane.entry is not None and pane.entry.sha256 == row["model_sha256"]


def test_a_run_survives_a_restart(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.prompt_bar.prompt.setPlainText("Remember me")
    outcome = run_and_wait(qtbot, window)
    texts = [pane.answer_text for pane in window.area.panes]
    close(opened)

    reopened = open_window([tiny_models]).window
    assert reopened.history.run_ids == [outcome.run_id]
    assert "Remember me" in reopened.history.list.item(0).text()
    with qtbot.waitSignal(reopened.runShown, timeout=WAIT_MS):
        reopened.history.select_run(outcome.run_id)
    assert [pane.answer_text for pane in reopened.area.panes] == texts


def test_a_run_with_more_models_than_panes_opens_panes(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.area.add_pane()
    window.library_control.use_model(window.area.panes[0].entry_id, 2)
    outcome = run_and_wait(qtbot, window)
    window.area.set_count(2)
    assert len(window.area.panes) == 2
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS):
        window.history.select_run(outcome.run_id)
    assert len(window.area.panes) == 3
    rows = opened.workspace.notebook.run(outcome.run_id)["responses"]
    assert [p.answer_text for p in window.area.panes] == [r["text"] for r in rows]


def test_history_pages_older_runs(open_window, isolated_dirs, qtbot):
    notebook = open_notebook(isolated_dirs / "notebook.sqlite")
    ids = [notebook.create_run(f"question {n}") for n in range(PAGE_SIZE + 5)]
    notebook.close()
    window = open_window([]).window
    assert window.history.run_ids == ids[::-1][:PAGE_SIZE]
    assert window.history.older.isVisibleTo(window)
    window.history.older.click()
    qtbot.waitUntil(lambda: len(window.history.run_ids) == len(ids), timeout=WAIT_MS)
    assert window.history.run_ids == ids[::-1]


def test_one_sessions_runs_page_older_runs_too(open_window, isolated_dirs, qtbot):
    notebook = open_notebook(isolated_dirs / "notebook.sqlite")
    ids = [notebook.create_run(f"question {n}") for n in range(PAGE_SIZE + 8)]
    moved = ids[-1:] + ids[PAGE_SIZE // 2 : PAGE_SIZE // 2 + 2]  # the newest and two a page would show
    notebook.sessions.move_runs(moved, notebook.sessions.create("Elsewhere", annotator="ana").id, annotator="ana")
    notebook.close()
    ids = [run_id for run_id in ids if run_id not in moved]  # what Unsorted holds: still more than a page
    window = open_window([]).window
    qtbot.waitUntil(lambda: window.history.session_filter.findData(None) >= 0, timeout=WAIT_MS)  # the sessions are read
    with qtbot.waitSignal(window.historyLoaded, timeout=WAIT_MS):
        window.history.show_session(None)  # Unsorted: every run, read as one session's
    assert window.history.session_shown is None
    assert window.history.run_ids == ids[::-1][:PAGE_SIZE]
    with qtbot.waitSignal(window.historyLoaded, timeout=WAIT_MS):
        window.history.older.click()
    assert window.history.run_ids == ids[::-1]  # the older page of the same session, below


def test_choices_survive_a_restart(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.area.add_pane()
    chosen = [pane.entry_id for pane in window.area.panes[:2]][::-1] + [window.area.panes[0].entry_id]
    for index, entry_id in enumerate(chosen):
        window.library_control.use_model(entry_id, index)
    window.settings_form.max_tokens.setValue(77)
    window.commands.run.schedule["parallel"].trigger()
    window.commands.panes.sync_scrolling.setChecked(True)
    window.commands.view.bigger.trigger()
    points = window.appearance.points
    window.appearance.set_theme("dark")
    window.prompt_bar.prompt.setPlainText("A draft question")
    window.library.set_grouping("quantization")
    window.history_dock.toggleViewAction().trigger()  # hide the history panel
    close(opened)

    again = open_window([tiny_models]).window
    assert [pane.entry_id for pane in again.area.panes] == chosen
    assert again.settings_form.max_tokens.value() == 77
    assert again.prompt_bar.schedule_key == "parallel"
    assert again.area.sync_scrolling
    assert again.appearance.points == points
    assert again.commands.view.theme["dark"].isChecked()
    assert again.prompt_bar.prompt_text == "A draft question"
    assert again.library.grouping_key == "quantization"
    assert not again.history_dock.isVisible() and again.library_dock.isVisible()


def test_the_first_read_upgrades_an_old_notebook_and_says_why_it_waits(qtbot, tasks, tmp_path):
    """The list of past runs needs no window: a Context, the Activity it reports to, what the panes show."""
    path = tmp_path / "old.sqlite"
    shutil.copy(OLD_NOTEBOOK, path)
    conn = sqlite3.connect(path)
    old_runs = [row[0] for row in conn.execute("select id from runs order by id desc")]
    conn.close()
    workspace = Workspace(path, home=tmp_path / "home", include_other_apps=False, with_starter=False)
    parent = QWidget()
    qtbot.addWidget(parent)
    status = QStatusBar(parent)
    context = Context(workspace, Preferences.at(default_settings_file()), tasks, tasks, Feedback(MessageBar(parent), status), parent)
    activity = Activity()
    activity.library_scanned()
    past = PastRuns(context, activity, PaneEvents(), NotebookEvents())
    try:
        with qtbot.waitSignal(past.historyLoaded, timeout=WAIT_MS):
            past.start()
        assert status.currentMessage() == UPGRADE_TEXT
        assert activity.ready  # the notebook was checked: Run may be enabled
        assert past.panel.run_ids == old_runs and old_runs
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
        workspace.close()
