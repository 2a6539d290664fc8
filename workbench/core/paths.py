"""Where the workbench keeps its files on this machine.

Every location can be moved with an environment variable, so tests, CI and
portable installs never touch the user's real folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "model-values-workbench"


def _from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    """Notebook, assembled starter models, the workbench's own models folder."""
    return _from_env("WORKBENCH_DATA_DIR", Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def config_dir() -> Path:
    """User settings shared by the CLI and the window (model folders, origin overrides)."""
    return _from_env("WORKBENCH_CONFIG_DIR", Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)))


def cache_dir() -> Path:
    """Things that can be recomputed: file hashes, parsed GGUF metadata."""
    return _from_env("WORKBENCH_CACHE_DIR", Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))


def models_dir() -> Path:
    """The workbench's own models folder; files dropped here are always found."""
    return data_dir() / "models"


def default_notebook() -> Path:
    """`--db` wins over `WORKBENCH_DB`, which wins over this."""
    return _from_env("WORKBENCH_DB", data_dir() / "notebook.sqlite")


def frozen_app() -> bool:
    """True in the desktop app PyInstaller builds (build.spec), where advice about a
    source install (`make`, pip, the `starter` extra) would be untrue: nothing can
    be installed into the app, and it carries no models."""
    return bool(getattr(sys, "frozen", False))


def resources_dir() -> Path:
    """The project's `resources/` folder: beside the package in a checkout or an
    editable install, and unpacked next to the executable in a PyInstaller build."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
