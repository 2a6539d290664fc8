"""What the workbench knows about a model from its GGUF header(s).

Two layers: `HeaderFacts` is the JSON-safe summary of one file's header
(what the cache stores, so a second scan reads no headers), and
`ModelMetadata` is the model-level view built from the facts of all its
shards (parameters and sizes add up; names and settings come from the first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chat_template import chat_template, chat_template_sha256

if TYPE_CHECKING:
    from .gguf_header import GGUFHeader


def json_safe(value: Any) -> Any:
    """A header value as plain JSON: skipped arrays become a short description."""
    from .gguf_header import SkippedArray  # loaded with a header read (the gguf package: numpy)

    if isinstance(value, SkippedArray):
        return {"array_of": value.item_type.name.lower(), "length": value.length}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@dataclass(frozen=True)
class HeaderFacts:
    """The part of one GGUF file's header the catalog keeps (JSON-safe, cacheable)."""

    kv: dict[str, Any]
    tensor_count: int
    parameters: int
    elements_by_type: dict[str, int]  # ggml type name -> number of weights of that type
    file_size: int
    # general.file_type's name ("Q4_K_M"), named as the header is read: naming it needs the
    # gguf package, which a catalog served from its cache never loads.
    file_type: str | None = None

    @classmethod
    def from_header(cls, header: GGUFHeader) -> HeaderFacts:
        elements: dict[str, int] = {}
        for tensor in header.tensors:
            name = tensor.ggml_type.name
            elements[name] = elements.get(name, 0) + tensor.n_elements
        return cls(
            kv={key: json_safe(value) for key, value in header.kv.items()},
            tensor_count=len(header.tensors),
            parameters=sum(elements.values()),
            elements_by_type=elements,
            file_size=header.file_size,
            file_type=_file_type_name(header.kv.get("general.file_type")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kv": self.kv,
            "tensor_count": self.tensor_count,
            "parameters": self.parameters,
            "elements_by_type": self.elements_by_type,
            "file_size": self.file_size,
            "file_type": self.file_type,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeaderFacts:
        return cls(
            kv=dict(data["kv"]),
            tensor_count=int(data["tensor_count"]),
            parameters=int(data["parameters"]),
            elements_by_type={str(k): int(v) for k, v in data["elements_by_type"].items()},
            file_size=int(data["file_size"]),
            file_type=data.get("file_type"),
        )


@dataclass(frozen=True)
class ModelMetadata:
    """One model's header facts in the form the catalog and the views use."""

    architecture: str | None
    name: str | None
    basename: str | None
    finetune: str | None
    organization: str | None
    size_label: str | None
    parameters: int
    quantization: str | None
    context_length: int | None
    chat_template: str | None
    chat_template_sha256: str | None
    license: str | None
    base_models: tuple[dict[str, str], ...] = field(hash=False)
    languages: tuple[str, ...]
    file_size: int
    tensor_count: int
    block_count: int | None
    raw: dict[str, Any] = field(hash=False)  # every small header value, JSON-safe

    @classmethod
    def from_facts(cls, shards: Sequence[HeaderFacts]) -> ModelMetadata:
        """Build from the facts of every shard, first shard first."""
        kv = shards[0].kv
        arch = _text(kv, "general.architecture")
        template = chat_template(kv)
        elements: dict[str, int] = {}
        for shard in shards:
            for type_name, count in shard.elements_by_type.items():
                elements[type_name] = elements.get(type_name, 0) + count
        return cls(
            architecture=arch,
            name=_text(kv, "general.name"),
            basename=_text(kv, "general.basename"),
            finetune=_text(kv, "general.finetune"),
            organization=_text(kv, "general.organization"),
            size_label=_text(kv, "general.size_label"),
            parameters=sum(shard.parameters for shard in shards),
            quantization=shards[0].file_type or _most_weights(elements),
            context_length=_count(kv, f"{arch}.context_length") if arch else None,
            chat_template=template,
            chat_template_sha256=chat_template_sha256(template) if template else None,
            license=_text(kv, "general.license"),
            base_models=_base_models(kv),
            languages=_languages(kv.get("general.languages")),
            file_size=sum(shard.file_size for shard in shards),
            tensor_count=sum(shard.tensor_count for shard in shards),
            block_count=_count(kv, f"{arch}.block_count") if arch else None,
            raw=kv,
        )


def _text(kv: dict[str, Any], key: str) -> str | None:
    value = kv.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _count(kv: dict[str, Any], key: str) -> int | None:
    value = kv.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _file_type_name(file_type: Any) -> str | None:
    """general.file_type's name ("MOSTLY_Q4_K_M" -> "Q4_K_M"); None when it has none."""
    if not isinstance(file_type, int) or isinstance(file_type, bool):
        return None
    from gguf import LlamaFileType  # loaded with a header read, as json_safe's import

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return None
    return None if name == LlamaFileType.GUESSED.name else name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _most_weights(elements: dict[str, int]) -> str | None:
    """The quantization of a file that doesn't name its own: the type most weights have."""
    return max(elements.items(), key=lambda item: item[1])[0] if elements else None


def _base_models(kv: dict[str, Any]) -> tuple[dict[str, str], ...]:
    count = _count(kv, "general.base_model.count") or 0
    bases = []
    for i in range(min(count, 64)):
        base = {
            field: value
            for field in ("name", "organization", "repo_url")
            if (value := _text(kv, f"general.base_model.{i}.{field}"))
        }
        if base:
            bases.append(base)
    return tuple(bases)


def _languages(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
