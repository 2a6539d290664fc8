"""The token ids that end a model's turn, from its chat template and its vocabulary.

A GGUF names one end-of-text id, and it is not always the one the model ends its
turns with: some Yi chat GGUFs name `<|endoftext|>` while the model, trained on
ChatML, ends every turn with `<|im_end|>`; stopping at the named id alone lets it
run on to the token limit. So every end-of-turn token the template writes (a
template writes the marker it trains the model to end a turn with) and the
vocabulary holds stops generation too. A token the template never writes does not:
it would cut off a model that uses it for something else.

Harmony (gpt-oss) is the exception: `<|end|>` there closes one channel's message
(the analysis) and the reply goes on to the final channel, which ends with
`<|return|>` (or `<|call|>` for a tool call), whether or not the template writes them.
"""

from __future__ import annotations

from typing import Any

from .harmony import CALL, END, RETURN, speaks_harmony

END_OF_TURN = ("<|im_end|>", "<|return|>", "<|end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>")


def stop_token_ids(llama: Any, template: str) -> list[int]:
    """The end-of-text id (if any) and the end-of-turn tokens of `template` that
    `llama`'s vocabulary holds, each a single token; sorted."""
    harmony = speaks_harmony(template)
    wanted = [RETURN, CALL] if harmony else [text for text in END_OF_TURN if text in template]
    ids = {llama.token_eos()} - {-1}
    ids |= {token for text in wanted if (token := _single_token(llama, text)) is not None}
    if harmony:
        ids -= {_single_token(llama, END)}
    return sorted(ids)


def _single_token(llama: Any, text: str) -> int | None:
    """`text`'s id when the vocabulary holds it as one token; None when it can only spell
    it out of pieces (then it is not a marker of this model)."""
    tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    return tokens[0] if len(tokens) == 1 else None
