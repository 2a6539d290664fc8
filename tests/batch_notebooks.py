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
        notebook.db["models"].insert({"sha256": m.sha256, "name": m.name, "path": m.path})
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
