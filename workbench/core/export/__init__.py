"""Export and import: the evidence leaves the notebook complete, and arrives safely.

`export(notebook, selection, fmt, path)` writes one of FORMATS; `render(data, fmt)`
gives the text of a text format (the window's preview). `import_jsonl(notebook,
path)` merges a JSON Lines export into a notebook. Qt-free except the PDF step
(pdf.py, imported only when a PDF is asked for).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EnvironmentProblem
from . import csv_table, html_report, jsonl, markdown_report
from ..analysis.agreement import Agreement, cohen_kappa, label_agreement
from .collect import FORMAT_NAME, FORMAT_VERSION, ExportData, Selection, collect
from .importer import ImportProblem, ImportResult, import_jsonl

if TYPE_CHECKING:
    from ..notebook.database import Notebook

FORMATS = ("md", "html", "pdf", "csv", "jsonl")
TEXT_FORMATS = ("md", "html", "csv", "jsonl")

__all__ = [
    "FORMATS", "FORMAT_NAME", "FORMAT_VERSION", "TEXT_FORMATS", "Agreement", "ExportData", "ImportProblem",
    "ImportResult", "Selection", "cohen_kappa", "collect", "export", "import_jsonl", "label_agreement", "render", "write",
]  # fmt: skip


def pieces(data: ExportData, fmt: str) -> Iterable[str]:
    """A text format's content, in pieces (so 10,000 answers are never one string)."""
    if fmt == "md":
        return markdown_report.lines(data)
    if fmt == "html":
        return html_report.parts(data)
    if fmt == "csv":
        return csv_table.chunks(data)
    if fmt == "jsonl":
        return jsonl.lines(data)
    raise ValueError(f"Not a text export format: {fmt!r} (formats: {', '.join(FORMATS)}).")


def render(data: ExportData, fmt: str) -> str:
    """The whole file as text, exactly as `write` would save it (the window's preview)."""
    return "".join(pieces(data, fmt))


def write(data: ExportData, fmt: str, path: Path) -> None:
    """Save `data` as `fmt` at `path`, all or nothing: the file appears only when complete."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; formats: {', '.join(FORMATS)}.")
    path = Path(path).expanduser()
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise EnvironmentProblem(f"Can't write in the folder {path.parent}: {exc.strerror}. Choose another place.") from exc
    try:
        if fmt == "pdf":
            os.close(handle)
            from .pdf import write_pdf

            write_pdf(data, Path(temporary))
        else:
            # newline="" keeps the CSV writer's \r\n and the other formats' \n as they are.
            with open(handle, "w", encoding="utf-8", newline="") as out:
                for piece in pieces(data, fmt):
                    out.write(piece)
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise EnvironmentProblem(f"Can't write the export {path}: {exc.strerror or exc}. Check the disk and the folder's permissions.") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def export(notebook: "Notebook", selection: Selection, fmt: str, path: Path) -> ExportData:
    """Collect the selection and write it; returns what was written (for a summary)."""
    data = collect(notebook, selection)
    write(data, fmt, path)
    return data
