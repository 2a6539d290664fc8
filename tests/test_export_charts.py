"""The reports' Summary section: rates counted as analysis/summary.py counts them
(human labels beat flags), charts inline in HTML, drawn into the PDF, tables in
Markdown."""

from __future__ import annotations

import re
from html import unescape
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from export_fixtures import build
from workbench.core.export import Selection, collect, render, write
from workbench.core.export.report import summary

HOSTILE_MODEL = '<script>alert("m")</script> & \u202eevil model ' + "with a very long name " * 4
SVG = "{http://www.w3.org/2000/svg}"


def _flag(notebook, run_id: int, response_id: int) -> None:
    with notebook.store.writing() as db:
        db.execute(
            "insert into flags (run_id, response_id, name, source, detector, evidence, created_at, updated_at) "
            "values (?, ?, 'hard_refusal', 'auto', 'test/1', '[]', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [run_id, response_id],
        )


@pytest.fixture
def notebook(tmp_path: Path):
    """The shared fixture, plus two refusal flags: one on an answer people labelled
    otherwise (their labels win: not counted) and one on an unlabelled answer (counted)."""
    notebook = build(tmp_path / "nb.sqlite")
    first, third = notebook.run(1)["responses"], notebook.run(3)["responses"]
    _flag(notebook, 1, first[0]["id"])  # SmolLM2's answer, labelled factual_error and evasive/answered by people
    _flag(notebook, 3, third[1]["id"])  # Qwen's answer to run 3, unlabelled
    yield notebook
    notebook.close()


class _Report(HTMLParser):
    """Text of the page, the rate tables' rows and the raw <svg> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(chunk) for chunk in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_html_summary_counts_human_labels_over_flags_and_embeds_charts(notebook) -> None:
    html = render(collect(notebook, Selection(everything=True)), "html")
    head, body = html.split("</head>", 1)
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in unescape(head)
    assert body.index("<h2>Summary</h2>") < body.index("<h2>Run 1</h2>")  # before the runs
    page = _Report()
    page.feed(html)
    text = "".join(page.text)
    # 6 answers: 5 carry human labels; run 3's Qwen answer has only the flag.
    assert "counted from human labels: 5, from flags: 1" in text
    refusal = body[body.index("Hard refusal <code>hard_refusal</code>") :]
    refusal = refusal[: refusal.index("<h3>")]
    table = _Report()
    table.feed(refusal[: refusal.index("</table>")])  # the rates; the flag's checks and corrected rates follow
    rows = {tuple(r[:2]): r for r in table.rows}
    assert rows[("Model", "Answers")] == ["Model", "Answers", "With label/flag", "Rate (uncorrected)", "95% interval", "From labels / flags"]
    # SmolLM2's flagged answer 1 was labelled by people without hard_refusal: not counted.
    # Qwen: ana's label on run 1 and the flag on run 3 (nobody labelled it).
    assert rows[("SmolLM2", "all")][2:] == ["0/3", "0%", "0%–56%", "3 / 0"]
    assert rows[("Qwen2.5-Coder", "all")][2:] == ["2/3", "67%", "21%–94%", "2 / 1"]
    charts = _svgs(refusal)
    assert [c.findtext(f"{SVG}title") for c in charts] == ["Hard refusal: rate by model", "Hard refusal: by language"]
    values = [t.text for t in charts[0].iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["0/3 (0%)", "2/3 (67%)"]
    # Inline SVG loads nothing: no references, no scripts, no images anywhere in it.
    assert "script" not in page.tags
    svgs = _svgs(html)
    assert len(svgs) >= 6  # by model and by language for each of the 3+ labels that occur
    for chart in svgs:
        assert {e.tag.removeprefix(SVG) for e in chart.iter()} <= {"svg", "title", "rect", "line", "text", "g"}
        assert not [name for e in chart.iter() for name in e.attrib if "href" in name or name.startswith("on")]


def test_hostile_model_name_is_text_in_table_and_chart(notebook) -> None:
    run_id = notebook.create_run("Who are you?", language="en")
    rid = notebook.add_response(run_id, 0, model_name=HOSTILE_MODEL, model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.finish_response(rid, text="I refuse.", finish_reason="stop")
    _flag(notebook, run_id, rid)
    html = render(collect(notebook, Selection(run_ids=(run_id,))), "html")
    page = _Report()
    page.feed(html)
    assert "script" not in page.tags
    assert any(row and row[0].startswith('<script>alert("m")</script> & [U+202E]evil') for row in page.rows)
    (chart,) = _svgs(html)  # one language, no batch: one chart
    label = next(t.text for t in chart.iter(f"{SVG}text") if t.text and t.text.startswith("<script>"))
    assert label.endswith("…") and "\u202e" not in label
    assert "1/1 (100%)" in [t.text for t in chart.iter(f"{SVG}text")]


def test_no_counted_answer_means_no_summary(notebook) -> None:
    run_id = notebook.create_run("Pending", language="en")
    notebook.add_response(run_id, 0, model_name="m", model_sha256=None, origin_country=None, seed=1, sampler={})
    data = collect(notebook, Selection(run_ids=(run_id,)))
    assert summary(data) is None
    assert "Summary" not in render(data, "html") and "## Summary" not in render(data, "md")


def test_markdown_has_the_rate_table_and_no_images(notebook) -> None:
    text = render(collect(notebook, Selection(everything=True)), "md")
    assert text.index("## Summary") < text.index("## Run 1")
    assert "counted from human labels: 5, from flags: 1" in text
    section = text[text.index("### Hard refusal (hard\\_refusal)") :]
    assert section.startswith("### Hard refusal (hard\\_refusal)\n\n| Model | Answers | With label/flag | Rate (uncorrected) | 95% interval | From labels / flags |\n|---|")
    assert "| Qwen2.5-Coder | all | 2/3 | 67% | 21%–94% | 2 / 1 |" in section
    assert "| Qwen2.5-Coder | in en | 2/2 | 100% | 34%–100% | 1 / 1 |" in section
    assert "<svg" not in text and "![" not in text


def test_pdf_draws_each_chart_as_an_image(notebook, tmp_path: Path, qapp) -> None:
    data = collect(notebook, Selection(everything=True))
    charts = summary(data).charts
    assert len(charts) >= 4  # two per occurring label (by model, by language)
    write(data, "pdf", tmp_path / "r.pdf")
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3
    images = re.findall(rb"/Subtype\s*/Image\s*/Width\s*(\d+)", pdf)
    assert len(images) == len(charts)
    assert {int(w) for w in images} == {3 * 640}  # drawn at three times its laid-out width


def test_pdf_chart_image_has_the_bars(qapp) -> None:
    from workbench.core.analysis.charts import LIGHT, rate_bars_svg
    from workbench.core.analysis.summary import Rate
    from workbench.core.export.pdf import CHART_SCALE, chart_image

    svg = rate_bars_svg([Rate("m", "model", "all", "hard_refusal", 2, 2, 0, 2)], title="t")
    bar = ET.fromstring(svg).find(f".//{SVG}rect[@class='bar']")
    image = chart_image(svg)
    scale = CHART_SCALE * 640 / 720
    x = (float(bar.get("x")) + float(bar.get("width")) / 4) * scale
    y = (float(bar.get("y")) + 2) * scale
    assert image.pixelColor(int(x), int(y)).name() == LIGHT.bar
    assert image.pixelColor(2, 2).name() == LIGHT.background


def test_pdf_document_loads_only_its_charts(qapp, tmp_path: Path) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QImage, QTextDocument

    from workbench.core.export.pdf import _sealed_document

    secret = tmp_path / "secret.png"
    QImage(2, 2, QImage.Format.Format_RGB32).save(str(secret))
    doc = _sealed_document()
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl("chart:0"), image)
    doc.setHtml(f'<p>x</p><img src="{QUrl.fromLocalFile(str(secret)).toString()}"><img src="chart:0">')
    assert doc.resource(QTextDocument.ResourceType.ImageResource, QUrl.fromLocalFile(str(secret))) is None
    assert doc.resource(QTextDocument.ResourceType.ImageResource, QUrl("chart:0")) == image
    # A plain QTextDocument would have read the file.
    assert QTextDocument().resource(QTextDocument.ResourceType.ImageResource, QUrl.fromLocalFile(str(secret))) is not None
