"""Automatic flags on every saved answer, and recomputed when the user asks.

One place decides how an answer is flagged, for every front end: the
comparison (the window's prompt box, `workbench compare`, a demo's live
step, each prompt of a batch) calls `flag_answer` and `store` on the thread
that finished the answer, right after the answer itself is saved, so a
failure here never costs the answer. `reflag` recomputes the stored flags of
answers already in a notebook, only when asked (`workbench reflag`, the
window's Notebook > Recompute flags…); human labels are never touched.

An answer is flagged when it finished, ran out of tokens, or crashed after
writing; not when the user stopped it or it never started (`flaggable`).
The flags rest on `analysis.analyse_response`; each is stored with its
evidence, its basis and confidence under `DETECTOR`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from . import analysis
from .analysis.flag_names import CLASSIFIER, RULES, RULES_AND_CLASSIFIER
from .engine.backend import FINISH_ERROR, FINISH_STOPPED
from .engine.formats import TAGS
from .engine.harmony import speaks_harmony
from .engine.switches import thinking_switched_off
from .errors import EnvironmentProblem
from .notebook.flags import FlagSet, StoredFlag

if TYPE_CHECKING:
    from .analysis import Divergence, FlagReport
    from .engine.cancel import Cancel
    from .export.collect import Selection
    from .notebook import Notebook

# Written to flags.detector: the analysis package and the version of its rules.
# Bump the number when the rules change what they flag, so old flags can be told apart.
DETECTOR = "workbench-flags/2"
LANGUAGES = ("en", "zh")  # what analyse_response takes as the prompt's language
RUNS_PER_CHUNK = 100  # reflag: runs read, flagged and written together (one transaction)


class FlaggingFailed(EnvironmentProblem):
    """The detectors failed on one answer. The answer is saved, without flags; it is
    reported like an environment problem so the run (or the batch) goes on, and
    `workbench reflag` tries again."""


def flaggable(finish_reason: str | None) -> bool:
    """Stopped by the user, or never started: no flags (the answer is not the model's last word)."""
    return finish_reason is not None and finish_reason not in (FINISH_STOPPED, FINISH_ERROR)


def expects_reasoning(metadata: dict[str, Any] | None, sampler: Mapping[str, Any] | None = None) -> bool:
    """Whether an empty reasoning block from this model is `thought_suppressed`.

    A model whose chat template (in its GGUF metadata) writes a reasoning tag (`<think>`,
    formats.py's others) or speaks harmony is a reasoning model. gpt-oss counts: it
    reasons in its analysis channel whatever its reasoning effort, and has no switch
    to turn that off, so an answer with no analysis is suppressed thought too. Not when
    the user switched thinking off and the template took the switch (`sampler`: the
    response's recorded settings): an empty block is then what was asked for."""
    template = str((metadata or {}).get("tokenizer.chat_template", ""))
    if thinking_switched_off(sampler):
        return False
    return speaks_harmony(template) or any(open_tag in template for open_tag, _ in TAGS.values())


def prompt_language(*candidates: str | None) -> str | None:
    """The first of the candidates the detectors know ("en", "zh"); None lets them detect it."""
    return next((c for c in candidates if c in LANGUAGES), None)


def warm_up() -> None:
    """Load the detectors and the classifier's weights (about 0.2 s of imports and a
    file read) now rather than when the first answer is done: the comparison calls it
    on a thread of its own while its models load, so a one-answer `workbench compare`
    doesn't wait for it at the end. Any failure is left for `flag_answer` to report."""
    try:
        from .analysis import compliance, flags  # noqa: F401 - flags: its rules compile as it loads

        compliance.shipped_model()
    except Exception:  # noqa: BLE001, S110 - reported, if it lasts, by flag_answer
        pass


def flag_answer(prompt: str, answer: str, *, language: str | None, reasoning: str, is_reasoning_model: bool, who: str) -> FlagReport:
    """The flags of one answer. Any failure of the detectors becomes FlaggingFailed
    naming `who` (the model), so that it stops neither the run nor a batch."""
    try:
        return analysis.analyse_response(prompt, answer, prompt_lang=prompt_language(language), reasoning=reasoning, is_reasoning_model=is_reasoning_model)
    except Exception as exc:  # noqa: BLE001 - any detector failure: the answer is saved without flags
        raise FlaggingFailed(
            f"The automatic flags of {who}'s answer could not be computed ({type(exc).__name__}: {exc}). "
            "The answer is saved without flags; `workbench reflag` tries again."
        ) from exc


def stored_flags(report: FlagReport) -> tuple[StoredFlag, ...]:
    """One row per flag, carrying the evidence for that flag alone, its basis and confidence."""
    rows = []
    for name in report.flags:
        decision = report.decision(name)
        rows.append(
            StoredFlag(
                name,
                DETECTOR,
                [e.to_json() for e in report.evidence if e.flag == name],
                decision.basis if decision else None,
                decision.confidence if decision else None,
            )
        )
    return tuple(rows)


def describe_basis(basis: str | None, confidence: float | None) -> str:
    """"rules and classifier, confidence 0.97": what a flag rests on, in words."""
    words = {RULES: "rules", CLASSIFIER: "classifier", RULES_AND_CLASSIFIER: "rules and classifier"}.get(basis or "", "basis not recorded")
    return words + (f", confidence {confidence:.2f}" if confidence is not None else "")


def evidence_words(evidence: Any) -> list[str]:
    """The words of the answer a flag's evidence quotes, from its JSON as stored
    (a list of {"rule", "text", …}; anything else quotes nothing)."""
    if not isinstance(evidence, list):
        return []
    return [e["text"] for e in evidence if isinstance(e, dict) and isinstance(e.get("text"), str) and e["text"].strip()]


def store(notebook: Notebook, run_id: int, response_id: int, report: FlagReport) -> None:
    """Replace the answer's automatic flags with the report's. NotebookProblem when the disk says no."""
    notebook.flags.record(run_id, response_id, stored_flags(report))


def run_divergence(reports: list[FlagReport]) -> Divergence | None:
    """How far apart a run's flagged answers are (batch items keep it); None with fewer than two."""
    return answers_divergence([(r.answer, r.flags) for r in reports])


def answers_divergence(answers: list[tuple[str, tuple[str, ...]]]) -> Divergence | None:
    """`run_divergence` of (answer, flag names) pairs, as the notebook keeps them: a resumed
    batch item scores its answers kept from before with those asked now."""
    return analysis.divergence(answers) if len(answers) >= 2 else None


# --- recomputing on demand ----------------------------------------------------


@dataclass
class ReflagResult:
    """What `reflag` did, counted as the user sees it."""

    total: int  # answers selected (finished ones: stopped and failed answers have no flags)
    answers: int = 0  # flagged again and saved
    changed: int = 0  # answers whose flag names changed
    added: int = 0  # flags an answer has now and did not have
    removed: int = 0  # flags an answer had and no longer has
    updated: int = 0  # flags kept by name whose detector, basis or confidence changed
    failed: int = 0  # answers whose new flags could not be computed or saved (their old ones stay)
    divergences: int = 0  # batch items whose divergence score was computed again
    cancelled: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every selected answer was flagged again and saved."""
        return self.answers == self.total and not self.failed and not self.cancelled

    def summary(self) -> str:
        text = (
            f"Recomputed the flags of {self.answers} of {self.total} answer(s): {self.changed} changed, "
            f"{self.added} flag(s) added, {self.removed} removed, {self.updated} updated"
        )
        if self.divergences:
            text += f"; {self.divergences} batch divergence score(s) recomputed"
        text += "."
        if self.cancelled:
            text += " Stopped before the end: the rest keep their old flags."
        if self.failed:
            text += f" {self.failed} answer(s) keep their old flags: {self.problems[0]}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total, "answers": self.answers, "changed": self.changed, "added": self.added,
            "removed": self.removed, "updated": self.updated, "failed": self.failed,
            "divergences": self.divergences, "cancelled": self.cancelled, "problems": self.problems,
        }  # fmt: skip


# Each answer with the prompt it answered: its turn's (a follow-up's flags are judged
# against the follow-up, as the comparison judged them), in that turn's language (a
# batch item's for the first turn, which its prompt set states).
_ANSWERS_SQL = """
    select r.id, r.run_id, r.turn, r.position, r.model_name, r.model_sha256, r.text, r.reasoning, r.finish_reason, r.sampler,
           t.prompt, t.language,
           case when r.turn = 0 then (select language from batch_items where batch_items.run_id = r.run_id limit 1) end as item_language
    from responses r join turns t on t.run_id = r.run_id and t.turn = r.turn
    where r.run_id in (select value from json_each(?)) and r.status = 'done'
      and r.finish_reason is not null and r.finish_reason not in (?, ?)
    order by r.run_id, r.turn, r.position
"""


def _runs(notebook: Notebook, selection: Selection) -> list[int]:
    from .export.collect import resolve_runs  # the export package, only when a selection is resolved

    return resolve_runs(notebook, selection)


def count_answers(notebook: Notebook, selection: Selection) -> int:
    """How many answers `reflag(selection)` would flag again (for a confirmation).
    LookupError when the selection names what is not in the notebook."""
    return _answer_count(notebook, _runs(notebook, selection))


def _answer_count(notebook: Notebook, run_ids: list[int]) -> int:
    with notebook.store.reading() as db:
        count = db.execute(
            "select count(*) from responses where run_id in (select value from json_each(?)) and status = 'done' "
            "and finish_reason is not null and finish_reason not in (?, ?)",
            [json.dumps(run_ids), FINISH_STOPPED, FINISH_ERROR],
        ).fetchone()[0]
    return cast(int, count)  # count(*): always an integer


def reflag(
    notebook: Notebook,
    selection: Selection,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Cancel | None = None,
) -> ReflagResult:
    """Flag the selected runs' finished answers again and store the new flags in place
    of the old (human labels are not touched); batch items among those runs get their
    divergence score again. Works in chunks of runs, one transaction each, checking
    `cancel` between them; `progress(done, total)` after each. Blocks: call it off
    the GUI thread. LookupError for a selection that is not in the notebook; a
    storage failure stops it, counted in the result (what was saved stays saved)."""
    run_ids = _runs(notebook, selection)
    result = ReflagResult(total=_answer_count(notebook, run_ids))
    reasoning_models: dict[str | None, bool] = {}
    done = 0
    for start in range(0, len(run_ids), RUNS_PER_CHUNK):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        chunk = run_ids[start : start + RUNS_PER_CHUNK]
        with notebook.store.reading() as db:
            rows = list(db.query(_ANSWERS_SQL, [json.dumps(chunk), FINISH_STOPPED, FINISH_ERROR]))
            unknown = sorted({r["model_sha256"] for r in rows if r["model_sha256"] not in reasoning_models} - {None})
            for sha, metadata in db.execute("select sha256, metadata from models where sha256 in (select value from json_each(?))", [json.dumps(unknown)]):
                reasoning_models[sha] = expects_reasoning(json.loads(metadata or "{}"))  # thinking left on
        reports: dict[int, FlagReport] = {}
        for row in rows:
            try:
                reports[row["id"]] = flag_answer(
                    row["prompt"], row["text"] or "", language=row["item_language"] or row["language"], reasoning=row["reasoning"] or "",
                    is_reasoning_model=reasoning_models.get(row["model_sha256"], False) and not thinking_switched_off(_sampler(row["sampler"])),
                    who=row["model_name"],
                )  # fmt: skip
            except FlaggingFailed as failure:
                result.failed += 1
                result.problems.append(str(failure))
        sets = [FlagSet(row["run_id"], row["id"], stored_flags(reports[row["id"]])) for row in rows if row["id"] in reports]
        try:
            # The chunk's flags and scores as one transaction, announced once as "reflag".
            with notebook.store.writing():
                before = notebook.flags.replace(sets)
                result.divergences += _rescore_batch_items(notebook, rows, reports)
                notebook.store.note(operation="reflag")
        except EnvironmentProblem as problem:
            # The disk or the notebook said no: the rest would fare no better.
            result.failed = result.total - result.answers
            result.problems.insert(0, str(problem))
            break
        for flag_set in sets:
            _count(result, before[flag_set.response_id], flag_set.flags)
        done += len(rows)
        result.answers += len(sets)
        if progress is not None:
            progress(done, result.total)
    return result


def _sampler(stored: str | None) -> dict[str, Any]:
    """A response's recorded settings as stored (JSON); {} for anything unreadable."""
    try:
        value = json.loads(stored or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _count(result: ReflagResult, old: list[StoredFlag], new: tuple[StoredFlag, ...]) -> None:
    was = {f.name: f for f in old}
    now = {f.name: f for f in new}
    result.added += len(now.keys() - was.keys())
    result.removed += len(was.keys() - now.keys())
    result.updated += sum(1 for name in now.keys() & was.keys() if (now[name].detector, now[name].basis, now[name].confidence) != (was[name].detector, was[name].basis, was[name].confidence))
    result.changed += now.keys() != was.keys()


def _rescore_batch_items(notebook: Notebook, rows: list[dict[str, Any]], reports: dict[int, FlagReport]) -> int:
    """Batch items whose run was flagged again get the divergence score their new flags give
    (of the run's first answers, those the item's prompt asked)."""
    by_run: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["turn"] == 0:
            by_run.setdefault(row["run_id"], []).append(row)
    batches = notebook.batches
    with notebook.store.reading() as db:
        items = db.execute(
            "select id, run_id from batch_items where status = 'done' and run_id in (select value from json_each(?))", [json.dumps(list(by_run))]
        ).fetchall()
    for item_id, run_id in items:
        score = run_divergence([reports[r["id"]] for r in by_run[run_id] if r["id"] in reports])
        batches.set_divergence(item_id, score.score if score else None, score.to_json() if score else None)
    return len(items)
