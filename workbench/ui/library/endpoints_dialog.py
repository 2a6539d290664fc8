"""File > Endpoints…: the OpenAI-compatible servers whose models join the library.

The dialog only shows and asks; `library/endpoints.py` does the work off the
GUI thread (saving, the keychain, listing a server's models). A key is typed
into a password field, handed over once and the field emptied: from then on
the dialog says only where the key is kept ("in the keychain", "environment
variable LAB_KEY"), never the key, so no screenshot or log can show it.
Every result or problem is one line of plain text under the list (wrapped, never cut).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRegularExpression, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..shared.text_label import text_label

COLUMNS = ("Name", "URL", "Key", "Requests at once")
NAME_PATTERN = "[A-Za-z0-9_.-]{1,40}"  # the endpoint names core/endpoints/config.py accepts
ENV_PATTERN = "[A-Za-z_][A-Za-z0-9_]{0,127}"  # a portable environment variable name
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64


@dataclass(frozen=True)
class EndpointRow:
    """One endpoint as the list shows it: where its key is kept, never the key."""

    name: str
    url: str
    key_source: str  # "in the keychain", "environment variable LAB_KEY", "no key"
    concurrency: int


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)  # a table item is always plain text
    item.setToolTip(text)
    return item


class EndpointsDialog(QDialog):
    addRequested = Signal(str, str, str, str, int)  # name, url, key ("" none), key variable ("" none), requests at once
    testRequested = Signal(str)  # endpoint name
    removeRequested = Signal(str)  # endpoint name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Endpoints")
        self.resize(720, 540)  # fits a 1366x768 screen with room for a few endpoints
        intro = text_label(
            "Servers that speak the OpenAI API (vLLM, llama-server, Ollama, LM Studio, a hosted API): "
            "the models each one lists join the library as remote models.",
            role="muted",
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Ask the endpoint for its models; they join the library")
        self.test_button.clicked.connect(lambda: self._with_selected(self.testRequested.emit))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the endpoint and its key; answers already saved stay in the notebook")
        self.remove_button.clicked.connect(lambda: self._with_selected(self.removeRequested.emit))
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.test_button)
        row_buttons.addWidget(self.remove_button)
        row_buttons.addStretch(1)

        form_box = QGroupBox("Add an endpoint (a name already listed is replaced)")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("lab (letters, digits, . _ -)")
        self.name_edit.setValidator(QRegularExpressionValidator(QRegularExpression(NAME_PATTERN), self.name_edit))
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://gpu-box:8000/v1")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)  # no copying or dragging out of it either
        self.key_edit.setPlaceholderText("kept in the system keychain, never shown again")
        self.key_env_edit = QLineEdit()
        self.key_env_edit.setPlaceholderText("or the name of an environment variable that holds it")
        self.key_env_edit.setValidator(QRegularExpressionValidator(QRegularExpression(ENV_PATTERN), self.key_env_edit))
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, MAX_CONCURRENCY)
        self.concurrency.setValue(DEFAULT_CONCURRENCY)
        self.concurrency.setToolTip("How many requests a batch sends this endpoint at once")
        self.add_button = QPushButton("Add and test")
        self.add_button.clicked.connect(self._request_add)
        form = QFormLayout(form_box)
        form.addRow("Name", self.name_edit)
        form.addRow("URL", self.url_edit)
        form.addRow("Key", self.key_edit)
        form.addRow("Key variable", self.key_env_edit)
        form.addRow("Requests at once", self.concurrency)
        form.addRow(self.add_button)

        # One line of text (a problem's line ends joined), wrapped rather than cut: the advice
        # comes at the end of it.
        self.message = text_label(name="endpointResult")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row_buttons)
        layout.addWidget(form_box)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.add_button.setDefault(True)  # Enter in any field of the form adds (once the button is in the dialog)
        self._busy = False
        self._wanted: str | None = None
        self._selection_changed()

    # --- what the controller tells it ----------------------------------------------------

    def set_endpoints(self, rows: list[EndpointRow]) -> None:
        """List these endpoints, keeping the selected one selected (or the one `select` asked
        for before the list that holds it arrived)."""
        chosen = self._wanted or self.selected_name
        self._wanted = None
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, text in enumerate((row.name, row.url, row.key_source, str(row.concurrency))):
                self.table.setItem(index, column, _cell(text))
            if row.name == chosen:
                self.table.selectRow(index)
        self._selection_changed()

    def select(self, name: str) -> None:
        """Select the endpoint `name`, now or when the list next arrives with it (just added)."""
        for index in range(self.table.rowCount()):
            item = self.table.item(index, 0)
            if item is not None and item.text() == name:
                self.table.selectRow(index)
                return
        self._wanted = name

    def show_result(self, text: str, *, problem: bool = False) -> None:
        """One line: what a test found, or what went wrong and what to do."""
        self.message.setObjectName("paneError" if problem else "endpointResult")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(" ".join(text.split()))

    def set_busy(self, busy: bool) -> None:
        """While a request is with the worker, the buttons wait for it."""
        self._busy = busy
        self.add_button.setEnabled(not busy)
        self._selection_changed()

    @property
    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows(0)
        return rows[0].data() if rows else None

    # --- requests ------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        chosen = self.selected_name is not None and not self._busy
        self.test_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)

    def _with_selected(self, request: Callable[[str], object]) -> None:
        name = self.selected_name
        if name is not None:
            request(name)

    def _request_add(self) -> None:
        name, url = self.name_edit.text().strip(), self.url_edit.text().strip()
        key, key_env = self.key_edit.text(), self.key_env_edit.text().strip()
        self.key_edit.clear()  # handed over once; never in the dialog again
        if not name or not url:
            self.show_result("Give the endpoint a name and its URL (http:// or https://).", problem=True)
            return
        if key and key_env:
            self.show_result("Type the key or name the environment variable that holds it, not both.", problem=True)
            return
        self.addRequested.emit(name, url, key, key_env, self.concurrency.value())
