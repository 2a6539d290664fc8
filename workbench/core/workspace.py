"""What a front end opens: settings, the starter pair, the catalog, the notebook.

The CLI and the window build the same `Workspace`, so "which models are
there" and "where is the notebook" have one answer. Everything slow here
(assembling the starter model, scanning, opening the notebook) blocks: the
window calls it off the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import paths, starter
from .catalog import Catalog, CatalogCache, ModelEntry
from .catalog.cache import FileKey
from .comparison import Comparison
from .engine.pool import Loader, ModelPool
from .errors import EnvironmentProblem
from .notebook import Notebook, open_chosen_notebook
from .settings import Settings, env_model_folders

STARTER_SOURCE = "starter"


class Workspace:
    def __init__(
        self,
        db_path: Path | str | None = None,
        extra_folders: Sequence[Path] = (),
        *,
        home: Path | None = None,
        include_other_apps: bool = True,
        with_starter: bool | None = None,
        create_notebook: bool = True,
        loader: Loader | None = None,
    ) -> None:
        """`db_path` None means the default notebook. `create_notebook=False`: what is
        asked needs a notebook that already exists (see open_chosen_notebook).

        `loader` is the test seam: what builds the pool's models (`engine.pool.Loader`).
        None, as the front ends leave it, loads each GGUF file in its own llama.cpp
        process; tests that only need text to arrive pass a loader of scripted
        backends (tests/fake_model.py), so only llama's own tests pay for llama."""
        self.db_path = Path(db_path).expanduser() if db_path else paths.default_notebook()
        self._given_db = db_path
        self._create_notebook = create_notebook
        self.settings = Settings.load()
        self.cache = CatalogCache()
        # WORKBENCH_NO_STARTER=1 hides the starter pair (for users with their own models, and tests).
        self.with_starter = with_starter if with_starter is not None else not os.environ.get("WORKBENCH_NO_STARTER")
        self.starter_paths: list[tuple[Path, str]] = []  # (file, display name)
        self.starter_problems: list[str] = []
        self.starter_missing: list[str] = []  # the names of the starter models not ready, one problem each
        self._extra_folders = list(extra_folders)
        self._home = home
        self._include_other_apps = include_other_apps
        self._notebook: Notebook | None = None
        self._comparison: Comparison | None = None
        self.pool = ModelPool(loader=loader)
        self.catalog = self._new_catalog()

    # --- models ---------------------------------------------------------

    def prepare_starter(self, progress: Callable[[str], None] | None = None) -> None:
        """Find (and the first time, assemble) the starter pair; problems are kept, not raised,
        so a broken starter install never hides the user's own models."""
        self.starter_paths, self.starter_problems, self.starter_missing = [], [], []
        if not self.with_starter:
            return
        for model in starter.STARTER_MODELS:
            try:
                path = starter.prepare(model, self._known_sha256, progress)
            except EnvironmentProblem as problem:
                self.starter_problems.append(str(problem))
                self.starter_missing.append(model.name)
                continue
            self.cache.remember_sha256(path, model.sha256)
            self.starter_paths.append((path, model.name))
        self.catalog = self._new_catalog()

    def _known_sha256(self, path: Path) -> str | None:
        try:
            cached = self.cache.get(FileKey.of(path))
        except OSError:
            return None
        return cached.sha256 if cached else None

    def _new_catalog(self) -> Catalog:
        folders = [Path(f) for f in self.settings.model_folders] + env_model_folders() + self._extra_folders
        return Catalog(
            folders=folders,
            extra_files=[(path, STARTER_SOURCE, name) for path, name in self.starter_paths],
            home=self._home,
            include_other_apps=self._include_other_apps,
            cache=self.cache,
        )

    def add_folder(self, folder: Path) -> None:
        self.settings.add_folder(folder)
        self.catalog = self._new_catalog()

    def starter_entries(self) -> list[ModelEntry]:
        """The default comparison: the starter models that are ready, US first."""
        wanted = [path.resolve() for path, _ in self.starter_paths]
        entries = [e for e in self.catalog.entries() if e.source == STARTER_SOURCE and e.path.resolve() in wanted]
        return sorted(entries, key=lambda e: wanted.index(e.path.resolve()))

    def starter_shortfall(self) -> str | None:
        """What a front end says before it asks the starter pair when only part of it is ready
        (a desktop app beside a Qwen file joined by a source install, a package removed): which
        model is left out and why, the problem saying how to get it, so one model is never
        passed off as the pair. None when the pair is whole, or when none is ready (no
        comparison then: the caller's error says so)."""
        ready = self.starter_entries()
        if not ready or not self.starter_missing:
            return None
        return (
            f"Only {', '.join(e.name for e in ready)} of the starter pair is ready; {', '.join(self.starter_missing)} is missing. "
            + " ".join(self.starter_problems)
        )

    # --- notebook and runs ----------------------------------------------

    @property
    def notebook(self) -> Notebook:
        if self._notebook is None:
            self._notebook = open_chosen_notebook(self._given_db, create=self._create_notebook)
        return self._notebook

    def last_ran_on(self) -> dict[str, dict[str, Any]]:
        """What each model last ran on, by SHA-256 (Notebook.last_ran_on); nothing, and no
        notebook made, where there is none yet. Raises NotebookProblem as opening does."""
        if self._notebook is None and not self.db_path.is_file():
            return {}
        return self.notebook.last_ran_on()

    @property
    def comparison(self) -> Comparison:
        if self._comparison is None:
            self._comparison = Comparison(self.notebook, self.catalog, self.pool)
        self._comparison.catalog = self.catalog
        return self._comparison

    def close(self) -> None:
        self.pool.close()
        if self._notebook is not None:
            self._notebook.close()
            self._notebook = None
        self.cache.close()
