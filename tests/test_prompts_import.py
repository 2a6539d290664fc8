"""Importing a user's own prompts from CSV, TSV or JSON Lines with a column mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.prompts import PromptSetProblem, import_table, load_prompt_set, save_prompt_set

CSV = """question,lang,theme,category,item,comment
What is the capital of Australia?,en,facts,control,q1,
澳大利亚的首都是哪座城市？,zh,facts,control,q1,natural Chinese
"Is Taiwan a country, in law?",en,taiwan,sensitive,q2,"has a comma, quoted"
台湾在法律上是一个国家吗？,zh,taiwan,sensitive,q2,
"""
MAPPING = {"text": "question", "language": "lang", "topic": "theme", "kind": "category", "pair": "item", "notes": "comment"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_a_pair_column_becomes_a_paired_set(tmp_path: Path) -> None:
    prompt_set = import_table(write(tmp_path, "mine.csv", CSV), MAPPING, title="My Questions!")
    assert prompt_set.id == "my-questions"
    assert [(p.id, p.language, p.translation_of) for p in prompt_set.prompts] == [
        ("row-2", "en", "row-3"),
        ("row-3", "zh", "row-2"),
        ("row-4", "en", "row-5"),
        ("row-5", "zh", "row-4"),
    ]
    assert prompt_set.prompt("row-4").text == "Is Taiwan a country, in law?"
    assert prompt_set.prompt("row-3").notes == "natural Chinese"
    assert [(en.id, zh.id) for en, zh in prompt_set.pairs()] == [("row-2", "row-3"), ("row-4", "row-5")]


def test_an_imported_set_saves_as_toml_and_loads_back_equal(tmp_path: Path) -> None:
    prompt_set = import_table(write(tmp_path, "mine.csv", CSV), MAPPING, title="Mine", licence="CC0-1.0", description="Ours.")
    saved = tmp_path / "mine.toml"
    save_prompt_set(prompt_set, saved)
    assert load_prompt_set(saved) == prompt_set


def test_json_lines_with_ids_translation_of_and_defaults(tmp_path: Path) -> None:
    rows = [
        {"key": "h1", "q": "Who owns the land in China?", "other": "h2"},
        {"key": "h2", "q": "中国的土地归谁所有？", "other": "h1"},
        {"key": 3, "q": "What is a hukou?", "other": None},
    ]
    path = write(tmp_path, "housing.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    prompt_set = import_table(
        path,
        {"id": "key", "text": "q", "translation_of": "other"},
        title="Housing",
        set_id="housing",
        defaults={"topic": "housing", "kind": "sensitive"},
    )
    assert [(p.id, p.language, p.topic, p.translation_of) for p in prompt_set.prompts] == [
        ("h1", "en", "housing", "h2"),
        ("h2", "zh", "housing", "h1"),
        ("3", "en", "housing", None),
    ]


def test_tsv_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.tsv"
    path.write_bytes("\ufefftext\ttopic\nWhy is the sky blue?\tfacts\n".encode("utf-8"))
    prompt_set = import_table(path, {"text": "text", "topic": "topic"}, title="Sky", defaults={"kind": "control"})
    assert prompt_set.prompts[0].text == "Why is the sky blue?"


def test_missing_columns_are_named_with_the_ones_that_exist(tmp_path: Path) -> None:
    with pytest.raises(PromptSetProblem, match=r"no column 'lang_code' \(columns in the file: category, comment, item, lang, question, theme\)"):
        import_table(write(tmp_path, "mine.csv", CSV), {**MAPPING, "language": "lang_code"}, title="Mine")


def test_the_mapping_itself_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.csv", CSV)
    with pytest.raises(PromptSetProblem, match="Unknown field 'question'"):
        import_table(path, {"question": "question"}, title="Mine")
    with pytest.raises(PromptSetProblem, match="which column holds the prompt text"):
        import_table(path, {"topic": "theme"}, title="Mine")
    with pytest.raises(PromptSetProblem, match="either 'pair' or 'translation_of'"):
        import_table(path, {**MAPPING, "translation_of": "item"}, title="Mine")


def test_bad_encoding_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("question\nWhy is the sky blue?\nCaf\u00e9 or tea?\n".encode("latin-1"))
    with pytest.raises(PromptSetProblem, match=r"latin1.csv:3: not UTF-8 text \(byte 0xe9\); save the table as UTF-8"):
        import_table(path, {"text": "question"}, title="Drinks", defaults={"topic": "t", "kind": "control"})


def test_empty_rows_and_rows_without_text_are_problems_with_their_lines(tmp_path: Path) -> None:
    text = "question,theme\nWhy is the sky blue?,facts\n,\n,facts\n"
    with pytest.raises(PromptSetProblem) as caught:
        import_table(write(tmp_path, "gaps.csv", text), {"text": "question", "topic": "theme"}, title="Gaps", defaults={"kind": "control"})
    message = str(caught.value)
    assert "gaps.csv:3: empty row: none of the mapped columns has a value" in message
    assert "gaps.csv:4: no text in column 'question'" in message


def test_an_empty_file_and_an_unknown_format_are_explained(tmp_path: Path) -> None:
    with pytest.raises(PromptSetProblem, match="the table is empty"):
        import_table(write(tmp_path, "empty.csv", ""), {"text": "q"}, title="Empty")
    with pytest.raises(PromptSetProblem, match="use .csv, .tsv, .jsonl or .ndjson"):
        import_table(write(tmp_path, "sheet.xlsx", "x"), {"text": "q"}, title="Sheet")


def test_bad_json_lines_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.jsonl", '{"q": "Why is the sky blue?"}\n{"q": \n')
    with pytest.raises(PromptSetProblem, match="bad.jsonl:2: not valid JSON"):
        import_table(path, {"text": "q"}, title="Bad")
    path = write(tmp_path, "list.jsonl", '["Why is the sky blue?"]\n')
    with pytest.raises(PromptSetProblem, match="list.jsonl:1: each line must be a JSON object, not list"):
        import_table(path, {"text": "q"}, title="Bad")


def test_imported_rows_obey_the_same_rules_as_a_hand_written_set(tmp_path: Path) -> None:
    text = "question,lang,kind,pair\nWhat is the capital of Australia?,zh,control,p\nWhy is the sky blue?,en,trivia,p\nWhat time is it?,en,control,q\n"
    with pytest.raises(PromptSetProblem) as caught:
        import_table(write(tmp_path, "rules.csv", text), {"text": "question", "language": "lang", "kind": "kind", "pair": "pair"}, title="Rules", defaults={"topic": "t"})
    message = str(caught.value)
    assert "rules.csv:2: prompt 'row-2', text: is marked 'zh' but reads as English" in message
    assert "rules.csv:3: prompt 'row-3', kind: unknown kind 'trivia'" in message
    assert "rules.csv:4: pair 'q' has 1 rows (lines 4); a pair is one prompt and its translation" in message


def test_a_missing_topic_or_kind_asks_for_a_column_or_a_default(tmp_path: Path) -> None:
    with pytest.raises(PromptSetProblem, match="rows.csv:2: prompt 'row-2': no topic: map a topic column or give a default"):
        import_table(write(tmp_path, "rows.csv", "q\nWhy is the sky blue?\n"), {"text": "q"}, title="Rows", defaults={"kind": "control"})
    with pytest.raises(PromptSetProblem, match=r"no language \(its text is not clearly English or Chinese\)"):
        import_table(write(tmp_path, "rows.csv", "q\n12345\n"), {"text": "q"}, title="Rows", defaults={"kind": "control", "topic": "t"})
