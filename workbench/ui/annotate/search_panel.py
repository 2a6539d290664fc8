"""Search the notebook: a query box, filters, and results with their snippets.

Searching runs as the user types, after a pause of `DEBOUNCE_MS`, on the
notebook queue (never on the GUI thread); answers to an older query are
dropped when a newer one was asked. Snippets come from the core with each
match between ⟦ and ⟧: the text is escaped first and only then are those
markers turned into bold, so nothing a model wrote is ever read as HTML.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.analysis.flag_names import FLAG_NAMES
from ...core.notebook import DIVERGENCE, MARK_END, MARK_START, Label, SearchFilters, SearchHit, Session
from ...core.notebook.statuses import unfinished
from ..panes.annotation_bar import IDENTIFYING_FLAGS
from ..shared.combo import narrow
from ..shared import describe
from ..shared.combo import enable_item

DEBOUNCE_MS = 250
HIT_ROLE = Qt.ItemDataRole.UserRole + 1
FIELD_TEXT = {
    "prompt": "prompt",
    "system_prompt": "system prompt",
    "text": "answer",
    "reasoning": "reasoning",
    "note": "note",
    "span_note": "highlight note",
    "summary": "how they differ",
}


def snippet_html(snippet: str) -> str:
    """The snippet as rich text: escaped, with the core's match markers made bold."""
    escaped = html.escape(snippet.replace("\n", " "))
    return escaped.replace(html.escape(MARK_START), "<b style='background:#ffe08a;color:black'>").replace(
        html.escape(MARK_END), "</b>"
    )


class SearchPanel(QWidget):
    searchRequested = Signal(str, object, int)  # query, SearchFilters, serial
    hitOpened = Signal(object)  # SearchHit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.serial = 0
        self.hits: list[SearchHit] = []
        self.models_hidden = False
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search prompts, answers, reasoning, notes (English or 中文)")
        self.query.setClearButtonEnabled(True)
        self.query.textChanged.connect(self._changed)
        self.query.returnPressed.connect(self._open_first)
        self.model = QLineEdit()
        self.model.setPlaceholderText("part of a model name")
        self.model.textChanged.connect(self._changed)
        self.origin = self._combo([("Any origin", None), ("US", "US"), ("China", "CN")])
        self.language = self._combo([("Any language", None), ("English", "en"), ("Chinese", "zh")])
        self.rating = self._combo([("Any rating", None)] + [(name.capitalize(), name) for name in DIVERGENCE])
        self.label = self._combo([("Any label", None)])
        self.flag = self._combo([("Any flag", None)] + [(f"flagged {name.replace('_', ' ')}", name) for name in FLAG_NAMES])
        self.flag.setToolTip("Only answers the automatic detectors flagged so (suggestions, not people's labels)")
        self.session = self._combo([("Any session", None)])
        self.use_since = QCheckBox("From")
        self.since = QDateEdit(QDate.currentDate().addMonths(-1))
        self.use_until = QCheckBox("Until")
        self.until = QDateEdit(QDate.currentDate())
        for widget in (self.since, self.until):
            widget.setCalendarPopup(True)
            widget.setDisplayFormat("yyyy-MM-dd")
            widget.dateChanged.connect(self._changed)
        for box in (self.use_since, self.use_until):
            box.toggled.connect(self._changed)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setProperty("muted", True)
        self.status.setWordWrap(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.results.itemActivated.connect(self._open)
        self.results.itemClicked.connect(self._open)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)

        filters = QFormLayout()
        filters.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock: labels above their fields
        filters.addRow("Model", self.model)
        row = QHBoxLayout()
        row.addWidget(self.origin)
        row.addWidget(self.language)
        filters.addRow("Origin", row)
        row = QHBoxLayout()
        row.addWidget(self.label)
        row.addWidget(self.rating)
        filters.addRow("Label", row)
        filters.addRow("Flag", self.flag)
        filters.addRow("Session", self.session)
        for box, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            row = QHBoxLayout()
            row.addWidget(box)
            row.addWidget(edit, 1)
            filters.addRow("Date" if box is self.use_since else "", row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.query)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)

    def _combo(self, items: list[tuple[str, object]]) -> QComboBox:
        combo = narrow(QComboBox(), 8)
        for text, data in items:
            combo.addItem(text, data)
        combo.currentIndexChanged.connect(self._changed)
        return combo

    def _refill(self, combo: QComboBox, first: str, items: list[tuple[str, object]]) -> None:
        current = combo.currentData() if combo.currentIndex() > 0 else ...
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(first, None)
        for text, data in items:
            combo.addItem(text, data)
        index = next((i for i in range(1, combo.count()) if combo.itemData(i) == current), 0)
        combo.setCurrentIndex(index)
        combo.blockSignals(False)

    def set_labels(self, labels: list[Label]) -> None:
        self._refill(self.label, "Any label", [(label.title, label.name) for label in labels])
        titles = {label.name: label.title for label in labels}
        self._refill(self.flag, "Any flag", [(f"flagged {titles.get(name, name.replace('_', ' ')).lower()}", name) for name in FLAG_NAMES])
        self._offer_identifying_flags()

    def set_sessions(self, sessions: list[Session]) -> None:
        # Unsorted's id is None, like "any": it is told apart by a marker string.
        self._refill(self.session, "Any session", [(s.name, s.id if s.id is not None else "unsorted") for s in sessions])

    def filters(self) -> SearchFilters:
        def one(combo: QComboBox) -> tuple[Any, ...]:
            return (combo.currentData(),) if combo.currentIndex() > 0 else ()

        session = one(self.session)
        return SearchFilters(
            models=tuple(self.model.text().split()),
            origins=one(self.origin),
            labels=one(self.label),
            languages=one(self.language),
            sessions=tuple(None if s == "unsorted" else s for s in session),
            since=_date(self.since) if self.use_since.isChecked() else None,
            until=_date(self.until) if self.use_until.isChecked() else None,
            ratings=one(self.rating),
            flags=one(self.flag),
        )

    def _changed(self) -> None:
        self._timer.start()

    def search_now(self) -> None:
        self._timer.stop()
        self.serial += 1
        query = self.query.text().strip()
        if not query:
            self.results.clear()
            self.hits = []
            self.status.setText("")
            return
        self.status.setText("Searching…")
        self.searchRequested.emit(query, self.filters(), self.serial)

    def show_hits(self, serial: int, hits: list[SearchHit]) -> None:
        """Results of query number `serial`; older ones are dropped."""
        if serial != self.serial:
            return
        self.hits = hits
        self.results.clear()
        for hit in hits:
            where = FIELD_TEXT.get(hit.field, hit.field)
            who = f" · {hit.model_name} ({hit.origin_country or '?'})" if hit.model_name and not self.models_hidden else ""
            shown = [f for f in hit.flags if not (self.models_hidden and f in IDENTIFYING_FLAGS)]
            flagged = f" · flagged {', '.join(shown)}" if shown else ""
            partial = unfinished(hit.status) if hit.status else None
            partly = f" · {partial[0]} (partial answer)" if partial else ""
            head = html.escape(f"Run #{hit.run_id} · {where}{who} · {describe.local_time(hit.run_created_at)}{flagged}{partly}")
            label = QLabel(f"<span style='color:gray'>{head}</span><br>{snippet_html(hit.snippet)}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(4, 2, 4, 2)
            item = QListWidgetItem()
            item.setData(HIT_ROLE, hit)
            item.setSizeHint(label.sizeHint())
            self.results.addItem(item)
            self.results.setItemWidget(item, label)
        self.status.setText(f"{len(hits)} match{'es' if len(hits) != 1 else ''}" if hits else "Nothing found.")

    def set_models_hidden(self, hidden: bool) -> None:
        """While a blind comparison is on, a hit does not say which model wrote it, nor can
        one search by a flag that tells what kind of model it is (IDENTIFYING_FLAGS)."""
        self.models_hidden = hidden
        self._offer_identifying_flags()
        self.show_hits(self.serial, self.hits)

    def _offer_identifying_flags(self) -> None:
        for index in range(1, self.flag.count()):
            if self.flag.itemData(index) in IDENTIFYING_FLAGS:
                enable_item(self.flag, index, not self.models_hidden)
                if self.models_hidden and self.flag.currentIndex() == index:
                    self.flag.setCurrentIndex(0)

    def show_problem(self, serial: int, text: str) -> None:
        if serial == self.serial:
            self.results.clear()
            self.hits = []
            self.status.setText(text)

    def _open(self, item: QListWidgetItem) -> None:
        self.hitOpened.emit(item.data(HIT_ROLE))

    def _open_first(self) -> None:
        if self.results.count():
            self.results.setCurrentRow(0)
            self._open(self.results.item(0))


def _date(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())
