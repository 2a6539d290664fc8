"""Fixtures shared by the whole suite.

Every test runs with the workbench's folders (data, config, cache, notebook)
pointed at its own temporary directory, so no test reads or writes the
user's real files. Tiny GGUF models come from gguf_factory; the real starter
pair is prepared once per session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gguf_factory import write_tiny_model  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """data/, config/, cache/ and notebook.sqlite inside the test's tmp_path."""
    root = tmp_path
    for var, sub in (
        ("WORKBENCH_DATA_DIR", "data"),
        ("WORKBENCH_CONFIG_DIR", "config"),
        ("WORKBENCH_CACHE_DIR", "cache"),
    ):
        monkeypatch.setenv(var, str(root / sub))
    monkeypatch.setenv("WORKBENCH_DB", str(root / "notebook.sqlite"))
    monkeypatch.delenv("WORKBENCH_MODEL_DIRS", raising=False)
    # Other apps' model folders: never the real ones of whoever runs the tests.
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loadable 160 KB llama with a ChatML template."""
    return write_tiny_model(tmp_path_factory.mktemp("models") / "tiny-chat.gguf")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with two different tiny models, for comparisons."""
    folder = tmp_path_factory.mktemp("two-models")
    write_tiny_model(folder / "tiny-alpha.gguf", name="Tiny Alpha", seed=1)
    write_tiny_model(folder / "tiny-beta.gguf", name="Tiny Beta", seed=2)
    return folder


@pytest.fixture(scope="session")
def starter_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A data folder holding the real starter pair, assembled and verified once
    per session, and the pair's files (US model first).

    `make test` installs the starter packages, so a missing one is a failure, not a skip.
    """
    from workbench.core import starter

    data = tmp_path_factory.mktemp("starter-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_DATA_DIR", str(data))
        files = [starter.prepare(model) for model in starter.STARTER_MODELS]
    return data, files


@pytest.fixture
def starter_paths(starter_data: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The starter pair's files, with WORKBENCH_DATA_DIR pointing at the folder that holds them."""
    data, files = starter_data
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data))
    return files
