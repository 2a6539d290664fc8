"""Annotating in the window: labels by keyboard, highlights that survive a restart, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from window_helpers import US_TEXT, WAIT_MS, close, make_run, settle, show

from workbench.core.notebook import open_notebook
from workbench.ui.panes.highlights import marked_texts

def test_number_keys_label_the_focused_pane(open_window, isolated_dirs, qtbot, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana")
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    second = window.area.panes[1]
    window.annotating.move_focus(1)  # F6's action: the second pane
    assert window.annotating.current_pane is second
    qtbot.keyClick(second.answer_view, Qt.Key.Key_2)  # hard_refusal
    settle(qtbot, window)
    qtbot.keyClick(second.answer_view, Qt.Key.Key_3)  # evasive
    settle(qtbot, window)
    nb = opened.workspace.notebook
    labels = nb.annotations.for_run(run_id).responses[second.response_id].labels
    assert {(label.label, label.annotator) for label in labels} == {("hard_refusal", "ana"), ("evasive", "ana")}
    assert second.annotation_bar.checked_labels == {"hard_refusal", "evasive"}
    assert window.area.panes[0].annotation_bar.checked_labels == set()
    # The same key again takes it off.
    qtbot.keyClick(second.answer_view, Qt.Key.Key_3)
    settle(qtbot, window)
    assert nb.annotations.for_run(run_id).responses[second.response_id].label_names() == {"hard_refusal"}
    # Typing a digit in the prompt box types it: no label.
    window.prompt_bar.prompt.setFocus()
    qtbot.keyClick(window.prompt_bar.prompt, Qt.Key.Key_5)
    settle(qtbot, window)
    assert "5" in window.prompt_bar.prompt_text
    assert nb.annotations.for_run(run_id).responses[second.response_id].label_names() == {"hard_refusal"}


def test_undo_and_redo_a_label(open_window, isolated_dirs, qtbot):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    pane = window.area.panes[0]
    pane.answer_view.setFocus()
    qtbot.keyClick(pane.answer_view, Qt.Key.Key_1)
    settle(qtbot, window)
    assert pane.annotation_bar.checked_labels == {"answered"}
    assert "Answered" in window.commands.annotate.undo.text()
    window.commands.annotate.undo.trigger()
    qtbot.waitUntil(lambda: pane.annotation_bar.checked_labels == set(), timeout=WAIT_MS)
    assert opened.workspace.notebook.annotations.for_run(run_id).responses[pane.response_id].labels == ()
    assert window.commands.annotate.redo.isEnabled()
    window.commands.annotate.redo.trigger()
    qtbot.waitUntil(lambda: pane.annotation_bar.checked_labels == {"answered"}, timeout=WAIT_MS)


def test_a_highlight_stays_on_its_characters_after_a_restart(open_window, isolated_dirs, qtbot):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    pane = window.area.panes[0]
    view = pane.answer_view
    shown = view.document().toPlainText()
    assert "**" not in shown  # rendered: the markup is gone, so screen positions differ from stored ones
    start = shown.index("army cleared")
    cursor = view.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len("army cleared the square"), QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    view.setFocus()
    dialog = window.annotating.highlight_selection()
    assert dialog is not None
    dialog.labels.setFocus()
    qtbot.keyClick(dialog.labels, Qt.Key.Key_7)  # factual_error, by number key in the dialog too
    dialog.note.setPlainText("The army's role, in *one* line.")
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        dialog.accept()
    (span,) = opened.workspace.notebook.annotations.for_run(run_id).responses[pane.response_id].spans
    assert US_TEXT[span.start : span.end] == span.quote == "army **cleared** the square"
    assert span.labels == ("factual_error",)
    qtbot.waitUntil(lambda: marked_texts(view) == ["army cleared the square"], timeout=WAIT_MS)
    close(opened)

    again = open_window([])
    show(qtbot, again.window, run_id)
    pane = again.window.area.panes[0]
    qtbot.waitUntil(lambda: marked_texts(pane.answer_view) == ["army cleared the square"], timeout=WAIT_MS)
    assert pane.annotation_bar.spans.count() == 1
    assert "Factual error" in pane.annotation_bar.spans.item(0).text()


def test_a_highlight_whose_text_changed_is_shown_as_such(open_window, isolated_dirs, qtbot):
    path = isolated_dirs / "notebook.sqlite"
    run_id = make_run(path)
    nb = open_notebook(path)
    response_id = nb.run(run_id)["responses"][0]["id"]
    start = US_TEXT.index("Many people")
    nb.annotations.add_span(response_id, "text", start, start + len("Many people"), annotator="ana")
    nb.finish_response(response_id, text="Rewritten. " + US_TEXT)  # the text moved under the highlight
    nb.close()
    window = open_window([]).window
    show(qtbot, window, run_id)
    bar = window.area.panes[0].annotation_bar
    assert bar.spans.count() == 1 and bar.spans.item(0).text().startswith("⚠ text changed")


def test_notes_and_the_run_verdict_are_saved(open_window, isolated_dirs, qtbot, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana")
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    pane = window.area.panes[1]
    pane.annotation_bar.note.editor.setPlainText("Declines: <b>not bold</b>")
    window.commands.annotate.rate["substantive"].trigger()  # Alt+3
    window.annotating.strip.summary.setText("Qwen declines, SmolLM2 answers")
    window.annotating.strip.summary.editingFinished.emit()
    qtbot.waitUntil(lambda: window.annotating.strip.divergence == "substantive", timeout=WAIT_MS)
    pane.annotation_bar.note.flush()
    settle(qtbot, window)
    found = opened.workspace.notebook.annotations.for_run(run_id)
    assert [(a.divergence, a.summary, a.annotator) for a in found.assessments] == [("substantive", "Qwen declines, SmolLM2 answers", "ana")]
    assert [n.body for n in found.responses[pane.response_id].notes] == ["Declines: <b>not bold</b>"]
    pane.annotation_bar.note.preview_button.setChecked(True)
    qtbot.waitUntil(lambda: not pane.annotation_bar.note.preview.rendering, timeout=WAIT_MS)
    assert "<b>not bold</b>" in pane.annotation_bar.note.preview.toPlainText()  # raw HTML stays text
