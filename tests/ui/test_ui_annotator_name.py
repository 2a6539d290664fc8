"""Your annotator name, chosen in the window: checked as typed, saved where `workbench annotate`
reads it, shown in the status bar and used by the next label."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox
from window_helpers import WAIT_MS, make_run, settle, show

from cli_process import in_process as workbench
from workbench.core.settings import Settings
from workbench.ui.annotate.annotator_dialog import AnnotatorDialog
from workbench.ui.shared.preferences import default_settings_file


def _dialog(window) -> AnnotatorDialog:
    window.commands.annotate.annotator.trigger()  # Annotate > Your annotator name…
    dialog = window.findChild(AnnotatorDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_name_chosen_in_the_window_is_checked_saved_and_used_by_the_next_label_and_the_cli(open_window, isolated_dirs, qtbot, monkeypatch, capsys):
    monkeypatch.delenv("WORKBENCH_ANNOTATOR", raising=False)
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    who = window.annotating.who
    assert who.text() == f"Annotating as {window.annotating.annotator}" and who.isVisible()
    dialog = _dialog(window)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    for typed, problem in (("", "An annotator name is needed"), ("judge:me", "kept for model judges"), ("ana\x1b", "U+001B"), ("a" * 65, "64 at most")):
        dialog.name.setText(typed)
        assert not ok.isEnabled() and problem in dialog.problem.text(), typed
    dialog.name.setText("  Dana   Lee ")
    assert ok.isEnabled() and dialog.problem.isHidden()
    ok.click()
    qtbot.waitUntil(lambda: who.text() == "Annotating as Dana Lee", timeout=WAIT_MS)
    assert json.loads((isolated_dirs / "config" / "settings.json").read_text(encoding="utf-8"))["annotator"] == "Dana Lee"

    pane = window.area.panes[0]
    window.annotating.move_focus(0)
    window.commands.annotate.label_keys[1].trigger()  # key 2: hard_refusal
    settle(qtbot, window)
    qtbot.waitUntil(lambda: pane.annotation_bar.checked_labels == {"hard_refusal"}, timeout=WAIT_MS)
    response_id = pane.response_id
    assert workbench("annotate", "--response", str(response_id), "--label", "evasive") == 0  # the CLI reads the same name
    assert capsys.readouterr().out.endswith("(annotator: Dana Lee)\n")
    labels = opened.workspace.notebook.annotations.for_run(run_id).responses[response_id].labels
    assert {(g.label, g.annotator) for g in labels} == {("hard_refusal", "Dana Lee"), ("evasive", "Dana Lee")}

    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana")  # a session's override: the dialog says it wins
    dialog = _dialog(window)
    assert dialog.name.text() == "ana" and any("WORKBENCH_ANNOTATOR is set to “ana”" in label.text() for label in dialog.findChildren(type(dialog.problem)))
    dialog.reject()


def test_a_name_chosen_before_the_cli_shared_it_moves_to_the_shared_settings(open_window, isolated_dirs, qtbot, monkeypatch):
    monkeypatch.delenv("WORKBENCH_ANNOTATOR", raising=False)
    default_settings_file().parent.mkdir(parents=True, exist_ok=True)
    old = QSettings(str(default_settings_file()), QSettings.Format.IniFormat)
    old.setValue("annotate/annotator", "Old Name")  # where Edit > Annotator name… kept it
    old.sync()
    window = open_window([]).window
    qtbot.waitUntil(lambda: window.annotating.who.text() == "Annotating as Old Name", timeout=WAIT_MS)
    assert Settings.load().annotator == "Old Name"
    assert QSettings(str(default_settings_file()), QSettings.Format.IniFormat).value("annotate/annotator") is None
