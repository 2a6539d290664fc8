"""What every backend offers: a loaded model that streams one answer at a time.

Local GGUF models (`local.LocalModel`) are the first kind; remote
OpenAI-compatible servers come next and implement the same interface, so the
comparison code, the notebook and the window never ask which kind they hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Protocol

from .cancel import Cancel
from .params import GenerationParams

# Values of `finish_reason`, stored in the notebook: never change their meaning.
FINISH_STOP = "stop"  # the model ended its answer
FINISH_LENGTH = "length"  # max tokens or the context ran out
FINISH_STOPPED = "stopped"  # the user stopped it; the partial text is kept
FINISH_ERROR = "error"  # the request failed (template refused, prompt too long, load failed)
FINISH_CRASHED = "crashed"  # the model's process died; the partial text is kept
# Every value above: what an imported file may say (export/importer.py).
FINISH_REASONS = (FINISH_STOP, FINISH_LENGTH, FINISH_STOPPED, FINISH_ERROR, FINISH_CRASHED)

ANSWERED = frozenset({FINISH_STOP, FINISH_LENGTH})


@dataclass
class GenerationResult:
    """One model's answer to one request, with the measurements the notebook keeps.

    Timings are taken where the text arrives (the parent process), so they
    include everything between the model and the user.
    """

    text: str = ""
    finish_reason: str = FINISH_STOP
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    duration_s: float | None = None
    backend_info: dict[str, Any] = field(default_factory=dict)
    # The settings the model's chat template ignored (switches.py), e.g. ["thinking"].
    no_effect: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.finish_reason in ANSWERED


class StreamSink(Protocol):
    """Where a backend delivers one answer as it is generated."""

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        """Before any text: the prompt's size, and the reasoning format the stream is in
        (formats.py: `splitter_for(stream_format)` splits it)."""

    def text(self, chunks: list[str]) -> None:
        """The answer's next pieces, in order. Pieces that arrived together come in one
        call, so a front end can take them in one go rather than wake for each."""

    def reasoning(self, chunks: list[str]) -> None:
        """Reasoning that arrived apart from the answer (an OpenAI-compatible server's
        `reasoning_content` or `reasoning` field, endpoints/remote.py), in order; local
        models never call it: their reasoning is in `text`, split by `stream_format`."""


class Backend(ABC):
    """A model ready to answer. Methods block; callers run them off the GUI thread."""

    #: Shown in messages ("Qwen2.5-Coder crashed (signal 11) while generating").
    display_name: str

    @property
    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Facts recorded with every response (engine version, template hash, context)."""

    @property
    @abstractmethod
    def alive(self) -> bool:
        """False once the backend can no longer answer (process gone, closed)."""

    @abstractmethod
    def generate(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        sink: StreamSink,
        cancel: Cancel,
    ) -> GenerationResult:
        """Stream one answer into `sink`; return when it ends, fails or is cancelled.

        Never raises for what the model or its process did: that is reported in
        the result's `finish_reason` and `error`, with the partial text kept.
        """

    @abstractmethod
    def close(self) -> None:
        """Free the model. Safe to call twice."""


def decode_rate(completion_tokens: int | None, first_token_at: float | None, last_token_at: float | None) -> float | None:
    """Tokens per second after the first token, the usual decode-speed figure
    (llama.cpp's own benchmarks measure it the same way)."""
    if not completion_tokens or completion_tokens < 2 or first_token_at is None or last_token_at is None:
        return None
    elapsed = last_token_at - first_token_at
    return (completion_tokens - 1) / elapsed if elapsed > 0 else None
