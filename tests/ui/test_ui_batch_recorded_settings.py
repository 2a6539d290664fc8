"""Resuming, in the window, a batch an older version recorded with settings this one refuses:
the reason shows in the batches window's message bar, and a thread count is made this machine's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prompt_set_factory import TINY_SET as SET
from window_helpers import TINY_PARAMS, WAIT_MS

from workbench.core.batch import BatchRunner
from workbench.core.engine.params import MAX_THREADS, all_cores
from workbench.core.notebook.batches import DONE, RUNNING
from workbench.core.prompts import load_prompt_set


@pytest.fixture
def interrupted_batch(open_window, tiny_models, tmp_path: Path):
    """The window, and a one-prompt batch a crash left running whose settings `change` rewrites."""
    set_file = tmp_path / "tiny-set.toml"
    set_file.write_text(SET, encoding="utf-8")
    opened = open_window([tiny_models])
    runner = BatchRunner(opened.workspace.comparison)
    params = TINY_PARAMS.replace(max_tokens=6)
    batch = runner.create(load_prompt_set(set_file), [pane.entry for pane in opened.window.area.panes], params, languages=["en"], limit=1)

    def change(**settings: object) -> None:
        opened.workspace.notebook.store.db.execute("update batches set settings = ? where id = ?", [json.dumps(dict(params.to_dict(), **settings)), batch.id])

    return opened.window, batch.id, change


def resume(qtbot, window, batch_id: int):
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.batch_id == batch_id, timeout=WAIT_MS)
    with qtbot.waitSignal(batches.batchFinished, timeout=WAIT_MS) as finished:
        batches.resume_button.click()
    return batches, finished.args[0]


def test_a_sampling_setting_now_refused_shows_why_and_the_batch_stays_as_it_was(interrupted_batch, qtbot) -> None:
    window, batch_id, change = interrupted_batch
    change(top_p=0.0)
    batches, result = resume(qtbot, window, batch_id)
    assert result is None
    assert batches.messages.notices["batch"].label.text() == (
        f"Batch {batch_id} was recorded with settings this version refuses (top-p must be above 0 and at most 1), "
        "so it can't be resumed as recorded: its answers would not be comparable. Start a new batch from its prompt set instead."
    )
    assert batches.matrix.data_.batch.status == RUNNING and batches.matrix.data_.batch.done == 0


def test_too_many_threads_run_on_this_machine_s_cores_with_a_note(interrupted_batch, qtbot) -> None:
    window, batch_id, change = interrupted_batch
    change(n_threads=MAX_THREADS + 1)
    batches, result = resume(qtbot, window, batch_id)
    assert result.batch.status == DONE
    assert batches.messages.notices["batch"].label.text() == (
        f"batch {batch_id} was recorded with {MAX_THREADS + 1} threads, which this version doesn't run (1 to {MAX_THREADS}); "
        f"using this machine's {all_cores()} instead (the thread count doesn't change the answers)."
    )
