"""Small prompt sets for batch tests, written as TOML files."""

from __future__ import annotations

from pathlib import Path

HEADER = '''format = 1
id = "cli-set"
title = "CLI set"
description = "Questions for the batch command's tests."
licence = "Apache-2.0"

[[sources]]
title = "The tests"
link = "tests/test_batch_cli.py"
licence = "Apache-2.0"
'''


def write_set(path: Path, questions: int) -> Path:
    """Questions in English and Chinese. The tiny models can't tokenize Chinese
    (llama.cpp aborts), so tiny batches ask the English ones."""
    text = HEADER
    for n in range(questions):
        for lang, other, words in (("en", "zh", f"Question number {n}?"), ("zh", "en", f"第{n}个问题？")):
            text += (
                f'\n[[prompts]]\nid = "q{n}-{lang}"\ntopic = "{"facts" if n % 2 else "taiwan"}"\nlanguage = "{lang}"\n'
                f'kind = "control"\ntext = "{words}"\ntranslation_of = "q{n}-{other}"\n'
            )
    path.write_text(text, encoding="utf-8")
    return path
