"""core/side_by_side.py: saved answers by id, and a question's two languages as a language x model grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_notebooks import notebook_with_batch
from language_pairs import add_language_pair
from workbench.core.notebook import open_notebook
from workbench.core.side_by_side import language_partner, read_language_grid, run_answers, saved_answer


def test_a_batch_translation_pair_becomes_two_languages_by_two_models(tmp_path: Path) -> None:
    notebook, _batch, response_ids = notebook_with_batch(tmp_path)
    notebook.finish_response(response_ids[("q1-en", 1)], text="I cannot discuss that.")
    notebook.finish_response(response_ids[("q1-zh", 1)], text="1989年，政府恢复了秩序。")
    notebook.annotations.add_label(response_ids[("q1-en", 1)], "hard_refusal", annotator="ana")
    zh_run = saved_answer(notebook, response_ids[("q1-zh", 0)]).run_id
    en_run = saved_answer(notebook, response_ids[("q1-en", 0)]).run_id
    assert language_partner(notebook, zh_run) == en_run and language_partner(notebook, en_run) == zh_run

    grid = read_language_grid(notebook, zh_run)  # asked from the Chinese run: English still comes first
    assert grid is not None
    assert [(row.language, row.run_id, row.prompt) for row in grid.rows] == [("en", en_run, "Q1?"), ("zh", zh_run, "问题一？")]
    assert [column.model_name for column in grid.columns] == ["US model", "CN model"]
    texts = {key: cell.answer.text for key, cell in grid.cells.items()}
    assert texts == {(0, 0): "text", (0, 1): "I cannot discuss that.", (1, 0): "text", (1, 1): "1989年，政府恢复了秩序。"}
    refusing = grid.cell(0, 1)
    assert refusing is not None and refusing.flags == ("hard_refusal",) and refusing.labels == ("hard_refusal",)
    assert grid.cell(1, 1).flags == ("answered", "state_narrative")


def test_a_linked_pair_with_a_model_missing_in_one_language_leaves_that_cell_empty(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    en, zh = add_language_pair(notebook, {"en": {"Llama": "Llama in 1", "Qwen": "Qwen in 1"}, "zh": {"Qwen": "Qwen in 2"}}, link=False)
    assert read_language_grid(notebook, en) is None  # not linked yet: no pair
    notebook.annotations.link_language_shift(zh, en, annotator="ana")

    grid = read_language_grid(notebook, en)
    assert grid is not None
    assert [row.name for row in grid.rows] == ["English", "Chinese"]
    assert [column.model_name for column in grid.columns] == ["Llama", "Qwen"]
    assert grid.cell(1, 0) is None
    assert grid.missing_text(1, 0) == f"No answer in Chinese from Llama (run {zh})."
    assert grid.cell(1, 1).answer.text == f"Qwen in {zh}"


def test_unknown_ids_are_lookup_errors(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    with pytest.raises(LookupError, match="There is no response 4 "):
        saved_answer(notebook, 4)
    with pytest.raises(LookupError, match="There is no run 9 "):
        run_answers(notebook, 9)
    with pytest.raises(LookupError, match="There is no run 9 "):
        read_language_grid(notebook, 9)


def test_a_partial_answer_says_so_in_its_title(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    run_id = notebook.create_run("Q?", language="en")
    done = notebook.add_response(run_id, 0, model_name="Llama", model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.finish_response(done, text="Whole.")
    partial = notebook.add_response(run_id, 1, model_name="Qwen", model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.save_partials([(partial, "Half", "", "[]")])
    assert [a.title for a in run_answers(notebook, run_id)] == ["Llama · run 1, pane 1", "Qwen · run 1, pane 2 · unfinished"]
