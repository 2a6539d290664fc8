"""PDF: the HTML report laid out by Qt and printed to paginated A4.

The one part of the export that needs Qt (QTextDocument + QPdfWriter), so
it lives here and is imported only when a PDF is asked for. Chinese needs
a CJK font: the machine's, or else the one the workbench brings
(core/cjk_font.py), registered with Qt here as the window registers it. QTextDocument can't
draw SVG, so each chart of the Summary is drawn by QSvgRenderer into an
image at print resolution and handed to the document as the resource
`chart:N`; the document loads nothing else (`loadResource` refuses every
other name), so printing fetches nothing.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..cjk_font import bundled_cjk_font
from . import report
from .collect import ExportData
from .html_report import PDF_CHART_WIDTH, chart_name, document

# Charts are laid out PDF_CHART_WIDTH px wide at 96 dpi; drawn this many times
# larger, they print at about 290 dpi.
CHART_SCALE = 3

if TYPE_CHECKING:
    from PySide6.QtGui import QImage, QTextDocument

# The application made for the command line, kept for the life of the process
# (a QGuiApplication must outlive every font and document it served).
_app: object | None = None


def pdf_bytes(data: ExportData) -> bytes:
    """The report as a PDF, in memory: QPdfWriter reports no write errors, so the
    caller saves the bytes itself (user_files.save), where a full disk is seen."""
    _ensure_gui_application()
    from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(96)
    writer.setTitle("Model Values Workbench report")
    writer.setCreator("Model Values Workbench")
    doc = _sealed_document()
    doc.setDocumentMargin(0)
    summary = report.summary(data)
    add_charts(doc, [chart_image(svg) for svg in summary.charts] if summary else [])
    doc.setHtml(document(data, for_qt=True, summary=summary))
    layout = writer.pageLayout()
    page = layout.paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(page.width(), page.height()))
    doc.print_(writer)
    return bytes(buffer.data().data())


def _sealed_document() -> QTextDocument:
    """A QTextDocument that only has the resources added to it: a name it does
    not hold (a file path, a URL) loads nothing instead of being read."""
    from PySide6.QtGui import QTextDocument

    class Sealed(QTextDocument):
        def loadResource(self, kind: int, name: object) -> None:
            return None

    return Sealed()


def add_charts(doc: QTextDocument, images: list[QImage]) -> None:
    """Give a document showing the `for_qt` report its chart images (the PDF, the export preview)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    for number, image in enumerate(images):
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(chart_name(number)), image)


def chart_image(svg: str) -> QImage:
    """The chart drawn at CHART_SCALE times the size it is laid out at (the
    markup's `width`), so it prints sharp. Any QTextDocument showing the
    `for_qt` report (the PDF, a preview) adds these as its `chart:N` resources."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    scale = CHART_SCALE * PDF_CHART_WIDTH / renderer.defaultSize().width()
    image = QImage(renderer.defaultSize() * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def _ensure_gui_application() -> None:
    """Fonts need a QGuiApplication. The window has one; the command line gets an
    offscreen one, display or not: `workbench export` runs on servers, and on a
    desktop missing one of the X11 plugin's libraries Qt would abort."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        global _app
        _app = QGuiApplication([sys.argv[0] if sys.argv else "workbench"])
    _register_cjk_font()


def _register_cjk_font() -> None:
    from PySide6.QtGui import QFontDatabase

    path = bundled_cjk_font()
    if path is not None and not QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese):
        QFontDatabase.addApplicationFont(str(path))

