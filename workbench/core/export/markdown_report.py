"""The Markdown report: readable as plain text, and inert when rendered.

Every piece of untrusted text (prompts, answers, notes, model names, label
titles from an imported file) goes through `text.escape_markdown`, so a
renderer shows it as the characters it is: no links, images or HTML from a
model. Short answers of a run go side by side in a table; longer ones one
after another, each under its model's heading.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..analysis.correction import FlagCorrection
from . import report
from .collect import ExportData
from .language_tables import LANGUAGES_HEADING, LANGUAGES_NOTE, language_tables
from .text import escape_markdown as esc
from .text import markdown_cell, markdown_lines


def lines(data: ExportData) -> Iterator[str]:
    models = {m["sha256"]: m for m in data.models}
    titles = report.label_titles(data)
    yield f"# {report.TITLE}\n\n"
    yield "## Provenance\n\n"
    for what, value in report.provenance_rows(data):
        yield f"- **{esc(what)}:** {esc(value)}\n"
    yield "\n"
    yield from _summary(report.summary(data))
    for run in data.runs:
        yield from _run(run, models, titles)
    yield from _languages(data)
    yield from _agreement(data)
    yield "## Labels\n\n"
    for label in data.labels:
        yield f"- **{esc(label['title'])}** (stored as {esc(label['name'])}): {esc(label['definition'])}\n"


def _summary(summary: report.ReportSummary | None) -> Iterator[str]:
    """The rates as tables; the topic x model table stands in for the heat map."""
    if summary is None:
        return
    yield f"## Summary\n\n{esc(summary.counting())}\n\n"
    note = summary.correction_note()
    if note:
        yield f"{esc(note)}\n\n"
    for label in summary.labels:
        yield f"### {esc(label.title)} ({esc(label.name)})\n\n"
        yield _table(report.RATE_COLUMNS, report.rate_rows(label))
        if label.by_topic:
            models, rows = report.topic_table(label)
            yield "By topic:\n\n" + _table(("Topic", *models), rows)
        tests = label.test_lines()
        if tests:
            yield f"{report.TESTS_HEADING}:\n\n" + "".join(f"- {esc(line)}\n" for line in tests) + "\n"
        if label.correction:
            yield from _correction(label.correction)


def _correction(correction: FlagCorrection) -> Iterator[str]:
    """The flag against people's checks, then its rates corrected (method named in the Summary's note)."""
    name = esc(correction.flag)
    yield f"The `{name}` flag on the answers people checked:\n\n"
    yield _table(report.CHECK_COLUMNS, report.check_rows(correction))
    yield f"Rates corrected for the `{name}` flag's errors (Rogan–Gladen, bootstrap 95% interval):\n\n"
    yield _table(report.CORRECTED_COLUMNS, report.corrected_rows(correction))
    for line in report.correction_lines(correction):
        yield f"{esc(line)}\n\n"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(markdown_cell(cell) for cell in header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n\n"


def _run(run: dict[str, Any], models: dict[str, dict[str, Any]], titles: dict[str, str]) -> Iterator[str]:
    yield f"## Run {run['id']} · {esc(run['created_at'])} · {esc(run['language'] or 'language unclear')}\n\n"
    if run["system_prompt"]:
        yield f"**System prompt**\n\n{markdown_lines(run['system_prompt'])}\n\n"
    yield f"**Prompt**\n\n{markdown_lines(run['prompt'])}\n\n"
    yield from _answers(run["responses"], models, titles, "")
    for turn in run["turns"]:
        yield f"**Follow-up {turn['turn']}**\n\n{markdown_lines(turn['prompt'])}\n\n"
        yield from _answers(turn["responses"], models, titles, f" · follow-up {turn['turn']}")
    for assessment in run["assessments"]:
        verdict = assessment["divergence"] or "not rated"
        summary = f": {markdown_cell(assessment['summary'])}" if assessment["summary"] else ""
        yield f"- **Divergence ({esc(assessment['annotator'])}):** {esc(verdict)}{summary}\n"
    for note in run["notes"]:
        yield f"- **Note on the run by {esc(note['annotator'])}:** {markdown_cell(note['body'])}\n"
    for flag in run["flags"]:
        yield f"- **Flag on the run (automatic, not a person's label):** {markdown_cell(report.flag_summary(flag))}\n"
    votes = report.vote_line(run)
    if votes:
        yield f"- {esc(votes)}\n"
    yield "\n"


def _answers(responses: list[dict[str, Any]], models: dict[str, dict[str, Any]], titles: dict[str, str], turn: str) -> Iterator[str]:
    """One turn's answers: side by side when they are short, then each under its model's
    heading (with `turn`, " · follow-up N", after the first), with its labels, flags and notes."""
    side_by_side = 1 < len(responses) <= report.SIDE_BY_SIDE_MODELS and all(
        len(r["text"]) <= report.SIDE_BY_SIDE_CHARS for r in responses
    )
    if side_by_side:
        yield "| " + " | ".join(markdown_cell(report.model_heading(r, models)) for r in responses) + " |\n"
        yield "|" + "---|" * len(responses) + "\n"
        yield "| " + " | ".join(markdown_cell(r["text"]) or "*(no answer)*" for r in responses) + " |\n\n"
    for response in responses:
        yield f"### {esc(report.model_heading(response, models))}{turn}\n\n"
        if not side_by_side:
            yield (markdown_lines(response["text"]) if response["text"].strip() else "*(no answer)*") + "\n\n"
        if response["reasoning"].strip():
            yield f"**Reasoning**\n\n{markdown_lines(response['reasoning'])}\n\n"
        yield f"- **Finished:** {esc(report.status_summary(response))}\n"
        yield f"- **Settings:** {esc(report.sampler_summary(response))}\n"
        if report.timing_summary(response):
            yield f"- **Timing:** {esc(report.timing_summary(response))}\n"
        if response["labels"]:
            labels = ", ".join(f"{esc(titles.get(label['label'], label['label']))} ({esc(label['annotator'])})" for label in response["labels"])
            yield f"- **Labels:** {labels}\n"
        if response["flags"]:
            yield f"- **{report.SUGGESTED}:** {' · '.join(markdown_cell(report.flag_summary(f)) for f in response['flags'])}\n"
        for span in response["spans"]:
            before, quote, after = report.span_context(response, span)
            labels = ", ".join(esc(titles.get(label["label"], label["label"])) for label in span["labels"])
            yield (
                f"- **Highlight** ({esc(span['field'])} {span['start']}–{span['end']}, {esc(span['annotator'])}"
                + (f"; {labels}" if labels else "")
                + f"): {markdown_cell(before)}**{markdown_cell(quote)}**{markdown_cell(after)}"
                + (f" — {markdown_cell(span['note'])}" if span["note"] else "")
                + "\n"
            )
        for note in response["notes"]:
            yield f"- **Note by {esc(note['annotator'])}:** {markdown_cell(note['body'])}\n"
        yield "\n"


def _languages(data: ExportData) -> Iterator[str]:
    tables = language_tables(data)
    if tables:
        yield f"## {LANGUAGES_HEADING}\n\n{esc(LANGUAGES_NOTE)}\n\n"
    for table in tables:
        yield f"### {esc(table.title)}\n\n" + _table(table.header, table.text_rows())


def _agreement(data: ExportData) -> Iterator[str]:
    agreements = report.agreements(data)
    if not agreements:
        return
    titles = report.label_titles(data)
    yield "## Agreement between annotators\n\nCohen's kappa per label, over the answers both annotators labelled.\n\n"
    yield "| Label | Annotators | Answers | Agreement | Kappa |\n|---|---|---|---|---|\n"
    for a in agreements:
        yield (
            f"| {markdown_cell(titles.get(a.label, a.label))} | {markdown_cell(a.annotator_a)} & {markdown_cell(a.annotator_b)} "
            f"| {a.responses} | {a.observed:.0%} | {report.format_kappa(a.kappa)} |\n"
        )
    yield "\n"
