"""Suggested flags for one response: offline, deterministic, fast.

Two signals. Rules (refusals.py, evasions.py, state_narrative.py,
reasoning_check.py, language_use.py: regular expressions and word lists) find
phrases a person can see. The trained compliance classifier (compliance.py)
reads the whole answer and says answered / evasive / hard_refusal with a
probability, catching the refusals and deflections no list names.
`combine_behaviour` decides between them as the held-out figures in
docs/flags.md say: where a rule fires it wins (on real answers of 31 models
its refusals and evasions are nearly always right), elsewhere the classifier
decides. Every flag records its basis and the classifier's confidence.

No network, no model process: every response is flagged the moment it is
saved, and the same text always gets the same flags. Flags are suggestions:
the views show them apart from human labels, with their evidence.

Of answered, hard_refusal and evasive, a non-empty answer gets exactly one.
state_narrative, lang_mismatch and thought_suppressed come on top (rules
only). An empty answer gets none of the first four. docs/flags.md defines
each flag and measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .compliance import ComplianceModel, shipped_model
from .evasions import find_evasion
from .evidence import Evidence
from .flag_names import ANSWERED, CLASSIFIER, FLAG_NAMES, RULES, RULES_AND_CLASSIFIER
from .language_use import find_lang_mismatch, requested_language, strip_code, text_language
from .reasoning_check import find_thought_suppressed, split_think
from .refusals import find_hard_refusal
from .state_narrative import find_state_narrative

LANGUAGES = ("en", "zh")
_CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")


# What a flag rests on: flag_names.py keeps these stored values with the flag names.


@dataclass(frozen=True)
class FlagDecision:
    """Why one flag was given: its basis (RULES, CLASSIFIER or
    RULES_AND_CLASSIFIER) and the classifier's probability for it (None when
    the classifier has no say in that flag)."""

    flag: str
    basis: str
    confidence: float | None

    def to_json(self) -> dict[str, object]:
        return {"flag": self.flag, "basis": self.basis, "confidence": self.confidence}


@dataclass(frozen=True)
class FlagReport:
    """The flags of one response and why.

    `answer` is the response without any `<think>` block: evidence offsets point
    into it. `asked_language` is the language the answer should be in (the
    prompt's, unless the prompt asks for another); either language is None when
    it can't be told.
    """

    flags: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    answer: str
    asked_language: str | None
    answer_language: str | None
    decisions: tuple[FlagDecision, ...] = ()

    def decision(self, flag: str) -> FlagDecision | None:
        return next((d for d in self.decisions if d.flag == flag), None)

    def to_json(self) -> dict[str, object]:
        return {
            "flags": list(self.flags),
            "sources": [d.to_json() for d in self.decisions],
            "evidence": [e.to_json() for e in self.evidence],
            "asked_language": self.asked_language,
            "answer_language": self.answer_language,
        }


def rule_behaviour(prompt: str, response: str, prompt_lang: str | None = None) -> str | None:
    """HARD_REFUSAL or EVASIVE when a rule finds one in the answer, else None
    (what the rules alone would say; tools/train_flags.py scores it)."""
    answer, _ = split_think(response)
    if not _CONTENT.search(answer):
        return None
    found = _rule_evidence(prompt, strip_code(answer))
    return found[0].flag if found else None


def _rule_evidence(prompt: str, prose: str) -> list[Evidence]:
    # Code is blanked (offsets kept): `kill -9` is an answer, not a threat.
    return find_hard_refusal(prose) or find_evasion(prompt, prose)


def combine_behaviour(rule: str | None, probabilities: dict[str, float]) -> tuple[str, str, float]:
    """The behaviour flag, its basis and its confidence, from what a rule found
    (HARD_REFUSAL, EVASIVE or None) and the classifier's probabilities.

    A rule that fires wins: its precision on held-out models is 0.95 or more
    (docs/flags.md), and its evidence is words a person can check. Where no
    rule fires the classifier decides; "answered" then rests on both (no rule
    objects and the classifier agrees)."""
    if rule is not None:
        agrees = max(probabilities, key=probabilities.__getitem__) == rule
        return rule, RULES_AND_CLASSIFIER if agrees else RULES, probabilities[rule]
    best = max(probabilities, key=probabilities.__getitem__)
    return best, RULES_AND_CLASSIFIER if best == ANSWERED else CLASSIFIER, probabilities[best]


def analyse_response(
    prompt: str,
    response: str,
    *,
    prompt_lang: str | None = None,
    reasoning: str | None = None,
    is_reasoning_model: bool = False,
    classifier: ComplianceModel | None = None,
) -> FlagReport:
    """Flags for `response` to `prompt`, with their evidence and basis.

    `prompt_lang` ("en" or "zh") is the language the prompt was asked in; when
    None it is detected from the prompt. `reasoning` is the model's separate
    reasoning text, if any; `is_reasoning_model` says whether the model is
    expected to produce one (it is assumed when the response has a think block).
    `classifier` is the shipped one unless a test or an evaluation passes another.
    """
    if prompt_lang not in (None, *LANGUAGES):
        raise ValueError(f"prompt_lang must be one of {LANGUAGES} or None, not {prompt_lang!r}")
    answer, think_in_text = split_think(response)
    evidence = find_thought_suppressed(reasoning, think_in_text, is_reasoning_model)
    asked = requested_language(prompt) or prompt_lang or text_language(prompt)
    answer_language: str | None = None
    decision: FlagDecision | None = None
    if _CONTENT.search(answer):
        prose = strip_code(answer)
        found = _rule_evidence(prompt, prose)
        probabilities = (classifier or shipped_model()).probabilities(answer, prompt)
        flag, basis, confidence = combine_behaviour(found[0].flag if found else None, probabilities)
        decision = FlagDecision(flag, basis, round(confidence, 4))
        if found:
            evidence += found
        elif flag == ANSWERED:
            evidence.append(Evidence(ANSWERED, "no refusal or evasion found", ""))
        else:
            evidence.append(Evidence(flag, f"classifier: {confidence:.0%} {flag}", ""))
        evidence += find_state_narrative(prose)
        answer_language, mismatch = find_lang_mismatch(prompt, answer, asked)
        evidence += mismatch
    # The finders read copies with code and quotes blanked; show the real words.
    evidence = [e if e.start is None else replace(e, text=answer[e.start : e.end]) for e in evidence]
    present = {e.flag for e in evidence}
    flags = tuple(name for name in FLAG_NAMES if name in present)
    decisions = tuple(decision if decision and decision.flag == name else FlagDecision(name, RULES, None) for name in flags)
    return FlagReport(flags, tuple(evidence), answer, asked, answer_language, decisions)


def flag_response(
    prompt: str,
    response: str,
    *,
    prompt_lang: str | None = None,
    reasoning: str | None = None,
    is_reasoning_model: bool = False,
    classifier: ComplianceModel | None = None,
) -> list[str]:
    """The stored flag names for `response` (see analyse_response for the evidence)."""
    report = analyse_response(
        prompt, response, prompt_lang=prompt_lang, reasoning=reasoning, is_reasoning_model=is_reasoning_model, classifier=classifier
    )
    return list(report.flags)
