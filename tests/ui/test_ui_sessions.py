"""Sessions: create, rename, move runs, filter the history, archive; undo a move."""

from __future__ import annotations

from window_helpers import WAIT_MS, make_run, run_and_wait, settle


def test_sessions_group_runs_and_filter_the_history(open_window, isolated_dirs, qtbot):
    path = isolated_dirs / "notebook.sqlite"
    first, second, third = (make_run(path, f"question {n}") for n in range(3))
    opened = open_window([])
    window = opened.window
    panel = window.annotating.sessions
    nb = opened.workspace.notebook

    # Not the next sessionsLoaded: the window's own first load may still be on its way.
    panel.createRequested.emit("Class of Monday")
    qtbot.waitUntil(lambda: [s.name for s in panel.sessions] == ["Unsorted", "Class of Monday"], timeout=WAIT_MS)
    session_id = panel.sessions[1].id

    # Select two runs in the history and move them with the context menu's signal.
    window.history.list.item(window.history.run_ids.index(first)).setSelected(True)
    window.history.list.item(window.history.run_ids.index(third)).setSelected(True)
    assert sorted(window.history.selected_run_ids) == sorted([first, third])
    # A move reloads the sessions and then the history: wait for both, or the history's reload
    # would be taken below for the filtered one.
    with qtbot.waitSignals([window.annotating.sessionsLoaded, window.historyLoaded], timeout=WAIT_MS):
        panel.list.setCurrentRow(1)
        panel.move_button.click()
    assert {s.name: s.run_count for s in panel.sessions} == {"Unsorted": 1, "Class of Monday": 2}
    assert nb.sessions.session_of(first) == nb.sessions.session_of(third) == session_id

    # Choosing the session filters the history.
    with qtbot.waitSignal(window.historyLoaded, timeout=WAIT_MS):
        panel.list.itemClicked.emit(panel.list.item(1))
    assert window.history.session_shown == session_id
    assert window.history.run_ids == [third, first]
    with qtbot.waitSignal(window.historyLoaded, timeout=WAIT_MS):
        window.history.show_session(None)  # Unsorted
    assert window.history.run_ids == [second]

    # Undo the move: the runs are back in Unsorted, and the lists say so (both follow the
    # notebook's announcement of the undo, in no promised order).
    with qtbot.waitSignals([window.historyLoaded, window.annotating.sessionsLoaded], timeout=WAIT_MS):
        window.commands.annotate.undo.trigger()
    assert sorted(window.history.run_ids) == sorted([first, second, third])
    assert nb.sessions.session_of(first) is None

    # Rename and archive.
    with qtbot.waitSignal(window.annotating.sessionsLoaded, timeout=WAIT_MS):
        panel.renameRequested.emit(session_id, "Monday seminar")
    assert panel.sessions[1].name == "Monday seminar"
    with qtbot.waitSignal(window.annotating.sessionsLoaded, timeout=WAIT_MS):
        panel.archiveRequested.emit(session_id, True)
    assert [s.name for s in panel.sessions] == ["Unsorted"]
    assert window.history.session_filter.findData(session_id) < 0
    settle(qtbot, window)
    assert window.history.session_shown == None  # noqa: E711 - Unsorted is still the filter chosen


def test_a_new_run_is_counted_in_the_sessions_at_once(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    panel = window.annotating.sessions
    qtbot.waitUntil(lambda: [(s.name, s.run_count) for s in panel.sessions] == [("Unsorted", 0)], timeout=WAIT_MS)
    window.prompt_bar.prompt.setPlainText("Say hello")
    run_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: panel.sessions[0].run_count == 1, timeout=WAIT_MS)
