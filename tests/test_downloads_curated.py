"""The curated list (resources/models.toml): every pair sets a US model beside a Chinese
one, and every file's name resolves through origins.toml to the maker and country the
list states, so a finished download shows the origin the "Get models" view promised."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.catalog.origins import default_table
from workbench.core.downloads.curated import CuratedListError, UnknownModelName, curated_models, load_curated
from workbench.core.downloads.hub import check_request


def test_every_pair_has_a_us_and_a_chinese_model() -> None:
    curated = curated_models()
    assert len(curated.pairs) >= 6
    for pair in curated.pairs:
        countries = {m.country for m in curated.in_pair(pair.id)}
        assert {"US", "CN"} <= countries, pair.id


@pytest.mark.parametrize("model", curated_models().models, ids=lambda m: m.name)
def test_each_curated_file_resolves_to_the_origin_the_list_states(model) -> None:
    origin = default_table().classify(None, Path(model.file).stem)
    assert (origin.maker, origin.country) == (model.maker, model.country)
    check_request(model.repo, model.file)  # a name the downloader takes


def test_the_lineage_pair_is_a_chinese_fine_tune_of_a_us_base() -> None:
    curated = curated_models()
    distill = curated.find("deepseek-r1-distill-llama-8b")
    origin = default_table().classify(None, Path(distill.file).stem)
    assert origin.base_country == "US" and distill.base
    assert any(m.country == "US" and m.name.startswith("llama-3.1") for m in curated.in_pair("lineage"))


def test_an_unknown_name_says_where_the_names_are() -> None:
    with pytest.raises(UnknownModelName, match=r"`workbench pull --list` shows the names"):
        curated_models().find("llama-9000")
    assert curated_models().find(" Qwen3-4B ").repo == "Qwen/Qwen3-4B-GGUF"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[model]]\nname = "x"\n', "pairs must list ids"),
        ('[[pair]]\nid = "a"\ntitle = "A"\ndemo = "d"\n[[model]]\nname = "Bad Name"\n', "names are lower-case"),
    ],
)
def test_a_malformed_list_names_the_entry(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CuratedListError, match=problem):
        load_curated(path)
