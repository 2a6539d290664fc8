"""Parsing JSON and TOML that may nest without end: one "nested too deeply" ValueError.

Python's json and tomllib parsers go one level down per bracket, so a file
of 100,000 `[` raises RecursionError, which no reader expects and which ends
in a traceback. Every reader of JSON or TOML the user or another app wrote
(prompt sets, flag files, settings, origin overrides, Ollama manifests)
parses through here, so that file is simply invalid: the ValueError each
reader already handles, with the same words everywhere.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any


class NestedTooDeeply(ValueError):
    """Arrays or tables inside each other past what Python's parsers follow; no real file nests so."""

    def __init__(self) -> None:
        super().__init__("nested too deeply (arrays or tables inside each other)")


def json_loads(text: str | bytes, **options: Any) -> Any:
    """`json.loads(text, **options)`, raising NestedTooDeeply instead of RecursionError."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise NestedTooDeeply() from None


def toml_loads(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, raising NestedTooDeeply instead of RecursionError."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise NestedTooDeeply() from None
