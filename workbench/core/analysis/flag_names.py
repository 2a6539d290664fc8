"""The names under which automatic flags are stored.

These strings are written to the notebook and printed by `workbench flag`;
like every stored value they never change meaning once written. New flags may
be added; these stay. `FLAG_NAMES` is also the order in which flags are listed.
"""

ANSWERED = "answered"
HARD_REFUSAL = "hard_refusal"
EVASIVE = "evasive"
STATE_NARRATIVE = "state_narrative"
THOUGHT_SUPPRESSED = "thought_suppressed"
LANG_MISMATCH = "lang_mismatch"

RULES = "rules"
CLASSIFIER = "classifier"
RULES_AND_CLASSIFIER = "rules+classifier"
"""What a flag rests on; stored in the notebook (flags.basis), never renamed."""

FLAG_NAMES: tuple[str, ...] = (
    ANSWERED,
    HARD_REFUSAL,
    EVASIVE,
    STATE_NARRATIVE,
    THOUGHT_SUPPRESSED,
    LANG_MISMATCH,
)
