"""Batches window > Judge with a model…: the dialog, progress, the matrix and the agreement
filling in, and Cancel keeping what was judged. The judge's replies are scripted (the tiny
models write gibberish); the model is chosen from the real library."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fake_model import ScriptedJudgeModel
from batch_notebooks import JUDGE_SCRIPT, notebook_with_batch
from window_helpers import WAIT_MS

from workbench.core.analysis.agreement import AUTOMATIC_FLAGS
from workbench.ui.batches import judge_runner
from workbench.ui.batches.batch_view import CHIPS_ROLE, FIXED, BatchesWindow
from workbench.ui.batches.judge_dialog import JudgeDialog

CN = 1


@pytest.fixture
def judged_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """batch_notebooks' batch, and a judge whose model answers from `script` (blocking at `hold`)."""
    notebook, batch, ids = notebook_with_batch(tmp_path / "hand")
    notebook.annotations.add_label(ids[("q1-en", CN)], "hard_refusal", annotator="ana")
    notebook.close()
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "hand" / "nb.sqlite"))
    state: dict = {"script": list(JUDGE_SCRIPT), "hold": None, "models": [], "held": threading.Event()}

    def on_call(call: int, cancel) -> None:
        if call == state["hold"]:
            state["held"].set()
            cancel.wait(WAIT_MS / 1000)  # mid-answer until the user cancels

    def pooled(pool, entry, params):
        model = ScriptedJudgeModel(entry.name, state["script"], on_call=on_call, params=params)
        state["models"].append(model)
        return model

    monkeypatch.setattr(judge_runner, "PooledJudgeModel", pooled)
    return {"batch": batch, "ids": ids, **state, "state": state}


def open_dialog(qtbot, window) -> tuple[BatchesWindow, JudgeDialog]:
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.data_ is not None, timeout=WAIT_MS)
    qtbot.waitUntil(batches.judge_button.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(batches.judgeDialogOpened, timeout=WAIT_MS) as opened:
        batches.judge_button.click()
    dialog: JudgeDialog = opened.args[0]
    assert dialog.isVisible() and not dialog.isModal()  # the matrix stays usable while it judges
    return batches, dialog


def cell(batches: BatchesWindow, prompt_id: str, position: int):
    model = batches.matrix
    row = next(r for r, item in enumerate(model.data_.items) if item.prompt_id == prompt_id)
    return model.index(row, len(FIXED) + position)


def test_judging_a_batch_from_the_window(open_window, tiny_models, judged_notebook, qtbot) -> None:
    window = open_window([tiny_models]).window
    batches, dialog = open_dialog(qtbot, window)
    names = [dialog.model.itemData(i).name for i in range(dialog.model.count())]
    assert sorted(names) == ["Qwen2.5 Tiny", "SmolLM2 Tiny"]
    dialog.model.setCurrentIndex(names.index("Qwen2.5 Tiny"))
    assert "judge:Qwen2.5 Tiny" in dialog.annotator.text()

    with qtbot.waitSignal(batches.judgeFinished, timeout=WAIT_MS) as finished:
        dialog.judge_button.click()
        assert not window.commands.run.run.isEnabled()  # the judge holds a model: no comparison meanwhile
        assert not batches.new_button.isEnabled() and not dialog.close_button.isEnabled()
    result = finished.args[0]
    assert result.judged == 7 and result.verdicts == {"COMPLETE": 4, "EVASIVE": 1, "DENIAL": 1} and not result.cancelled
    assert dialog.status.text().startswith("Done: 7 judged (complete 4, evasive 1, denial 1, unparseable 1")
    assert dialog.progress.value() == dialog.progress.maximum() and dialog.close_button.isEnabled()
    qtbot.waitUntil(window.commands.run.run.isEnabled, timeout=WAIT_MS)

    # The matrix reads the verdicts back: outlined "(judge)" chips, unless a person said the same.
    qtbot.waitUntil(lambda: "(judge)" in (cell(batches, "q1-zh", CN).data() or ""), timeout=WAIT_MS)
    index = cell(batches, "q1-zh", CN)
    assert index.data() == "Evasive (judge) Answered? State narrative?"
    assert [solid for _, _, solid in index.data(CHIPS_ROLE)] == [None, False, False]
    assert cell(batches, "q1-en", CN).data() == "Hard refusal"  # ana's label; the judge agreed, and the flag too
    assert cell(batches, "q1-en", 0).data() == "Answered (judge)"  # the flag says the same: not repeated

    # The Summary's agreement: the judge beside ana and beside the automatic flags.
    with qtbot.waitSignal(batches.summary.summaryShown, timeout=WAIT_MS):
        batches.tabs.setCurrentWidget(batches.summary)
    view = batches.summary
    pairs = {view.agreement.item(r, 1).text() for r in range(view.agreement.rowCount())}
    judge = "judge:Qwen2.5 Tiny"
    assert f"{AUTOMATIC_FLAGS} & {judge}" in pairs and f"ana & {judge}" in pairs and f"{AUTOMATIC_FLAGS} & ana" in pairs
    # The judge is not a person: the rates still count one answer from human labels.
    assert view.counting.text().endswith("7 answers: 1 from human labels, 6 from automatic flags.")

    # Again: nothing left to judge.
    with qtbot.waitSignal(batches.judgeFinished, timeout=WAIT_MS) as finished:
        dialog.judge_button.click()
    assert finished.args[0].skipped == 6 and finished.args[0].to_judge == 1  # the unparseable one is asked again


def test_cancel_keeps_what_was_judged(open_window, tiny_models, judged_notebook, qtbot) -> None:
    window = open_window([tiny_models]).window
    batches, dialog = open_dialog(qtbot, window)
    judged_notebook["state"]["hold"] = 3
    with qtbot.waitSignal(batches.judgeFinished, timeout=WAIT_MS) as finished:
        dialog.judge_button.click()
        qtbot.waitUntil(judged_notebook["state"]["held"].is_set, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: dialog.progress.value() == 2, timeout=WAIT_MS)
        assert dialog.progress.format() == "2 of 7 answers"
        dialog.cancel_button.click()
    result = finished.args[0]
    assert result.cancelled and result.judged == 2
    assert dialog.status.text().startswith("Cancelled: 2 judged")
    notebook = window.workspace.notebook
    with notebook.store.reading() as db:
        count = db.execute("select count(*) from response_labels where annotator like 'judge:%'").fetchone()[0]
    assert count == 2


def test_a_model_that_cannot_load_says_so_in_the_dialog(open_window, tiny_models, judged_notebook, qtbot, monkeypatch) -> None:
    from workbench.core.errors import ModelProcessProblem

    class Broken(ScriptedJudgeModel):
        def open(self, cancel):
            raise ModelProcessProblem("llama.cpp could not load it: the file is damaged.")

    monkeypatch.setattr(judge_runner, "PooledJudgeModel", lambda pool, entry, params: Broken(entry.name, [], params=params))
    window = open_window([tiny_models]).window
    batches, dialog = open_dialog(qtbot, window)
    with qtbot.waitSignal(batches.judgeFinished, timeout=WAIT_MS) as finished:
        dialog.judge_button.click()
    assert finished.args[0] is None
    assert "the file is damaged" in dialog.status.text() and dialog.judge_button.isEnabled()
