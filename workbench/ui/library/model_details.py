"""Everything the workbench knows about one model, and the user's origin override.

GGUF metadata is untrusted text written by whoever made the file, so every
value here is shown as plain text (labels with PlainText format, a plain
text editor for the chat template), never as rich text.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ...core.catalog.overrides import FILE_NAME as OVERRIDES_FILE
from ...core.engine.offload import NOT_RUN_YET
from ...core.engine.offload import describe as describe_ran_on
from ..shared import describe

MAX_VALUE_CHARS = 2000
DECIDED_BY = {"table": "the curated origins table", "override": "you", "unknown": "nothing matched: unknown"}


def _value(text: object) -> QLabel:
    label = QLabel("—" if text in (None, "") else str(text))
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def _json_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + f"… ({len(text):,} characters)"


class ModelDetailsDialog(QDialog):
    overrideRequested = Signal(str, str, object)  # entry id, maker, country or None
    overrideRemovalRequested = Signal(str)  # entry id
    hashRequested = Signal(str)  # entry id

    def __init__(self, entry: ModelEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._endpoint_url: str | None = None
        self._ran_on: str | None = None  # None: not read from the notebook yet
        self.resize(760, 620)
        self.tabs = QTabWidget()
        self.problem = QLabel()
        self.problem.setObjectName("paneError")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.set_entry(entry)

    def set_entry(self, entry: ModelEntry) -> None:
        """Show `entry` (again, after hashing it or changing its origin)."""
        self.entry = entry
        self.setWindowTitle(f"{entry.name} — model details")
        current = self.tabs.currentIndex()
        self.tabs.clear()
        self.tabs.addTab(self._overview(entry), "Overview")
        self.tabs.addTab(self._origin(entry), "Origin and lineage")
        self.tabs.addTab(self._template(entry), "Chat template")
        self.tabs.addTab(self._metadata(entry), "All metadata")
        self.tabs.setCurrentIndex(max(0, current))
        self.problem.hide()

    def set_endpoint_url(self, url: str | None) -> None:
        """A remote model's endpoint URL, read from the settings off the GUI thread (never its key)."""
        self._endpoint_url = url
        if self.entry.remote:
            self.endpoint_url_value.setText(url or "the endpoint is no longer in the settings")

    def set_ran_on(self, record: dict[str, Any] | None, *, hashed: bool = True) -> None:
        """What the model's newest answer ran on (Notebook.last_ran_on's record for it, read off
        the GUI thread), or None: "not run yet". `hashed` False: its answers can't be found
        before its SHA-256 is known."""
        ran_on = describe_ran_on(record)
        if not hashed:
            self._ran_on = "found by its SHA-256: compute it to see"
        elif record and ran_on and record.get("finished_at"):
            self._ran_on = f"{ran_on}, {describe.local_time(record['finished_at'])}"
        else:
            self._ran_on = ran_on or NOT_RUN_YET
        if not self.entry.remote:
            self.ran_on_value.setText(self._ran_on)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    # --- tabs ---------------------------------------------------------------------

    def _overview(self, entry: ModelEntry) -> QWidget:
        meta = entry.metadata
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Name", _value(entry.name))
        form.addRow("Id", _value(entry.id))
        form.addRow("Status", _value("ready" if entry.ok else f"can't load: {entry.status}"))
        if entry.remote:
            form.addRow("Runs on", _value(f"remote: the endpoint {entry.endpoint}"))
            self.endpoint_url_value = _value(self._endpoint_url or "reading…")
            form.addRow("Endpoint URL", self.endpoint_url_value)
            form.addRow("Model id", _value(entry.model_id))
        else:
            form.addRow("Found in", _value(entry.source))
            form.addRow("File", _value(entry.path))
            self.ran_on_value = _value(self._ran_on or "reading…")
            self.ran_on_value.setToolTip("What ran this model's newest answer in the notebook: the CPU, or a GPU backend and the layers it took")
            form.addRow("Last ran on", self.ran_on_value)
        if len(entry.files) > 1:
            form.addRow("Shards", _value("\n".join(str(f) for f in entry.files)))
        if meta is not None:
            form.addRow("Architecture", _value(meta.architecture))
            form.addRow("Parameters", _value(f"{meta.size_label or describe.parameters_text(meta.parameters)} ({meta.parameters:,})"))
            form.addRow("Quantization", _value(meta.quantization))
            form.addRow("Context length", _value(meta.context_length))
            form.addRow("Licence", _value(meta.license))
            form.addRow("File size", _value(f"{describe.file_size_text(meta.file_size)} ({meta.file_size:,} bytes)"))
            form.addRow("Languages", _value(", ".join(meta.languages)))
        self.sha_value = _value(entry.sha256 or "not computed yet")
        self.hash_button = QPushButton("Compute SHA-256")
        self.hash_button.setToolTip("Reads the whole file once; the result is cached")
        self.hash_button.setVisible(entry.sha256 is None and bool(entry.files))
        self.hash_button.clicked.connect(self._request_hash)
        sha_row = QHBoxLayout()
        sha_row.addWidget(self.sha_value, 1)
        sha_row.addWidget(self.hash_button)
        form.addRow("Identity (SHA-256 of the URL and model id)" if entry.remote else "SHA-256", sha_row)
        return page

    def _origin(self, entry: ModelEntry) -> QWidget:
        origin = entry.origin
        page = QWidget()
        form = QFormLayout()
        form.addRow("Shown as", _value(describe.origin_text(origin)))
        form.addRow("Maker", _value(origin.maker))
        form.addRow("Country", _value(describe.country_name(origin.country) if origin.country else None))
        form.addRow("Family", _value(origin.family))
        form.addRow("Built on (maker)", _value(origin.base_maker))
        form.addRow("Built on (country)", _value(origin.base_country))
        bases = entry.metadata.base_models if entry.metadata else ()
        form.addRow("Base models in the file", _value("\n".join(" · ".join(b.values()) for b in bases)))
        form.addRow("Evidence", _value(origin.evidence))
        form.addRow("Decided by", _value(DECIDED_BY.get(origin.source, origin.source)))

        box = QGroupBox("Correct the origin")
        self.maker_edit = QLineEdit(origin.maker or "")
        self.maker_edit.setPlaceholderText("Organization, e.g. Alibaba (Qwen team)")
        self.country_edit = QLineEdit(origin.country or "")
        self.country_edit.setPlaceholderText("Two-letter country code, e.g. CN (empty: unknown)")
        self.country_edit.setValidator(QRegularExpressionValidator(QRegularExpression("[A-Za-z]{0,2}"), self.country_edit))
        self.save_override_button = QPushButton("Save override")
        self.save_override_button.clicked.connect(self._request_override)
        self.remove_override_button = QPushButton("Remove override")
        self.remove_override_button.setEnabled(origin.source == "override")
        self.remove_override_button.clicked.connect(lambda: self.overrideRemovalRequested.emit(self.entry.id))
        note = _value(
            f"Kept in {OVERRIDES_FILE} in your config folder, by the file's SHA-256 when known "
            "(so it follows the file when moved), else by its path. It wins over the table."
        )
        note.setProperty("muted", True)
        box_form = QFormLayout(box)
        box_form.addRow("Maker", self.maker_edit)
        box_form.addRow("Country", self.country_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_override_button)
        buttons.addWidget(self.remove_override_button)
        buttons.addStretch(1)
        box_form.addRow(buttons)
        box_form.addRow(note)

        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addStretch(1)
        return page

    def _template(self, entry: ModelEntry) -> QWidget:
        view = QPlainTextEdit()
        view.setReadOnly(True)
        metadata = entry.metadata
        if entry.remote:
            view.setPlainText("The endpoint's server applies its own chat template; the workbench sends it the messages.")
        elif metadata is not None and metadata.chat_template:
            view.setPlainText(f"SHA-256 {metadata.chat_template_sha256}\n\n{metadata.chat_template}")
        else:
            view.setPlainText("This file has no chat template; the workbench formats prompts as ChatML for it.")
        return view

    def _metadata(self, entry: ModelEntry) -> QWidget:
        raw = entry.metadata.raw if entry.metadata else {}
        table = QTableWidget(len(raw), 2)
        table.setHorizontalHeaderLabels(["Key", "Value"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, key in enumerate(sorted(raw)):
            table.setItem(row, 0, QTableWidgetItem(key))
            value = QTableWidgetItem(_json_text(raw[key]))
            value.setToolTip(describe.tooltip(_json_text(raw[key])[:500]))
            table.setItem(row, 1, value)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # --- requests (the window does the work off the GUI thread) ----------------------

    def _request_hash(self) -> None:
        self.hash_button.setEnabled(False)
        self.sha_value.setText("computing… (reads the whole file once)")
        self.hashRequested.emit(self.entry.id)

    def _request_override(self) -> None:
        maker = self.maker_edit.text().strip()
        country = self.country_edit.text().strip().upper() or None
        if not maker:
            self.show_problem("Give the maker's name.")
            return
        if country is not None and len(country) != 2:
            self.show_problem("A country is a two-letter ISO code such as CN or US, or empty for unknown.")
            return
        self.overrideRequested.emit(self.entry.id, maker, country)
