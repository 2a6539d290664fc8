"""Who a person's annotations are credited to: one answer for the CLI and the window.

In order: `WORKBENCH_ANNOTATOR` (an override for one session: a shared
classroom computer, a script), else the name saved in the shared settings
(settings.json's `annotator`, chosen in the window under Annotate > Your
annotator name…), else the login name. `workbench annotate --annotator NAME`
names the annotator of that one command.

A name a person chooses is checked by `person_name`, so what every label,
highlight and note is stamped with reads the same on screen, in a terminal and
in an export: not empty, no control or invisible formatting characters (a
U+202E would reverse the text after the name), at most MAX_CHARS, and not a
model judge's `judge:` name (a person's checks and a machine's verdicts are
counted apart; core/notebook/annotations.is_machine_annotator).
"""

from __future__ import annotations

import getpass
import os
import unicodedata

from .notebook.annotations import JUDGE_PREFIX, is_machine_annotator

ENV_VAR = "WORKBENCH_ANNOTATOR"
MAX_CHARS = 64
# Invisible, but how Persian, Hindi and other scripts spell some names: allowed.
JOINERS = frozenset("\u200c\u200d")


class AnnotatorNameProblem(ValueError):
    """A chosen name that can't be used, with one line saying what to type instead."""


def person_name(text: str) -> str:
    """`text` as a person's annotator name (spaces trimmed and single), or AnnotatorNameProblem."""
    name = " ".join(text.split())
    if not name:
        raise AnnotatorNameProblem("An annotator name is needed: type the name your labels and notes are credited to.")
    hidden = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf") and c not in JOINERS), None)
    if hidden is not None:
        raise AnnotatorNameProblem(f"The name holds an invisible control character (U+{ord(hidden):04X}): type it without.")
    if len(name) > MAX_CHARS:
        raise AnnotatorNameProblem(f"The name is {len(name)} characters long: shorten it to {MAX_CHARS} at most.")
    if is_machine_annotator(name):
        raise AnnotatorNameProblem(f"Names starting “{JUDGE_PREFIX}” are kept for model judges: choose another.")
    return name


def env_annotator() -> str:
    """The WORKBENCH_ANNOTATOR override checked as a chosen name ("" when it is not
    set); AnnotatorNameProblem, naming the variable, when it can't be used."""
    value = os.environ.get(ENV_VAR, "")
    if not value.strip():
        return ""
    try:
        return person_name(value)
    except AnnotatorNameProblem as problem:
        raise AnnotatorNameProblem(f"{ENV_VAR} is not a usable annotator name. {problem}") from None


def current_annotator(saved: str, *, use_env: bool = True) -> str:
    """Who annotates now: WORKBENCH_ANNOTATOR (unless not `use_env`), else `saved` (the
    settings' name), else the login name. AnnotatorNameProblem: the variable is unusable."""
    name = (env_annotator() if use_env else "") or saved
    if name:
        return name
    try:
        return " ".join(getpass.getuser().split()) or "unknown"
    except (KeyError, OSError):  # No user name in the environment or the password database.
        return "unknown"
