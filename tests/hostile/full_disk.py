"""Filling a disk, and `workbench` run with its disk filled at a chosen moment.

As a program (inside a small disk's namespace, where SQLite sees the tmpfs):
`python full_disk.py FOLDER -- ARGS…` runs `workbench ARGS…`, filling FOLDER's
disk just before the first finished answer is saved, so the answer streams
onto a disk that has just become full. A save waits one second, not a minute,
for room before the run gives up on it.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

FILLER = "filler"


def fill(folder: Path, leave: int = 0) -> None:
    """Write a filler file in `folder` until its disk has only `leave` bytes free."""

    def free() -> int:
        stats = os.statvfs(folder)
        return stats.f_bavail * stats.f_frsize

    with open(folder / FILLER, "ab") as out:
        while free() > leave:
            try:
                out.write(b"\0" * max(1, min(free() - leave, 1 << 20)))
                out.flush()
            except OSError:
                break


def main(folder: Path, args: list[str]) -> int:
    from workbench.cli.main import main as workbench
    from workbench.core import comparison
    from workbench.core.notebook.database import Notebook

    comparison.SAVE_PATIENCE_S = 1.0

    real = Notebook.finish_response
    filled = threading.Event()

    def finish_response(self, response_id, **fields):
        if not filled.is_set():
            filled.set()
            fill(folder)
        return real(self, response_id, **fields)

    Notebook.finish_response = finish_response  # type: ignore[method-assign]
    return workbench(args)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[sys.argv.index("--") + 1 :]))
