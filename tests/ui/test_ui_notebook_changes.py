"""The window's views follow the notebook's announcements, whoever wrote: a label given
outside the window shows on the answer, a run made elsewhere is listed, a new label joins
the label bar, and a session made elsewhere is offered."""

from __future__ import annotations

from window_helpers import WAIT_MS, make_run, show


def test_views_follow_what_others_write_to_the_notebook(open_window, isolated_dirs, qtbot):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    pane = window.area.panes[1]
    assert pane.annotations is not None and pane.annotations.label_names() == set()
    notebook = opened.workspace.notebook  # the window's own notebook, written as a judge or script in this process would

    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        notebook.annotations.add_label(pane.response_id, "hard_refusal", annotator="colleague")
    assert pane.annotations.label_names() == {"hard_refusal"}

    with qtbot.waitSignal(window.historyLoaded, timeout=WAIT_MS):
        other = notebook.create_run("Asked from the terminal")
    assert window.history.run_ids[0] == other and run_id in window.history.run_ids

    with qtbot.waitSignal(window.annotating.labelsLoaded, timeout=WAIT_MS):
        notebook.labels.create("my_label", annotator="colleague", title="Mine", colour="#336699", definition="A label of our own.")
    assert "my_label" in [label.name for label in window.annotating.labels]

    with qtbot.waitSignal(window.annotating.sessionsLoaded, timeout=WAIT_MS):
        notebook.sessions.create("Made elsewhere", annotator="colleague")
    assert "Made elsewhere" in [session.name for session in window.annotating.sessions.sessions]


def test_the_window_stops_listening_when_it_closes(open_window, isolated_dirs, qtbot):
    opened = open_window([])
    window = opened.window
    qtbot.waitUntil(lambda: window.notebook_events.listening, timeout=WAIT_MS)
    window.close()
    assert not window.notebook_events.listening
