"""The bounded GGUF header reader: real files, tiny files, broken and hostile files."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import gguf
import pytest
from gguf_factory import (
    VOCAB_SIZE,
    write_absurd_header,
    write_bytes,
    write_huge_key_length,
    write_tiny_model,
    write_truncated,
)

from workbench.core.catalog import gguf_header
from workbench.core.catalog.gguf_header import (
    SMALL_ARRAY_ITEMS,
    GGUFHeaderError,
    SkippedArray,
    read_header,
)
from workbench.core.catalog.metadata import HeaderFacts, ModelMetadata

T = gguf.GGUFValueType


# --- raw GGUF bytes for shapes gguf_factory doesn't write -------------------


def _str(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def _gguf(kv: bytes, n_kv: int, n_tensors: int = 0, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kv


def _kv_array(key: str, item_type: int, count: int, items: bytes) -> bytes:
    return _str(key) + struct.pack("<IIQ", T.ARRAY, item_type, count) + items


# --- good files ---------------------------------------------------------


def test_tiny_model_header(tmp_path):
    path = write_tiny_model(tmp_path / "tiny.gguf", name="Tiny", organization="Org", context_length=512)
    header = read_header(path)
    assert header.version == 3
    assert header.file_size == path.stat().st_size
    assert header.kv["general.name"] == "Tiny"
    assert header.kv["general.organization"] == "Org"
    assert header.kv["llama.context_length"] == 512
    assert header.kv["llama.attention.layer_norm_rms_epsilon"] == 1e-05  # float32 shown tidily
    assert header.kv["tokenizer.ggml.add_bos_token"] is False
    # VOCAB_SIZE tokens: more than SMALL_ARRAY_ITEMS, so only the length is kept
    assert header.kv["tokenizer.ggml.tokens"] == SkippedArray(T.STRING, VOCAB_SIZE)
    assert header.kv["tokenizer.ggml.scores"] == SkippedArray(T.FLOAT32, VOCAB_SIZE)
    assert len(header.tensors) == 21
    embd = next(t for t in header.tensors if t.name == "token_embd.weight")
    assert embd.dims == (32, VOCAB_SIZE)
    assert embd.ggml_type is gguf.GGMLQuantizationType.F32
    assert header.data_offset % 32 == 0


def test_small_arrays_are_kept(tmp_path):
    items = b"".join(_str(lang) for lang in ("en", "zh"))
    path = write_bytes(tmp_path / "langs.gguf", _gguf(_kv_array("general.languages", T.STRING, 2, items), 1))
    assert read_header(path).kv["general.languages"] == ["en", "zh"]

    ints = struct.pack(f"<{SMALL_ARRAY_ITEMS}i", *range(SMALL_ARRAY_ITEMS))
    path = write_bytes(
        tmp_path / "ints.gguf", _gguf(_kv_array("x.ints", T.INT32, SMALL_ARRAY_ITEMS, ints), 1)
    )
    assert read_header(path).kv["x.ints"] == list(range(SMALL_ARRAY_ITEMS))


def test_version_2_is_read(tmp_path):
    path = write_bytes(
        tmp_path / "v2.gguf",
        _gguf(_str("general.name") + struct.pack("<I", T.STRING) + _str("v2"), 1, version=2),
    )
    assert read_header(path).kv == {"general.name": "v2"}


def test_tiny_model_metadata(tmp_path):
    path = write_tiny_model(
        tmp_path / "tiny.gguf",
        name="Tiny Test Model",
        basename="tiny",
        organization="Example Org",
        size_label="1K",
        base_models=[{"name": "Base", "organization": "Base Org", "repo_url": "https://example.org/base"}],
        context_length=256,
    )
    meta = ModelMetadata.from_facts([HeaderFacts.from_header(read_header(path))])
    assert meta.architecture == "llama"
    assert meta.name == "Tiny Test Model"
    assert meta.basename == "tiny"
    assert meta.organization == "Example Org"
    assert meta.size_label == "1K"
    assert meta.context_length == 256
    assert meta.block_count == 2
    assert meta.quantization == "F32"  # general.file_type 0 = ALL_F32
    assert meta.license == "apache-2.0"
    assert meta.base_models == (
        {"name": "Base", "organization": "Base Org", "repo_url": "https://example.org/base"},
    )
    vocab, embed, ffn = VOCAB_SIZE, 32, 64
    per_block = embed + 4 * embed * embed + embed + 3 * ffn * embed
    assert meta.parameters == 2 * vocab * embed + embed + 2 * per_block
    assert meta.tensor_count == 21
    assert meta.file_size == path.stat().st_size
    assert meta.chat_template and meta.chat_template.startswith("{% for message in messages %}")
    assert len(meta.chat_template_sha256) == 64
    assert meta.raw["tokenizer.ggml.tokens"] == {"array_of": "string", "length": VOCAB_SIZE}


def test_metadata_without_template_or_name(tmp_path):
    path = write_tiny_model(tmp_path / "bare.gguf", name=None, chat_template=None, license=None)
    meta = ModelMetadata.from_facts([HeaderFacts.from_header(read_header(path))])
    assert (meta.name, meta.chat_template, meta.chat_template_sha256, meta.license) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.starter
def test_real_qwen_header_is_fast_and_complete(starter_paths):
    _, qwen = starter_paths
    start = time.perf_counter()
    header = read_header(qwen)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"header took {elapsed:.2f} s"
    assert header.kv["general.architecture"] == "qwen2"
    assert header.kv["tokenizer.ggml.tokens"] == SkippedArray(T.STRING, 151936)
    assert header.kv["tokenizer.ggml.merges"] == SkippedArray(T.STRING, 151387)
    meta = ModelMetadata.from_facts([HeaderFacts.from_header(header)])
    assert meta.name == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert meta.organization is None
    assert meta.quantization == "Q4_K_M"  # general.file_type 15
    assert meta.context_length == 32768
    assert meta.tensor_count == 291
    assert meta.parameters == 630_167_424
    assert meta.file_size == 491_400_064


@pytest.mark.starter
def test_real_smollm_metadata(starter_paths):
    smollm, _ = starter_paths
    meta = ModelMetadata.from_facts([HeaderFacts.from_header(read_header(smollm))])
    assert meta.organization == "HuggingFaceTB"
    assert meta.quantization == "Q4_1"  # general.file_type 3
    assert meta.context_length == 8192
    assert meta.languages == ("en",)
    assert meta.parameters == 134_515_008


def test_dominant_tensor_type_when_file_type_is_missing():
    facts = HeaderFacts(
        kv={"general.architecture": "llama"},
        tensor_count=3,
        parameters=110,
        elements_by_type={"Q4_K": 100, "F32": 10},
        file_size=1,
    )
    assert ModelMetadata.from_facts([facts]).quantization == "Q4_K"


# --- broken and hostile files -------------------------------------------


def _reason(path: Path) -> str:
    with pytest.raises(GGUFHeaderError) as caught:
        read_header(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"hello world\n", "not a GGUF file (starts with 'hell')"),
        (b"\x00\x01\x02\x03\x04", "not a GGUF file (starts with bytes 00 01 02 03)"),
        (
            b"tjgg" + bytes(20),
            "not a GGUF file (starts with 'tjgg', llama.cpp's format before GGUF; convert it again)",
        ),
        (b"GGUF" + struct.pack("<IQQ", 99, 0, 0), "unsupported GGUF version 99"),
        (
            b"GGUF" + struct.pack("<IQQ", 1, 0, 0),
            "unsupported GGUF version 1 (an early 2023 format; convert the model again)",
        ),
        (
            b"GGUF" + struct.pack(">IQQ", 3, 0, 0),
            "big-endian GGUF file (only little-endian files are supported)",
        ),
        (b"GGUF" + struct.pack("<IQ", 3, 0) + b"\x01", "truncated at byte 16 (file is 17 bytes)"),
    ],
)
def test_plain_reasons(tmp_path, data, reason):
    assert _reason(write_bytes(tmp_path / "bad.gguf", data)) == reason


def test_absurd_counts(tmp_path):
    assert _reason(write_absurd_header(tmp_path / "a.gguf")) == "header claims 2^62 tensors in a 24-byte file"
    assert (
        _reason(write_absurd_header(tmp_path / "b.gguf", n_tensors=0, n_kv=2**40))
        == "header claims 2^40 metadata entries in a 24-byte file"
    )


def test_counts_beyond_any_real_model(tmp_path):
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 100_000) + bytes(13 * 100_000)
    assert _reason(write_bytes(tmp_path / "kv.gguf", data)) == (
        "header claims 100,000 metadata entries (limit 65,536)"
    )


def test_kept_text_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(gguf_header, "MAX_KEPT_BYTES", 100)
    kv = b"".join(_str(f"k{i}") + struct.pack("<I", T.STRING) + _str("x" * 40) for i in range(3))
    assert (
        _reason(write_bytes(tmp_path / "t.gguf", _gguf(kv, 3))) == "metadata text totals more than 100 bytes"
    )


def test_huge_key_length(tmp_path):
    assert _reason(write_huge_key_length(tmp_path / "k.gguf")) == (
        "a metadata key at byte 24 claims 2^60 bytes, past the end of the file (44 bytes)"
    )


def test_string_value_past_end(tmp_path):
    kv = _str("general.name") + struct.pack("<IQ", T.STRING, 1000) + b"short"
    reason = _reason(write_bytes(tmp_path / "s.gguf", _gguf(kv, 1)))
    assert reason.startswith("value of 'general.name' at byte 48 claims 1,000 bytes, past the end")


def test_array_count_past_end(tmp_path):
    kv = _kv_array("tokenizer.ggml.tokens", T.STRING, 2**61, b"")
    assert "claims 2^61 items, more than the file" in _reason(write_bytes(tmp_path / "a.gguf", _gguf(kv, 1)))


def test_string_inside_skipped_array_past_end(tmp_path):
    items = _str("a") * (SMALL_ARRAY_ITEMS + 5) + struct.pack("<Q", 2**40) + b"x" * 16
    kv = _kv_array("tokenizer.ggml.tokens", T.STRING, SMALL_ARRAY_ITEMS + 7, items)
    assert _reason(write_bytes(tmp_path / "t.gguf", _gguf(kv, 1))).startswith("truncated at byte ")


def test_unknown_value_type(tmp_path):
    kv = _str("general.name") + struct.pack("<I", 13) + b"\x00" * 8
    assert (
        _reason(write_bytes(tmp_path / "u.gguf", _gguf(kv, 1))) == "'general.name' has unknown value type 13"
    )


def test_array_of_arrays_is_skipped_but_deeper_nesting_refused(tmp_path):
    inner = struct.pack("<IQ", T.UINT8, 3) + b"abc"
    ok = _kv_array("x.nested", T.ARRAY, 2, inner * 2)
    header = read_header(write_bytes(tmp_path / "n.gguf", _gguf(ok, 1)))
    assert header.kv["x.nested"] == SkippedArray(T.ARRAY, 2)

    deep = _kv_array("x.deep", T.ARRAY, 1, struct.pack("<IQ", T.ARRAY, 1) + inner)
    assert (
        _reason(write_bytes(tmp_path / "d.gguf", _gguf(deep, 1))) == "'x.deep' nests arrays more than 2 deep"
    )


def test_duplicate_key(tmp_path):
    one = _str("general.name") + struct.pack("<I", T.STRING) + _str("a")
    assert (
        _reason(write_bytes(tmp_path / "dup.gguf", _gguf(one * 2, 2)))
        == "metadata key 'general.name' appears twice"
    )


def test_tensor_with_too_many_dims(tmp_path):
    tensor = _str("w") + struct.pack("<I", 9) + b"\x00" * 100
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + tensor
    assert _reason(write_bytes(tmp_path / "dims.gguf", data)) == "tensor 'w' has 9 dimensions (at most 4)"


def test_tensor_with_unknown_type(tmp_path):
    tensor = _str("w") + struct.pack("<IQIQ", 1, 32, 4242, 0) + b"\x00" * 200
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + tensor
    assert _reason(write_bytes(tmp_path / "type.gguf", data)) == "tensor 'w' has unknown type 4242"


def test_tensor_data_past_end(tmp_path):
    tensor = _str("w") + struct.pack("<IQIQ", 1, 2**40, gguf.GGMLQuantizationType.F32, 0)
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + tensor
    assert _reason(write_bytes(tmp_path / "big.gguf", data)).startswith("truncated: tensor 'w' ends at byte ")


@pytest.mark.parametrize("keep", [0.0005, 0.002, 0.01, 0.05, 0.3, 0.5, 0.9, 0.999])
def test_truncated_at_many_points(tmp_path, keep):
    source = write_tiny_model(tmp_path / "whole.gguf")
    reason = _reason(write_truncated(tmp_path / "cut.gguf", source, keep=keep))
    assert any(
        phrase in reason for phrase in ("truncated", "past the end", "more than the file", "header claims")
    ), reason


def test_directory_named_gguf_is_an_os_error(tmp_path):
    (tmp_path / "x.gguf").mkdir()
    with pytest.raises(IsADirectoryError):  # the catalog's status: "is a folder, not a GGUF file"
        read_header(tmp_path / "x.gguf")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "nope.gguf")
