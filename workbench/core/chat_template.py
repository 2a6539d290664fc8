"""A model's chat template and the one hash that names it.

The catalog (Details, the notebook's `models` row, exports) and each run's record
(`responses.template_sha256`, from the model's own process) read the template from
two places: the catalog's header reader and llama.cpp's metadata. Both go through
these two functions, so one file's template has one hash everywhere: SHA-256 of the
template exactly as the GGUF stores it under `tokenizer.chat_template` (its UTF-8
bytes, leading and trailing whitespace included, since llama.cpp renders prompts
with exactly that text). Kept outside the catalog package so the model's process
imports only this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

TEMPLATE_KEY = "tokenizer.chat_template"


def chat_template(metadata: Mapping[str, Any]) -> str | None:
    """The template as stored, untouched; None when the file has none (absent or empty),
    which is when llama-cpp-python falls back to its own format."""
    value = metadata.get(TEMPLATE_KEY)
    return value if isinstance(value, str) and value else None


def chat_template_sha256(template: str) -> str:
    """SHA-256 (hex) of the template's stored bytes."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()
