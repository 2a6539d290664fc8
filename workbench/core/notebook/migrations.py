"""The notebook's schema, as named steps applied in order.

Never edit a migration once released: notebooks in the wild were built by
it. Change the schema by adding the next `mNNN_…` function. The list of
applied names is also how a notebook from a newer workbench is recognised
and refused (see `database.py`).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "workbench"
migrations = Migrations(MIGRATION_SET)


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_models_runs_responses(db: Database) -> None:
    # Models are identified by content (SHA-256), so the same file moved or
    # renamed is still the same model across notebooks.
    _table(db, "models").create(
        {
            "sha256": str,
            "catalog_id": str,
            "name": str,
            "path": str,
            "file_size": int,
            "architecture": str,
            "parameters": int,
            "quantization": str,
            "context_length": int,
            "maker": str,
            "origin_country": str,
            "base_maker": str,
            "base_country": str,
            "origin_source": str,
            "license": str,
            "chat_template_sha256": str,
            "metadata": str,  # JSON: the small GGUF key/values
            "first_seen": str,
            "last_seen": str,
        },
        pk="sha256",
        not_null={"name", "path"},
    )
    _table(db, "runs").create(
        {
            "id": int,
            "uid": str,  # stable across export and import
            "created_at": str,  # ISO 8601, UTC
            "prompt": str,
            "system_prompt": str,
            "language": str,  # "en", "zh", or null when unclear
            "settings": str,  # JSON: the shared GenerationParams
            "schedule": str,  # "sequential" or "parallel"
            "app_version": str,
        },
        pk="id",
        not_null={"uid", "created_at", "prompt"},
    )
    _table(db, "runs").create_index(["uid"], unique=True)
    _table(db, "runs").create_index(["created_at"])
    _table(db, "responses").create(
        {
            "id": int,
            "uid": str,
            "run_id": int,
            "position": int,  # the pane, left to right
            "model_sha256": str,
            "model_name": str,
            "origin_country": str,
            "status": str,  # "pending", "streaming", or "done"
            "text": str,
            "reasoning": str,
            "finish_reason": str,  # see engine.backend FINISH_*
            "error": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "ttft_s": float,
            "tokens_per_s": float,
            "duration_s": float,
            "load_s": float,
            "seed": int,
            "sampler": str,  # JSON: the GenerationParams this model used
            "llama_cpp_version": str,
            "chat_template": str,  # "gguf" or "fallback:chatml"
            "template_sha256": str,
            "timeline": str,  # JSON [[ms, 0=answer|1=reasoning, chars], ...] for replay
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"uid", "run_id", "position", "model_name", "status"},
        foreign_keys=[("run_id", "runs", "id"), ("model_sha256", "models", "sha256")],
        defaults={"text": "", "reasoning": "", "status": "pending"},
    )
    _table(db, "responses").create_index(["uid"], unique=True)
    _table(db, "responses").create_index(["run_id", "position"])
    _table(db, "responses").create_index(["model_sha256"])


def applied_names(db: Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


def known_names() -> list[str]:
    """Every migration this workbench knows, in order (all are pending on an empty database)."""
    return [m.name for m in migrations.pending(Database(memory=True))]
