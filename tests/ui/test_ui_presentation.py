"""Presenting to a class: full screen and back, blind comparison and reveal, the audience vote, labels shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QTextCursor
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QDockWidget, QLabel, QProgressBar
from window_helpers import WAIT_MS, make_run, run_and_wait, show

from workbench.core.notebook.votes import TIE
from workbench.core.notebook import open_notebook
from workbench.ui.shared import theme
from workbench.ui.classroom.presentation import presentation_points

NAMES = ("SmolLM2", "Qwen2.5", "US", "CN", "China", "United States")


def visible_texts(parent) -> str:
    """Every text a pane (or the window) shows outside the answers: labels, buttons, model pickers."""
    texts = []
    for widget in parent.findChildren(QLabel) + parent.findChildren(QAbstractButton) + parent.findChildren(QComboBox):
        if not widget.isVisibleTo(parent):
            continue
        texts.append(widget.currentText() if isinstance(widget, QComboBox) else widget.text())
        texts.append(widget.toolTip())
    return "\n".join(texts)


def docks_shown(window) -> dict[str, bool]:
    return {dock.objectName(): dock.isVisible() for dock in window.findChildren(QDockWidget)}


def settle(qtbot, window) -> None:
    """Qt lays docks out lazily: wait until the dock state stops changing (the tab behind
    a hidden dock moves in a few events later)."""
    last: list[bytes] = []

    def stable() -> bool:
        now = bytes(window.saveState())
        same = bool(last) and last[-1] == now
        last.append(now)
        return same

    qtbot.waitUntil(stable)


def key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key as a presenter types it: with an answer focused (the prompt box would take letters as text)."""
    qtbot.keyClick(window.area.panes[0].answer_view, key, modifier)


def test_presenting_hides_the_workbench_and_leaving_puts_it_back_exactly(open_window, qtbot, tiny_models):
    window = open_window([tiny_models]).window
    window.appearance.set_theme(theme.LIGHT)
    window.appearance.set_points(13)
    window.history_dock.hide()  # a layout of the user's own
    # Offscreen the screen is smaller than the window: it first grows to its minimum size.
    qtbot.waitUntil(lambda: window.size() == window.size().expandedTo(window.minimumSizeHint()))
    settle(qtbot, window)
    before = (window.saveState(), window.saveGeometry(), docks_shown(window), window.prefs.theme, window.prefs.font_size)
    assert window.menuBar().isVisible() and window.annotating.strip.isVisible()

    key(qtbot, window, Qt.Key.Key_F11)
    assert window.presentation.active and window.isFullScreen()
    assert not any(docks_shown(window).values())
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible() and not window.annotating.strip.isVisible()
    assert window.prompt_bar.isVisible() and all(p.isVisible() for p in window.area.panes)
    assert not window.area.panes[0].settings_button.isVisible() and not window.area.panes[0].rerun_button.isVisible()
    assert window.appearance.points == presentation_points(window.width(), window.height()) > 13
    assert window.area.panes[0].answer_view.font().pointSizeF() == window.appearance.points
    assert QApplication.palette().color(QPalette.ColorRole.Text).name() == "#000000"
    assert QApplication.palette().color(QPalette.ColorRole.Base).name() == "#ffffff"
    assert "Esc or F11: leave" in window.presentation.keys.text() and window.presentation.keys.isVisible()
    assert (window.prefs.theme, window.prefs.font_size) == before[3:]  # nothing of it is remembered

    key(qtbot, window, Qt.Key.Key_Escape)
    assert not window.presentation.active and not window.isFullScreen()
    assert (window.saveState(), window.saveGeometry(), docks_shown(window)) == before[:3]
    assert window.appearance.points == 13 and window.area.panes[0].answer_view.font().pointSizeF() == 13
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == theme.colors(theme.LIGHT)["window"]
    assert window.menuBar().isVisible() and window.statusBar().isVisible() and window.annotating.strip.isVisible()
    assert window.area.panes[0].settings_button.isVisible() and not window.presentation.panel.isVisible()

    key(qtbot, window, Qt.Key.Key_F11)  # F11 leaves as well, and closing while presenting saves the workbench as it was
    assert window.presentation.active
    key(qtbot, window, Qt.Key.Key_F11)
    assert not window.presentation.active
    key(qtbot, window, Qt.Key.Key_F11)
    window.close()
    assert (window.prefs.window_state, window.prefs.geometry, window.prefs.font_size) == (before[0], before[1], 13)


def test_type_follows_the_window_size():
    assert presentation_points(1920, 1080) == 22
    assert presentation_points(1280, 720) == 14.5
    assert presentation_points(1280, 1080) == presentation_points(1280, 720)  # the narrower side decides
    assert presentation_points(3840, 2160) == 36  # the largest size the window offers


def test_esc_stops_a_run_while_presenting_and_leaves_after(open_window, qtbot, tiny_models):
    window = open_window([tiny_models]).window
    window.presentation.enter()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        window.commands.run.run.trigger()
        assert "Esc: stop the run" in window.presentation.keys.text()
        assert window.commands.run.stop.isEnabled() and not window.commands.present.leave.isEnabled()
        key(qtbot, window, Qt.Key.Key_Escape)
    assert window.presentation.active  # Esc stopped the run; it did not leave
    assert window.commands.present.leave.isEnabled() and "Esc or F11: leave" in window.presentation.keys.text()
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not window.presentation.active


def test_blind_names_hide_the_models_until_revealed(open_window, isolated_dirs, qtbot, tiny_models):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    other_run = make_run(isolated_dirs / "notebook.sqlite", prompt="Who are you?")
    window = open_window([tiny_models]).window
    show(qtbot, window, run_id)
    first, second = window.area.panes
    assert "SmolLM2" in visible_texts(first)
    key(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.commands.present.blind.isChecked()
    assert (first.blind_label.text(), second.blind_label.text()) == ("Model A", "Model B")
    for pane in (first, second):
        assert not any(name in visible_texts(pane) for name in NAMES), visible_texts(pane)
    assert "cleared" in first.answer_text  # the answers themselves are untouched
    assert not window.presentation.blind.bar.result.isVisible()

    key(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.ShiftModifier)  # Shift+2: the second pane only
    assert second.blind_label.text() == "Model B: Qwen2.5" and second.origin_badge.text() == "CN · China"
    assert "SmolLM2" not in visible_texts(first) and first.reveal_button.isVisible()
    qtbot.mouseClick(first.reveal_button, Qt.MouseButton.LeftButton)
    assert first.blind_label.text() == "Model A: SmolLM2" and first.origin_badge.text() == "US · United States"
    assert not first.reveal_button.isVisible()

    # The same run again (a replay ends so): still revealed. Its annotations are awaited too,
    # or their late signal would end the wait for the next run's.
    with qtbot.waitSignals([window.runShown, window.annotating.annotationsShown], timeout=WAIT_MS):
        window.comparing.show_run(run_id)
    assert not first.hidden_identity and not second.hidden_identity
    show(qtbot, window, other_run)  # another run is a new round: blind again
    assert first.hidden_identity and second.hidden_identity
    key(qtbot, window, Qt.Key.Key_R)
    assert not first.hidden_identity and not second.hidden_identity
    key(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert first.picker.isVisible() and not first.blind_label.isVisible() and "SmolLM2" in visible_texts(first)


def test_votes_are_saved_with_the_run_and_the_result_waits_for_the_reveal(open_window, qtbot, tiny_models, isolated_dirs, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana")
    opened = open_window([tiny_models])
    window = opened.window
    window.commands.present.blind.setChecked(True)
    window.presentation.enter()
    outcome = run_and_wait(qtbot, window)
    bar = window.presentation.blind.bar
    qtbot.waitUntil(lambda: bar.tally is not None and bar.tally.run_id == outcome.run_id, timeout=WAIT_MS)
    assert bar.choices == ["pane:0", "pane:1", TIE]
    shown = visible_texts(window)
    assert "Model A" in shown and not any(name in shown for name in ("SmolLM2", "Qwen2.5", "China", "United States")), shown

    def vote(action) -> None:
        with qtbot.waitSignal(window.presentation.blind.tallyShown, timeout=WAIT_MS):
            action()

    vote(lambda: qtbot.mouseClick(bar.buttons["pane:0"], Qt.MouseButton.LeftButton))
    vote(lambda: qtbot.mouseClick(bar.buttons["pane:0"], Qt.MouseButton.LeftButton))
    vote(lambda: qtbot.mouseClick(bar.buttons["pane:0"], Qt.MouseButton.RightButton))  # takes one back
    vote(lambda: (key(qtbot, window, Qt.Key.Key_V), key(qtbot, window, Qt.Key.Key_B)))
    vote(lambda: (key(qtbot, window, Qt.Key.Key_V), key(qtbot, window, Qt.Key.Key_T)))
    vote(lambda: (key(qtbot, window, Qt.Key.Key_V), key(qtbot, window, Qt.Key.Key_T)))
    vote(lambda: qtbot.mouseClick(bar.buttons[TIE], Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier))
    vote(lambda: (key(qtbot, window, Qt.Key.Key_V), key(qtbot, window, Qt.Key.Key_B)))
    vote(lambda: (key(qtbot, window, Qt.Key.Key_V), key(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)))
    expected = {"pane:0": 1, "pane:1": 1, TIE: 1}
    assert bar.tally.counts == expected
    assert [b.text() for b in bar.buttons.values()] == ["Model A · 1", "Model B · 1", "Tie · 1"]

    fresh = open_notebook(opened.workspace.db_path)
    try:
        tally = fresh.votes.tally(outcome.run_id)
        assert tally.counts == expected and set(tally.by_annotator) == {"ana"}
    finally:
        fresh.close()

    assert not bar.result.isVisible()  # the result names the models: not before every pane is revealed
    key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ShiftModifier)
    assert not bar.result.isVisible()
    key(qtbot, window, Qt.Key.Key_R)
    assert bar.result.isVisible() and bar.result_title.text() == "Result · 3 votes"
    names = [f"{p.identity.name}, {'China' if p.identity.country == 'CN' else 'United States'}" for p in window.area.panes]
    assert bar.result.accessibleDescription() == f"A ({names[0]}): 1 · B ({names[1]}): 1 · tie: 1"
    assert [(b.value(), b.maximum()) for b in bar.result.findChildren(QProgressBar)] == [(1, 3)] * 3

    run_and_wait(qtbot, window)  # a new run: a new round, with votes of its own
    qtbot.waitUntil(lambda: bar.tally is not None and bar.tally.run_id != outcome.run_id, timeout=WAIT_MS)
    assert bar.tally.total == 0 and all(p.hidden_identity for p in window.area.panes) and not bar.result.isVisible()


def test_labels_and_highlights_shown_or_hidden_with_one_key(open_window, isolated_dirs, qtbot, tiny_models):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    nb = open_notebook(isolated_dirs / "notebook.sqlite")
    response_id = nb.run(run_id)["responses"][0]["id"]
    nb.annotations.toggle_label(response_id, "hard_refusal", annotator="ana")
    nb.annotations.add_span(response_id, "text", 4, 12, annotator="ana")
    nb.close()
    window = open_window([tiny_models]).window
    show(qtbot, window, run_id)
    pane = window.area.panes[0]
    assert pane.annotation_bar.isVisible() and pane.answer_view.extraSelections()
    window.presentation.enter()
    assert not window.commands.present.show_labels.isChecked()
    assert not pane.annotation_bar.isVisible() and not pane.answer_view.extraSelections()
    key(qtbot, window, Qt.Key.Key_L)
    assert pane.annotation_bar.isVisible() and pane.answer_view.extraSelections()
    assert pane.annotation_bar.labels_by_others == {"hard_refusal"}  # ana's, not the login name's
    key(qtbot, window, Qt.Key.Key_L)
    assert not pane.annotation_bar.isVisible()
    window.presentation.leave()
    assert pane.annotation_bar.isVisible() and pane.answer_view.extraSelections()


def test_vote_keys_work_right_after_ctrl_enter_while_presenting(open_window, qtbot, tiny_models):
    """Issue 17, item 2: Ctrl+Enter in the prompt box, then V, A votes for Model A; the
    letters are not typed into the prompt ("Answer briefly.va")."""
    window = open_window([tiny_models]).window
    window.commands.present.blind.setChecked(True)
    window.presentation.enter()
    window.activateWindow()
    prompt = window.prompt_bar.prompt
    prompt.setPlainText("Answer briefly.")
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    bar = window.presentation.blind.bar
    qtbot.waitUntil(lambda: bar.tally is not None, timeout=WAIT_MS)
    typed_into = QApplication.focusWidget()  # where the presenter's next keys go
    with qtbot.waitSignal(window.presentation.blind.tallyShown, timeout=WAIT_MS, raising=False):
        qtbot.keyClick(typed_into, Qt.Key.Key_V)
        qtbot.keyClick(typed_into, Qt.Key.Key_A)
    assert prompt.toPlainText() == "Answer briefly."
    assert bar.tally.counts["pane:0"] == 1
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_R)
    assert window.presentation.blind.all_revealed


def test_letters_typed_into_the_prompt_outside_presentation_stay_text(open_window, qtbot, tiny_models):
    window = open_window([tiny_models]).window
    window.commands.present.blind.setChecked(True)  # blind, but at the desk: the prompt box is for typing
    window.activateWindow()
    prompt = window.prompt_bar.prompt
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    run_and_wait(qtbot, window)
    assert prompt.hasFocus()
    prompt.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(prompt, "var")
    assert prompt.toPlainText().endswith("var") and not window.presentation.blind.all_revealed
