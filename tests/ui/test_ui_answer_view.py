"""Untrusted answers stay inert on screen: nothing fetched, nothing live, links only on request."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import QTextBrowser

from workbench.ui.panes.answer_view import AnswerView, ReasoningView


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        _Counting.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    _Counting.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def big_png(tmp_path: Path) -> Path:
    image = QImage(400, 400, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    path = tmp_path / "big.png"
    assert image.save(str(path))
    return path


def hostile(server: str, png: Path) -> str:
    return (
        "# Answer\n\n<script>alert(1)</script>\n\n"
        f'<img src="{server}/raw.png">\n\n'
        f"![remote]({server}/markdown.png) ![local]({png.as_uri()})\n\n"
        f'<link rel="stylesheet" href="{server}/style.css">\n\n'
        "[js](javascript:alert(1)) [web](https://example.org/page)\n"
    )


def show(qtbot, view, text: str) -> None:
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.rendered, timeout=5000):
        view.show_markdown(text)
    view.grab()  # lay out and paint: any resource would be asked for now


def test_hostile_markdown_loads_nothing(qtbot, server, big_png):
    view = AnswerView()
    qtbot.addWidget(view)
    show(qtbot, view, hostile(server, big_png))
    qtbot.wait(200)
    assert _Counting.hits == []
    html = view.document().toHtml()
    assert "<img" not in html
    assert "<script>alert(1)</script>" in view.toPlainText()  # shown as text
    assert "[image: local]" in view.toPlainText()
    assert view.document().size().height() < 300  # the 400 px image was not drawn


def test_even_raw_html_set_directly_loads_no_images(qtbot, big_png):
    """The document refuses resources itself, should unsanitized HTML ever reach it."""
    control = QTextBrowser()
    qtbot.addWidget(control)
    control.setHtml(f'<img src="{big_png.as_uri()}">')
    control.grab()
    assert control.document().size().height() >= 400  # a plain browser would load it

    view = AnswerView()
    qtbot.addWidget(view)
    view.setHtml(f'<img src="{big_png.as_uri()}">')
    view.grab()
    assert view.document().size().height() < 100
    assert view.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl(big_png.as_uri())).size().width() == 1


def test_streamed_hostile_text_loads_nothing(qtbot, server, big_png):
    view = AnswerView()
    qtbot.addWidget(view)
    show(qtbot, view, "")
    text = ""
    for chunk in hostile(server, big_png).split(" "):
        view.append_stream(chunk + " ")
        text += chunk + " "
    qtbot.waitUntil(lambda: "alert(1)" in view.toPlainText(), timeout=2000)
    view.grab()
    with qtbot.waitSignal(view.rendered, timeout=5000):
        view.end_stream(text)
    view.grab()
    qtbot.wait(200)
    assert _Counting.hits == []
    assert "<img" not in view.document().toHtml()
    assert "<script>alert(1)</script>" in view.toPlainText()
    assert view.text == text


def test_rendering_happens_off_the_gui_thread(qtbot, monkeypatch):
    """A slow conversion must not hold the event loop: the view shows plain text meanwhile."""
    import threading

    from workbench.ui.panes import answer_view

    threads = []

    def slow(text: str) -> str:
        threads.append(threading.current_thread())
        time.sleep(0.3)
        return f"<p><b>{len(text)}</b></p>"

    monkeypatch.setattr(answer_view, "markdown_to_html", slow)
    view = AnswerView()
    qtbot.addWidget(view)
    started = time.perf_counter()
    view.show_markdown("**bold**")
    assert time.perf_counter() - started < 0.1
    assert view.toPlainText() == "**bold**"
    qtbot.waitSignal(view.rendered, timeout=5000).wait()
    assert view.toPlainText() == "8"
    assert threads and all(t is not threading.main_thread() for t in threads)


def test_links_open_only_http_and_only_when_clicked(qtbot, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString()) or True))
    view = AnswerView()
    qtbot.addWidget(view)
    show(qtbot, view, "[js](javascript:alert(1)) [web](https://example.org/page)")
    assert opened == []  # showing opens nothing
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "https://example.org/page"):
        view.anchorClicked.emit(QUrl(url))
    assert opened == ["https://example.org/page"]
    assert view.source().isEmpty()  # the view itself never navigated


def test_reasoning_is_plain_text(qtbot):
    view = ReasoningView()
    qtbot.addWidget(view)
    view.show_text("<b>not bold</b> **not bold either**")
    assert view.toPlainText() == "<b>not bold</b> **not bold either**"
