"""Checks that the notebook's search indexes hold exactly what their triggers should put there.

`runs_fts` and `responses_fts` index their tables' text plus padding, finished answers
only (migration m007), so FTS5's own check against the content table (integrity-check
with rank 1) cannot apply: it would compare with the unpadded text of every row. Instead
the index is compared, entry by entry (fts5vocab's `instance` rows: term, row, column,
offset), with an index built afresh from what should have been indexed. A 'delete' that
did not match what was indexed leaves entries behind, and this sees them.
"""

from __future__ import annotations

import sqlite3

_PAD = "char(10, 10)"
# Index -> (its columns, the rows and texts it should hold).
EXPECTED = {
    "runs_fts": ("prompt, system_prompt", f"select id, coalesce(prompt, '') || {_PAD}, coalesce(system_prompt, '') || {_PAD} from runs"),
    "responses_fts": (
        "text, reasoning",
        f"select id, coalesce(text, '') || {_PAD}, coalesce(reasoning, '') || {_PAD} from responses where status = 'done'",
    ),
}


def assert_fts_consistent(conn: sqlite3.Connection) -> None:
    """Raises (sqlite3 error or AssertionError) unless every index is sound and in step."""
    for table, (columns, rows) in EXPECTED.items():
        conn.execute(f"insert into {table}({table}, rank) values ('integrity-check', 0)")
        conn.execute(f"create virtual table temp.expected_fts using fts5({columns}, tokenize='trigram')")
        conn.execute("create virtual table temp.expected_entries using fts5vocab(temp, expected_fts, instance)")
        conn.execute(f"create virtual table temp.actual_entries using fts5vocab(main, {table}, instance)")
        try:
            conn.execute(f"insert into temp.expected_fts(rowid, {columns}) {rows}")
            actual = conn.execute("select * from temp.actual_entries order by 1, 2, 3, 4").fetchall()
            expected = conn.execute("select * from temp.expected_entries order by 1, 2, 3, 4").fetchall()
            assert actual == expected, f"{table} is out of step with its table"
        finally:
            for temp in ("actual_entries", "expected_entries", "expected_fts"):
                conn.execute(f"drop table temp.{temp}")
    # notes_fts keeps its own copy of the text, so FTS5 can check it against that.
    conn.execute("insert into notes_fts(notes_fts, rank) values ('integrity-check', 1)")
