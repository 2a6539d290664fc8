"""What a file given as the notebook is, decided before anything writes to it.

Opening a file as a notebook switches it to write-ahead logging and adds the
schema: done to another application's SQLite database, that would change it
(the audit saw a traceback and the file left in WAL mode, or 35 tables added
by a search). So the file is first looked at without being changed:

- missing, or 0 bytes: NEW (a notebook may be started there);
- an SQLite database with no tables: NEW as well;
- an SQLite database whose migrations table names the workbench's migration
  set: NOTEBOOK;
- anything else (other tables, not SQLite, a folder, a device or a pipe) is
  refused with a NotebookProblem that says it was left untouched.

The look is read-only. A file with no -wal file beside it is opened
`immutable` (SQLite then creates no -wal or -shm file and takes no lock);
with a -wal file (another program has it open, or was killed) it is opened
`mode=ro`, so what is only in the log is seen too.
"""

from __future__ import annotations

import enum
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from ..errors import NotebookProblem
from . import migrations
from .store import translate_errors

SQLITE_HEADER = b"SQLite format 3\x00"
TABLES_NAMED = 5  # in the refusal; the rest are counted


class FileKind(enum.Enum):
    NEW = "new"  # nothing there yet: a new notebook may be created
    NOTEBOOK = "notebook"  # a workbench notebook (of this or another version)


def examine(path: Path) -> FileKind:
    """NEW or NOTEBOOK; a NotebookProblem for a file that is neither. Changes nothing."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileKind.NEW
    except OSError as exc:
        raise NotebookProblem(f"Can't look at the notebook {path}: {exc.strerror}. Check the path, or choose another file with --db.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise NotebookProblem(f"{path} is a folder, not a notebook file. Give a file's name with --db, e.g. {path / 'notebook.sqlite'}.")
    if not stat.S_ISREG(info.st_mode):
        raise NotebookProblem(f"{path} is not a regular file (a device or a pipe), so not a notebook; it was left untouched. Choose another file with --db.")
    if info.st_size == 0:
        return FileKind.NEW
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise NotebookProblem(f"The notebook {path} can't be read ({exc.strerror}). Check the file's permissions, or choose another file with --db.") from exc
    if header != SQLITE_HEADER:
        raise NotebookProblem(
            f"The notebook {path} is damaged, or is another kind of file (it is not an SQLite database); "
            "it was left untouched. Choose another file with --db, or restore a backup if it was a notebook."
        )
    tables, ours = _tables(path)
    if ours:
        return FileKind.NOTEBOOK
    if not tables:
        return FileKind.NEW
    named = ", ".join(tables[:TABLES_NAMED]) + (f" and {len(tables) - TABLES_NAMED} more" if len(tables) > TABLES_NAMED else "")
    raise NotebookProblem(
        f"{path} is not a Model Values Workbench notebook (it has tables {named}); it was left untouched. Choose another file with --db."
    )


def _tables(path: Path) -> tuple[list[str], bool]:
    """(the database's own tables, whether the workbench's migrations were applied to it)."""
    has_log = Path(f"{path}-wal").exists()
    uri = f"file:{quote(os.fsencode(path.absolute()))}?" + ("mode=ro" if has_log else "immutable=1")
    table = migrations.migrations.migrations_table
    with translate_errors(path), closing(sqlite3.connect(uri, uri=True)) as conn:
        tables = [row[0] for row in conn.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")]
        if table not in tables:
            return tables, False
        try:
            ours = conn.execute(f"select 1 from [{table}] where migration_set = ? limit 1", [migrations.MIGRATION_SET]).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such column" not in str(exc):
                raise
            return tables, False  # another tool's table of that name, with other columns
    return tables, ours is not None
