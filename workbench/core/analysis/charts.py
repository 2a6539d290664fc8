"""Charts of rates as standalone SVG text: bars with Wilson whiskers, and a
topic x model heat map.

Plain strings, no Qt, so the same chart goes inline into the HTML report,
through QSvgRenderer into the window's Summary view and the PDF, and into
tests that parse it. QSvgRenderer only speaks SVG Tiny 1.2, so styling is
presentation attributes (no <style>, no CSS classes that matter, no
`dominant-baseline`: text is centred by offsetting its baseline), and
gradients are drawn as steps. Model and topic names are untrusted (a GGUF
names itself): every piece of text is escaped, characters XML forbids and
bidi controls are dropped, and long names are cut with an ellipsis, the full
name kept in a <title> for hover. Nothing refers outside the document (no
href, no image, no script), and the output depends only on the input, so
tests can compare it.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .summary import Rate

FONT_FAMILY = "Noto Sans, Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, DejaVu Sans, Arial, sans-serif"
FONT_SIZE = 14
TITLE_SIZE = 17
PAD = 12
ROW = 28  # one bar or heading row
BAR = 16  # bar thickness inside a row
CELL = 34  # heat map cell height
LINE = FONT_SIZE + 4  # baseline to baseline
ELLIPSIS = "…"
BOLD_WIDTH = 1.12  # bold glyphs are about this much wider: cut bold text sooner
# Explicit direction marks and overrides: a name carrying U+202E would reverse the text after it.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Viridis at nine evenly spaced stops: lightness rises with the rate, it stays
# readable for the common colour-vision deficiencies, and both ends differ
# from a white and from a near-black background.
VIRIDIS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")


@dataclass(frozen=True)
class Palette:
    background: str
    text: str
    muted: str
    grid: str
    bar: str
    whisker: str


# Okabe-Ito blue (light) and sky blue (dark): distinct for colour-blind readers on either background.
LIGHT = Palette(background="#ffffff", text="#1a1a1a", muted="#5c5c5c", grid="#d4d4d4", bar="#0072b2", whisker="#111111")
DARK = Palette(background="#1e1f22", text="#ececec", muted="#a8a8a8", grid="#4a4a4a", bar="#56b4e9", whisker="#ffffff")


def rate_bars_svg(rates: Sequence[Rate], *, title: str, dark: bool = False, width: int = 720) -> str:
    """Horizontal bars of k/n per model on a 0-100% axis, the Wilson interval as a
    whisker and "k/n (r%)" beside each bar. When the rates span several groups
    (languages, topics), each model gets a heading and one bar per group."""
    palette = DARK if dark else LIGHT
    models = _models(rates)
    groups = list(dict.fromkeys(r.group for r in rates))
    grouped = len(groups) > 1
    # Rows: ("heading", model name) or ("bar", label, rate).
    rows: list[tuple[str, str, Rate | None]] = []
    for key, name in models.items():
        mine = [r for r in rates if r.model == key]
        if grouped:
            rows.append(("heading", name, None))
            rows.extend(("bar", r.group, r) for r in mine)
        else:
            rows.extend(("bar", name, r) for r in mine)
    value_w = _text_width("0000/0000 (100%)", FONT_SIZE) + PAD
    labels = [label for kind, label, _ in rows if kind == "bar"]
    indent = PAD if grouped else 0
    label_w = min(max((_text_width(label, FONT_SIZE) for label in labels), default=0) + indent, width * 0.32)
    plot_x = PAD + label_w + PAD
    plot_w = max(width - plot_x - value_w - PAD, 60.0)
    top = PAD + TITLE_SIZE + PAD
    axis_y = top + len(rows) * ROW
    height = axis_y + FONT_SIZE + 2 * PAD

    out = _open(width, height, title, palette)
    for tick in (0, 25, 50, 75, 100):
        x = plot_x + plot_w * tick / 100
        out.append(_line(x, top - 4, x, axis_y, palette.grid, 1))
        out.append(_text(x, axis_y + FONT_SIZE + 4, f"{tick}%", palette.muted, anchor="middle"))
    for i, (kind, label, rate) in enumerate(rows):
        middle = top + i * ROW + ROW / 2
        baseline = middle + FONT_SIZE * 0.35
        if kind == "heading":
            out.append(_named_text(PAD, baseline, label, width - 2 * PAD, palette.text, bold=True))
            continue
        assert rate is not None
        out.append('<g class="row">')
        out.append(_named_text(PAD + indent, baseline, label, label_w - indent, palette.text))
        if rate.n == 0:
            out.append(_text(plot_x + 6, baseline, "no answers", palette.muted, italic=True))
        else:
            low, high = rate.interval
            out.append(
                f'<rect class="bar" x="{_n(plot_x)}" y="{_n(middle - BAR / 2)}" width="{_n(plot_w * rate.k / rate.n)}" '
                f'height="{BAR}" fill="{palette.bar}"/>'
            )
            x1, x2 = plot_x + plot_w * low, plot_x + plot_w * high
            # A halo in the background colour keeps the whisker visible over the bar.
            out.append(_line(x1, middle, x2, middle, palette.background, 4))
            out.append(f'<line class="whisker" x1="{_n(x1)}" y1="{_n(middle)}" x2="{_n(x2)}" y2="{_n(middle)}" stroke="{palette.whisker}" stroke-width="1.5"/>')
            for x in (x1, x2):
                out.append(_line(x, middle - 5, x, middle + 5, palette.whisker, 1.5))
            out.append(_text(plot_x + plot_w + PAD, baseline, f"{rate.k}/{rate.n} ({_percent(rate)})", palette.text, cls="value"))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def heat_map_svg(rates: Sequence[Rate], *, title: str, dark: bool = False, width: int = 720) -> str:
    """Rows are groups (topics), columns are models; a cell's colour is its rate on
    viridis, its text "k/n". A combination with no answers is an outlined empty
    cell with a dash, so it can't be read as 0%."""
    palette = DARK if dark else LIGHT
    models = _models(rates)
    groups = list(dict.fromkeys(r.group for r in rates))
    cells = {(r.group, r.model): r for r in rates}
    label_w = min(max((_text_width(g, FONT_SIZE) for g in groups), default=0), width * 0.3)
    grid_x = PAD + label_w + PAD
    # Capped so two models on a wide chart still read as a grid, not as two bands.
    col_w = min(max((width - grid_x - PAD) / max(len(models), 1), 40.0), 180.0)
    head_y = PAD + TITLE_SIZE + PAD
    room = col_w - PAD
    heading_lines = 2 if any(_text_width(name, FONT_SIZE * BOLD_WIDTH) > room for name in models.values()) else 1
    grid_y = head_y + heading_lines * LINE + PAD // 2
    legend_y = grid_y + len(groups) * CELL + PAD
    height = legend_y + 18 + PAD

    out = _open(width, height, title, palette)
    for j, name in enumerate(models.values()):
        out.append(_column_heading(grid_x + j * col_w + col_w / 2, grid_y - PAD // 2 - 4, name, room, palette.text))
    for i, group in enumerate(groups):
        y = grid_y + i * CELL
        baseline = y + CELL / 2 + FONT_SIZE * 0.35
        out.append(_named_text(PAD, baseline, group, label_w, palette.text))
        for j, key in enumerate(models):
            x = grid_x + j * col_w
            rate = cells.get((group, key))
            box = f'x="{_n(x + 1)}" y="{_n(y + 1)}" width="{_n(col_w - 2)}" height="{CELL - 2}"'
            if rate is None or rate.n == 0:
                out.append(
                    f'<rect class="missing" {box} fill="{palette.background}" stroke="{palette.muted}" stroke-width="1" stroke-dasharray="4,3"/>'
                )
                out.append(_text(x + col_w / 2, baseline, "–", palette.muted, anchor="middle"))
                continue
            fill = _viridis(rate.k / rate.n)
            low, high = rate.interval
            hover = f"{models[key]} · {group}: {rate.k}/{rate.n} ({_percent(rate)}), 95% CI {low:.0%}–{high:.0%}"
            out.append(f"<g><title>{_escape(hover)}</title>")
            out.append(f'<rect class="cell" {box} fill="{fill}"/>')
            out.append(_text(x + col_w / 2, baseline, f"{rate.k}/{rate.n}", _ink_on(fill), anchor="middle", bold=True))
            out.append("</g>")
    out.extend(_legend(PAD, legend_y, palette))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(x: float, y: float, palette: Palette) -> list[str]:
    """Ten steps of the scale from 0% to 100%, then the empty-cell mark."""
    step = 22
    out = [_text(x, y + 13, "rate", palette.muted)]
    x += _text_width("rate", FONT_SIZE) + 6
    out.append(_text(x, y + 13, "0%", palette.muted))
    x += _text_width("0%", FONT_SIZE) + 8
    for i in range(10):
        out.append(f'<rect x="{_n(x + i * step)}" y="{_n(y)}" width="{step}" height="18" fill="{_viridis((i + 0.5) / 10)}"/>')
    x += 10 * step + 8
    out.append(_text(x, y + 13, "100%", palette.muted))
    x += _text_width("100%", FONT_SIZE) + 3 * PAD
    out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{step}" height="18" fill="{palette.background}" stroke="{palette.muted}" stroke-width="1" stroke-dasharray="4,3"/>')
    out.append(_text(x + step / 2, y + 13, "–", palette.muted, anchor="middle"))
    out.append(_text(x + step + 6, y + 13, "no answers", palette.muted))
    return out


def _models(rates: Sequence[Rate]) -> dict[str, str]:
    """Model key -> display name, in first-seen order (the caller's pane order)."""
    models: dict[str, str] = {}
    for r in rates:
        models.setdefault(r.model, r.model_name)
    return models


def _open(width: float, height: float, title: str, palette: Palette) -> list[str]:
    return [
        (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" width="{_n(width)}" height="{_n(height)}" '
         f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}">'),
        f"<title>{_escape(title)}</title>",
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="{palette.background}"/>',
        _named_text(PAD, PAD + TITLE_SIZE, title, width - 2 * PAD, palette.text, bold=True, size=TITLE_SIZE),
    ]


def _named_text(
    x: float, y: float, text: str, room: float, fill: str, *, anchor: str = "start", bold: bool = False, size: int = FONT_SIZE
) -> str:
    """Text cut to `room` pixels; when cut, wrapped in a group whose <title> holds it whole."""
    shown = _fit(text, room, size * BOLD_WIDTH if bold else size)
    element = _text(x, y, shown, fill, anchor=anchor, bold=bold, size=size)
    if shown == _clean(text):
        return element
    return f"<g><title>{_escape(text)}</title>{element}</g>"


def _column_heading(centre: float, baseline: float, name: str, room: float, fill: str) -> str:
    """A model's name over its column on up to two lines, the last on `baseline`
    (next to the grid). The first line ends only where a name may break
    (`_break_at`: "Qwen2.5-" / "Coder-0.5B", never "Qwen2.5-Coder-0." / "5B");
    a name with no such place that fits is cut with an ellipsis instead, and a
    name shown in part keeps it whole in a <title>."""
    size = FONT_SIZE * BOLD_WIDTH
    text = _clean(name)
    if _text_width(text, size) <= room:
        lines = [text]
    else:
        cut = _break_at(text, _prefix_length(text, room, size))
        lines = [text[:cut].rstrip(), _fit(text[cut:].lstrip(), room, size)] if cut else [_fit(text, room, size)]
    elements = [
        _text(centre, baseline - (len(lines) - 1 - i) * LINE, line, fill, anchor="middle", bold=True) for i, line in enumerate(lines)
    ]
    if lines == [text]:
        return elements[0]
    return f"<g><title>{_escape(name)}</title>{''.join(elements)}</g>"


def _break_at(text: str, fits: int) -> int:
    """Where the line may end within the first `fits` characters (0: nowhere): after
    a space, dash, underscore or slash, or after a dot that is not a decimal point
    (the "." of "2.5" and "0.5B" holds its digits together); failing those, before
    a dash ("SmolLM2" / "-360M")."""
    ends = range(min(fits, len(text) - 1), 0, -1)
    for end in ends:
        before, after = text[end - 1], text[end]
        if before in " -_/" or (before == "." and not (end >= 2 and text[end - 2].isdigit() and after.isdigit())):
            return end
    return next((end for end in ends if text[end] == "-"), 0)


def _text(
    x: float,
    y: float,
    text: str,
    fill: str,
    *,
    anchor: str = "start",
    bold: bool = False,
    italic: bool = False,
    size: int = FONT_SIZE,
    cls: str = "",
) -> str:
    attributes = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'fill="{fill}"']
    if cls:
        attributes.insert(0, f'class="{cls}"')
    if anchor != "start":
        attributes.append(f'text-anchor="{anchor}"')
    if bold:
        attributes.append('font-weight="bold"')
    if italic:
        attributes.append('font-style="italic"')
    if size != FONT_SIZE:
        attributes.append(f'font-size="{size}"')
    return f"<text {' '.join(attributes)}>{_escape(text)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, stroke_width: float) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" stroke-width="{_n(stroke_width)}"/>'


def _clean(text: str) -> str:
    """Drop what XML can't carry (controls, lone surrogates, U+FFFE/FFFF) and bidi
    controls, which would reorder the rest of the label."""
    spaced = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return "".join(c for c in spaced if c not in _BIDI_CONTROLS and c not in "\ufffe\uffff" and unicodedata.category(c) not in ("Cc", "Cs"))


def _escape(text: str) -> str:
    return html.escape(_clean(text), quote=True)


def _char_width(c: str, size: float) -> float:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0.0
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return size
    return size * 0.62  # generous for DejaVu/Noto Sans, so cut text never overflows


def _text_width(text: str, size: float) -> float:
    return sum(_char_width(c, size) for c in _clean(text))


def _fit(text: str, room: float, size: float) -> str:
    """`text` cleaned and, when wider than `room` pixels, cut with an ellipsis."""
    text = _clean(text)
    if _text_width(text, size) <= room:
        return text
    return text[: _prefix_length(text, room - _char_width(ELLIPSIS, size), size)].rstrip() + ELLIPSIS


def _prefix_length(text: str, room: float, size: float) -> int:
    """How many leading characters of `text` fit in `room` pixels."""
    used = 0.0
    for i, c in enumerate(text):
        used += _char_width(c, size)
        if used > room:
            return i
    return len(text)


def _percent(rate: Rate) -> str:
    return f"{100 * rate.k / rate.n:.0f}%"


def _viridis(value: float) -> str:
    """The colour for a rate in [0, 1], interpolated between the viridis stops."""
    value = min(max(value, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(value), len(VIRIDIS) - 2)
    t = value - i
    a, b = _rgb(VIRIDIS[i]), _rgb(VIRIDIS[i + 1])
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _ink_on(fill: str) -> str:
    """Black or white text, whichever reads on `fill` (relative luminance, WCAG)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(fill))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if luminance > 0.18 else "#ffffff"


def _n(value: float) -> str:
    """Coordinates to two decimals without trailing zeros: short and deterministic."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
