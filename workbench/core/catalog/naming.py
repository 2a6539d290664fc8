"""The name a model is shown and recorded under: one per file content, however it was found.

The same GGUF bytes can come in as the starter package, as a path given on the
command line, from the user's folders, or from GPT4All's, LM Studio's or Ollama's
store. Runs are recorded under this name (`responses.model_name`, `models.name`),
and per-model rates, batch counts and search go by it, so it must not depend on the
way in: the starter's SmolLM2 was "SmolLM2-135M-Instruct" while the same file found
in a GPT4All folder was "Smollm2 135M 8k Lc100K Mix1 Ep2" (its header's name, a
training-run label), splitting one model in two.
"""

from __future__ import annotations

from ..starter import STARTER_MODELS
from .metadata import ModelMetadata

# Names chosen for exact files, by SHA-256: the starter pair, whose headers name them badly.
CURATED_NAMES = {model.sha256: model.name for model in STARTER_MODELS}
_CURATED_SIZES = frozenset(model.size for model in STARTER_MODELS)
NAME_LIMIT = 200


def may_be_curated(size: int) -> bool:
    """Whether a file this big could be one with a curated name: only such a file is worth
    hashing while scanning (once; the hash is cached), so its name is right from the start."""
    return size in _CURATED_SIZES


def display_name(*, sha256: str | None, metadata: ModelMetadata | None, given_name: str | None, stem: str) -> str:
    """The model's name, by this precedence (the first that gives a name wins):

    1. the curated name of this exact content (CURATED_NAMES, by SHA-256);
    2. the name in the file's header: `general.name`, else `general.basename`. The same
       bytes carry the same header, so this too is the same wherever the file is;
    3. the name the place gave it (an Ollama model:tag), only for a header that names nothing;
    4. the file's name without `.gguf` (its shard suffix too).

    Only 3 and 4 depend on where the file was found, for files that name themselves
    nowhere. Header text is untrusted: made one line, without control characters, and
    at most NAME_LIMIT characters.
    """
    candidates = (
        CURATED_NAMES.get(sha256) if sha256 else None,
        metadata.name if metadata else None,
        metadata.basename if metadata else None,
        given_name,
    )
    for candidate in candidates:
        name = _one_line(candidate or "", NAME_LIMIT)
        if name:
            return name
    return _one_line(stem, NAME_LIMIT) or stem


def _one_line(text: str, limit: int) -> str:
    """No line breaks or control characters, bounded."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text[: limit * 2]).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
