"""File > Endpoints…: adding, testing and removing endpoints, all off the GUI thread.

Every request runs on the catalog's TaskQueue: a test writes the listing cache
that the next catalog scan reads, so the two never race, and the scan that
follows a test or a removal sees what it changed. Keys go from the password
field straight to the keychain on that thread; what comes back to the GUI is
where a key is kept, the models listed, or a problem's one line with any key
taken out (`secrets.redact`), never a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt

from ...core.endpoints.config import Endpoint, load_endpoints, remove_endpoint, save_endpoint
from ...core.endpoints.listing import forget
from ...core.endpoints.probe import probe
from ...core.endpoints.secrets import delete_key, get_key, redact, set_key
from ...core.errors import EnvironmentProblem
from ..shared.context import Context
from .endpoints_dialog import EndpointRow, EndpointsDialog

SHOWN_MODELS = 3  # a test's line names the first few models it found


@dataclass(frozen=True)
class Tested:
    """What a test of one endpoint found: its models, the model asked and its seed
    finding, or the problem (keys taken out)."""

    name: str
    models: tuple[str, ...] = ()
    problem: str | None = None
    asked: str | None = None
    seed: str | None = None


def _endpoint_rows() -> list[EndpointRow]:
    """The saved endpoints and where each one's key is kept (worker thread: settings and keychain)."""
    rows = []
    for ep in load_endpoints():
        if ep.key_env:
            source = f"environment variable {ep.key_env}"
        else:
            source = "in the keychain" if get_key(ep) else "no key"
        rows.append(EndpointRow(ep.name, ep.url, source, ep.concurrency))
    return rows


def endpoint_url(name: str | None) -> str | None:
    """The saved URL of the endpoint `name` (worker thread: it reads the settings)."""
    return next((ep.url for ep in load_endpoints() if ep.name == name), None)


def _test_endpoint(name: str) -> Tested:
    """List the endpoint's models, ask the first and check its seed (worker thread: the
    network). A problem is a result here, not a failure: it belongs on the dialog's line,
    with any key taken out of it."""
    ep = next((e for e in load_endpoints() if e.name == name), None)
    if ep is None:
        return Tested(name, problem=f"There is no endpoint named {name} any more.")
    key = get_key(ep)
    try:
        found = probe(ep, key)
    except EnvironmentProblem as problem:
        return Tested(name, problem=redact(str(problem), key))
    return Tested(name, found.models, asked=found.model_id, seed=found.seed.line())


def _add_endpoint(made: Callable[[], Endpoint], key: str) -> None:
    """Keep the key in the keychain, then the endpoint in the settings; if the settings refuse
    it, its key does not stay behind (worker thread, where a name or URL it refuses is
    reported like any other problem)."""
    ep = made()
    if key:
        set_key(ep.name, key)
    try:
        save_endpoint(ep)
    except EnvironmentProblem:
        if key:
            delete_key(ep.name)
        raise


def _remove_endpoint(name: str) -> None:
    """The endpoint, its key and its last listing go (worker thread)."""
    remove_endpoint(name)
    delete_key(name)
    forget(name)


def tested_line(result: Tested) -> str:
    """"lab lists 3 models: a, b, c" or the problem (which names the endpoint): the dialog's one line."""
    if result.problem is not None:
        return result.problem
    count = len(result.models)
    if not count:
        return f"{result.name} answers but lists no models."
    shown = ", ".join(result.models[:SHOWN_MODELS]) + (f" and {count - SHOWN_MODELS} more" if count > SHOWN_MODELS else "")
    asked = f" {result.asked} answered; {result.seed}." if result.asked and result.seed else ""
    return f"{result.name} lists {count} model{'s' if count != 1 else ''}: {shown}. They are in the library.{asked}"


class Endpoints(QObject):
    """Owns File > Endpoints…; `rescan` is the library's, called after anything that changes
    which remote models there are."""

    def __init__(self, ctx: Context, rescan: Callable[[], None]) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        self._rescan = rescan
        self._dialog: EndpointsDialog | None = None

    @property
    def dialog(self) -> EndpointsDialog | None:
        """The Endpoints dialog, while one is open."""
        return self._dialog

    def open(self) -> EndpointsDialog:
        if self._dialog is None:
            dialog = EndpointsDialog(self.ctx.parent)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.addRequested.connect(self._add)
            dialog.testRequested.connect(self._test)
            dialog.removeRequested.connect(self._remove)
            dialog.finished.connect(lambda _result, d=dialog: self._closed(d))
            self._dialog = dialog
            self._refresh()
        self._dialog.show()
        self._dialog.raise_()
        return self._dialog

    def _closed(self, dialog: EndpointsDialog) -> None:
        if self._dialog is dialog:
            self._dialog = None

    # --- requests, each on the catalog's queue -------------------------------------------

    def _submit(self, work: Callable[[], object], done: Callable[[object], None]) -> None:
        if self._dialog is not None:
            self._dialog.set_busy(True)
        self.ctx.catalog_tasks.submit(work, lambda result: self._finish(done, result), self._problem)

    def _finish(self, done: Callable[[object], None], result: object) -> None:
        if self._dialog is not None:
            self._dialog.set_busy(False)
        done(result)

    def _problem(self, problem: EnvironmentProblem) -> None:
        if self._dialog is None:
            self.ctx.feedback.environment_problem(problem)
            return
        self._dialog.set_busy(False)
        self._dialog.show_result(str(problem), problem=True)
        self._refresh()

    def _refresh(self) -> None:
        self.ctx.catalog_tasks.submit(_endpoint_rows, self._show_rows, self._problem)

    def _show_rows(self, rows: list[EndpointRow]) -> None:
        if self._dialog is not None:
            self._dialog.set_endpoints(rows)

    def _add(self, name: str, url: str, key: str, key_env: str, concurrency: int) -> None:
        def made() -> Endpoint:
            return Endpoint(name=name, url=url, key_env=key_env or None, concurrency=concurrency)

        def added(_result: object) -> None:
            if self._dialog is not None:
                self._dialog.select(name)  # once the list holding it arrives
                self._dialog.show_result(f"Saved {name}; asking it for its models and testing one…")
            self._refresh()
            self._test(name)

        self._submit(lambda: _add_endpoint(made, key), added)

    def _test(self, name: str) -> None:
        def tested(result: object) -> None:
            assert isinstance(result, Tested)
            if self._dialog is not None:
                self._dialog.show_result(tested_line(result), problem=result.problem is not None)
            self._rescan()

        self._submit(lambda: _test_endpoint(name), tested)

    def _remove(self, name: str) -> None:
        def removed(_result: object) -> None:
            self._refresh()
            if self._dialog is not None:
                self._dialog.show_result(f"Removed {name} and its key; its answers stay in the notebook.")
            self._rescan()

        self._submit(lambda: _remove_endpoint(name), removed)
