"""A question asked in English and in Chinese, as a table in the Markdown and HTML reports.

The window's language grid (core/side_by_side.py) for the pairs among the
exported runs: a row per language, a column per model, each cell the answer's
labels and suggested flags and the start of the answer, so a reader sees who
refuses in which language. Pairs are a batch item's translation (same batch)
and a person's language-shift link, each pair once. Cells are plain text; each
writer escapes them as it escapes every other cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..notebook.annotations import LANGUAGE_SHIFT
from ..notebook.statuses import unfinished
from ..side_by_side import GridCell, LanguageGrid, assemble_grid
from .collect import ExportData

EXCERPT_CHARS = 280  # of an answer, in its cell: enough to see an answer or a refusal
PROMPT_CHARS = 80  # of the prompt, in the table's title
LANGUAGES_HEADING = "English and Chinese side by side"
LANGUAGES_NOTE = "The same question in each language (a prompt set's translation, or runs linked as a language shift): a row per language, a column per model."


@dataclass(frozen=True)
class LanguageCell:
    """What is known of one model's answer in one language: its labels, suggested flags and
    whether it is partial (or why there is no answer), and the start of the answer (Markdown,
    untrusted: the HTML report sanitises it as it does every answer)."""

    about: str
    excerpt: str

    @property
    def text(self) -> str:
        """Both on one line, for a plain table cell."""
        return " — ".join(part for part in (self.about, self.excerpt) if part)


@dataclass(frozen=True)
class LanguageRow:
    name: str  # "English (run 3)"
    cells: tuple[LanguageCell, ...]  # one per model


@dataclass(frozen=True)
class LanguageTable:
    title: str
    header: tuple[str, ...]  # "Language", then the models
    rows: tuple[LanguageRow, ...]

    def text_rows(self) -> list[tuple[str, ...]]:
        """The rows as plain cells, under `header`."""
        return [(row.name, *(cell.text for cell in row.cells)) for row in self.rows]


def language_tables(data: ExportData) -> list[LanguageTable]:
    """One table per pair of exported runs holding one question in two languages, by first run."""
    titles = {label["name"]: label["title"] for label in data.labels}
    tables = []
    for first, second in sorted(_pairs(data), key=lambda pair: min(pair[0]["id"], pair[1]["id"])):
        grid = assemble_grid(first, second, _marks)
        header = ("Language", *(column.model_name for column in grid.columns))
        rows = tuple(
            LanguageRow(f"{row.name} (run {row.run_id})", tuple(_cell(grid, r, c, titles) for c in range(len(grid.columns))))
            for r, row in enumerate(grid.rows)
        )
        prompt = " ".join(grid.rows[0].prompt.split())
        prompt = prompt if len(prompt) <= PROMPT_CHARS else prompt[: PROMPT_CHARS - 1] + "…"
        tables.append(LanguageTable(f"Runs {grid.rows[0].run_id} and {grid.rows[1].run_id}: {prompt}", header, rows))
    return tables


def _pairs(data: ExportData) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    by_uid = {run["uid"]: run for run in data.runs}
    by_id = {run["id"]: run for run in data.runs}
    by_item = {(item.get("batch_id"), item["prompt_id"]): run_id for run_id, item in data.batch_prompts.items()}
    seen: set[frozenset[int]] = set()
    candidates = [
        (run_id, by_item.get((item.get("batch_id"), item["translation_of"])))
        for run_id, item in data.batch_prompts.items()
        if item["translation_of"]
    ]
    candidates += [(by_uid[link["run_a"]]["id"], by_uid[link["run_b"]]["id"]) for link in data.links if link["kind"] == LANGUAGE_SHIFT]
    for a, b in candidates:
        if b is None or a not in by_id or b not in by_id or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        yield by_id[a], by_id[b]


def _marks(response: dict[str, Any]) -> tuple[list[str], list[str]]:
    return [flag["name"] for flag in response["flags"]], [label["label"] for label in response["labels"]]


def _cell(grid: LanguageGrid, row: int, column: int, titles: dict[str, str]) -> LanguageCell:
    cell: GridCell | None = grid.cell(row, column)
    if cell is None:
        return LanguageCell(grid.missing_text(row, column), "")
    said = []
    if cell.labels:
        said.append("Labels: " + ", ".join(titles.get(name, name) for name in cell.labels))
    suggested = [name for name in cell.flags if name not in cell.labels]
    if suggested:
        said.append("Suggested (automatic): " + ", ".join(suggested))
    partial = unfinished(cell.answer.status)
    if partial:
        said.append(f"({partial[0]})")
    text = " ".join(cell.answer.text.split())
    if not text:
        said.append(f"(no text: {cell.answer.finish_reason or 'none'})")
    return LanguageCell(" · ".join(said), text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…")
