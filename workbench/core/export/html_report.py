"""The HTML report: one self-contained file that loads nothing and runs nothing.

- A Content-Security-Policy meta forbids scripts, remote loads, forms and
  base changes; styles are inline; there are no images: the Summary's
  charts are inline SVG (`analysis/charts.py`), which loads nothing.
- Answers and notes (Markdown) go through `core.rendering.markdown_to_html`
  (raw HTML shown as text, nh3 allow-list, images turned into links, only
  http(s) links); every other string (prompts, names, label titles,
  metadata) is escaped with `html.escape`. Invisible controls are written
  out first (`core.invisible.visible_controls`), and each untrusted block has
  `dir="auto"`, so right-to-left text can't reorder the report around it.
- The same writer, with `for_qt=True`, makes the markup Qt's QTextDocument
  lays out for the PDF (it knows no `<mark>` and few CSS properties).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from typing import Any

from ..rendering import markdown_to_html
from . import report
from .collect import ExportData
from .language_tables import LANGUAGES_HEADING, LANGUAGES_NOTE, language_tables
from ..invisible import visible_controls

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# Side by side when a run has at most this many answers.
SIDE_BY_SIDE_MODELS = 3
# How wide a chart is laid out in the PDF (A4 less margins is about 680 px at 96 dpi).
PDF_CHART_WIDTH = 640


def chart_name(number: int) -> str:
    """What the Qt markup's Nth chart image is called; the document showing it holds the image
    under this name (pdf.add_charts), since Qt draws no SVG."""
    return f"chart:{number}"

STYLE = """
body { font-family: system-ui, "Noto Sans", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em; color: #1a1a1a; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { border: 1px solid #ccc; padding: 0.4em 0.6em; vertical-align: top; text-align: left; }
.answer, .prompt, .note, td, li { overflow-wrap: anywhere; word-break: break-word; }
.prompt { white-space: pre-wrap; background: #f4f4f4; padding: 0.6em; border-radius: 4px; }
.meta { color: #555; font-size: 0.9em; }
.label { display: inline-block; border-radius: 3px; padding: 0 0.4em; margin: 0 0.2em 0.2em 0; color: #fff; font-size: 0.85em; }
.flag { display: inline-block; border: 1px dashed #888; border-radius: 3px; padding: 0 0.4em; margin-right: 0.2em; font-size: 0.85em; }
mark { background: #fff3a0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.run { border-top: 2px solid #333; margin-top: 2em; }
.chart svg { max-width: 100%; height: auto; }
"""


def esc(text: Any) -> str:
    """Plain untrusted text as HTML."""
    return html.escape(visible_controls(str(text)), quote=True)


def md(text: str) -> str:
    """Untrusted Markdown (answers, notes) as sanitised HTML."""
    return markdown_to_html(visible_controls(text))


def document(data: ExportData, *, for_qt: bool = False, summary: report.ReportSummary | None = None) -> str:
    return "".join(parts(data, for_qt=for_qt, summary=summary))


def parts(data: ExportData, *, for_qt: bool = False, summary: report.ReportSummary | None = None) -> Iterator[str]:
    """The report in pieces. `summary` is computed here unless given: the PDF
    computes it first, to draw the charts that `chart:N` images refer to."""
    models = {m["sha256"]: m for m in data.models}
    labels = {label["name"]: label for label in data.labels}
    yield (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(report.TITLE)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(report.TITLE)}</h1>\n"
    )
    yield '<h2>Provenance</h2>\n<table class="provenance">\n'
    for what, value in report.provenance_rows(data):
        yield f'<tr><th style="width: 12em">{esc(what)}</th><td dir="auto">{esc(value)}</td></tr>\n'
    yield "</table>\n"
    yield from _summary(summary or report.summary(data), for_qt)
    for run in data.runs:
        yield from _run(run, models, labels, for_qt)
    yield from _languages(data)
    yield from _agreement(data)
    yield "<h2>Labels</h2>\n<ul>\n"
    for label in data.labels:
        yield f"<li>{_label(label['name'], labels)} <code>{esc(label['name'])}</code>: {esc(label['definition'])}</li>\n"
    yield "</ul>\n</body>\n</html>\n"


def _summary(summary: report.ReportSummary | None, for_qt: bool) -> Iterator[str]:
    """Rates per label with their charts: inline SVG in a browser (it loads
    nothing, so the CSP stands), `chart:N` images for Qt, which draws no SVG
    inside a document (pdf.py renders them)."""
    if summary is None:
        return
    yield f'<h2>Summary</h2>\n<p class="meta">{esc(summary.counting())}</p>\n'
    note = summary.correction_note()
    if note:
        yield f'<p class="meta">{esc(note)}</p>\n'
    number = 0
    for label in summary.labels:
        yield f"<h3>{esc(label.title)} <code>{esc(label.name)}</code></h3>\n"
        yield _table(report.RATE_COLUMNS, report.rate_rows(label))
        for svg in label.charts:
            if for_qt:
                yield f'<p><img src="{chart_name(number)}" width="{PDF_CHART_WIDTH}"></p>\n'
            else:
                yield f'<div class="chart">{svg}</div>\n'
            number += 1
        tests = label.test_lines()
        if tests:
            yield f"<p>{esc(report.TESTS_HEADING)}:</p>\n<ul>\n" + "".join(f'<li dir="auto">{esc(line)}</li>\n' for line in tests) + "</ul>\n"
        if label.correction:
            flag = esc(label.correction.flag)
            yield f"<p>The <code>{flag}</code> flag on the answers people checked:</p>\n"
            yield _table(report.CHECK_COLUMNS, report.check_rows(label.correction))
            yield f"<p>Rates corrected for the <code>{flag}</code> flag's errors (Rogan–Gladen, bootstrap 95% interval):</p>\n"
            yield _table(report.CORRECTED_COLUMNS, report.corrected_rows(label.correction))
            for line in report.correction_lines(label.correction):
                yield f'<p class="meta">{esc(line)}</p>\n'


def _table(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """A summary table; the first cell of a row (a model's name) may be in any script."""
    head = "<table>\n<tr>" + "".join(f"<th>{esc(column)}</th>" for column in columns) + "</tr>\n"
    body = "".join('<tr><td dir="auto">' + "</td><td>".join(esc(cell) for cell in row) + "</td></tr>\n" for row in rows)
    return head + body + "</table>\n"


def _languages(data: ExportData) -> Iterator[str]:
    tables = language_tables(data)
    if tables:
        yield f'<h2>{esc(LANGUAGES_HEADING)}</h2>\n<p class="meta">{esc(LANGUAGES_NOTE)}</p>\n'
    for table in tables:
        yield f'<h3 dir="auto">{esc(table.title)}</h3>\n<table>\n<tr>' + "".join(f'<th dir="auto">{esc(name)}</th>' for name in table.header) + "</tr>\n"
        for row in table.rows:
            cells = "".join(f'<td><p class="meta">{esc(cell.about)}</p><div class="answer" dir="auto">{md(cell.excerpt)}</div></td>' for cell in row.cells)
            yield f"<tr><th>{esc(row.name)}</th>{cells}</tr>\n"
        yield "</table>\n"


def _label(name: str, labels: dict[str, dict[str, Any]]) -> str:
    label = labels.get(name, {"title": name, "colour": "#555555"})
    # The colour is only used when it is #rrggbb: it comes from a file too.
    colour = label["colour"] if _is_colour(label["colour"]) else "#555555"
    return f'<span class="label" style="background-color: {colour}; color: #ffffff">{esc(label["title"])}</span>'


def _is_colour(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 7 and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])


def _mark(text: str, for_qt: bool) -> str:
    if for_qt:
        return f'<span style="background-color: #fff3a0">{esc(text)}</span>'
    return f"<mark>{esc(text)}</mark>"


def _run(run: dict[str, Any], models: dict[str, Any], labels: dict[str, Any], for_qt: bool) -> Iterator[str]:
    yield f'<section class="run">\n<h2>Run {run["id"]}</h2>\n'
    yield f'<p class="meta">{esc(run["created_at"])} · {esc(run["language"] or "language unclear")} · {esc(run["schedule"] or "")}</p>\n'
    if run["system_prompt"]:
        yield f'<p><strong>System prompt</strong></p>\n<div class="prompt" dir="auto">{esc(run["system_prompt"])}</div>\n'
    yield f'<p><strong>Prompt</strong></p>\n<div class="prompt" dir="auto">{esc(run["prompt"])}</div>\n'
    yield from _answers(run["responses"], models, labels, for_qt)
    for turn in run["turns"]:
        yield f'<p><strong>Follow-up {turn["turn"]}</strong></p>\n<div class="prompt" dir="auto">{esc(turn["prompt"])}</div>\n'
        yield from _answers(turn["responses"], models, labels, for_qt)
    votes = report.vote_line(run)
    if run["assessments"] or run["notes"] or run["flags"] or votes:
        yield "<ul>\n"
        for assessment in run["assessments"]:
            summary = f": {esc(assessment['summary'])}" if assessment["summary"] else ""
            yield f"<li><strong>Divergence ({esc(assessment['annotator'])}):</strong> {esc(assessment['divergence'] or 'not rated')}{summary}</li>\n"
        for note in run["notes"]:
            yield f'<li><strong>Note on the run by {esc(note["annotator"])}:</strong><div class="note" dir="auto">{md(note["body"])}</div></li>\n'
        for flag in run["flags"]:
            yield f'<li><strong>Flag on the run (automatic, not a person\'s label):</strong> <span class="flag">{esc(flag["name"])}</span> <span dir="auto">{esc(report.flag_summary(flag))}</span></li>\n'
        if votes:
            yield f'<li dir="auto">{esc(votes)}</li>\n'
        yield "</ul>\n"
    yield "</section>\n"


def _answers(responses: list[dict[str, Any]], models: dict[str, Any], labels: dict[str, Any], for_qt: bool) -> Iterator[str]:
    """One turn's answers: side by side in a table for a few models, else one after another."""
    if 1 < len(responses) <= SIDE_BY_SIDE_MODELS:
        width = 100 // len(responses)
        yield "<table>\n<tr>" + "".join(f'<th style="width: {width}%" dir="auto">{esc(report.model_heading(r, models))}</th>' for r in responses) + "</tr>\n<tr>"
        for response in responses:
            yield f'<td style="width: {width}%">' + "".join(_response(response, labels, for_qt, heading=None)) + "</td>"
        yield "</tr>\n</table>\n"
    else:
        for response in responses:
            yield from _response(response, labels, for_qt, heading=report.model_heading(response, models))


def _response(response: dict[str, Any], labels: dict[str, Any], for_qt: bool, heading: str | None) -> Iterator[str]:
    if heading is not None:
        yield f'<h3 dir="auto">{esc(heading)}</h3>\n'
    if response["labels"]:
        yield "<p>" + " ".join(_given(label, labels) for label in response["labels"]) + "</p>\n"
    if response["flags"]:
        yield f'<p class="meta">{esc(report.SUGGESTED)}:</p>\n<ul class="flags">\n'
        yield "".join(
            f'<li><span class="flag">suggested: {esc(f["name"])}{_confidence(f)}</span> <span dir="auto">{esc(report.flag_summary(f))}</span></li>\n'
            for f in response["flags"]
        )
        yield "</ul>\n"
    answer = md(response["text"]) if response["text"].strip() else "<p><em>(no answer)</em></p>"
    yield f'<div class="answer" dir="auto">{answer}</div>\n'
    if response["reasoning"].strip():
        yield f'<details><summary>Reasoning</summary><div class="answer" dir="auto">{md(response["reasoning"])}</div></details>\n'
    yield f'<p class="meta">{esc(report.status_summary(response))} · {esc(report.sampler_summary(response))}'
    if report.timing_summary(response):
        yield f" · {esc(report.timing_summary(response))}"
    yield "</p>\n"
    if response["spans"] or response["notes"]:
        yield "<ul>\n"
        for span in response["spans"]:
            before, quote, after = report.span_context(response, span)
            span_labels = " ".join(_label(label["label"], labels) for label in span["labels"])
            note = f'<div class="note" dir="auto">{md(span["note"])}</div>' if span["note"] else ""
            yield (
                f'<li><span class="meta">Highlight by {esc(span["annotator"])} ({esc(span["field"])} {span["start"]}–{span["end"]})</span> {span_labels}'
                f'<div dir="auto">{esc(before)}{_mark(quote, for_qt)}{esc(after)}</div>{note}</li>\n'
            )
        for note in response["notes"]:
            yield f'<li><strong>Note by {esc(note["annotator"])}:</strong><div class="note" dir="auto">{md(note["body"])}</div></li>\n'
        yield "</ul>\n"


def _given(label: dict[str, Any], labels: dict[str, Any]) -> str:
    """A label on an answer and who gave it, "Hard refusal (ana)" as the Markdown report
    writes it: the space and brackets are text, so a PDF's copied text keeps them apart."""
    return f'{_label(label["label"], labels)} <span class="meta">({esc(label["annotator"])})</span>'


def _confidence(flag: dict[str, Any]) -> str:
    return f" · {flag['confidence']:.2f}" if flag.get("confidence") is not None else ""


def _agreement(data: ExportData) -> Iterator[str]:
    agreements = report.agreements(data)
    if not agreements:
        return
    titles = report.label_titles(data)
    yield "<h2>Agreement between annotators</h2>\n<p>Cohen's kappa per label, over the answers both annotators labelled.</p>\n"
    yield "<table>\n<tr><th>Label</th><th>Annotators</th><th>Answers</th><th>Agreement</th><th>Kappa</th></tr>\n"
    for a in agreements:
        yield (
            f"<tr><td>{esc(titles.get(a.label, a.label))}</td><td>{esc(a.annotator_a)} &amp; {esc(a.annotator_b)}</td>"
            f"<td>{a.responses}</td><td>{a.observed:.0%}</td><td>{report.format_kappa(a.kappa)}</td></tr>\n"
        )
    yield "</table>\n"
