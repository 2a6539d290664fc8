"""One prompt, several models, every answer saved: the heart of the workbench.

The CLI and the window both run comparisons through `Comparison.run`, which
blocks and reports progress to a listener from worker threads. The window
wraps the listener in Qt signals; the CLI prints.

Flow: catalog entries -> hashes (once per file) -> models recorded in the
notebook -> a run row and one response row per model -> each model loaded
from the pool (its own process) -> tokens streamed to the listener and to the
notebook's writer thread -> the final figures saved with the response -> its
automatic flags computed and stored (core/flagging.py), on the same thread,
before the listener hears that the answer is finished.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from .analysis import FlagReport
from .catalog import Catalog, ModelEntry
from .engine.backend import FINISH_ERROR, FINISH_STOPPED, Backend, GenerationResult
from .engine.cancel import Cancel
from .engine.local import LoadCancelled
from .engine.params import GenerationParams, all_cores
from .engine.pool import ModelPool
from .engine.formats import THINK, splitter_for
from .engine.reasoning import REASONING
from .engine.switches import NO_EFFECT, no_effect_note
from .errors import EnvironmentProblem, ModelProcessProblem, NotebookProblem
from .flagging import expects_reasoning, flag_answer, flaggable, store
from .language import detect_language
from .notebook import Notebook
from .notebook.database import ModelRecord
from .notebook.recorder import ANSWER as REC_ANSWER
from .notebook.recorder import REASONING as REC_REASONING
from .notebook.recorder import ResponseState, StreamRecorder

# How long a finished answer waits for the notebook to take it (another program holding
# a long write, a full disk being cleared) before the run reports it as not saved.
SAVE_PATIENCE_S = 60.0
SAVE_RETRY_S = 1.0

SEQUENTIAL = "sequential"
PARALLEL = "parallel"
SCHEDULES = (SEQUENTIAL, PARALLEL)


@dataclass(frozen=True)
class Contender:
    """One model in a comparison, with the settings it runs with."""

    entry: ModelEntry
    params: GenerationParams


@dataclass(frozen=True)
class Unsaved:
    """What a finished response could not write to the notebook: `what` is "answer"
    (and so its flags too) or "flags"; `reason` is the notebook's last refusal (the disk
    was full, another program held it locked for longer than SAVE_PATIENCE_S)."""

    what: str
    reason: str


@dataclass
class ResponseOutcome:
    position: int
    response_id: int
    entry: ModelEntry
    answer: str
    reasoning: str
    result: GenerationResult
    load_s: float | None = None
    # The answer's automatic flags, as stored with it; None when it has none (stopped by
    # the user, never started, or the detectors failed: reported as a problem). Flags the
    # disk refused are kept here (and the refusal reported).
    flags: FlagReport | None = None
    # What of this outcome the notebook lacks, and why; None when it holds all of it.
    unsaved: Unsaved | None = None
    # The settings recorded with the answer (its `sampler`): GenerationParams, and the
    # switches its template ignored (engine/switches.py NO_EFFECT).
    sampler: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        """One line on settings that had no effect on this model, or None."""
        return no_effect_note(self.entry.name, self.result.no_effect)

    @property
    def answered(self) -> bool:
        return self.result.answered


@dataclass(frozen=True)
class _Asked:
    """What every model of one run is asked, and what its flags are judged against."""

    run_id: int
    prompt: str
    language: str | None  # the prompt's, for the flags
    messages: list[dict[str, str]]


@dataclass
class RunOutcome:
    run_id: int
    prompt: str
    responses: list[ResponseOutcome] = field(default_factory=list)

    @property
    def any_answered(self) -> bool:
        return any(r.answered for r in self.responses)

    @property
    def unsaved(self) -> list[ResponseOutcome]:
        """The responses whose answer or flags the notebook does not hold."""
        return [r for r in self.responses if r.unsaved is not None]


class ComparisonListener(Protocol):
    """Progress reports, called from worker threads. Every method is optional: a listener
    that has only some subclasses this one, and the rest do nothing."""

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        return None

    def model_status(self, position: int, status: str) -> None:
        return None

    def text(self, position: int, parts: list[tuple[str, str]]) -> None:
        """(kind, text) pairs, "answer" or "reasoning", that arrived together."""
        return None

    def response_finished(self, outcome: ResponseOutcome) -> None:
        return None

    def problem(self, problem: EnvironmentProblem) -> None:
        return None


def _call(listener: Any, name: str, *args: Any) -> None:
    method = getattr(listener, name, None)
    if method is not None:
        method(*args)


class _EachProblemOnce:
    """Passes reports on to a listener, each problem only the first time it is said: the
    stream's writer and the final save may meet the same locked notebook, and a waiting
    save is tried again every second."""

    def __init__(self, listener: Any) -> None:
        self._listener = listener
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._listener, name)

    def problem(self, problem: EnvironmentProblem) -> None:
        with self._lock:
            if str(problem) in self._said:
                return
            self._said.add(str(problem))
        _call(self._listener, "problem", problem)


def estimate_memory(entry: ModelEntry, n_ctx: int) -> int:
    """Weights (mapped from the file) plus an f16 KV cache for `n_ctx` tokens."""
    meta = entry.metadata
    size = meta.file_size if meta else entry.path.stat().st_size
    raw = meta.raw if meta else {}
    arch = meta.architecture if meta else None
    try:
        layers = int(raw[f"{arch}.block_count"])
        embed = int(raw[f"{arch}.embedding_length"])
        heads = int(raw[f"{arch}.attention.head_count"])
        kv_heads = int(raw.get(f"{arch}.attention.head_count_kv", heads))
        kv_bytes = 2 * n_ctx * layers * (embed // heads) * kv_heads * 2
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        kv_bytes = size // 4
    return size + kv_bytes


def load_model(pool: ModelPool, entry: ModelEntry, params: GenerationParams, cancel: Cancel | None) -> Backend:
    """`entry` started (or kept) in `pool` with `params`' context and threads.

    A context whose memory estimate is beyond what the pool may use is refused
    here, before any model process starts (ModelProcessProblem, saying which
    context would fit): `--ctx 1000000000` on a 160 KB model grew its process
    to 16 GB in 35 s. A context past the model's trained length is allowed when
    it fits (llama.cpp runs it; the default 4096 is past many small models'
    length, and recorded settings must replay), and the refusal names that length.
    """
    needed = estimate_memory(entry, params.n_ctx)
    if needed > pool.budget_bytes:
        raise ModelProcessProblem(_too_big(entry, params.n_ctx, needed, pool.budget_bytes))
    return pool.acquire(entry.path, entry.name, params.n_ctx, params.n_threads, needed, cancel)


def _too_big(entry: ModelEntry, n_ctx: int, needed: int, budget: int) -> str:
    weights = estimate_memory(entry, 0)
    per_token = estimate_memory(entry, 1) - weights
    said = f"{entry.name} would need about {needed / 1e9:.1f} GB of memory with a context of {n_ctx:,} tokens, more than the {budget / 1e9:.1f} GB this computer can give a model"
    if per_token <= 0 or weights >= budget:
        return said + ": choose a smaller model or quantization."
    fits = (budget - weights) // per_token
    fits = fits - fits % 1024 if fits >= 1024 else fits
    trained = entry.metadata.context_length if entry.metadata else None
    if trained and trained > 0:
        fits = min(fits, trained)
        return said + f". Use a context of {fits:,} tokens or less (it was trained on {trained:,})."
    return said + f". Use a context of {fits:,} tokens or less."


def model_record(entry: ModelEntry) -> ModelRecord:
    meta = entry.metadata
    origin = entry.origin
    assert entry.sha256, "hash the model before recording it"
    return ModelRecord(
        sha256=entry.sha256,
        name=entry.name,
        path=str(entry.path),
        catalog_id=entry.id,
        file_size=meta.file_size if meta else None,
        architecture=meta.architecture if meta else None,
        parameters=meta.parameters if meta else None,
        quantization=meta.quantization if meta else None,
        context_length=meta.context_length if meta else None,
        maker=origin.maker,
        origin_country=origin.country,
        base_maker=origin.base_maker,
        base_country=origin.base_country,
        origin_source=origin.source,
        license=meta.license if meta else None,
        chat_template_sha256=meta.chat_template_sha256 if meta else None,
        metadata=meta.raw if meta else None,
    )


class Comparison:
    """Runs comparisons against one notebook, keeping models loaded in `pool`."""

    def __init__(self, notebook: Notebook, catalog: Catalog, pool: ModelPool | None = None) -> None:
        self.notebook = notebook
        self.catalog = catalog
        self.pool = pool if pool is not None else ModelPool()

    def run(
        self,
        prompt: str,
        contenders: list[Contender],
        *,
        system_prompt: str = "",
        schedule: str = SEQUENTIAL,
        listener: ComparisonListener | None = None,
        cancel: Cancel | None = None,
        prompt_language: str | None = None,
    ) -> RunOutcome:
        """Ask every contender `prompt`; block until all have answered, failed or stopped.

        Each finished answer is flagged as it is saved; `prompt_language` ("en",
        "zh") is the language its flags take the prompt to be in (a prompt set
        says it), else the one detected from the prompt.
        Raises NotebookProblem if the run can't even be recorded; problems
        while streaming are reported to the listener and the run goes on.
        """
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}")
        if not contenders:
            raise ValueError("a comparison needs at least one model")
        cancel = cancel or Cancel()
        listener = _EachProblemOnce(listener)
        if schedule == PARALLEL and len(contenders) > 1:
            share = max(1, all_cores() // len(contenders))
            contenders = [Contender(c.entry, c.params.replace(n_threads=min(c.params.n_threads, share))) for c in contenders]
        entries = [self._hashed(c.entry, listener, i) for i, c in enumerate(contenders)]
        for entry in entries:
            if entry.sha256:
                self.notebook.record_model(model_record(entry))
        shared = contenders[0].params
        detected = detect_language(prompt)
        run_id = self.notebook.create_run(
            prompt,
            system_prompt=system_prompt,
            settings=shared.to_dict(),
            schedule=schedule,
            language=detected,
        )
        response_ids = [
            self.notebook.add_response(
                run_id,
                position,
                model_name=entry.name,
                model_sha256=entry.sha256,
                origin_country=entry.origin.country,
                seed=c.params.seed,
                sampler=c.params.to_dict(),
            )
            for position, (entry, c) in enumerate(zip(entries, contenders))
        ]
        _call(listener, "run_created", run_id, response_ids)
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [{"role": "user", "content": prompt}]
        asked = _Asked(run_id, prompt, prompt_language or detected, messages)
        # A place per model, each filled by its job (_answer) before run() returns: None
        # only until then (the type says what run() returns).
        outcome = RunOutcome(run_id, prompt, [None] * len(contenders))  # type: ignore[list-item]
        recorder = StreamRecorder(self.notebook, on_problem=lambda p: _call(listener, "problem", p))
        try:

            def answer(i: int) -> None:
                self._answer(i, response_ids[i], entries[i], contenders[i].params, asked, recorder, listener, cancel, outcome)

            jobs = [partial(answer, i) for i in range(len(contenders))]
            if schedule == SEQUENTIAL:
                for job in jobs:
                    job()
            else:
                threads = [threading.Thread(target=job, name=f"model-{i}", daemon=True) for i, job in enumerate(jobs)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        finally:
            recorder.close()
        return outcome

    def _hashed(self, entry: ModelEntry, listener: Any, position: int) -> ModelEntry:
        if entry.sha256:
            return entry
        _call(listener, "model_status", position, "checking the file (SHA-256, once per file)…")
        try:
            return self.catalog.ensure_sha256(entry)
        except (OSError, EnvironmentProblem):
            return entry  # Unreadable now: it will fail to load and say why.

    def _answer(
        self,
        position: int,
        response_id: int,
        entry: ModelEntry,
        params: GenerationParams,
        asked: _Asked,
        recorder: StreamRecorder,
        listener: Any,
        cancel: Cancel,
        outcome: RunOutcome,
    ) -> None:
        state = ResponseState(response_id)
        load_s: float | None = None
        if cancel.is_set():
            result = GenerationResult(finish_reason=FINISH_STOPPED, error="Not started: the run was stopped.")
        elif entry.status != "ok":
            result = GenerationResult(finish_reason=FINISH_ERROR, error=f"{entry.name} can't be loaded: {entry.status}")
        else:
            result, load_s = self._generate(position, entry, params, asked.messages, state, recorder, listener, cancel)
        recorder.flush()
        answer, reasoning, timeline = state.snapshot()
        fields = dict(
            text=answer,
            reasoning=reasoning,
            finish_reason=result.finish_reason,
            error=result.error,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            ttft_s=result.ttft_s,
            tokens_per_s=result.tokens_per_s,
            duration_s=result.duration_s,
            load_s=load_s,
            llama_cpp_version=result.backend_info.get("llama_cpp_version"),
            chat_template=result.backend_info.get("chat_template"),
            template_sha256=result.backend_info.get("template_sha256"),
            timeline=timeline,
        )
        sampler = params.to_dict()
        if result.no_effect:
            # Recorded beside the settings: the model's template ignored these (switches.py).
            sampler[NO_EFFECT] = list(result.no_effect)
            fields["sampler"] = json.dumps(sampler, ensure_ascii=False)
        refused = self._persist(lambda: self.notebook.finish_response(response_id, **fields), listener)
        unsaved = Unsaved("answer", refused) if refused else None
        flags = None
        if flaggable(result.finish_reason):
            flags = self._flag(asked, entry, answer, reasoning, sampler, listener)
            if flags is not None and unsaved is None:
                refused = self._persist(lambda: store(self.notebook, asked.run_id, response_id, flags), listener)
                unsaved = Unsaved("flags", refused) if refused else None
        done = ResponseOutcome(position, response_id, entry, answer, reasoning, result, load_s, flags, unsaved, sampler)
        outcome.responses[position] = done
        _call(listener, "response_finished", done)

    def _persist(self, write: Callable[[], Any], listener: Any) -> str | None:
        """Run a notebook write, trying again while the notebook refuses it (locked by
        another program, a full disk) for up to SAVE_PATIENCE_S; the first refusal is
        reported at once so the user knows why the run waits. Returns None once written,
        else the last refusal, for the run to say that this was not saved."""
        waited_until = time.monotonic() + SAVE_PATIENCE_S
        while True:
            try:
                write()
                return None
            except NotebookProblem as problem:
                _call(listener, "problem", problem)
                if time.monotonic() + SAVE_RETRY_S > waited_until:
                    return str(problem)
            time.sleep(SAVE_RETRY_S)

    def _flag(self, asked: _Asked, entry: ModelEntry, answer: str, reasoning: str, sampler: dict[str, Any], listener: Any) -> FlagReport | None:
        """An answer's automatic flags; a failure of the detectors is reported to the
        listener and costs only the flags."""
        try:
            return flag_answer(
                asked.prompt, answer, language=asked.language, reasoning=reasoning,
                is_reasoning_model=expects_reasoning(entry.metadata.raw if entry.metadata else None, sampler), who=entry.name,
            )  # fmt: skip
        except EnvironmentProblem as problem:
            _call(listener, "problem", problem)
            return None

    def _generate(
        self,
        position: int,
        entry: ModelEntry,
        params: GenerationParams,
        messages: list[dict[str, str]],
        state: ResponseState,
        recorder: StreamRecorder,
        listener: Any,
        cancel: Cancel,
    ) -> tuple[GenerationResult, float | None]:
        _call(listener, "model_status", position, "loading…")
        load_started = time.perf_counter()
        try:
            model = load_model(self.pool, entry, params, cancel)
        except LoadCancelled:
            return GenerationResult(finish_reason=FINISH_STOPPED, error="Stopped while loading."), None
        except ModelProcessProblem as problem:
            return GenerationResult(finish_reason=FINISH_ERROR, error=str(problem)), None
        load_s = time.perf_counter() - load_started
        _call(listener, "model_status", position, "generating…")
        sink = _SplittingSink(position, state, recorder, listener)
        try:
            result = model.generate(messages, params, sink, cancel)
        finally:
            self.pool.release(model)
        sink.finish()
        return result, load_s


class _SplittingSink:
    """Separates reasoning from the answer, keeps the text for the notebook, tells the listener."""

    def __init__(self, position: int, state: ResponseState, recorder: StreamRecorder, listener: Any) -> None:
        self._position = position
        self._state = state
        self._recorder = recorder
        self._listener = listener
        self._splitter = splitter_for(THINK)
        self._started = time.perf_counter()

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        self._splitter = splitter_for(stream_format)
        self._started = time.perf_counter()

    def text(self, chunks: list[str]) -> None:
        self._deliver([part for chunk in chunks for part in self._splitter.feed(chunk)])

    def finish(self) -> None:
        self._deliver(self._splitter.flush())

    def _deliver(self, parts: list[tuple[str, str]]) -> None:
        if not parts:
            return
        at_ms = int((time.perf_counter() - self._started) * 1000)
        for kind, text in parts:
            self._state.append(REC_REASONING if kind == REASONING else REC_ANSWER, text, at_ms)
        _call(self._listener, "text", self._position, parts)
        self._recorder.mark(self._state)
