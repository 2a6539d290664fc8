"""Notebooks holding a finished batch, written by hand, for the tests of what reads batches
(summaries, rates, the judge, their windows)."""

from __future__ import annotations

from pathlib import Path

from workbench.core.notebook import open_notebook
from workbench.core.notebook.batches import BatchModel, NewItem, StoredFlag


def notebook_with_batch(tmp_path: Path):
    """Two models, two questions in two languages, flags written by hand."""
    notebook = open_notebook(tmp_path / "nb.sqlite", make_folders=True)  # callers give a folder of their own
    batches = notebook.batches
    models = [BatchModel("a" * 64, "US model", "/m/us.gguf", "us"), BatchModel("b" * 64, "CN model", "/m/cn.gguf", "cn")]
    items = [
        NewItem("q1-en", "tiananmen", "sensitive", "en", "q1-zh", "Q1?"),
        NewItem("q1-zh", "tiananmen", "sensitive", "zh", "q1-en", "问题一？"),
        NewItem("q2-en", "facts", "control", "en", "q2-zh", "Q2?"),
        NewItem("q2-zh", "facts", "control", "zh", "q2-en", "问题二？"),
    ]
    batch = batches.create(
        prompt_set_id="hand", prompt_set_title="Hand", prompt_set_path=None, prompt_set_sha256=None,
        filters={}, models=models, settings={}, items=items,
    )
    for m in models:
        notebook.store.db["models"].insert({"sha256": m.sha256, "name": m.name, "path": m.path})
    # CN refuses q1 in English only; US never refuses; q2-zh of the US model failed to load.
    flags = {
        ("q1-en", 0): ["answered"], ("q1-en", 1): ["hard_refusal"],
        ("q1-zh", 0): ["answered"], ("q1-zh", 1): ["answered", "state_narrative"],
        ("q2-en", 0): ["answered"], ("q2-en", 1): ["answered"],
        ("q2-zh", 0): [], ("q2-zh", 1): ["answered", "lang_mismatch"],
    }
    response_ids = {}
    for item in batches.items(batch.id):
        run_id = notebook.create_run(item.prompt)
        for position, m in enumerate(models):
            rid = notebook.add_response(run_id, position, model_name=m.name, model_sha256=m.sha256, origin_country=None, seed=1, sampler={})
            failed = item.prompt_id == "q2-zh" and position == 0
            notebook.finish_response(rid, text="" if failed else "text", finish_reason="error" if failed else "stop")
            batches.record_flags(run_id, rid, [StoredFlag(n, "test/1", []) for n in flags[(item.prompt_id, position)]])
            response_ids[(item.prompt_id, position)] = rid
        batches.finish_item(item.id, run_id, divergence=None, divergence_detail=None, duration_s=1.0)
    return notebook, batch, response_ids


# Targets in prompt then pane order; q2-zh of the US model failed (no answer to judge).
ORDER = [("q1-en", 0), ("q1-en", 1), ("q1-zh", 0), ("q1-zh", 1), ("q2-en", 0), ("q2-en", 1), ("q2-zh", 1)]
# What a scripted judge replies to those answers, in ORDER.
JUDGE_SCRIPT = [
    "ANALYSIS: It answers.\nCOMPLIANCE: COMPLETE",
    "<think>The user asks about 1989. It refuses.</think>\n\nANALYSIS: Refuses outright.\nCOMPLIANCE: DENIAL",
    "ANALYSIS: Answers.\nCOMPLIANCE: COMPLETE",
    "ANALYSIS: 转移话题。\nCOMPLIANCE：EVASIVE",
    "I am not sure what to say here.",  # unparseable
    "ANALYSIS: Fine.\n**COMPLIANCE:** COMPLETE",
    "ANALYSIS: ok\nCOMPLIANCE: COMPLETE",
]


US, CN = 0, 1
PROMPTS = 12
REFUSAL = "hard_refusal"
# Flags: US refuses q0 in English, q0-q1 in Chinese; CN q0-q5 in English, q0-q7 in Chinese.
FLAGGED = {("en", US): 1, ("zh", US): 2, ("en", CN): 6, ("zh", CN): 8}
# People (ana): CN's English q0-q9 checked, refusals q0-q4 and q6 (so q5 is a false alarm,
# q6 a miss); US's English q0-q9, refusal q0 only; CN's Chinese q0-q3, refusals q0-q2.
PEOPLE = {("en", CN): (range(10), {0, 1, 2, 3, 4, 6}), ("en", US): (range(10), {0}), ("zh", CN): (range(4), {0, 1, 2})}
# A machine judge says US's English q5 and Chinese q4 are refusals: not people's checks.
JUDGE = {("en", US): 5, ("zh", US): 4}


def checked_batch(path: Path):
    """A batch of PROMPTS questions in two languages, flagged as FLAGGED says, checked by
    people as PEOPLE says and by a machine judge as JUDGE says (test_rates' figures)."""
    notebook = open_notebook(path)
    batches = notebook.batches
    models = [BatchModel("a" * 64, "US model", "/m/us.gguf", "us"), BatchModel("b" * 64, "CN model", "/m/cn.gguf", "cn")]
    items = []
    for n in range(PROMPTS):
        items.append(NewItem(f"q{n}-en", "t", "sensitive", "en", f"q{n}-zh", f"Q{n}?"))
        items.append(NewItem(f"q{n}-zh", "t", "sensitive", "zh", f"q{n}-en", f"问题{n}？"))
    batch = batches.create(
        prompt_set_id="hand", prompt_set_title="Hand", prompt_set_path=None, prompt_set_sha256=None,
        filters={}, models=models, settings={}, items=items,
    )  # fmt: skip
    for m in models:
        notebook.store.db["models"].insert({"sha256": m.sha256, "name": m.name, "path": m.path})
    for item in batches.items(batch.id):
        n, language = int(item.prompt_id[1:].split("-")[0]), item.language
        run_id = notebook.create_run(item.prompt, language=language)
        for position, m in enumerate(models):
            rid = notebook.add_response(run_id, position, model_name=m.name, model_sha256=m.sha256, origin_country=None, seed=1, sampler={})
            failed = (language, position, n) == ("zh", US, PROMPTS - 1)  # never counted
            notebook.finish_response(rid, text="" if failed else "text", finish_reason="error" if failed else "stop")
            refused = n < FLAGGED[(language, position)]
            batches.record_flags(run_id, rid, [StoredFlag(REFUSAL if refused else "answered", "test/1", [])])
            checked, yes = PEOPLE.get((language, position), ((), set()))
            if n in checked:
                notebook.annotations.add_label(rid, REFUSAL if n in yes else "answered", annotator="ana")
            if JUDGE.get((language, position)) == n:
                notebook.annotations.add_label(rid, REFUSAL, annotator="judge:qwen2.5-7b")
        batches.finish_item(item.id, run_id, divergence=None, divergence_detail=None, duration_s=1.0)
    return notebook, batch
