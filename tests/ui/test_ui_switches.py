"""The window's thinking and reasoning-effort switches: shared and per pane, remembered,
recorded, and a pane whose model's template ignores one says so."""

from __future__ import annotations

from window_helpers import run_and_wait

from workbench.core.catalog import Catalog
from workbench.core.comparison import ResponseOutcome
from workbench.core.engine.backend import GenerationResult
from workbench.core.engine.params import GenerationParams
from workbench.ui.compare.settings_form import SettingsForm
from workbench.ui.panes.pane import ComparePane

NOTE = "has no thinking switch; the setting had no effect."


def test_the_form_takes_and_gives_the_switches(qtbot) -> None:
    form = SettingsForm(GenerationParams(), offer_random_seed=False)
    qtbot.addWidget(form)
    assert (form.thinking.currentText(), form.reasoning_effort.currentText()) == ("Default", "Default")
    recorded = GenerationParams(thinking="off", reasoning_effort="high")
    form.set_params(recorded)
    assert form.params() == recorded
    form.thinking.setCurrentIndex(form.thinking.findData("on"))
    assert form.params().thinking == "on"


def test_a_pane_s_own_switch_is_used_recorded_remembered_and_its_no_effect_said(open_window, tiny_models, qtbot) -> None:
    """The tiny models' ChatML template has no thinking switch."""
    opened = open_window([tiny_models])
    window = opened.window
    own_pane, shared_pane = window.area.panes
    dialog = window.setup.edit_pane_settings(own_pane)
    dialog.use_shared.setChecked(False)
    dialog.form.thinking.setCurrentIndex(dialog.form.thinking.findData("off"))
    dialog.ok_button.click()
    assert "thinking off" in own_pane.settings_label.text()
    assert window.ctx.prefs.pane_overrides[0].thinking == "off"
    window.settings_form.reasoning_effort.setCurrentIndex(window.settings_form.reasoning_effort.findData("low"))
    assert window.ctx.prefs.shared_params.reasoning_effort == "low"

    outcome = run_and_wait(qtbot, window)
    own, shared = opened.workspace.notebook.run(outcome.run_id)["responses"]
    assert own["sampler"]["thinking"] == "off" and own["sampler"]["no_effect"] == ["thinking"]
    assert shared["sampler"]["thinking"] == "default" and shared["sampler"]["no_effect"] == ["reasoning_effort"]
    assert own_pane.error_label.text() == f"{own['model_name']} {NOTE}"
    assert shared_pane.error_label.text() == f"{shared['model_name']} has no reasoning-effort switch; the setting had no effect."


def test_a_saved_answer_says_its_setting_had_no_effect(qtbot) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    saved = {"id": 7, "run_id": 3, "model_name": "Llama-3.1", "status": "done", "text": "Yes.", "reasoning": "",
             "sampler": {"thinking": "off", "no_effect": ["thinking"]}, "finish_reason": "stop", "error": None,
             "completion_tokens": 2, "tokens_per_s": None, "ttft_s": None}  # fmt: skip
    pane.show_saved(saved, "Run #3", "US")
    assert pane.error_label.text() == f"Llama-3.1 {NOTE}"
    pane.show_saved(saved | {"sampler": {"thinking": "off"}}, "Run #3", "US")
    assert not pane.error_box.isVisibleTo(pane)


def test_a_live_answer_s_note_follows_its_error(qtbot, tiny_model) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    entry = Catalog([], include_other_apps=False).resolve(tiny_model)
    result = GenerationResult(finish_reason="length", error=None, completion_tokens=3, no_effect=["thinking"])
    pane.on_finished(ResponseOutcome(0, 7, entry, "abc", "", result))
    assert pane.error_label.text() == f"{entry.name} {NOTE}"
