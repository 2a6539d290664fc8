"""The workbench's own renderer for a model's chat template (the GGUF's Jinja).

llama-cpp-python's `Jinja2ChatFormatter` renders a template with a fixed set of
names, so a template's own switches (Qwen3's `enable_thinking`, gpt-oss's
`reasoning_effort`) can't be set through it. This renderer takes them as
`variables`, and otherwise renders as llama-cpp-python 0.3.36 and Hugging Face
transformers do, so a template gives the prompt its model was trained on:
trim_blocks and lstrip_blocks, the loopcontrols extension, `{% generation %}`
passed through, `raise_exception`, `strftime_now`, and a `tojson` that keeps
non-ASCII text as it is.

A chat template comes with a downloaded file, so it is untrusted code: it runs
only in Jinja's ImmutableSandboxedEnvironment, never a plain Environment
(CVE-2024-34359, where a GGUF's template ran Python through llama-cpp-python).
A template reaching for Python internals raises jinja2's SecurityError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
import jinja2.meta
import jinja2.nodes
import jinja2.parser
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRaised(jinja2.TemplateError):
    """The template refused the conversation itself, with `raise_exception(message)`
    (Gemma 3's, given a system message it does not accept, say). Its message is the
    template's own."""


class _PassGenerationTags(jinja2.ext.Extension):
    """Renders what is inside Hugging Face's `{% generation %}…{% endgeneration %}`
    (which marks the assistant's text for training) as if the tags were absent."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> list[jinja2.nodes.Node]:
        parser.stream.skip(1)
        body: list[jinja2.nodes.Node] = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return body


def _raise_exception(message: str) -> None:
    raise TemplateRaised(message)


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _environment() -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(
        loader=jinja2.BaseLoader(),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_PassGenerationTags, jinja2.ext.loopcontrols],
    )
    environment.filters["tojson"] = _tojson
    environment.globals["raise_exception"] = _raise_exception
    environment.globals["strftime_now"] = _strftime_now
    return environment


class ChatRenderer:
    """One model's chat template, compiled once (when the model loads, so a template
    that does not parse fails the load), then rendered for each conversation."""

    def __init__(self, template: str, *, bos_token: str, eos_token: str) -> None:
        environment = _environment()
        parsed = environment.parse(template)  # TemplateSyntaxError for a broken template
        self._template = environment.from_string(parsed)
        self.bos_token = bos_token
        self.eos_token = eos_token
        # Every name the template reads without setting it: which switches it has.
        self.reads: frozenset[str] = frozenset(jinja2.meta.find_undeclared_variables(parsed))

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        add_generation_prompt: bool = True,
        variables: Mapping[str, object] | None = None,
    ) -> str:
        """The prompt for `messages`, with `variables` (a template's own switches) set.
        The names every template relies on (messages, the BOS and EOS texts,
        add_generation_prompt, the tools) are the renderer's and can't be overridden by them."""
        context: dict[str, Any] = dict(variables or {})
        context.update(
            messages=[dict(message) for message in messages],
            bos_token=self.bos_token,
            eos_token=self.eos_token,
            add_generation_prompt=add_generation_prompt,
            # No tools offered, as llama-cpp-python says it: templates test `tools is not none`.
            functions=None,
            function_call=None,
            tools=None,
            tool_choice=None,
        )
        return self._template.render(context)


def render_chat(
    template: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    bos_token: str,
    eos_token: str,
    add_generation_prompt: bool = True,
    variables: Mapping[str, object] | None = None,
) -> str:
    """Render `template` once (compiling it each call: for one-off use and tests)."""
    renderer = ChatRenderer(template, bos_token=bos_token, eos_token=eos_token)
    return renderer.render(messages, add_generation_prompt=add_generation_prompt, variables=variables)
