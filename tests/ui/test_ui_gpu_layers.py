"""GPU layers in the window (issue 20): the settings field and what its tooltip knows of
this llama.cpp, what ran each answer over a pane's figures, and what a model last ran on
in its details. The window never asks llama.cpp: it hears it from a model process."""

from __future__ import annotations

from window_helpers import WAIT_MS, run_and_wait

from workbench.core.engine.params import ALL_LAYERS, GenerationParams
from workbench.ui.compare.settings_form import PaneSettingsDialog, SettingsForm


def test_the_field_shows_all_or_a_count_and_gives_the_core_its_value(qapp) -> None:
    form = SettingsForm(GenerationParams(), offer_random_seed=False)
    assert form.gpu_layers.text() == "All" and form.params().gpu_layers == ALL_LAYERS
    for value in (0, 12, ALL_LAYERS):
        form.set_params(GenerationParams(gpu_layers=value))
        assert form.params().gpu_layers == value
    form.gpu_layers.setValue(7)
    assert form.params() == GenerationParams(gpu_layers=7)
    form.gpu_layers.stepDown()
    form.gpu_layers.stepBy(-7)
    assert form.gpu_layers.text() == "All" and form.params().gpu_layers == ALL_LAYERS  # below 0 is "All", never -1


def test_the_tooltip_says_what_the_last_model_process_said_of_this_llama_cpp(qapp) -> None:
    form = SettingsForm(GenerationParams(), offer_random_seed=False)
    assert "0 keeps the model on the CPU" in form.gpu_layers.toolTip()
    assert "unknown until a model loads" in form.gpu_layers.toolTip()
    form.set_gpu_backends([])
    assert "has no GPU backend it can use" in form.gpu_layers.toolTip()
    form.set_gpu_backends(["CUDA"])
    assert form.gpu_layers.toolTip().endswith("offloads to CUDA.")
    dialog = PaneSettingsDialog(GenerationParams(), GenerationParams(gpu_layers=3), "Qwen", gpu_backends=form.gpu_backends)
    assert dialog.form.gpu_layers.toolTip() == form.gpu_layers.toolTip() and dialog.override().gpu_layers == 3


def test_a_run_records_what_ran_each_answer_and_the_window_shows_it(open_window, tiny_models, qtbot) -> None:
    """Real tiny models: this machine's llama.cpp is a CPU build (the test says what it sees
    otherwise); the setting reaches each model's process and its report reaches the window."""
    import llama_cpp

    gpu = llama_cpp.llama_supports_gpu_offload()
    opened = open_window([tiny_models])
    window = opened.window
    smol = next(e for e in window.models.entries if e.name == "SmolLM2 Tiny")
    dialog = window.library_control.show_details(smol.id)
    qtbot.waitUntil(lambda: dialog.ran_on_value.text() != "reading…", timeout=WAIT_MS)
    assert dialog.ran_on_value.text() in ("not run yet", "found by its SHA-256: compute it to see")
    dialog.close()

    window.settings_form.gpu_layers.setValue(2)
    window.prompt_bar.prompt.setPlainText("Say hello")
    outcome = run_and_wait(qtbot, window)
    for pane, response in zip(window.area.panes, opened.workspace.notebook.run(outcome.run_id)["responses"]):
        assert response["sampler"]["gpu_layers"] == 2
        backend = response["sampler"]["ran_on"]["backend"]
        assert backend == "CPU" if not gpu else backend != "CPU"
        assert pane.status_label.toolTip() == (f"Ran on {backend}" if not gpu else f"Ran on {backend} (2 of 3 layers)")
    pane = window.area.panes[0]
    assert pane.settings_label.text().endswith(" · GPU layers 2")  # a setting other than "all" is named
    shown = pane.status_label.toolTip()
    pane.set_blind("A")
    assert pane.status_label.toolTip() == ""  # the layer count hints at the model
    pane.set_blind(None)
    assert pane.status_label.toolTip() == shown
    tip = window.settings_form.gpu_layers.toolTip()
    assert ("has no GPU backend it can use" in tip) if not gpu else ("offloads to" in tip)

    smol = next(e for e in window.models.entries if e.name == "SmolLM2 Tiny")  # hashed by the run
    dialog = window.library_control.show_details(smol.id)
    qtbot.waitUntil(lambda: dialog.ran_on_value.text() != "reading…", timeout=WAIT_MS)
    assert dialog.ran_on_value.text().startswith("CPU, " if not gpu else "")
    assert dialog.ran_on_value.text() != "not run yet"
