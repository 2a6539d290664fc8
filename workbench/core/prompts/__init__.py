"""Prompt sets: the questions a batch asks, in English and Chinese.

One TOML file per set (docs/prompt-sets.md). The team's sets live in the
project's `prompts/` folder; users import their own from CSV or JSON Lines.
Every set is validated on loading, and a PromptSetProblem says what is wrong
and on which line.
"""

from .library import available_prompt_sets, find_prompt_set, prompt_sets_dir
from .model import CONTROL, KINDS, LANGUAGES, OVER_REFUSAL_CONTROL, SENSITIVE, Prompt, PromptSet, Source
from .problems import Problem, PromptSetProblem
from .tables import import_table
from .toml_file import dumps_prompt_set, load_prompt_set, save_prompt_set

__all__ = [
    "CONTROL",
    "KINDS",
    "LANGUAGES",
    "OVER_REFUSAL_CONTROL",
    "SENSITIVE",
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
    "save_prompt_set",
]
