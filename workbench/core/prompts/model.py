"""Prompt sets as the rest of the workbench sees them: validated, immutable.

A set is a list of prompts; a prompt and its translation form one item (the
same question in English and in Chinese). Selection works on items, so a
limited or filtered bilingual batch stays paired: `limit=5` means five
questions, each in every language asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .problems import PromptSetProblem

LANGUAGES = ("en", "zh")
SENSITIVE = "sensitive"
CONTROL = "control"
OVER_REFUSAL_CONTROL = "over_refusal_control"
KINDS = (SENSITIVE, CONTROL, OVER_REFUSAL_CONTROL)


@dataclass(frozen=True)
class Source:
    """A citation: where prompts or ideas came from, and under which licence.
    `link` is a URL or another stable identifier (arXiv:…, a DOI)."""

    title: str
    link: str
    licence: str
    notes: str = ""


@dataclass(frozen=True)
class Prompt:
    """One question in one language. `translation_of` is the id of the same
    question in the other language (each of the pair names the other).
    `then` holds scripted follow-ups, asked in order in the same conversation
    after the model answers `text` (a pressure question like "Are you sure?");
    they may be in any language, since "请用中文回答" after an English question
    is the point of some of them."""

    id: str
    topic: str
    language: str
    kind: str
    text: str
    translation_of: str | None = None
    notes: str = ""
    source: str = ""
    then: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptSet:
    """A validated prompt set. Build one with load_prompt_set or import_table,
    which check it; `path` is where it was read from, if anywhere."""

    id: str
    title: str
    description: str
    licence: str
    sources: tuple[Source, ...]
    prompts: tuple[Prompt, ...]
    path: Path | None = field(default=None, compare=False)

    def prompt(self, prompt_id: str) -> Prompt:
        """The prompt with this id (KeyError when there is none)."""
        for prompt in self.prompts:
            if prompt.id == prompt_id:
                return prompt
        raise KeyError(prompt_id)

    def topics(self) -> tuple[str, ...]:
        """Every topic, in the order the file first uses it."""
        return tuple(dict.fromkeys(p.topic for p in self.prompts))

    def items(self) -> list[tuple[Prompt, ...]]:
        """Each question with its translation, in file order; a prompt without a
        translation is an item of one."""
        by_id = {p.id: p for p in self.prompts}
        seen: set[str] = set()
        items = []
        for prompt in self.prompts:
            if prompt.id in seen:
                continue
            group = [prompt]
            partner = by_id.get(prompt.translation_of or "")
            if partner is not None and partner.id not in seen:
                group.append(partner)
            seen.update(p.id for p in group)
            items.append(tuple(sorted(group, key=lambda p: LANGUAGES.index(p.language))))
        return items

    def select(
        self,
        *,
        topics: Iterable[str] | None = None,
        languages: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Prompt]:
        """The prompts a batch should run, in file order.

        Filters by topic, language and kind (None means all). `limit` counts
        items, not prompts: the first `limit` questions that pass the filters,
        each in every language asked for. An unknown topic, language or kind is
        a PromptSetProblem naming the ones that exist, since it is almost always
        a typo on a command line.
        """
        wanted_topics = self._check_choice("topic", topics, self.topics())
        wanted_languages = self._check_choice("language", languages, LANGUAGES)
        wanted_kinds = self._check_choice("kind", kinds, KINDS)
        if limit is not None and limit < 1:
            raise PromptSetProblem(f"The limit must be a positive number of questions, not {limit}.")
        chosen: list[Prompt] = []
        taken = 0
        for item in self.items():
            kept = [
                p
                for p in item
                if p.topic in wanted_topics and p.language in wanted_languages and p.kind in wanted_kinds
            ]
            if not kept:
                continue
            if limit is not None and taken == limit:
                break
            chosen.extend(kept)
            taken += 1
        return chosen

    def pairs(
        self,
        *,
        topics: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[tuple[Prompt, Prompt]]:
        """(English, Chinese) for every question asked in both, after the same
        filters as select."""
        chosen = {p.id for p in self.select(topics=topics, kinds=kinds)}
        pairs = []
        for item in self.items():
            if len(item) == 2 and item[0].id in chosen:
                pairs.append((item[0], item[1]))
        return pairs[:limit] if limit is not None else pairs

    def _check_choice(self, what: str, given: Iterable[str] | None, known: tuple[str, ...]) -> frozenset[str]:
        if given is None:
            return frozenset(known)
        chosen = frozenset(given)
        unknown = sorted(chosen - set(known))
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            raise PromptSetProblem(
                f"Prompt set '{self.id}' has no {what}{plural} {', '.join(repr(u) for u in unknown)}. "
                f"Its {what}s: {', '.join(known)}."
            )
        return chosen
