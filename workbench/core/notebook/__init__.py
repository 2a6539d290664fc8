"""The notebook: one SQLite file holding every model, run, response and annotation.

`open_notebook(path)` is the way in; see docs/notebook.md for the schema.
A `Notebook` reads and writes runs itself, and has the rest as attributes:
`labels`, `annotations`, `flags` (automatic ones), `sessions`, `batches`,
`votes`, `demos`, `undo` (the undo/redo stack) and `search()`; all share one
`Store` (store.py). `notebook.subscribe(listener)` hears of every committed
change as a `NotebookChange` (changes.py).
"""

from .annotations import DIVERGENCE, RunAnnotations, Span
from .changes import NotebookChange
from .database import Notebook, open_chosen_notebook, open_notebook
from .undo import Operation, UndoConflict
from .labels import Label
from .search import MARK_END, MARK_START, SearchFilters, SearchHit
from .sessions import UNSORTED, Session

__all__ = [
    "DIVERGENCE", "MARK_END", "MARK_START", "UNSORTED", "Label", "Notebook", "NotebookChange", "Operation", "RunAnnotations",
    "SearchFilters", "SearchHit", "Session", "Span", "UndoConflict", "open_chosen_notebook", "open_notebook",
]
