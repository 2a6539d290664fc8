"""Write tiny but real GGUF files for the tests.

A 2-layer llama with random weights and a byte-level SentencePiece-style
vocabulary (every byte is a token) loads in llama.cpp in milliseconds and
answers chat completions with gibberish, which is all a test of the plumbing
needs. The same writer, pointed at the wrong numbers, crafts the broken and
hostile files the catalog and engine must survive.
"""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Reaches for Python internals from inside the template: llama-cpp-python's
# sandbox must refuse it (CVE-2024-34359).
HOSTILE_TEMPLATE = "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ self.__init__.__globals__ }}"

CONTROL_TOKENS = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>")
EMBED = 32
LAYERS = 2
HEADS = 4
FFN = 64


def silent_tokens(controls: int) -> tuple[tuple[int, int], ...]:
    """Token id ranges (for a vocabulary that starts with `controls` control tokens)
    whose output weights are zero, so their logit is 0 while the best of the other
    ~140 random logits is positive: at temperature 0 the model never writes them.
    Control tokens: so it never ends on its own and tests can interrupt it mid-answer.
    Bytes 0x80-0xFF: alone they are invalid UTF-8, which llama-cpp-python holds back
    waiting for the rest of a character that never comes, stalling the stream."""
    return ((0, controls), (controls + 0x80, controls + 0x100))


def write_tiny_model(
    path: Path,
    *,
    name: str | None = "Tiny Test Model",
    basename: str | None = None,
    organization: str | None = None,
    architecture: str = "llama",
    chat_template: str | None = CHATML_TEMPLATE,
    context_length: int = 256,
    license: str | None = "apache-2.0",
    size_label: str | None = None,
    base_models: list[dict[str, str]] | None = None,
    extra_kv: dict[str, str] | None = None,
    seed: int = 0,
    with_tensors: bool = True,
    extra_control_tokens: tuple[str, ...] = (),
    eos_token: str = "</s>",
    bos_token: str = "<s>",
) -> Path:
    """Write a loadable tiny llama GGUF and return its path.

    `architecture` is written as `general.architecture`; anything other than
    "llama" gives a file llama.cpp will refuse, which is useful too.
    `extra_control_tokens` join the vocabulary's control tokens (never written by
    the model either), and `eos_token` and `bos_token`, each one of them, are named
    as end and beginning of text.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), architecture)
    if name is not None:
        writer.add_name(name)
    if basename is not None:
        writer.add_basename(basename)
    if organization is not None:
        writer.add_organization(organization)
    if license is not None:
        writer.add_license(license)
    if size_label is not None:
        writer.add_size_label(size_label)
    if base_models:
        writer.add_base_model_count(len(base_models))
        for i, base in enumerate(base_models):
            if "name" in base:
                writer.add_base_model_name(i, base["name"])
            if "organization" in base:
                writer.add_base_model_organization(i, base["organization"])
            if "repo_url" in base:
                writer.add_base_model_repo_url(i, base["repo_url"])
    for key, value in (extra_kv or {}).items():
        writer.add_string(key, value)

    writer.add_context_length(context_length)
    writer.add_embedding_length(EMBED)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(EMBED // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens, scores, types = _byte_vocab(extra_control_tokens)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(tokens.index(bos_token))
    writer.add_eos_token_id(tokens.index(eos_token))
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    if with_tensors:
        vocab = len(tokens)

        def weight(*shape: int) -> np.ndarray:
            return (rng.standard_normal(shape) * 0.1).astype(np.float32)

        writer.add_tensor("token_embd.weight", weight(vocab, EMBED))
        writer.add_tensor("output_norm.weight", np.ones(EMBED, dtype=np.float32))
        output = weight(vocab, EMBED)
        for first, last in silent_tokens(len(CONTROL_TOKENS) + len(extra_control_tokens)):
            output[first:last] = 0.0
        writer.add_tensor("output.weight", output)
        for b in range(LAYERS):
            writer.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(EMBED, dtype=np.float32))
            for proj in ("attn_q", "attn_k", "attn_v", "attn_output"):
                writer.add_tensor(f"blk.{b}.{proj}.weight", weight(EMBED, EMBED))
            writer.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(EMBED, dtype=np.float32))
            writer.add_tensor(f"blk.{b}.ffn_gate.weight", weight(FFN, EMBED))
            writer.add_tensor(f"blk.{b}.ffn_up.weight", weight(FFN, EMBED))
            writer.add_tensor(f"blk.{b}.ffn_down.weight", weight(EMBED, FFN))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _byte_vocab(extra_control_tokens: tuple[str, ...] = ()) -> tuple[list[str], list[float], list[int]]:
    tokens = [*CONTROL_TOKENS, *extra_control_tokens]
    types = [gguf.TokenType.UNKNOWN] + [gguf.TokenType.CONTROL] * (len(tokens) - 1)
    # Every byte, so any text (Chinese included) tokenizes; see silent_tokens
    # for why the model never writes the bytes above 0x7F.
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>")
        types.append(gguf.TokenType.BYTE)
    # A few whole-character pieces so the model sometimes emits real text.
    for piece in ["▁", "a", "e", "o", "▁the", "你", "好", "中", "国"]:
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
    scores = [0.0] * len(tokens)
    return tokens, scores, [int(t) for t in types]


# --- Broken and hostile files ---------------------------------------------

GGUF_MAGIC = b"GGUF"


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.write_bytes(data)
    return path


def write_absurd_header(path: Path, *, n_tensors: int = 2**62, n_kv: int = 2**62) -> Path:
    """A valid magic and version followed by counts no file could hold."""
    return write_bytes(path, GGUF_MAGIC + struct.pack("<IQQ", 3, n_tensors, n_kv))


def write_huge_key_length(path: Path) -> Path:
    """One KV pair whose key claims to be 2^60 bytes long."""
    return write_bytes(path, GGUF_MAGIC + struct.pack("<IQQQ", 3, 0, 1, 2**60) + b"general.name")


def write_truncated(path: Path, source: Path, keep: float = 0.5) -> Path:
    data = Path(source).read_bytes()
    return write_bytes(path, data[: int(len(data) * keep)])


VOCAB_SIZE = len(_byte_vocab()[0])
