"""Demo scripts: the steps of a lesson, prepared at home and played in class.

A script is an ordered list of steps (table `demo_steps`, migration m004;
a step's follow-ups, asked in order after its prompt when it plays live, m011).
A step copies everything it needs (the prompt text even when it came from a
prompt set, the models by SHA-256 and name), so it plays on a laptop that has
neither the set file nor, for a replayed step, the model files. Positions are
kept as 0, 1, 2… without gaps, so "step 3 of 5" is simply position + 1.

Edits are not on the undo stack: a script is a plan, not evidence, and
each edit is one small visible change in the demo panel.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from .ids import typed_id
from .stamps import check_annotator, utc_now
from .store import insert_row

if TYPE_CHECKING:
    from .sessions import Sessions
    from .store import Store

LIVE, REPLAY, INSTANT = "live", "replay", "instant"
MODES = (LIVE, REPLAY, INSTANT)
TITLE_CHARS = 60  # a step titled after its prompt: the first line, this long at most

# What update_step may change (the rest is who and when, or the script it belongs to).
STEP_FIELDS = ("title", "prompt", "system_prompt", "language", "prompt_set_id", "prompt_id", "models", "settings", "note", "run_id", "mode", "follow_ups")


@dataclass(frozen=True)
class DemoScript:
    id: int
    uid: str
    title: str
    description: str
    annotator: str
    created_at: str
    updated_at: str
    step_count: int = 0


@dataclass(frozen=True)
class DemoStep:
    id: int
    uid: str
    script_id: int
    position: int
    title: str
    prompt: str
    system_prompt: str
    language: str | None
    prompt_set_id: str | None
    prompt_id: str | None
    models: tuple[dict[str, Any], ...]  # {"sha256": str | None, "name": str}, in pane order
    settings: dict[str, Any] = field(hash=False)
    note: str = ""
    run_id: int | None = None
    mode: str = LIVE
    follow_ups: tuple[str, ...] = ()  # asked in order after `prompt` when the step plays live
    annotator: str = ""
    created_at: str = ""
    updated_at: str = ""

    @property
    def label(self) -> str:
        """What the step list and the speaker notes call it."""
        return self.title or title_from_prompt(self.prompt)


def title_from_prompt(prompt: str) -> str:
    line = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def check_models(models: Any) -> tuple[dict[str, Any], ...]:
    """A step's models as stored: a list of {"sha256", "name"}; ValueError says what is wrong."""
    if not isinstance(models, (list, tuple)):
        raise ValueError("A step's models are a list of {sha256, name}.")
    checked = []
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not model["name"].strip():
            raise ValueError("Each model of a step needs a name.")
        sha = model.get("sha256")
        if sha is not None and (not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            raise ValueError(f"Not a SHA-256: {sha!r:.80}")
        checked.append({"sha256": sha, "name": model["name"].strip()})
    return tuple(checked)


def check_follow_ups(follow_ups: Any) -> tuple[str, ...]:
    """A step's follow-ups as stored: a list of texts, none empty; ValueError says what is wrong."""
    if not isinstance(follow_ups, (list, tuple)):
        raise ValueError("The follow-ups are a list of texts, asked in order after the prompt.")
    for number, follow_up in enumerate(follow_ups, start=1):
        if not isinstance(follow_up, str):
            raise ValueError(f"Follow-up {number} must be text, not {type(follow_up).__name__}.")
        if not follow_up.strip():
            raise ValueError(f"Follow-up {number} is empty: write it or remove it.")
    return tuple(follow_ups)


def _check_step(fields: dict[str, Any]) -> None:
    if not fields["prompt"].strip():
        raise ValueError("A step needs a prompt.")
    if fields["mode"] not in MODES:
        raise ValueError(f"A step plays {', '.join(MODES)}; not {fields['mode']!r}.")
    if fields["mode"] != LIVE and fields["run_id"] is None:
        raise ValueError("Only a step with a recorded run can be replayed; record it first or play it live.")
    if not isinstance(fields["settings"], dict):
        raise ValueError("A step's settings are a JSON object.")


class Demos:
    """`notebook.demos`: its demo scripts. Every call blocks (run it off the GUI thread).

    Unknown ids raise LookupError; bad values ValueError.
    """

    def __init__(self, store: Store, sessions: Sessions, read_run: Callable[[int], dict[str, Any] | None]) -> None:
        # read_run is `Notebook.run`: a step made from a run copies what the run asked.
        self._store = store
        self._sessions = sessions
        self._read_run = read_run

    # --- scripts ---------------------------------------------------------------

    def scripts(self) -> list[DemoScript]:
        """All scripts, by title, each with its number of steps."""
        with self._store.reading() as db:
            rows = list(db.query(f"{_SCRIPTS} order by s.title collate nocase, s.id"))
        return [_script(row) for row in rows]

    def get(self, script_id: int) -> DemoScript:
        with self._store.reading() as db:
            rows = list(db.query(f"{_SCRIPTS} where s.id = ?", [script_id]))
        if not rows:
            raise LookupError(f"There is no demo script {script_id} in the notebook.")
        return _script(rows[0])

    def find(self, title_or_id: str) -> DemoScript:
        """By title (case-insensitive) or id, for the command line."""
        wanted = title_or_id.strip()
        with self._store.reading() as db:
            row = db.execute("select id from demo_scripts where title = ? collate nocase order by id", [wanted]).fetchone()
        if row:
            return self.get(row[0])
        if (script_id := typed_id(wanted)) is not None:
            return self.get(script_id)
        raise LookupError(f"There is no demo script named {wanted!r} in the notebook (`workbench demo list` shows them).")

    def create(self, title: str, *, annotator: str, description: str = "") -> DemoScript:
        title, annotator = _title(title), check_annotator(annotator)
        now = utc_now()
        row = {"uid": uuid.uuid4().hex, "title": title, "description": description.strip(), "annotator": annotator, "created_at": now, "updated_at": now}
        with self._store.writing() as db:
            script_id = insert_row(db, "demo_scripts", row)
            self._store.note({"demo_scripts"}, operation="demo")
        return self.get(script_id)

    def update(self, script_id: int, *, title: str | None = None, description: str | None = None) -> DemoScript:
        self.get(script_id)
        changes: dict[str, Any] = {"updated_at": utc_now()}
        if title is not None:
            changes["title"] = _title(title)
        if description is not None:
            changes["description"] = description.strip()
        with self._store.writing() as db:
            db.table("demo_scripts").update(script_id, changes)
            self._store.note({"demo_scripts"}, operation="demo")
        return self.get(script_id)

    def delete(self, script_id: int) -> None:
        """The script and its steps; the runs they replay stay in the notebook."""
        with self._store.writing() as db:
            if db.execute("delete from demo_scripts where id = ?", [script_id]).rowcount == 0:
                raise LookupError(f"There is no demo script {script_id} in the notebook.")
            self._store.note({"demo_scripts", "demo_steps"}, operation="demo")  # its steps go with it (on delete cascade)

    # --- steps -----------------------------------------------------------------

    def steps(self, script_id: int) -> list[DemoStep]:
        self.get(script_id)
        with self._store.reading() as db:
            rows = list(db.query("select * from demo_steps where script_id = ? order by position, id", [script_id]))
        return [_step(row) for row in rows]

    def step(self, step_id: int) -> DemoStep:
        with self._store.reading() as db:
            rows = list(db.query("select * from demo_steps where id = ?", [step_id]))
        if not rows:
            raise LookupError(f"There is no demo step {step_id} in the notebook.")
        return _step(rows[0])

    def add_step(
        self,
        script_id: int,
        *,
        prompt: str,
        annotator: str,
        title: str = "",
        system_prompt: str = "",
        language: str | None = None,
        prompt_set_id: str | None = None,
        prompt_id: str | None = None,
        models: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        settings: dict[str, Any] | None = None,
        note: str = "",
        run_id: int | None = None,
        mode: str | None = None,
        follow_ups: list[str] | tuple[str, ...] = (),
    ) -> DemoStep:
        """A step at the end of the script. Without a mode, a step with a recorded run replays it."""
        self.get(script_id)
        annotator = check_annotator(annotator)
        fields: dict[str, Any] = {
            "title": " ".join(title.split()), "prompt": prompt, "system_prompt": system_prompt, "language": language,
            "prompt_set_id": prompt_set_id, "prompt_id": prompt_id, "models": check_models(models), "settings": dict(settings or {}),
            "note": note, "run_id": run_id, "mode": mode or (REPLAY if run_id is not None else LIVE), "follow_ups": check_follow_ups(follow_ups),
        }  # fmt: skip
        _check_step(fields)
        now = utc_now()
        with self._store.writing() as db:
            if run_id is not None and db.execute("select 1 from runs where id = ?", [run_id]).fetchone() is None:
                raise LookupError(f"There is no run {run_id} in the notebook.")
            position = db.execute("select count(*) from demo_steps where script_id = ?", [script_id]).fetchone()[0]
            row = {
                **fields, "uid": uuid.uuid4().hex, "script_id": script_id, "position": position,
                "models": json.dumps(list(fields["models"]), ensure_ascii=False), "settings": json.dumps(fields["settings"], ensure_ascii=False),
                "follow_ups": json.dumps(list(fields["follow_ups"]), ensure_ascii=False), "annotator": annotator, "created_at": now, "updated_at": now,
            }  # fmt: skip
            step_id = insert_row(db, "demo_steps", row)
            db.table("demo_scripts").update(script_id, {"updated_at": now})
            self._store.note({"demo_steps", "demo_scripts"}, operation="demo")
        return self.step(step_id)

    def add_step_from_run(self, script_id: int, run_id: int, *, annotator: str, note: str = "", mode: str = REPLAY) -> DemoStep:
        """A step that asks what the run asked (its prompt, then its follow-ups), of the same models, and can replay it."""
        run = self._read_run(run_id)
        if run is None:
            raise LookupError(f"There is no run {run_id} in the notebook.")
        return self.add_step(script_id, annotator=annotator, note=note, mode=mode, run_id=run_id, **_asked(run))

    def update_step(self, step_id: int, **changes: Any) -> DemoStep:
        unknown = set(changes) - set(STEP_FIELDS)
        if unknown:
            raise TypeError(f"not demo step fields: {sorted(unknown)}")
        current = self.step(step_id)
        fields = {name: getattr(current, name) for name in STEP_FIELDS} | changes
        fields["models"] = check_models(fields["models"])
        fields["title"] = " ".join(fields["title"].split())
        fields["follow_ups"] = check_follow_ups(fields["follow_ups"])
        _check_step(fields)
        now = utc_now()
        row = {name: fields[name] for name in changes} | {"updated_at": now}
        if "models" in changes:
            row["models"] = json.dumps(list(fields["models"]), ensure_ascii=False)
        if "settings" in changes:
            row["settings"] = json.dumps(fields["settings"], ensure_ascii=False)
        if "follow_ups" in changes:
            row["follow_ups"] = json.dumps(list(fields["follow_ups"]), ensure_ascii=False)
        with self._store.writing() as db:
            if changes.get("run_id") is not None and db.execute("select 1 from runs where id = ?", [changes["run_id"]]).fetchone() is None:
                raise LookupError(f"There is no run {changes['run_id']} in the notebook.")
            db.table("demo_steps").update(step_id, row)
            db.table("demo_scripts").update(current.script_id, {"updated_at": now})
            self._store.note({"demo_steps", "demo_scripts"}, operation="demo")
        return self.step(step_id)

    def move_step(self, step_id: int, position: int) -> list[DemoStep]:
        """Put a step at `position` (clamped to the script), the others closing up around it."""
        step = self.step(step_id)
        order = [s.id for s in self.steps(step.script_id) if s.id != step_id]
        order.insert(max(0, min(position, len(order))), step_id)
        self._renumber(step.script_id, order)
        return self.steps(step.script_id)

    def delete_step(self, step_id: int) -> list[DemoStep]:
        step = self.step(step_id)
        with self._store.writing() as db:
            db.execute("delete from demo_steps where id = ?", [step_id])
            self._store.note({"demo_steps"}, operation="demo")
        self._renumber(step.script_id, [s.id for s in self.steps(step.script_id)])
        return self.steps(step.script_id)

    def _renumber(self, script_id: int, order: list[int]) -> None:
        now = utc_now()
        with self._store.writing() as db:
            db.conn.executemany("update demo_steps set position = ? where id = ?", list(enumerate(order)))
            db.table("demo_scripts").update(script_id, {"updated_at": now})
            self._store.note({"demo_steps", "demo_scripts"}, operation="demo")

    # --- from a session ------------------------------------------------------------

    def build_from_session(self, session_id: int, *, annotator: str, title: str | None = None) -> DemoScript:
        """A script replaying a session's runs, oldest first, one step each (notes empty, to be written)."""
        session = self._sessions.get(session_id)
        runs = self._sessions.runs(session_id, limit=1_000_000)
        if not runs:
            raise ValueError(f"The session {session.name!r} has no runs to build a demo from.")
        script = self.create(title or session.name, annotator=annotator, description=f"Built from the session {session.name!r}.")
        for run in sorted(runs, key=lambda r: r["id"]):
            self.add_step_from_run(script.id, run["id"], annotator=annotator)
        return self.get(script.id)


_SCRIPTS = "select s.*, (select count(*) from demo_steps where script_id = s.id) as step_count from demo_scripts s"


def _asked(run: dict[str, Any]) -> dict[str, Any]:
    """What a run asked, as step fields: its prompt, and its follow-ups (turns 1, 2, …)."""
    return {
        "prompt": run["prompt"],
        "title": title_from_prompt(run["prompt"]),
        "system_prompt": run.get("system_prompt") or "",
        "language": run.get("language"),
        "models": [{"sha256": r["model_sha256"], "name": r["model_name"]} for r in run["responses"]],
        "settings": run.get("settings") or {},
        "follow_ups": [turn["prompt"] for turn in run.get("turns", [])[1:]],
    }


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ValueError("A demo script needs a title.")
    return title


def _script(row: dict[str, Any]) -> DemoScript:
    return DemoScript(
        row["id"], row["uid"], row["title"], row["description"], row["annotator"], row["created_at"], row["updated_at"], row.get("step_count") or 0
    )


def _step(row: dict[str, Any]) -> DemoStep:
    return DemoStep(
        id=row["id"], uid=row["uid"], script_id=row["script_id"], position=row["position"], title=row["title"], prompt=row["prompt"],
        system_prompt=row["system_prompt"], language=row["language"], prompt_set_id=row["prompt_set_id"], prompt_id=row["prompt_id"],
        models=tuple(json.loads(row["models"] or "[]")), settings=json.loads(row["settings"] or "{}"), note=row["note"], run_id=row["run_id"],
        mode=row["mode"], follow_ups=tuple(json.loads(row["follow_ups"] or "[]")), annotator=row["annotator"], created_at=row["created_at"], updated_at=row["updated_at"],
    )  # fmt: skip
