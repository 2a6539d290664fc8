"""The real starter pair in the real window: what a new user sees first."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from window_helpers import run_and_wait

from workbench.core.engine.backend import ANSWERED
from workbench.core.engine.params import GenerationParams
from workbench.ui.shell.app import run_window
from workbench.ui.shared.preferences import Preferences
from workbench.ui.compare.prompt_bar import SAMPLE_PROMPT

pytestmark = pytest.mark.starter

SHORT = GenerationParams(max_tokens=16, n_threads=2)


def test_first_launch_opens_the_starter_pair_ready_to_run(open_window, starter_ready, qtbot):
    opened = open_window(with_starter=True, params=SHORT, timeout=600_000)
    window = opened.window
    us, cn = window.area.panes
    assert "smollm2" in us.entry.name.lower() and us.origin_label.text() == "US · Hugging Face"
    assert "qwen" in cn.entry.name.lower() and cn.origin_label.text() == "CN · Alibaba (Qwen team)"
    assert window.prompt_bar.prompt_text == SAMPLE_PROMPT

    outcome = run_and_wait(qtbot, window, timeout=600_000)
    rows = opened.workspace.notebook.run(outcome.run_id)["responses"]
    assert [row["origin_country"] for row in rows] == ["US", "CN"]
    for pane, row in zip(window.area.panes, rows):
        assert row["finish_reason"] in ANSWERED
        assert pane.answer_text == row["text"] != ""


def test_screenshot_of_the_starter_pair(starter_ready, tmp_path, monkeypatch):
    monkeypatch.setattr(Preferences, "shared_params", property(lambda self: SHORT, lambda self, value: None))
    target = tmp_path / "starter.png"
    assert run_window(None, [], target, None, []) == 0
    assert not QImage(str(target)).isNull()
