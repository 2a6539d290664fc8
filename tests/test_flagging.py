"""Flags on every answer: computed as each is saved, for every front end, and recomputed on demand.

The comparisons here answer from a script (fake_model): they test flagging, not llama."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comparison_listener import Listener
from workbench.core import analysis, comparison, flagging
from workbench.core.analysis import analyse_response
from workbench.core.comparison import Contender
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams
from workbench.core.errors import NotebookProblem
from workbench.core.export.collect import Selection
from workbench.core.flagging import DETECTOR, FlaggingFailed, ReflagResult, count_answers, reflag
from workbench.core.notebook import Notebook, open_notebook
from workbench.core.notebook.batches import BatchModel, NewItem
from workbench.core.notebook.flags import StoredFlag
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=24, n_ctx=256, n_threads=1, seed=3)
REFUSAL = "抱歉，我无法回答这个问题。"
ANSWER = "In June 1989 the army cleared Tiananmen Square; hundreds of protesters were killed."


@pytest.fixture
def workspace(scripted_workspace) -> Workspace:
    return scripted_workspace(lambda model, _prompt: REFUSAL if model == "Tiny Alpha" else ANSWER)


def stored(notebook: Notebook, response_id: int) -> list[dict]:
    return list(notebook.store.db.query("select name, detector, basis, confidence, evidence from flags where response_id = ? order by id", [response_id]))


def contenders(ws: Workspace) -> list[Contender]:
    return [Contender(ws.catalog.resolve(name), PARAMS) for name in ("tiny-alpha", "tiny-beta")]


def test_a_comparison_stores_the_flags_of_every_finished_answer(workspace: Workspace) -> None:
    listener = Listener()
    outcome = workspace.comparison.run("What happened in 1989?", contenders(workspace), listener=listener)
    assert not listener.problems
    for response in outcome.responses:
        expected = analyse_response("What happened in 1989?", response.answer, reasoning=response.reasoning)
        assert response.flags is not None and response.flags.flags == expected.flags
        rows = stored(workspace.notebook, response.response_id)
        assert [r["name"] for r in rows] == list(expected.flags)
        assert {r["detector"] for r in rows} <= {DETECTOR}
        for row in rows:
            decision = expected.decision(row["name"])
            assert (row["basis"], row["confidence"]) == (decision.basis, decision.confidence)
    assert [r.flags.flags for r in outcome.responses] == [("hard_refusal", "lang_mismatch"), ("answered",)]
    # The listener hears of an answer only once its flags are stored: a front end reading the notebook then sees them.
    assert [o.flags for o in listener.finished] == [o.flags for o in outcome.responses]


def test_the_prompt_language_given_is_the_one_the_flags_judge_by(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = analysis.analyse_response
    monkeypatch.setattr(analysis, "analyse_response", lambda *a, **k: seen.append(k["prompt_lang"]) or real(*a, **k))
    workspace.comparison.run("Hello", contenders(workspace)[:1])
    workspace.comparison.run("Hello", contenders(workspace)[:1], prompt_language="zh")
    assert seen == ["en", "zh"]


def test_a_stopped_answer_gets_no_flags(workspace: Workspace) -> None:
    cancel = Cancel()
    cancel.set()
    outcome = workspace.comparison.run("Hello", contenders(workspace), cancel=cancel)
    assert [r.result.finish_reason for r in outcome.responses] == ["stopped", "stopped"]
    assert all(r.flags is None for r in outcome.responses)
    assert workspace.notebook.store.db.execute("select count(*) from flags").fetchone()[0] == 0


def test_a_failing_detector_costs_the_flags_not_the_answer(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("the classifier fell over")

    monkeypatch.setattr(analysis, "analyse_response", broken)
    listener = Listener()
    outcome = workspace.comparison.run("Hello", contenders(workspace), listener=listener)
    assert len(listener.finished) == 2 and all(r.flags is None for r in outcome.responses)
    assert [type(p) for p in listener.problems] == [FlaggingFailed, FlaggingFailed]
    assert "Tiny Alpha" in str(listener.problems[0]) and "reflag" in str(listener.problems[0])
    run = workspace.notebook.run(outcome.run_id)
    assert [r["text"] for r in run["responses"]] == [r.answer for r in outcome.responses]
    assert all(r["status"] == "done" for r in run["responses"])


def test_a_disk_that_refuses_the_flags_is_reported_and_the_answer_kept(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args, **_kwargs):
        raise NotebookProblem("The disk holding the notebook is full.")

    monkeypatch.setattr(workspace.notebook.flags, "record", full)
    monkeypatch.setattr(comparison, "SAVE_PATIENCE_S", 0.5)
    monkeypatch.setattr(comparison, "SAVE_RETRY_S", 0.1)
    listener = Listener()
    outcome = workspace.comparison.run("Hello", contenders(workspace), listener=listener)
    assert [str(p) for p in listener.problems] == ["The disk holding the notebook is full."]  # said once, not at every try
    assert all(r.flags is not None for r in outcome.responses)  # a batch still scores divergence with them
    assert [r.unsaved.what for r in outcome.responses] == ["flags", "flags"]  # so the run is not called saved
    assert workspace.notebook.run(outcome.run_id)["responses"][0]["status"] == "done"


# --- reflag ---------------------------------------------------------------------------


@pytest.fixture
def notebook(tmp_path: Path):
    nb = open_notebook(tmp_path / "old.sqlite")
    yield nb
    nb.close()


def answered_run(nb: Notebook, prompt: str, texts: list[str], *, finish: str = "stop", language: str | None = None) -> tuple[int, list[int]]:
    run_id = nb.create_run(prompt, language=language)
    ids = []
    for position, text in enumerate(texts):
        rid = nb.add_response(run_id, position, model_name=f"M{position}", model_sha256=None, origin_country=None, seed=1, sampler={})
        nb.finish_response(rid, text=text, finish_reason=finish)
        ids.append(rid)
    return run_id, ids


def test_reflag_replaces_old_flags_counts_the_changes_and_leaves_labels_alone(notebook: Notebook) -> None:
    run_id, (refusal, answer) = answered_run(notebook, "六四事件是什么？", [REFUSAL, ANSWER], language="zh")
    # Rows as an older detector left them: the refusal called answered, nothing on the other answer.
    notebook.flags.record(run_id, refusal, [StoredFlag("answered", "workbench-flags/1", [])])
    notebook.annotations.add_label(refusal, "evasive", annotator="ana")
    expected = {rid: analyse_response("六四事件是什么？", text, prompt_lang="zh") for rid, text in ((refusal, REFUSAL), (answer, ANSWER))}
    assert count_answers(notebook, Selection(run_ids=(run_id,))) == 2

    progress = []
    result = reflag(notebook, Selection(run_ids=(run_id,)), progress=lambda done, total: progress.append((done, total)))

    assert result.complete and (result.total, result.answers) == (2, 2) and progress[-1] == (2, 2)
    new = {rid: {r["name"] for r in stored(notebook, rid)} for rid in (refusal, answer)}
    assert new == {rid: set(report.flags) for rid, report in expected.items()}
    old = {refusal: {"answered"}, answer: set()}
    assert result.added == sum(len(new[r] - old[r]) for r in new)
    assert result.removed == sum(len(old[r] - new[r]) for r in new)
    assert result.changed == sum(new[r] != old[r] for r in new)
    assert {r["detector"] for rid in new for r in stored(notebook, rid)} == {DETECTOR}
    assert [label.label for label in notebook.annotations.for_run(run_id).responses[refusal].labels] == ["evasive"]
    assert f"{result.answers} of {result.total} answer(s)" in result.summary()

    again = reflag(notebook, Selection(run_ids=(run_id,)))
    assert (again.added, again.removed, again.changed, again.updated) == (0, 0, 0, 0)
    assert sum(len(stored(notebook, rid)) for rid in new) == sum(len(r.flags) for r in expected.values())


def test_reflag_skips_answers_that_were_stopped_failed_or_never_finished(notebook: Notebook) -> None:
    answered_run(notebook, "Hi", ["Hello there, nice to meet you."], finish="stopped")
    answered_run(notebook, "Hi", [""], finish="error")
    run_id = notebook.create_run("Hi")
    notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})  # pending: a killed app
    done_run, _ = answered_run(notebook, "Hi", ["Hello there."], finish="length")
    assert count_answers(notebook, Selection(everything=True)) == 1
    result = reflag(notebook, Selection(everything=True))
    assert result.total == 1 and result.complete
    assert notebook.store.db.execute("select distinct run_id from flags").fetchall() == [(done_run,)]


def test_reflag_scores_batch_items_again(notebook: Notebook) -> None:
    batches = notebook.batches
    batch = batches.create(
        prompt_set_id="s", prompt_set_title="S", prompt_set_path=None, prompt_set_sha256=None, filters={},
        models=[BatchModel("a" * 64, "M0", "/m0", "m0"), BatchModel("b" * 64, "M1", "/m1", "m1")], settings={},
        items=[NewItem("p1", "history", "direct", "zh", None, "六四事件是什么？")],
    )  # fmt: skip
    run_id, _ = answered_run(notebook, "六四事件是什么？", [REFUSAL, ANSWER])
    item = batches.items(batch.id)[0]
    batches.finish_item(item.id, run_id, divergence=0.001, divergence_detail=None, duration_s=1.0)
    result = reflag(notebook, Selection(batch_id=batch.id))
    reports = [analyse_response("六四事件是什么？", text, prompt_lang="zh") for text in (REFUSAL, ANSWER)]
    expected = flagging.run_divergence(reports)
    assert result.divergences == 1
    assert batches.item(item.id).divergence == pytest.approx(expected.score)


def test_reflag_stops_when_asked_and_says_so(notebook: Notebook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flagging, "RUNS_PER_CHUNK", 1)
    for _ in range(3):
        answered_run(notebook, "Hi", ["Hello there."])
    cancel = Cancel()
    result = reflag(notebook, Selection(everything=True), progress=lambda done, total: cancel.set(), cancel=cancel)
    assert result.cancelled and result.answers == 1 and not result.complete
    assert "Stopped before the end" in result.summary()


def test_reflag_counts_what_the_disk_refused(notebook: Notebook, monkeypatch: pytest.MonkeyPatch) -> None:
    answered_run(notebook, "Hi", ["Hello there.", "Hi!"])

    def full(_sets):
        raise NotebookProblem("The disk holding the notebook is full.")

    monkeypatch.setattr(notebook.flags, "replace", full)
    result = reflag(notebook, Selection(everything=True))
    assert not result.complete and result.failed == 2 and result.answers == 0
    assert "disk" in result.summary() and result.to_json()["failed"] == 2


def test_an_unknown_selection_is_a_lookup_error(notebook: Notebook) -> None:
    with pytest.raises(LookupError, match="no run 99"):
        reflag(notebook, Selection(run_ids=(99,)))


def test_the_report_of_a_reflag_is_plain_counts() -> None:
    result = ReflagResult(total=3, answers=3, changed=1, added=2, removed=1, updated=0, divergences=1)
    assert result.summary() == (
        "Recomputed the flags of 3 of 3 answer(s): 1 changed, 2 flag(s) added, 1 removed, 0 updated; 1 batch divergence score(s) recomputed."
    )
    assert json.loads(json.dumps(result.to_json()))["added"] == 2


def test_reasoning_models_are_told_by_their_template() -> None:
    assert flagging.expects_reasoning({"tokenizer.chat_template": "{{ '<think>' }}"})
    assert not flagging.expects_reasoning({"tokenizer.chat_template": "{{ messages }}"})
    assert not flagging.expects_reasoning(None)
