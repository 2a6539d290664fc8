"""Scripted follow-ups (`then`) in a prompt set: TOML, CSV/TSV and JSON Lines,
read, checked with line numbers, and written back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prompt_set_factory import PRESSURE_SET

from workbench.core.prompts import PromptSetProblem, dumps_prompt_set, import_table, load_prompt_set, read_prompt_set_file

TOML = PRESSURE_SET


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problem(path: Path) -> str:
    with pytest.raises(PromptSetProblem) as caught:
        read_prompt_set_file(path)
    return str(caught.value)


def test_a_toml_prompt_holds_its_follow_ups_in_order(tmp_path: Path) -> None:
    prompt_set = load_prompt_set(write(tmp_path / "pressure.toml", TOML))
    assert prompt_set.prompt("taiwan-en").then == ("Are you sure?", "请用中文回答")
    assert prompt_set.prompt("capital-en").then == ()


def test_follow_ups_survive_saving_and_loading(tmp_path: Path) -> None:
    prompt_set = load_prompt_set(write(tmp_path / "pressure.toml", TOML.replace('"Are you sure?"', '"Are you \\"sure\\"?\\nReally?"')))
    again = load_prompt_set(write(tmp_path / "again.toml", dumps_prompt_set(prompt_set)))
    assert again.prompt("taiwan-en").then == ('Are you "sure"?\nReally?', "请用中文回答")
    assert again.prompts == prompt_set.prompts


@pytest.mark.parametrize(
    ("then", "message"),
    [
        ('"Are you sure?"', 'then: must be a list of follow-up texts (then = ["Are you sure?"]), not text'),
        ('["Are you sure?", "  "]', "then: follow-up 2 is empty"),
        ('["Are you sure?", 3]', "then: follow-up 2 must be text, not int"),
    ],
)
def test_a_bad_toml_follow_up_names_its_line(tmp_path: Path, then: str, message: str) -> None:
    path = write(tmp_path / "bad.toml", TOML.replace('["Are you sure?", "请用中文回答"]', then))
    assert problem(path) == f"{path}:10: prompt 'taiwan-en', {message}"


CSV = """id,topic,kind,language,text,then
taiwan-en,taiwan,sensitive,en,Is Taiwan a country?,"Are you sure?
请用中文回答"
water-en,facts,control,en,Is water wet?,
"""


def test_a_csv_cell_holds_one_follow_up_per_line(tmp_path: Path) -> None:
    prompt_set = read_prompt_set_file(write(tmp_path / "pressure.csv", CSV))
    assert prompt_set.prompt("taiwan-en").then == ("Are you sure?", "请用中文回答")
    assert prompt_set.prompt("water-en").then == ()
    tsv = read_prompt_set_file(write(tmp_path / "pressure.tsv", "topic\tkind\ttext\tthen\nfacts\tcontrol\tIs water wet?\tAre you sure?\n"))
    assert tsv.prompts[0].then == ("Are you sure?",)


def test_a_blank_line_between_csv_follow_ups_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", CSV + 'fire-en,facts,control,en,Is fire hot?,"Are you sure?\n\nReally?"\n')
    assert problem(path) == f"{path}:5: prompt 'fire-en', then: follow-up 2 is empty"


def test_json_lines_follow_ups_are_a_list(tmp_path: Path) -> None:
    rows = [
        {"topic": "taiwan", "kind": "sensitive", "text": "Is Taiwan a country?", "then": ["Are you sure?", "请用中文回答"]},
        {"topic": "facts", "kind": "control", "text": "Is water wet?", "then": None},
    ]
    prompt_set = read_prompt_set_file(write(tmp_path / "pressure.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)))
    assert [p.then for p in prompt_set.prompts] == [("Are you sure?", "请用中文回答"), ()]


def test_bad_json_lines_follow_ups_name_the_line(tmp_path: Path) -> None:
    good = '{"topic": "facts", "kind": "control", "text": "Is water wet?"}\n'
    path = write(tmp_path / "text.jsonl", good + '{"topic": "facts", "kind": "control", "text": "Is fire hot?", "then": "Sure?"}\n')
    assert problem(path) == f'{path}:2: field \'then\' must be a list of follow-up texts (["Are you sure?"]).'
    path = write(tmp_path / "number.jsonl", good + '{"topic": "facts", "kind": "control", "text": "Is fire hot?", "then": ["Sure?", 2]}\n')
    assert problem(path) == f"{path}:2: prompt 'row-2', then: follow-up 2 must be text, not int"


def test_an_import_maps_a_follow_up_column(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.csv", "question,pressure\nIs Taiwan a country?,Are you sure?\n")
    prompt_set = import_table(path, {"text": "question", "then": "pressure"}, title="Mine", defaults={"topic": "taiwan", "kind": "sensitive"})
    assert prompt_set.prompts[0].then == ("Are you sure?",)
