"""Reports show a question's English and Chinese runs as a language x model table."""

from __future__ import annotations

from pathlib import Path

from batch_notebooks import notebook_with_batch
from language_pairs import add_language_pair
from workbench.core.export import Selection, collect, render
from workbench.core.export.language_tables import language_tables
from workbench.core.notebook import open_notebook


def test_a_batch_translation_pair_becomes_a_table_in_both_reports(tmp_path: Path) -> None:
    notebook, batch, response_ids = notebook_with_batch(tmp_path)
    notebook.finish_response(response_ids[("q1-en", 1)], text="I cannot | discuss\n<b>that</b>.")
    notebook.annotations.add_label(response_ids[("q1-en", 1)], "hard_refusal", annotator="ana")
    data = collect(notebook, Selection(batch_id=batch.id))
    tables = language_tables(data)
    assert [table.title for table in tables] == ["Runs 1 and 2: Q1?", "Runs 3 and 4: Q2?"]
    first = tables[0]
    assert first.header == ("Language", "US model", "CN model")
    assert first.text_rows() == [
        ("English (run 1)", "Suggested (automatic): answered — text", "Labels: Hard refusal — I cannot | discuss <b>that</b>."),
        ("Chinese (run 2)", "Suggested (automatic): answered — text", "Suggested (automatic): answered, state_narrative — text"),
    ]
    assert tables[1].text_rows()[1][1] == "(no text: error)"  # the US model failed to load for q2-zh

    markdown = render(data, "md")
    assert "## English and Chinese side by side" in markdown
    assert "| English (run 1) | Suggested (automatic): answered — text | Labels: Hard refusal — I cannot \\| discuss &lt;b&gt;that&lt;/b&gt;. |" in markdown
    page = render(data, "html")
    assert "<h3 dir=\"auto\">Runs 1 and 2: Q1?</h3>" in page
    # The answer as every answer in the HTML report: sanitised Markdown, its tags shown as text.
    assert '<td><p class="meta">Labels: Hard refusal</p><div class="answer" dir="auto"><p>I cannot | discuss &lt;b&gt;that&lt;/b&gt;.</p>' in page


def test_a_linked_pair_missing_a_model_says_so_and_a_lone_run_has_no_table(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    en, zh = add_language_pair(notebook, {"en": {"Llama": "Llama answers", "Qwen": "Qwen answers"}, "zh": {"Qwen": "Qwen answers"}}, link=False)
    assert language_tables(collect(notebook, Selection(everything=True))) == []
    notebook.annotations.link_language_shift(zh, en, annotator="ana")
    assert language_tables(collect(notebook, Selection(run_ids=(en,)))) == []  # half a pair is no pair
    (table,) = language_tables(collect(notebook, Selection(everything=True)))
    assert table.text_rows()[1] == ("Chinese (run 2)", "No answer in Chinese from Llama (run 2).", "Qwen answers")
