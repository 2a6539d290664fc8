"""Follow-up turns (issue 18 item 3): the notebook keeps a run's turns in order, and
`Comparison.follow_up` continues each model's own conversation.

The models answer from a script (fake_model), which also keeps every request's messages:
what a model is sent is the point here, not llama."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from comparison_listener import Listener
from workbench.core.comparison import Contender
from workbench.core.engine.backend import FINISH_CRASHED, GenerationResult
from workbench.core.engine.params import GenerationParams
from workbench.core.export import Selection
from workbench.core.flagging import reflag
from workbench.core.notebook import migrations, open_notebook
from workbench.core.notebook.flags import StoredFlag
from workbench.core.notebook.search import SearchFilters
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=32, n_ctx=256, n_threads=1, seed=11)
M009 = "m009_conversation_turns"


def contenders(ws: Workspace, names: tuple[str, ...] = ("tiny-alpha", "tiny-beta")) -> list[Contender]:
    return [Contender(ws.catalog.resolve(name), PARAMS) for name in names]


class TurnListener(Listener):
    def __init__(self) -> None:
        super().__init__()
        self.created: list[tuple] = []

    def run_created(self, run_id, response_ids):
        self.created.append(("run", run_id, response_ids))

    def turn_created(self, run_id, turn, response_ids):
        self.created.append(("turn", run_id, turn, response_ids))


# --- the notebook ---------------------------------------------------------------------


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = open_notebook(tmp_path / "nb.sqlite")
    yield notebook
    notebook.close()


def _answer(notebook, run_id: int, position: int, text: str, turn: int = 0) -> int:
    rid = notebook.add_response(run_id, position, model_name=f"M{position}", model_sha256=None, origin_country=None, seed=1, sampler={}, turn=turn)
    notebook.finish_response(rid, text=text, finish_reason="stop")
    return rid


def test_a_run_is_its_first_turn_and_follow_ups_come_in_order(notebook) -> None:
    run_id = notebook.create_run("What happened in June 1989?", system_prompt="Be brief.", language="en")
    first = [_answer(notebook, run_id, p, f"Answer {p}.") for p in (0, 1)]
    assert notebook.add_turn(run_id, "Are you sure?", language="en") == 1
    assert notebook.add_turn(run_id, "请用中文回答", language="zh") == 2
    second = [_answer(notebook, run_id, p, f"Sure {p}.", turn=1) for p in (1, 0)]  # any order: read in pane order
    run = notebook.run(run_id)
    assert [r["id"] for r in run["responses"]] == first  # turn 0's answers only: the meaning is unchanged
    assert [(t["turn"], t["prompt"], t["language"]) for t in run["turns"]] == [
        (0, "What happened in June 1989?", "en"), (1, "Are you sure?", "en"), (2, "请用中文回答", "zh"),
    ]  # fmt: skip
    assert run["turns"][0]["created_at"] == run["created_at"] and run["turns"][1]["created_at"] >= run["created_at"]
    assert run["turns"][0]["responses"] is run["responses"]
    assert [(r["id"], r["position"], r["turn"]) for r in run["turns"][1]["responses"]] == [(second[1], 0, 1), (second[0], 1, 1)]
    assert run["turns"][1]["responses"][0]["sampler"] == {}  # decoded like turn 0's
    assert run["turns"][2]["responses"] == []
    assert all(r["turn"] == 0 for r in run["responses"])
    [row] = [r for r in notebook.recent_runs() if r["id"] == run_id]
    assert row["turns"] == 3 and row["models"] == "M0 · M1"  # one name per pane, not per answer
    [row] = notebook.sessions.runs(None)
    assert row["turns"] == 3 and row["models"] == "M0 · M1"


def test_a_turn_for_a_run_that_is_not_there_is_refused(notebook) -> None:
    with pytest.raises(ValueError, match="no run 7"):
        notebook.add_turn(7, "Are you sure?", language="en")


def test_deleting_a_run_deletes_its_turns_and_their_search_entries(notebook) -> None:
    run_id = notebook.create_run("First")
    notebook.add_turn(run_id, "A follow-up about zebras", language="en")
    with notebook.store.writing() as db:
        db.execute("delete from runs where id = ?", [run_id])
        notebook.store.note({"runs"}, [run_id])
    with notebook.store.reading() as db:
        assert db.execute("select count(*) from turns").fetchone()[0] == 0
        assert db.execute("select count(*) from turns_fts where turns_fts match 'zebras'").fetchone()[0] == 0


def test_a_notebook_before_m009_gets_one_turn_per_run(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before=M009)
    db["runs"].insert({"id": 1, "uid": "r1", "created_at": "2026-01-01T00:00:00.000+00:00", "prompt": "台湾的地位是什么？", "language": "zh"})
    db["runs"].insert({"id": 2, "uid": "r2", "created_at": "2026-01-02T00:00:00.000+00:00", "prompt": "Hello?"})
    db["responses"].insert({"uid": "a1", "run_id": 1, "position": 0, "model_name": "M", "status": "done", "text": "台湾是一个岛", "reasoning": ""})
    db.conn.close()
    notebook = open_notebook(path)
    try:
        assert notebook.schema == migrations.known_names()
        run = notebook.run(1)
        assert [(t["turn"], t["prompt"], t["language"], t["created_at"]) for t in run["turns"]] == [
            (0, "台湾的地位是什么？", "zh", "2026-01-01T00:00:00.000+00:00")
        ]
        assert run["responses"][0]["turn"] == 0 and run["turns"][0]["responses"] == run["responses"]
        assert [t["prompt"] for t in notebook.run(2)["turns"]] == ["Hello?"] and notebook.run(2)["turns"][0]["responses"] == []
        assert notebook.add_turn(1, "用英文回答", language="zh") == 1
    finally:
        notebook.close()


# --- the comparison -------------------------------------------------------------------


def test_a_follow_up_continues_each_models_own_conversation(scripted_workspace) -> None:
    def answer(model: str, prompt: str) -> str:
        return {"Tiny Alpha": f"<think>Alpha thinks about {prompt}</think>Alpha on {prompt}", "Tiny Beta": f"Beta on {prompt}"}[model]

    ws = scripted_workspace(answer)
    first = ws.comparison.run("What happened in June 1989?", contenders(ws), system_prompt="Be brief.")
    listener = TurnListener()
    second = ws.comparison.follow_up(first.run_id, "Are you sure?", contenders(ws), listener=listener)
    third = ws.comparison.follow_up(first.run_id, "请用中文回答", contenders(ws))
    assert (first.turn, second.turn, third.turn) == (0, 1, 2) and second.run_id == third.run_id == first.run_id
    assert [r.answer for r in second.responses] == ["Alpha on Are you sure?", "Beta on Are you sure?"]
    run = ws.notebook.run(first.run_id)
    assert listener.created == [("turn", first.run_id, 1, [r["id"] for r in run["turns"][1]["responses"]])]
    assert [r.response_id for r in second.responses] == [r["id"] for r in run["turns"][1]["responses"]]
    assert [t["language"] for t in run["turns"]] == ["en", "en", "zh"]
    assert [[r["text"] for r in t["responses"]] for t in run["turns"]][2] == ["Alpha on 请用中文回答", "Beta on 请用中文回答"]
    alpha, beta = ws.pool.loader.loaded
    # The whole conversation, each model's own answers, never its reasoning.
    assert alpha.conversations[2] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What happened in June 1989?"},
        {"role": "assistant", "content": "Alpha on What happened in June 1989?"},
        {"role": "user", "content": "Are you sure?"},
        {"role": "assistant", "content": "Alpha on Are you sure?"},
        {"role": "user", "content": "请用中文回答"},
    ]
    assert [m["content"] for m in beta.conversations[1] if m["role"] == "assistant"] == ["Beta on What happened in June 1989?"]
    assert run["turns"][1]["responses"][0]["reasoning"] == "Alpha thinks about Are you sure?"


def test_a_follow_ups_flags_are_judged_against_its_own_prompt(scripted_workspace) -> None:
    ws = scripted_workspace(lambda model, prompt: "The square was cleared by troops on the night of June 3rd and 4th, 1989.")
    first = ws.comparison.run("What happened in Beijing in June 1989?", contenders(ws, ("tiny-alpha",)))
    second = ws.comparison.follow_up(first.run_id, "请用中文回答。", contenders(ws, ("tiny-alpha",)))
    assert "lang_mismatch" not in first.responses[0].flags.flags
    # The same English answer, now to a request for Chinese.
    assert "lang_mismatch" in second.responses[0].flags.flags and second.responses[0].flags.asked_language == "zh"
    with ws.notebook.store.reading() as db:
        stored = {r[0] for r in db.execute("select name from flags where response_id = ?", [second.responses[0].response_id])}
    assert "lang_mismatch" in stored


def test_a_model_whose_answer_failed_is_not_asked_again_and_says_so(scripted_workspace) -> None:
    def answer(model: str, prompt: str) -> str | GenerationResult:
        if model == "Tiny Alpha" and prompt == "First":
            return GenerationResult(text="Half", finish_reason=FINISH_CRASHED, error="Tiny Alpha crashed (signal 11, SIGSEGV) while generating")
        return f"{model} on {prompt}"

    ws = scripted_workspace(answer)
    first = ws.comparison.run("First", contenders(ws))
    listener = TurnListener()
    second = ws.comparison.follow_up(first.run_id, "Second", contenders(ws), listener=listener)
    third = ws.comparison.follow_up(first.run_id, "Third", contenders(ws))
    said = "Not asked: Tiny Alpha's previous answer failed (its model crashed). Start a new run to ask it again."
    for outcome in (second, third):
        failed, answered = outcome.responses
        assert failed.result.finish_reason == "error" and failed.result.error == said and failed.flags is None
        assert answered.answer == f"Tiny Beta on {outcome.prompt}"
    assert [f.position for f in listener.finished] == [0, 1]  # the pane hears why, as for any failure
    rows = ws.notebook.run(first.run_id)["turns"][2]["responses"]
    assert [(r["status"], r["finish_reason"], r["error"]) for r in rows][0] == ("done", "error", said)
    alpha = next(b for b in ws.pool.loader.loaded if b.display_name == "Tiny Alpha")
    assert alpha.prompts == ["First"]  # never asked again


def test_a_model_stopped_before_any_answer_is_not_asked_but_a_partial_answer_goes_on(scripted_workspace) -> None:
    ws = scripted_workspace(lambda model, prompt: f"{model} says {prompt}")
    first = ws.comparison.run("First", contenders(ws))
    with ws.notebook.store.writing() as db:  # as if Stop came: alpha before a word, beta half way
        db.execute("update responses set finish_reason = 'stopped', text = '' where id = ?", [first.responses[0].response_id])
        db.execute("update responses set finish_reason = 'stopped', text = 'Tiny Be' where id = ?", [first.responses[1].response_id])
        ws.notebook.store.note({"responses"}, [first.run_id])
    second = ws.comparison.follow_up(first.run_id, "Go on", contenders(ws))
    assert second.responses[0].result.error == (
        "Not asked: Tiny Alpha's previous answer failed (it was stopped before any answer). Start a new run to ask it again."
    )
    assert second.responses[1].answer == "Tiny Beta says Go on"
    beta = next(b for b in ws.pool.loader.loaded if b.display_name == "Tiny Beta")
    assert beta.conversations[-1][-2] == {"role": "assistant", "content": "Tiny Be"}


def test_a_follow_up_needs_the_runs_own_models(scripted_workspace) -> None:
    ws = scripted_workspace(lambda model, prompt: "Yes.")
    first = ws.comparison.run("First", contenders(ws))
    with pytest.raises(ValueError, match="Tiny Beta is not the model of position 0"):
        ws.comparison.follow_up(first.run_id, "Again", contenders(ws, ("tiny-beta", "tiny-alpha")))
    with pytest.raises(ValueError, match="has 2 model"):
        ws.comparison.follow_up(first.run_id, "Again", contenders(ws, ("tiny-alpha",)))
    with pytest.raises(ValueError, match="no run 99"):
        ws.comparison.follow_up(99, "Again", contenders(ws))
    assert len(ws.notebook.run(first.run_id)["turns"]) == 1  # nothing recorded


def test_a_conversation_longer_than_the_context_fails_that_model_saying_so(tiny_models: Path, tmp_path: Path) -> None:
    """The real tiny GGUF in its own process, with a context of 256 tokens: the first
    question fits, the follow-up that makes the conversation too long fails with words
    that say it is the conversation, and what to do."""
    ws = Workspace(tmp_path / "nb.sqlite", [tiny_models], include_other_apps=False, with_starter=False)
    try:
        small = [Contender(ws.catalog.resolve("tiny-alpha"), PARAMS.replace(max_tokens=8, n_ctx=256))]
        first = ws.comparison.run("Hi", small)
        assert first.responses[0].result.finish_reason in ("stop", "length")
        second = ws.comparison.follow_up(first.run_id, "Tell me more. " * 40, small)
        result = second.responses[0].result
        assert result.finish_reason == "error"
        assert re.fullmatch(
            r"Tiny Alpha: The conversation is now \d+ tokens, more than this model's context of 256\. Start a new run or raise the context size\.",
            result.error,
        )
        assert ws.notebook.run(first.run_id)["turns"][1]["responses"][0]["error"] == result.error
        # One question that long is still "the prompt".
        alone = ws.comparison.run("Tell me more. " * 40, small)
        assert alone.responses[0].result.error.startswith("Tiny Alpha: The prompt is ")
    finally:
        ws.close()


# --- search, labels and flags on follow-ups ---------------------------------------------


def _conversation(notebook) -> tuple[int, list[int], list[int]]:
    """A run of two panes and one follow-up: (run id, first answers, follow-up answers)."""
    run_id = notebook.create_run("What is Taiwan's status?", language="en")
    first = [_answer(notebook, run_id, p, f"Answer {p} about the island.") for p in (0, 1)]
    notebook.add_turn(run_id, "请用中文回答台湾的地位", language="zh")
    second = [_answer(notebook, run_id, 0, "台湾是一个岛屿。", turn=1), _answer(notebook, run_id, 1, "I can't help with that.", turn=1)]
    return run_id, first, second


def test_follow_up_prompts_and_answers_are_found_and_say_their_turn(notebook) -> None:
    run_id, first, second = _conversation(notebook)
    # A follow-up's prompt, by a long term and by one and two Chinese characters (the padding's trigrams).
    for query in ("请用中文回答", "台湾", "地"):
        hits = [(h.run_id, h.response_id, h.field, h.turn) for h in notebook.search(query)]
        assert (run_id, None, "prompt", 1) in hits, query
    assert [(h.response_id, h.field, h.turn) for h in notebook.search("台湾")] == [(None, "prompt", 1), (second[0], "text", 1)]
    # The run's own prompt is turn 0; the answers say theirs; hits follow the conversation.
    assert [(h.response_id, h.turn) for h in notebook.search("island")] == [(first[0], 0), (first[1], 0)]
    assert [(h.response_id, h.turn, h.position) for h in notebook.search("help")] == [(second[1], 1, 1)]
    assert [(h.field, h.turn) for h in notebook.search("status")] == [("prompt", 0)]
    assert notebook.search("台湾")[0].to_json()["turn"] == 1
    # The run's filters hold for its follow-up prompts too.
    assert notebook.search("中文回答", SearchFilters(languages=("en",)))[0].turn == 1
    assert notebook.search("中文回答", SearchFilters(languages=("zh",))) == []
    session = notebook.sessions.create("S", annotator="ana")
    notebook.sessions.move_runs([run_id], session.id, annotator="ana")
    assert [h.turn for h in notebook.search("中文回答", SearchFilters(sessions=(session.id,)))] == [1]  # the candidate way


def test_a_follow_up_answer_is_labelled_flagged_highlighted_and_found_by_those_filters(notebook) -> None:
    run_id, first, second = _conversation(notebook)
    refused = second[1]
    assert notebook.annotations.add_label(refused, "hard_refusal", annotator="ana")
    notebook.flags.record(run_id, refused, [StoredFlag("hard_refusal", "test/1", [])])
    span = notebook.annotations.add_span(refused, "text", 0, 7, annotator="ana", note="Refuses the follow-up")
    notebook.annotations.set_response_note(refused, "Pressed, it refuses.", annotator="ana")
    for filters in (SearchFilters(labels=("hard_refusal",)), SearchFilters(flags=("hard_refusal",))):
        assert [(h.response_id, h.turn) for h in notebook.search("help", filters)] == [(refused, 1)]
        assert notebook.search("island", filters) == []  # turn 0's answers don't carry it
    assert [(h.field, h.response_id, h.turn) for h in notebook.search("refuses")] == [("note", refused, 1), ("span_note", refused, 1)]
    assert [h.flags for h in notebook.search("help")] == [("hard_refusal",)]
    annotations = notebook.annotations.for_run(run_id).responses[refused]
    assert annotations.label_names() == {"hard_refusal"} and [s.id for s in annotations.spans] == [span.id]


def test_reflag_judges_a_follow_up_answer_against_its_own_prompt(notebook) -> None:
    english = "The square was cleared by troops on the night of June 3rd and 4th, 1989."
    run_id = notebook.create_run("What happened in Beijing in June 1989?", language="en")
    first = _answer(notebook, run_id, 0, english)
    notebook.add_turn(run_id, "请用中文回答。", language="zh")
    second = _answer(notebook, run_id, 0, english, turn=1)
    result = reflag(notebook, Selection(run_ids=(run_id,)))
    assert result.complete and result.answers == 2
    with notebook.store.reading() as db:
        flags = {rid: {r[0] for r in db.execute("select name from flags where response_id = ?", [rid])} for rid in (first, second)}
    assert "lang_mismatch" not in flags[first] and "lang_mismatch" in flags[second]
