"""Views for untrusted model text: nothing in them is live and nothing is fetched.

`AnswerView` shows an answer as Markdown rendered by `core.rendering`
(already sanitized), and adds two guards of its own: its document refuses
to load any resource (images, style sheets: `loadResource` answers with a
blank, both on the browser and on the document), and it never navigates. A
click on a link asks `core.rendering.is_safe_link` and only then hands an
http(s) URL to the desktop's browser.

Keeping the event loop free: Python-Markdown needs about 100 ms for a 15 KB
answer, so Markdown is converted on a worker thread and only the finished
HTML is set on the GUI thread. While an answer streams, new text (already
batched by the runner) is appended as plain text through a cursor, and the
whole answer is rendered again only when a block (paragraph, list item,
heading) has ended, at most every `RENDER_INTERVAL_MS`, or after
`RENDER_MAX_WAIT_MS` in one long block, and once more at the end. Re-rendering
costs the whole answer each time; on a two-core laptop that CPU is taken from
the models, so it is kept to a few per cent (`RENDER_BUDGET`).
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QDesktopServices, QImage, QTextCursor, QTextDocument
from PySide6.QtWidgets import QPlainTextEdit, QTextBrowser, QWidget

from ...core.rendering import is_safe_link, markdown_to_html
from .highlights import Mark, apply_marks
from ..shared.tasks import TaskQueue

RENDER_INTERVAL_MS = 500  # Markdown re-render at most this often while streaming
RENDER_MAX_WAIT_MS = 2000  # ...and at least this often when text keeps coming in one block
RENDER_BUDGET = 0.03  # ...and never more than this share of the time

_markdown_queue: TaskQueue | None = None


def _markdown() -> TaskQueue:
    """One worker thread converts Markdown for every view, in order."""
    global _markdown_queue
    if _markdown_queue is None:
        _markdown_queue = TaskQueue("markdown", parent=QCoreApplication.instance())
    return _markdown_queue


def _nothing(kind: int) -> QImage | str:
    """What a refused resource is replaced with. Images get a blank pixel: given no image at
    all, Qt's image handler falls back to reading a local file by itself."""
    if kind == QTextDocument.ResourceType.ImageResource.value:
        image = QImage(1, 1, QImage.Format.Format_ARGB32)
        image.fill(0)
        return image
    return ""


class InertDocument(QTextDocument):
    """A text document that loads nothing, whatever its HTML asks for."""

    def loadResource(self, type: int, name: QUrl | str) -> QImage | str:  # noqa: A002, N802 - Qt's names
        return _nothing(type)


class AnswerView(QTextBrowser):
    linkHovered = Signal(str)  # the URL under the mouse, "" when none
    rendered = Signal()  # the Markdown of the current text is on screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocument(InertDocument(self))
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        _repaints_alone(self)
        self.anchorClicked.connect(self._open_if_safe)
        self.highlighted.connect(lambda url: self.linkHovered.emit(url.toString()))
        self._css = ""
        self._text = ""
        self._serial = 0  # which request the next finished conversion must match
        self._converting = False
        self._again: bool | None = None  # render once more when the conversion in flight ends
        self._last_render = 0.0
        self._render_cost = 0.0
        self._marks: list[Mark] = []  # highlights, drawn again after every render
        self._block_ended = False  # a line break streamed in since the last render
        # Window commands about this answer, after Copy and Select All in its context menu (set by the shell).
        self.context_actions: list[QAction] = []

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt's name
        self.setFocus(Qt.FocusReason.PopupFocusReason)  # the commands act on the focused pane: this one
        menu = self.createStandardContextMenu(event.pos())
        if self.context_actions:
            menu.addSeparator()
            menu.addActions(self.context_actions)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())

    def loadResource(self, type: int, name: QUrl | str) -> QImage | str:  # noqa: A002, N802 - Qt's names
        return _nothing(type)

    def set_css(self, css: str) -> None:
        self._css = css
        self._request_render(keep_position=True)

    @property
    def text(self) -> str:
        return self._text

    @property
    def rendering(self) -> bool:
        """True until the current text is on screen as Markdown."""
        return self._converting

    # --- whole answers ------------------------------------------------------

    def show_markdown(self, text: str) -> None:
        """Show `text` from the top; it appears as plain text until its Markdown is ready."""
        self._text = text
        self._marks = []
        self._serial += 1  # whatever is being converted now is out of date
        with _FollowingEnd(self, keep_position=False):
            self.setPlainText(text)
        self._draw_marks()
        self._request_render(keep_position=False)

    def clear_answer(self) -> None:
        self.show_markdown("")

    def set_marks(self, marks: list[Mark]) -> None:
        """Highlights on the current text; kept until the next `show_markdown`."""
        self._marks = list(marks)
        self._draw_marks()

    def _draw_marks(self) -> None:
        if self._marks or self.extraSelections():
            apply_marks(self, self._marks, self._text, rendered=True)

    # --- streaming ------------------------------------------------------------

    def append_stream(self, chunk: str) -> None:
        self._text += chunk
        _append_at_end(self, chunk)
        self._block_ended = self._block_ended or "\n" in chunk
        since_ms = (time.perf_counter() - self._last_render) * 1000
        due = since_ms >= RENDER_MAX_WAIT_MS or (self._block_ended and since_ms >= RENDER_INTERVAL_MS)
        if due and not self._converting and self._render_cost * 1000 <= since_ms * RENDER_BUDGET:
            self._request_render(keep_position=True)

    def end_stream(self, final_text: str) -> None:
        """The full, final answer (as saved in the notebook) replaces what streamed in."""
        if final_text != self._text:
            self._text = final_text
            with _FollowingEnd(self):
                self.setPlainText(final_text)
        self._request_render(keep_position=True)

    # --- rendering ------------------------------------------------------------

    def _request_render(self, keep_position: bool) -> None:
        """Convert the text as it is now on the worker; with `keep_position`, a reader at the end
        stays at the end and a reader further up stays where they are, otherwise show the top."""
        if self._converting:
            self._again = keep_position if self._again is None else self._again and keep_position
            return
        self._converting = True
        self._block_ended = False
        self._serial += 1
        serial, text, started = self._serial, self._text, time.perf_counter()
        view = self

        def done(html: str) -> None:
            if shiboken6.isValid(view):
                view._converted(serial, len(text), html, keep_position, started)

        _markdown().submit(lambda: markdown_to_html(text), done)

    def _converted(self, serial: int, length: int, html: str, keep_position: bool, started: float) -> None:
        self._converting = False
        again, self._again = self._again, None
        if serial == self._serial:
            with _FollowingEnd(self, keep_position):
                self.document().setDefaultStyleSheet(self._css)
                self.setHtml(html)
                tail = self._text[length:]  # streamed while converting
                if tail:
                    _insert_at_end(self.document(), tail)
            self._draw_marks()
            self._last_render = time.perf_counter()
            self._render_cost = self._last_render - started
            if again is None:
                if not tail:
                    self.rendered.emit()
                return  # still streaming: a later append renders again when it is time
        self._request_render(keep_position=True if again is None else again)

    # --- links --------------------------------------------------------------

    def _open_if_safe(self, url: QUrl) -> None:
        if is_safe_link(url.toString()):
            QDesktopServices.openUrl(url)


class ReasoningView(QPlainTextEdit):
    """A model's reasoning, as plain text (never rendered)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        _repaints_alone(self)
        self._text = ""

    @property
    def text(self) -> str:
        return self._text

    def set_marks(self, marks: list[Mark]) -> None:
        """Highlights in the reasoning: plain text, so offsets map exactly."""
        apply_marks(self, marks, self._text, rendered=False)

    def show_text(self, text: str) -> None:
        self._text = text
        self.setPlainText(text)
        self.setExtraSelections([])

    def append_stream(self, chunk: str) -> None:
        self._text += chunk
        _append_at_end(self, chunk)


def _repaints_alone(view: QTextBrowser | QPlainTextEdit) -> None:
    """The scroll bar changes with every piece of text that makes the answer longer. Qt
    repaints everything beneath a widget it does not know to be opaque, and a style
    sheet's scroll bar never is: each of its repaints painted the pane, the compare area
    and the main window under it too. The box Qt keeps it in fills its own background,
    so the repaints stop there."""
    box = view.verticalScrollBar().parentWidget()
    assert box is not None, "a scroll area keeps its scroll bars in a box of its own"
    box.setAutoFillBackground(True)


def _append_at_end(view: QTextBrowser | QPlainTextEdit, text: str) -> None:
    """Plain text at the end of a view's document; a reader at the end stays there."""
    with _FollowingEnd(view):
        _insert_at_end(view.document(), text)


def _insert_at_end(document: QTextDocument, text: str) -> None:
    cursor = QTextCursor(document)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)


class _FollowingEnd:
    """Around a change of a view's text: a reader at the end stays at the end."""

    def __init__(self, view: QTextBrowser | QPlainTextEdit, keep_position: bool = True) -> None:
        self._bar = view.verticalScrollBar()
        self._keep = keep_position

    def __enter__(self) -> None:
        self._position = self._bar.value()
        self._following = self._position >= self._bar.maximum() - 4

    def __exit__(self, *exc: object) -> None:
        if not self._keep:
            self._bar.setValue(0)
        elif self._following:
            self._bar.setValue(self._bar.maximum())
        else:
            self._bar.setValue(self._position)
