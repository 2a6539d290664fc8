"""Raw model outputs kept in tests/templates/outputs/ (their sources in SOURCES.md), streamed
through the splitter their format names in chunks of every size: one character at a time,
two pieces cut at every point, and random cuts. The answer and reasoning must be the same
however the stream was cut.

llama_cpp_parser_cases.json holds the texts llama.cpp's own chat-parser tests feed its
parser, with what llama.cpp expects back: the workbench agrees with it (llama.cpp strips
the whitespace around reasoning, the workbench keeps it) except where a case says why not.
constructed_cases.json holds cases llama.cpp has no text for, written from the formats'
documentation.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from workbench.core.engine.formats import splitter_for
from workbench.core.engine.reasoning import split_all

OUTPUTS = Path(__file__).parent / "templates" / "outputs"
LLAMA_CPP = json.loads((OUTPUTS / "llama_cpp_parser_cases.json").read_text(encoding="utf-8"))["cases"]
CONSTRUCTED = json.loads((OUTPUTS / "constructed_cases.json").read_text(encoding="utf-8"))["cases"]
ALL = pytest.mark.parametrize("case", LLAMA_CPP + CONSTRUCTED, ids=lambda case: case["id"])


def cuts(raw: str, seed: int) -> list[list[str]]:
    """Ways to stream `raw`: whole, one character at a time, two pieces cut at every
    point, and twenty random cuts into pieces of 1 to 12 characters."""
    ways = [[raw], list(raw)] + [[raw[:i], raw[i:]] for i in range(len(raw) + 1)]
    rng = random.Random(seed)
    for _ in range(20):
        pieces, at = [], 0
        while at < len(raw):
            size = rng.randint(1, 12)
            pieces.append(raw[at : at + size])
            at += size
        ways.append(pieces)
    return ways


@ALL
def test_the_same_answer_and_reasoning_however_the_stream_is_cut(case: dict[str, Any]) -> None:
    expected = (case["answer"], case["reasoning"])
    for n, chunks in enumerate(cuts(case["raw"], seed=len(case["raw"]))):
        assert split_all(splitter_for(case["format"]), chunks) == expected, f"{case['id']}, cut {n}: {chunks!r}"


@pytest.mark.parametrize("case", LLAMA_CPP, ids=lambda case: case["id"])
def test_llama_cpps_parser_gives_the_same_split_or_the_case_says_why_not(case: dict[str, Any]) -> None:
    theirs = case["llama_cpp_expects"]
    agrees = case["answer"] == theirs["content"] and case["reasoning"].strip() == theirs["reasoning"]
    assert agrees != ("why_different" in case), case["id"]


def test_every_case_names_its_source() -> None:
    test_chat = "vendor/llama.cpp/tests/test-chat.cpp:"
    assert all(case["source"].startswith(test_chat) for case in LLAMA_CPP)
    assert all(case["written_from"] for case in CONSTRUCTED)
    ids = [case["id"] for case in LLAMA_CPP + CONSTRUCTED]
    assert len(ids) == len(set(ids))
