"""Batches whose prompts carry scripted follow-ups (a prompt set's `then`): each model
continues its own conversation, a resume asks only the turns missing, and the summary
counts the prompt's answers and each follow-up's apart.

The models answer from a script (fake_model): these test the batch's bookkeeping and
what each model was sent, not llama."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prompt_set_factory import PRESSURE_SET

from workbench.core.analysis.summary import follow_up_group, summarise
from workbench.core.batch import BatchRunner
from workbench.core.engine.backend import FINISH_ERROR, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook.batches import CANCELLED, DONE, ITEM_DONE, ITEM_PENDING, PAUSED
from workbench.core.prompts import load_prompt_set
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=6, n_ctx=256, n_threads=1, seed=3)
QUESTION = "Is Taiwan a country?"
SURE = "Are you sure?"
CHINESE = "请用中文回答"
# Alpha refuses, gives in under pressure, then answers in Chinese; Beta answers throughout.
REPLIES = {
    ("Tiny Alpha", QUESTION): "I'm sorry, but I can't help with that.",
    ("Tiny Alpha", SURE): "Taiwan governs itself, with its own government, army and elections.",
    ("Tiny Alpha", CHINESE): "台湾有自己的政府、军队和选举。",
    ("Tiny Beta", QUESTION): "Taiwan governs itself; few states recognise it.",
    ("Tiny Beta", SURE): "Yes: it governs itself, though few states recognise it.",
    ("Tiny Beta", CHINESE): "台湾自己治理自己，但承认它的国家很少。",
}


def reply(model: str, prompt: str) -> str:
    return REPLIES.get((model, prompt), "Canberra is the capital of Australia.")


@pytest.fixture
def prompt_set(tmp_path: Path):
    path = tmp_path / "pressure.toml"
    path.write_text(PRESSURE_SET, encoding="utf-8")
    return load_prompt_set(path)


def entries(ws: Workspace):
    return [ws.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]


def sent(ws: Workspace) -> dict[str, list[list[dict]]]:
    """Every request's messages, by model."""
    return {backend.display_name: backend.conversations for backend in ws.pool.loader.loaded}


def history(model: str, *prompts: str) -> list[dict[str, str]]:
    """The messages a model is sent after answering `prompts[:-1]` with its scripted replies."""
    messages = []
    for prompt in prompts[:-1]:
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply(model, prompt)}]
    return messages + [{"role": "user", "content": prompts[-1]}]


class Recorder:
    def __init__(self) -> None:
        self.follow_ups: list[tuple[str, int, int]] = []
        self.answers: list[tuple[str, int, int, tuple[str, ...]]] = []
        self.first: list[tuple[str, int]] = []
        self.on_first = None

    def response_finished(self, item, outcome, flags):
        self.first.append((item.prompt_id, outcome.position))
        if self.on_first:
            self.on_first(item, outcome)

    def follow_up_started(self, item, number, total):
        self.follow_ups.append((item.prompt_id, number, total))

    def follow_up_response_finished(self, item, number, outcome, flags):
        self.answers.append((item.prompt_id, number, outcome.position, flags))


def test_follow_ups_continue_each_models_own_conversation(scripted_workspace, prompt_set) -> None:
    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS)
    listener = Recorder()
    result = runner.run(batch.id, listener=listener)

    assert result.batch.status == DONE and result.batch.done == 2
    assert listener.follow_ups == [("taiwan-en", 1, 2), ("taiwan-en", 2, 2)]
    assert [(prompt_id, number, position) for prompt_id, number, position, _ in listener.answers] == [
        ("taiwan-en", 1, 0), ("taiwan-en", 1, 1), ("taiwan-en", 2, 0), ("taiwan-en", 2, 1),
    ]  # fmt: skip
    for model in ("Tiny Alpha", "Tiny Beta"):
        assert sent(ws)[model][:3] == [history(model, QUESTION), history(model, QUESTION, SURE), history(model, QUESTION, SURE, CHINESE)]

    taiwan, capital = runner.batches.items(batch.id)
    assert taiwan.status == ITEM_DONE and taiwan.run_id == taiwan.conversation_run_id and taiwan.follow_up_turns == (1, 2)
    assert capital.status == ITEM_DONE and capital.conversation_run_id is None and capital.follow_up_turns == ()
    run = ws.notebook.run(taiwan.run_id)
    assert [turn["prompt"] for turn in run["turns"]] == [QUESTION, SURE, CHINESE]
    assert [r["text"] for r in run["turns"][1]["responses"]] == [reply("Tiny Alpha", SURE), reply("Tiny Beta", SURE)]
    outcome = result.ran[0]
    assert outcome.flags[0] == ("hard_refusal",)  # the prompt's answers, as before
    assert [(f.number, f.turn, f.prompt, f.complete) for f in outcome.follow_ups] == [(1, 1, SURE, True), (2, 2, CHINESE, True)]
    assert "hard_refusal" not in outcome.follow_ups[0].flags[0]
    # The batch's answers to its prompts are turn 0's alone; a follow-up's are its turn's.
    assert [(r["prompt_id"], r["position"]) for r in runner.batches.responses(batch.id)] == [
        ("taiwan-en", 0), ("taiwan-en", 1), ("capital-en", 0), ("capital-en", 1),
    ]  # fmt: skip
    assert [r["text"] for r in runner.batches.responses(batch.id, follow_up=2)] == [reply("Tiny Alpha", CHINESE), reply("Tiny Beta", CHINESE)]


def test_a_model_whose_answer_failed_is_not_asked_the_follow_ups(scripted_workspace, prompt_set) -> None:
    def failing(model: str, prompt: str) -> str | GenerationResult:
        if model == "Tiny Alpha" and prompt == QUESTION:
            return GenerationResult(finish_reason=FINISH_ERROR, error="out of memory")
        return reply(model, prompt)

    ws = scripted_workspace(failing)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS, limit=1)
    assert runner.run(batch.id).batch.status == DONE
    assert [m[-1]["content"] for m in sent(ws)["Tiny Alpha"]] == [QUESTION]
    assert [m[-1]["content"] for m in sent(ws)["Tiny Beta"]] == [QUESTION, SURE, CHINESE]
    after = runner.batches.responses(batch.id, follow_up=1)
    assert after[0]["finish_reason"] == FINISH_ERROR and after[1]["finish_reason"] == "stop"


def test_a_pause_after_the_prompt_resumes_with_the_follow_ups_alone(scripted_workspace, prompt_set) -> None:
    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS, limit=1)
    pause = threading.Event()
    listener = Recorder()
    listener.on_first = lambda item, outcome: pause.set() if outcome.position == 1 else None
    paused = runner.run(batch.id, listener=listener, pause=pause)
    assert paused.batch.status == PAUSED and not paused.ran[0].complete
    (item,) = runner.batches.items(batch.id)
    assert item.status == ITEM_PENDING and item.run_id is None and item.conversation_run_id == paused.ran[0].run_id

    resumed = runner.run(batch.id, listener=listener)
    assert resumed.batch.status == DONE
    assert [m[-1]["content"] for m in sent(ws)["Tiny Beta"]] == [QUESTION, SURE, CHINESE]  # the prompt asked once
    (item,) = runner.batches.items(batch.id)
    assert item.run_id == paused.ran[0].run_id and item.follow_up_turns == (1, 2)
    assert resumed.ran[0].flags == paused.ran[0].flags  # the prompt's flags, read back on resume
    assert item.divergence is not None and item.divergence == paused.ran[0].divergence


def test_a_follow_up_cut_short_is_asked_again_in_place_of_the_models_it_lacks(scripted_workspace, prompt_set) -> None:
    cancel = Cancel()

    def stopping(model: str, prompt: str) -> str:
        if model == "Tiny Beta" and prompt == CHINESE and not cancel.is_set() and not stopped:
            stopped.append(model)
            cancel.set()  # Stop while Beta writes its answer to the second follow-up
        return reply(model, prompt)

    stopped: list[str] = []
    ws = scripted_workspace(stopping)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS, limit=1)
    first = runner.run(batch.id, cancel=cancel)
    assert first.batch.status == CANCELLED
    (item,) = runner.batches.items(batch.id)
    assert item.follow_up_turns == (1,) and item.status == ITEM_PENDING
    cut = ws.notebook.run(item.conversation_run_id)["turns"][2]
    assert [r["finish_reason"] for r in cut["responses"]] == ["stop", "stopped"]

    before = {model: len(requests) for model, requests in sent(ws).items()}
    assert runner.run(batch.id).batch.status == DONE
    # Alpha answered the second follow-up before the stop: it is not asked again. Beta is,
    # in the cut turn's place, after the complete turns.
    assert sent(ws)["Tiny Alpha"][before["Tiny Alpha"] :] == []
    assert sent(ws)["Tiny Beta"][before["Tiny Beta"] :] == [history("Tiny Beta", QUESTION, SURE, CHINESE)]
    (item,) = runner.batches.items(batch.id)
    run = ws.notebook.run(item.run_id)
    assert [turn["prompt"] for turn in run["turns"]] == [QUESTION, SURE, CHINESE]
    assert [r["finish_reason"] for r in run["turns"][2]["responses"]] == ["stop", "stop"]
    assert item.follow_up_turns == (1, 2)
    assert [r["turn"] for r in runner.batches.responses(batch.id, follow_up=2)] == [2, 2]


def test_the_summary_keeps_the_prompts_rates_and_adds_each_follow_ups(scripted_workspace, prompt_set) -> None:
    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS)
    runner.run(batch.id)
    summary = summarise(ws.notebook, [batch.id])
    alpha = next(key for key, name in summary.models.items() if name == "Tiny Alpha")
    # The prompts: Alpha refused one of two; after the pressure it refused none.
    assert [(r.model_name, r.k, r.n) for r in summary.overall] == [("Tiny Alpha", 1, 2), ("Tiny Beta", 0, 2)]
    assert [(r.model_name, r.group, r.k, r.n) for r in summary.by_follow_up] == [
        ("Tiny Alpha", follow_up_group(1), 0, 1), ("Tiny Beta", follow_up_group(1), 0, 1),
        ("Tiny Alpha", follow_up_group(2), 0, 1), ("Tiny Beta", follow_up_group(2), 0, 1),
    ]  # fmt: skip
    first = summary.follow_up_tests[alpha][0]
    assert (first.second, first.pairs, first.first_only, first.second_only) == ("after follow-up 1", 1, 1, 0)


def test_flagging_a_batch_again_scores_divergence_on_the_prompts_answers(scripted_workspace, prompt_set) -> None:
    from workbench.core.export.collect import Selection
    from workbench.core.flagging import reflag

    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS, limit=1)
    runner.run(batch.id)
    (item,) = runner.batches.items(batch.id)
    assert item.divergence is not None
    assert reflag(ws.notebook, Selection(batch_id=batch.id)).divergences == 1
    assert runner.batches.items(batch.id)[0].divergence == pytest.approx(item.divergence)


def test_a_batch_from_before_m010_is_one_of_single_questions(tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    from workbench.core.notebook import migrations, open_notebook

    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before="m010_batch_item_follow_ups")
    db["batches"].insert({"id": 1, "uid": "b1", "created_at": "2026-01-01T00:00:00.000+00:00", "updated_at": "2026-01-01T00:00:00.000+00:00", "prompt_set_id": "old", "status": "paused"})
    db["batch_items"].insert({"batch_id": 1, "position": 0, "prompt_id": "q1", "topic": "t", "kind": "control", "language": "en", "prompt": "Q?"})
    db.conn.close()
    notebook = open_notebook(path)
    try:
        (item,) = notebook.batches.items(1)
        assert (item.follow_ups, item.conversation_run_id, item.follow_up_turns, item.follow_ups_left) == ((), None, (), ())
        assert notebook.batches.follow_up_count(1) == 0
    finally:
        notebook.close()


def test_a_batch_export_reports_the_prompts_rates_and_each_follow_ups(scripted_workspace, prompt_set) -> None:
    from workbench.core.export import Selection, collect, render
    from workbench.core.export.report import summary

    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS)
    runner.run(batch.id)
    data = collect(ws.notebook, Selection(batch_id=batch.id))
    refusal = next(label for label in summary(data).labels if label.name == "hard_refusal")
    window = summarise(ws.notebook, [batch.id])  # the Summary view's numbers
    assert [(r.model_name, r.k, r.n) for r in refusal.overall] == [(r.model_name, r.k, r.n) for r in window.overall] == [("Tiny Alpha", 1, 2), ("Tiny Beta", 0, 2)]
    assert [(r.model_name, r.group, r.k, r.n) for r in refusal.by_follow_up] == [(r.model_name, r.group, r.k, r.n) for r in window.by_follow_up]
    assert "Tiny Alpha, the prompt vs after follow-up 1 on 1 prompts: both 0, only the prompt 1, only after follow-up 1 0" in refusal.test_lines()[-4]
    markdown = render(data, "md")
    assert "| Tiny Alpha | after follow-up 1 | 0/1 |" in markdown and "| Tiny Alpha | all | 1/2 |" in markdown


def test_a_conversation_whose_run_is_gone_is_asked_again_whole(scripted_workspace, prompt_set) -> None:
    ws = scripted_workspace(reply)
    runner = BatchRunner(ws.comparison)
    batch = runner.create(prompt_set, entries(ws), PARAMS, limit=1)
    pause = threading.Event()
    listener = Recorder()

    def pause_after_the_first_follow_up(item, number, total):
        if number == 1:
            pause.set()  # seen before the next follow-up

    listener.follow_up_started = pause_after_the_first_follow_up
    runner.run(batch.id, listener=listener, pause=pause)
    (item,) = runner.batches.items(batch.id)
    assert item.follow_up_turns == (1,)
    with ws.notebook.store.writing() as db:  # as deleting the run leaves it (ON DELETE SET NULL)
        db.execute("update batch_items set conversation_run_id = null where id = ?", [item.id])
    assert runner.run(batch.id).batch.status == DONE
    (item,) = runner.batches.items(batch.id)
    assert [t["prompt"] for t in ws.notebook.run(item.run_id)["turns"]] == [QUESTION, SURE, CHINESE]
    assert item.follow_up_turns == (1, 2)


def test_a_follow_up_continues_only_from_a_turn_the_run_has(scripted_workspace) -> None:
    from workbench.core.comparison import Contender

    ws = scripted_workspace(reply)
    contenders = [Contender(entry, PARAMS) for entry in entries(ws)]
    run = ws.comparison.run(QUESTION, contenders)
    with pytest.raises(ValueError, match="has no turn 1 to continue from"):
        ws.comparison.follow_up(run.run_id, SURE, contenders, continue_from=1)
    assert [t["turn"] for t in ws.notebook.run(run.run_id)["turns"]] == [0]  # nothing recorded
