"""Choosing a new batch: which prompts (set, topics, languages, how many) and which models.

The dialog only picks; the Batches window creates and runs the batch off the
GUI thread. Prompt sets are read by the caller on a worker and handed in
already loaded; a set file the user opens here is read the same way (through
`load_set`), so the dialog never touches the disk itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.batch import MAX_SEQUENCES
from ...core.catalog import ModelEntry
from ...core.engine.params import GenerationParams
from ...core.prompts import LANGUAGES, SET_SUFFIXES, PromptSet
from ..shared import describe
from ..shared.text_label import text_label

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}

# Every format a set file can be in (core/prompts/library.py tells them apart by suffix), then each.
SET_FILE_FILTER = ";;".join(
    (
        f"Prompt sets ({' '.join('*' + suffix for suffix in SET_SUFFIXES)})",
        "TOML (*.toml)",
        "CSV and TSV (*.csv *.tsv)",
        "JSON Lines (*.jsonl *.ndjson)",
        "All files (*)",
    )
)


@dataclass(frozen=True)
class NewBatch:
    """What `BatchRunner.create` needs; None for topics or languages means all of them."""

    prompt_set: PromptSet
    topics: tuple[str, ...] | None
    languages: tuple[str, ...] | None
    limit: int | None
    entries: tuple[ModelEntry, ...]
    params: GenerationParams
    sequences: int | None = None  # prompts each local model answers at once; None: auto


def _checkable(text: str, checked: bool, tip: str = "") -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    if tip:
        item.setToolTip(describe.tooltip(tip))
    return item


class NewBatchDialog(QDialog):
    def __init__(
        self,
        prompt_sets: list[PromptSet],
        entries: list[ModelEntry],
        chosen_ids: list[str],
        params: GenerationParams,
        load_set: Callable[[Path, Callable[[PromptSet], None]], None],
        parent: QWidget | None = None,
    ) -> None:
        """`chosen_ids`: models ticked at first (the main window's panes); `load_set(path, then)`
        reads a set file off the GUI thread and calls `then` with it."""
        super().__init__(parent)
        self.setWindowTitle("New batch")
        self._params = params
        self._load_set = load_set
        self._sets: list[PromptSet] = []

        self.prompt_set = QComboBox()
        self.prompt_set.currentIndexChanged.connect(self._set_chosen)
        self.open_set = QPushButton("Open a set file…")
        self.open_set.clicked.connect(self._choose_file)
        set_row = QHBoxLayout()
        set_row.addWidget(self.prompt_set, 1)
        set_row.addWidget(self.open_set)
        self.description = text_label(role="muted")

        self.topics = QListWidget()
        self.topics.setToolTip("Only prompts on the ticked topics")
        self.topics.itemChanged.connect(self._update_count)
        self.languages: dict[str, QCheckBox] = {}
        language_row = QHBoxLayout()
        for code in LANGUAGES:
            box = QCheckBox(f"{LANGUAGE_NAMES.get(code, code)} ({code})")
            box.setChecked(True)
            box.toggled.connect(self._update_count)
            self.languages[code] = box
            language_row.addWidget(box)
        language_row.addStretch(1)
        self.limit = QSpinBox()
        self.limit.setRange(0, 100_000)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Only the first N questions, each in every language ticked (all: the whole selection)")
        self.limit.valueChanged.connect(self._update_count)
        self.models = QListWidget()
        self.models.itemChanged.connect(self._update_count)
        # The panes' models first, in pane order: the batch's columns follow this order.
        first = {entry_id: i for i, entry_id in enumerate(chosen_ids)}
        for entry in sorted((e for e in entries if e.ok), key=lambda e: first.get(e.id, len(first))):
            item = _checkable(describe.badged_name(entry), entry.id in first, str(entry.path))
            item.setData(ENTRY_ROLE, entry)
            self.models.addItem(item)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 32768)
        self.max_tokens.setValue(params.max_tokens)
        self.max_tokens.setToolTip("The other settings are the main window's shared settings")
        self.sequences = QSpinBox()
        self.sequences.setRange(0, MAX_SEQUENCES)
        self.sequences.setSpecialValueText("auto")
        self.sequences.setToolTip(
            describe.tooltip(
                "How many prompts each local model answers at once, decoded together in one context: "
                "faster in total, each answer a little slower. Auto: up to 8, as the memory allows; "
                "1: one at a time. At temperature 0 an answer can differ from its one-at-a-time answer "
                "where two words were nearly tied."
            )
        )
        self.count = text_label()

        form = QFormLayout()
        form.addRow("Prompt set", set_row)
        form.addRow("", self.description)
        form.addRow("Topics", self.topics)
        form.addRow("Languages", language_row)
        form.addRow("Questions", self.limit)
        form.addRow("Models", self.models)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Sequences at once", self.sequences)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start batch")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.count)
        layout.addWidget(self.buttons)
        for prompt_set in prompt_sets:
            self.add_set(prompt_set)

    def add_set(self, prompt_set: PromptSet) -> None:
        """Offer a set (a file opened again replaces its earlier entry) and choose it."""
        known = next((i for i, s in enumerate(self._sets) if s.id == prompt_set.id and s.path == prompt_set.path), None)
        if known is None:
            self._sets.append(prompt_set)
            self.prompt_set.addItem(f"{prompt_set.title} ({prompt_set.id}, {len(prompt_set.prompts)} prompts)")
            known = len(self._sets) - 1
        else:
            self._sets[known] = prompt_set
        self.prompt_set.setCurrentIndex(known)
        self._set_chosen()

    @property
    def chosen_set(self) -> PromptSet | None:
        index = self.prompt_set.currentIndex()
        return self._sets[index] if 0 <= index < len(self._sets) else None

    def _set_chosen(self) -> None:
        prompt_set = self.chosen_set
        self.topics.blockSignals(True)
        self.topics.clear()
        if prompt_set is not None:
            self.description.setText(prompt_set.description)
            for topic in prompt_set.topics():
                self.topics.addItem(_checkable(topic, True))
        self.topics.blockSignals(False)
        self._update_count()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a prompt set", str(Path.home()), SET_FILE_FILTER)
        if path:
            self._load_set(Path(path), self.add_set)

    def _ticked(self, widget: QListWidget) -> list[QListWidgetItem]:
        return [widget.item(i) for i in range(widget.count()) if widget.item(i).checkState() == Qt.CheckState.Checked]

    def request(self) -> NewBatch | None:
        """The batch as chosen, or None while the choice selects nothing to run."""
        prompt_set = self.chosen_set
        entries = tuple(item.data(ENTRY_ROLE) for item in self._ticked(self.models))
        topics = tuple(item.text() for item in self._ticked(self.topics))
        languages = tuple(code for code, box in self.languages.items() if box.isChecked())
        if prompt_set is None or not entries or not topics or not languages:
            return None
        limit = self.limit.value() or None
        if not prompt_set.select(topics=topics, languages=languages, limit=limit):
            return None
        return NewBatch(
            prompt_set=prompt_set,
            topics=None if len(topics) == self.topics.count() else topics,
            languages=None if len(languages) == len(self.languages) else languages,
            limit=limit,
            entries=entries,
            params=self._params.replace(max_tokens=self.max_tokens.value()),
            sequences=self.sequences.value() or None,
        )

    def _update_count(self, *_: object) -> None:
        prompt_set = self.chosen_set
        models = len(self._ticked(self.models))
        topics = [item.text() for item in self._ticked(self.topics)]
        languages = [code for code, box in self.languages.items() if box.isChecked()]
        prompts = prompt_set.select(topics=topics, languages=languages, limit=self.limit.value() or None) if prompt_set and topics and languages else []
        if not prompts:
            self.count.setText("Nothing to ask: tick at least one topic and one language.")
        elif not models:
            self.count.setText("Tick at least one model.")
        else:
            # A prompt's scripted follow-ups are asked of every model too: each is an answer more.
            turns = sum(1 + len(p.then) for p in prompts)
            extra = turns - len(prompts)
            follow_ups = f" and {extra} follow-up{'' if extra == 1 else 's'}" if extra else ""
            self.count.setText(f"{len(prompts)} prompts{follow_ups} × {models} models = {turns * models} answers.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(prompts) and bool(models))
