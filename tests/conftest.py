"""Fixtures shared by the whole suite.

Every test runs with the workbench's folders (data, config, cache, notebook)
pointed at its own temporary directory, so no test reads or writes the
user's real files. Tiny GGUF models come from gguf_factory; the real starter
pair is prepared once per session. A test that only needs text to arrive asks
for `scripted_workspace` (the tiny models' files, answered by a script from
fake_model, no llama process), or `scripted_models` for a CLI command run in
the test's process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gguf_factory import write_tiny_model  # noqa: E402
from endpoint_servers import fault_proxy, llama_proxy, llama_server, memory_keyring, no_keychain, stub_server  # noqa: E402, F401 - fixtures
from fake_hub import fake_hub  # noqa: E402, F401 - fixture

if TYPE_CHECKING:
    from fake_model import Answer, FakeLoader, OnCall
    from workbench.core.workspace import Workspace


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


@pytest.fixture
def scripted_workspace(tiny_models: Path, tmp_path: Path) -> Iterator[Callable[[Answer], Workspace]]:
    """Builds a Workspace (notebook tmp_path/nb.sqlite) whose catalog holds the two tiny
    models, tiny-alpha ("Tiny Alpha") and tiny-beta ("Tiny Beta"), and whose models answer
    `answer(display_name, prompt)` through the `loader` seam instead of llama:
    `ws = scripted_workspace(lambda model, prompt: "Paris.")`. The backends built are in
    `ws.pool.loader.loaded`. Every workspace built is closed after the test."""
    from fake_model import FakeLoader
    from workbench.core.workspace import Workspace  # imported late, as the tests do

    built: list[Workspace] = []

    def build(answer: Answer) -> Workspace:
        ws = Workspace(tmp_path / "nb.sqlite", [tiny_models], include_other_apps=False, with_starter=False, loader=FakeLoader(answer))
        built.append(ws)
        return ws

    yield build
    for ws in built:
        ws.close()


@pytest.fixture
def scripted_models(monkeypatch: pytest.MonkeyPatch) -> Callable[[Answer], FakeLoader]:
    """For a front end run in this process (`cli_process.in_process`), which builds its own
    workspace: `scripted_models(answer)` makes every model pool built from then on answer
    `answer(display_name, prompt)` instead of starting llama (the default loader is the
    seam, engine/pool.py); `on_call` as FakeLoader's. Returns the loader: `.loaded` lists
    the backends built."""
    from fake_model import FakeLoader
    from workbench.core.engine import pool

    def script(answer: Answer, on_call: OnCall | None = None, stream_format: str = "think") -> FakeLoader:
        loader = FakeLoader(answer, on_call, stream_format)
        monkeypatch.setattr(pool, "start_local_model", loader)
        return loader

    return script
