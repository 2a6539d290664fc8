"""File > Get models…: downloads from the hub off the GUI thread (core/downloads).

`DownloadThread` runs `hub.pull` (the hub's metadata, the transfer, the SHA-256 check)
on a thread of its own through `BackgroundWork`, its progress queued to the GUI thread;
Cancel sets its Cancel, which the download checks between chunks, and what arrived is
kept for the next Download. A verified file is in the models folder when `finished`
arrives: the library rescans and puts it in a pane, where its origin shows. Closing the
dialog cancels a download; the same choice later resumes it. The Mirror field is kept in
settings.json ("hub_mirror"), saved on the catalog queue when a download starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ...core.downloads.curated import curated_models
from ...core.downloads.hub import MIRROR_SETTING, Downloaded, Progress, format_bytes, pull, save_mirror
from ..shared.background import BackgroundWork
from ..shared.context import Context
from .get_models_dialog import GetModelsDialog


class DownloadThread(BackgroundWork):
    """One download at a time. `progress` carries core's Progress (at most four a second);
    `finished` the Downloaded, or None after a problem or Cancel (`failed` says which)."""

    progress = Signal(object)

    def start(self, repo: str, file: str, mirror: str | None) -> None:
        self._launch("download", lambda cancel: pull(repo, file, mirror=mirror, progress=self.progress.emit, cancel=cancel))


class GetModels(QObject):
    """Owns File > Get models…; `rescan(paths)` is the library's, which puts `paths` in panes."""

    def __init__(self, ctx: Context, rescan: Callable[[tuple[Path, ...]], None]) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        self._rescan = rescan
        self._dialog: GetModelsDialog | None = None
        self.downloads = DownloadThread(self)
        self.downloads.progress.connect(self._progress)
        self.downloads.failed.connect(self._failed)
        self.downloads.finished.connect(self._finished)

    @property
    def dialog(self) -> GetModelsDialog | None:
        """The Get models dialog, while one is open."""
        return self._dialog

    def open(self) -> None:
        if self._dialog is not None:
            self._dialog.raise_()
            return
        saved = self.ctx.workspace.settings.others.get(MIRROR_SETTING)  # in memory: no disk on the GUI thread
        dialog = GetModelsDialog(curated_models(), saved if isinstance(saved, str) else "", os.environ.get("HF_ENDPOINT", ""), self.ctx.parent)
        dialog.downloadRequested.connect(self._start)
        dialog.cancelRequested.connect(self.downloads.stop)
        dialog.finished.connect(self._closed)
        self._dialog = dialog
        dialog.show()

    def _start(self, repo: str, file: str, mirror: str) -> None:
        if self.downloads.running or self._dialog is None:
            return
        settings = self.ctx.workspace.settings
        if mirror != settings.others.get(MIRROR_SETTING, ""):
            # On the catalog queue, where model folders are saved too: one writer of settings.json.
            self.ctx.catalog_tasks.submit(lambda: save_mirror(settings, mirror))
        self._dialog.set_running(True)
        self._dialog.show_line(f"Asking the hub about {repo}/{file} …")
        self.downloads.start(repo, file, mirror or None)

    def _progress(self, progress: Progress) -> None:
        if self._dialog is not None:
            self._dialog.show_progress(progress)

    def _failed(self, problem: str) -> None:
        if self._dialog is not None:
            self._dialog.show_line(problem)
        else:
            self.ctx.feedback.problem("download", f"Download: {problem}")

    def _finished(self, done: Downloaded | None) -> None:
        if self._dialog is not None:
            self._dialog.set_running(False)
        if done is None:
            return
        said = "was already in the library" if done.already_there else f"downloaded ({format_bytes(done.remote.size)}), SHA-256 matches the hub's"
        line = f"{done.remote.file} {said}: it is in the library and in a pane."
        if self._dialog is not None:
            self._dialog.show_line(line)
        self.ctx.feedback.status(line, 10_000)
        self._rescan((done.path,))

    def _closed(self) -> None:
        self.downloads.stop()
        if self._dialog is not None:
            self._dialog.deleteLater()
        self._dialog = None
