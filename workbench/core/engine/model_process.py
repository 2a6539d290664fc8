"""A model's own process: its entry points, and the messages it and the parent exchange.

Each local model is loaded in a child process started with multiprocessing's
"spawn" method, never `python -m`, so it also starts from a frozen
(PyInstaller) app. When llama.cpp crashes natively (SIGSEGV, an abort from a
GGML_ASSERT) only this process dies; the parent sees the pipe close and
reports the signal.

Messages are tuples over a multiprocessing Connection. Every request carries the id
the parent gave it, so one process can answer several at once (engine/sequences.py's
scheduler, up to LoadSettings.sequences) and the parent's one reader hands each message
to the request it belongs to:

  parent -> child   ("generate", id, {"messages": [...], "params": {...}})
                    ("stop", id)                  end that answer (its text so far is kept)
                    The parent ends the process by killing it (LocalModel.close): it
                    holds nothing to save, and a clean exit took 0.1 s the user waited for.
  child -> parent   ("ready", info) | ("load_failed", reason)
                                               info: load_s, llama_cpp_version, chat_template, …,
                                               and what ran it (offload.py: backend, GPU layers)
                    ("started", id, {"prompt_tokens": n, "stream_format": name, "no_effect": [setting, ...]})
                                               name: formats.py's, for the parent's splitter;
                                               no_effect: switches.py's, the settings the template ignored
                    ("text", id, [piece, ...], held_s)
                                               streamed pieces, at most every SEND_INTERVAL_S;
                                               held_s: how long ago the newest was made
                    ("done", id, {"finish_reason": ..., "completion_tokens": n})
                    ("failed", id, reason)     the request failed; the model stays loaded

A stop is read between tokens and between a long prompt's chunks; one for a request
already finished is ignored.

The process loads its model and prepares requests with engine/worker.py and answers them
with engine/sequences.py's scheduler.
"""

from __future__ import annotations

import signal
from typing import Any

from .params import LoadSettings
from .sequences import Scheduler
from .worker import Inbox, describe_load_error, load_model, redirect_output


def serve(conn: Any, model_path: str, settings: LoadSettings, log_path: str) -> None:
    """Entry point of the child process: load, then answer requests until told to close
    (engine/sequences.py's scheduler: one at a time, or several at once in one context)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle.
    redirect_output(log_path)
    try:
        model, info = load_model(model_path, settings)
    except Exception as exc:  # noqa: BLE001 - any load failure is the file's, reported to the parent
        conn.send(("load_failed", describe_load_error(exc, model_path)))
        return
    conn.send(("ready", info))
    Scheduler(conn, Inbox(conn), model, settings).serve()


def serve_when_told(conn: Any) -> None:
    """Entry point of a spare model process (local.start_spare), started before its model
    is known: it imports what every model process needs (llama_cpp, the template
    sandbox, the scheduler; 0.2 s and more) while the parent gets on with its own start,
    then serves the model the parent names in ("load", path, settings, log path)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle.
    import llama_cpp  # noqa: F401 - imported now, while nobody waits for it

    from . import chat_render  # noqa: F401

    try:
        _, model_path, settings, log_path = conn.recv()
    except (EOFError, OSError):
        return  # the parent ended without a model to load
    serve(conn, model_path, settings, log_path)
