"""Automatic analysis of answers: suggested flags and divergence between models.

Everything here is offline and deterministic (regular expressions and word
lists, no model), so it can run on every response as it is saved and in CI.
"""

from .flag_names import (
    ANSWERED,
    EVASIVE,
    FLAG_NAMES,
    HARD_REFUSAL,
    LANG_MISMATCH,
    STATE_NARRATIVE,
    THOUGHT_SUPPRESSED,
)
from .divergence import Divergence, PairDivergence, divergence
from .evidence import Evidence
from .flags import FlagReport, analyse_response, flag_response

__all__ = [
    "ANSWERED",
    "EVASIVE",
    "FLAG_NAMES",
    "HARD_REFUSAL",
    "LANG_MISMATCH",
    "STATE_NARRATIVE",
    "THOUGHT_SUPPRESSED",
    "Divergence",
    "Evidence",
    "FlagReport",
    "PairDivergence",
    "analyse_response",
    "divergence",
    "flag_response",
]
