"""What a model's process does for it: load the file, read the parent's messages,
and turn a request into a prompt (rendered, tokenized, checked against the context).

engine/model_process.py is the process's entry and says what the messages are;
engine/sequences.py answers the prepared requests.

This module imports llama_cpp and jinja2 only inside the child.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..chat_template import chat_template, chat_template_sha256
from .formats import stream_format
from .offload import FLASH_ATTENTION, gpu_backends, llama_gpu_layers, offload_info
from .params import LoadSettings
from .stop_tokens import stop_token_ids
from .switches import template_variables

if TYPE_CHECKING:
    from .chat_render import ChatRenderer

# Streamed text goes to the parent at most this often; the first piece, and any
# piece after a quiet spell, at once. Every message wakes the parent, and on a
# small machine where this model's threads hold every core each wake-up takes
# time from them: with one message per token the app's reader thread spent
# about 100 ms of CPU on SmolLM2's 128 tokens, batched every 50 ms 14 to 26 ms
# (docs/benchmarks.md). The parent hands each message's pieces on in one go, so
# the window wakes once per message too (ui/runner.py), and each costs its GUI
# thread about 2 ms (adding the text, laying out its paragraph, repainting).
# Every 100 ms, the GUI thread took 25 ms of CPU a second while the starter
# pair streamed and the reader 4.7; every 200 ms, 19 and 2.9. Text still
# reaches the screen five times a second.
SEND_INTERVAL_S = 0.2

# Used when a GGUF has no chat template: ChatML is what most current
# instruction-tuned models were trained on (Qwen, SmolLM, Yi, InternLM...).
FALLBACK_CHAT_FORMAT = "chatml"

# Said when a template fails on a conversation it takes without its system message.
NO_SYSTEM_PROMPT = "Without the system prompt it can"


class Inbox:
    """The parent's messages, read when the process is ready for them: requests wait in
    order, stops are remembered by id, and the parent gone ends the serving.
    Looking for a stop between tokens costs one poll of the pipe, not a blocking read."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.waiting: deque[tuple[int, dict[str, Any]]] = deque()
        self._stops: set[int] = set()
        self.closed = False

    def take(self, block: bool) -> None:
        """Read every message already sent (and, with `block`, wait for one first)."""
        try:
            while not self.closed and (block or self._conn.poll()):
                block = False
                self._file(self._conn.recv())
        except (EOFError, OSError):
            self.closed = True  # The parent went away.

    def _file(self, message: tuple[Any, ...]) -> None:
        if message[0] == "generate":
            self.waiting.append((message[1], message[2]))
        elif message[0] == "stop":
            self._stops.add(message[1])

    def stopped(self, rid: int, read: bool = True) -> bool:
        """Whether request `rid` was told to stop: looked for in the pipe now (without
        blocking), or, `read` False, among the messages already taken. A stop that arrives
        after its request ended stays in the set: ids are never reused, so it means nothing."""
        if read:
            self.take(block=False)
        return rid in self._stops


def redirect_output(log_path: str) -> None:
    """llama.cpp writes diagnostics and GGML_ASSERT messages to fd 2, and on an
    abort a backtrace to fd 1. Keep them in a log the parent can quote when the
    process dies, instead of spraying them over the user's terminal or into a
    `--json` document on the parent's stdout."""
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


class _Model:
    def __init__(self, llama: Any, formatter: Any, template: str | None, stop_texts: list[str]) -> None:
        self.llama = llama
        self.formatter = formatter
        self.template = template  # None: the fallback format
        # The end-of-turn tokens' texts (stop_tokens.py), also stopped at as text: the
        # formatter's own text stop is the EOS token's, which for harmony may be <|end|>.
        self.stop_texts = stop_texts


def load_model(model_path: str, settings: LoadSettings) -> tuple[_Model, dict[str, Any]]:
    import llama_cpp

    backends = gpu_backends()
    started = time.perf_counter()
    with _sequences_context(settings.sequences):
        llama = llama_cpp.Llama(
            model_path=model_path,
            # One context share per sequence: llama.cpp gives each n_ctx / n_seq_max.
            n_ctx=settings.n_ctx * settings.sequences,
            n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads,
            n_gpu_layers=llama_gpu_layers(settings.gpu_layers, backends),
            flash_attn=FLASH_ATTENTION,
            verbose=False,
        )
    load_s = time.perf_counter() - started
    # llama.cpp offloads the model's blocks (MTP ones too) and its output layer.
    layers = llama_cpp.llama_model_n_layer(llama.model) + llama_cpp.llama_model_n_layer_nextn(llama.model) + 1
    template = chat_template(llama.metadata)
    stops: list[int] = []
    formatter: Any
    if template:
        stops = stop_token_ids(llama, template)
        # Built once here, so a template the sandbox can't even parse fails the load clearly.
        formatter = template_formatter(llama, template, stops)
        template_source = "gguf"
        template_sha256 = chat_template_sha256(template)
    else:
        formatter = _fallback_formatter
        template_source = f"fallback:{FALLBACK_CHAT_FORMAT}"
        template_sha256 = None
    stop_texts = [_token_text(llama, token) for token in stops]
    info = {
        "load_s": load_s,
        "llama_cpp_version": f"llama-cpp-python {llama_cpp.__version__}",
        "chat_template": template_source,
        "template_sha256": template_sha256,
        "n_ctx": llama.n_ctx(),
        "n_threads": settings.n_threads,
        "sequences": settings.sequences,
        "stop_tokens": stop_texts,  # none: the fallback format's own stop
        **offload_info(settings.gpu_layers, backends, layers),  # backend, GPU layers (offload.py)
    }
    return _Model(llama, formatter, template, stop_texts), info


@contextmanager
def _sequences_context(sequences: int) -> Iterator[None]:
    """`Llama` builds its context from llama.cpp's default context parameters and has no
    argument for the number of sequences (n_seq_max, 1 by default), so for a model made
    for several they are the defaults with that number, while it is built. The sequences'
    cells share one buffer (kv_unified): llama.cpp then computes a decode holding several
    sequences' tokens (sequences.py: steps and prompts together) in one pass, where with a
    buffer per sequence it splits it into one pass per run of consecutive seq ids and
    equal token counts; flash attention skips the cells of other sequences."""
    if sequences == 1:
        yield
        return
    import llama_cpp.llama_cpp as native

    defaults = native.llama_context_default_params

    def with_sequences() -> Any:
        params = defaults()
        params.n_seq_max = sequences
        params.kv_unified = True
        return params

    native.llama_context_default_params = with_sequences
    try:
        yield
    finally:
        native.llama_context_default_params = defaults


def _fallback_formatter(*, messages: list[dict[str, Any]], variables: dict[str, object] | None = None) -> Any:
    """llama-cpp-python's ChatML, for a file without a chat template: it has no switches."""
    from llama_cpp import llama_chat_format

    return llama_chat_format.format_chatml(messages=messages)


def template_formatter(llama: Any, template: str, stops: list[int]) -> TemplateFormatter:
    """The sandboxed formatter for `template` (chat_render.py), ending turns at `stops`."""
    from .chat_render import ChatRenderer

    eos = _token_text(llama, llama.token_eos())
    bos = _token_text(llama, llama.token_bos())
    return TemplateFormatter(ChatRenderer(template, bos_token=bos, eos_token=eos), stops)


class TemplateFormatter:
    """A model's chat template as a llama-cpp-python chat formatter, which can also set
    the template's own variables (its switches)."""

    def __init__(self, renderer: ChatRenderer, stops: list[int]) -> None:
        self.renderer = renderer
        self.stops = set(stops)

    def __call__(self, *, messages: list[dict[str, Any]], variables: dict[str, object] | None = None) -> Any:
        from llama_cpp import llama_chat_format

        # Its turn ends at self.stops, which the scheduler stops at as tokens.
        return llama_chat_format.ChatFormatterResponse(
            prompt=self.renderer.render(messages, variables=variables),
            stop=[self.renderer.eos_token],
            added_special=True,  # the template wrote the BOS text if the model wants one
        )


def _token_text(llama: Any, token: int) -> str:
    if token < 0:
        return ""
    text: str = llama.detokenize([token], special=True).decode("utf-8", errors="replace")
    return text


def describe_load_error(exc: Exception, model_path: str) -> str:
    name = os.path.basename(model_path)
    if type(exc).__name__ == "TemplateSyntaxError":
        return f"{name}: its chat template is not valid Jinja ({exc}); the file needs a fixed template."
    if type(exc).__name__ == "SecurityError":
        return f"{name}: its chat template tried to reach Python internals and was refused by the sandbox."
    text = str(exc)
    if "Failed to load model" in text:
        return (
            f"llama.cpp could not load {name}: the file is damaged, incomplete, or uses an "
            "architecture this llama.cpp does not know. Check the download or try a newer workbench."
        )
    return f"llama.cpp could not load {name}: {text}"


def _unformatted(render: Callable[[list[dict[str, Any]]], Any], messages: list[dict[str, Any]], exc: Exception) -> str:
    """Why the template could not format `messages`, and what to do. Some templates take
    a system message only in another shape, or not at all (Gemma 3's wants a list of parts
    and fails on the app's plain string): when the same conversation renders without it,
    the user is told to leave it out."""
    from jinja2.exceptions import TemplateError, UndefinedError

    from .chat_render import TemplateRaised

    if isinstance(exc, TemplateRaised):
        said = f'The model\'s chat template refused this conversation, saying: "{exc}".'
        fix = ""
    elif isinstance(exc, UndefinedError):
        what = (
            f"a variable the workbench does not supply ({exc})"
            if str(exc).endswith("is undefined")
            else f"something this conversation does not have ({exc})"
        )
        said = f"The model's chat template needs {what}, so it could not format this conversation."
        fix = " The model is still loaded: try another model, or a fixed copy of this one."
    else:
        said = f"The model's chat template could not format this conversation: {exc}."
        fix = ""
    if messages and messages[0].get("role") == "system":
        try:
            render(messages[1:])
        except (TemplateError, ValueError, TypeError):
            pass
        else:
            fix = f" {NO_SYSTEM_PROMPT}: run this model without one (it is still loaded)."
    return said + fix


@dataclass
class Prepared:
    """A request ready to decode: its prompt's tokens, where its answer stops, how many
    tokens it may write, and its sampling settings (the request's params)."""

    tokens: list[int]
    stop_texts: list[str]
    max_tokens: int
    params: dict[str, Any]


def prepare(conn: Any, model: _Model, rid: int, request: dict[str, Any], n_ctx: int) -> Prepared | None:
    """Render and tokenize request `rid` and tell the parent it started; None when it
    failed instead (the template refused it, or it does not fit `n_ctx`), said to the
    parent as "failed"."""
    from jinja2.exceptions import SecurityError, TemplateError

    params = request["params"]
    llama = model.llama
    reads = model.formatter.renderer.reads if isinstance(model.formatter, TemplateFormatter) else None
    variables, no_effect = template_variables(params, reads)

    def render(messages: list[dict[str, Any]]) -> Any:
        return model.formatter(messages=messages, variables=variables)

    try:
        formatted = render(request["messages"])
    except SecurityError:
        conn.send(
            (
                "failed",
                rid,
                "The model's chat template tried to reach Python internals and was refused by the sandbox; the file may be hostile. Use another copy of the model.",
            )
        )
        return None
    except (TemplateError, ValueError, TypeError) as exc:
        conn.send(("failed", rid, _unformatted(render, request["messages"], exc)))
        return None
    prompt_tokens = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
    room = n_ctx - len(prompt_tokens)
    if room < 1:
        conn.send(("failed", rid, too_long(len(prompt_tokens), n_ctx, request["messages"])))
        return None
    stop = model.stop_texts or (formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else [])
    conn.send(
        (
            "started",
            rid,
            {"prompt_tokens": len(prompt_tokens), "stream_format": stream_format(model.template, formatted.prompt), "no_effect": no_effect},
        )
    )
    return Prepared(prompt_tokens, stop, min(params["max_tokens"], room), params)


def completion_tokens(llama: Any, text: str, finish_reason: str, prepared: Prepared) -> int:
    """The answer's length in tokens, counted the same way on both paths.

    llama-cpp-python's stream does not report usage, and its context length differs by
    one depending on why generation ended; re-tokenizing the answer gives the count as
    the model's own tokenizer sees it. Stopped by the token limit, exactly that many were
    generated, whatever re-tokenizing the text says (it can differ by one or two)."""
    if finish_reason == "length":
        return prepared.max_tokens
    return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def too_long(tokens: int, n_ctx: int, messages: list[dict[str, str]]) -> str:
    """Why a request longer than the model's context fails: a prompt, or a conversation
    (a follow-up: more than one user turn), which only a new run or a larger context ends."""
    if sum(m.get("role") == "user" for m in messages) > 1:
        return f"The conversation is now {tokens} tokens, more than this model's context of {n_ctx}. Start a new run or raise the context size."
    return f"The prompt is {tokens} tokens, more than this model's context of {n_ctx}. Raise the context size or shorten the prompt."
