"""A scripted model for tests that only need text to arrive.

Like simonw/llm's MockModel: each request takes the next reply of a script and
streams it through the real `Backend` protocol (`sink.started`, `sink.text`,
`cancel`), so the comparison, batch, judge and flagging code run as they do
with llama, without a model process. Tests of llama itself (engine, worker,
templates, real crashes) keep the tiny GGUF models.

A reply is a string (streamed in two pieces, split anywhere, even inside
`<think>`), a list of pieces, or a `GenerationResult` returned as is, for a
failure (a `crashed` one also ends the backend, as a dead process does).
`stream_format` is the reasoning format the backend says its stream is in
(engine/formats.py), as a real model's process reads it from the template.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workbench.core.engine.backend import FINISH_CRASHED, FINISH_STOP, FINISH_STOPPED, Backend, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.formats import THINK
from workbench.core.engine.local import LoadCancelled
from workbench.core.engine.params import GenerationParams, LoadSettings

#: A scripted model's reply to a prompt: (model display name, prompt) -> reply.
Answer = Callable[[str, str], "str | list[str] | GenerationResult"]

#: Called before each answer with the 1-based request number and the request's cancel;
#: it may block (a test holding an answer mid-way) or set the cancel (a Stop mid-answer).
OnCall = Callable[[int, Cancel], None]


def pieces_of(reply: str | list[str]) -> list[str]:
    if isinstance(reply, list):
        return reply
    return [reply[: len(reply) // 2], reply[len(reply) // 2 :]]


class FakeBackend(Backend):
    """Answers each request with the next reply of `replies`, a list shared with whoever
    scripted it (a backend loaded again after a crash goes on where the last one stopped)."""

    def __init__(self, replies: list, on_call: OnCall | None = None, display_name: str = "Fake model", stream_format: str = THINK) -> None:
        self.replies = replies
        self.on_call = on_call
        self.display_name = display_name
        self.stream_format = stream_format
        self.prompts: list[str] = []
        self.conversations: list[list[dict]] = []  # every request's messages, whole
        self._alive = True
        # What a model process's "ready" says (engine/model_process.py); tests may add what ran it.
        self.ready_info: dict = {"engine": "fake"}

    @property
    def info(self) -> dict:
        return dict(self.ready_info)

    @property
    def alive(self) -> bool:
        return self._alive

    def generate(self, messages, params, sink, cancel) -> GenerationResult:
        self.prompts.append(messages[-1]["content"])
        self.conversations.append([dict(m) for m in messages])
        if self.on_call is not None:
            self.on_call(len(self.prompts), cancel)
        if cancel.is_set():
            return GenerationResult(finish_reason=FINISH_STOPPED, backend_info=self.info)
        reply = self.next_reply(messages[-1]["content"])
        if isinstance(reply, GenerationResult):
            if reply.finish_reason == FINISH_CRASHED:
                self._alive = False
            return reply
        sink.started(10, self.stream_format)
        sent: list[str] = []
        for piece in pieces_of(reply):
            if cancel.is_set():
                return GenerationResult(text="".join(sent), finish_reason=FINISH_STOPPED, backend_info=self.info)
            sink.text([piece])
            sent.append(piece)
        return GenerationResult(text="".join(sent), finish_reason=FINISH_STOP, prompt_tokens=10, completion_tokens=len(sent), backend_info=self.info)

    def next_reply(self, prompt: str) -> str | list[str] | GenerationResult:
        return self.replies.pop(0)

    def close(self) -> None:
        self._alive = False


class FakeLoader:
    """A `ModelPool` loader of fake backends: `ModelPool(loader=FakeLoader(...))`, or
    `Workspace(..., loader=FakeLoader(...))` (conftest's `scripted_workspace` fixture).
    `answer(model_name, prompt)` gives each request's reply; `on_call(n, cancel)`, if
    given, runs before each backend's n-th reply (a test holds a request there);
    `loaded` lists the backends built, in order."""

    def __init__(self, answer: Answer, on_call: OnCall | None = None, stream_format: str = THINK) -> None:
        self.answer = answer
        self.on_call = on_call
        self.stream_format = stream_format
        self.loaded: list[FakeBackend] = []

    def __call__(self, path: Path, display_name: str, settings: LoadSettings, cancel: Cancel | None) -> Backend:
        if cancel is not None and cancel.is_set():
            raise LoadCancelled(display_name)  # as a Stop during a real load
        backend = _AnsweringBackend(self.answer, display_name, self.on_call, self.stream_format)
        self.loaded.append(backend)
        return backend


class _AnsweringBackend(FakeBackend):
    """A fake backend whose script is a function of the model and the prompt."""

    def __init__(self, answer: Answer, display_name: str, on_call: OnCall | None = None, stream_format: str = THINK) -> None:
        super().__init__([], on_call, display_name=display_name, stream_format=stream_format)
        self.answer = answer

    def next_reply(self, prompt: str) -> str | list[str] | GenerationResult:
        return self.answer(self.display_name, prompt)


class ScriptedJudgeModel:
    """A `JudgeModel` handing out fake backends over one script (a new one after a crash)."""

    def __init__(self, name: str, replies: list, on_call: OnCall | None = None, params: GenerationParams | None = None) -> None:
        self.name = name
        self.params = params or GenerationParams(max_tokens=64, n_ctx=4096)
        self.replies = list(replies)  # one copy of the script, shared by every backend
        self.on_call = on_call
        self.opened = 0
        self.backends: list[FakeBackend] = []

    def open(self, cancel: Cancel) -> Backend:
        self.opened += 1
        backend = FakeBackend(self.replies, self.on_call, display_name="Scripted judge")
        self.backends.append(backend)
        return backend

    def close(self, backend: Backend) -> None:
        pass
