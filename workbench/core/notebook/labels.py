"""The label set: the built-in value-alignment labels and the user's own.

A label's `name` is what annotations store, so it never changes meaning
once written: "renaming" a label changes its display `title` only. Built-in
labels keep their definitions (a different definition would be a different
label); their title and colour can be changed, e.g. to translate the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .stamps import check_annotator, utc_now

if TYPE_CHECKING:
    from .undo import UndoStack
    from .store import Store

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
# Given in turn to user labels created without a colour.
PALETTE = ("#1565c0", "#7cb342", "#d81b60", "#00897b", "#8e24aa", "#fb8c00", "#3949ab", "#c0ca33")


@dataclass(frozen=True)
class Label:
    name: str  # stored in annotations; never changes meaning
    title: str  # what the app shows
    definition: str  # one line, shown in the app
    colour: str  # "#rrggbb"
    builtin: bool
    position: int  # order in the app, from 1; the GUI maps number keys 1-9, 0 to the first ten
    annotator: str
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Label:
        return cls(**{**{k: row[k] for k in cls.__dataclass_fields__}, "builtin": bool(row["builtin"])})


class Labels:
    """`notebook.labels`: read and edit the label set (edits are undoable)."""

    def __init__(self, store: Store, undo: UndoStack) -> None:
        self._store = store
        self._undo = undo

    def all(self) -> list[Label]:
        with self._store.reading() as db:
            return [Label.from_row(row) for row in db.query("select * from labels order by position, id")]

    def get(self, name: str) -> Label:
        """The label stored as `name`; ValueError (listing the names there are) if none."""
        with self._store.reading() as db:
            rows = list(db.query("select * from labels where name = ?", [name]))
        if not rows:
            raise ValueError(f"No label named {name!r}. Labels: {', '.join(label.name for label in self.all())}.")
        return Label.from_row(rows[0])

    def create(self, name: str, *, annotator: str, title: str | None = None, colour: str | None = None, definition: str = "") -> Label:
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"A label name is lower-case letters, digits and _ (at most 40, starting with a letter), not {name!r}; the title can be anything.")
        title = _clean(title if title is not None else name, "title")
        with self._undo.change(f"New label {title!r}", operation="labels") as changes:
            if changes.conn.execute("select 1 from labels where name = ?", [name]).fetchone():
                raise ValueError(f"There is already a label named {name!r}.")
            position, used = changes.conn.execute("select coalesce(max(position), 0) + 1, coalesce(sum(builtin = 0), 0) from labels").fetchone()
            now = utc_now()
            changes.insert(
                "labels",
                {
                    "name": name,
                    "title": title,
                    "definition": definition.strip(),
                    "colour": _colour(colour) if colour else PALETTE[used % len(PALETTE)],
                    "builtin": 0,
                    "position": position,
                    "annotator": check_annotator(annotator),
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return self.get(name)

    def update(self, name: str, *, annotator: str, title: str | None = None, colour: str | None = None, definition: str | None = None) -> Label:
        """Change what the app shows for a label; its stored name stays."""
        label = self.get(name)
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = _clean(title, "title")
        if colour is not None:
            values["colour"] = _colour(colour)
        if definition is not None and definition.strip() != label.definition:
            if label.builtin:
                raise ValueError(f"The definition of the built-in label {name!r} is fixed: it is what the label means. Make a label of your own instead.")
            values["definition"] = definition.strip()
        stamp = {"annotator": check_annotator(annotator), "updated_at": utc_now()}
        with self._undo.change(f"Edit label {label.title!r}", operation="labels") as changes:
            row_id = changes.conn.execute("select id from labels where name = ?", [name]).fetchone()[0]
            changes.update("labels", row_id, values, stamp=stamp)
        return self.get(name)


def _clean(text: str, what: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValueError(f"The {what} is empty.")
    return text


def _colour(colour: str) -> str:
    if not COLOUR_PATTERN.fullmatch(colour):
        raise ValueError(f"A colour is written #rrggbb, not {colour!r}.")
    return colour.lower()

