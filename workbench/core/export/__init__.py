"""Export and import: the evidence leaves the notebook complete, and arrives safely.

`export(notebook, selection, fmt, path)` writes one of FORMATS; `render(data, fmt)`
gives the text of a text format (the window's preview). `import_jsonl(notebook,
path)` merges a JSON Lines export into a notebook. Qt-free except the PDF step
(pdf.py, imported only when a PDF is asked for).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..user_files import check_output, save
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
    """Save `data` as `fmt` at `path`, all or nothing (core/user_files.py: the file
    appears only when complete, and a device, FIFO, folder or link there is refused)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; formats: {', '.join(FORMATS)}.")
    path = Path(path).expanduser()
    if fmt == "pdf":
        from .pdf import pdf_bytes

        check_output(path)  # a path that will be refused is, before the slow layout
        save(path, pdf_bytes(data))
    else:
        save(path, pieces(data, fmt))


def export(notebook: Notebook, selection: Selection, fmt: str, path: Path) -> ExportData:
    """Collect the selection and write it; returns what was written (for a summary)."""
    data = collect(notebook, selection)
    write(data, fmt, path)
    return data
