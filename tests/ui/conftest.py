"""Fixtures for driving the real window offscreen against tiny GGUF models.

The suite's conftest already points the workbench's folders and notebook at
temporary ones; here HOME and the other apps' variables are isolated too, so
QSettings, the file dialogs' start folders and the discovery of LM Studio or
Ollama folders never see the user's machine. Tiny models (gguf_factory) load
in milliseconds and answer gibberish, which is all the plumbing needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402 - the platform must be chosen before Qt loads
from gguf_factory import write_tiny_model  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from window_helpers import TINY_PARAMS, WAIT_MS, Opened, StreamRecorder, close  # noqa: E402

from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.core.starter import StarterProblem  # noqa: E402
from workbench.core.workspace import Workspace  # noqa: E402
from workbench.ui.shell.main_window import MainWindow  # noqa: E402
from workbench.ui.shared.preferences import Preferences, default_settings_file  # noqa: E402
from workbench.ui.shared.tasks import TaskQueue  # noqa: E402



@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def app_appearance(qapp: QApplication) -> Iterator[None]:
    """The window changes the app-wide font, palette and style: give them back after each test."""
    font, palette, style = qapp.font(), qapp.palette(), qapp.style().name()
    yield
    qapp.setFont(font)
    qapp.setPalette(palette)
    qapp.setStyle(style)


@pytest.fixture
def tiny_models(tmp_path: Path) -> Path:
    """A folder with one US and one Chinese tiny model (their origins come from their names)."""
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_model(folder / "SmolLM2-Tiny.gguf", name="SmolLM2 Tiny", organization="HuggingFaceTB", seed=1)
    write_tiny_model(folder / "Qwen2.5-Tiny.gguf", name="Qwen2.5 Tiny", seed=2)
    return folder


@pytest.fixture
def open_window(qtbot, tmp_path: Path) -> Iterator[Callable[..., Opened]]:
    """Open the real window on a workspace in tmp_path and wait until it is ready to run.

    Call it twice in one test to check what survives a restart (close the first one first).
    """
    opened: list[Opened] = []

    def open_(
        folders: list[Path] = (),
        *,
        with_starter: bool = False,
        params: GenerationParams | None = TINY_PARAMS,
        include_other_apps: bool = False,
        timeout: int = WAIT_MS,
    ) -> Opened:
        prefs = Preferences.at(default_settings_file())
        if params is not None and prefs.pane_models is None:
            prefs.shared_params = params
        workspace = Workspace(None, list(folders), home=tmp_path / "home", include_other_apps=include_other_apps, with_starter=with_starter)
        window = MainWindow(workspace, prefs)
        qtbot.addWidget(window)
        recorder = StreamRecorder(window)
        with qtbot.waitSignals([window.catalogLoaded, window.historyLoaded, window.panesReady], timeout=timeout):
            window.show()
            window.start()
        qtbot.waitUntil(lambda: not window.catalog_tasks.busy, timeout=timeout)
        result = Opened(window, workspace, recorder)
        opened.append(result)
        return result

    yield open_
    for item in opened:
        close(item)


@pytest.fixture
def starter_ready(request: pytest.FixtureRequest) -> list[Path]:
    """The real starter pair (prepared once per session by the suite's conftest), or a skip."""
    try:
        return request.getfixturevalue("starter_paths")
    except StarterProblem as problem:
        pytest.skip(f"the starter pair can't be prepared here: {problem}")


@pytest.fixture
def tasks(qapp) -> Iterator[TaskQueue]:
    """A task queue like the window's; it outlives the test's last queued signals."""
    queue = TaskQueue("notebook")
    yield queue
    queue.close(5000)
