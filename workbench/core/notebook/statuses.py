"""A response's status: stored names that never change meaning, and what each view says of them.

The one list of statuses the notebook knows; exports carry them as they are
stored and the importer accepts these and no others.

- `pending`: asked; no text saved yet.
- `streaming`: text arriving; what arrived so far is saved.
- `done`: finished; `finish_reason` says how, `error` whether it failed.
- `interrupted` (added with m006): the process writing it died before it
  finished (killed, crashed, power cut). The text saved so far is kept; a
  label on it labels a partial answer.

A `pending` or `streaming` answer whose writer is gone is marked
`interrupted` the next time any workbench opens the notebook (database.py).
"""

from __future__ import annotations

PENDING = "pending"
STREAMING = "streaming"
DONE = "done"
INTERRUPTED = "interrupted"

RESPONSE_STATUSES = (PENDING, STREAMING, DONE, INTERRUPTED)
UNFINISHED = (PENDING, STREAMING)


def unfinished(status: str) -> tuple[str, str] | None:
    """(a word for lists, an explanation) saying an answer is not whole; None for a finished one."""
    if status == DONE:
        return None
    if status == INTERRUPTED:
        return INTERRUPTED, "the workbench stopped before this answer finished; the text so far was kept (a partial answer)"
    return "unfinished", "still being written, or its workbench stopped; the text so far is partial"


def unfinished_note(status: str) -> str | None:
    """The same as one line, for every view (window, terminal, reports); None for a finished answer."""
    said = unfinished(status)
    return f"{said[0]}: {said[1]}" if said else None
