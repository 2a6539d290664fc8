"""The rules every prompt set obeys, whichever file it came from.

Fields are checked one prompt at a time (types, unknown keys, empty text, a
known kind and language, text that is really in that language), then across
the set (unique ids, translations that exist, point back, and share topic and
kind). The TOML reader and the table importer share these rules; each says
where a prompt lives (`Locate`) so problems carry the right line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from ..analysis.language_use import text_language
from .model import KINDS, LANGUAGES, Prompt
from .problems import Problem

PROMPT_FIELDS = ("id", "topic", "language", "kind", "text", "translation_of", "notes", "source")
REQUIRED_PROMPT_FIELDS = ("id", "topic", "language", "kind", "text")
FOLLOW_UPS = "then"  # the one field that is a list: the scripted follow-ups, in order
KNOWN_PROMPT_FIELDS = (*PROMPT_FIELDS, FOLLOW_UPS)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")

# Where a prompt (by its position in the set) or one of its fields is written.
Locate = Callable[[int, str | None], int | None]


class ProblemLog:
    """Problems found so far in one file."""

    def __init__(self, file: str, locate: Locate) -> None:
        self.file = file
        self.locate = locate
        self.problems: list[Problem] = []

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def prompt(self, index: int, prompt_id: object, field: str | None, message: str) -> None:
        who = f"prompt '{prompt_id}'" if isinstance(prompt_id, str) and prompt_id else f"prompt #{index + 1}"
        what = f", {field}" if field else ""
        self.add(self.locate(index, field), f"{who}{what}: {message}")


def check_id(value: str) -> str | None:
    """Why `value` can't be an id, or None when it can."""
    if not _ID.fullmatch(value):
        return f"{value!r} is not a usable id (letters, digits and _ . : - only, no spaces)"
    return None


def prompt_from_fields(index: int, fields: Mapping[str, object], log: ProblemLog) -> Prompt | None:
    """A Prompt from one prompt's raw fields, or None (with problems logged)."""
    prompt_id = fields.get("id")
    ok = True
    for key in fields:
        if key not in KNOWN_PROMPT_FIELDS:
            log.prompt(index, prompt_id, key, f"unknown field (known: {', '.join(KNOWN_PROMPT_FIELDS)})")
            ok = False
    follow_ups = check_follow_ups(index, prompt_id, fields.get(FOLLOW_UPS, []), log)
    if follow_ups is None:
        ok = False
    for key in PROMPT_FIELDS:
        value = fields.get(key)
        if value is None:
            if key in REQUIRED_PROMPT_FIELDS:
                log.prompt(index, prompt_id, key if key != "id" else None, f"missing {key}")
                ok = False
        elif not isinstance(value, str):
            log.prompt(index, prompt_id, key, f"must be text, not {type(value).__name__}")
            ok = False
        elif key in REQUIRED_PROMPT_FIELDS and not value.strip():
            log.prompt(index, prompt_id, key, "is empty")
            ok = False
    if not ok:
        return None
    prompt = Prompt(
        id=str(fields["id"]),
        topic=str(fields["topic"]),
        language=str(fields["language"]),
        kind=str(fields["kind"]),
        text=str(fields["text"]),
        translation_of=str(fields["translation_of"]) if fields.get("translation_of") else None,
        notes=str(fields.get("notes") or ""),
        source=str(fields.get("source") or ""),
        then=follow_ups or (),
    )
    return prompt if _check_values(index, prompt, log) else None


def check_follow_ups(index: int, prompt_id: object, value: object, log: ProblemLog) -> tuple[str, ...] | None:
    """A prompt's follow-ups as a tuple, or None (with problems logged): a list of
    non-empty texts, each asked as it is written."""
    if not isinstance(value, list):
        shown = "text" if isinstance(value, str) else type(value).__name__
        log.prompt(index, prompt_id, FOLLOW_UPS, f'must be a list of follow-up texts (then = ["Are you sure?"]), not {shown}')
        return None
    ok = True
    for number, follow_up in enumerate(value, start=1):
        if not isinstance(follow_up, str):
            log.prompt(index, prompt_id, FOLLOW_UPS, f"follow-up {number} must be text, not {type(follow_up).__name__}")
            ok = False
        elif not follow_up.strip():
            log.prompt(index, prompt_id, FOLLOW_UPS, f"follow-up {number} is empty")
            ok = False
    return tuple(value) if ok else None


def _check_values(index: int, prompt: Prompt, log: ProblemLog) -> bool:
    ok = True
    why = check_id(prompt.id)
    if why:
        log.prompt(index, prompt.id, "id", why)
        ok = False
    if prompt.kind not in KINDS:
        log.prompt(index, prompt.id, "kind", f"unknown kind {prompt.kind!r} (known: {', '.join(KINDS)})")
        ok = False
    if prompt.language not in LANGUAGES:
        log.prompt(index, prompt.id, "language", f"unknown language {prompt.language!r} (known: {', '.join(LANGUAGES)})")
        ok = False
    else:
        found = text_language(prompt.text)
        if found != prompt.language:
            seen = {"en": "English", "zh": "Chinese", None: "neither clearly English nor clearly Chinese"}[found]
            needed = "mostly Chinese characters" if prompt.language == "zh" else "mostly English words"
            log.prompt(
                index, prompt.id, "text",
                f"is marked {prompt.language!r} but reads as {seen}; a {prompt.language!r} prompt needs {needed} "
                "(quoted material does not count)",
            )
            ok = False
    return ok


def check_set(prompts: Sequence[tuple[int, Prompt]], log: ProblemLog) -> None:
    """Checks across prompts (given with their positions in the file)."""
    first_seen: dict[str, int] = {}
    for index, prompt in prompts:
        if prompt.id in first_seen:
            earlier = log.locate(first_seen[prompt.id], "id")
            at = f" (first used at line {earlier})" if earlier is not None else ""
            log.prompt(index, prompt.id, "id", f"duplicate id{at}")
        else:
            first_seen[prompt.id] = index
    by_id = {prompt.id: prompt for _, prompt in prompts}
    for index, prompt in prompts:
        if prompt.translation_of is None:
            continue
        other = by_id.get(prompt.translation_of)
        if other is None:
            log.prompt(index, prompt.id, "translation_of", f"points to {prompt.translation_of!r}, which is not in this set")
        elif other.id == prompt.id:
            log.prompt(index, prompt.id, "translation_of", "points to the prompt itself")
        elif other.translation_of != prompt.id:
            back = repr(other.translation_of) if other.translation_of else "nothing"
            log.prompt(index, prompt.id, "translation_of", f"points to {other.id!r}, but {other.id!r} points to {back}, not back")
        else:
            for attribute in ("language", "topic", "kind"):
                mine, theirs = getattr(prompt, attribute), getattr(other, attribute)
                if attribute == "language" and mine == theirs:
                    log.prompt(index, prompt.id, "translation_of", f"{other.id!r} is in the same language ({mine}); a translation is in the other one")
                elif attribute != "language" and mine != theirs and index < _position(prompts, other.id):
                    log.prompt(index, prompt.id, attribute, f"{mine!r} differs from its translation {other.id!r} ({theirs!r})")


def _position(prompts: Sequence[tuple[int, Prompt]], prompt_id: str) -> int:
    """The position of the first prompt with this id."""
    return next(index for index, prompt in prompts if prompt.id == prompt_id)
