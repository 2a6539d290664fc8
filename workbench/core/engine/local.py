"""Local GGUF models, each in a process of its own (see `model_process`).

A model's process may answer several requests at once (loaded for several sequences,
engine/sequences.py), so `generate` may be called from several threads: each request
has an id, and one reader thread per process hands every message to its request's
queue. A request's thread sleeps on that queue until a message or its Stop arrives.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from ..errors import ModelProcessProblem
from .. import paths
from . import model_process
from .backend import (
    FINISH_CRASHED,
    FINISH_ERROR,
    FINISH_STOPPED,
    Backend,
    GenerationResult,
    StreamSink,
    decode_rate,
)
from .cancel import Cancel
from .params import GenerationParams, LoadSettings

# How long a model may take to notice a stop request before its process is
# ended. Between tokens it notices at once; only a long prompt being read can
# keep it busy.
STOP_GRACE_S = 1.0

_SPAWN = multiprocessing.get_context("spawn")

# A model process started before its model was known (start_spare), for the next
# LocalModel.start to take: (process, the parent's end of its pipe).
_spare: tuple[Any, Any] | None = None
_spare_lock = threading.Lock()


def start_spare() -> None:
    """Start a model process now, for the next model this process loads.

    A new model process spends its first 0.2 to 0.3 s starting Python and importing
    llama.cpp before it can read its file; started as a command begins, that overlaps
    the command's own imports and notebook writes (2 cores: both at once) and
    `workbench compare` answers that much sooner. Unused, it ends with this process."""
    global _spare
    with _spare_lock:
        if _spare is not None:
            return
        parent_conn, child_conn = _SPAWN.Pipe(duplex=True)
        process = _SPAWN.Process(target=model_process.serve_when_told, args=(child_conn,), name="workbench-model", daemon=True)
        process.start()
        child_conn.close()
        _spare = (process, parent_conn)


def _take_spare(path: Path, settings: LoadSettings, log_path: Path) -> tuple[Any, Any] | None:
    """The spare process, told to load `path`; None when there is none (or it died)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    process, conn = spare
    try:
        conn.send(("load", str(path), settings, str(log_path)))
    except OSError:  # it died waiting: a process of its own, then
        conn.close()
        process.kill()
        return None
    return spare


class LoadCancelled(Exception):
    """The user cancelled while the model was still loading."""


class LocalModel(Backend):
    """A GGUF file loaded by llama.cpp in a child process.

    `start()` spawns the process and waits for the model to load. A crash at
    any point ends only that process; `generate` then returns a result with
    finish_reason "crashed", the signal, and the text received so far.
    """

    def __init__(self, path: Path, display_name: str, settings: LoadSettings) -> None:
        self.path = Path(path)
        self.display_name = display_name
        self.settings = settings
        self._info: dict[str, Any] = {}
        self._process: Any = None
        self._conn: Any = None
        self._log_path = _log_path_for(self.path)
        # The requests being answered, by id: where the reader puts their messages.
        self._requests: dict[int, queue.SimpleQueue[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: threading.Thread | None = None
        self._gone = False  # the reader found the pipe closed: the process is gone
        self._lock = threading.Lock()  # the requests, the reader, the process's end
        self._send_lock = threading.Lock()  # one message on the pipe at a time
        # One thread at a time waits for the process to end: of two waiting at once (the
        # requests of a crashed process each asking why), one reaps it and the other is
        # told nothing, and its answer said "stopped answering" instead of the signal.
        self._reaping = threading.Lock()

    # --- lifecycle ------------------------------------------------------

    def start(self, cancel: Cancel | None = None) -> None:
        """Spawn the process (or take the spare one, start_spare) and wait until the
        model is loaded.

        Raises ModelProcessProblem when the file can't be loaded or the process
        dies while loading, LoadCancelled when `cancel` is set first.
        """
        spare = _take_spare(self.path, self.settings, self._log_path)
        if spare is not None:
            self._process, self._conn = spare
        else:
            parent_conn, child_conn = _SPAWN.Pipe(duplex=True)
            self._process = _SPAWN.Process(
                target=model_process.serve,
                args=(child_conn, str(self.path), self.settings, str(self._log_path)),
                name=f"workbench-model-{self.path.name}",
                daemon=True,
            )
            self._process.start()
            child_conn.close()
            self._conn = parent_conn
        cancel = cancel or Cancel()
        with _woken_by(cancel) as woken:
            while True:
                if cancel.is_set():
                    self._kill()
                    raise LoadCancelled(self.display_name)
                message = self._receive(None, woken)
                if message is _NOTHING:
                    continue
                if message is _GONE:
                    reason = self._death_reason()
                    self._kill()
                    raise ModelProcessProblem(f"{self.display_name} crashed ({reason}) while loading.{self._log_tail()}")
                if message[0] == "ready":
                    self._info = message[1]
                    return
                if message[0] == "load_failed":
                    self._kill()
                    raise ModelProcessProblem(message[1])

    @property
    def info(self) -> dict[str, Any]:
        return dict(self._info)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive() and self._conn is not None and not self._gone

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        """End the model process at once. It holds nothing to save, and letting it exit by
        itself (llama.cpp freeing the model, Python's teardown) took 0.1 s that a
        `workbench compare` waited for at its end."""
        self._kill()

    # --- generation -----------------------------------------------------

    def generate(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        sink: StreamSink,
        cancel: Cancel,
    ) -> GenerationResult:
        result = GenerationResult(backend_info=self.info)
        if not self.alive:
            result.finish_reason = FINISH_ERROR
            result.error = f"{self.display_name} is not loaded."
            return result
        box: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with self._lock:
            rid = next(self._ids)
            self._requests[rid] = box
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, args=(self._conn,), name=f"reader-{self.path.name}", daemon=True)
                self._reader.start()
        try:
            return self._answer(rid, box, messages, params, sink, cancel, result)
        finally:
            with self._lock:
                del self._requests[rid]

    def _answer(
        self,
        rid: int,
        box: queue.SimpleQueue[Any],
        messages: list[dict[str, str]],
        params: GenerationParams,
        sink: StreamSink,
        cancel: Cancel,
        result: GenerationResult,
    ) -> GenerationResult:
        pieces: list[str] = []
        sent_at = time.perf_counter()
        first_at = last_at = None
        stop_requested_at: float | None = None
        try:
            self._send(("generate", rid, {"messages": messages, "params": params.to_dict()}))
        except (OSError, ValueError, AttributeError):
            return self._crashed(result, pieces, "while starting an answer")
        with cancel.waking(lambda: box.put(_WOKEN)):
            while True:
                if cancel.is_set() and stop_requested_at is None:
                    stop_requested_at = time.perf_counter()
                    try:
                        self._send(("stop", rid))
                    except (OSError, ValueError, AttributeError):
                        pass  # gone already: the reader says so next
                if stop_requested_at is None:
                    message = box.get()
                else:
                    left = stop_requested_at + STOP_GRACE_S - time.perf_counter()
                    if left <= 0:
                        # Busy reading a long prompt: end the process rather than make the user
                        # wait, unless it answers others too, which would crash with it.
                        if self._alone(rid):
                            self._kill()
                        result.finish_reason = FINISH_STOPPED
                        break
                    try:
                        message = box.get(timeout=left)
                    except queue.Empty:
                        continue
                if message is _WOKEN:
                    continue
                if message is _GONE:
                    return self._crashed(result, pieces, "while generating", first_at, last_at, sent_at)
                arrived, message = message
                kind = message[0]
                if kind == "text":
                    last_at = arrived - message[3]  # when the newest piece was made
                    if first_at is None:
                        first_at = last_at
                    pieces.extend(message[2])
                    sink.text(message[2])
                elif kind == "started":
                    result.prompt_tokens = message[2]["prompt_tokens"]
                    result.no_effect = list(message[2].get("no_effect", []))
                    sink.started(result.prompt_tokens, message[2]["stream_format"])
                elif kind == "done":
                    result.finish_reason = message[2]["finish_reason"]
                    result.completion_tokens = message[2]["completion_tokens"]
                    break
                elif kind == "failed":
                    result.finish_reason = FINISH_ERROR
                    result.error = f"{self.display_name}: {message[2]}"
                    break
        result.text = "".join(pieces)
        _fill_timings(result, sent_at, first_at, last_at)
        return result

    # --- internals ------------------------------------------------------

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(message)

    def _read(self, conn: Any) -> None:
        """The reader thread: every message of the process, with when it arrived, to the
        queue of the request it names (one already given up on is dropped), then, once the pipe closes, the news
        that the process is gone to every request still waiting."""
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError, ValueError):
                break
            arrived = time.perf_counter()  # the answer's timings are taken here, not when its thread wakes
            with self._lock:
                box = self._requests.get(message[1])
            if box is not None:
                box.put((arrived, message))
        with self._lock:
            self._gone = True
            boxes = list(self._requests.values())
        for box in boxes:
            box.put(_GONE)

    def _alone(self, rid: int) -> bool:
        """Whether request `rid` is the only one this process is answering."""
        with self._lock:
            return list(self._requests) == [rid]

    def _receive(self, timeout: float | None, woken: Any = None) -> Any:
        """The model's next message, _GONE if its process is, or _NOTHING when
        `timeout` passes or `woken` becomes readable first."""
        try:
            if self._conn not in wait([self._conn] if woken is None else [self._conn, woken], timeout):
                return _NOTHING
            return self._conn.recv()
        except (EOFError, OSError, ValueError):
            return _GONE

    def _crashed(
        self, result: GenerationResult, pieces: list[str], when: str,
        first_at: float | None = None, last_at: float | None = None, sent_at: float | None = None,
    ) -> GenerationResult:
        reason = self._death_reason()
        self._kill()
        result.text = "".join(pieces)
        result.finish_reason = FINISH_CRASHED
        kept = f" The {len(result.text)} characters it wrote before are kept." if result.text else ""
        result.error = f"{self.display_name} crashed ({reason}) {when}.{kept}{self._log_tail()}"
        if sent_at is not None:
            _fill_timings(result, sent_at, first_at, last_at)
        return result

    def _death_reason(self) -> str:
        if self._process is None:
            return "not started"
        with self._reaping:
            self._process.join(timeout=1)
            code = self._process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown"
            return f"signal {-code}, {name}"
        return f"exit status {code}"

    def _log_tail(self, lines: int = 3) -> str:
        """The last lines llama.cpp printed, which usually name the failed assertion."""
        try:
            text = self._log_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return (" llama.cpp said: " + " | ".join(tail)[:400]) if tail else ""

    def _kill(self) -> None:
        """End the process (every request's thread that finds it gone calls this)."""
        with self._lock:
            process, conn, self._conn = self._process, self._conn, None
        with self._reaping:
            if process is not None and process.is_alive():
                process.kill()
                process.join(timeout=5)
        if conn is not None:
            conn.close()


_NOTHING = object()
_GONE = object()
_WOKEN = object()  # put in a request's queue by its Stop


@contextmanager
def _woken_by(cancel: Cancel) -> Iterator[Any]:
    """A connection that becomes readable once `cancel` is set, to wait on beside
    the model's pipe. Setting the cancel sends it an empty message."""
    readable, writable = _SPAWN.Pipe(duplex=False)

    def wake() -> None:
        try:
            writable.send_bytes(b"")
        except (OSError, ValueError):
            pass  # the wait already ended and closed it

    with readable, writable, cancel.waking(wake):
        yield readable


def _fill_timings(result: GenerationResult, sent_at: float, first_at: float | None, last_at: float | None) -> None:
    end = last_at if last_at is not None else time.perf_counter()
    result.duration_s = end - sent_at
    if first_at is not None:
        result.ttft_s = first_at - sent_at
    result.tokens_per_s = decode_rate(result.completion_tokens, first_at, last_at)


def _log_path_for(model_path: Path) -> Path:
    folder = paths.cache_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_path.stem[:80]}.log"
