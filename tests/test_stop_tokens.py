"""A model stops at the end of its turn as its template writes it, not only at the
end-of-text id its GGUF names (stop_tokens.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import llama_cpp
import pytest

from gguf_factory import CHATML_TEMPLATE, write_tiny_model
from workbench.core.engine import worker
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.engine.stop_tokens import stop_token_ids

HARMONY_MARKERS = ("<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>", "<|call|>")
# Written by hand in the shape of gpt-oss's template: every earlier message ends with
# <|end|>, the reply is left open after <|start|>assistant; <|return|> is not written.
HARMONY_TEMPLATE = (
    "{% for m in messages %}<|start|>{{ m['role'] }}"
    "{% if m['role'] == 'assistant' %}<|channel|>final{% endif %}<|message|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant{% endif %}"
)


def vocab_of(path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)


def token(llama: llama_cpp.Llama, text: str) -> int:
    (found,) = llama.tokenize(text.encode(), add_bos=False, special=True)
    return found


@pytest.fixture
def yi_like(tmp_path: Path) -> Path:
    """Like Yi chat GGUFs: ChatML turns ending with <|im_end|>, <|endoftext|> named as EOS."""
    return write_tiny_model(tmp_path / "yi.gguf", extra_control_tokens=("<|endoftext|>",), eos_token="<|endoftext|>")


def test_a_chatml_model_whose_eos_is_endoftext_stops_at_im_end(yi_like: Path) -> None:
    llama = vocab_of(yi_like)
    assert llama.token_eos() == token(llama, "<|endoftext|>")
    stops = stop_token_ids(llama, CHATML_TEMPLATE)
    assert stops == sorted([token(llama, "<|endoftext|>"), token(llama, "<|im_end|>")])
    # The formatter the model's process builds hands them to the scheduler, which ends an
    # answer at any of them (engine/sequences.py).
    assert token(llama, "<|im_end|>") in worker.template_formatter(llama, CHATML_TEMPLATE, stops).stops


def test_the_models_process_uses_them(yi_like: Path) -> None:
    model = LocalModel(yi_like, "Yi-like", LoadSettings(256, 1))
    model.start()
    try:
        assert sorted(model.info["stop_tokens"]) == ["<|endoftext|>", "<|im_end|>"]
    finally:
        model.close()


def test_a_token_the_template_never_writes_does_not_stop(tmp_path: Path) -> None:
    """<|endoftext|> is in the vocabulary but neither EOS nor in the ChatML template;
    <|eot_id|> is in the template but not in the vocabulary (spelt out of bytes)."""
    llama = vocab_of(write_tiny_model(tmp_path / "m.gguf", extra_control_tokens=("<|endoftext|>",)))
    template = CHATML_TEMPLATE + "{# <|eot_id|> #}"
    assert stop_token_ids(llama, template) == sorted([llama.token_eos(), token(llama, "<|im_end|>")])


def test_harmony_stops_at_return_not_at_the_end_of_its_analysis(tmp_path: Path) -> None:
    """gpt-oss ends its analysis message with <|end|> and goes on to the final channel:
    stopping there would leave every answer empty."""
    llama = vocab_of(write_tiny_model(tmp_path / "oss.gguf", extra_control_tokens=HARMONY_MARKERS, eos_token="<|end|>"))
    stops = stop_token_ids(llama, HARMONY_TEMPLATE)
    assert token(llama, "<|end|>") not in stops
    assert stops == sorted([token(llama, "<|return|>"), token(llama, "<|call|>")])


def test_a_harmony_models_process_never_stops_at_end_even_as_text(tmp_path: Path) -> None:
    """llama.cpp writes gpt-oss's <|end|> out as text; with <|end|> named as EOS the
    formatter's text stop would cut the reply there too. The process stops at the
    end-of-turn tokens' texts instead, and reports them."""
    path = write_tiny_model(tmp_path / "oss.gguf", chat_template=HARMONY_TEMPLATE, extra_control_tokens=HARMONY_MARKERS, eos_token="<|end|>")
    model = LocalModel(path, "Harmony", LoadSettings(256, 1))
    model.start()
    said: list = []
    sink = SimpleNamespace(started=lambda tokens, stream_format: said.append(stream_format), text=lambda chunks: None)
    try:
        assert model.info["stop_tokens"] == ["<|return|>", "<|call|>"]
        model.generate([{"role": "user", "content": "Hi"}], GenerationParams(max_tokens=4, n_ctx=256, n_threads=1), sink, Cancel())
    finally:
        model.close()
    assert said == ["harmony"]  # the parent splits its stream as harmony


def test_generation_stops_at_the_end_of_turn_texts_not_the_formatters_eos_text() -> None:
    """The request the model's process prepares: its text stops are the end-of-turn tokens'."""

    class Llama:
        def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
            return list(text[:3])

    def formatter(messages, variables):
        return SimpleNamespace(prompt="<|start|>assistant", added_special=True, stop=["<|end|>"])

    sent: list = []
    model = worker._Model(Llama(), formatter, HARMONY_TEMPLATE, ["<|return|>", "<|call|>"])
    prepared = worker.prepare(SimpleNamespace(send=sent.append), model, 1, {"messages": [], "params": GenerationParams().to_dict()}, 256)
    assert prepared is not None and prepared.stop_texts == ["<|return|>", "<|call|>"]
    assert sent == [("started", 1, {"prompt_tokens": 3, "stream_format": "harmony", "no_effect": []})]

