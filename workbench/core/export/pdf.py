"""PDF: the HTML report laid out by Qt and printed to paginated A4.

The one part of the export that needs Qt (QTextDocument + QPdfWriter), so
it lives here and is imported only when a PDF is asked for. Chinese needs
a CJK font on the machine (Debian: fonts-noto-cjk or fonts-wqy-microhei);
without one Qt draws empty boxes, as the window does. The report's HTML has
no images and QTextDocument loads no remote resources, so printing fetches
nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .collect import ExportData
from .html_report import document

# The application made for the command line, kept for the life of the process
# (a QGuiApplication must outlive every font and document it served).
_app: object | None = None


def write_pdf(data: ExportData, path: Path) -> None:
    """Write the report as a PDF at `path` (the caller handles temporary files)."""
    _ensure_gui_application()
    from PySide6.QtCore import QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(96)
    writer.setTitle("Model Values Workbench report")
    writer.setCreator("Model Values Workbench")
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(document(data, for_qt=True))
    layout = writer.pageLayout()
    page = layout.paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(page.width(), page.height()))
    doc.print_(writer)


def _ensure_gui_application() -> None:
    """Fonts need a QGuiApplication. The window has one; the command line gets an
    offscreen one (no display needed: `workbench export` runs on servers)."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        global _app
        _app = QGuiApplication([sys.argv[0] if sys.argv else "workbench"])

