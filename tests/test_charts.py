"""Charts as SVG text: geometry follows the rates, untrusted names stay text,
and Qt's SVG Tiny renderer draws them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from workbench.core.analysis.charts import DARK, LIGHT, VIRIDIS, heat_map_svg, rate_bars_svg
from workbench.core.analysis.summary import Rate, wilson_interval

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \'q\' \u202eevil\u202c \x07' + "very long model name " * 6


def rate(model: str, k: int, n: int, group: str = "all", name: str | None = None) -> Rate:
    return Rate(model, name or model, group, "hard_refusal", k, n, 0, n)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    return root


def rows(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//svg:g[@class='row']", NS)


def axis(root: ET.Element) -> tuple[float, float]:
    """x of the 0% and 100% gridlines, from the tick labels under them."""
    ticks = {t.text: float(t.get("x")) for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text in ("0%", "100%")}
    return ticks["0%"], ticks["100%"] - ticks["0%"]


def test_bars_are_as_long_as_the_rates_and_whiskers_span_the_wilson_interval() -> None:
    rates = [rate("a", 7, 20), rate("b", 0, 20), rate("c", 20, 20)]
    root = parse(rate_bars_svg(rates, title="Refusals"))
    x0, full = axis(root)
    found = rows(root)
    assert len(found) == 3
    for row, r in zip(found, rates):
        bar = row.find("svg:rect[@class='bar']", NS)
        assert float(bar.get("x")) == pytest.approx(x0, abs=0.01)
        assert float(bar.get("width")) == pytest.approx(full * r.k / r.n, abs=0.01)
        whisker = row.find("svg:line[@class='whisker']", NS)
        low, high = wilson_interval(r.k, r.n)
        assert float(whisker.get("x1")) == pytest.approx(x0 + full * low, abs=0.01)
        assert float(whisker.get("x2")) == pytest.approx(x0 + full * high, abs=0.01)
        assert row.find("svg:text[@class='value']", NS).text == f"{r.k}/{r.n} ({round(100 * r.k / r.n)}%)"
    # Rows go down the page in the order given.
    ys = [float(row.find("svg:rect[@class='bar']", NS).get("y")) for row in found]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_a_model_without_answers_says_so_instead_of_a_zero_bar() -> None:
    root = parse(rate_bars_svg([rate("a", 1, 2), rate("b", 0, 0)], title="Refusals"))
    empty = rows(root)[1]
    assert empty.find("svg:rect", NS) is None and empty.find("svg:line[@class='whisker']", NS) is None
    assert [t.text for t in empty.iter("{http://www.w3.org/2000/svg}text")] == ["b", "no answers"]


def test_several_groups_give_each_model_a_heading_and_a_bar_per_group() -> None:
    rates = [rate("qwen", 3, 10, "en"), rate("qwen", 8, 10, "zh"), rate("smol", 1, 10, "en"), rate("smol", 0, 10, "zh")]
    root = parse(rate_bars_svg(rates, title="By language"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert [t for t in texts if t in ("qwen", "smol", "en", "zh")] == ["qwen", "en", "zh", "smol", "en", "zh"]
    assert len(rows(root)) == 4


@pytest.mark.parametrize("chart", [rate_bars_svg, heat_map_svg])
def test_hostile_names_stay_text_and_long_ones_are_cut(chart) -> None:
    rates = [rate("evil", 1, 4, group=HOSTILE, name=HOSTILE), rate("good", 2, 4, group="Taiwan", name="good")]
    svg = chart(rates, title='Title with <b>tags</b> & "quotes"')
    root = parse(svg)  # well-formed despite \x07, quotes and markup in the names
    assert "<script" not in svg and "<b>" not in svg
    assert "\u202e" not in svg and "\x07" not in svg
    for forbidden in ("script", "href", "image", "foreignObject", "style"):
        assert not any(e.tag.endswith(forbidden) for e in root.iter())
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    shown = [t for t in texts if t.startswith("<scr")]
    assert shown and any(t.endswith("…") for t in shown) and all(len(t) < len(HOSTILE) / 2 for t in shown)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t and t.startswith('<script>alert("x")</script> & \'q\' evil') and t.endswith("name ") for t in titles)


def test_heat_map_breaks_long_model_names_over_two_lines() -> None:
    rates = [rate("a", 1, 2, "t", name="Qwen2.5-Coder-0.5B-Instruct"), *(rate(str(i), 1, 2, "t", name=f"m{i}") for i in range(5))]
    root = parse(heat_map_svg(rates, title="By topic"))
    heading = next(g for g in root.iter(f"{SVG}g") if g.findtext(f"{SVG}title") == "Qwen2.5-Coder-0.5B-Instruct")
    first, second = (t.text for t in heading.findall(f"{SVG}text"))
    assert "Qwen2.5-Coder-0.5B-Instruct".startswith(first) and second.endswith("…")
    assert float(heading.findall(f"{SVG}text")[0].get("y")) < float(heading.findall(f"{SVG}text")[1].get("y"))


def _headings(names: list[str]) -> dict[str, list[str]]:
    """Each model's column heading as drawn: its lines, by the model's full name."""
    root = parse(heat_map_svg([rate(str(i), 1, 2, "t", name=n) for i, n in enumerate(names)], title="By topic"))
    shown = {g.findtext(f"{SVG}title"): [t.text or "" for t in g.findall(f"{SVG}text")] for g in root.iter(f"{SVG}g")}
    whole = {t.text: [t.text or ""] for t in root.iter(f"{SVG}text")}
    return {n: shown.get(n) or whole[n] for n in names}


def test_heat_map_headings_break_names_only_between_their_parts() -> None:
    # One wide column: the cut used to fall inside "0.5" ("Qwen2.5-Coder-0." / "5B").
    assert _headings(["Qwen2.5-Coder-0.5B"]) == {"Qwen2.5-Coder-0.5B": ["Qwen2.5-Coder-", "0.5B"]}
    six = ["Qwen2.5-Coder-0.5B", "SmolLM2-360M-Instruct", "Llama-3.2-1B-Instruct", "gemma-2-2b-it", "DeepSeek-R1-Distill-Qwen-1.5B", "Phi-3.5-mini"]
    assert _headings(six)["gemma-2-2b-it"] == ["gemma-2-", "2b-it"] and _headings(six)["Llama-3.2-1B-Instruct"][0] == "Llama-3.2-"
    # Narrow columns: a dash may start the second line; a decimal point never ends the first.
    narrow = _headings(["Qwen2.5-Coder-0.5B", "SmolLM2-360M"] * 4)
    assert narrow == {"Qwen2.5-Coder-0.5B": ["Qwen2.5", "-Coder…"], "SmolLM2-360M": ["SmolLM2", "-360M"]}
    # No place to break that fits: one line, cut, the name whole in its <title>.
    assert _headings(["Qwen2.5Coder0.5BInstructGGUF", *(f"m{i}" for i in range(7))])["Qwen2.5Coder0.5BInstructGGUF"] == ["Qwen2.…"]


def test_heat_map_cells_carry_counts_colour_and_mark_missing_combinations() -> None:
    rates = [rate("a", 0, 4, "Tiananmen"), rate("b", 4, 4, "Tiananmen"), rate("a", 2, 4, "台湾")]
    root = parse(heat_map_svg(rates, title="By topic"))
    cells = root.findall(".//svg:rect[@class='cell']", NS)
    assert [c.get("fill") for c in cells] == [VIRIDIS[0], VIRIDIS[-1], VIRIDIS[4]]
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"0/4", "4/4", "2/4", "台湾", "Tiananmen", "no answers"} <= set(texts)
    missing = root.findall(".//svg:rect[@class='missing']", NS)
    assert len(missing) == 1  # b x 台湾: second row, second column
    assert float(missing[0].get("y")) > float(cells[0].get("y")) and float(missing[0].get("x")) > float(cells[0].get("x"))
    # Light text on the dark end of the scale, dark text on the light end.
    assert _fill_of(root, "0/4") == "#ffffff" and _fill_of(root, "4/4") == "#111111"


def _fill_of(root: ET.Element, text: str) -> str:
    return next(t.get("fill") for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text == text)


def test_output_is_deterministic() -> None:
    rates = [rate("a", 1, 3, "x"), rate("b", 2, 3, "y")]
    assert rate_bars_svg(rates, title="t") == rate_bars_svg(list(rates), title="t")
    assert heat_map_svg(rates, title="t", dark=True) == heat_map_svg(list(rates), title="t", dark=True)


@pytest.mark.parametrize("dark", [False, True])
def test_qt_renders_the_bars_where_the_svg_puts_them(qapp, dark: bool) -> None:
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    palette = DARK if dark else LIGHT
    svg = rate_bars_svg([rate("模型 a", 3, 4), rate("b", 0, 4)], title="Refusals", dark=dark)
    root = parse(svg)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    assert renderer.isValid()
    size = renderer.defaultSize()
    assert (size.width(), size.height()) == (int(root.get("width")), int(float(root.get("height"))))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("magenta"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert image.pixelColor(2, 2).name() == palette.background  # the background covers everything
    bar = rows(root)[0].find("svg:rect[@class='bar']", NS)
    x, y, w = float(bar.get("x")), float(bar.get("y")), float(bar.get("width"))
    assert image.pixelColor(int(x + 3), int(y + 3)).name() == palette.bar  # inside the bar, off the whisker
    assert image.pixelColor(int(x + w + 3), int(y + 3)).name() != palette.bar  # just past its end
    # Text was drawn: some pixels in the title's band have the text colour's darkness/lightness.
    band = [image.pixelColor(px, py).name() for px in range(12, 200) for py in range(14, 30)]
    assert any(c != palette.background for c in band)


def test_qt_renders_the_heat_map(qapp) -> None:
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    svg = heat_map_svg([rate("a", 4, 4, "topic"), rate("b", 0, 4, "topic")], title="By topic")
    cell = parse(svg).find(".//svg:rect[@class='cell']", NS)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
    image.fill(QColor("magenta"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert image.pixelColor(int(float(cell.get("x"))) + 3, int(float(cell.get("y"))) + 3).name() == VIRIDIS[-1]
