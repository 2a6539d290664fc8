"""Origin classification from resources/origins.toml, and the user's overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gguf_factory import write_tiny_model

from workbench.core.catalog.gguf_header import read_header
from workbench.core.catalog.metadata import HeaderFacts, ModelMetadata
from workbench.core.catalog.origins import (
    DEFAULT_TABLE,
    OriginTable,
    OriginTableError,
    default_table,
)
from workbench.core.catalog.overrides import OriginOverrides, override_key
from workbench.core.errors import EnvironmentProblem

# Typical names of each family: each must land on its own family, which also
# checks the table's order (an earlier, looser pattern would steal them).
CANONICAL_NAMES = {
    "DeepSeek-V3-0324": "DeepSeek",
    "DeepSeek-R1-Distill-Llama-8B": "DeepSeek",
    "Kimi-K2-Instruct": "Kimi",
    "Qwen2.5-7B-Instruct": "Qwen",
    "QwQ-32B": "Qwen",
    "Yi-1.5-34B-Chat": "Yi",
    "glm-4-9b-chat": "GLM",
    "chatglm3-6b": "GLM",
    "internlm2_5-7b-chat": "InternLM",
    "Baichuan2-13B-Chat": "Baichuan",
    "MiniCPM3-4B": "MiniCPM",
    "Hunyuan-7B-Instruct": "Hunyuan",
    "ERNIE-4.5-21B-A3B-PT": "ERNIE",
    "MiniMax-M2": "MiniMax",
    "Seed-OSS-36B-Instruct": "Seed",
    "Ling-lite-1.5": "Ling",
    "MiMo-7B-RL": "MiMo",
    "dots.llm1.inst": "dots",
    "Llama-3.1-Nemotron-Nano-8B-v1": "Nemotron",
    "TinyLlama-1.1B-Chat-v1.0": "TinyLlama",
    "Meta-Llama-3.1-8B-Instruct": "Llama",
    "Llama-3.2-1B-Instruct": "Llama",
    "CodeLlama-7b-Instruct": "Llama",
    "gemma-3-270m-it": "Gemma",
    "codegemma-7b-it": "Gemma",
    "Phi-3.5-mini-instruct": "Phi",
    "phi-4": "Phi",
    "gpt-oss-20b": "gpt-oss",
    "OLMo-2-1124-7B-Instruct": "OLMo",
    "granite-3.3-8b-instruct": "Granite",
    "SmolLM2-135M-Instruct": "SmolLM",
    "grok-1": "Grok",
    "Mistral-7B-Instruct-v0.3": "Mistral",
    "Mixtral-8x7B-Instruct-v0.1": "Mistral",
    "Ministral-8B-Instruct-2410": "Mistral",
    "falcon-7b-instruct": "Falcon",
    "EXAONE-3.5-7.8B-Instruct": "EXAONE",
    "c4ai-command-r-v01": "Command",
    "aya-expanse-8b": "Command",
    "stablelm-2-1_6b-chat": "StableLM",
}

REQUIRED = {
    "Qwen": "CN", "DeepSeek": "CN", "Yi": "CN", "GLM": "CN", "InternLM": "CN", "Baichuan": "CN",
    "MiniCPM": "CN", "Kimi": "CN", "Hunyuan": "CN", "ERNIE": "CN", "MiniMax": "CN",
    "Llama": "US", "Gemma": "US", "Phi": "US", "gpt-oss": "US", "OLMo": "US", "Granite": "US",
    "SmolLM": "US", "Nemotron": "US", "Mistral": "FR", "Falcon": "AE",
}  # fmt: skip


def metadata_of(path: Path) -> ModelMetadata:
    return ModelMetadata.from_facts([HeaderFacts.from_header(read_header(path))])


def classify(tmp_path: Path, file_name: str = "model", **model_kwargs):
    path = write_tiny_model(tmp_path / f"{file_name}.gguf", **model_kwargs)
    return default_table().classify(metadata_of(path), file_name)


# --- the table ------------------------------------------------------------


def test_table_covers_the_required_families():
    families = {f.family: f for f in default_table().families}
    assert {name: families[name].country for name in REQUIRED} == REQUIRED


def test_table_is_well_formed():
    table = OriginTable.load(DEFAULT_TABLE)
    names = [f.family for f in table.families]
    assert len(names) == len(set(names))
    for family in table.families:
        assert re.fullmatch(r"[A-Z]{2}", family.country)
        assert family.maker and family.source and family.names
        assert "llama" not in family.architectures, "llama is used by too many families to be distinctive"
    owned = [a for f in table.families for a in f.architectures]
    assert len(owned) == len(set(owned)), "an architecture is claimed by two families"


@pytest.mark.parametrize(("name", "family"), CANONICAL_NAMES.items())
def test_canonical_names(name, family):
    assert default_table().classify(None, name).family == family


@pytest.mark.parametrize(
    "name", ["Philosopher-7B", "Yiddish-LM", "Nous-Hermes-2-Mistral-7B-DPO", "mystery", "model"]
)
def test_names_that_only_mention_a_family_or_none_stay_unknown(name):
    origin = default_table().classify(None, name)
    assert (origin.maker, origin.country, origin.family, origin.source) == (None, None, None, "unknown")


def test_malformed_table_is_refused(tmp_path):
    bad = tmp_path / "origins.toml"
    bad.write_text('[[family]]\nfamily = "X"\nmaker = "X"\ncountry = "China"\nnames = ["x"]\nsource = "s"\n')
    with pytest.raises(OriginTableError, match="ISO 3166"):
        OriginTable.load(bad)
    bad.write_text('[[family]]\nfamily = "X"\nmaker = "X"\ncountry = "CN"\nnames = ["("]\nsource = "s"\n')
    with pytest.raises(OriginTableError, match="bad name pattern"):
        OriginTable.load(bad)


# --- classification -------------------------------------------------------


def test_distill_llama_is_deepseek_on_meta(tmp_path):
    origin = classify(tmp_path, "DeepSeek-R1-Distill-Llama-8B-Q4_K_M", name="DeepSeek R1 Distill Llama 8B")
    assert (origin.maker, origin.country, origin.family) == ("DeepSeek", "CN", "DeepSeek")
    assert (origin.base_maker, origin.base_country, origin.base_family) == ("Meta", "US", "Llama")
    assert origin.source == "table"
    assert origin.evidence == "name matches 'deepseek' in origins.toml; base: name says distilled into Llama"


def test_distill_qwen_is_cn_on_cn(tmp_path):
    origin = classify(
        tmp_path, "DeepSeek-R1-Distill-Qwen-1.5B", name="DeepSeek R1 Distill Qwen 1.5B", architecture="qwen2"
    )
    assert (origin.maker, origin.country, origin.base_maker, origin.base_country) == (
        "DeepSeek", "CN", "Alibaba (Qwen team)", "CN",
    )  # fmt: skip


def test_base_model_keys_come_first(tmp_path):
    origin = classify(
        tmp_path,
        "finetune",
        name="DeepSeek Something",
        base_models=[{"name": "Llama 3.1 8B", "organization": "Meta Llama"}],
    )
    assert (origin.maker, origin.base_family, origin.base_country) == ("DeepSeek", "Llama", "US")
    assert "base model 0 organization 'Meta Llama'" in origin.evidence


def test_organization_alias_beats_the_name(tmp_path):
    origin = classify(tmp_path, "mystery", name="Mystery Model", organization="Qwen")
    assert (origin.maker, origin.country, origin.family) == ("Alibaba (Qwen team)", "CN", "Qwen")
    assert origin.evidence == "organization 'Qwen' is listed in origins.toml"


def test_unknown_name_on_a_qwen_architecture_gets_only_the_base(tmp_path):
    origin = classify(tmp_path, "mystery-7b", name="Mystery 7B", architecture="qwen2")
    assert (origin.maker, origin.country, origin.family, origin.source) == (None, None, None, "unknown")
    assert (origin.base_maker, origin.base_country, origin.base_family) == (
        "Alibaba (Qwen team)",
        "CN",
        "Qwen",
    )
    assert origin.evidence == (
        "nothing in origins.toml matches file name 'mystery-7b', name 'Mystery 7B', architecture 'qwen2'; "
        "base: architecture qwen2 is Qwen's"
    )


def test_unknown_stays_unknown(tmp_path):
    origin = classify(tmp_path, "my-model", name="My Model", organization="Some Lab")
    assert (origin.maker, origin.country, origin.base_maker, origin.base_country) == (None, None, None, None)
    assert origin.source == "unknown"


def test_own_architecture_is_no_base(tmp_path):
    origin = classify(tmp_path, "gemma-3-1b-it", name="Gemma 3 1b It", architecture="gemma3")
    assert (origin.maker, origin.base_maker) == ("Google", None)


def test_borrowed_architecture_is_no_base(tmp_path):
    origin = classify(tmp_path, "Kimi-K2-Instruct", name="Kimi K2 Instruct", architecture="deepseek2")
    assert (origin.maker, origin.country, origin.base_maker) == ("Moonshot AI", "CN", None)


def test_file_name_is_the_last_resort(tmp_path):
    origin = classify(tmp_path, "qwen2.5-0.5b-instruct-q4_k_m", name=None)
    assert origin.maker == "Alibaba (Qwen team)"
    assert origin.evidence == "file name matches 'qwen' in origins.toml"


@pytest.mark.starter
def test_real_qwen_is_alibaba_without_an_organization(starter_paths):
    _, qwen = starter_paths
    meta = metadata_of(qwen)
    assert meta.organization is None
    origin = default_table().classify(meta, "qwen")
    assert (origin.maker, origin.country, origin.family) == ("Alibaba (Qwen team)", "CN", "Qwen")
    assert origin.evidence == "name matches 'qwen' in origins.toml"


@pytest.mark.starter
def test_real_smollm_is_hugging_face(starter_paths):
    smollm, _ = starter_paths
    origin = default_table().classify(metadata_of(smollm), "SmolLM2-135M-Instruct.Q4_1")
    assert (origin.maker, origin.country, origin.family) == ("Hugging Face", "US", "SmolLM")


# --- overrides ------------------------------------------------------------


def test_override_wins_and_is_marked(tmp_path):
    overrides = OriginOverrides(tmp_path / "config" / "origin_overrides.json")
    table_origin = default_table().classify(None, "Nous-Hermes-2-Mistral-7B")
    model = tmp_path / "hermes.gguf"
    model.write_bytes(b"x")

    overrides.set(override_key(None, model), "Nous Research", "us")
    origin = overrides.apply(table_origin, None, model)
    assert (origin.maker, origin.country, origin.source) == ("Nous Research", "US", "override")
    assert origin.evidence.startswith("set by you in origin_overrides.json")

    stored = json.loads(overrides.file.read_text())
    assert stored == {str(model.resolve()): {"maker": "Nous Research", "country": "US"}}
    assert [p.name for p in overrides.file.parent.iterdir()] == ["origin_overrides.json"]  # no temp left


def test_override_by_hash_beats_path(tmp_path):
    overrides = OriginOverrides(tmp_path / "o.json")
    model = tmp_path / "m.gguf"
    overrides.set(override_key(None, model), "By Path", "FR")
    overrides.set(override_key("ab" * 32, model), "By Hash", "DE")
    origin = overrides.apply(default_table().classify(None, "m"), "ab" * 32, model)
    assert (origin.maker, origin.country) == ("By Hash", "DE")
    overrides.remove("ab" * 32)
    assert overrides.get("ab" * 32, model) == {"maker": "By Path", "country": "FR"}


def test_override_validation(tmp_path):
    overrides = OriginOverrides(tmp_path / "o.json")
    with pytest.raises(ValueError, match="two-letter"):
        overrides.set("k", "Maker", "China")
    with pytest.raises(ValueError, match="maker"):
        overrides.set("k", "  ", "CN")
    assert not overrides.file.exists()


def test_damaged_overrides_file_reads_as_none_and_is_not_overwritten(tmp_path):
    file = tmp_path / "o.json"
    file.write_text("{not json")
    overrides = OriginOverrides(file)
    origin = default_table().classify(None, "qwen")
    assert overrides.apply(origin, None, tmp_path / "x.gguf") == origin
    with pytest.raises(EnvironmentProblem, match="Fix or delete it"):
        overrides.set("k", "Maker", "CN")
    assert file.read_text() == "{not json"


def test_default_overrides_file_is_in_config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "cfg"))
    assert OriginOverrides().file == tmp_path / "cfg" / "origin_overrides.json"
