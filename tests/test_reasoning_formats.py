"""Reasoning kept apart from the answer in every format a current GGUF writes, fed in two
chunks cut at every point (markers split across chunks must still be found).

The raw outputs below are written by hand in the shapes these models stream through
llama-cpp-python (special tokens rendered as text, the stop token itself not written):
gpt-oss-20b's harmony channels as its model card and OpenAI's harmony guide show them,
the same with the markers dropped as some runtimes print it, DeepSeek-R1's after a
template that opened `<think>`, and R1's empty think block before a canned answer.
"""

from __future__ import annotations

import pytest

from workbench.core.engine.formats import HARMONY, OPENED, THINK, reasoning_never_ended, splitter_for, stream_format
from workbench.core.engine.reasoning import split_all

HARMONY_TEMPLATE = (
    "{% for m in messages %}<|start|>{{ m['role'] }}<|message|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant{% endif %}"
    "{# assistant turns: <|channel|>analysis / final #}"
)
R1_TEMPLATE = "{% for m in messages %}<｜User｜>{{ m['content'] }}{% endfor %}<｜Assistant｜><think>\n"

# gpt-oss-20b, "What is 2 + 2?": analysis then final.
GPT_OSS_ANALYSIS_FINAL = (
    "<|channel|>analysis<|message|>The user asks a simple arithmetic question. 2 + 2 = 4. Answer briefly."
    "<|end|><|start|>assistant<|channel|>final<|message|>2 + 2 = 4."
)
# gpt-oss-20b with a preamble on the commentary channel before the final answer.
GPT_OSS_WITH_COMMENTARY = (
    "<|channel|>analysis<|message|>Need to explain the event neutrally.<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>I will summarise the main accounts.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Historians describe it in several ways."
)
# The first reply as a runtime that drops special tokens prints it.
GPT_OSS_BARE = "analysisThe user asks a simple arithmetic question. 2 + 2 = 4.assistantfinal2 + 2 = 4."
# A channel name outside the harmony spec (a fine-tune's own): kept, and the answer still found.
GPT_OSS_UNKNOWN_CHANNEL = (
    "<|channel|>scratchpad<|message|>Draft: 4.<|end|><|start|>assistant<|channel|>final<|message|>4."
)
# gpt-oss cut off by the token limit in the middle of its analysis.
GPT_OSS_UNCLOSED = "<|channel|>analysis<|message|>The user asks about the 1989 protests. We must consider"

# DeepSeek-R1-Distill: the template opened <think>, so the stream has only the closing tag.
R1_OPENED = "Okay, the user wants the capital of France. That is Paris.\n</think>\n\nThe capital of France is Paris."
# DeepSeek-R1 writing an empty think block before a canned answer (thought_suppressed).
R1_EMPTY_THINK = "<think>\n\n</think>\n\nI am sorry, I cannot answer that question."
# Qwen3 with thinking on, where the model writes both tags itself.
QWEN3_THINK = "<think>\nThe user greets me in Chinese.\n</think>\n\n你好！有什么可以帮你的？"
# A think block the model never closed before its limit.
THINK_UNCLOSED = "<think>\nLet me weigh both sides. First"

CASES = [
    pytest.param(HARMONY, GPT_OSS_ANALYSIS_FINAL, "2 + 2 = 4.", "The user asks a simple arithmetic question. 2 + 2 = 4. Answer briefly.", id="harmony"),
    pytest.param(
        HARMONY, GPT_OSS_WITH_COMMENTARY, "Historians describe it in several ways.",
        "Need to explain the event neutrally.\n\n[commentary]\nI will summarise the main accounts.", id="harmony-commentary",
    ),  # fmt: skip
    pytest.param(HARMONY, GPT_OSS_BARE, "2 + 2 = 4.", "The user asks a simple arithmetic question. 2 + 2 = 4.", id="harmony-bare"),
    pytest.param(HARMONY, GPT_OSS_UNKNOWN_CHANNEL, "4.", "[scratchpad]\nDraft: 4.", id="harmony-unknown-channel"),
    pytest.param(HARMONY, GPT_OSS_UNCLOSED, "", "The user asks about the 1989 protests. We must consider", id="harmony-unclosed"),
    pytest.param(THINK + OPENED, R1_OPENED, "The capital of France is Paris.", "Okay, the user wants the capital of France. That is Paris.\n", id="think-opened"),
    pytest.param(THINK, R1_EMPTY_THINK, "I am sorry, I cannot answer that question.", "\n\n", id="think-empty"),
    pytest.param(THINK, QWEN3_THINK, "你好！有什么可以帮你的？", "\nThe user greets me in Chinese.\n", id="think"),
    pytest.param(THINK, THINK_UNCLOSED, "", "\nLet me weigh both sides. First", id="think-unclosed"),
]


@pytest.mark.parametrize(("fmt", "raw", "answer", "reasoning"), CASES)
def test_split_at_every_point(fmt: str, raw: str, answer: str, reasoning: str) -> None:
    for i in range(len(raw) + 1):
        assert split_all(splitter_for(fmt), [raw[:i], raw[i:]]) == (answer, reasoning), f"cut at {i}: {raw[:i]!r}"


@pytest.mark.parametrize(("fmt", "raw", "answer", "reasoning"), CASES)
def test_split_one_character_at_a_time(fmt: str, raw: str, answer: str, reasoning: str) -> None:
    assert split_all(splitter_for(fmt), list(raw)) == (answer, reasoning)


def test_answer_text_streams_before_the_end() -> None:
    """Streaming: the final channel's words are given out as they come, not at flush."""
    splitter = splitter_for(HARMONY)
    parts = splitter.feed("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>Hello wor")
    assert parts == [("reasoning", "Think."), ("answer", "Hello wor")]
    assert splitter.feed("ld") == [("answer", "ld")]


def test_harmony_markers_are_never_shown() -> None:
    for raw in (GPT_OSS_ANALYSIS_FINAL, GPT_OSS_WITH_COMMENTARY, GPT_OSS_UNKNOWN_CHANNEL):
        answer, reasoning = split_all(splitter_for(HARMONY), [raw])
        assert "<|" not in answer + reasoning


def test_a_harmony_model_that_skips_the_format_answers_plainly() -> None:
    assert split_all(splitter_for(HARMONY), ["Analyse", " this: 4."]) == ("Analyse this: 4.", "")


def test_the_bare_form_is_read_only_for_harmony_templates() -> None:
    """"analysis…assistantfinal…" from a ChatML model is its answer, however odd."""
    assert split_all(splitter_for(stream_format("<|im_start|>", "<|im_start|>assistant\n")), [GPT_OSS_BARE]) == (GPT_OSS_BARE, "")


@pytest.mark.parametrize(
    ("template", "prompt", "expected"),
    [
        (HARMONY_TEMPLATE, "<|start|>user<|message|>Hi<|end|><|start|>assistant", HARMONY),
        (R1_TEMPLATE, "<｜User｜>Hi<｜Assistant｜><think>\n", THINK + OPENED),
        ("{{ '<|im_start|>assistant\n' }}", "<|im_start|>assistant\n", THINK),
        (None, "<|im_start|>assistant\n", THINK),
        ("{{ '[THINK]' }}…[/THINK]", "[INST]Hi[/INST]", "mistral-think"),
        ("<seed:think>", "<seed:bos>assistant\n<seed:think>", "seed-think" + OPENED),
    ],
)
def test_the_format_comes_from_the_template(template: str | None, prompt: str, expected: str) -> None:
    assert stream_format(template, prompt) == expected


def test_other_tag_pairs_split_the_same_way() -> None:
    assert split_all(splitter_for("mistral-think"), ["[THINK]Hmm.[/TH", "INK]Yes."]) == ("Yes.", "Hmm.")


@pytest.mark.parametrize(
    ("answer", "reasoning", "finish", "said"),
    [
        ("", "weighing it", "length", "ran out of tokens while reasoning"),
        ("", "weighing it", "stop", "stopped without closing it"),
        ("Paris.", "weighing it", "stop", None),
        ("", "", "stop", None),
        ("", "weighing it", "stopped", None),  # the user stopped it: the pane says that already
    ],
)
def test_reasoning_that_never_ended_is_said(answer: str, reasoning: str, finish: str, said: str | None) -> None:
    note = reasoning_never_ended(answer, reasoning, finish)
    assert (note is None) if said is None else (note is not None and said in note and "kept" in note)


@pytest.mark.parametrize(
    ("raw", "answer", "reasoning"),
    [
        # <|end|> not written out (an older llama.cpp keeps it a control token): the next
        # message's <|start|> ends the analysis all the same.
        ("<|channel|>analysis<|message|>Think.<|start|>assistant<|channel|>final<|message|>Done.", "Done.", "Think."),
        # A tool call's header: recipient and content type around the channel name.
        (
            "<|channel|>commentary to=functions.search <|constrain|>json<|message|>{\"q\": \"x\"}<|call|>",
            "", "[commentary]\n{\"q\": \"x\"}",
        ),
        # Words written after a message, outside any other: the answer, not lost.
        ("<|channel|>analysis<|message|>Think.<|end|>Plain words.", "Plain words.", "Think."),
        # A reply that opens with a recipient, the rest of the prompt's <|start|>assistant
        # header (a tool call; llama.cpp's test-chat.cpp:6457): a header, never shown.
        (" to=functions.search<|channel|>analysis <|constrain|>json<|message|>{\"q\": 1}", "", "{\"q\": 1}"),
        # Cut off inside the final channel's header: nothing of the answer came.
        ("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>fin", "", "Think."),
        # "to=" opens a header only when a header follows: here it is the model's answer.
        ("to= is how a recipient is written.", "to= is how a recipient is written.", ""),
    ],
)  # fmt: skip
def test_harmony_edge_cases(raw: str, answer: str, reasoning: str) -> None:
    for i in range(len(raw) + 1):
        assert split_all(splitter_for(HARMONY), [raw[:i], raw[i:]]) == (answer, reasoning), f"cut at {i}"


@pytest.mark.parametrize(
    ("raw", "answer", "reasoning"),
    [
        ("<think>\n\n</think>\n\nNo.", "No.", "\n\n"),  # the prompt's <think> written again: dropped
        ("<thinking aloud>\n</think>\nNo.", "No.", "<thinking aloud>\n"),  # not the tag: kept
        ("Weighing it. <think> is a tag.</think>No.", "No.", "Weighing it. <think> is a tag."),  # only first thing
    ],
)
def test_a_block_the_prompt_opened_may_be_opened_again_first_thing(raw: str, answer: str, reasoning: str) -> None:
    for i in range(len(raw) + 1):
        assert split_all(splitter_for(THINK + OPENED), [raw[:i], raw[i:]]) == (answer, reasoning), f"cut at {i}"
