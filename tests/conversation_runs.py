"""Runs with follow-ups written straight into a notebook, for the tests of what reads
them (demo replay, demo files); each answer has a timeline, as a recorded one does."""

from __future__ import annotations

from typing import Any

from workbench.core.notebook.database import ModelRecord

MODELS = (("a" * 64, "Pressed model", "CN"), ("b" * 64, "Steady model", "US"))


def conversation(notebook: Any, turns: list[tuple[str, tuple[str, str]]]) -> int:
    """A run of MODELS whose turns ask each prompt, answered by the two models with their
    two texts (each arriving 100 ms after its turn began, the second 50 ms later); its id."""
    (first, _answers), *_ = turns
    for sha, name, country in MODELS:
        notebook.record_model(ModelRecord(sha, name, f"/models/{name}.gguf", origin_country=country))
    run_id = notebook.create_run(first, language="en", settings={"seed": 7})
    for index, (prompt, answers) in enumerate(turns):
        turn = 0 if index == 0 else notebook.add_turn(run_id, prompt, language=None)
        for position, ((sha, name, country), text) in enumerate(zip(MODELS, answers)):
            rid = notebook.add_response(run_id, position, model_name=name, model_sha256=sha, origin_country=country, seed=7, sampler={"temperature": 0.0}, turn=turn)
            notebook.finish_response(rid, text=text, reasoning="", finish_reason="stop", completion_tokens=5, timeline=f"[[{100 + 50 * position}, 0, {len(text)}]]")
    return run_id
