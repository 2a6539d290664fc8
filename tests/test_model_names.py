"""One file, one name (issue 17): the starter's SmolLM2 is "SmolLM2-135M-Instruct" however it
is found, so its runs are one model in per-model counts and in search (catalog/naming.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_model import FakeLoader
from workbench.core.catalog import ModelEntry
from workbench.core.comparison import Contender
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook import open_notebook
from workbench.core.notebook.search import SearchFilters
from workbench.core.starter import STARTER_MODELS
from workbench.core.workspace import Workspace

SMOLLM2 = STARTER_MODELS[0]
PARAMS = GenerationParams(max_tokens=16, n_ctx=256, n_threads=1, seed=3)


def _record(workspace: Workspace, find: Callable[[Workspace], ModelEntry]) -> ModelEntry:
    """Runs one prompt on the model `find` picks, through a script instead of llama."""
    try:
        entry = find(workspace)
        workspace.comparison.run("What happened in Taiwan in 1947?", [Contender(entry, PARAMS)])
        return entry
    finally:
        workspace.close()


def test_the_starter_smollm2_has_one_name_as_the_starter_by_path_and_in_gpt4all(starter_paths: list[Path], tmp_path: Path) -> None:
    smollm2 = starter_paths[0]
    home = tmp_path / "home"
    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All"
    gpt4all.mkdir(parents=True)
    shutil.copy(smollm2, gpt4all / "smollm2-135m-instruct-q4_1.gguf")
    (tmp_path / "downloads").mkdir()
    shutil.copy(smollm2, tmp_path / "downloads" / "smol.gguf")
    db = tmp_path / "nb.sqlite"

    def workspace(**kwargs: Any) -> Workspace:
        return Workspace(db, loader=FakeLoader(lambda _model, _prompt: "I can't discuss that."), **kwargs)

    starter_ws = workspace(include_other_apps=False, with_starter=True)
    starter_ws.prepare_starter()
    found = [
        _record(starter_ws, lambda ws: ws.starter_entries()[0]),
        _record(workspace(include_other_apps=False, with_starter=False), lambda ws: ws.catalog.resolve(str(tmp_path / "downloads" / "smol.gguf"))),
        _record(workspace(home=home, with_starter=False), lambda ws: next(e for e in ws.catalog.entries() if e.source == "gpt4all")),
    ]
    assert [e.source for e in found] == ["starter", "file", "gpt4all"]
    assert [e.name for e in found] == [SMOLLM2.name] * 3  # not the header's "Smollm2 135M 8k Lc100K Mix1 Ep2"
    assert [e.sha256 for e in found] == [SMOLLM2.sha256] * 3  # the copies were hashed while scanning: they are that size

    notebook = open_notebook(db)
    try:
        rows = notebook.store.db.execute("select model_name, count(*) from responses group by model_name").fetchall()
        assert rows == [(SMOLLM2.name, 3)]  # one model in per-model counts
        assert [m[0] for m in notebook.store.db.execute("select name from models").fetchall()] == [SMOLLM2.name]
        hits = notebook.search("discuss", SearchFilters(models=("SmolLM2-135M-Instruct",)))
        assert len(hits) == 3
    finally:
        notebook.close()


def test_answers_recorded_under_a_model_s_old_name_are_found_by_its_name_now(tmp_path: Path) -> None:
    """Notebooks from before the fix keep the names answers were recorded under; search by
    model also goes by the model's current name (models.name, rewritten on each use)."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        sha = SMOLLM2.sha256
        notebook.store.db["models"].insert({"sha256": sha, "name": "Smollm2 135M 8k Lc100K Mix1 Ep2", "path": "/m/smol.gguf"})
        run_id = notebook.create_run("Taiwan?")
        old = notebook.add_response(run_id, 0, model_name="Smollm2 135M 8k Lc100K Mix1 Ep2", model_sha256=sha, origin_country="US", seed=1, sampler={})
        notebook.finish_response(old, text="An old answer.")
        notebook.store.db["models"].update(sha, {"name": SMOLLM2.name})  # as recording a new run does
        assert [h.response_id for h in notebook.search("answer", SearchFilters(models=("smollm2-135m-instruct",)))] == [old]
        assert [h.response_id for h in notebook.search("answer", SearchFilters(models=("8k Lc100K",)))] == [old]
        assert notebook.run(run_id)["responses"][0]["model_name"] == "Smollm2 135M 8k Lc100K Mix1 Ep2"  # history kept as recorded
    finally:
        notebook.close()
