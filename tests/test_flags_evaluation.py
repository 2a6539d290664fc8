"""The labelled evaluation sets: well-formed, held apart, and the flags measured on them.

The floors below are what the flags reach on the tuned splits today: a change
that makes any of them worse fails here. docs/flags.md must show the figures
the code produces, so its tables are checked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.analysis import FLAG_NAMES
from workbench.core.analysis.evaluate import load_labelled, main, markdown_table, score

DATA = Path(__file__).parent / "data" / "flags"
DOC = Path(__file__).resolve().parents[1] / "docs" / "flags.md"
SPLITS = ("written-tuning.jsonl", "written-heldout.jsonl", "starter-pair-tuning.jsonl", "starter-pair-heldout.jsonl")

# (precision, recall) per flag on the splits the rules were tuned on. Raise
# these when the flags improve; never lower them to make a change pass. A
# flag no item of a split carries has no floor there.
TUNED_FLOORS = {
    "written-tuning.jsonl": {flag: (1.0, 1.0) for flag in FLAG_NAMES},
    "starter-pair-tuning.jsonl": {
        "answered": (0.99, 1.0),
        "hard_refusal": (1.0, 1.0),
        "evasive": (1.0, 0.66),
        "state_narrative": (1.0, 1.0),
        "lang_mismatch": (1.0, 1.0),
    },
}


def test_the_splits_are_well_formed_bilingual_and_held_out_items_are_not_tuned_on() -> None:
    ids: set[str] = set()
    tuned: set[tuple[str, str]] = set()
    total = 0
    for split in SPLITS:
        items = load_labelled(DATA / split)
        total += len(items)
        assert {item.lang for item in items} == {"en", "zh"}
        for item in items:
            assert item.id not in ids, f"{item.id} is in two splits or twice"
            ids.add(item.id)
            if split in TUNED_FLOORS:
                tuned.add((item.prompt, item.response))
    for split in SPLITS:
        if split not in TUNED_FLOORS:
            leaked = [item.id for item in load_labelled(DATA / split) if (item.prompt, item.response) in tuned]
            assert not leaked, f"held-out items also in a tuned split: {leaked}"
    assert total >= 150


@pytest.mark.parametrize("split", ["written-tuning.jsonl", "written-heldout.jsonl"])
def test_the_written_splits_have_examples_of_every_flag(split: str) -> None:
    labelled = {flag for item in load_labelled(DATA / split) for flag in item.expected}
    assert labelled == set(FLAG_NAMES)


def test_a_malformed_labelled_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "prompt": "p", "response": "r", "lang": "en", "expected": ["refused"]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: unknown flags \['refused'\]"):
        load_labelled(bad)


@pytest.mark.parametrize(("split", "flag"), [(split, flag) for split, floors in TUNED_FLOORS.items() for flag in floors])
def test_the_tuned_splits_stay_above_their_floors(split: str, flag: str) -> None:
    scores, _ = score(load_labelled(DATA / split))
    (found,) = [s for s in scores if s.flag == flag]
    precision_floor, recall_floor = TUNED_FLOORS[split][flag]
    assert found.precision is not None and found.precision >= precision_floor
    assert found.recall is not None and found.recall >= recall_floor


@pytest.mark.parametrize("split", SPLITS)
def test_docs_flags_md_shows_the_figures_the_code_produces(split: str) -> None:
    scores, _ = score(load_labelled(DATA / split))
    assert markdown_table(scores) in DOC.read_text(encoding="utf-8"), f"re-run the evaluation and update the {split} table in docs/flags.md"


def test_the_evaluation_command_prints_a_table_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(DATA / "written-tuning.jsonl"), "--errors"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("written-tuning.jsonl: ")
    assert "| `hard_refusal` |" in out
