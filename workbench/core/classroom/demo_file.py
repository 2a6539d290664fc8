"""One file that carries a demo to class: the script, its steps, and the runs it replays.

The file is a JSON Lines export (export/jsonl.py, docs/export-format.md)
of the runs the steps replay, with their answers, timelines, models'
metadata, annotations and audience votes (so the votes a class casts come
home when the demo is exported again), whose header line also holds the demo:

    {"format": "model-values-workbench", "version": 2, ...,
     "demo": {"format": "model-values-workbench-demo", "version": 1,
              "script": {uid, title, description, annotator, created_at, updated_at},
              "steps": [{uid, title, prompt, system_prompt, language, prompt_set_id,
                         prompt_id, models, settings, note, run, mode, follow_ups,
                         annotator, created_at, updated_at}, ...]}}

where a step's `run` is the uid of a run in the file (or null for a live
step), its `follow_ups` the texts a live step asks after its prompt (a file
written before steps had them has none), and the steps are in playing order. So the export's own checks
(ours, complete, consistent, not from a newer version) guard the demo too,
and `workbench import` of a demo file brings in its runs like any export.
The demo part is checked as strictly, and its problems name line 1 (the
header) and the step: times are ISO 8601, and a step's settings are what
GenerationParams takes, of its types and within its bounds, so a file can't
hand the window a temperature of "hot" or a context of -1 to play in class.

Importing merges like the importer does: everything is checked before
anything is written, the runs and the script land in one transaction, and
records already in the notebook (same uid) are left as they are, so
importing the same file twice changes nothing. A script already here keeps
your version of its steps; delete it first to take the file's.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from ..export import write
from ..export.collect import ExportData, Selection, collect
from ..engine.params import GenerationParams
from ..export.importer import IMPORTED_BY, ImportProblem, ImportResult, is_time, merge, read_file
from ..notebook.stamps import utc_now
from ..notebook.store import insert_row
from ..notebook.demos import MODES, check_follow_ups, check_models

if TYPE_CHECKING:
    from ..notebook.database import Notebook

DEMO_FORMAT = "model-values-workbench-demo"
DEMO_VERSION = 1
SUFFIX = ".demo.jsonl"
UID = re.compile(r"[0-9A-Za-z_-]{1,64}")

SCRIPT_FIELDS = {"uid": "uid", "title": "text", "description": "text", "annotator": "text", "created_at": "time", "updated_at": "time"}
STEP_FIELDS = {
    "uid": "uid", "title": "text", "prompt": "text", "system_prompt": "text", "language": "optional text",
    "prompt_set_id": "optional text", "prompt_id": "optional text", "models": "models", "settings": "object", "note": "text",
    "run": "optional uid", "mode": "mode", "follow_ups": "follow-ups", "annotator": "text", "created_at": "time", "updated_at": "time",
}  # fmt: skip
# What each kind of GenerationParams field takes from a file (JSON has no other way to
# say them): a bool is not a number here, and a float is not a whole number.
SETTING_TYPES: dict[type, tuple[str, Callable[[Any], bool]]] = {
    str: ("text", lambda v: isinstance(v, str)),
    int: ("a whole number", lambda v: type(v) is int),
    float: ("a number", lambda v: type(v) in (int, float)),  # never NaN or infinite: the parser refuses them
}


@dataclass
class _DemoExport(ExportData):
    """An export whose header also carries the demo (see the module docstring)."""

    demo: dict[str, Any] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        return {**super().header(), "demo": self.demo}


@dataclass(frozen=True)
class DemoImport:
    script_id: int
    title: str
    steps: int
    result: ImportResult

    def summary(self) -> str:
        return f"Demo script {self.title!r} ({self.steps} step(s)). {self.result.summary()}"


def export_demo(notebook: Notebook, script_id: int, path: Path | str) -> _DemoExport:
    """Write the script and everything its steps replay to `path` (all or nothing)."""
    demos = notebook.demos
    script, steps = demos.get(script_id), demos.steps(script_id)
    run_ids = tuple(sorted({s.run_id for s in steps if s.run_id is not None}))
    base = collect(notebook, Selection(run_ids=run_ids)) if run_ids else ExportData(selection={"runs": []}, exported_at=utc_now())
    data = _DemoExport(**{name: getattr(base, name) for name in ExportData.__dataclass_fields__})
    run_uid = {run["id"]: run["uid"] for run in data.runs}
    data.demo = {
        "format": DEMO_FORMAT,
        "version": DEMO_VERSION,
        "script": {name: getattr(script, name) for name in SCRIPT_FIELDS},
        "steps": [
            {
                **{name: getattr(step, name) for name in STEP_FIELDS if name != "run"},
                "models": list(step.models), "follow_ups": list(step.follow_ups), "run": run_uid.get(step.run_id),
            }  # fmt: skip
            for step in steps
        ],
    }
    write(data, "jsonl", Path(path).expanduser())
    return data


def import_demo(notebook: Notebook, path: Path | str) -> DemoImport:
    """Merge the demo file at `path`; ImportProblem (nothing changed) if it is refused."""
    path = Path(path).expanduser()
    contents = read_file(path)
    run_uids = {record["uid"] for _, kind, record in contents.records if kind == "run"}
    script, steps = _check_demo(path, contents.header.get("demo"), run_uids)
    result = ImportResult()
    with notebook.store.writing() as db:
        runs = merge(notebook.store, path, contents, result)
        row = db.execute("select id, title from demo_scripts where uid = ?", [script["uid"]]).fetchone()
        if row is not None:
            result.present["demo_scripts"] += 1
            have = [r[0] for r in db.execute("select uid from demo_steps where script_id = ? order by position", [row[0]])]
            if have != [step["uid"] for step in steps]:
                result.kept.append(f"your version of the demo script {row[1]!r} (delete it first to take the file's)")
            return DemoImport(row[0], row[1], len(have), result)
        taken = [r[0] for r in db.execute("select uid from demo_steps where uid in (select value from json_each(?))", [_json([s["uid"] for s in steps])])]
        if taken:
            raise _refuse(path, f"its step {taken[0]} belongs to another demo script in this notebook; the file contradicts it.")
        script_id = insert_row(db, "demo_scripts", script)
        result.added["demo_scripts"] += 1
        for position, step in enumerate(steps):
            run = step.pop("run")
            row = {**step, "script_id": script_id, "position": position, "run_id": runs[run] if run is not None else None}
            row.update(models=_json(step["models"]), settings=_json(step["settings"]), follow_ups=_json(step["follow_ups"]))
            db.table("demo_steps").insert(row)
            result.added["demo_steps"] += 1
        notebook.store.note({"demo_scripts", "demo_steps"}, operation="demo import")
    return DemoImport(script_id, script["title"], len(steps), result)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _refuse(path: Path, problem: str) -> ImportProblem:
    return ImportProblem(f"{path.name} was not imported: {problem} Nothing in the notebook was changed.")


def _refuse_demo(path: Path, problem: str) -> ImportProblem:
    """A problem in the demo part, which is in the header: line 1."""
    return _refuse(path, f"line 1: {problem}")


def _settings_problem(settings: dict[str, Any]) -> str | None:
    """What is wrong with a step's settings as GenerationParams would take them, or None.

    Keys GenerationParams does not know are a newer version's, ignored as `from_dict`
    ignores them; the others must have the field's type and pass its own checks (bounds).
    """
    types = typing.get_type_hints(GenerationParams)
    for name, value in settings.items():
        if types.get(name) in SETTING_TYPES:
            what, fits = SETTING_TYPES[types[name]]
            if not fits(value):
                return f"{name!r} must be {what}, not {value!r:.40}"
    try:
        GenerationParams.from_dict(settings)
    except (TypeError, ValueError) as problem:  # TypeError: a field of another type, given the wrong one
        return str(problem)
    return None


def _check_demo(path: Path, demo: Any, run_uids: set[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The script and its steps, checked; ImportProblem names the first problem."""
    if demo is None:
        raise _refuse(path, "it is a notebook export without a demo script. Import it with File > Import… (or `workbench import`).")
    if not isinstance(demo, dict) or demo.get("format") != DEMO_FORMAT:
        raise _refuse_demo(path, "its demo part is not a Model Values Workbench demo script.")
    version = demo.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse_demo(path, f"its demo format version {version!r:.20} is not one this workbench knows.")
    if version > DEMO_VERSION:
        raise _refuse(path, f"it was written by a newer workbench (demo format version {version}; this one reads up to {DEMO_VERSION}). Update the workbench to import it.")
    script = _check_record(path, "the script", demo.get("script"), SCRIPT_FIELDS, run_uids)
    script["title"] = " ".join(script["title"].split())
    if not script["title"]:
        raise _refuse_demo(path, "the script has no title.")
    steps_in = demo.get("steps")
    if not isinstance(steps_in, list):
        raise _refuse_demo(path, "its steps are not a list.")
    steps = [_check_record(path, f"step {n}", step, STEP_FIELDS, run_uids) for n, step in enumerate(steps_in, 1)]
    seen: set[str] = set()
    for n, step in enumerate(steps, 1):
        if step["uid"] in seen:
            raise _refuse_demo(path, f"step {n} repeats the uid of an earlier step.")
        seen.add(step["uid"])
        if not step["prompt"].strip():
            raise _refuse_demo(path, f"step {n} has no prompt.")
        if step["mode"] != "live" and step["run"] is None:
            raise _refuse_demo(path, f"step {n} replays a run but names none.")
        problem = _settings_problem(step["settings"])
        if problem:
            raise _refuse_demo(path, f"step {n}: 'settings': {problem}.")
    return script, steps


def _check_record(path: Path, what: str, record: Any, fields: dict[str, str], run_uids: set[str]) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _refuse_demo(path, f"{what} is not a JSON object.")
    checked: dict[str, Any] = {}
    for name, kind in fields.items():
        if name not in record and kind != "follow-ups":  # follow-ups came later: a file without them has none
            raise _refuse_demo(path, f"{what} has no {name!r}.")
        value = record.get(name, [])
        if value is None and kind.startswith("optional"):
            checked[name] = None
            continue
        kind = kind.removeprefix("optional ")
        ok = {
            "text": isinstance(value, str),
            "time": is_time(value),
            "uid": isinstance(value, str) and UID.fullmatch(value) is not None,
            "object": isinstance(value, dict),
            "mode": value in MODES,
            "models": True,
            "follow-ups": True,
        }[kind]
        try:
            if kind == "models":
                value = list(check_models(value))
            elif kind == "follow-ups":
                value = list(check_follow_ups(value))
        except ValueError as problem:
            raise _refuse_demo(path, f"{what}: {problem}") from None
        if not ok:
            raise _refuse_demo(path, f"{what}: {name!r} is not valid ({value!r:.60}).")
        if name == "run" and value not in run_uids:
            raise _refuse_demo(path, f"{what} replays the run {value}, which is not in the file.")
        checked[name] = value
    if "annotator" in checked:
        # As check_annotator stores names; a file's empty name becomes the importer's.
        checked["annotator"] = " ".join(checked["annotator"].split()) or IMPORTED_BY
    return checked
