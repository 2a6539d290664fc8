"""The model library: finding models, choosing them for the panes, their details.

`Library` scans the catalog off the GUI thread (the starter pair, the folders and
files the user added, other apps' folders), keeps the result in the shared
`ModelLibrary`, and puts models into panes: the starter pair or last time's on
first launch, the models named on the command line, the library's "use in a
pane", and files opened or dropped. The details dialog hashes a file and sets
or removes a maker/country override, which rescans.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog

from ...core.catalog import ModelEntry
from ...core.catalog.overrides import override_key
from ...core.errors import EnvironmentProblem
from ...core.paths import models_dir
from ..panes.compare_area import CompareArea
from ..shared.actions import FileActions, MIN_PANES
from ..shared.context import Activity, Context, ModelLibrary
from .endpoints import Endpoints, endpoint_url
from .get_models import GetModels
from .empty_state import AppFinding, EmptyState, look_in_other_apps
from .library import LibraryPanel
from .model_details import ModelDetailsDialog


STARTER_NOTICE = "starter"  # the message bar's key for a starter pair that is only half ready


@dataclass(frozen=True)
class LibraryScan:
    """What one catalog scan found, gathered on the worker thread."""

    entries: list[ModelEntry]
    problems: list[str]
    starter_ids: list[str]
    starter_problems: list[str]
    findings: list[AppFinding]
    searched_other_apps: bool
    opened: list[tuple[Path, ModelEntry | None]]  # files the user just opened, and their entries
    with_starter: bool = True  # False: WORKBENCH_NO_STARTER, so the empty state does not offer the pair
    folders: tuple[Path, ...] = ()  # the model folders scanned (the workbench's own first)
    starter_shortfall: str | None = None  # only part of the starter pair is ready: which is missing, why


def _entry_for_file(entries: list[ModelEntry], path: Path) -> ModelEntry | None:
    """The entry that lists `path` as one of its files (touches the disk: worker thread only)."""
    wanted = path.resolve()
    return next((e for e in entries if any(f.resolve() == wanted for f in e.files)), None)


class Library(QObject):
    catalogLoaded = Signal()  # a scan of the model library finished (or failed, and said why)
    panesReady = Signal()  # the first models are in the panes (or could not be found)
    modelsFound = Signal(bool)  # after a scan: whether any model can run (else the empty state shows)
    paneModelsChanged = Signal()  # models were put into panes
    progress = Signal(str)  # what a long first scan is doing (preparing the starter pair)

    def __init__(
        self,
        ctx: Context,
        models: ModelLibrary,
        activity: Activity,
        actions: FileActions,
        area: CompareArea,
        panel: LibraryPanel,
        empty_state: EmptyState,
        initial_models: list[str],
    ) -> None:
        super().__init__(ctx.parent)
        self.ctx, self.models, self.activity, self.area, self.panel, self.empty_state = ctx, models, activity, area, panel, empty_state
        self._initial_models = list(initial_models)
        self._first_scan_done = False
        self._details: ModelDetailsDialog | None = None
        self._library_problems: list[str] = []
        self.starter_ids: list[str] = []
        self.starter_problems: list[str] = []
        self.startup_problems: list[str] = []
        actions.open_file.triggered.connect(self._choose_model_file)
        actions.add_folder.triggered.connect(self._choose_model_folder)
        actions.rescan.triggered.connect(lambda: self.rescan())
        self.endpoints = Endpoints(ctx, lambda: self.rescan())
        actions.endpoints.triggered.connect(lambda: self.endpoints.open())
        empty_state.endpointsRequested.connect(lambda: self.endpoints.open())
        self.get_models = GetModels(ctx, lambda paths: self.rescan(just_opened=paths))
        actions.get_models.triggered.connect(lambda: self.get_models.open())
        empty_state.getModelsRequested.connect(lambda: self.get_models.open())
        empty_state.openFileRequested.connect(self._choose_model_file)
        empty_state.addFolderRequested.connect(self._choose_model_folder)
        panel.useRequested.connect(self.use_model)
        panel.detailsRequested.connect(self.show_details)
        panel.openFileRequested.connect(self._choose_model_file)
        panel.addFolderRequested.connect(self._choose_model_folder)
        panel.rescanRequested.connect(lambda: self.rescan())
        models.changed.connect(lambda: area.set_entries(models.entries))

    @property
    def details(self) -> ModelDetailsDialog | None:
        """The model details dialog, while one is open."""
        return self._details

    @property
    def scanned(self) -> bool:
        """The first scan is done: from then on, the panes' models are worth remembering."""
        return self._first_scan_done

    def rescan(self, prepare_starter: bool = False, just_opened: tuple[Path, ...] = ()) -> None:
        """Scan for models in the background; files in `just_opened` go into panes afterwards."""
        ws = self.ctx.workspace
        remembered = [Path(f) for f in self.ctx.prefs.opened_files]
        progress = self.progress.emit

        def scan() -> LibraryScan:
            if prepare_starter:
                ws.prepare_starter(progress)
            catalog = ws.catalog
            listed = {extra[0] for extra in catalog.extra_files}  # (path, source[, name])
            catalog.extra_files += [(path, "file") for path in remembered if path not in listed]
            entries = catalog.scan()
            return LibraryScan(
                entries=entries,
                problems=list(catalog.problems),
                starter_ids=[e.id for e in ws.starter_entries()],
                starter_problems=list(ws.starter_problems),
                findings=look_in_other_apps(catalog, entries),
                searched_other_apps=catalog.include_other_apps,
                opened=[(path, _entry_for_file(entries, path)) for path in just_opened],
                with_starter=ws.with_starter,
                folders=(models_dir(), *catalog.folders),
                starter_shortfall=ws.starter_shortfall(),
            )

        self.ctx.catalog_tasks.submit(scan, self._library_scanned, self._library_scan_failed)

    def _library_scan_failed(self, problem: EnvironmentProblem) -> None:
        """Say why; on the first scan, still leave the loading state (the user can add models
        another way); later, keep the library as it was."""
        self.ctx.feedback.environment_problem(problem)
        if not self._first_scan_done:
            self._library_scanned(LibraryScan([], [], [], [], [], False, [], self.ctx.workspace.with_starter))

    def _library_scanned(self, scan: LibraryScan) -> None:
        self.models.replace(scan.entries)
        self.starter_ids, self.starter_problems = scan.starter_ids, scan.starter_problems
        self._library_problems = scan.problems + scan.starter_problems
        self.panel.set_entries(scan.entries, self._library_problems)
        self.empty_state.set_findings(scan.findings, scan.searched_other_apps, scan.starter_problems)
        self.empty_state.set_ways_in(scan.with_starter, scan.folders)
        ready = [e for e in scan.entries if e.ok]
        self.modelsFound.emit(bool(ready))
        first = not self._first_scan_done
        self._first_scan_done = True
        self._place_opened_files(scan.opened)
        details = self._details
        fresh = self.models.get(details.entry.id) if details is not None else None
        if details is not None and fresh is not None:
            details.set_entry(fresh)
        self.ctx.feedback.status(f"{len(ready)} model(s) ready, {len(scan.entries)} found.", 5000)
        self.activity.library_scanned()
        self.catalogLoaded.emit()
        if first:
            self._choose_first_models(scan, ready)

    def _choose_first_models(self, scan: LibraryScan, ready: list[ModelEntry]) -> None:
        """First launch: the starter pair; later: the models chosen last time."""
        if self._initial_models:
            self._use_initial_models()
            return
        saved = self.ctx.prefs.pane_models
        chosen = [pane.select(model) for pane, model in zip(self.area.panes, saved or [])]
        if not any(chosen):
            default = scan.starter_ids or [e.id for e in ready[:MIN_PANES]]
            if scan.starter_ids and scan.starter_shortfall:
                # One pane of the pair must not pass for the comparison: say which is missing.
                self.ctx.feedback.notice(STARTER_NOTICE, scan.starter_shortfall)
            self.area.set_count(len(default))
            for pane, entry_id in zip(self.area.panes, default):
                pane.select(entry_id)
        self.paneModelsChanged.emit()
        self.panesReady.emit()

    def _use_initial_models(self) -> None:
        """Models named by the caller (`workbench --model ID`), resolved like the CLI does."""
        ws = self.ctx.workspace
        ids = self._initial_models

        def chosen(entries: list[ModelEntry]) -> None:
            self.use_models(entries)
            self.panesReady.emit()

        def failed(problem: EnvironmentProblem) -> None:
            self.startup_problems.append(str(problem))
            self.ctx.feedback.problem("models", str(problem))
            self.panesReady.emit()

        self.ctx.catalog_tasks.submit(lambda: [ws.catalog.resolve(i) for i in ids], chosen, failed)

    def use_models(self, entries: list[ModelEntry]) -> None:
        """Put these models in the panes, one each, in order (the screenshot mode and the CLI)."""
        for entry in entries:
            if entry.id not in self.models:
                self.models.put(entry)
        self.area.set_count(len(entries))
        for pane, entry in zip(self.area.panes, entries):
            pane.select(entry.id)
        for pane in self.area.panes[len(entries):]:
            pane.select(None)
        self.paneModelsChanged.emit()

    def use_model(self, entry_id: str, pane_index: int = -1) -> None:
        """The library's "use in a pane": the given pane, else the first empty one, else a new one.
        Panes keep their models while a run streams."""
        if self.activity.panes_busy:
            self.ctx.feedback.status("Wait for the run to finish (or stop it) before changing models.", 5000)
            return
        panes = self.area.panes
        if 0 <= pane_index < len(panes):
            target = panes[pane_index]
        else:
            target = next((p for p in panes if p.entry is None), None) or self.area.add_pane() or panes[-1]
        target.select(entry_id)
        self.paneModelsChanged.emit()

    def open_model_file(self, path: Path) -> None:
        """Add one GGUF file to the library (remembered across restarts) and use it in a pane."""
        path = Path(os.path.abspath(Path(path).expanduser()))
        opened = self.ctx.prefs.opened_files
        if str(path) not in opened:
            self.ctx.prefs.opened_files = opened + [str(path)]
        self.rescan(just_opened=(path,))

    def add_model_folder(self, folder: Path) -> None:
        folder = Path(folder).expanduser()
        ws = self.ctx.workspace
        self.ctx.catalog_tasks.submit(lambda: ws.add_folder(folder), lambda _: self.rescan())

    def _place_opened_files(self, opened: list[tuple[Path, ModelEntry | None]]) -> None:
        for path, entry in opened:
            if entry is None:
                self.ctx.feedback.problem(f"open:{path}", f"{path} was not found as a model.")
            elif not entry.ok:
                self.ctx.feedback.problem(f"open:{path}", f"{entry.name} can't be loaded: {entry.status}")
            else:
                self.use_model(entry.id)

    def _choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.ctx.parent, "Open a GGUF model", str(Path.home()), "GGUF models (*.gguf);;All files (*)")
        if path:
            self.open_model_file(Path(path))

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.ctx.parent, "Add a folder of GGUF models", str(Path.home()))
        if folder:
            self.add_model_folder(Path(folder))

    def add_dropped(self, path: Path) -> None:
        """A dropped folder is added as a model folder, a dropped file is opened as a model
        (which one it is, is asked off the GUI thread)."""
        ws = self.ctx.workspace

        def sort() -> str:
            if path.is_dir():
                ws.add_folder(path)
                return "folder"
            return "file"

        self.ctx.catalog_tasks.submit(sort, lambda kind: self.rescan() if kind == "folder" else self.open_model_file(path))

    # --- model details and origin overrides -----------------------------------------------

    def show_details(self, entry_id: str) -> ModelDetailsDialog | None:
        entry = self.models.get(entry_id)
        if entry is None:
            return None
        if self._details is not None:
            self._details.close()
        dialog = ModelDetailsDialog(entry, self.ctx.parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.hashRequested.connect(self._hash_entry)
        dialog.overrideRequested.connect(self._set_override)
        dialog.overrideRemovalRequested.connect(self._remove_override)
        dialog.finished.connect(lambda _result, d=dialog: self._details_closed(d))
        self._details = dialog
        if entry.remote:
            self.ctx.catalog_tasks.submit(lambda: endpoint_url(entry.endpoint), lambda url: self._endpoint_url_read(dialog, url), self._details_problem)
        else:
            self._read_ran_on(dialog, entry)
        dialog.show()
        return dialog

    def _read_ran_on(self, dialog: ModelDetailsDialog, entry: ModelEntry) -> None:
        """What the model last ran on, from the notebook (its newest answer's record), found by
        its SHA-256: until that is computed, the dialog says so."""
        sha = entry.sha256
        if sha is None:
            dialog.set_ran_on(None, hashed=False)
            return
        ws = self.ctx.workspace

        def shown(record: dict[str, Any] | None) -> None:
            if self._details is dialog:  # not closed meanwhile
                dialog.set_ran_on(record)

        self.ctx.notebook_tasks.submit(lambda: ws.notebook.last_ran_on(sha).get(sha), shown, self._details_problem)

    def _endpoint_url_read(self, dialog: ModelDetailsDialog, url: str | None) -> None:
        if self._details is dialog:  # not closed meanwhile
            dialog.set_endpoint_url(url)

    def _details_closed(self, dialog: ModelDetailsDialog) -> None:
        if self._details is dialog:
            self._details = None

    def _hash_entry(self, entry_id: str) -> None:
        entry = self.models.get(entry_id)
        if entry is None:  # gone in a rescan while its details were open
            return
        ws = self.ctx.workspace
        self.ctx.catalog_tasks.submit(lambda: ws.catalog.ensure_sha256(entry), self._entry_updated, self._details_problem)

    def _entry_updated(self, entry: ModelEntry) -> None:
        self.models.put(entry)
        self.panel.set_entries(self.models.entries, self._library_problems)
        if self._details is not None and self._details.entry.id == entry.id:
            hashed_now = self._details.entry.sha256 is None and entry.sha256 is not None
            self._details.set_entry(entry)
            if hashed_now and not entry.remote:
                self._read_ran_on(self._details, entry)  # its answers in the notebook can be found now

    def _set_override(self, entry_id: str, maker: str, country: str | None) -> None:
        entry = self.models.get(entry_id)
        if entry is None:  # gone in a rescan while its details were open
            return
        ws = self.ctx.workspace
        key = override_key(entry.sha256, entry.path)
        self.ctx.catalog_tasks.submit(lambda: ws.catalog.overrides.set(key, maker, country), lambda _: self.rescan(), self._details_problem)

    def _remove_override(self, entry_id: str) -> None:
        entry = self.models.get(entry_id)
        if entry is None:  # gone in a rescan while its details were open
            return
        ws = self.ctx.workspace

        def remove() -> None:
            for key in {override_key(entry.sha256, entry.path), override_key(None, entry.path)}:
                ws.catalog.overrides.remove(key)

        self.ctx.catalog_tasks.submit(remove, lambda _: self.rescan(), self._details_problem)

    def _details_problem(self, problem: EnvironmentProblem) -> None:
        if self._details is not None:
            self._details.show_problem(str(problem))
        else:
            self.ctx.feedback.environment_problem(problem)

