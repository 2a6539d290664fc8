"""Model answers as safe HTML: Markdown for structure, nothing live, nothing loaded.

Model output is untrusted text. Python-Markdown passes raw HTML through by
default, so its raw-HTML rules are switched off here: `<script>` or `<img>`
typed by a model shows as those characters. The HTML that Markdown itself
writes is then cleaned with nh3 (an allow-list of harmless tags), images
become plain links (a view never fetches them), and only http(s) links
survive. Qt-free, so the window, exports and notes all share one renderer.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as etree
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "b", "i", "del", "s", "sup", "sub",
        "code", "pre", "blockquote", "ul", "ol", "li",
        "table", "thead", "tbody", "tr", "th", "td", "a",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
LINK_SCHEMES = frozenset({"http", "https"})

# C0 control characters other than tab and newlines. Python-Markdown uses
# \x02 and \x03 as its own placeholders, and the rest draw nothing useful.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REPLACEMENT = "\ufffd"


def is_safe_link(url: str) -> bool:
    """True for absolute http(s) URLs: the only links a user may open from an answer."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)


class _ImagesAsLinks(Treeprocessor):
    """`![alt](src)` becomes a link labelled "image: alt", so no view ever fetches it."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter("img"):
            src = element.get("src", "")
            alt = element.get("alt", "").strip()
            element.tag = "a"
            element.attrib.clear()
            element.set("href", src)
            element.text = f"[image: {alt}]" if alt else "[image]"


class _NoRawHtml(Extension):
    """Treat raw HTML as text: no block or inline HTML pass-through."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API name
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_ImagesAsLinks(md), "images_as_links", 15)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if is_safe_link(value) else None
    return value


_local = threading.local()


def _converter() -> markdown.Markdown:
    """One converter per thread, reset between texts: building one costs more
    than converting a typical answer, and exports convert thousands."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(
            extensions=[_NoRawHtml(), "fenced_code", "tables", "sane_lists", "nl2br"],
            output_format="html",
        )
    return converter.reset()


def markdown_to_html(text: str) -> str:
    """Safe HTML for `text` as Markdown; raw HTML in `text` appears as text."""
    cleaned = _CONTROL.sub(REPLACEMENT, text)
    html = _converter().convert(cleaned)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(LINK_SCHEMES),
        attribute_filter=_keep_attribute,
        link_rel=None,
        strip_comments=True,
    )
