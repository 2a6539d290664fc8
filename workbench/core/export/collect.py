"""What an export holds: the selected runs with everything known about them.

One `collect()` call reads the notebook in a few bulk queries (not one per
run: an export of 10,000 answers must not cost 70,000 round trips) and
returns plain records, keyed by the stable `uid`s rather than local ids, so
every format (and the JSON Lines file a colleague imports) describes the
same evidence in the same words. The record fields are documented in
docs/export-format.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import __version__
from ..notebook.stamps import utc_now

if TYPE_CHECKING:
    from ..notebook.database import Notebook

FORMAT_NAME = "model-values-workbench"
# 2: `vote` records (audience votes, m004). A version-1 reader refuses a
# version-2 file as "from a newer workbench" instead of tripping over an
# unknown record type; version-1 files still import (they have no votes).
# 3: follow-up turns (m009): a run's `turns`, a response's `turn`. Older files
# still import, as runs of one turn.
FORMAT_VERSION = 3


@dataclass(frozen=True)
class Selection:
    """Which runs to export: some runs by id, a session, a batch, or all of them (exactly one)."""

    run_ids: tuple[int, ...] = ()
    session_id: int | None = None
    batch_id: int | None = None
    everything: bool = False

    def __post_init__(self) -> None:
        chosen = sum((bool(self.run_ids), self.session_id is not None, self.batch_id is not None, self.everything))
        if chosen != 1:
            raise ValueError("Choose exactly one of: runs by id, a session, a batch, or all runs.")

    def describe(self) -> dict[str, Any]:
        if self.run_ids:
            return {"runs": list(self.run_ids)}
        if self.session_id is not None:
            return {"session": self.session_id}
        if self.batch_id is not None:
            return {"batch": self.batch_id}
        return {"all": True}


@dataclass
class ExportData:
    """Everything one export writes; each list holds records as docs/export-format.md describes them.

    `runs` nest what belongs to them: a run record carries `responses` (its
    first turn's), `turns` (its follow-ups, turn 1 on: `turn`, `prompt`, `language`,
    `created_at` and their own `responses`), `notes` (on the run as a whole),
    `assessments`, `flags`, `votes` and `session_run`; a response carries `turn`,
    `labels`, `spans`, `notes` and `flags`. The writers flatten this (JSON Lines) or
    lay it out (reports).
    """

    selection: dict[str, Any]
    exported_at: str
    models: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    # The batch item behind each run that came from a prompt set, by local run id:
    # its batch id, prompt id, topic, kind, language and translation_of, for the reports'
    # summary (topics are known only for batch answers) and language tables. Batches themselves
    # are not exported, so the JSON Lines writer leaves this out.
    batch_prompts: dict[int, dict[str, Any]] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        """The first line of a JSON Lines export, and the provenance block of every report."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "app_version": __version__,
            "exported_at": self.exported_at,
            "selection": self.selection,
            "provenance": provenance(self),
        }

    def responses(self) -> list[dict[str, Any]]:
        """The runs' first answers, those the Summary's rates count (a follow-up asks
        something else of the same models: counted with them, it would weigh one
        prompt twice)."""
        return [response for run in self.runs for response in run["responses"]]

    def every_response(self) -> list[dict[str, Any]]:
        """Every answer exported, follow-ups included: what provenance and agreement describe."""
        return [response for run in self.runs for response in every_turn_response(run)]

    def annotators(self) -> list[str]:
        names: set[str] = set()
        for run in self.runs:
            for item in (*run["notes"], *run["assessments"], *run["votes"]):
                names.add(item["annotator"])
            if run["session_run"]:
                names.add(run["session_run"]["annotator"])
            for response in every_turn_response(run):
                names.update(item["annotator"] for item in (*response["labels"], *response["spans"], *response["notes"]))
        return sorted(names)


def every_turn_response(run: dict[str, Any]) -> list[dict[str, Any]]:
    """A run record's answers of every turn, in the conversation's order."""
    return [*run["responses"], *(response for turn in run["turns"] for response in turn["responses"])]


def vote_counts(run: dict[str, Any]) -> dict[str, int]:
    """A run record's votes per choice, summed over annotators (as the window's tally adds them)."""
    counts: dict[str, int] = {}
    for vote in run["votes"]:
        counts[vote["choice"]] = counts.get(vote["choice"], 0) + vote["count"]
    return counts


def provenance(data: ExportData) -> dict[str, Any]:
    """Where the evidence came from: versions, models, seeds and settings, times, people."""
    models = {m["sha256"]: m for m in data.models}
    used: dict[str, dict[str, Any]] = {}
    for response in data.every_response():
        sha = response["model_sha256"]
        entry = used.setdefault(
            sha or "",
            {
                "sha256": sha,
                "name": models[sha]["name"] if sha in models else response["model_name"],
                "quantization": models[sha]["quantization"] if sha in models else None,
                "template_sha256": [],
                "llama_cpp_versions": [],
            },
        )
        for key, value in (("template_sha256", response["template_sha256"]), ("llama_cpp_versions", response["llama_cpp_version"])):
            if value and value not in entry[key]:
                entry[key].append(value)
    created = [run["created_at"] for run in data.runs]
    return {
        "app_versions": sorted({run["app_version"] for run in data.runs if run["app_version"]}),
        "llama_cpp_versions": sorted({r["llama_cpp_version"] for r in data.every_response() if r["llama_cpp_version"]}),
        "models": [used[key] for key in sorted(used)],
        "runs": len(data.runs),
        "responses": len(data.every_response()),
        "first_run_at": min(created) if created else None,
        "last_run_at": max(created) if created else None,
        "annotators": data.annotators(),
    }


def resolve_runs(notebook: Notebook, selection: Selection) -> list[int]:
    """The selected runs' ids, oldest first. LookupError names what is not in the notebook."""
    with notebook.store.reading() as db:
        if selection.run_ids:
            wanted = list(dict.fromkeys(selection.run_ids))
            found = {row[0] for row in db.execute("select id from runs where id in (select value from json_each(?))", [json.dumps(wanted)])}
            missing = [run_id for run_id in wanted if run_id not in found]
            if missing:
                raise LookupError(f"There is no run {', '.join(map(str, missing))} in the notebook {notebook.path}.")
            return sorted(wanted)
        if selection.session_id is not None:
            if db.execute("select 1 from sessions where id = ?", [selection.session_id]).fetchone() is None:
                raise LookupError(f"There is no session {selection.session_id} in the notebook {notebook.path}.")
            return [row[0] for row in db.execute("select run_id from session_runs where session_id = ? order by run_id", [selection.session_id])]
        if selection.batch_id is not None:
            return _batch_runs(notebook, db, selection.batch_id)
        return [row[0] for row in db.execute("select id from runs order by id")]


def _batch_runs(notebook: Notebook, db: Any, batch_id: int) -> list[int]:
    """A batch's runs (its items' runs, m003). A notebook from before batches says so plainly."""
    if db.execute("select 1 from sqlite_master where type = 'table' and name = 'batches'").fetchone() is None:
        raise LookupError(
            f"The notebook {notebook.path} has no batches yet (batches arrive with prompt sets); export runs, a session or --all instead."
        )
    if db.execute("select 1 from batches where id = ?", [batch_id]).fetchone() is None:
        raise LookupError(f"There is no batch {batch_id} in the notebook {notebook.path}.")
    return [row[0] for row in db.execute("select distinct run_id from batch_items where batch_id = ? and run_id is not null order by run_id", [batch_id])]


def collect(notebook: Notebook, selection: Selection) -> ExportData:
    """Read the selected runs and all that belongs to them, in one consistent snapshot."""
    run_ids = resolve_runs(notebook, selection)
    data = ExportData(selection=selection.describe(), exported_at=utc_now())
    ids = json.dumps(run_ids)
    selected = "select value from json_each(:ids)"
    with notebook.store.reading() as db:
        # One read transaction, so a writer thread can't slip a change in between queries.
        db.execute("begin")
        try:
            runs = {row["id"]: _run_record(row) for row in db.query(f"select * from runs where id in ({selected}) order by id", {"ids": ids})}
            follow_ups: dict[tuple[int, int], dict[str, Any]] = {}
            for row in db.query(f"select * from turns where run_id in ({selected}) and turn > 0 order by run_id, turn", {"ids": ids}):
                turn = {"turn": row["turn"], "prompt": row["prompt"], "language": row["language"], "created_at": row["created_at"], "responses": []}
                follow_ups[(row["run_id"], row["turn"])] = turn
                runs[row["run_id"]]["turns"].append(turn)
            responses: dict[int, dict[str, Any]] = {}
            response_uid: dict[int, str] = {}
            for row in db.query(f"select * from responses where run_id in ({selected}) order by run_id, turn, position, id", {"ids": ids}):
                record = _response_record(row, runs[row["run_id"]]["uid"])
                responses[row["id"]] = record
                response_uid[row["id"]] = row["uid"]
                turn_key = (row["run_id"], row["turn"])
                (follow_ups[turn_key] if row["turn"] else runs[row["run_id"]])["responses"].append(record)
            in_runs = f"response_id in (select id from responses where run_id in ({selected}))"
            for row in db.query(f"select * from response_labels where {in_runs} order by response_id, id", {"ids": ids}):
                responses[row["response_id"]]["labels"].append(
                    {"response": response_uid[row["response_id"]], "label": row["label"], **_audit(row)}
                )
            span_labels: dict[int, list[dict[str, Any]]] = {}
            for row in db.query(
                f"select * from span_labels where span_id in (select id from spans where {in_runs}) order by span_id, id", {"ids": ids}
            ):
                span_labels.setdefault(row["span_id"], []).append({"label": row["label"], **_audit(row)})
            for row in db.query(f"select * from spans where {in_runs} order by response_id, start, id", {"ids": ids}):
                responses[row["response_id"]]["spans"].append(
                    {
                        "uid": row["uid"],
                        "response": response_uid[row["response_id"]],
                        "field": row["field"],
                        "start": row["start"],
                        "end": row["end"],
                        "quote": row["quote"],
                        "note": row["note"],
                        **_audit(row),
                        "labels": span_labels.get(row["id"], []),
                    }
                )
            for row in db.query(f"select * from notes where run_id in ({selected}) order by run_id, id", {"ids": ids}):
                note = {
                    "run": runs[row["run_id"]]["uid"],
                    "response": response_uid.get(row["response_id"]) if row["response_id"] is not None else None,
                    "body": row["body"],
                    **_audit(row),
                }
                target = responses[row["response_id"]] if row["response_id"] is not None else runs[row["run_id"]]
                target["notes"].append(note)
            for row in db.query(f"select * from run_annotations where run_id in ({selected}) order by run_id, id", {"ids": ids}):
                runs[row["run_id"]]["assessments"].append(
                    {"run": runs[row["run_id"]]["uid"], "divergence": row["divergence"], "summary": row["summary"], **_audit(row)}
                )
            for row in db.query(f"select * from flags where run_id in ({selected}) order by run_id, id", {"ids": ids}):
                flag = {
                    "run": runs[row["run_id"]]["uid"],
                    "response": response_uid.get(row["response_id"]) if row["response_id"] is not None else None,
                    "name": row["name"],
                    "source": row["source"],
                    "detector": row["detector"],
                    "evidence": json.loads(row["evidence"] or "null"),
                    "basis": row["basis"],
                    "confidence": row["confidence"],
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                }
                (responses[row["response_id"]] if row["response_id"] is not None else runs[row["run_id"]])["flags"].append(flag)
            # Ordered by their natural key, not by id: a notebook that imported them
            # (other ids) exports them in the same order.
            for row in db.query(f"select * from votes where run_id in ({selected}) order by run_id, choice, annotator", {"ids": ids}):
                runs[row["run_id"]]["votes"].append(
                    {"uid": row["uid"], "run": runs[row["run_id"]]["uid"], "choice": row["choice"], "count": row["count"], **_audit(row)}
                )
            session_uids: dict[int, str] = {}
            for row in db.query(
                f"select * from sessions where id in (select session_id from session_runs where run_id in ({selected})) order by id", {"ids": ids}
            ):
                session_uids[row["id"]] = row["uid"]
                data.sessions.append({"uid": row["uid"], "name": row["name"], "archived_at": row["archived_at"], **_audit(row)})
            for row in db.query(f"select * from session_runs where run_id in ({selected})", {"ids": ids}):
                runs[row["run_id"]]["session_run"] = {"run": runs[row["run_id"]]["uid"], "session": session_uids[row["session_id"]], **_audit(row)}
            # A link is exported when both of its runs are: half a link would point nowhere.
            for row in db.query(
                f"select * from run_links where run_a in ({selected}) and run_b in ({selected}) order by run_a, run_b, id", {"ids": ids}
            ):
                data.links.append(
                    {"kind": row["kind"], "run_a": runs[row["run_a"]]["uid"], "run_b": runs[row["run_b"]]["uid"], "note": row["note"], **_audit(row)}
                )
            used_models = sorted({r["model_sha256"] for r in responses.values() if r["model_sha256"]})
            for row in db.query("select * from models where sha256 in (select value from json_each(:shas)) order by sha256", {"shas": json.dumps(used_models)}):
                data.models.append(_model_record(row))
            data.labels = [_label_record(row) for row in db.query("select * from labels order by position, id")]
            for row in db.query(
                f"select run_id, batch_id, prompt_id, topic, kind, language, translation_of from batch_items where run_id in ({selected}) order by id",
                {"ids": ids},
            ):
                data.batch_prompts.setdefault(row.pop("run_id"), row)
        finally:
            db.execute("commit")
    data.runs = list(runs.values())
    return data


def _audit(row: dict[str, Any]) -> dict[str, Any]:
    return {"annotator": row["annotator"], "created_at": row["created_at"], "updated_at": row["updated_at"]}


def _run_record(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],  # local: shown in reports as "run N", ignored on import
        "uid": row["uid"],
        "created_at": row["created_at"],
        "prompt": row["prompt"],
        "system_prompt": row["system_prompt"],
        "language": row["language"],
        "settings": json.loads(row["settings"] or "{}"),
        "schedule": row["schedule"],
        "app_version": row["app_version"],
        "responses": [],
        "turns": [],
        "notes": [],
        "assessments": [],
        "flags": [],
        "votes": [],
        "session_run": None,
    }


RESPONSE_FIELDS = (
    "uid", "turn", "position", "model_sha256", "model_name", "origin_country", "status", "text", "reasoning",
    "finish_reason", "error", "prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s", "duration_s",
    "load_s", "seed", "llama_cpp_version", "chat_template", "template_sha256", "started_at", "finished_at",
)  # fmt: skip


def _response_record(row: dict[str, Any], run_uid: str) -> dict[str, Any]:
    record: dict[str, Any] = {"id": row["id"], "run": run_uid}
    record.update({key: row[key] for key in RESPONSE_FIELDS})
    record["text"] = record["text"] or ""
    record["reasoning"] = record["reasoning"] or ""
    record["sampler"] = json.loads(row["sampler"] or "{}")
    record["timeline"] = json.loads(row["timeline"] or "[]")
    record.update({"labels": [], "spans": [], "notes": [], "flags": []})
    return record


MODEL_FIELDS = (
    "sha256", "catalog_id", "name", "file_size", "architecture", "parameters", "quantization", "context_length",
    "maker", "origin_country", "base_maker", "base_country", "origin_source", "license", "chat_template_sha256",
    "first_seen", "last_seen",
)  # fmt: skip


def _model_record(row: dict[str, Any]) -> dict[str, Any]:
    record = {key: row[key] for key in MODEL_FIELDS}
    # Only the file's name: the full path would tell the reader of a shared
    # file about the exporter's folders (home directory, user name).
    record["file_name"] = os.path.basename(row["path"] or "")
    record["metadata"] = json.loads(row["metadata"] or "{}")
    return record


def _label_record(row: dict[str, Any]) -> dict[str, Any]:
    record = {"name": row["name"], "title": row["title"], "definition": row["definition"], "colour": row["colour"], "builtin": bool(row["builtin"])}
    if not row["builtin"]:
        # Built-in labels are the app's (m002 wrote them); their timestamps
        # only say when a notebook was created, so they are left out.
        record.update(_audit(row))
    return record
