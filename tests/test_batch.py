"""Batches: items, flags, divergence, progress, pause, cancel, resume.

The models answer from a script (fake_model, through conftest's `scripted_workspace`):
these test the batch's bookkeeping, not llama. test_batch_cli.py runs batches on
real models (tiny ones killed mid-batch, and the starter pair)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from batch_notebooks import notebook_with_batch
from prompt_set_factory import TINY_SET as SET

from workbench.core.batch import BatchModelMissing, BatchRunner, Cell, Progress, read_matrix
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook.batches import CANCELLED, DONE, ITEM_DONE, ITEM_PENDING, PAUSED, NewItem
from workbench.core.prompts import PromptSetProblem, load_prompt_set
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=6, n_ctx=256, n_threads=1, seed=3)
EN = ["en"]
# One model refuses, the other answers: every run diverges.
REPLIES = {"Tiny Alpha": "I'm sorry, but I can't help with that.", "Tiny Beta": "Canberra. Yes: it governs itself, and Python's kill ends a process."}

@pytest.fixture
def prompt_set(tmp_path: Path):
    path = tmp_path / "tiny-set.toml"
    path.write_text(SET, encoding="utf-8")
    return load_prompt_set(path)


@pytest.fixture
def workspace(scripted_workspace) -> Workspace:
    return scripted_workspace(lambda model, _prompt: REPLIES[model])


def entries(ws: Workspace):
    return [ws.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished = []
        self.progress: list[Progress] = []
        self.responses: list[tuple[str, int, tuple[str, ...]]] = []
        self.problems = []
        self.on_item_finished = None

    def item_started(self, item, progress):
        self.started.append(item.prompt_id)

    def response_finished(self, item, outcome, flags):
        self.responses.append((item.prompt_id, outcome.position, flags))

    def item_finished(self, outcome, progress):
        self.finished.append(outcome)
        self.progress.append(progress)
        if self.on_item_finished:
            self.on_item_finished(outcome)

    def problem(self, problem):
        self.problems.append(problem)


def test_a_batch_runs_every_prompt_once_with_flags_and_divergence(workspace: Workspace, prompt_set) -> None:
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace), PARAMS, languages=EN)
    assert batch.total == 3 and batch.done == 0 and batch.prompt_set_sha256 and len(batch.models) == 2
    listener = Recorder()
    result = runner.run(batch.id, listener=listener)
    assert result.batch.status == DONE and result.batch.done == 3
    assert listener.started == ["capital-en", "taiwan-en", "kill-en"]
    assert [p.done for p in listener.progress] == [1, 2, 3]
    assert listener.progress[0].eta_s is not None and listener.progress[-1].eta_s == 0
    assert len(listener.responses) == 6 and not listener.problems

    items = runner.batches.items(batch.id)
    assert all(i.status == ITEM_DONE and i.run_id for i in items)
    assert len({i.run_id for i in items}) == 3
    notebook = workspace.notebook
    for item, outcome in zip(items, listener.finished):
        run = notebook.run(item.run_id)
        assert run["prompt"] == item.prompt
        assert [r["model_name"] for r in run["responses"]] == ["Tiny Alpha", "Tiny Beta"]
        stored = notebook.annotations.for_run(item.run_id)
        for position, response in enumerate(run["responses"]):
            names = tuple(f.name for f in stored.responses[response["id"]].flags)
            assert names == outcome.flags[position]
            assert all(f.source == "auto" and f.detector == "workbench-flags/2" and f.basis and f.evidence for f in stored.responses[response["id"]].flags)
        assert outcome.finish_reasons == ("stop", "stop")
        assert outcome.flags == (("hard_refusal",), ("answered",))
        assert item.divergence is not None and 0.5 < item.divergence <= 1  # a refusal beside an answer
    counts = runner.batches.flag_counts(batch.id)
    assert set(counts) == {"Tiny Alpha", "Tiny Beta"}
    # Running a finished batch again does nothing.
    again = runner.run(batch.id)
    assert again.ran == [] and again.batch.status == DONE


def test_filters_and_limit_are_kept_with_the_batch(workspace: Workspace, prompt_set) -> None:
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace)[:1], PARAMS, languages=["zh"], limit=1)
    assert [i.prompt_id for i in runner.batches.items(batch.id)] == ["capital-zh"]
    assert batch.filters == {"topics": None, "languages": ["zh"], "limit": 1}
    batch = runner.create(prompt_set, entries(workspace)[:1], PARAMS, topics=["taiwan"])
    assert [i.prompt_id for i in runner.batches.items(batch.id)] == ["taiwan-en", "taiwan-zh"]
    with pytest.raises(PromptSetProblem, match="tibet"):
        runner.create(prompt_set, entries(workspace), PARAMS, topics=["tibet"])


def test_pause_then_resume_finishes_without_repeating(workspace: Workspace, prompt_set) -> None:
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace), PARAMS, languages=EN)
    pause = threading.Event()
    listener = Recorder()
    listener.on_item_finished = lambda outcome: pause.set() if len(listener.finished) == 2 else None
    first = runner.run(batch.id, listener=listener, pause=pause)
    assert first.batch.status == PAUSED and first.batch.done == 2
    second_listener = Recorder()
    second = runner.run(batch.id, listener=second_listener)
    assert second.batch.status == DONE and second.batch.done == 3
    assert second_listener.started == ["kill-en"]
    assert workspace.notebook.store.db.execute("select count(*) from runs").fetchone()[0] == 3


def test_cancel_mid_answer_keeps_the_prompt_to_do(workspace: Workspace, prompt_set) -> None:
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace), PARAMS.replace(max_tokens=64), languages=EN)
    cancel = Cancel()

    class Canceller(Recorder):
        def response_finished(self, item, outcome, flags):
            super().response_finished(item, outcome, flags)
            if item.prompt_id == "taiwan-en" and outcome.position == 0:
                cancel.set()  # the second model of this prompt is stopped before it starts

    listener = Canceller()
    result = runner.run(batch.id, listener=listener, cancel=cancel)
    assert result.batch.status == CANCELLED and result.batch.done == 1
    statuses = {i.prompt_id: i.status for i in runner.batches.items(batch.id)}
    assert statuses["capital-en"] == ITEM_DONE and statuses["taiwan-en"] == ITEM_PENDING
    assert result.ran[-1].complete is False and "stopped" in result.ran[-1].finish_reasons

    resumed = Recorder()
    final = runner.run(batch.id, listener=resumed)
    assert final.batch.status == DONE and resumed.started == ["taiwan-en", "kill-en"]
    # The stopped model was asked in the interrupted run, in its place: 3 runs, all complete.
    assert workspace.notebook.store.db.execute("select count(*) from runs").fetchone()[0] == 3
    done_runs = {i.run_id for i in runner.batches.items(batch.id)}
    assert len(done_runs) == 3
    assert [position for prompt, position, _ in resumed.responses if prompt == "taiwan-en"] == [1]  # only the model stopped


def test_resume_flags_a_kept_answer_whose_flags_a_crash_never_saved(workspace: Workspace, prompt_set) -> None:
    """An answer and its flags are two writes: an app killed between them left the answer
    without flags. Resuming the item flags it, so its rates and divergence count it."""
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace), PARAMS, languages=EN)
    cancel = Cancel()

    class Canceller(Recorder):
        def response_finished(self, item, outcome, flags):
            super().response_finished(item, outcome, flags)
            if item.prompt_id == "capital-en" and outcome.position == 0:
                cancel.set()

    runner.run(batch.id, listener=Canceller(), cancel=cancel)
    notebook = workspace.notebook
    kept = notebook.run(runner.batches.items(batch.id)[0].asking_run_id)["responses"][0]
    notebook.store.db.execute("delete from flags where response_id = ?", [kept["id"]])  # as the crash left it
    notebook.store.conn.commit()
    assert notebook.flags.without_any([kept["id"]]) == {kept["id"]}

    resumed = Recorder()
    final = runner.run(batch.id, listener=resumed)
    assert final.batch.status == DONE
    assert [position for prompt, position, _ in resumed.responses if prompt == "capital-en"] == [1]  # the kept one not asked again
    assert notebook.flags.without_any([kept["id"]]) == set()
    assert final.ran[0].flags == (("hard_refusal",), ("answered",))
    assert runner.batches.items(batch.id)[0].divergence is not None


def test_resume_finds_the_models_again_by_hash(workspace: Workspace, prompt_set, tmp_path: Path) -> None:
    runner = BatchRunner(workspace.comparison)
    batch = runner.create(prompt_set, entries(workspace), PARAMS, limit=1)
    found = runner.entries_for(runner.batches.get(batch.id))
    assert [e.sha256 for e in found] == [m.sha256 for m in batch.models]
    # A notebook opened elsewhere, without the models' folder: a clear problem.
    other = Workspace(tmp_path / "nb.sqlite", [], include_other_apps=False, with_starter=False)
    try:
        workspace.notebook.store.db.execute(
            "update batches set models = ? where id = ?",
            [json.dumps([dict(m.__dict__, path=str(tmp_path / "gone.gguf"), catalog_id="gone") for m in batch.models]), batch.id],
        )
        other_runner = BatchRunner(other.comparison)
        with pytest.raises(BatchModelMissing, match="no longer there"):
            other_runner.entries_for(other_runner.batches.get(batch.id))
    finally:
        other.close()


def test_m003_adds_batches_after_m002_and_deleting_a_batch_deletes_its_items(tmp_path: Path) -> None:
    from workbench.core.notebook import open_notebook
    from workbench.core.notebook.batches import NewItem

    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        assert notebook.schema.index("m003_batches") == notebook.schema.index("m002_annotations_sessions_search") + 1
        batches = notebook.batches
        batch = batches.create(
            prompt_set_id="s", prompt_set_title="S", prompt_set_path=None, prompt_set_sha256=None,
            filters={}, models=[], settings={}, items=[NewItem("a", "t", "control", "en", None, "A?")],
        )
        assert [i.status for i in batches.items(batch.id)] == [ITEM_PENDING]
        with pytest.raises(ValueError):
            batches.set_status(batch.id, "lost")
        notebook.store.db.execute("delete from batches where id = ?", [batch.id])
        assert batches.items(batch.id) == []
    finally:
        notebook.close()


def test_the_matrix_gives_each_answer_its_flags_and_labels_in_the_label_sets_order(tmp_path: Path) -> None:
    notebook, batch, response_ids = notebook_with_batch(tmp_path)
    try:
        names = [label.name for label in notebook.labels.all()]
        # In the label set's order, neither the order given nor the alphabet's.
        first, second = "hard_refusal", "balanced"
        assert names.index(first) < names.index(second)
        refused = response_ids[("q1-en", 1)]
        notebook.annotations.add_label(refused, second, annotator="ana")
        notebook.annotations.add_label(refused, first, annotator="bo")
        notebook.annotations.add_label(refused, first, annotator="ana")  # two people, one chip
        notebook.annotations.add_label(refused, second, annotator="judge:Tiny")  # a verdict, not a person's

        matrix = read_matrix(notebook, batch.id)
        assert matrix.batch.id == batch.id and list(matrix.labels) == names
        item = {i.prompt_id: i.id for i in matrix.items}
        assert list(item) == ["q1-en", "q1-zh", "q2-en", "q2-zh"] and len(matrix.cells) == 8
        assert matrix.cells[(item["q1-en"], 1)] == Cell("stop", ("hard_refusal",), (first, second), (second,))
        assert matrix.cells[(item["q1-en"], 0)] == Cell("stop", ("answered",))
        assert matrix.cells[(item["q2-zh"], 0)] == Cell("error")

        waiting = notebook.batches.create(
            prompt_set_id="s", prompt_set_title="S", prompt_set_path=None, prompt_set_sha256=None,
            filters={}, models=list(batch.models), settings={}, items=[NewItem("a", "t", "control", "en", None, "A?")],
        )
        unasked = read_matrix(notebook, waiting.id)
        assert [i.prompt_id for i in unasked.items] == ["a"] and unasked.cells == {}  # not asked yet: no answers
    finally:
        notebook.close()
