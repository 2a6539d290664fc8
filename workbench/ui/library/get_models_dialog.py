"""File > Get models…: the curated pairs (resources/models.toml) and any GGUF on the hub.

The dialog only shows and asks; `library/get_models.py` downloads off the GUI thread.
Pairs are top-level rows (their demo note as the row's tooltip and under the list when
chosen), models beneath with origin, size, memory, licence and note. One download at a
time: a progress bar with speed and time left, Cancel (what arrived is kept; Download
again resumes), and one line of plain text for the result or the problem.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.downloads.curated import CuratedList, CuratedModel
from ...core.downloads.hub import Progress, format_bytes, format_seconds
from ..shared.text_label import text_label

COLUMNS = ("Model", "Origin", "Size", "Memory", "Licence", "What it shows")
_MODEL = Qt.ItemDataRole.UserRole  # a model row's (repo, file)


def progress_text(progress: Progress) -> str:
    """'812.4 MB of 2.0 GB · 11.3 MB/s · 1 min 45 s left', or the SHA-256 check."""
    if progress.stage == "verify":
        return f"Checking SHA-256 against the hub's: {format_bytes(progress.done)} of {format_bytes(progress.total)}"
    parts = [f"{format_bytes(progress.done)} of {format_bytes(progress.total)}"]
    if progress.bytes_per_s is not None:
        parts.append(f"{format_bytes(progress.bytes_per_s)}/s")
    if progress.seconds_left is not None:
        parts.append(f"{format_seconds(progress.seconds_left)} left")
    if progress.resumed_from:
        parts.append(f"resumed at {format_bytes(progress.resumed_from)}")
    return " · ".join(parts)


class GetModelsDialog(QDialog):
    downloadRequested = Signal(str, str, str)  # repo, file, mirror ("" for HF_ENDPOINT or the hub)
    cancelRequested = Signal()

    def __init__(self, curated: CuratedList, mirror: str, hf_endpoint: str, parent: QWidget | None = None) -> None:
        """`mirror`: the saved one ("" for none); `hf_endpoint`: HF_ENDPOINT, used when no mirror is typed."""
        super().__init__(parent)
        self.setWindowTitle("Get models")
        self.resize(980, 620)
        layout = QVBoxLayout(self)
        layout.addWidget(text_label(
            "Chat models from the US and China in pairs of about the same size. A download resumes where it stopped, "
            "and a file enters the library only when its SHA-256 matches the hub's."
        ))  # fmt: skip
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The note takes what width is left, cut short: sized to its text it pushed memory and
        # licence out of sight on a laptop. It is whole in its tooltip and under the list.
        self.tree.header().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for pair in curated.pairs:
            top = QTreeWidgetItem([pair.title])
            top.setToolTip(0, pair.demo)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)  # once in the tree: before, it does nothing
            for model in curated.in_pair(pair.id):
                top.addChild(self._row(model))
            top.setExpanded(True)
        # The model column as wide as the model names, not the pairs' titles that span the
        # row: sized to those, it pushed memory and licence out of sight.
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        names = [model.name for model in curated.models]
        indent = 3 * self.tree.indentation()  # a child's indentation and the branch
        self.tree.setColumnWidth(0, indent + max((self.tree.fontMetrics().horizontalAdvance(name) for name in names), default=0))
        layout.addWidget(self.tree, 1)
        self.demo = text_label(role="muted")
        layout.addWidget(self.demo)

        other = QGroupBox("Or any GGUF on the hub")
        form = QFormLayout(other)
        self.repo = QLineEdit(placeholderText="OWNER/REPO, e.g. bartowski/Qwen2.5-7B-Instruct-GGUF")
        self.file = QLineEdit(placeholderText="the .gguf file in it, e.g. Qwen2.5-7B-Instruct-Q4_K_M.gguf")
        self.mirror = QLineEdit(mirror, placeholderText=f"{hf_endpoint} (HF_ENDPOINT)" if hf_endpoint else "https://huggingface.co")
        self.mirror.setToolTip("A Hugging Face mirror for where the hub can't be reached, e.g. https://hf-mirror.com in China")
        form.addRow("Repository", self.repo)
        form.addRow("File", self.file)
        form.addRow("Mirror", self.mirror)
        layout.addWidget(other)

        self.bar = QProgressBar()
        self.bar.setVisible(False)
        layout.addWidget(self.bar)
        self.line = text_label(name="downloadLine")
        layout.addWidget(self.line)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.download_button.clicked.connect(self._download)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.tree.currentItemChanged.connect(self._chosen)
        self.set_running(False)

    def _row(self, model: CuratedModel) -> QTreeWidgetItem:
        size = ("~" if model.approximate else "") + format_bytes(model.size_bytes)
        origin = f"{model.country} · {model.maker}" + (f" (base: {model.base})" if model.base else "")
        item = QTreeWidgetItem([model.name, origin, f"{model.quant}, {size}", f"~{model.memory_gb:g} GB", model.licence, model.note])
        item.setData(0, _MODEL, (model.repo, model.file))
        item.setToolTip(0, f"{model.repo}\n{model.file}")
        item.setToolTip(len(COLUMNS) - 1, model.note)
        return item

    def _chosen(self, item: QTreeWidgetItem | None) -> None:
        chosen = item.data(0, _MODEL) if item is not None else None
        pair = item if item is not None and chosen is None else (item.parent() if item is not None else None)
        self.demo.setText(pair.toolTip(0) if pair is not None else "")
        if chosen:
            self.repo.setText(chosen[0])
            self.file.setText(chosen[1])
        self.download_button.setEnabled(not self.running and bool(chosen or self.repo.text()))

    def _download(self) -> None:
        repo, file = self.repo.text().strip(), self.file.text().strip()
        if not repo or not file:
            self.show_line("Choose a model in the list, or type a repository and a .gguf file in it.")
            return
        self.downloadRequested.emit(repo, file, self.mirror.text().strip())

    @property
    def running(self) -> bool:
        return self.cancel_button.isEnabled()

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.download_button.setEnabled(not running)
        for field in (self.repo, self.file, self.mirror, self.tree):
            field.setEnabled(not running)
        self.bar.setVisible(running)
        if running:
            self.bar.setRange(0, 0)  # busy until the hub says how big the file is

    def show_progress(self, progress: Progress) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(round(1000 * progress.done / progress.total) if progress.total else 0)
        self.bar.setFormat(("Checking " if progress.stage == "verify" else "") + "%p%")
        self.line.setText(progress_text(progress))

    def show_line(self, text: str) -> None:
        self.line.setText(text)
