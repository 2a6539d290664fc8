"""The six real chat templates in tests/templates/, each with the vocabulary its family's
GGUFs give it: the control tokens the template writes, and the BOS and EOS the real
model's GGUF names. `tiny_model` writes one into a tiny GGUF (gguf_factory), so a test
runs the template as llama.cpp and the workbench would with the real model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gguf_factory import CONTROL_TOKENS, write_tiny_model

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Family:
    name: str
    template_file: str
    bos: str
    eos: str
    controls: tuple[str, ...]  # the control tokens the template writes, besides the BOS and EOS
    stream_format: str  # formats.py's name for a reply to a one-turn prompt
    stops: tuple[str, ...]  # the texts of the tokens that must end its turn

    @property
    def template(self) -> str:
        return (TEMPLATES / self.template_file).read_text(encoding="utf-8")

    def tiny_model(self, folder: Path) -> Path:
        extra = tuple(dict.fromkeys(t for t in (self.bos, self.eos, *self.controls) if t not in CONTROL_TOKENS))
        return write_tiny_model(
            folder / f"{self.name}.gguf",
            name=f"Tiny {self.name}",
            chat_template=self.template,
            extra_control_tokens=extra,
            eos_token=self.eos,
            bos_token=self.bos,
        )


GPT_OSS = Family(
    "gpt-oss",
    "gpt-oss.jinja",
    bos="<|startoftext|>",
    eos="<|return|>",
    controls=("<|endoftext|>", "<|start|>", "<|end|>", "<|channel|>", "<|message|>", "<|call|>", "<|constrain|>"),
    stream_format="harmony",
    stops=("<|return|>", "<|call|>"),  # never <|end|>: it ends the analysis, not the turn
)
DEEPSEEK_R1 = Family(
    "deepseek-r1-distill-qwen",
    "deepseek-r1-distill-qwen.jinja",
    bos="<｜begin▁of▁sentence｜>",
    eos="<｜end▁of▁sentence｜>",
    controls=("<｜User｜>", "<｜Assistant｜>"),
    stream_format="think+opened",  # its prompt ends with <think>
    stops=("<｜end▁of▁sentence｜>",),
)
QWEN3 = Family(
    "qwen3",
    "qwen3.jinja",
    bos="<|endoftext|>",
    eos="<|im_end|>",
    controls=("<|im_start|>",),
    stream_format="think",
    stops=("<|im_end|>",),
)
LLAMA_3_1 = Family(
    "llama-3.1",
    "llama-3.1.jinja",
    bos="<|begin_of_text|>",
    eos="<|eot_id|>",
    controls=("<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|python_tag|>"),
    stream_format="think",
    stops=("<|eot_id|>",),
)
GEMMA_3 = Family(
    "gemma-3",
    "gemma-3.jinja",
    bos="<bos>",
    eos="<eos>",
    controls=("<start_of_turn>", "<end_of_turn>"),
    stream_format="think",
    stops=("<eos>", "<end_of_turn>"),  # the GGUF names <eos>; its turns end with <end_of_turn>
)
YI_1_5 = Family(
    "yi-1.5-chat",
    "yi-1.5-chat.jinja",
    bos="<|startoftext|>",
    eos="<|endoftext|>",
    controls=("<|im_start|>", "<|im_end|>"),
    stream_format="think",
    stops=("<|endoftext|>", "<|im_end|>"),  # the GGUF names <|endoftext|>; its turns end with <|im_end|>
)

FAMILIES = (GPT_OSS, DEEPSEEK_R1, QWEN3, LLAMA_3_1, GEMMA_3, YI_1_5)
