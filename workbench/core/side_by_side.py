"""Saved answers set side by side: two for the difference view, a question's two languages as a grid.

Qt-free reading of the notebook for the window and `workbench diff`:

- `saved_answer` / `run_answers`: answers with what names them (run, pane, model),
  for the difference view (analysis/answer_diff.py compares their texts).
- `language_partner` and `read_language_grid`: a question asked in English and in
  Chinese, as rows (the languages) by columns (the models), so a teacher sees who
  refuses in which language. The notebook records such a pair in two ways: a batch
  item's `translation_of` (a bilingual prompt set, asked as a batch), or a
  `language_shift` link a person put between two runs (notebook/annotations.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .language import detect_language
from .notebook import Notebook
from .notebook.annotations import LANGUAGE_SHIFT
from .notebook.statuses import unfinished

ENGLISH, CHINESE = "en", "zh"
LANGUAGE_NAMES = {ENGLISH: "English", CHINESE: "Chinese"}


@dataclass(frozen=True)
class SavedAnswer:
    """One answer as the notebook has it, with what a heading needs to name it."""

    response_id: int
    run_id: int
    position: int  # the pane, from 0
    model_name: str
    model_sha256: str | None
    status: str  # statuses.py
    finish_reason: str | None
    text: str
    turn: int = 0  # of the run's conversation: 0 answers its prompt, 1, 2, … a follow-up

    @property
    def title(self) -> str:
        """"Qwen · run 3, pane 2" (", follow-up 1" for a later turn), and "· interrupted"
        (or "unfinished") when the answer is partial."""
        partial = unfinished(self.status)
        turn = f", follow-up {self.turn}" if self.turn else ""
        return f"{self.model_name} · run {self.run_id}, pane {self.position + 1}{turn}" + (f" · {partial[0]}" if partial else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "response_id": self.response_id, "run_id": self.run_id, "position": self.position,
            "model_name": self.model_name, "model_sha256": self.model_sha256, "status": self.status, "turn": self.turn,
        }


def _answer(run_id: int, response: dict[str, Any]) -> SavedAnswer:
    return SavedAnswer(
        response["id"], run_id, response["position"], response["model_name"], response["model_sha256"],
        response["status"], response["finish_reason"], response["text"] or "", response["turn"],
    )


def run_answers(notebook: Notebook, run_id: int) -> list[SavedAnswer]:
    """The run's answers in pane order; LookupError if there is no such run."""
    run = notebook.run(run_id)
    if run is None:
        raise LookupError(f"There is no run {run_id} in the notebook {notebook.path}.")
    return [_answer(run_id, response) for response in run["responses"]]


def saved_answer(notebook: Notebook, response_id: int) -> SavedAnswer:
    """One answer by its id (as `workbench search --json` shows it), of any turn; LookupError if there is none."""
    with notebook.store.reading() as db:
        row = db.execute("select run_id from responses where id = ?", [response_id]).fetchone()
    run = notebook.run(row[0]) if row is not None else None
    if run is None:
        raise LookupError(f"There is no response {response_id} in the notebook {notebook.path}.")
    return next(_answer(run["id"], r) for turn in run["turns"] for r in turn["responses"] if r["id"] == response_id)


# --- a question in two languages -------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    """One model's answer in one language, with its automatic flags and people's labels."""

    answer: SavedAnswer
    flags: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class GridRow:
    language: str  # ENGLISH or CHINESE (or the run's own code, or "?" when unknown)
    run_id: int
    prompt: str

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.language, self.language)


@dataclass(frozen=True)
class GridColumn:
    """A model: its name, and its SHA-256 when known (how the two runs' answers are matched)."""

    model_name: str
    model_sha256: str | None


@dataclass(frozen=True)
class LanguageGrid:
    """Rows by languages, English first; columns by models, in the first row's pane order
    then the models only the second row has. `cells[(row, column)]` is missing where a
    model did not answer in that language."""

    rows: tuple[GridRow, ...]
    columns: tuple[GridColumn, ...]
    cells: dict[tuple[int, int], GridCell]

    def cell(self, row: int, column: int) -> GridCell | None:
        return self.cells.get((row, column))

    def missing_text(self, row: int, column: int) -> str:
        """What an empty cell says."""
        return f"No answer in {self.rows[row].name} from {self.columns[column].model_name} (run {self.rows[row].run_id})."


def language_partner(notebook: Notebook, run_id: int) -> int | None:
    """The run holding the same question in the other language, or None. A batch's
    translation comes first (it is the prompt set's own pairing), then a person's link."""
    with notebook.store.reading() as db:
        row = db.execute(
            """select partner.run_id from batch_items item
               join batch_items partner on partner.batch_id = item.batch_id and partner.prompt_id = item.translation_of
               where item.run_id = ? and partner.run_id is not null order by item.id desc limit 1""",
            [run_id],
        ).fetchone()
        if row is None:
            row = db.execute(
                "select case when run_a = ? then run_b else run_a end from run_links where kind = ? and ? in (run_a, run_b) order by id limit 1",
                [run_id, LANGUAGE_SHIFT, run_id],
            ).fetchone()
    return int(row[0]) if row is not None else None


def read_language_grid(notebook: Notebook, run_id: int) -> LanguageGrid | None:
    """The grid of `run_id` and its language partner, or None if it has none (LookupError
    if there is no such run)."""
    first = notebook.run(run_id)
    if first is None:
        raise LookupError(f"There is no run {run_id} in the notebook {notebook.path}.")
    partner = language_partner(notebook, run_id)
    second = notebook.run(partner) if partner is not None else None
    if second is None:
        return None
    marks = {**notebook.annotations.for_run(first["id"]).responses, **notebook.annotations.for_run(second["id"]).responses}
    return assemble_grid(
        first, second,
        lambda response: ([flag.name for flag in marks[response["id"]].flags], [label.label for label in marks[response["id"]].labels]),
    )


# A response's flag names and label names, from wherever its run was read.
Marks = Callable[[dict[str, Any]], tuple[Iterable[str], Iterable[str]]]


def assemble_grid(first: dict[str, Any], second: dict[str, Any], marks: Marks) -> LanguageGrid:
    """Two runs of one question as a grid. A run is a dict with `id`, `language`, `prompt`
    and `responses` (each with `id`, `position`, `model_name`, `model_sha256`, `status`,
    `finish_reason`, `text`), as `Notebook.run` and an export's run records have them;
    `marks(response)` gives its flag and label names."""
    order = (ENGLISH, CHINESE)  # then any other language, in the order found
    pairs = sorted(
        ((run["language"] or detect_language(run["prompt"]) or "?", run) for run in (first, second)),
        key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order),
    )
    rows = tuple(GridRow(language, run["id"], run["prompt"]) for language, run in pairs)
    columns: list[GridColumn] = []
    cells: dict[tuple[int, int], GridCell] = {}
    for row_index, (_language, run) in enumerate(pairs):
        for response in run["responses"]:
            column = GridColumn(response["model_name"], response["model_sha256"])
            index = _column_of(columns, column, taken={c for (r, c) in cells if r == row_index})
            if index is None:
                columns.append(column)
                index = len(columns) - 1
            flags, labels = marks(response)
            cells[(row_index, index)] = GridCell(_answer(run["id"], response), tuple(dict.fromkeys(flags)), tuple(dict.fromkeys(labels)))
    return LanguageGrid(rows, tuple(columns), cells)


def _column_of(columns: list[GridColumn], model: GridColumn, taken: set[int]) -> int | None:
    """The column already made for this model (same SHA-256, else same name when a hash is
    missing) that this row has not filled yet: a model in two panes of a run gets two columns."""
    for index, column in enumerate(columns):
        if index in taken:
            continue
        if model.model_sha256 and column.model_sha256:
            if model.model_sha256 == column.model_sha256:
                return index
        elif model.model_name == column.model_name:
            return index
    return None
