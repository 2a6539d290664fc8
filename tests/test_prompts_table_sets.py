"""A prompt set file in table form (CSV, TSV, JSON Lines), read as it is: what
`workbench batch mine.csv` and the window's Open a set file… take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.prompts import PromptSetProblem, find_prompt_set, read_prompt_set_file

CSV = """id,topic,kind,language,text,translation_of,notes
capital-en,facts,control,en,What is the capital of Australia?,capital-zh,
capital-zh,facts,control,zh,澳大利亚的首都是哪座城市？,capital-en,natural Chinese
taiwan-en,taiwan,sensitive,en,"Is Taiwan a country, in law?",,
"""
ROWS = [
    {"topic": "facts", "kind": "control", "text": "What is the capital of Australia?", "pair": "q1"},
    {"topic": "facts", "kind": "control", "text": "澳大利亚的首都是哪座城市？", "pair": "q1"},
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def test_a_csv_set_is_read_by_its_column_names(tmp_path: Path) -> None:
    prompt_set = find_prompt_set(write(tmp_path / "My Questions.csv", CSV))
    assert (prompt_set.id, prompt_set.title, prompt_set.path) == ("my-questions", "My Questions", tmp_path / "My Questions.csv")
    assert [(p.id, p.language, p.translation_of) for p in prompt_set.prompts] == [
        ("capital-en", "en", "capital-zh"),
        ("capital-zh", "zh", "capital-en"),
        ("taiwan-en", "en", None),
    ]
    assert prompt_set.prompt("taiwan-en").text == "Is Taiwan a country, in law?"
    assert prompt_set.prompt("capital-zh").notes == "natural Chinese"


def test_a_json_lines_set_pairs_rows_and_finds_their_language(tmp_path: Path) -> None:
    prompt_set = read_prompt_set_file(write(tmp_path / "mine.jsonl", jsonl(ROWS)))
    assert prompt_set.id == "mine"
    assert [(p.id, p.language, p.translation_of) for p in prompt_set.prompts] == [("row-1", "en", "row-2"), ("row-2", "zh", "row-1")]
    tsv = read_prompt_set_file(write(tmp_path / "mine.TSV", "topic\tkind\ttext\nfacts\tcontrol\tWhy is the sky blue?\n"))
    assert [p.text for p in tsv.prompts] == ["Why is the sky blue?"]


def test_an_unknown_suffix_names_the_formats_it_could_be(tmp_path: Path) -> None:
    with pytest.raises(PromptSetProblem) as caught:
        find_prompt_set(write(tmp_path / "mine.xlsx", CSV))
    assert str(caught.value) == f"{tmp_path / 'mine.xlsx'}: can't tell the prompt set's format from its name; use .toml, .csv, .tsv, .jsonl, .ndjson."


def test_a_bad_row_is_named_by_its_line(tmp_path: Path) -> None:
    bad_kind = CSV.replace("taiwan,sensitive", "taiwan,trivia")
    with pytest.raises(PromptSetProblem) as caught:
        read_prompt_set_file(write(tmp_path / "mine.csv", bad_kind))
    assert str(caught.value) == (
        f"{tmp_path / 'mine.csv'}:4: prompt 'taiwan-en', kind: unknown kind 'trivia' (known: sensitive, control, over_refusal_control)"
    )
    rows = [*ROWS, {"topic": "facts", "kind": "control", "text": ""}]
    with pytest.raises(PromptSetProblem, match=r"mine\.jsonl:3: no text in column 'text'"):
        read_prompt_set_file(write(tmp_path / "mine.jsonl", jsonl(rows)))
    with pytest.raises(PromptSetProblem, match=r"mine\.jsonl:2: not valid JSON"):
        read_prompt_set_file(write(tmp_path / "mine.jsonl", jsonl(ROWS[:1]) + "{oops\n"))
    no_topic = [ROWS[0], {"kind": "control", "text": "Why is the sky blue?"}]
    with pytest.raises(PromptSetProblem, match=r"mine\.jsonl:2: prompt 'row-2': no topic: fill in its topic$"):
        read_prompt_set_file(write(tmp_path / "mine.jsonl", jsonl(no_topic)))


def test_columns_must_be_the_fields(tmp_path: Path) -> None:
    with pytest.raises(PromptSetProblem) as caught:
        read_prompt_set_file(write(tmp_path / "mine.csv", "question,topic\nWhy?,facts\n"))
    message = str(caught.value)
    assert f"{tmp_path / 'mine.csv'}:1: unknown column 'question' (known: id, topic, language, kind, text, translation_of, notes, source, pair, then)" in message
    assert "no 'text' or 'kind' column; a prompt set table needs text, topic, kind" in message
    rows = [ROWS[0], {**ROWS[1], "lang": "zh"}]
    with pytest.raises(PromptSetProblem, match=r"mine\.jsonl:2: unknown column 'lang'"):
        read_prompt_set_file(write(tmp_path / "mine.jsonl", jsonl(rows)))
    with pytest.raises(PromptSetProblem, match=r"mine\.csv: no prompts: the table has no rows"):
        read_prompt_set_file(write(tmp_path / "mine.csv", "topic,kind,text\n"))
