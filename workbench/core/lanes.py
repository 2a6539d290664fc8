"""How many requests may run at once, and where: one local model at a time, up to an
endpoint's concurrency per endpoint; and an endpoint that keeps failing, paused.

A local GGUF takes every core it is given, so two local answers at once only
share the cores (and the memory) and each is slower; they go one at a time,
unless they are for one model process made for several sequences
(engine/sequences.py), which decodes them together: then the local lane is as wide
as that model's sequences, for that model's requests only (`Lane.model`).
A server batches requests itself (vLLM, SGLang and llama-server's continuous
batching), so a batch sends up to `Endpoint.concurrency` requests at once to
each endpoint, and different endpoints (and the local lane) never wait for
one another. A `Lanes` object is shared by every run of one `Comparison`, so
the limits hold across the prompts a batch has in flight.

`EndpointHealth` is one batch run's view of its endpoints: after
`PAUSE_AFTER` failures in a row from one endpoint (each already retried by the
SDK), the endpoint is paused with one message, its requests not yet sent are
not sent, and the batch's other models go on. The pause lasts for that run: a
resume tries the endpoint again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .catalog import ModelEntry
from .endpoints.config import DEFAULT_CONCURRENCY, load_endpoints
from .errors import EnvironmentProblem
from .engine.backend import FINISH_ERROR, GenerationResult
from .engine.cancel import Cancel

#: Failures in a row (after the SDK's own retries) that pause an endpoint for a batch run.
PAUSE_AFTER = 5

LOCAL = "local"  # the lane of every model on this machine


@dataclass(frozen=True)
class Lane:
    """Where a model's requests queue: `key` names the lane (LOCAL, or "endpoint:NAME"),
    `width` how many of them run at once, `endpoint` the endpoint's name (None: local)."""

    key: str
    width: int
    endpoint: str | None = None
    # Whose requests share the places: while the lane holds any, a request for another
    # model waits until it is empty (None: any request takes a free place).
    model: str | None = None


def lane_of(entry: ModelEntry) -> Lane:
    """A local model's lane is the one local lane; a remote one's is its endpoint's, as wide
    as the endpoint's saved concurrency (the default when the endpoint is no longer saved)."""
    if not entry.remote or entry.endpoint is None:
        return Lane(LOCAL, 1)
    width = next((ep.concurrency for ep in load_endpoints() if ep.name == entry.endpoint), DEFAULT_CONCURRENCY)
    return Lane(f"endpoint:{entry.endpoint}", max(1, width), entry.endpoint)


class EndpointPaused(EnvironmentProblem):
    """An endpoint failed PAUSE_AFTER times in a row: its remaining requests of this batch
    run are left unasked (resumable), and the other models go on."""


class EndpointHealth:
    """Consecutive failures per endpoint during one batch run, and which are paused."""

    def __init__(self, pause_after: int = PAUSE_AFTER) -> None:
        self.pause_after = pause_after
        self._failures: dict[str, int] = {}
        self._paused: dict[str, EndpointPaused] = {}
        self._lock = threading.Lock()

    def paused(self, lane: Lane) -> EndpointPaused | None:
        """Why `lane`'s endpoint is paused, or None (a local lane never is)."""
        with self._lock:
            return self._paused.get(lane.key)

    def report(self, lane: Lane, result: GenerationResult) -> EndpointPaused | None:
        """Count one finished request; returns the pause once, when this failure causes it."""
        if lane.endpoint is None:
            return None
        with self._lock:
            if result.finish_reason != FINISH_ERROR:
                self._failures[lane.key] = 0
                return None
            failures = self._failures.get(lane.key, 0) + 1
            self._failures[lane.key] = failures
            if failures < self.pause_after or lane.key in self._paused:
                return None
            why = (result.error or "an error").splitlines()[0]
            pause = EndpointPaused(
                f"Endpoint {lane.endpoint} failed {failures} times in a row (last: {why}); it is paused for this batch and its "
                "remaining prompts are left unasked. The other models go on; resume the batch once the endpoint works again."
            )
            self._paused[lane.key] = pause
            return pause


class Lanes:
    """The places free in each lane, shared by every run of one Comparison. `lane`
    (default `lane_of`) says which lane a model's requests take."""

    def __init__(self, lane: Callable[[ModelEntry], Lane] = lane_of) -> None:
        self.lane = lane
        self._busy: dict[str, int] = {}
        self._holder: dict[str, str | None] = {}  # the model whose requests hold each busy lane
        self._changed = threading.Condition()

    @contextmanager
    def place(self, lane: Lane, cancel: Cancel) -> Iterator[bool]:
        """Wait for a free place in `lane`, hold it within the block. Yields False (and holds
        nothing) when `cancel` is set before one is free: the request is not to be sent."""
        with cancel.waking(self._wake), self._changed:
            while not cancel.is_set() and not self._fits(lane):
                self._changed.wait()
            got = not cancel.is_set()
            if got:
                self._busy[lane.key] = self._busy.get(lane.key, 0) + 1
                self._holder[lane.key] = lane.model
        try:
            yield got
        finally:
            if got:
                with self._changed:
                    self._busy[lane.key] -= 1
                    self._changed.notify_all()

    def _fits(self, lane: Lane) -> bool:
        """Whether a request of `lane` may take a place now (the caller holds the condition)."""
        busy = self._busy.get(lane.key, 0)
        return busy == 0 or (busy < lane.width and self._holder.get(lane.key) == lane.model)

    def _wake(self) -> None:
        """A cancel wakes every waiter (it runs on the cancelling thread: quick, never raises)."""
        with self._changed:
            self._changed.notify_all()
