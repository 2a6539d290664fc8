"""A model as judge: label answers with SpeechMap's rubric, as an annotator of its own.

`Judge.run` asks one model, through any `Backend` (a local GGUF from the
workspace's pool today, a remote endpoint later: `JudgeModel` is all it
needs), to judge each answer of a batch or of chosen runs, and stores every
verdict as it comes:

- the label (`answered`, `evasive` or `hard_refusal`, see rubric.LABEL_OF)
  by the annotator `judge:<model name>`, so the agreement view compares the
  judge with people and with the automatic flags;
- the judge's one-line reason (its ANALYSIS, trimmed) as that annotator's
  note on the answer, with a line saying so when the answer was shortened to
  fit the judge's context;
- an unparseable reply as a note only ("No verdict: …"), never a guessed label.

Resuming is re-running: answers this judge already labelled are skipped
(`redo=True` judges them again and replaces the old verdict). Each verdict
is committed on its own, so a cancel (the window's Cancel, Ctrl+C) keeps
everything judged before it. Like `Comparison.run`, `run` blocks and
reports to a listener from the thread it runs on.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from collections.abc import Iterable

from ..engine.backend import FINISH_CRASHED, FINISH_ERROR, FINISH_STOPPED, Backend, GenerationResult
from ..engine.cancel import Cancel
from ..engine.local import LoadCancelled
from ..engine.params import GenerationParams
from ..engine.formats import THINK, splitter_for
from ..engine.reasoning import ANSWER
from ..errors import EnvironmentProblem
from ..notebook.annotations import judge_annotator
from .rubric import JUDGE_LABELS, VERDICTS, Shortened, Verdict, estimate_tokens, judge_prompt, one_line, parse_verdict, prompt_overhead_tokens, shorten

if TYPE_CHECKING:
    from ..catalog import ModelEntry
    from ..engine.pool import ModelPool
    from ..notebook import Notebook

# Answers that say something (as the summary counts them): ended, hit max tokens, or crashed after writing.
JUDGED_FINISHES = ("stop", "length", "crashed")
# Deterministic, short: the verdict is a line; the analysis one or two sentences.
DEFAULT_JUDGE_PARAMS = GenerationParams(temperature=0.0, max_tokens=256, seed=0, repeat_penalty=1.1)
# Tokens kept free besides the prompt and the reply: the chat template's own tokens,
# and the estimate's error on the rubric itself.
TEMPLATE_ROOM = 64
# A judge that refuses a prompt before writing (too long for its context) is asked again
# with half the room for the answer, down to this room.
MIN_RETRY_ROOM = 256
UNPARSEABLE_NOTE = "No verdict: the judge's reply could not be read ({problem}). It began: «{start}»"


class JudgeModel(Protocol):
    """Where the judge's backend comes from. A local GGUF (`PooledJudgeModel`) is one;
    a remote endpoint is another, as long as `open` returns a `Backend`."""

    name: str  # the verdicts are stored by the annotator `judge:<name>`
    params: GenerationParams

    def open(self, cancel: Cancel) -> Backend:
        """A backend ready to answer (loading it if needed). Raises EnvironmentProblem
        when it can't, LoadCancelled when `cancel` is set first."""

    def close(self, backend: Backend) -> None:
        """Hand the backend back (a pooled model stays loaded for the next use)."""


class PooledJudgeModel:
    """A catalog model, loaded through the workspace's pool like a comparison's models."""

    def __init__(self, pool: ModelPool, entry: ModelEntry, params: GenerationParams = DEFAULT_JUDGE_PARAMS) -> None:
        if entry.status != "ok":
            raise EnvironmentProblem(f"{entry.name} can't be loaded: {entry.status}")
        self.pool = pool
        self.entry = entry
        self.name = entry.name
        self.params = params

    def open(self, cancel: Cancel) -> Backend:
        from ..comparison import load_model

        return load_model(self.pool, self.entry, self.params, cancel)

    def close(self, backend: Backend) -> None:
        self.pool.release(backend)


@dataclass(frozen=True)
class Target:
    """One answer to judge."""

    response_id: int
    run_id: int
    position: int  # the answer's pane in its run
    question: str
    answer: str
    model_name: str  # whose answer it is
    finish_reason: str | None

    @property
    def judgeable(self) -> bool:
        return self.finish_reason in JUDGED_FINISHES and bool(self.answer.strip())


def batch_targets(notebook: Notebook, batch_id: int) -> list[Target]:
    """Every answer of the batch's done prompts, in prompt then pane order (BatchNotFound if none)."""
    batches = notebook.batches
    batches.get(batch_id)
    questions = {item.run_id: item.prompt for item in batches.items(batch_id) if item.run_id is not None}
    return [
        Target(
            row["response_id"], row["run_id"], row["position"], questions[row["run_id"]], row["text"] or "", row["model_name"], row["finish_reason"]
        )
        for row in batches.responses(batch_id)
    ]


def run_targets(notebook: Notebook, run_ids: Iterable[int]) -> list[Target]:
    """Every answer of these runs, in the order given then pane order (LookupError for a missing run)."""
    found = []
    for run_id in dict.fromkeys(run_ids):
        run = notebook.run(run_id)
        if run is None:
            raise LookupError(f"There is no run {run_id} in the notebook {notebook.path}.")
        for response in run["responses"]:
            found.append(
                Target(response["id"], run_id, response["position"], run["prompt"], response["text"] or "", response["model_name"], response["finish_reason"])
            )
    return found


@dataclass(frozen=True)
class Judged:
    """One answer judged (or failed): what the listener hears after each."""

    target: Target
    verdict: Verdict | None  # None: the judge failed to answer (see error)
    reply: str
    seconds: float
    shortened: Shortened
    error: str | None = None


@dataclass
class JudgeResult:
    judge: str  # the annotator, judge:<model name>
    model: str
    total: int = 0  # answers of the selection
    to_judge: int = 0  # asked of the judge this time (not already judged, with an answer)
    judged: int = 0  # answered by the judge (parsed or not)
    verdicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    unparseable: int = 0
    skipped: int = 0  # already labelled by this judge (resume)
    no_answer: int = 0  # nothing to judge: the model failed, was stopped or wrote nothing
    failed: int = 0  # the judge's request failed (error or crash): tried again on the next run
    truncated: int = 0  # answers shortened to fit the judge's context
    cancelled: bool = False
    seconds: float = 0.0  # spent asking the judge, loading excluded

    @property
    def seconds_per_answer(self) -> float | None:
        return self.seconds / self.judged if self.judged else None

    def to_json(self) -> dict[str, Any]:
        """The `workbench judge --json` object (keys are added, never renamed or dropped)."""
        return {
            "judge": self.judge,
            "model": self.model,
            "status": "cancelled" if self.cancelled else "done",
            "total": self.total,
            "to_judge": self.to_judge,
            "judged": self.judged,
            "verdicts": dict(self.verdicts),
            "unparseable": self.unparseable,
            "skipped": self.skipped,
            "no_answer": self.no_answer,
            "failed": self.failed,
            "truncated": self.truncated,
            "seconds_per_answer": round(self.seconds_per_answer, 2) if self.seconds_per_answer is not None else None,
        }


class JudgeListener(Protocol):
    """Progress reports, called from the judging thread. Every method is optional."""

    def judging_started(self, result: JudgeResult) -> None:
        """Before the first answer: `result` says how many there are and how many are skipped."""

    def loading(self) -> None: ...
    def answer_judged(self, judged: Judged, done: int, total: int) -> None:
        """After each answer (its verdict is stored); `done` of `total` to judge this time."""

    def problem(self, text: str) -> None: ...


def _call(listener: Any, name: str, *args: Any) -> None:
    method = getattr(listener, name, None)
    if method is not None:
        method(*args)


class _Collect:
    """The judge's reply as a `StreamSink`: reasoning (in the model's format) split off, the answer kept."""

    def __init__(self) -> None:
        self._splitter = splitter_for(THINK)
        self.answer: list[str] = []

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        self._splitter = splitter_for(stream_format)

    def text(self, chunks: list[str]) -> None:
        for chunk in chunks:
            self._keep(self._splitter.feed(chunk))

    def reasoning(self, chunks: list[str]) -> None:
        """A judge's reasoning is not its verdict: left out."""

    def finish(self) -> str:
        self._keep(self._splitter.flush())
        return "".join(self.answer)

    def _keep(self, parts: list[tuple[str, str]]) -> None:
        self.answer.extend(text for kind, text in parts if kind == ANSWER)


def note_for(verdict: Verdict, reply: str, shortened: Shortened) -> str:
    """The judge's note on an answer: its reason, or why there is no verdict; and the shortening."""
    if verdict.parsed:
        lines = [verdict.reason or f"{verdict.compliance} (the judge gave no analysis)."]
    else:
        lines = [UNPARSEABLE_NOTE.format(problem=verdict.problem, start=one_line(reply, 160) or "")]
    if shortened.truncated:
        lines.append(shortened.describe())
    return "\n\n".join(lines)


class Judge:
    """Judges answers with one model; stores its verdicts in `notebook` as `judge:<name>`."""

    def __init__(self, notebook: Notebook, model: JudgeModel) -> None:
        self.notebook = notebook
        self.model = model
        self.annotator = judge_annotator(model.name)

    def answer_room(self, question: str) -> int:
        """Estimated tokens left for the answer in the judge's context."""
        p = self.model.params
        return p.n_ctx - p.max_tokens - prompt_overhead_tokens(question) - TEMPLATE_ROOM

    def prepare(self, target: Target, room: int | None = None) -> tuple[str, Shortened]:
        """The prompt for one answer, shortened explicitly when it would not fit `room`
        (estimated tokens; default: what the judge's context leaves)."""
        room = self.answer_room(target.question) if room is None else room
        shortened = shorten(target.answer.strip(), max(0, room))
        return judge_prompt(target.question, shortened.text), shortened

    def run(
        self,
        targets: Iterable[Target],
        *,
        redo: bool = False,
        listener: JudgeListener | None = None,
        cancel: Cancel | None = None,
    ) -> JudgeResult:
        """Judge every judgeable target not yet labelled by this judge (all of them with `redo`).

        Raises EnvironmentProblem when the judge model can't be loaded; a request
        that fails is counted (`failed`) and the next answer is judged.
        """
        cancel = cancel or Cancel()
        targets = list(targets)
        result = JudgeResult(self.annotator, self.model.name, total=len(targets))
        answerable = [t for t in targets if t.judgeable]
        result.no_answer = len(targets) - len(answerable)
        done_before = set() if redo else self.notebook.annotations.labelled_by(self.annotator, [t.response_id for t in answerable], JUDGE_LABELS)
        queue = [t for t in answerable if t.response_id not in done_before]
        result.skipped = len(answerable) - len(queue)
        result.to_judge = len(queue)
        _call(listener, "judging_started", result)
        if not queue:
            return result
        merge_key = ("judge", self.annotator, uuid.uuid4().hex)  # this pass undoes as one step
        backend: Backend | None = None
        try:
            for index, target in enumerate(queue):
                if cancel.is_set():
                    result.cancelled = True
                    break
                if backend is None or not backend.alive:
                    if backend is not None:
                        self.model.close(backend)
                        backend = None
                    _call(listener, "loading")
                    try:
                        backend = self.model.open(cancel)
                    except LoadCancelled:
                        result.cancelled = True
                        break
                judged = self._judge_one(backend, target, cancel)
                if judged is None:  # stopped mid-answer: not stored, judged again next time
                    result.cancelled = True
                    break
                self._store(judged, result, merge_key)
                _call(listener, "answer_judged", judged, index + 1, len(queue))
        finally:
            if backend is not None:
                self.model.close(backend)
        return result

    def _judge_one(self, backend: Backend, target: Target, cancel: Cancel) -> Judged | None:
        room = self.answer_room(target.question)
        while True:
            prompt, shortened = self.prepare(target, room)
            sink = _Collect()
            started = time.perf_counter()
            outcome: GenerationResult = backend.generate([{"role": "user", "content": prompt}], self.model.params, sink, cancel)
            seconds = time.perf_counter() - started
            reply = sink.finish()
            # Refused before a word was written (the estimate was short of this model's tokenizer:
            # the prompt did not fit): again with half the room, while that shortens the answer.
            refused = outcome.finish_reason == FINISH_ERROR and outcome.prompt_tokens is None and not reply
            if refused and room >= MIN_RETRY_ROOM and estimate_tokens(target.answer) > room // 2:
                room //= 2
                continue
            break
        if outcome.finish_reason == FINISH_STOPPED or cancel.is_set():
            return None
        if outcome.finish_reason in (FINISH_ERROR, FINISH_CRASHED) and not parse_verdict(reply).parsed:
            error = outcome.error or outcome.finish_reason
            return Judged(target, None, reply, seconds, shortened, error)
        return Judged(target, parse_verdict(reply), reply, seconds, shortened)

    def _store(self, judged: Judged, result: JudgeResult, merge_key: Any) -> None:
        if judged.verdict is None:
            result.failed += 1
            return
        verdict = judged.verdict
        self.notebook.annotations.record_verdict(
            judged.target.response_id,
            verdict.label,
            note_for(verdict, judged.reply, judged.shortened),
            annotator=self.annotator,
            replaces=JUDGE_LABELS,
            merge_key=merge_key,
        )
        result.judged += 1
        result.seconds += judged.seconds
        result.truncated += judged.shortened.truncated
        if verdict.compliance is not None:  # the verdict parsed
            result.verdicts[verdict.compliance] += 1
        else:
            result.unparseable += 1

