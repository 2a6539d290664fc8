"""No models yet: the window says how to add one and what it found in other apps' folders."""

from __future__ import annotations

import dataclasses

from gguf_factory import write_tiny_model, write_truncated
from window_helpers import WAIT_MS

from workbench.core import starter
from workbench.ui.library.controller import STARTER_NOTICE


def test_empty_state_explains_how_to_add_a_model(open_window, tmp_path, qtbot):
    window = open_window([]).window
    assert window.stack.currentWidget() is window.empty_state
    assert not window.prompt_bar.isVisibleTo(window)
    assert not window.commands.run.run.isEnabled()
    assert "not searched" in window.empty_state.findings.text()

    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        window.library_control.open_model_file(write_tiny_model(tmp_path / "First.gguf", name="First Model"))
    assert window.stack.currentWidget() is window.area
    assert window.prompt_bar.isVisibleTo(window)
    assert window.area.panes[0].entry.name == "First Model"
    assert window.commands.run.run.isEnabled()


def test_empty_state_reports_other_apps_folders(open_window, isolated_home, tmp_path):
    (isolated_home / ".lmstudio" / "models").mkdir(parents=True)
    snapshot = isolated_home / ".cache" / "huggingface" / "hub" / "models--someone--broken" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    good = write_tiny_model(tmp_path / "whole.gguf")
    write_truncated(snapshot / "broken.Q4_0.gguf", good)

    window = open_window([], include_other_apps=True).window
    assert window.stack.currentWidget() is window.empty_state
    lines = window.empty_state.findings.text().splitlines()
    assert lines[0] == f"LM Studio: nothing in {isolated_home / '.lmstudio' / 'models'}"
    assert lines[1] == "Ollama: not installed here"
    assert lines[2] == "Hugging Face: 1 model(s) found, 0 can load"
    assert lines[3].startswith("    ") and "truncated" in lines[3]
    assert lines[-1] == "GPT4All: not installed here"


def test_missing_starter_is_explained(open_window, monkeypatch):
    missing = dataclasses.replace(starter.STARTER_MODELS[0], parts=(starter.Part("no-such-distribution-xyz", "x.gguf"),))
    monkeypatch.setattr(starter, "STARTER_MODELS", (missing,))
    window = open_window([], with_starter=True).window
    assert window.empty_state.starter_problems.isVisibleTo(window)
    assert "no-such-distribution-xyz is not installed" in window.empty_state.starter_problems.text()


def test_half_the_starter_pair_is_said_when_the_window_opens(open_window, starter_ready, monkeypatch):
    """One pane of the pair must not pass for the comparison: the message bar names the missing model."""
    us, cn = starter.STARTER_MODELS
    gone = dataclasses.replace(us, parts=(starter.Part("no-such-distribution-xyz", "x.gguf"),))
    monkeypatch.setattr(starter, "STARTER_MODELS", (gone, cn))
    window = open_window(with_starter=True).window
    assert window.area.panes[0].entry.name == "Qwen2.5-Coder-0.5B-Instruct"
    assert all(pane.entry is None or pane.entry.name != us.name for pane in window.area.panes)
    notice = window.messages.notices[STARTER_NOTICE].label.text()
    assert notice.startswith("Only Qwen2.5-Coder-0.5B-Instruct of the starter pair is ready; SmolLM2-135M-Instruct is missing. ")
    assert "no-such-distribution-xyz is not installed" in notice


def test_the_whole_pair_opens_without_that_note(open_window, starter_ready):
    window = open_window(with_starter=True).window
    assert [pane.entry.name for pane in window.area.panes] == ["SmolLM2-135M-Instruct", "Qwen2.5-Coder-0.5B-Instruct"]
    assert STARTER_NOTICE not in window.messages.notices


def test_with_starters_turned_off_it_says_how_else_to_add_a_model(open_window, tmp_path):
    """WORKBENCH_NO_STARTER: no advice to install the starter pair, but the folders a model can go in."""
    from workbench.core.paths import models_dir

    own = tmp_path / "my-models"
    own.mkdir()
    window = open_window([own], with_starter=False).window
    text = window.empty_state.ways_in.text()
    assert "pip install" not in text and "WORKBENCH_NO_STARTER is set" in text
    assert text.endswith(f"then Rescan models (F5): {models_dir()}, {own}.")
    assert "Open a GGUF file or add a folder" in text


def test_with_starters_on_it_offers_the_starter_pair(open_window, monkeypatch):
    monkeypatch.setattr(starter, "STARTER_MODELS", ())  # offered, not prepared: no 491 MB join in a test
    window = open_window([], with_starter=True).window
    assert f"comes from PyPI. {starter.SOURCE_HINT}" in window.empty_state.ways_in.text()


def test_the_desktop_app_offers_downloads_not_a_source_install(monkeypatch):
    """A frozen app can't take pip's starter packages: Get models…, pull or a folder instead."""
    from workbench.ui.library.empty_state import ways_in_text

    monkeypatch.setattr("sys.frozen", True, raising=False)
    text = ways_in_text(True, ())
    assert text.endswith(starter.APP_HINT) and "Get models…" in text
    assert "make" not in text.split() and "pip" not in text
