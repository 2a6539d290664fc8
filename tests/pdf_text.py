"""The text a PDF reader would copy out of the workbench's PDFs, for tests.

QtPdf (a real reader) is not in PySide6-Essentials, and no PDF library is a
dependency, so this reads what QPdfWriter writes and nothing more: objects
`N 0 obj … endobj`, Flate-compressed streams, Type0 fonts whose ToUnicode
CMap maps glyph ids to text, and page content whose text is shown glyph by
glyph with `<hex> Tj`. Each text object (BT … ET) is one piece; a space is
there only where the PDF draws a space glyph, as copying text from it gives.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
_REF = rb"(\d+) 0 R"


def pdf_text(data: bytes) -> list[str]:
    """The text objects of every page, in drawing order."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(data)}
    pieces: list[str] = []
    for body in objects.values():
        if not re.search(rb"/Type\s*/Page\b", body):
            continue
        resources = _resolve(objects, body, b"Resources")
        fonts_dict = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S)
        fonts = {
            name: _to_unicode(objects, int(ref)) for name, ref in re.findall(rb"/(\w+)\s+" + _REF, fonts_dict.group(1) if fonts_dict else b"")
        }
        for ref in re.findall(rb"/Contents\s+" + _REF, body):
            pieces.extend(_page_text(_stream(objects[int(ref)]), fonts))
    return pieces


def _resolve(objects: dict[int, bytes], body: bytes, key: bytes) -> bytes:
    ref = re.search(rb"/" + key + rb"\s+" + _REF, body)
    return objects[int(ref.group(1))] if ref else body


def _stream(body: bytes) -> bytes:
    match = _STREAM.search(body)
    assert match, "an object without a stream"
    raw = match.group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in body[: match.start()] else raw


def _to_unicode(objects: dict[int, bytes], font: int) -> dict[int, str]:
    ref = re.search(rb"/ToUnicode\s+" + _REF, objects[font])
    if ref is None:
        return {}
    cmap = _stream(objects[int(ref.group(1))])
    glyphs: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, target in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            start, end = int(first, 16), int(last, 16)
            if target.startswith(b"["):
                for offset, text in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", target)):
                    glyphs[start + offset] = bytes.fromhex(text.decode()).decode("utf-16-be")
            else:
                base = int(target[1:-1], 16)
                for code in range(start, end + 1):
                    glyphs[code] = chr(base + code - start)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return glyphs


def _page_text(content: bytes, fonts: dict[bytes, dict[int, str]]) -> list[str]:
    pieces: list[str] = []
    for block in re.findall(rb"\bBT\b(.*?)\bET\b", content, re.S):
        glyphs: dict[int, str] = {}
        text: list[str] = []
        for font, shown in re.findall(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj", block):
            if font:
                glyphs = fonts.get(font, {})
                continue
            for i in range(0, len(shown), 4):
                text.append(glyphs.get(int(shown[i : i + 4], 16), "\ufffd"))
        pieces.append("".join(text))
    return pieces
