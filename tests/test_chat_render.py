"""The app's own sandboxed chat-template renderer (core/engine/chat_render.py)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from llama_cpp import llama_chat_format

from gguf_factory import CHATML_TEMPLATE, HOSTILE_TEMPLATE, write_tiny_model
from workbench.core.engine.backend import FINISH_ERROR
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.chat_render import ChatRenderer, TemplateRaised, render_chat
from workbench.core.engine.params import LoadSettings
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import GenerationParams

TEMPLATES = Path(__file__).parent / "templates"
QUESTION = [{"role": "user", "content": "Is 221 prime?"}]


def render(template: str, messages=QUESTION, **variables: object) -> str:
    return render_chat(template, messages, bos_token="<s>", eos_token="</s>", variables=variables)


@pytest.mark.parametrize(
    "template",
    [
        HOSTILE_TEMPLATE,
        "{{ ''.__class__.__mro__ }}",
        "{{ messages.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% set x = messages.append({'role': 'x'}) %}",  # immutable: no changing the app's data
    ],
)
def test_a_hostile_template_is_refused_by_the_sandbox(template: str) -> None:
    with pytest.raises(SecurityError):
        render(template)


@pytest.mark.parametrize("template", ["{{ ''.__class__ }}", "{{ '{0.__class__}'.format(messages) }}", "{{ messages | attr('__class__') }}"])
def test_python_internals_read_as_nothing(template: str) -> None:
    assert render(template) == ""


def test_variables_reach_the_template() -> None:
    template = "{{ 'on' if enable_thinking else 'off' }} {{ reasoning_effort | default('medium') }}"
    assert render(template, enable_thinking=True, reasoning_effort="high") == "on high"
    assert render(template, enable_thinking=False) == "off medium"


def test_variables_cannot_replace_the_conversation() -> None:
    assert render("{{ messages[0]['content'] }}|{{ bos_token }}", messages=QUESTION, bos_token="X") == "Is 221 prime?|<s>"


def test_it_says_which_names_a_template_reads() -> None:
    renderer = ChatRenderer("{% set x = 1 %}{{ x }}{% if enable_thinking %}{{ bos_token }}{% endif %}", bos_token="", eos_token="")
    assert renderer.reads == {"enable_thinking", "bos_token"}


def test_renders_as_llama_cpp_python_does_for_the_real_templates() -> None:
    """The same prompt as llama-cpp-python's Jinja2ChatFormatter, which these templates
    were checked with before the workbench rendered them itself."""
    messages = [{"role": "system", "content": "Be brief. 简短。"}, *QUESTION, {"role": "assistant", "content": "No: 13 × 17."}, {"role": "user", "content": "Sure?"}]
    for path in sorted(TEMPLATES.glob("*.jinja")):
        if path.stem == "gemma-3":
            continue  # wants its system message as a list of parts
        template = path.read_text()
        theirs = llama_chat_format.Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")(messages=messages).prompt
        mine = render(template, messages=messages)
        if "strftime_now" in template:  # gpt-oss writes today's date: compare without it
            theirs, mine = theirs.split("Current date:")[0], mine.split("Current date:")[0]
        assert mine == theirs, path.name


def test_trims_blocks_keeps_non_ascii_json_and_loop_controls() -> None:
    template = (
        "{% for m in messages %}\n  {% if loop.index > 1 %}{% break %}{% endif %}\n"
        "{{ m | tojson }}\n{% endfor %}{% generation %}end{% endgeneration %}"
    )
    out = render(template, messages=[{"role": "user", "content": "中国"}, {"role": "user", "content": "x"}])
    assert out == json.dumps({"role": "user", "content": "中国"}, ensure_ascii=False) + "\nend"


def test_a_template_that_raises_says_its_own_message() -> None:
    with pytest.raises(TemplateRaised, match="roles must alternate"):
        render("{{ raise_exception('Conversation roles must alternate') }}")


def test_a_template_reading_a_missing_variable_names_it() -> None:
    with pytest.raises(UndefinedError, match="'foo' is undefined"):
        render("{{ foo.bar }}")


def test_a_template_that_does_not_parse_fails_when_compiled() -> None:
    with pytest.raises(TemplateSyntaxError):
        ChatRenderer("{% for m in messages %}", bos_token="", eos_token="")


def test_the_generation_prompt_can_be_left_off() -> None:
    renderer = ChatRenderer(CHATML_TEMPLATE, bos_token="", eos_token="")
    assert renderer.render(QUESTION).endswith("<|im_start|>assistant\n")
    assert renderer.render(QUESTION, add_generation_prompt=False).endswith("<|im_end|>\n")


# --- a template that fails on a conversation, in the model's process ---------------------


@pytest.mark.parametrize(
    "template, messages, says",
    [
        ("{{ foo.bar }}", QUESTION, "needs a variable the workbench does not supply ('foo' is undefined)"),
        (
            "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok",
            [{"role": "system", "content": "Be brief."}, *QUESTION],
            'refused this conversation, saying: "System role not supported"',
        ),
        # Gemma 3's real template wants a system message as a list of parts.
        ((TEMPLATES / "gemma-3.jinja").read_text(), [{"role": "system", "content": "Be brief."}, *QUESTION], "'str object' has no attribute 'text'"),
    ],
    ids=["missing-variable", "raise_exception", "gemma-3-string-system"],
)
def test_a_template_failing_on_a_conversation_says_why_and_the_model_stays_loaded(tmp_path: Path, template: str, messages, says: str) -> None:
    model = LocalModel(write_tiny_model(tmp_path / "m.gguf", name="Picky", chat_template=template), "Picky", LoadSettings(256, 1))
    model.start()
    try:
        sink = SimpleNamespace(started=lambda tokens, stream_format: None, text=lambda chunks: None)
        failed = model.generate(messages, GenerationParams(max_tokens=4, n_ctx=256, n_threads=1), sink, Cancel())
        assert failed.finish_reason == FINISH_ERROR
        assert failed.error.startswith("Picky: The model's chat template ") and says in failed.error
        assert model.alive
        if "foo" not in template:  # the model answers a conversation its template takes
            answered = model.generate(QUESTION, GenerationParams(max_tokens=4, n_ctx=256, n_threads=1), sink, Cancel())
            assert answered.error is None
    finally:
        model.close()
