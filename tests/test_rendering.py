"""Answers render as Markdown, and hostile answers render inert."""

from __future__ import annotations

import re

import pytest

from workbench.core.rendering import is_safe_link, markdown_to_html


def tags(html: str) -> set[str]:
    return {name.lower() for name in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", html)}


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_markdown_structure_survives():
    html = markdown_to_html("# Title\n\n**bold** and *em*\n\n- one\n- two\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert {"h1", "strong", "em", "ul", "li", "pre", "code", "table", "td"} <= tags(html)


def test_single_newlines_are_kept():
    assert "<br" in markdown_to_html("first line\nsecond line")


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=http://127.0.0.1:9/x.png onerror=alert(1)>",
        "<iframe src='https://evil.example'></iframe>",
        "<style>body { background: url(http://evil.example/x) }</style>",
        "<div onclick='alert(1)'>click</div>",
        "<a href='javascript:alert(1)'>x</a>",
    ],
)
def test_raw_html_shows_as_text(hostile):
    html = markdown_to_html(hostile)
    assert tags(html) <= {"p"}
    assert "&lt;" in html  # the user sees the markup itself


def test_images_become_links_and_are_never_embedded():
    html = markdown_to_html("![a cat](http://127.0.0.1:9/cat.png)")
    assert "img" not in tags(html)
    assert hrefs(html) == ["http://127.0.0.1:9/cat.png"]
    assert "[image: a cat]" in html


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "/relative/path",
        "vbscript:msgbox",
        "mailto:someone@example.com",
    ],
)
def test_only_http_links_keep_their_target(link):
    html = markdown_to_html(f"[click]({link})")
    assert hrefs(html) == []
    assert "click" in html


def test_http_links_are_kept():
    html = markdown_to_html("[a](https://example.org/x?y=1) and <http://example.com>")
    assert hrefs(html) == ["https://example.org/x?y=1", "http://example.com"]


def test_control_characters_cannot_reach_markdown_placeholders():
    html = markdown_to_html("before \x02klzzwxh:0\x03 after \x00")
    assert "\x02" not in html and "\x03" not in html and "\x00" not in html
    assert "\ufffd" in html


def test_chinese_text_passes_through():
    assert "天安门" in markdown_to_html("**天安门**广场")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org", True),
        ("http://example.org/a", True),
        ("  https://example.org  ", True),
        ("https://", False),
        ("javascript:alert(1)", False),
        ("//example.org", False),
        ("ftp://example.org", False),
        ("http://[::1", False),
    ],
)
def test_is_safe_link(url, safe):
    assert is_safe_link(url) is safe
