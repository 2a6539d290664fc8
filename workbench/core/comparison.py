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

import dataclasses
import functools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from .catalog import Catalog, ModelEntry
from .endpoints.model_path import PROVENANCE
from .engine.backend import FINISH_CRASHED, FINISH_ERROR, FINISH_STOPPED, Backend, GenerationResult
from .engine.cancel import Cancel
from .engine.local import LoadCancelled
from .engine.offload import RAN_ON, ran_on
from .engine.params import GenerationParams, all_cores
from .engine.pool import ModelPool
from .engine.formats import THINK, splitter_for
from .engine.reasoning import REASONING
from .engine.switches import NO_EFFECT, no_effect_note
from .errors import EnvironmentProblem, ModelProcessProblem, NotebookProblem
from .flagging import expects_reasoning, flag_answer, flaggable, store, warm_up
from .language import detect_language
from .lanes import EndpointHealth, Lane, Lanes
from .notebook import Notebook
from .notebook.database import ModelRecord
from .notebook.recorder import ANSWER as REC_ANSWER
from .notebook.recorder import REASONING as REC_REASONING
from .notebook.recorder import ResponseState, StreamRecorder

if TYPE_CHECKING:
    from .analysis import FlagReport

# How long a finished answer waits for the notebook to take it (another program holding
# a long write, a full disk being cleared) before the run reports it as not saved.
SAVE_PATIENCE_S = 60.0
SAVE_RETRY_S = 1.0

SEQUENTIAL = "sequential"
PARALLEL = "parallel"
SCHEDULES = (SEQUENTIAL, PARALLEL)


@dataclass(frozen=True)
class Contender:
    """One model in a comparison, with the settings it runs with. `sequences`: how many
    answers its model process is made to decode at once (a batch's prompts in flight,
    engine/sequences.py); the panes of one run that hold the same model share one process
    with at least as many sequences as there are of them."""

    entry: ModelEntry
    params: GenerationParams
    sequences: int = 1


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
    # The settings recorded with the answer (its `sampler`): GenerationParams, the
    # switches its template ignored (engine/switches.py NO_EFFECT), and what ran it
    # (engine/offload.py RAN_ON; an endpoint's provenance instead).
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
    """What one model of a run's turn is asked, and what its flags are judged against:
    the turn's prompt, while `messages` hold the whole conversation up to it. `not_asked`:
    why this model is not asked at all (its previous answer failed), recorded as its answer."""

    run_id: int
    prompt: str
    language: str | None  # the prompt's, for the flags
    messages: list[dict[str, str]]
    not_asked: str | None = None


@dataclass
class RunOutcome:
    run_id: int
    prompt: str
    responses: list[ResponseOutcome] = field(default_factory=list)
    turn: int = 0  # which turn of the run's conversation these answer: 0 for `run`, 1, 2, … for `follow_up`

    @property
    def any_answered(self) -> bool:
        return any(r.answered for r in self.responses)

    @property
    def unsaved(self) -> list[ResponseOutcome]:
        """The responses whose answer or flags the notebook does not hold."""
        return [r for r in self.responses if r.unsaved is not None]



@functools.cache
def _warm_up_flags() -> None:
    """`flagging.warm_up` on a thread of its own, once per process: the detectors load
    while the first models do (the thread mostly waits on the model's pipe meanwhile)."""
    threading.Thread(target=warm_up, name="flags-warm-up", daemon=True).start()


class ComparisonListener(Protocol):
    """Progress reports, called from worker threads. Every method is optional: a listener
    that has only some subclasses this one, and the rest do nothing."""

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        return None

    def turn_created(self, run_id: int, turn: int, response_ids: list[int]) -> None:
        """A follow-up (`Comparison.follow_up`) was recorded as turn `turn` of run `run_id`,
        with one pending response per position; said instead of `run_created`."""
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


def load_model(pool: ModelPool, entry: ModelEntry, params: GenerationParams, cancel: Cancel | None, sequences: int = 1) -> Backend:
    """`entry` started (or kept) in `pool` with `params`' context and threads, made for
    `sequences` answers at once (each with a context of its own, so the memory estimate
    is for `sequences` times the context).

    A context whose memory estimate is beyond what the pool may use is refused
    here, before any model process starts (ModelProcessProblem, saying which
    context would fit): `--ctx 1000000000` on a 160 KB model grew its process
    to 16 GB in 35 s. A context past the model's trained length is allowed when
    it fits (llama.cpp runs it; the default 4096 is past many small models'
    length, and recorded settings must replay), and the refusal names that length.
    A remote entry (an endpoint's model) gets a `RemoteModel`: no process, no memory.
    """
    if entry.remote:
        return pool.acquire(entry.path, entry.name, params.load_settings(), 0, cancel)
    needed = estimate_memory(entry, params.n_ctx * sequences)
    if needed > pool.budget_bytes:
        if sequences > 1:
            raise ModelProcessProblem(
                f"{entry.name} would need about {needed / 1e9:.1f} GB of memory for {sequences} answers at once with a context of "
                f"{params.n_ctx:,} tokens each, more than the {pool.budget_bytes / 1e9:.1f} GB this computer can give a model: "
                "ask fewer at once (--sequences) or use a smaller context."
            )
        raise ModelProcessProblem(_too_big(entry, params.n_ctx, needed, pool.budget_bytes))
    settings = dataclasses.replace(params.load_settings(), sequences=sequences)
    return pool.acquire(entry.path, entry.name, settings, needed, cancel)


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


def _shared_cores(contenders: list[Contender], schedule: str) -> list[Contender]:
    """Parallel models split the cores between them; sequential ones each get all theirs."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")
    if schedule == PARALLEL and len(contenders) > 1:
        share = max(1, all_cores() // len(contenders))
        return [Contender(c.entry, c.params.replace(n_threads=min(c.params.n_threads, share))) for c in contenders]
    return contenders


def conversation(run: dict[str, Any], position: int, prompt: str) -> list[dict[str, str]]:
    """The messages position `position` of `run` (as `Notebook.run` reads it) is sent for
    the follow-up `prompt`: the run's system prompt, each earlier turn's prompt and that
    position's final answer to it (never its reasoning), then `prompt`."""
    messages = [{"role": "system", "content": run["system_prompt"]}] if run["system_prompt"] else []
    for turn in run["turns"]:
        answers = [r for r in turn["responses"] if r["position"] == position]
        messages.append({"role": "user", "content": turn["prompt"]})
        messages.append({"role": "assistant", "content": answers[0]["text"] if answers else ""})
    return messages + [{"role": "user", "content": prompt}]


def answer_failed(response: dict[str, Any] | None) -> str | None:
    """Why a saved answer is no conversation to continue, or None if it is one: it failed
    (an error, or not asked), its model crashed, it was stopped (or left unfinished)
    before writing any answer, or there is none."""
    if response is None:
        return "there is none"
    reason = response["finish_reason"]
    if reason == FINISH_ERROR:
        return response["error"] or "an error"
    if reason == FINISH_CRASHED:
        return "its model crashed"
    if not response["text"] and reason in (FINISH_STOPPED, None):
        return "it was stopped before any answer"
    return None


NOT_ASKED = "Not asked: "
NOT_STARTED = "Not started: the run was stopped."


def not_asked(run: dict[str, Any], position: int) -> str | None:
    """What the response of position `position` to the next turn of `run` records instead
    of asking its model, when that model's latest answer failed; None to ask it. A
    position not asked stays so, with the first failure's words."""
    latest = [r for r in run["turns"][-1]["responses"] if r["position"] == position]
    response = latest[0] if latest else None
    reason = answer_failed(response)
    if reason is None:
        return None
    if reason.startswith(NOT_ASKED):
        return reason
    name = response["model_name"] if response else f"the model of pane {position + 1}"
    return f"{NOT_ASKED}{name}'s previous answer failed ({reason}). Start a new run to ask it again."


class Comparison:
    """Runs comparisons against one notebook, keeping models loaded in `pool`."""

    def __init__(self, notebook: Notebook, catalog: Catalog, pool: ModelPool | None = None, lanes: Lanes | None = None) -> None:
        self.notebook = notebook
        self.catalog = catalog
        self.pool = pool if pool is not None else ModelPool()
        # Shared by every run of this comparison (a batch has several in flight): one local
        # model at a time, up to each endpoint's concurrency (lanes.py).
        self.lanes = lanes if lanes is not None else Lanes()

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
        health: EndpointHealth | None = None,
    ) -> RunOutcome:
        """Ask every contender `prompt`; block until all have answered, failed or stopped.

        Each finished answer is flagged as it is saved; `prompt_language` ("en",
        "zh") is the language its flags take the prompt to be in (a prompt set
        says it), else the one detected from the prompt.
        Raises NotebookProblem if the run can't even be recorded; problems
        while streaming are reported to the listener and the run goes on.

        Remote models are asked at the same time, whatever the schedule: a server's
        request takes no core here, so only local models take turns when `schedule` is
        SEQUENTIAL (lanes.py bounds each endpoint's requests in flight). `health`, a
        batch run's, pauses an endpoint that keeps failing: its model is then not asked.
        """
        if not contenders:
            raise ValueError("a comparison needs at least one model")
        listener = _EachProblemOnce(listener)
        contenders = _shared_cores(contenders, schedule)
        entries = self._recorded(contenders, listener)
        detected = detect_language(prompt)
        run_id = self.notebook.create_run(
            prompt,
            system_prompt=system_prompt,
            settings=contenders[0].params.to_dict(),
            schedule=schedule,
            language=detected,
        )
        response_ids = self._add_responses(run_id, 0, entries, contenders)
        _call(listener, "run_created", run_id, response_ids)
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [{"role": "user", "content": prompt}]
        asked = [_Asked(run_id, prompt, prompt_language or detected, messages)] * len(contenders)
        return self._ask(RunOutcome(run_id, prompt), asked, response_ids, entries, contenders, schedule, listener, cancel, health)

    def follow_up(
        self,
        run_id: int,
        prompt: str,
        contenders: list[Contender],
        *,
        schedule: str = SEQUENTIAL,
        listener: ComparisonListener | None = None,
        cancel: Cancel | None = None,
        prompt_language: str | None = None,
        continue_from: int | None = None,
        health: EndpointHealth | None = None,
    ) -> RunOutcome:
        """Ask every model of run `run_id` the next turn, `prompt`, each continuing its own
        conversation; block until all have answered, failed or stopped.

        `contenders[i]` must be the model of the run's position i (the same file
        content, SHA-256), with the settings it runs with now; else ValueError, as for
        a run the notebook does not hold. Position i is sent the run's system prompt,
        then for each earlier turn its prompt and position i's final answer of that turn
        (never its reasoning), then `prompt`. A position whose latest answer failed
        (`answer_failed`) is not asked: its response records why, and says to start a new run.
        Flags are judged against `prompt`, in `prompt_language` or the one detected.

        `continue_from` continues the conversation as it stood after that turn rather
        than after the latest: a batch asking again a follow-up that a stop or a crash
        cut short keeps the cut turn on record but out of the models' history.
        """
        run = self.notebook.run(run_id)
        if run is None:
            raise ValueError(f"the notebook holds no run {run_id}")
        if continue_from is not None:
            if not 0 <= continue_from < len(run["turns"]):
                raise ValueError(f"run {run_id} has no turn {continue_from} to continue from")
            run = dict(run, turns=run["turns"][: continue_from + 1])
        first = run["responses"]
        if len(contenders) != len(first):
            raise ValueError(f"run {run_id} has {len(first)} model(s); a follow-up needs one contender for each, not {len(contenders)}")
        listener = _EachProblemOnce(listener)
        contenders = _shared_cores(contenders, schedule)
        entries = self._same_models(run_id, first, contenders, listener)
        detected = detect_language(prompt)
        turn = self.notebook.add_turn(run_id, prompt, language=detected)
        response_ids = self._add_responses(run_id, turn, entries, contenders)
        _call(listener, "turn_created", run_id, turn, response_ids)
        language = prompt_language or detected
        asked = [
            _Asked(run_id, prompt, language, conversation(run, position, prompt), not_asked(run, position))
            for position in range(len(contenders))
        ]  # fmt: skip
        return self._ask(RunOutcome(run_id, prompt, turn=turn), asked, response_ids, entries, contenders, schedule, listener, cancel, health)

    def ask_again(
        self,
        run_id: int,
        turn: int,
        contenders: list[Contender],
        *,
        listener: ComparisonListener | None = None,
        cancel: Cancel | None = None,
        prompt_language: str | None = None,
        continue_from: int | None = None,
        health: EndpointHealth | None = None,
    ) -> RunOutcome:
        """Ask again, in run `run_id`'s turn `turn`, only the models whose answer there is not
        finished (not asked, stopped, left unfinished by a crash): each such response is made
        pending again (`Notebook.restart_response`) and answered in its place; a finished
        answer, even a failed one, is kept and its model not asked. So a batch resuming a
        prompt that a paused endpoint left unanswered asks that endpoint only, in the same run.

        `contenders` are the run's models, as for `follow_up`; the models are asked one
        after another as a batch asks them (SEQUENTIAL). A later turn is sent the conversation
        as it stood after `continue_from` (default: the turn before), as `follow_up` sends it.
        The outcome holds the responses asked only (none when every answer is finished).
        """
        run = self.notebook.run(run_id)
        if run is None or not 0 <= turn < len(run["turns"]):
            raise ValueError(f"the notebook holds no turn {turn} of a run {run_id}")
        responses = run["turns"][turn]["responses"]
        if len(contenders) != len(responses):
            raise ValueError(f"turn {turn} of run {run_id} has {len(responses)} model(s); asking it again needs one contender for each")
        before = run["turns"][: turn if continue_from is None else continue_from + 1]
        history = dict(run, turns=before)
        listener = _EachProblemOnce(listener)
        entries = self._same_models(run_id, responses, contenders, listener)
        prompt = run["turns"][turn]["prompt"]
        language = prompt_language or detect_language(prompt)
        positions = [r["position"] for r in responses if r["finish_reason"] in (FINISH_STOPPED, None)]
        for position in positions:
            self.notebook.restart_response(responses[position]["id"])
        first = ([{"role": "system", "content": run["system_prompt"]}] if run["system_prompt"] else []) + [{"role": "user", "content": prompt}]
        asked = [
            _Asked(run_id, prompt, language, first) if turn == 0
            else _Asked(run_id, prompt, language, conversation(history, position, prompt), not_asked(history, position))
            for position in range(len(contenders))
        ]  # fmt: skip
        self._flag_kept(asked, entries, [r for r in responses if r["position"] not in positions], listener)
        outcome = RunOutcome(run_id, prompt, turn=turn)
        response_ids = [r["id"] for r in responses]
        return self._ask(outcome, asked, response_ids, entries, contenders, SEQUENTIAL, listener, cancel, health, positions)

    def _flag_kept(self, asked: list[_Asked], entries: list[ModelEntry], kept: list[dict[str, Any]], listener: Any) -> None:
        """Flag the kept finished answers that have no flags. An answer and its flags are
        two writes (the answer is kept even when its flags can't be saved), so an app killed
        between them left an answer without flags, which the rates and sorts would miss.
        An answer flagged with none is flagged again, to none: the detectors are deterministic."""
        unflagged = self.notebook.flags.without_any(r["id"] for r in kept if flaggable(r["finish_reason"]))
        for response in kept:
            if response["id"] not in unflagged:
                continue
            position = response["position"]
            entry = entries[position]
            text, reasoning = response["text"] or "", response["reasoning"] or ""
            report = self._flag(asked[position], entry, text, reasoning, response["sampler"], listener)
            if report is not None:
                self._persist(partial(store, self.notebook, asked[position].run_id, response["id"], report), listener)

    def _same_models(self, run_id: int, responses: list[dict[str, Any]], contenders: list[Contender], listener: Any) -> list[ModelEntry]:
        """The contenders' entries, recorded, each checked to be the model of its position in
        `responses` (a turn of run `run_id`): a model continues only its own conversation."""
        entries = self._recorded(contenders, listener)
        for position, (entry, response) in enumerate(zip(entries, responses)):
            if response["model_sha256"] is not None and entry.sha256 != response["model_sha256"]:
                raise ValueError(
                    f"{entry.name} is not the model of position {position} of run {run_id} ({response['model_name']}); "
                    "a follow-up continues each model's own conversation"
                )
        return entries

    def _recorded(self, contenders: list[Contender], listener: Any) -> list[ModelEntry]:
        """The contenders' entries, hashed (once per file) and recorded in the notebook's models."""
        entries = [self._hashed(c.entry, listener, i) for i, c in enumerate(contenders)]
        for entry in entries:
            if entry.sha256:
                self.notebook.record_model(model_record(entry))
        return entries

    def _add_responses(self, run_id: int, turn: int, entries: list[ModelEntry], contenders: list[Contender]) -> list[int]:
        """One pending response per position, written before any model starts: a run that
        crashes at once is on record."""
        return [
            self.notebook.add_response(
                run_id,
                position,
                model_name=entry.name,
                model_sha256=entry.sha256,
                origin_country=entry.origin.country,
                seed=c.params.seed,
                sampler=c.params.to_dict(),
                turn=turn,
            )
            for position, (entry, c) in enumerate(zip(entries, contenders))
        ]

    def _ask(
        self,
        outcome: RunOutcome,
        asked: list[_Asked],
        response_ids: list[int],
        entries: list[ModelEntry],
        contenders: list[Contender],
        schedule: str,
        listener: Any,
        cancel: Cancel | None,
        health: EndpointHealth | None = None,
        positions: list[int] | None = None,
    ) -> RunOutcome:
        """Every position (or those of `positions`) asked what `asked` says; fills
        `outcome.responses` with their outcomes in pane order. Remote models each on their own
        thread; local ones one after another (SEQUENTIAL, in the local lane, which a batch's
        other prompts share) or all at once (PARALLEL, cores split, no lane)."""
        cancel = cancel or Cancel()
        _warm_up_flags()
        outcome.responses = [None] * len(contenders)  # type: ignore[list-item]  # None only until each job fills its place
        recorder = StreamRecorder(self.notebook, on_problem=lambda p: _call(listener, "problem", p))
        chosen = list(range(len(contenders))) if positions is None else positions
        sequences = _sequences(chosen, entries, contenders)
        lanes = [self._lane(entry, contender, n) for entry, contender, n in zip(entries, contenders, sequences)]
        try:

            def answer(i: int) -> None:
                gate = lanes[i] if lanes[i].endpoint is not None or schedule == SEQUENTIAL else None
                self._answer(i, response_ids[i], entries[i], contenders[i].params, asked[i], recorder, listener, cancel, outcome, gate, health, sequences[i])

            def group_after_group(groups: list[list[int]]) -> None:
                for group in groups:
                    _at_once([partial(answer, i) for i in group])

            remote = [i for i in chosen if lanes[i].endpoint is not None]
            local = [i for i in chosen if lanes[i].endpoint is None]
            if schedule == SEQUENTIAL:
                # One model after another; the panes that hold the same model, together.
                groups: dict[str | None, list[int]] = {}
                for i in local:
                    groups.setdefault(lanes[i].model, []).append(i)
                jobs = [partial(group_after_group, list(groups.values()))] + [partial(answer, i) for i in remote]
            else:
                jobs = [partial(answer, i) for i in local + remote]
            _at_once(jobs)  # the first on this thread: an all-local sequential run starts no thread, as before
        finally:
            recorder.close()
        if positions is not None:
            outcome.responses = [r for r in outcome.responses if r is not None]
        return outcome

    def _lane(self, entry: ModelEntry, contender: Contender, sequences: int) -> Lane:
        """The lane of `entry`'s requests: an endpoint's, or the local one, as wide as the
        sequences its model process decodes at once, for that process's requests only."""
        lane = self.lanes.lane(entry)
        if lane.endpoint is not None:
            return lane
        process = repr((str(entry.path), dataclasses.replace(contender.params.load_settings(), sequences=sequences)))
        return dataclasses.replace(lane, width=max(lane.width, sequences), model=process)

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
        gate: Lane | None = None,
        health: EndpointHealth | None = None,
        sequences: int = 1,
    ) -> None:
        state = ResponseState(response_id)
        load_s: float | None = None
        if asked.not_asked is not None:
            result = GenerationResult(finish_reason=FINISH_ERROR, error=asked.not_asked)
        elif cancel.is_set():
            result = GenerationResult(finish_reason=FINISH_STOPPED, error=NOT_STARTED)
        elif entry.status != "ok":
            result = GenerationResult(finish_reason=FINISH_ERROR, error=f"{entry.name} can't be loaded: {entry.status}")
        else:
            result, load_s = self._in_lane(position, entry, params, asked.messages, state, recorder, listener, cancel, gate, health, sequences)
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
        if entry.remote:
            # Where the answer came from (endpoints/remote.py): URL, model served, fingerprint,
            # settings sent, whether the seed may have been ignored. Never the key.
            sampler[PROVENANCE] = dict(result.backend_info)
        elif (hardware := ran_on(result.backend_info)) is not None:
            # What ran it (engine/offload.py): the CPU or a GPU backend, and the layers offloaded.
            sampler[RAN_ON] = hardware
        # Written whole every time: an answer asked again in its place (restart_response)
        # must not keep what ran the one before.
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

    def _in_lane(
        self,
        position: int,
        entry: ModelEntry,
        params: GenerationParams,
        messages: list[dict[str, str]],
        state: ResponseState,
        recorder: StreamRecorder,
        listener: Any,
        cancel: Cancel,
        gate: Lane | None,
        health: EndpointHealth | None,
        sequences: int,
    ) -> tuple[GenerationResult, float | None]:
        """`_generate` once `gate` has a free place (None: at once); not asked at all while
        `health` has the model's endpoint paused, and the answer counted in `health`."""
        if gate is None:
            return self._generate(position, entry, params, messages, state, recorder, listener, cancel, sequences)
        if health is not None and (pause := health.paused(gate)) is not None:
            return GenerationResult(finish_reason=FINISH_STOPPED, error=f"{NOT_ASKED}{pause}"), None
        with self.lanes.place(gate, cancel) as placed:
            if not placed:
                return GenerationResult(finish_reason=FINISH_STOPPED, error=NOT_STARTED), None
            if health is not None and (pause := health.paused(gate)) is not None:  # paused while this one waited
                return GenerationResult(finish_reason=FINISH_STOPPED, error=f"{NOT_ASKED}{pause}"), None
            result, load_s = self._generate(position, entry, params, messages, state, recorder, listener, cancel, sequences)
        if health is not None and (pause := health.report(gate, result)) is not None:
            _call(listener, "problem", pause)
        return result, load_s

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
        sequences: int = 1,
    ) -> tuple[GenerationResult, float | None]:
        _call(listener, "model_status", position, "loading…")
        load_started = time.perf_counter()
        try:
            model = load_model(self.pool, entry, params, cancel, sequences)
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


def _sequences(chosen: list[int], entries: list[ModelEntry], contenders: list[Contender]) -> list[int]:
    """How many sequences each position's model process is made for: its contender's, or,
    when several of the positions asked hold the same local model with the same load
    settings, at least their number, so one process answers them together."""
    same: dict[tuple[str, Any], list[int]] = {}
    for i in chosen:
        if not entries[i].remote:
            same.setdefault((str(entries[i].path), contenders[i].params.load_settings()), []).append(i)
    together = {i: len(group) for group in same.values() for i in group}
    return [max(c.sequences, together.get(i, 1)) for i, c in enumerate(contenders)]


def _at_once(jobs: Sequence[Callable[[], None]]) -> None:
    """Run `jobs` together, the first on this thread, and return when all are done."""
    if not jobs:
        return
    threads = [threading.Thread(target=job, name=f"model-{n}", daemon=True) for n, job in enumerate(jobs[1:], 1)]
    for thread in threads:
        thread.start()
    jobs[0]()
    for thread in threads:
        thread.join()


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

    def reasoning(self, chunks: list[str]) -> None:
        self._deliver([(REASONING, chunk) for chunk in chunks])

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
