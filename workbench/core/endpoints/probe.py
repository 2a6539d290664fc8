"""Testing an endpoint, for `workbench endpoint test` and the Endpoints dialog's Test
alike: list its models again, ask one a short question, and check whether it uses the
seed (seed_check.py says why that takes asking). Everything here waits on the network,
so the window calls it from a worker thread.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ..engine.cancel import Cancel
from ..engine.params import GenerationParams
from .client import EndpointProblem
from .config import Endpoint
from .listing import list_models, remember_seed_check
from .remote import RemoteModel
from .seed_check import SeedCheck

TEST_PROMPT = "Say OK."
TEST_TOKENS = 8
SEED_PROMPT = "Write ten random English words, separated by spaces."
SEED, OTHER_SEED = 1234, 98765
# Enough tokens for sampled answers to part ways, few enough to cost nothing on a paid API.
SEED_TOKENS = 24


@dataclass(frozen=True)
class Probe:
    """What a test found: the models listed, the one asked, how it answered."""

    models: tuple[str, ...]
    model_id: str
    served_as: str
    server_version: str | None
    seconds: float
    seed: SeedCheck


def probe(endpoint: Endpoint, key: str | None, model_id: str | None = None, cancel: Cancel | None = None) -> Probe:
    """List, ask `model_id` (the first listed by default), check its seed and keep the
    finding; EndpointProblem (one line, no key) when any of it fails."""
    cancel = cancel or Cancel()
    models = list_models(endpoint, key)
    asked = model_id or models[0]
    model = RemoteModel(endpoint, asked, key)
    try:
        result = model.generate([{"role": "user", "content": TEST_PROMPT}], GenerationParams(max_tokens=TEST_TOKENS), _Collect(), cancel)
        _check(result.error, cancel)
        first, again, other = (_answer(model, seed, cancel) for seed in (SEED, SEED, OTHER_SEED))
    finally:
        model.close()
    seed = SeedCheck.from_answers(first, again, other, datetime.date.today().isoformat())
    remember_seed_check(endpoint, asked, seed.to_json())
    info = result.backend_info
    return Probe(tuple(models), asked, info.get("model_served") or asked, info.get("server_version"), result.duration_s or 0.0, seed)


def _answer(model: RemoteModel, seed: int, cancel: Cancel) -> str:
    """The whole answer to the seed prompt at temperature 1 with `seed`."""
    sink = _Collect()
    params = GenerationParams(temperature=1.0, top_p=1.0, max_tokens=SEED_TOKENS, seed=seed)
    result = model.generate([{"role": "user", "content": SEED_PROMPT}], params, sink, cancel)
    _check(result.error, cancel)
    return "".join(sink.pieces)


def _check(error: str | None, cancel: Cancel) -> None:
    if error or cancel.is_set():
        raise EndpointProblem(error or "The test was stopped.")


class _Collect:
    """An answer's pieces, reasoning and text in arrival order: either may show the sampling."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        self.pieces.extend(chunks)

    def reasoning(self, chunks: list[str]) -> None:
        self.pieces.extend(chunks)
