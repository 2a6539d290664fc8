"""`run_window`, as the CLI calls it: the screenshot mode's success and failure."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from window_helpers import TINY_PARAMS

from workbench.core import starter
from workbench.core.notebook import open_notebook
from workbench.ui.shell.app import run_window
from workbench.ui.shared.preferences import Preferences
from workbench.ui.shell.screenshot import SIZE


@pytest.fixture
def tiny_settings(monkeypatch):
    """Screenshot runs use fresh preferences; make their settings the tiny models' ones,
    and keep the real starter pair out of these fast tests."""
    monkeypatch.setattr(Preferences, "shared_params", property(lambda self: TINY_PARAMS, lambda self, value: None))
    monkeypatch.setattr(starter, "STARTER_MODELS", ())


def test_screenshot_runs_the_prompt_and_saves_the_window(tiny_models, tiny_settings, tmp_path, isolated_dirs):
    target = tmp_path / "shots" / "window.png"
    target.parent.mkdir()  # a missing folder is refused, not created (core/user_files.py)
    code = run_window(None, [tiny_models], target, "Hello there", ["smollm2-tiny", str(tiny_models / "Qwen2.5-Tiny.gguf")])
    assert code == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == SIZE
    notebook = open_notebook(isolated_dirs / "notebook.sqlite")
    try:
        (run,) = notebook.recent_runs()
        assert run["prompt"] == "Hello there"
        assert run["models"] == "SmolLM2 Tiny · Qwen2.5 Tiny"
    finally:
        notebook.close()


def test_screenshot_takes_the_answers_length(tiny_models, tiny_settings, tmp_path, isolated_dirs):
    """`--max-tokens N`: the screenshot's run asks for N tokens, not the shared settings' (512 for a user)."""
    assert TINY_PARAMS.max_tokens != 5
    assert run_window(None, [tiny_models], tmp_path / "window.png", "Hello there", ["smollm2-tiny"], max_tokens=5) == 0
    notebook = open_notebook(isolated_dirs / "notebook.sqlite")
    try:
        (summary,) = notebook.recent_runs()
        (response,) = notebook.run(summary["id"])["responses"]
        assert response["sampler"]["max_tokens"] == 5 and response["completion_tokens"] <= 5
    finally:
        notebook.close()


def test_screenshot_fails_with_a_reason(tiny_models, tiny_settings, tmp_path, capfd):
    target = tmp_path / "window.png"
    assert run_window(None, [tiny_models], target, None, ["no-such-model"]) == 1
    assert "No model matches 'no-such-model'" in capfd.readouterr().err
    assert not target.exists()


def test_screenshot_without_the_starter_pair_fails(tiny_models, tiny_settings, tmp_path, capfd):
    assert run_window(None, [tiny_models], tmp_path / "window.png", None, []) == 1
    assert "starter pair is not ready" in capfd.readouterr().err


def test_screenshot_reports_a_model_that_failed(tiny_models, tiny_settings, tmp_path, capfd):
    from gguf_factory import write_tiny_model

    broken = write_tiny_model(tmp_path / "Broken.gguf", name="Broken", architecture="nonexistent")
    target = tmp_path / "window.png"
    assert run_window(None, [tiny_models], target, None, ["smollm2-tiny", str(broken)]) == 1
    assert "not every model answered" in capfd.readouterr().err
    assert target.exists()  # saved anyway, to see what went wrong


def test_the_window_freezes_its_startup_objects_for_the_garbage_collector(tiny_models, tiny_settings, tmp_path, isolated_dirs, monkeypatch):
    """A full collection over Qt's long-lived objects stalls the event loop for ~60 ms; frozen, they are skipped."""
    import gc

    from PySide6.QtWidgets import QApplication

    frozen: list[int] = []
    monkeypatch.setattr(QApplication, "exec", lambda self: frozen.append(gc.get_freeze_count()) or 0)
    run_window(None, [tiny_models], tmp_path / "never-taken.png", None, ["smollm2-tiny"])
    assert frozen and frozen[0] > 10_000  # while the window runs
    assert gc.get_freeze_count() == 0  # and given back when it closes
