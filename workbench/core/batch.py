"""Batches: every prompt of a set asked of several models, flagged, resumable.

A batch is a prompt set (filtered by topic and language, limited to N
questions) times chosen models. Each prompt is one `Comparison.run` of all the
models in order, so a batch is made of ordinary runs that the panes, search
and annotations already understand; models stay loaded in the workspace's
pool from one prompt to the next.

Durability: the batch and all its items are written before the first prompt
runs. Each response is flagged and its flags stored as soon as it finishes,
by the comparison itself (core/flagging.py, as for every answer), with the
prompt set's language; once every model of a prompt has finished, the run's
divergence score is stored and the item marked done. Whatever stops the
batch (pause, cancel, Ctrl+C, a crash, a power cut), `resume(batch_id)` runs
only the items not marked done. A prompt interrupted halfway is resumed in the
run that asked it (the item's `asking_run_id`, written when the run is
created): only the models without a finished answer there are asked, in their
own response's place (`Comparison.ask_again`), so no endpoint is paid twice
and each prompt keeps one answer per model in one run.

Follow-ups: a prompt-set entry's scripted follow-ups (`then`) are asked after
its prompt, in order, through `Comparison.follow_up`, each model continuing
its own conversation in the item's run. The item is done after the last one.
A resume continues a conversation whose first turn is complete: the
follow-ups answered completely are not asked again, and the turn of one that a
stop, a paused endpoint or a crash cut short is resumed in place as the first
turn is, continuing from the last complete turn. A pause takes effect
between turns too. Divergence and the batch's rates describe the
prompt's own answers (turn 0); the follow-ups' rates are counted apart
(analysis/summary.py).

Concurrency: a batch has several prompts in flight, as many as its widest lane
(lanes.py): an endpoint's concurrency, and for local models the batch's
`sequences` (saved in its settings under SEQUENCES; 1, one prompt at a time, for
batches made before): each local model is loaded for that many sequences and
decodes that many prompts' answers together in one context (engine/sequences.py).
The lanes keep local models one at a time (a model's sequences together) and
each endpoint within its limit. `auto_sequences` chooses the number when the
user leaves it to the workbench. An endpoint that keeps failing is paused for the run
(lanes.EndpointHealth): its model's answers to the prompts left are recorded
as not asked (stopped, not failed), those prompts stay to do, the other
prompts go on, and the batch ends paused; a resume asks them of that model only.

Like `Comparison.run`, `run` and `resume` block; they report to a listener
from the threads asking the prompts, one call at a time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .catalog import ModelEntry
from .comparison import SEQUENTIAL, Comparison, ComparisonListener, Contender, ResponseOutcome, RunOutcome, estimate_memory
from .engine.backend import FINISH_STOPPED
from .engine.cancel import Cancel
from .engine.params import MAX_THREADS, GenerationParams, all_cores
from .errors import EnvironmentProblem
from .flagging import answers_divergence, flaggable, run_divergence
from .lanes import EndpointHealth
from .notebook.batches import (
    CANCELLED,
    DONE,
    ITEM_DONE,
    PAUSED,
    RUNNING,
    Batch,
    BatchItem,
    BatchModel,
    NewItem,
)
from .notebook.labels import Label
from .prompts import PromptSet, PromptSetProblem
from .user_files import open_input

if TYPE_CHECKING:
    from .analysis import FlagReport
    from .notebook import Notebook

NOT_ASKED = "pending"  # a matrix cell's status before its prompt is answered

# The key of a batch's settings (beside GenerationParams' own) that says how many of its
# prompts each local model answers at once; absent in batches made before: 1.
SEQUENCES = "sequences"
# At most this many at once, whatever the user asks: llama.cpp allows 256, but past a
# few dozen a step's matrices stop getting cheaper per token on a CPU.
MAX_SEQUENCES = 64
# What "auto" chooses at most: beyond 8, a 2-to-8-core machine gains little (docs/benchmarks.md).
AUTO_SEQUENCES = 8


def auto_sequences(entries: list[ModelEntry], params: GenerationParams, budget_bytes: int, prompts: int) -> int:
    """How many prompts a batch's local models answer at once when the user leaves it to
    the workbench: up to AUTO_SEQUENCES, no more than the batch has prompts, and only as many
    as the memory budget holds the weights and KV cache (a context each) of its largest
    local model. A batch of endpoints only: 1 (their servers batch on their own)."""
    local = [e for e in entries if not e.remote]
    if not local:
        return 1
    chosen = max(1, min(AUTO_SEQUENCES, prompts))
    while chosen > 1 and any(estimate_memory(e, params.n_ctx * chosen) > budget_bytes for e in local):
        chosen -= 1
    return chosen


def check_sequences(sequences: int) -> int:
    """`sequences` if a batch can use it; else ValueError with what to do."""
    if isinstance(sequences, bool) or not isinstance(sequences, int) or not 1 <= sequences <= MAX_SEQUENCES:
        raise ValueError(f"sequences at once must be a whole number from 1 to {MAX_SEQUENCES}, not {sequences!r}")
    return sequences


def batch_sequences(batch: Batch) -> int:
    """How many prompts the batch answers at once, as recorded (1 for a batch made before,
    or one whose recorded number this version does not run)."""
    value = batch.settings.get(SEQUENCES, 1)
    try:
        return check_sequences(value)
    except ValueError:
        return 1


class BatchModelMissing(EnvironmentProblem):
    """A model of a batch being resumed is no longer where the catalog can find it."""


class BatchSettingsRefused(EnvironmentProblem):
    """A batch's recorded sampling settings are outside what this version runs (an
    older version stored them): resuming with other values would mix answers that
    can't be compared, so the batch is not resumed."""


@dataclass(frozen=True)
class Progress:
    """Where a batch stands. `eta_s` is None until one item has been timed in this session."""

    done: int
    total: int
    elapsed_s: float
    seconds_per_item: float | None

    @property
    def eta_s(self) -> float | None:
        if self.seconds_per_item is None:
            return None
        return self.seconds_per_item * (self.total - self.done)


@dataclass(frozen=True)
class FollowUpOutcome:
    """One scripted follow-up of an item, asked of every model in the item's run:
    `number` counts the item's follow-ups from 1, `turn` is the run's turn that holds it."""

    number: int
    turn: int
    prompt: str
    flags: tuple[tuple[str, ...], ...]
    finish_reasons: tuple[str, ...]
    complete: bool
    unsaved: str | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """One prompt's run: the flags of each model's answer to the prompt (by pane), the
    follow-ups asked this time, and whether the item is complete (every turn answered)."""

    item: BatchItem
    run_id: int
    flags: tuple[tuple[str, ...], ...]
    finish_reasons: tuple[str, ...]
    divergence: float | None
    complete: bool
    duration_s: float
    # Why the notebook lacks part of this prompt's run (then it is not complete, and the
    # batch pauses: the next prompt would meet the same full or locked notebook).
    unsaved: str | None = None
    follow_ups: tuple[FollowUpOutcome, ...] = ()


@dataclass
class BatchResult:
    """What one call of run/resume did: the batch as it now stands and the items it ran."""

    batch: Batch
    ran: list[ItemOutcome] = field(default_factory=list)


class BatchListener(Protocol):
    """Progress reports, called from the batch's thread. Every method is optional: a
    listener that has only some subclasses this one, and the rest do nothing."""

    def batch_started(self, batch: Batch, items: list[BatchItem]) -> None:
        return None

    def item_started(self, item: BatchItem, progress: Progress) -> None:
        return None

    def run_created(self, item: BatchItem, run_id: int) -> None:
        return None

    def response_finished(self, item: BatchItem, outcome: ResponseOutcome, flags: tuple[str, ...]) -> None:
        """An answer to the item's prompt (its first turn)."""
        return None

    def follow_up_started(self, item: BatchItem, number: int, total: int) -> None:
        """The item's follow-up `number` of `total` is being asked."""
        return None

    def follow_up_response_finished(self, item: BatchItem, number: int, outcome: ResponseOutcome, flags: tuple[str, ...]) -> None:
        """An answer to the item's follow-up `number`."""
        return None

    def item_finished(self, outcome: ItemOutcome, progress: Progress) -> None:
        return None

    def problem(self, problem: EnvironmentProblem) -> None:
        return None


def _call(listener: Any, name: str, *args: Any) -> None:
    method = getattr(listener, name, None)
    if method is not None:
        method(*args)


def _recorded_params(batch: Batch) -> tuple[GenerationParams, EnvironmentProblem | None]:
    """The settings the batch was recorded with, and a note for the user if one
    was changed. The thread count doesn't change the answers, so one this version
    refuses (an older version allowed more than MAX_THREADS) becomes this
    machine's; any other setting out of range refuses the whole resume
    (BatchSettingsRefused)."""
    settings, note = dict(batch.settings), None
    threads = settings.get("n_threads", 1)
    if not (isinstance(threads, int) and not isinstance(threads, bool) and 1 <= threads <= MAX_THREADS):
        settings["n_threads"] = all_cores()
        note = EnvironmentProblem(
            f"batch {batch.id} was recorded with {threads!r} threads, which this version doesn't run (1 to {MAX_THREADS}); "
            f"using this machine's {settings['n_threads']} instead (the thread count doesn't change the answers)."
        )
    try:
        return GenerationParams.from_dict(settings), note
    except ValueError as exc:
        raise BatchSettingsRefused(
            f"Batch {batch.id} was recorded with settings this version refuses ({exc}), so it can't be resumed as recorded: "
            "its answers would not be comparable. Start a new batch from its prompt set instead."
        ) from None


def file_sha256(path: Path | None) -> str | None:
    """The set file's hash, so a result can be traced to the exact questions asked."""
    if path is None:
        return None
    try:
        with open_input(path) as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:  # changed since it was read a moment ago
        raise PromptSetProblem(f"Can't read the prompt set {path}: {exc.strerror or exc}.") from exc


class BatchRunner:
    """Runs batches through one Comparison (and so one notebook and one model pool)."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.batches = comparison.notebook.batches

    def create(
        self,
        prompt_set: PromptSet,
        entries: list[ModelEntry],
        params: GenerationParams,
        *,
        topics: Iterable[str] | None = None,
        languages: Iterable[str] | None = None,
        limit: int | None = None,
        sequences: int | None = 1,
    ) -> Batch:
        """Record a new batch and its items (nothing runs yet). Raises
        PromptSetProblem for an unknown topic or language, ModelFileProblem for
        a model file that can't be hashed; an empty selection is a PromptSetProblem too.
        `sequences`: how many prompts each local model answers at once (None: chosen by
        `auto_sequences`, as the front ends do by default); the number used is saved in
        the batch's settings."""
        if not entries:
            raise ValueError("a batch needs at least one model")
        topics = sorted(set(topics)) if topics else None
        languages = sorted(set(languages)) if languages else None
        prompts = prompt_set.select(topics=topics, languages=languages, limit=limit)
        if not prompts:
            raise PromptSetProblem(f"No prompt of set '{prompt_set.id}' passes these filters.")
        hashed = [self.comparison.catalog.ensure_sha256(e) for e in entries]
        if sequences is None:
            sequences = auto_sequences(hashed, params, self.comparison.pool.budget_bytes, len(prompts))
        settings = params.to_dict() | {SEQUENCES: check_sequences(sequences)}
        return self.batches.create(
            prompt_set_id=prompt_set.id,
            prompt_set_title=prompt_set.title,
            prompt_set_path=str(prompt_set.path) if prompt_set.path else None,
            prompt_set_sha256=file_sha256(prompt_set.path),
            filters={"topics": topics, "languages": languages, "limit": limit},
            models=[BatchModel(e.sha256 or "", e.name, str(e.path), e.id) for e in hashed],
            settings=settings,
            items=[NewItem(p.id, p.topic, p.kind, p.language, p.translation_of, p.text, p.then) for p in prompts],
        )

    def entries_for(self, batch: Batch) -> list[ModelEntry]:
        """The catalog entries of a batch's models, found by path or id and checked by SHA-256."""
        catalog = self.comparison.catalog
        found = []
        for model in batch.models:
            candidates = [e for e in catalog.entries() if e.id == model.catalog_id or str(e.path) == model.path]
            if Path(model.path).is_file():
                candidates.insert(0, catalog.resolve(Path(model.path)))
            match = next((e for e in (catalog.ensure_sha256(c) for c in candidates if c.ok) if e.sha256 == model.sha256), None)
            if match is None:
                raise BatchModelMissing(
                    f"Batch {batch.id} used {model.name} (SHA-256 {model.sha256[:12]}…, last at {model.path}), "
                    "which is no longer there. Put the file back, or add its folder with --folder, and resume again."
                )
            found.append(match)
        return found

    def run(
        self,
        batch_id: int,
        *,
        entries: list[ModelEntry] | None = None,
        listener: BatchListener | None = None,
        cancel: Cancel | None = None,
        pause: threading.Event | None = None,
    ) -> BatchResult:
        """Run every item of the batch not yet done (so this is also resume).

        Between prompts, a set `pause` stops the batch as `paused` and a set
        `cancel` as `cancelled`; `cancel` also stops the models mid-answer
        (that prompt stays to do). Either way the batch resumes later with
        another call. `entries` defaults to the batch's models, found again in
        the catalog.
        """
        cancel = cancel or Cancel()
        pause = pause or threading.Event()
        batch = self.batches.get(batch_id)
        if entries is None:
            entries = self.entries_for(batch)
        params, note = _recorded_params(batch)
        sequences = batch_sequences(batch)
        contenders = [Contender(e, params, sequences) for e in entries]
        items = self.batches.items(batch_id)
        todo = [item for item in items if item.status != ITEM_DONE]
        result = BatchResult(batch)
        if not todo:
            self.batches.set_status(batch_id, DONE)
            result.batch = self.batches.get(batch_id)
            return result
        self.batches.set_status(batch_id, RUNNING)
        listener = _OneAtATime(listener)
        _call(listener, "batch_started", self.batches.get(batch_id), items)
        if note is not None:  # after batch_started, which clears the window's last notice
            _call(listener, "problem", note)
        flight = _Flight(todo, len(items) - len(todo), len(items))
        health = EndpointHealth()
        lanes = [self.comparison.lanes.lane(e) for e in entries]

        def work() -> None:
            # Once every model's endpoint is paused, no prompt is started only to record that
            # nobody was asked: the rest are left to a resume.
            while (item := flight.next_item(cancel, pause, all(health.paused(lane) for lane in lanes))) is not None:
                _call(listener, "item_started", item, flight.progress())
                try:
                    outcome = self._run_item(item, contenders, listener, cancel, pause, health)
                except BaseException as exc:  # noqa: BLE001 - handed to the batch's own thread, which raises it
                    flight.failed(exc)
                    return
                flight.finished(outcome, cancel, pause)
                result.ran.append(outcome)
                _call(listener, "item_finished", outcome, flight.progress())

        # As many prompts in flight as the widest lane lets through (lanes.py): the batch's
        # sequences for local models, up to an endpoint's concurrency for remote ones.
        width = max(lane.width if lane.endpoint is not None else sequences for lane in lanes)
        helpers = [threading.Thread(target=work, name=f"batch-{n}", daemon=True) for n in range(1, min(width, len(todo)))]
        for helper in helpers:
            helper.start()
        work()
        for helper in helpers:
            helper.join()
        if flight.error is not None:
            raise flight.error
        self.batches.set_status(batch_id, flight.status(cancel, pause))
        result.batch = self.batches.get(batch_id)
        return result

    def _run_item(
        self,
        item: BatchItem,
        contenders: list[Contender],
        listener: Any,
        cancel: Cancel,
        pause: threading.Event,
        health: EndpointHealth | None = None,
    ) -> ItemOutcome:
        """Ask the item's prompt (unless a resume finds its first turn complete), then each
        of its follow-ups not yet answered, in order, in the same run."""
        began = time.perf_counter()
        batches = self.batches
        if item.conversation_run_id is None:
            if item.asking_run_id is not None and self.comparison.notebook.run(item.asking_run_id) is not None:
                # Resumed: only the answers its run lacks are asked, in that run.
                first = self._ask_again(item, item.asking_run_id, contenders, listener, cancel, health)
            else:
                first = self._ask_prompt(item, contenders, listener, cancel, health)
            if not first.complete:
                return _item_outcome(item, first, [], began, complete=False, unsaved=first.unsaved)
            run_id = first.run_id
            if item.follow_ups:
                batches.start_conversation(item.id, run_id, divergence=first.divergence, divergence_detail=first.divergence_detail)
                item = batches.item(item.id)
        else:  # a resumed conversation: its first turn is on record
            run_id = item.conversation_run_id
            answers = batches.turn_answers(run_id, 0)
            first = _FirstTurn(run_id, tuple(f for _, f in answers), tuple(r or "" for r, _ in answers), item.divergence, item.divergence_detail)
        asked: list[FollowUpOutcome] = []
        cut = self._cut_follow_up(item, run_id)
        for text in item.follow_ups_left:
            number = len(item.follow_up_turns) + 1
            if cancel.is_set() or pause.is_set():
                return _item_outcome(item, first, asked, began, complete=False)
            _call(listener, "follow_up_started", item, number, len(item.follow_ups))
            outcome = self._ask_follow_up(item, number, text, run_id, contenders, listener, cancel, health, cut)
            cut = None
            asked.append(outcome)
            if not outcome.complete:
                return _item_outcome(item, first, asked, began, complete=False, unsaved=outcome.unsaved)
            batches.answer_follow_up(item.id, outcome.turn)
            item = batches.item(item.id)
        batches.finish_item(
            item.id,
            run_id,
            divergence=first.divergence,
            divergence_detail=first.divergence_detail,
            duration_s=time.perf_counter() - began,
        )
        return _item_outcome(batches.item(item.id), first, asked, began, complete=True)

    def _cut_follow_up(self, item: BatchItem, run_id: int) -> int | None:
        """The turn of the item's run that asked its next follow-up and was cut short (a stop,
        a paused endpoint, a crash), to be asked again in place; None if there is none."""
        if not item.follow_ups_left:
            return None
        run = self.comparison.notebook.run(run_id)
        latest = run["turns"][-1] if run else None
        answered = item.follow_up_turns[-1] if item.follow_up_turns else 0
        if latest is None or latest["turn"] <= answered or latest["prompt"] != item.follow_ups_left[0]:
            return None
        return int(latest["turn"])

    def _ask_prompt(self, item: BatchItem, contenders: list[Contender], listener: Any, cancel: Cancel, health: EndpointHealth | None) -> _FirstTurn:
        """The item's own prompt, in a new run: its answers' flags and divergence."""
        batches = self.batches

        class Relay(_FirstTurnRelay):
            def run_created(self, run_id: int, response_ids: list[int]) -> None:
                batches.start_asking(item.id, run_id)
                _call(listener, "run_created", item, run_id)

        relay = Relay(item, listener)
        run = self.comparison.run(
            item.prompt, contenders, schedule=SEQUENTIAL, listener=relay, cancel=cancel, prompt_language=item.language, health=health
        )
        reports = relay.reports
        score = run_divergence([reports[p] for p in sorted(reports)])
        unsaved = _unsaved(run)
        return _FirstTurn(
            run.run_id,
            tuple(reports[p].flags if p in reports else () for p in range(len(contenders))),
            tuple(r.result.finish_reason for r in run.responses),
            score.score if score else None,
            score.to_json() if score else None,
            complete=_complete(run, unsaved),
            unsaved=unsaved,
        )

    def _ask_again(
        self, item: BatchItem, run_id: int, contenders: list[Contender], listener: Any, cancel: Cancel, health: EndpointHealth | None
    ) -> _FirstTurn:
        """The item's prompt resumed in the run that asked it: only the models whose answer
        there is not finished are asked (`Comparison.ask_again`); the divergence is scored
        over every finished answer of the run, those kept and those asked now."""
        relay = _FirstTurnRelay(item, listener)
        _call(listener, "run_created", item, run_id)
        run = self.comparison.ask_again(run_id, 0, contenders, listener=relay, cancel=cancel, prompt_language=item.language, health=health)
        reports = relay.reports
        unsaved = _unsaved(run)
        stored = self.comparison.notebook.run(run_id)
        responses = stored["responses"] if stored else []
        answers = self.batches.turn_answers(run_id, 0)
        asked_now = {o.position for o in run.responses}
        kept = [(r["text"] or "", answers[p][1]) for p, r in enumerate(responses) if p not in asked_now and flaggable(r["finish_reason"])]
        scored = [(report.answer, report.flags) for report in reports.values()] + kept
        score = answers_divergence(scored)
        return _FirstTurn(
            run_id,
            tuple(flags for _, flags in answers),
            tuple(reason or "" for reason, _ in answers),
            score.score if score else None,
            score.to_json() if score else None,
            complete=_complete(run, unsaved),
            unsaved=unsaved,
        )

    def _ask_follow_up(
        self,
        item: BatchItem,
        number: int,
        text: str,
        run_id: int,
        contenders: list[Contender],
        listener: Any,
        cancel: Cancel,
        health: EndpointHealth | None,
        cut: int | None = None,
    ) -> FollowUpOutcome:
        """Follow-up `number` of the item, continuing its conversation from the last turn
        answered completely. A turn `cut` short that asked it is asked again in place, only
        of the models it lacks an answer from (`Comparison.ask_again`)."""
        flags: dict[int, tuple[str, ...]] = {}

        class Relay(ComparisonListener):
            def response_finished(self, outcome: ResponseOutcome) -> None:
                flags[outcome.position] = outcome.flags.flags if outcome.flags else ()
                _call(listener, "follow_up_response_finished", item, number, outcome, flags[outcome.position])

            def problem(self, problem: EnvironmentProblem) -> None:
                _call(listener, "problem", problem)

        continue_from = item.follow_up_turns[-1] if item.follow_up_turns else 0
        if cut is None:
            run = self.comparison.follow_up(
                run_id, text, contenders, schedule=SEQUENTIAL, listener=Relay(), cancel=cancel, continue_from=continue_from, health=health
            )
            answers = [(r.result.finish_reason, flags.get(r.position, ())) for r in run.responses]
        else:
            run = self.comparison.ask_again(run_id, cut, contenders, listener=Relay(), cancel=cancel, continue_from=continue_from, health=health)
            answers = [(reason or "", tuple(names)) for reason, names in self.batches.turn_answers(run_id, cut)]
        unsaved = _unsaved(run)
        return FollowUpOutcome(
            number,
            run.turn,
            text,
            tuple(names for _, names in answers),
            tuple(reason for reason, _ in answers),
            _complete(run, unsaved),
            unsaved,
        )


class _FirstTurnRelay(ComparisonListener):
    """Keeps the flags of each answer to an item's prompt (the comparison stored them), by
    pane, and passes the news on to the batch's listener."""

    def __init__(self, item: BatchItem, listener: Any) -> None:
        self.item, self.listener = item, listener
        self.reports: dict[int, FlagReport] = {}

    def response_finished(self, outcome: ResponseOutcome) -> None:
        if outcome.flags is not None:
            self.reports[outcome.position] = outcome.flags
        _call(self.listener, "response_finished", self.item, outcome, outcome.flags.flags if outcome.flags else ())

    def problem(self, problem: EnvironmentProblem) -> None:
        _call(self.listener, "problem", problem)


class _OneAtATime:
    """A batch listener called from several prompts in flight, one call at a time: the
    front ends' listeners (a terminal's progress line, the window's signals) then need no
    locks of their own."""

    def __init__(self, listener: Any) -> None:
        self._listener = listener
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._listener, name, None)
        if method is None:
            return None

        def one_at_a_time(*args: Any) -> None:
            with self._lock:
                method(*args)

        return one_at_a_time


class _Flight:
    """The prompts of one batch run still to start, and how the run ends, shared by the
    threads that ask them. A prompt left incomplete by a Stop, a pause or a notebook that
    refused it ends the run (no further prompt starts); one left incomplete because its
    endpoint was paused (lanes.EndpointHealth) does not: the other models go on, and the
    batch ends paused, to resume."""

    def __init__(self, todo: list[BatchItem], done: int, total: int) -> None:
        self._todo = iter(todo)
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._ran = 0
        self.done, self.total = done, total
        self.ended: str | None = None  # PAUSED or CANCELLED once a prompt ended the run
        self.left = False  # a prompt was left to a resume (its endpoint paused, or not started)
        self.error: BaseException | None = None

    def next_item(self, cancel: Cancel, pause: threading.Event, all_paused: bool) -> BatchItem | None:
        with self._lock:
            if self.ended is not None or self.error is not None or cancel.is_set() or pause.is_set() or all_paused:
                self.left = self.left or next(self._todo, None) is not None
                return None
            return next(self._todo, None)

    def finished(self, outcome: ItemOutcome, cancel: Cancel, pause: threading.Event) -> None:
        with self._lock:
            self._ran += 1
            if outcome.complete:
                self.done += 1
            elif outcome.unsaved or cancel.is_set() or pause.is_set():
                # A pause between an item's turns leaves its conversation to continue, as a stop does.
                self.ended = self.ended or (PAUSED if outcome.unsaved or not cancel.is_set() else CANCELLED)
            else:
                self.left = True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.error = self.error or error

    def progress(self) -> Progress:
        with self._lock:
            elapsed = time.perf_counter() - self._started
            return Progress(self.done, self.total, elapsed, elapsed / self._ran if self._ran else None)

    def status(self, cancel: Cancel, pause: threading.Event) -> str:
        """The batch's status once every thread is done."""
        if self.ended is not None:
            return self.ended
        if not self.left:
            return DONE
        return CANCELLED if cancel.is_set() else PAUSED


@dataclass(frozen=True)
class _FirstTurn:
    """An item's first turn: what `ItemOutcome` reports of it, and whether it is complete."""

    run_id: int
    flags: tuple[tuple[str, ...], ...]
    finish_reasons: tuple[str, ...]
    divergence: float | None
    divergence_detail: dict[str, Any] | None
    complete: bool = True
    unsaved: str | None = None


def _unsaved(run: RunOutcome) -> str | None:
    """Why the notebook lacks part of a turn's answers, or None."""
    lacking = [r.unsaved for r in run.responses if r.unsaved is not None]
    return lacking[0].reason if lacking else None


def _complete(run: RunOutcome, unsaved: str | None) -> bool:
    """A turn is complete when no answer was stopped and all are saved (one that failed
    is complete: its failure is the answer, and its model is not asked the next turn)."""
    return FINISH_STOPPED not in (r.result.finish_reason for r in run.responses) and unsaved is None


def _item_outcome(
    item: BatchItem, first: _FirstTurn, asked: list[FollowUpOutcome], began: float, *, complete: bool, unsaved: str | None = None
) -> ItemOutcome:
    return ItemOutcome(
        item,
        first.run_id,
        first.flags,
        first.finish_reasons,
        first.divergence,
        complete,
        time.perf_counter() - began,
        unsaved,
        tuple(asked),
    )


@dataclass(frozen=True)
class Cell:
    """One model's answer to one prompt of a batch, as the Batches window's matrix shows it."""

    status: str  # NOT_ASKED, or the answer's finish reason (the window adds its own, e.g. "asking")
    flags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # by people, anyone's
    judged: tuple[str, ...] = ()  # by machine annotators (a model judge)


@dataclass
class BatchMatrix:
    """A batch's prompts by its models: what `read_matrix` found, then filled in live."""

    batch: Batch
    items: list[BatchItem]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (item id, model position)
    labels: dict[str, Label] = field(default_factory=dict)  # the notebook's label set, in order


def read_matrix(notebook: Notebook, batch_id: int) -> BatchMatrix:
    """The batch as the notebook has it: a cell per answer of its done items, with the
    answer's flags, people's labels and a judge's verdicts (each in the label set's order,
    so chips line up from cell to cell). Items not done have no cells: not asked yet.
    One query for the answers, so a window can reread it after every verdict."""
    batches = notebook.batches
    matrix = BatchMatrix(batches.get(batch_id), batches.items(batch_id), labels={label.name: label for label in notebook.labels.all()})
    item_of_run = {item.run_id: item.id for item in matrix.items if item.run_id is not None}
    for row in batches.responses(batch_id):
        if row["run_id"] in item_of_run:
            labelled = tuple(name for name in matrix.labels if name in row["labels"])
            judged = tuple(name for name in matrix.labels if name in row["machine_labels"])
            cell = Cell(row["finish_reason"] or NOT_ASKED, tuple(row["flags"]), labelled, judged)
            matrix.cells[(item_of_run[row["run_id"]], row["position"])] = cell
    return matrix
