"""Summary statistics of a batch: rates with intervals, and paired tests.

Qt-free, so the Summary view, scripts and tests share one set of numbers.

What is counted, per answer: its human labels when it has any (by any
annotator), else its automatic flags. A person who looked at an answer knows
better than the detectors, so one label from anyone replaces all the flags
that labels can express. `lang_mismatch` is a flag with no label, so it
always comes from the flags. Each rate says how many of its answers were
counted from labels (`human`) and how many from flags (`auto`).

Only answers that ran to the end (or to max tokens, or until their model
crashed with text) are counted: an answer that failed to load or was stopped
says nothing about the model's values.

- Rates: k of n answers carrying a label, with a Wilson score interval (95%):
  unlike the normal approximation it stays inside [0, 1] and behaves at 0/n
  and n/n, which refusal rates often are.
- Two models on the same prompts: McNemar's exact test, the two-sided
  binomial test (p = 1/2) on the discordant pairs (one model has the label,
  the other not). The same prompts make the samples paired; ignoring that
  would throw the pairing's power away.
- English against Chinese for one model: the same test, pairing each prompt
  with its translation.

Follow-ups: a batch whose prompts carry scripted follow-ups (prompt sets'
`then`) keeps its rates, tests and corrections on the prompt's own answers
(the first turn, the question the set asks), exactly as before; the answers
after follow-up N are counted apart (`Summary.by_follow_up`, groups "after
follow-up N"), and `follow_up_tests` pairs each model's answer to a prompt with
its answer after follow-up N (McNemar), so pressure that changed answers shows.

These rates are uncorrected: an answer nobody labelled counts its flags as
they are, errors and all. For a flag that has a label of the same name,
`Summary.correction` measures the flag against people's labels on the
answers they checked (machine judges' labels are not people's checks) and
corrects the rate for the flag's errors (correction.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .correction import Answer, FlagCorrection, correct
from .flag_names import FLAG_NAMES, HARD_REFUSAL
from .proportions import Z95, wilson_interval  # noqa: F401 (Z95 and wilson_interval are this module's API too)

if TYPE_CHECKING:
    from ..export.collect import ExportData
    from ..notebook import Notebook

HUMAN = "human"
AUTO = "auto"
COUNTING = "human labels where an answer has any, else automatic flags (lang_mismatch always from flags)"
# Answers that say something about the model: it ended, hit max tokens, or crashed after writing.
COUNTED_FINISHES = ("stop", "length", "crashed")


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs: twice the
    smaller binomial tail (p = 1/2), capped at 1. Exact fractions, no float drift."""
    if b < 0 or c < 0:
        raise ValueError("counts of discordant pairs can't be negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, i) for i in range(min(b, c) + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


@dataclass(frozen=True)
class Observation:
    """One counted answer: which model, which prompt, and the names it carries."""

    response_id: int
    run_id: int
    model: str  # the model's SHA-256, or its name when the file could not be hashed
    model_name: str
    prompt_id: str
    topic: str
    kind: str
    language: str
    translation_of: str | None
    names: frozenset[str]
    source: str  # HUMAN or AUTO


@dataclass(frozen=True)
class Rate:
    model: str
    model_name: str
    group: str  # a topic, a language, or "all"
    label: str
    k: int
    n: int
    human: int  # answers counted from human labels
    auto: int  # answers counted from flags

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.k, self.n)


@dataclass(frozen=True)
class PairedTest:
    """A label on paired answers: `first_only` pairs have it on the first side only."""

    label: str
    first: str
    second: str
    pairs: int
    both: int
    first_only: int
    second_only: int

    @property
    def neither(self) -> int:
        return self.pairs - self.both - self.first_only - self.second_only

    @property
    def p_value(self) -> float:
        return mcnemar_exact(self.first_only, self.second_only)


@dataclass
class Summary:
    label: str
    counting: str = COUNTING
    models: dict[str, str] = field(default_factory=dict)  # model key -> name, in pane order
    overall: list[Rate] = field(default_factory=list)
    by_topic: list[Rate] = field(default_factory=list)
    by_language: list[Rate] = field(default_factory=list)
    model_tests: list[PairedTest] = field(default_factory=list)
    language_tests: dict[str, PairedTest] = field(default_factory=dict)  # by model key
    # Rates of the answers after each scripted follow-up (group "after follow-up N"),
    # per model; empty for a batch without follow-ups. The rates above are the prompt's.
    by_follow_up: list[Rate] = field(default_factory=list)
    # By model key: its answers to the prompts against its answers after follow-up 1, 2, …
    follow_up_tests: dict[str, list[PairedTest]] = field(default_factory=dict)
    # The flag measured against people's checks and its rate corrected; None when
    # the label is no flag, or the flag has no label of its name (nothing to check it with).
    correction: FlagCorrection | None = None


def _batch_rows(notebook: Notebook, batch_ids: Iterable[int], follow_up: int = 0) -> list[dict[str, Any]]:
    """The batches' answers to their prompts (follow_up 0) or after follow-up N."""
    batches = notebook.batches
    return [row for batch_id in batch_ids for row in batches.responses(batch_id, follow_up=follow_up)]


def follow_up_group(number: int) -> str:
    """The group name of the rates after follow-up `number`, as views and reports show it."""
    return f"after follow-up {number}"


def _label_names(notebook: Notebook) -> set[str]:
    with notebook.store.reading() as db:
        return {r[0] for r in db.execute("SELECT name FROM labels")}


def _people(rows: list[dict[str, Any]]) -> dict[int, set[str]]:
    """People's labels by answer: `Batches.responses` leaves machine judges
    (`judge:…`) out of `labels`, so these are people's checks only."""
    return {row["response_id"]: set(row["labels"]) for row in rows if row["labels"]}


def observations(notebook: Notebook, batch_ids: Iterable[int]) -> list[Observation]:
    """The counted answers of these batches, human labels winning over flags."""
    rows = _batch_rows(notebook, batch_ids)
    return _counted(rows, _people(rows), _label_names(notebook))


def checked_answers(notebook: Notebook, batch_ids: Iterable[int]) -> list[Answer]:
    """The counted answers of these batches as the correction sees them: flags, and people's labels."""
    rows = _batch_rows(notebook, batch_ids)
    return _answers(rows, _people(rows))


def export_checked_answers(data: ExportData) -> list[Answer]:
    """`checked_answers` of an export selection, from its records (no query)."""
    return _answers(*_export_rows(data))


def _answers(rows: Iterable[dict[str, Any]], people: Mapping[int, set[str]]) -> list[Answer]:
    """The rows whose answers count (COUNTED_FINISHES), as `correction.Answer`s."""
    return [
        Answer(
            row["model_sha256"] or row["model_name"],
            row["model_name"],
            row["language"],
            frozenset(row["flags"]),
            frozenset(people[row["response_id"]]) if row["response_id"] in people else None,
        )
        for row in rows
        if row["finish_reason"] in COUNTED_FINISHES
    ]


def correctable_flags(label_names: Iterable[str]) -> list[str]:
    """The flags that have a label of the same name, in flag order: people's
    labels can check them, so their rates can be corrected."""
    names = set(label_names)
    return [flag for flag in FLAG_NAMES if flag in names]


def export_observations(data: ExportData) -> list[Observation]:
    """The counted answers of an export selection, by the same rule as a batch's.

    Everything needed is already in the collected records (labels, automatic
    flags, finish reasons), so a report's summary costs no further query. An
    answer from a batch carries its item's prompt id, topic and kind
    (`data.batch_prompts`); any other answer's prompt is its run (the models
    of one run answered the same prompt, so they pair up) and it has no topic.
    """
    return _counted(*_export_rows(data), {label["name"] for label in data.labels})


def export_follow_up_observations(data: ExportData) -> list[tuple[int, list[Observation]]]:
    """(N, the counted answers after follow-up N) for each scripted follow-up of the
    export's batch items (`follow_up_turns` of `data.batch_prompts`), N from 1; a
    follow-up typed in the window is no batch's and is not counted here."""
    most = max((len(item.get("follow_up_turns") or ()) for item in data.batch_prompts.values()), default=0)
    label_names = {label["name"] for label in data.labels}
    return [(number, _counted(*_export_rows(data, number), label_names)) for number in range(1, most + 1)]


def _follow_up_answers(run: dict[str, Any], item: dict[str, Any] | None, number: int) -> list[dict[str, Any]]:
    """A run record's answers to its batch item's follow-up `number` (none if it has fewer)."""
    turns = (item or {}).get("follow_up_turns") or ()
    if number > len(turns):
        return []
    return next((turn["responses"] for turn in run["turns"] if turn["turn"] == turns[number - 1]), [])


def _export_rows(data: ExportData, follow_up: int = 0) -> tuple[list[dict[str, Any]], dict[int, set[str]]]:
    """An export's answers (to the prompts, or after batch follow-up `follow_up`) as
    batch rows, and people's labels on them (machine judges left out, as
    `Batches.responses` leaves them out)."""
    from ..notebook.annotations import is_machine_annotator

    rows = []
    people: dict[int, set[str]] = {}
    for run in data.runs:
        item = data.batch_prompts.get(run["id"])
        for response in run["responses"] if follow_up == 0 else _follow_up_answers(run, item, follow_up):
            rows.append(
                {
                    "response_id": response["id"],
                    "run_id": run["id"],
                    "model_sha256": response["model_sha256"],
                    "model_name": response["model_name"],
                    "finish_reason": response["finish_reason"],
                    "prompt_id": item["prompt_id"] if item else f"run {run['id']}",
                    "topic": item["topic"] if item else "",
                    "kind": item["kind"] if item else "",
                    "language": item["language"] if item else run["language"] or "unknown",
                    "translation_of": item["translation_of"] if item else None,
                    "flags": [flag["name"] for flag in response["flags"] if flag["source"] == "auto"],
                }
            )
            labels = {label["label"] for label in response["labels"] if not is_machine_annotator(label["annotator"])}
            if labels:
                people[response["id"]] = labels
    return rows, people


def _counted(rows: Iterable[dict[str, Any]], labels: Mapping[int, set[str]], label_names: set[str]) -> list[Observation]:
    """Observations of the rows whose answers count (COUNTED_FINISHES): an answer
    with human labels counts its labels plus the flags no label can express,
    any other answer its automatic flags."""
    found = []
    for row in rows:
        if row["finish_reason"] not in COUNTED_FINISHES:
            continue
        human = labels.get(row["response_id"])
        flags = frozenset(row["flags"])
        if human:
            names = frozenset(human) | {f for f in flags if f not in label_names}
        else:
            names = flags
        found.append(
            Observation(
                row["response_id"],
                row["run_id"],
                row["model_sha256"] or row["model_name"],
                row["model_name"],
                row["prompt_id"],
                row["topic"],
                row["kind"],
                row["language"],
                row["translation_of"],
                names,
                HUMAN if human else AUTO,
            )
        )
    return found


def rates(found: Iterable[Observation], label: str, by: str | None = None) -> list[Rate]:
    """k/n of answers carrying `label` per model, and per `by` ("topic",
    "language" or "kind"; None: one rate per model), in first-seen order."""
    groups: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    names: dict[str, str] = {}
    for o in found:
        names[o.model] = o.model_name
        groups[(o.model, getattr(o, by) if by else "all")].append(o)
    return [
        Rate(
            model,
            names[model],
            group,
            label,
            sum(label in o.names for o in members),
            len(members),
            sum(o.source == HUMAN for o in members),
            sum(o.source == AUTO for o in members),
        )
        for (model, group), members in groups.items()
    ]


def compare_models(found: Iterable[Observation], label: str, first: str, second: str) -> PairedTest:
    """McNemar on the prompts both models answered (models by key)."""
    has: dict[str, dict[str, bool]] = {first: {}, second: {}}
    for o in found:
        if o.model in has:
            has[o.model][o.prompt_id] = label in o.names
    shared = sorted(set(has[first]) & set(has[second]))
    return _paired(label, first, second, [(has[first][p], has[second][p]) for p in shared])


def compare_languages(found: Iterable[Observation], label: str, model: str) -> PairedTest:
    """McNemar on one model's English prompts paired with their Chinese translations."""
    by_prompt = {o.prompt_id: o for o in found if o.model == model}
    pairs = [
        (label in o.names, label in by_prompt[o.translation_of].names)
        for o in by_prompt.values()
        if o.language == "en" and o.translation_of in by_prompt and by_prompt[o.translation_of].language == "zh"
    ]
    return _paired(label, "en", "zh", pairs)


def compare_follow_up(prompt: Iterable[Observation], after: Iterable[Observation], label: str, model: str, number: int) -> PairedTest:
    """McNemar on one model's answers to the prompts (first) against its answers after
    follow-up `number` (second), paired by prompt: did the pressure change the answer?"""
    before = {o.prompt_id: label in o.names for o in prompt if o.model == model}
    later = {o.prompt_id: label in o.names for o in after if o.model == model}
    shared = [p for p in before if p in later]
    return _paired(label, "the prompt", follow_up_group(number), [(before[p], later[p]) for p in shared])


def _paired(label: str, first: str, second: str, pairs: list[tuple[bool, bool]]) -> PairedTest:
    return PairedTest(
        label,
        first,
        second,
        len(pairs),
        sum(a and b for a, b in pairs),
        sum(a and not b for a, b in pairs),
        sum(b and not a for a, b in pairs),
    )


def summarise(notebook: Notebook, batch_ids: Iterable[int], label: str = HARD_REFUSAL) -> Summary:
    """Everything the Summary view shows for one label (refusal by default)."""
    batch_ids = list(batch_ids)
    rows = _batch_rows(notebook, batch_ids)
    label_names = _label_names(notebook)
    found = _counted(rows, _people(rows), label_names)
    summary = Summary(label)
    if label in correctable_flags(label_names):
        answers = _answers(rows, _people(rows))
        summary.correction = correct(answers, label)
    for o in found:
        summary.models.setdefault(o.model, o.model_name)
    summary.overall = rates(found, label)
    summary.by_topic = rates(found, label, "topic")
    summary.by_language = rates(found, label, "language")
    keys = list(summary.models)
    summary.model_tests = [compare_models(found, label, a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]]
    summary.language_tests = {key: compare_languages(found, label, key) for key in keys}
    follow_ups = max((notebook.batches.follow_up_count(b) for b in batch_ids), default=0)
    for number in range(1, follow_ups + 1):
        after_rows = _batch_rows(notebook, batch_ids, number)
        after = _counted(after_rows, _people(after_rows), label_names)
        summary.by_follow_up += [replace(rate, group=follow_up_group(number)) for rate in rates(after, label)]
        for key in keys:
            summary.follow_up_tests.setdefault(key, []).append(compare_follow_up(found, after, label, key, number))
    return summary


def known_names(notebook: Notebook) -> list[str]:
    """Every name a summary can count: the flags, then the notebook's labels in their order."""
    with notebook.store.reading() as db:
        labels = [r[0] for r in db.execute("SELECT name FROM labels ORDER BY position")]
    return list(dict.fromkeys([*FLAG_NAMES, *labels]))
