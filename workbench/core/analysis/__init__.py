"""Automatic analysis of answers: suggested flags and divergence between models.

Everything here is offline and deterministic (regular expressions and word
lists, no model), so it can run on every response as it is saved and in CI.

The flag names load with the package; the detectors (numpy, the classifier, a
few hundred regular expressions: about 0.2 s) load when first asked for, so
code that only names flags (the notebook's search, the command line's --help)
doesn't pay for them. `core/flagging.py` warms them up while a model loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .flag_names import (
    ANSWERED,
    EVASIVE,
    FLAG_NAMES,
    HARD_REFUSAL,
    LANG_MISMATCH,
    STATE_NARRATIVE,
    THOUGHT_SUPPRESSED,
)

if TYPE_CHECKING:
    from .divergence import Divergence, PairDivergence, divergence
    from .evidence import Evidence
    from .flags import FlagReport, analyse_response, flag_response

# Each name loaded on first use, from the module that defines it (PEP 562).
_LAZY = {
    "Divergence": "divergence",
    "PairDivergence": "divergence",
    "divergence": "divergence",
    "Evidence": "evidence",
    "FlagReport": "flags",
    "analyse_response": "flags",
    "flag_response": "flags",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found at once from now on
    return value


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
