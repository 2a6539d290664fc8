"""One chat template, one hash: the catalog (Details, the models row), the run's record
(from the model's own process) and the export all give SHA-256 of the bytes the GGUF stores."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import gguf
from sqlite_utils import Database

from gguf_factory import CHATML_TEMPLATE, write_tiny_model
from workbench.core.chat_template import chat_template, chat_template_sha256
from workbench.core.comparison import Contender
from workbench.core.engine.params import GenerationParams
from workbench.core.export import Selection, collect, render
from workbench.core.notebook import migrations, open_notebook
from workbench.core.workspace import Workspace

# Templates from Hugging Face often end in a newline; llama.cpp renders with it.
TEMPLATE = "\n" + CHATML_TEMPLATE + "\n"


def _stored_bytes(path: Path) -> bytes:
    field = gguf.GGUFReader(path).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]])


def test_the_catalog_the_run_record_and_the_export_agree_on_the_stored_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_model(folder / "newline.gguf", name="Newline Template", chat_template=TEMPLATE)
    expected = hashlib.sha256(_stored_bytes(folder / "newline.gguf")).hexdigest()
    assert _stored_bytes(folder / "newline.gguf").endswith(b"\n")

    workspace = Workspace(tmp_path / "nb.sqlite", [folder], include_other_apps=False, with_starter=False)
    try:
        entry = workspace.catalog.resolve("newline")
        assert entry.metadata is not None and entry.metadata.chat_template == TEMPLATE
        assert entry.metadata.chat_template_sha256 == expected  # Details shows this one

        params = GenerationParams(max_tokens=4, n_ctx=256, n_threads=1, seed=1)
        outcome = workspace.comparison.run("Hello", [Contender(entry, params)])
        (response,) = workspace.notebook.run(outcome.run_id)["responses"]
        assert response["chat_template"] == "gguf"
        assert response["template_sha256"] == expected  # hashed in the model's process, by llama.cpp's copy
        assert workspace.notebook.model(response["model_sha256"])["chat_template_sha256"] == expected

        data = collect(workspace.notebook, Selection(everything=True))
        records = [json.loads(line) for line in render(data, "jsonl").splitlines()]
        assert [r["chat_template_sha256"] for r in records if r.get("type") == "model"] == [expected]
        assert [r["template_sha256"] for r in records if r.get("type") == "response"] == [expected]
    finally:
        workspace.close()


def test_a_template_is_taken_as_stored_and_an_empty_one_is_none() -> None:
    assert chat_template({"tokenizer.chat_template": "  {{ x }}\n"}) == "  {{ x }}\n"
    assert chat_template({"tokenizer.chat_template": ""}) is None
    assert chat_template({"tokenizer.chat_template": 3}) is None
    assert chat_template({}) is None
    assert chat_template_sha256("台\n") == hashlib.sha256("台\n".encode()).hexdigest()


def test_m008_gives_saved_model_rows_the_hash_their_responses_carry(tmp_path: Path) -> None:
    """Rows the catalog wrote before the fix held the hash of the stripped template."""
    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before="m008_model_template_hash_of_stored_bytes")
    stripped = hashlib.sha256(TEMPLATE.strip().encode()).hexdigest()
    exact = hashlib.sha256(TEMPLATE.encode()).hexdigest()
    metadata = json.dumps({"general.name": "Old", "tokenizer.chat_template": TEMPLATE})
    db["models"].insert({"sha256": "a" * 64, "name": "Old", "path": "/m/old.gguf", "chat_template_sha256": stripped, "metadata": metadata})
    db["models"].insert({"sha256": "b" * 64, "name": "No template kept", "path": "/m/b.gguf", "chat_template_sha256": "c" * 64, "metadata": "{}"})
    db["runs"].insert({"id": 1, "uid": "r1", "created_at": "2026-01-01T00:00:00.000+00:00", "prompt": "p"})
    db["responses"].insert({"uid": "a1", "run_id": 1, "position": 0, "model_sha256": "a" * 64, "model_name": "Old", "status": "done", "template_sha256": exact})
    db.conn.close()

    notebook = open_notebook(path)
    try:
        assert notebook.model("a" * 64)["chat_template_sha256"] == exact
        assert notebook.model("b" * 64)["chat_template_sha256"] == "c" * 64  # nothing to recompute it from: left as it was
        assert notebook.run(1)["responses"][0]["template_sha256"] == exact
    finally:
        notebook.close()
