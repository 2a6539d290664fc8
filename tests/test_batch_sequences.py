"""A batch answering several prompts of each local model at once (issue 20): the real tiny
models loaded for the batch's sequences, every answer stored and flagged, pause and
resume unchanged; how many at once "auto" chooses; the command line's --sequences; and
the panes of one run that hold the same model, answered together by one process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cli_process import in_process
from prompt_set_factory import write_set
from workbench.core.batch import AUTO_SEQUENCES, SEQUENCES, BatchRunner, auto_sequences, batch_sequences
from workbench.core.comparison import Contender, estimate_memory
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook.batches import DONE, ITEM_DONE, PAUSED
from workbench.core.prompts import load_prompt_set
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=8, n_ctx=256, n_threads=1, seed=3)
EN = ["en"]


@pytest.fixture
def workspace(tiny_models: Path, tmp_path: Path):
    ws = Workspace(tmp_path / "nb.sqlite", [tiny_models], include_other_apps=False, with_starter=False)
    yield ws
    ws.close()


def tiny_entries(ws: Workspace):
    return [ws.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]


class Recorder:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []
        self.finished = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.pause: threading.Event | None = None
        self.pause_after: int | None = None

    def item_started(self, item, progress) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def response_finished(self, item, outcome, flags) -> None:
        self.asked.append((item.prompt_id, outcome.position))

    def item_finished(self, outcome, progress) -> None:
        self.in_flight -= 1
        self.finished += 1
        if self.pause is not None and self.finished == self.pause_after:
            self.pause.set()


def test_a_batch_of_four_sequences_stores_every_answer_and_resumes_without_repeating(workspace: Workspace, tmp_path: Path) -> None:
    prompt_set = load_prompt_set(write_set(tmp_path / "set.toml", 10))
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, tiny_entries(workspace), PARAMS, languages=EN, sequences=4)
    assert batch.settings[SEQUENCES] == 4 and batch_sequences(batch) == 4
    pause = threading.Event()
    first = Recorder()
    first.pause, first.pause_after = pause, 2
    paused = runner.run(batch.id, listener=first, pause=pause)
    assert paused.batch.status == PAUSED and 2 <= paused.batch.done < 10
    assert first.most_in_flight > 1  # prompts were asked together
    assert sorted(model.info["sequences"] for model in workspace.comparison.pool.loaded()) == [4, 4]

    second = Recorder()
    final = runner.run(batch.id, listener=second)
    assert final.batch.status == DONE and final.batch.done == 10
    asked = first.asked + second.asked
    assert len(asked) == len(set(asked)) == 20  # every prompt of both models once, none again
    items = runner.batches.items(batch.id)
    assert all(item.status == ITEM_DONE and item.divergence is not None for item in items)
    rows = runner.batches.responses(batch.id)
    assert len(rows) == 20 and all(row["finish_reason"] == "length" and row["flags"] for row in rows)
    assert len({row["run_id"] for row in rows}) == 10  # one run per prompt


def test_answers_asked_together_are_the_answers_asked_one_at_a_time(workspace: Workspace, tmp_path: Path) -> None:
    """The tiny models at temperature 0: the same text whether four prompts share a step or not."""
    prompt_set = load_prompt_set(write_set(tmp_path / "set.toml", 4))
    runner = BatchRunner(workspace.comparison)
    texts = []
    for sequences in (1, 4):
        batch = runner.create(prompt_set, tiny_entries(workspace), PARAMS, languages=EN, sequences=sequences)
        runner.run(batch.id)
        texts.append(sorted((row["prompt_id"], row["position"], row["text"]) for row in runner.batches.responses(batch.id)))
    assert texts[0] == texts[1] and len(texts[0]) == 8


def test_auto_takes_as_many_as_the_memory_and_the_prompts_allow(workspace: Workspace) -> None:
    entries = tiny_entries(workspace)
    roomy = 10**12
    assert auto_sequences(entries, PARAMS, roomy, prompts=100) == AUTO_SEQUENCES
    assert auto_sequences(entries, PARAMS, roomy, prompts=3) == 3
    # Room for the weights and three contexts of the larger model, not four.
    three = max(estimate_memory(e, PARAMS.n_ctx * 3) for e in entries)
    assert auto_sequences(entries, PARAMS, three, prompts=100) == 3
    assert auto_sequences(entries, PARAMS, 0, prompts=100) == 1
    assert auto_sequences([], PARAMS, roomy, prompts=100) == 1


def test_an_older_batch_without_sequences_asks_one_at_a_time(workspace: Workspace, tmp_path: Path) -> None:
    prompt_set = load_prompt_set(write_set(tmp_path / "set.toml", 2))
    batch = BatchRunner(workspace.comparison).create(prompt_set, tiny_entries(workspace), PARAMS, languages=EN)
    older = batch.__class__(**{**batch.__dict__, "settings": {k: v for k, v in batch.settings.items() if k != SEQUENCES}})
    assert batch_sequences(older) == 1 and batch.settings[SEQUENCES] == 1


@pytest.mark.parametrize("given", ["0", "65", "two", "-1"])
def test_the_command_refuses_a_number_of_sequences_it_cannot_run(given: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        in_process("batch", "starter-20", f"--sequences={given}", "--db", str(tmp_path / "nb.sqlite"))
    assert refused.value.code == 2
    assert "--sequences: give a whole number from 1 to 64, or auto" in capsys.readouterr().err


def test_panes_holding_the_same_model_share_one_process_and_answer_together(workspace: Workspace) -> None:
    alpha, beta = tiny_entries(workspace)
    comparison = workspace.comparison
    alone = comparison.run("Say something.", [Contender(alpha, PARAMS)])
    seeds = [PARAMS, PARAMS.replace(seed=4), PARAMS]
    run = comparison.run("Say something.", [Contender(alpha, p) for p in seeds] + [Contender(beta, PARAMS)])
    assert [r.result.finish_reason for r in run.responses] == ["length"] * 4
    assert run.responses[0].answer == run.responses[2].answer == alone.responses[0].answer
    loaded = sorted((model.display_name, model.info["sequences"]) for model in comparison.pool.loaded())
    assert loaded == [(alpha.name, 1), (alpha.name, 3), (beta.name, 1)]


def test_the_command_chooses_how_many_at_once_and_saves_it(tiny_models: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    """Without --sequences, auto: here as many as the batch has prompts (two), said and saved."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    scripted_models(lambda _model, _prompt: "Yes.")
    prompts = write_set(tmp_path / "set.toml", 3)
    db = tmp_path / "nb.sqlite"
    args = ("--db", str(db), "batch", str(prompts), "--model", "tiny-alpha", "--folder", str(tiny_models), "--lang", "en", "--topic", "taiwan")
    assert in_process(*args, "--max-tokens", "4") == 0
    err = capsys.readouterr().err
    assert "2 prompts to ask Tiny Alpha, 2 at once" in err
    ws = Workspace(db, [tiny_models], include_other_apps=False, with_starter=False)
    try:
        assert ws.notebook.batches.get(1).settings[SEQUENCES] == 2
    finally:
        ws.close()
