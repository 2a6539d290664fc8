"""The window's views follow the notebook's announcements, whoever wrote: a label given
outside the window shows on the answer, a run made elsewhere is listed, a new label joins
the label bar, and a session made elsewhere is offered."""

from __future__ import annotations

from window_helpers import WAIT_MS, make_run, show

from workbench.core.notebook import open_notebook
from workbench.ui.shared.context import NotebookEvents


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


def test_only_watched_tables_reach_the_window_and_a_burst_arrives_as_one_change(qtbot, tmp_path):
    """A streamed answer's text, saved every second, is no view's business: it must not
    wake the GUI thread. Commits made before the GUI thread takes the last one arrive
    merged, one wake-up for the burst."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    events = NotebookEvents()
    events.watch({"runs", "labels"})
    delivered: list = []
    events.changed.connect(delivered.append)
    events.listen(notebook)
    try:
        run_id = notebook.create_run("A question")  # watched (with its first turn)
        response_id = notebook.add_response(run_id, 0, model_name="m", model_sha256=None, origin_country=None, seed=1, sampler={})
        notebook.save_partials([(response_id, "Some text", "", "[]")])  # not watched
        notebook.labels.create("mine", annotator="ana", title="Mine")  # watched
        qtbot.waitUntil(lambda: bool(delivered), timeout=WAIT_MS)
        qtbot.wait(50)  # nothing else is on its way
        assert len(delivered) == 1
        assert delivered[0].tables == {"runs", "turns", "labels"} and delivered[0].run_ids == {run_id}
        notebook.save_partials([(response_id, "Some more text", "", "[]")])
        qtbot.wait(50)
        assert len(delivered) == 1  # a change to no watched table never arrives
    finally:
        events.stop()
        notebook.close()
