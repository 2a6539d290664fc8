"""Prompt sets: the questions a batch asks, in English and Chinese.

One TOML file per set (docs/prompt-sets.md). The team's sets live in the
project's `prompts/` folder; users bring their own as TOML, or as CSV or JSON
Lines tables (read as they are, or imported with a column mapping).
Every set is validated on loading, and a PromptSetProblem says what is wrong
and on which line.
"""

from .library import SET_SUFFIXES, available_prompt_sets, find_prompt_set, prompt_sets_dir, read_prompt_set_file
from .model import CONTROL, KINDS, LANGUAGES, OVER_REFUSAL_CONTROL, SENSITIVE, Prompt, PromptSet, Source
from .problems import Problem, PromptSetProblem
from .tables import import_table, read_table_set
from .toml_file import dumps_prompt_set, load_prompt_set, save_prompt_set

__all__ = [
    "CONTROL",
    "KINDS",
    "LANGUAGES",
    "OVER_REFUSAL_CONTROL",
    "SENSITIVE",
    "SET_SUFFIXES",
    "Problem",
    "Prompt",
    "PromptSet",
    "PromptSetProblem",
    "Source",
    "available_prompt_sets",
    "dumps_prompt_set",
    "find_prompt_set",
    "import_table",
    "load_prompt_set",
    "prompt_sets_dir",
    "read_prompt_set_file",
    "read_table_set",
    "save_prompt_set",
]
