"""Facts both reports (Markdown and HTML) show, worded once.

Everything returned here is plain, unescaped text: each writer escapes it
for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ..analysis import charts
from ..analysis.agreement import Agreement, label_agreement, responses_labelled
from ..analysis.correction import METHOD, PEOPLE, POOLED, CorrectedRate, FlagCheck, FlagCorrection, correct
from ..analysis.flag_names import FLAG_NAMES, HARD_REFUSAL
from ..analysis.summary import (
    COUNTING,
    HUMAN,
    PairedTest,
    Rate,
    compare_follow_up,
    compare_languages,
    compare_models,
    correctable_flags,
    export_checked_answers,
    export_follow_up_observations,
    export_observations,
    follow_up_group,
    rates,
)
from ..engine.offload import RAN_ON
from ..engine.offload import describe as describe_ran_on
from ..engine.params import ALL_LAYERS, DEFAULT_SWITCH
from ..engine.switches import VARIABLES, recorded_setting
from ..notebook.votes import TIE, letter, pane_choice
from ..flagging import describe_basis, evidence_words
from ..notebook.statuses import unfinished_note
from .collect import ExportData, vote_counts

TITLE = "Model Values Workbench report"
# Answers at most this long, and at most this many per run, go side by side in Markdown.
SIDE_BY_SIDE_CHARS = 240
SIDE_BY_SIDE_MODELS = 4
SAMPLER_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "n_ctx")


def model_heading(response: dict[str, Any], models: dict[str, dict[str, Any]]) -> str:
    """"SmolLM2 (HuggingFaceTB, US) · Q4_1": who made the model and where."""
    model = models.get(response["model_sha256"] or "", {})
    maker = model.get("maker")
    country = response["origin_country"] or model.get("origin_country")
    who = ", ".join(part for part in (maker, country) if part)
    heading: str = response["model_name"] + (f" ({who})" if who else "")
    return heading + (f" · {model['quantization']}" if model.get("quantization") else "")


def sampler_summary(response: dict[str, Any]) -> str:
    """"seed 7, temperature 0.0, …, thinking off": a template switch only when it was set,
    marked when the model's template ignored it."""
    sampler = response["sampler"]
    parts = [f"seed {response['seed']}"] + [f"{key} {sampler[key]}" for key in SAMPLER_KEYS if key in sampler]
    parts += [f"{key} {recorded_setting(sampler, key)}" for key in VARIABLES if sampler.get(key, DEFAULT_SWITCH) != DEFAULT_SWITCH]
    if sampler.get("gpu_layers", ALL_LAYERS) != ALL_LAYERS:
        parts.append(f"gpu_layers {sampler['gpu_layers']}")
    return ", ".join(parts)


def timing_summary(response: dict[str, Any]) -> str:
    """"on CPU, first text 0.12 s, 30.1 tokens/s, …": what ran the model (engine/offload.py,
    for answers that recorded it), since it explains the speed, then the figures."""
    ran_on = describe_ran_on(response["sampler"].get(RAN_ON))
    parts = [f"on {ran_on}"] if ran_on else []
    if response["ttft_s"] is not None:
        parts.append(f"first text {response['ttft_s']:.2f} s")
    if response["tokens_per_s"] is not None:
        parts.append(f"{response['tokens_per_s']:.1f} tokens/s")
    if response["completion_tokens"] is not None:
        parts.append(f"{response['completion_tokens']} tokens")
    if response["duration_s"] is not None:
        parts.append(f"{response['duration_s']:.2f} s in all")
    return ", ".join(parts)


def status_summary(response: dict[str, Any]) -> str:
    """How the answer ended; for one that did not, that it is partial (statuses.py)."""
    reason = unfinished_note(response["status"]) or response["finish_reason"] or response["status"]
    return f"{reason}: {response['error']}" if response["error"] else reason


SUGGESTED = "Suggested by the detectors (automatic, not a person's label)"
EVIDENCE_QUOTES, EVIDENCE_QUOTE_CHARS = 3, 60  # per flag, in a report


def flag_summary(flag: dict[str, Any]) -> str:
    """"hard_refusal (rules and classifier, confidence 0.97; evidence: “I cannot”; workbench-flags/2)":
    an automatic flag with what it rests on, on one line."""
    about = [describe_basis(flag.get("basis"), flag.get("confidence"))]
    words = [" ".join(w.split()) for w in evidence_words(flag["evidence"])[:EVIDENCE_QUOTES]]
    if words:
        about.append("evidence: " + ", ".join(f"“{w if len(w) <= EVIDENCE_QUOTE_CHARS else w[: EVIDENCE_QUOTE_CHARS - 1] + '…'}”" for w in words))
    about.append(flag["detector"])
    return f"{flag['name']} ({'; '.join(about)})"


def span_context(response: dict[str, Any], span: dict[str, Any], around: int = 40) -> tuple[str, str, str]:
    """(before, highlighted, after) for a highlight, from the stored text when it still reads the quote."""
    stored = response[span["field"]] or ""
    start, end = span["start"], span["end"]
    if stored[start:end] != span["quote"]:
        return "", span["quote"], ""
    before = stored[max(0, start - around) : start]
    after = stored[end : end + around]
    return ("…" if start > around else "") + before, span["quote"], after + ("…" if end + around < len(stored) else "")


def vote_line(run: dict[str, Any]) -> str | None:
    """"Audience vote (ana, cy): A (SmolLM2) 12 · B (Qwen2.5-Coder) 7 · tie 3", summed over
    annotators, letters as the blind comparison showed them; None when nobody voted.
    A vote for an answer the run lacks is left out, as the window's tally leaves it out."""
    if not run["votes"]:
        return None
    counts = vote_counts(run)
    parts = [f"{letter(r['position'])} ({r['model_name']}) {counts.get(pane_choice(r['position']), 0)}" for r in run["responses"]]
    parts.append(f"tie {counts.get(TIE, 0)}")
    annotators = ", ".join(sorted({vote["annotator"] for vote in run["votes"]}))
    return f"Audience vote ({annotators}): " + " · ".join(parts)


def label_titles(data: ExportData) -> dict[str, str]:
    return {label["name"]: label["title"] for label in data.labels}


def agreements(data: ExportData) -> list[Agreement]:
    return label_agreement(responses_labelled(data.every_response()))


def format_kappa(value: float | None) -> str:
    """Two decimals; a kappa that rounds to zero is "0.00", never "-0.00"."""
    return "undefined" if value is None else f"{round(value, 2) + 0.0:.2f}"


def provenance_rows(data: ExportData) -> list[tuple[str, str]]:
    """(what, value) lines of the provenance block."""
    header = data.header()
    prov = header["provenance"]
    rows = [
        ("Exported", f"{header['exported_at']} by Model Values Workbench {header['app_version']}"),
        ("Runs made with", ", ".join(prov["app_versions"]) or "unknown"),
        ("llama.cpp", ", ".join(prov["llama_cpp_versions"]) or "unknown"),
        ("Runs", f"{prov['runs']} ({prov['responses']} answers), {prov['first_run_at'] or '–'} to {prov['last_run_at'] or '–'}"),
        ("Annotators", ", ".join(prov["annotators"]) or "none"),
    ]
    for model in prov["models"]:
        templates = ", ".join(model["template_sha256"]) or "unknown"
        rows.append(
            (f"Model {model['name']}", f"SHA-256 {model['sha256'] or 'unknown'}; quantization {model['quantization'] or 'unknown'}; template SHA-256 {templates}")
        )
    return rows


@dataclass(frozen=True)
class LabelRates:
    """One label's (or flag's) rates for the Summary section, and its charts as SVG."""

    name: str
    title: str
    overall: list[Rate]
    by_language: list[Rate]  # empty unless the counted answers are in several languages
    by_topic: list[Rate]  # batch answers only (topics come from prompt sets); else empty
    # The flag of this name against people's checks, and its corrected rates; None
    # when no flag has a label of this name, or nobody checked any answer.
    correction: FlagCorrection | None = None
    # McNemar, as the batch Summary view shows it: each pair of models on the prompts
    # both answered, and each model's English against Chinese on translated pairs
    # (only when the answers are in several languages; `test_lines` words them).
    model_tests: tuple[PairedTest, ...] = ()
    language_tests: tuple[tuple[str, PairedTest], ...] = ()  # (model name, test)
    model_names: dict[str, str] = field(default_factory=dict)  # model key -> name, for the tests
    # Batch answers after each scripted follow-up (groups "after follow-up N"), per model,
    # and each model's answers to the prompts against them; the rates above are the prompts'.
    by_follow_up: list[Rate] = field(default_factory=list)
    follow_up_tests: tuple[tuple[str, PairedTest], ...] = ()  # (model name, test)

    def test_lines(self) -> list[str]:
        """The paired tests in words, the Summary view's sentences."""
        lines = [model_test_text(test, self.model_names) for test in self.model_tests]
        lines += [language_test_text(test, name) for name, test in self.language_tests]
        return lines + [follow_up_test_text(test, name) for name, test in self.follow_up_tests]

    @cached_property
    def charts(self) -> list[str]:
        """Bars by model, by language (when several), the topic x model heat map
        (when known); drawn on first use, so the Markdown report draws none."""
        shown = [charts.rate_bars_svg(self.overall, title=f"{self.title}: rate by model")]
        if self.by_language:
            shown.append(charts.rate_bars_svg(self.by_language, title=f"{self.title}: by language"))
        if self.by_topic:
            shown.append(charts.heat_map_svg(self.by_topic, title=f"{self.title}: by topic"))
        return shown


@dataclass(frozen=True)
class ReportSummary:
    answers: int  # every answer in the selection
    human: int  # counted answers whose names come from human labels
    auto: int  # counted answers whose names come from flags
    labels: list[LabelRates]
    checked: int = 0  # counted answers people (not machine judges) labelled
    correctable: tuple[str, ...] = ()  # flags that occur and have a label of their name

    @property
    def counted(self) -> int:
        return self.human + self.auto

    @property
    def charts(self) -> list[str]:
        """Every chart in the order the reports show them (the PDF numbers them so)."""
        return [chart for label in self.labels for chart in label.charts]

    def counting(self) -> str:
        return (
            f"{self.counted} of {self.answers} answers counted (those that finished, hit max tokens or crashed after writing); "
            f"counted from human labels: {self.human}, from flags: {self.auto}. Rule: {COUNTING}. "
            "These rates are uncorrected for the flags' errors. Intervals are Wilson 95%."
        )

    def correction_note(self) -> str | None:
        """What the reports say once about correcting the flags; None when no flag can be checked."""
        if not self.correctable:
            return None
        if not self.checked:
            return (
                "No answer here was checked by a person (labels by machine judges are not checks), so the flags' "
                "precision and recall can't be measured and every rate above is uncorrected."
            )
        return (
            f"People checked {self.checked} of the {self.counted} counted answers. For each flag that has a label of its "
            "name, its precision and recall on those answers follow its rates, and its rate corrected for its errors. "
            "Method: " + METHOD + "."
        )


def summary(data: ExportData) -> ReportSummary | None:
    """Rates per model of every label or flag that occurs in the selection (refusal
    first), by language when there are several, by topic for batch answers; None
    when no answer counts. One pass over the collected records (no query)."""
    found = export_observations(data)
    if not found:
        return None
    after = export_follow_up_observations(data)
    titles = label_titles(data)
    occurring = set().union(*(o.names for o in found), *(o.names for _, counted in after for o in counted))
    order = [HARD_REFUSAL, *FLAG_NAMES, *titles, *sorted(occurring)]
    several_languages = len({o.language for o in found}) > 1
    from_batches = [o for o in found if o.topic]
    correctable = [f for f in correctable_flags(titles) if f in occurring]
    answers = export_checked_answers(data) if correctable else []
    checked = sum(a.people is not None for a in answers)
    models = {o.model: o.model_name for o in found}
    pairs = [(a, b) for i, a in enumerate(models) for b in list(models)[i + 1 :]]
    labels = []
    for name in dict.fromkeys(n for n in order if n in occurring):
        by_language = rates(found, name, "language") if several_languages else []
        correction = correct(answers, name) if checked and name in correctable else None
        labels.append(
            LabelRates(
                name, titles.get(name, name), rates(found, name), by_language, rates(from_batches, name, "topic"), correction,
                model_tests=tuple(compare_models(found, name, a, b) for a, b in pairs),
                language_tests=tuple((models[m], compare_languages(found, name, m)) for m in models) if several_languages else (),
                model_names=models,
                by_follow_up=[replace(rate, group=follow_up_group(n)) for n, counted in after for rate in rates(counted, name)],
                follow_up_tests=tuple((models[m], compare_follow_up(found, counted, name, m, n)) for n, counted in after for m in models),
            )
        )  # fmt: skip
    human = sum(o.source == HUMAN for o in found)
    return ReportSummary(len(data.responses()), human, len(found) - human, labels, checked, tuple(correctable))


TESTS_HEADING = "Paired tests (McNemar exact, two-sided; counted as the rates above)"


def p_text(p: float) -> str:
    return f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"


def model_test_text(test: PairedTest, names: dict[str, str]) -> str:
    """Two models on the same prompts, McNemar's exact test, in one sentence."""
    first, second = names.get(test.first, test.first), names.get(test.second, test.second)
    if not test.pairs:
        return f"{first} vs {second}: no prompt answered by both."
    return (
        f"{first} vs {second}, on the same {test.pairs} prompts: both {test.both}, only {first} {test.first_only}, "
        f"only {second} {test.second_only} — McNemar exact {p_text(test.p_value)}"
    )


def language_test_text(test: PairedTest, name: str) -> str:
    """One model's English prompts against their Chinese translations, in one sentence."""
    if not test.pairs:
        return f"{name}: no English prompt with its Chinese translation answered."
    return _one_model_test(test, name, "English", "Chinese", "translated pairs")


def follow_up_test_text(test: PairedTest, name: str) -> str:
    """One model's answers to the prompts against its answers after a follow-up, in one sentence."""
    if not test.pairs:
        return f"{name}: no prompt answered both before and {test.second}."
    return _one_model_test(test, name, "the prompt", test.second, "prompts")


def _one_model_test(test: PairedTest, name: str, first: str, second: str, pairs: str) -> str:
    return (
        f"{name}, {first} vs {second} on {test.pairs} {pairs}: both {test.both}, only {first} {test.first_only}, "
        f"only {second} {test.second_only} — McNemar exact {p_text(test.p_value)}"
    )


RATE_COLUMNS = ("Model", "Answers", "With label/flag", "Rate (uncorrected)", "95% interval", "From labels / flags")


def rate_rows(label: LabelRates) -> list[tuple[str, str, str, str, str, str]]:
    """The rate table's rows (RATE_COLUMNS): each model over all its answers to the prompts,
    then per language, then after each batch follow-up."""
    shown = [(rate, "all" if rate.group == "all" else f"in {rate.group}") for rate in (*label.overall, *label.by_language)]
    shown += [(rate, rate.group) for rate in label.by_follow_up]  # "after follow-up N"
    rows = []
    for rate, group in shown:
        k_n, percent, interval = _formatted(rate)
        rows.append((rate.model_name, group, k_n, percent, interval, f"{rate.human} / {rate.auto}"))
    return rows


def topic_table(label: LabelRates) -> tuple[list[str], list[list[str]]]:
    """(model names, rows of topic then "k/n (r%)" per model) for the text formats'
    stand-in for the heat map; "–" where a model has no answer on a topic."""
    models = {r.model: r.model_name for r in label.by_topic}
    cells = {(r.group, r.model): r for r in label.by_topic}
    rows = []
    for topic in dict.fromkeys(r.group for r in label.by_topic):
        row = [topic]
        for key in models:
            rate = cells.get((topic, key))
            row.append(f"{rate.k}/{rate.n} ({rate.k / rate.n:.0%})" if rate else "–")
        rows.append(row)
    return list(models.values()), rows


def _formatted(rate: Rate) -> tuple[str, str, str]:
    """("k/n", "r%", "lo–hi%"); `rates` never makes an empty group, so n > 0."""
    low, high = rate.interval
    return f"{rate.k}/{rate.n}", f"{rate.k / rate.n:.0%}", f"{low:.0%}–{high:.0%}"


# The correction's tables, shared by the reports, the Summary view and `workbench batch`.
CHECK_COLUMNS = ("Language", "Checked", "People: yes", "Flag: yes", "Precision (95%)", "Recall (95%)", "Specificity (95%)")
CORRECTED_COLUMNS = ("Model", "Language", "Answers", "Checked", "Flag rate (uncorrected)", "Corrected (95% interval)", "Note")
NOT_SHOWN = "not shown"


def percent_interval(value: float | None, interval: tuple[float, float] | None) -> str:
    """"85% (70–93%)"; "–" when there is nothing to measure."""
    if value is None or interval is None:
        return "–"
    return f"{value:.0%} ({100 * interval[0]:.0f}–{100 * interval[1]:.0f}%)"


def check_rows(correction: FlagCorrection) -> list[tuple[str, ...]]:
    """CHECK_COLUMNS: the flag against people's labels, all languages then each."""
    return [_check_row(check) for check in correction.checks]


def _check_row(check: FlagCheck) -> tuple[str, ...]:
    return (
        check.language,
        str(check.checked),
        str(check.positives),
        str(check.flagged),
        percent_interval(check.precision, check.precision_interval),
        percent_interval(check.recall, check.recall_interval),
        percent_interval(check.specificity, check.specificity_interval),
    )


def corrected_rows(correction: FlagCorrection) -> list[tuple[str, ...]]:
    """CORRECTED_COLUMNS: each model over all its answers, then per language."""
    return [_corrected_row(rate) for rate in correction.rates]


def _corrected_row(rate: CorrectedRate) -> tuple[str, ...]:
    corrected = percent_interval(rate.corrected, rate.interval) if rate.interval is not None else NOT_SHOWN
    return (
        rate.model_name,
        rate.language,
        str(rate.n),
        str(rate.checked),
        f"{rate.k}/{rate.n} ({rate.observed:.0%})",
        corrected,
        corrected_note(rate),
    )


def corrected_note(rate: CorrectedRate) -> str:
    """In a few words: why a corrected rate is not shown (the sentence follows the
    table, `correction_lines`), or whose checks corrected it."""
    if rate.reason is not None:
        return rate.why or rate.reason
    if len(rate.checks_from) == 1:
        ((language, source),) = rate.checks_from
        return f"checks in {language}" if source == language else _SOURCES[source]
    others = [f"{language}: {_SOURCES[source]}" for language, source in rate.checks_from if source != language]
    return "; ".join(others) or "each language's own checks"


_SOURCES = {PEOPLE: "all checked", POOLED: "pooled checks"}


def correction_lines(correction: FlagCorrection) -> list[str]:
    """Sentences under the tables: how the checked answers compare with the rest, and each fallback."""
    lines = []
    partly = 0 < correction.checked < correction.answers
    if partly and correction.flag_rate is not None and correction.flag_rate_checked is not None:
        lines.append(
            f"People checked {correction.checked} of {correction.answers} answers; the flag fired on "
            f"{correction.flag_rate_checked:.0%} of those and on {correction.flag_rate:.0%} of all. "
            "If the checked answers were chosen for their flags, the correction is biased: check answers at random or in order."
        )
    lines.extend(correction.fallbacks())
    rows: dict[str, list[str]] = {}
    for rate in correction.rates:
        if rate.reason is not None:
            rows.setdefault(rate.reason, []).append(f"{rate.model_name} ({rate.language})")
    lines.extend(f"No corrected rate for {', '.join(where)}: {reason}." for reason, where in rows.items())
    return lines
