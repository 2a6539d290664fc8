"""The model library: every model the catalog found, grouped and filterable.

Grouping by origin is the default because origin is what the workbench
compares. A model that can't load stays listed, greyed, with the reason, so
the user learns why their file is not offered in the panes.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ..shared import describe
from ..shared.combo import narrow
from ..shared.flow_layout import flow_row

ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

COLUMNS = ("Model", "Origin", "Maker", "Params", "Size", "Quant", "Context", "Licence", "Status")

SOURCE_NAMES = {
    "starter": "Starter pair",
    "folder": "Your folders",
    "workbench": "Workbench models folder",
    "file": "Opened files",
    "lmstudio": "LM Studio",
    "ollama": "Ollama",
    "huggingface": "Hugging Face cache",
    "gpt4all": "GPT4All",
}


def _group_origin(e: ModelEntry) -> str:
    return describe.country_name(e.origin.country)


def _group_source(e: ModelEntry) -> str:
    """Where found: a remote model under its endpoint."""
    return f"Endpoint {e.endpoint} (remote)" if e.remote else SOURCE_NAMES.get(e.source, e.source)


GROUPINGS = (
    ("origin", "Origin", _group_origin),
    ("maker", "Maker", lambda e: e.origin.maker or "Unknown maker"),
    ("quantization", "Quantization", lambda e: (e.metadata.quantization if e.metadata else None) or "Unknown"),
    ("license", "Licence", lambda e: (e.metadata.license if e.metadata else None) or "No licence stated"),
    ("status", "Can it load?", lambda e: "Ready" if e.ok else "Can't load"),
    ("source", "Where found", _group_source),
    ("none", "No grouping", lambda e: ""),
)


def _cell(text: str, sort_key: object = None, tooltip: str | None = None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(sort_key if sort_key is not None else text.lower(), SORT_ROLE)
    if tooltip:
        item.setToolTip(describe.tooltip(tooltip))
    return item


def _facts(entry: ModelEntry) -> list[QStandardItem]:
    """Params, size, quantization, context, licence: a file's, or a remote model's "—"
    (the endpoint does not say) with "remote" where a size would be."""
    meta = entry.metadata
    if entry.remote:
        return [_cell("—", -1), _cell("remote", -1), _cell("—"), _cell("—", -1), _cell("—")]
    return [
        _cell(meta.size_label or describe.parameters_text(meta.parameters) if meta else "?", meta.parameters if meta else -1),
        _cell(describe.file_size_text(meta.file_size if meta else None), meta.file_size if meta else -1),
        _cell((meta.quantization if meta else None) or "?"),
        _cell(str(meta.context_length) if meta and meta.context_length else "?", meta.context_length if meta and meta.context_length else -1),
        _cell((meta.license if meta else None) or "?"),
    ]


def _name_cell(entry: ModelEntry) -> QStandardItem:
    """The name; a remote model's after its badge, "[remote · lab]" (first, so a narrow dock
    cuts the name rather than the badge), which the filter finds too."""
    if entry.remote:
        tip = f"{entry.model_id}, served by the endpoint {entry.endpoint}"
        return _cell(f"[{describe.remote_badge(entry)}] {entry.name}", entry.name.lower(), tooltip=tip)
    return _cell(entry.name, tooltip=str(entry.path))


def _row(entry: ModelEntry, muted: QColor) -> list[QStandardItem]:
    cells = [
        _name_cell(entry),
        _cell(describe.origin_text(entry.origin), tooltip=entry.origin.evidence),
        _cell(entry.origin.maker or "?"),
        *_facts(entry),
        _cell("ready" if entry.ok else entry.status, tooltip=None if entry.ok else entry.status),
    ]
    cells[0].setData(entry.id, ID_ROLE)
    if not entry.ok:  # still selectable: its details say why it can't load
        for cell in cells:
            cell.setForeground(muted)
    return cells


class _Filter(QSortFilterProxyModel):
    """Matches the filter text against every column of a model row; groups follow their models."""

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802 - Qt's name
        source = self.sourceModel()
        index = source.index(row, 0, parent)
        if source.hasChildren(index):
            return False  # shown when a child matches (recursive filtering)
        pattern = self.filterRegularExpression()
        return any(pattern.match(str(source.index(row, c, parent).data() or "")).hasMatch() for c in range(source.columnCount()))


class LibraryPanel(QWidget):
    useRequested = Signal(str, int)  # entry id, pane index (-1: the next free pane)
    detailsRequested = Signal(str)  # entry id
    openFileRequested = Signal()
    addFolderRequested = Signal()
    rescanRequested = Signal()
    groupingChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pane_count = 2
        self._entries: list[ModelEntry] = []
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: name, maker, country, quantization, licence…")
        self.filter_edit.setClearButtonEnabled(True)
        self.grouping = QComboBox()
        for key, label, _ in GROUPINGS:
            self.grouping.addItem(f"Group by: {label}" if key != "none" else label, key)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SORT_ROLE)
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.doubleClicked.connect(lambda _index: self._use(-1))
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.problems = QLabel()
        self.problems.setObjectName("paneError")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.hide()
        self.use_button = QPushButton("Use in a pane")
        self.use_button.setToolTip("Put the selected model in the first empty pane (double-click does the same)")
        self.use_button.clicked.connect(lambda: self._use(-1))
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("All metadata, the chat template, lineage, SHA-256; set the origin")
        self.details_button.clicked.connect(self._details)
        open_button = QPushButton("Open GGUF…")
        open_button.clicked.connect(self.openFileRequested)
        folder_button = QPushButton("Add folder…")
        folder_button.clicked.connect(self.addFolderRequested)
        rescan_button = QPushButton("Rescan")
        rescan_button.clicked.connect(self.rescanRequested)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(narrow(self.grouping))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.problems)
        layout.addWidget(flow_row(self.use_button, self.details_button))  # rows that wrap: the dock stays narrow
        layout.addWidget(flow_row(open_button, folder_button, rescan_button))

        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.grouping.currentIndexChanged.connect(self._regroup)
        self._selection_changed()

    def restyle(self) -> None:
        """After a theme change: greyed rows take the new theme's colour."""
        self._fill()

    # --- contents ---------------------------------------------------------------

    def set_entries(self, entries: list[ModelEntry], problems: list[str]) -> None:
        self._entries = list(entries)
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._fill()

    def set_grouping(self, key: str) -> None:
        index = self.grouping.findData(key)
        if index >= 0:
            self.grouping.setCurrentIndex(index)

    @property
    def grouping_key(self) -> str:
        return cast(str, self.grouping.currentData())  # every item is added with its grouping key

    def _regroup(self) -> None:
        self._fill()
        self.groupingChanged.emit(self.grouping_key)

    def _fill(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        key = self.grouping_key
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        group_of = next(g for k, _, g in GROUPINGS if k == key)
        if key == "none":
            for entry in self._entries:
                self.model.appendRow(_row(entry, muted))
        else:
            groups: dict[str, list[ModelEntry]] = {}
            for entry in self._entries:
                groups.setdefault(group_of(entry), []).append(entry)
            bold = QFont()  # only the weight: the size follows the view's
            bold.setBold(True)
            for name, members in groups.items():
                ready = sum(e.ok for e in members)
                header = _cell(f"{name} ({ready} ready, {len(members)} found)" if ready != len(members) else f"{name} ({len(members)})", name.lower())
                header.setFont(bold)
                header.setSelectable(False)
                filler = [_cell("", name.lower()) for _ in COLUMNS[1:]]
                for cell in filler:
                    cell.setSelectable(False)
                for entry in members:
                    header.appendRow(_row(entry, muted))
                self.model.appendRow([header, *filler])
        self.tree.expandAll()
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._selection_changed()

    # --- selection and actions --------------------------------------------------------

    @property
    def selected_id(self) -> str | None:
        indexes = self.tree.selectionModel().selectedRows(0)
        if not indexes:
            return None
        value = indexes[0].data(ID_ROLE)
        return value if isinstance(value, str) else None

    def select(self, entry_id: str) -> bool:
        for index in self.shown_indexes():
            if index.data(ID_ROLE) == entry_id:
                self.tree.setCurrentIndex(index)
                self.tree.scrollTo(index)
                return True
        return False

    def shown_indexes(self) -> list[QModelIndex]:
        """Every row the tree shows now (after the filter and the grouping), groups included."""
        found: list[QModelIndex] = []
        pending = [QModelIndex()]
        while pending:
            parent = pending.pop()
            for row in range(self.proxy.rowCount(parent)):
                index = self.proxy.index(row, 0, parent)
                found.append(index)
                pending.append(index)
        return found

    def _selected_entry(self) -> ModelEntry | None:
        entry_id = self.selected_id
        return next((e for e in self._entries if e.id == entry_id), None)

    def _selection_changed(self) -> None:
        entry = self._selected_entry()
        self.use_button.setEnabled(entry is not None and entry.ok)
        self.details_button.setEnabled(entry is not None)

    def _use(self, pane: int) -> None:
        entry = self._selected_entry()
        if entry is not None and entry.ok:
            self.useRequested.emit(entry.id, pane)

    def _details(self) -> None:
        if self.selected_id:
            self.detailsRequested.emit(self.selected_id)

    def _context_menu(self, point: QPoint) -> None:
        entry = self._selected_entry()
        if entry is None:
            return
        menu = QMenu(self)
        for pane in range(self.pane_count):
            action = QAction(f"Use in pane {pane + 1}", menu)
            action.setEnabled(entry.ok)
            action.triggered.connect(lambda _checked=False, p=pane: self._use(p))
            menu.addAction(action)
        menu.addSeparator()
        details = QAction("Details…", menu)
        details.triggered.connect(self._details)
        menu.addAction(details)
        menu.popup(self.tree.viewport().mapToGlobal(point))
