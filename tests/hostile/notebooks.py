"""Notebooks made for a hostile test: one run whose text carries what the test needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.notebook import open_notebook


def one_answer(db: Path, prompt: str, text: str, *, model_name: str = "Someone", origin_country: str | None = None, **finish: Any) -> int:
    """Make a notebook at `db` with one run: `prompt`, answered `text` by `model_name`
    (`finish`: more of the answer's fields, e.g. reasoning). The answer's id, for notes."""
    notebook = open_notebook(db)
    try:
        run_id = notebook.create_run(prompt)
        answer_id = notebook.add_response(run_id, 0, model_name=model_name, model_sha256=None, origin_country=origin_country, seed=1, sampler={})
        notebook.finish_response(answer_id, text=text, finish_reason="stop", **finish)
    finally:
        notebook.close()
    return answer_id
