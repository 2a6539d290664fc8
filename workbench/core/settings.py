"""User settings shared by the CLI and the window, in a small JSON file.

Only what both front ends need lives here (model folders). Window layout
and the like are the window's, kept by Qt's QSettings.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .nesting import json_loads

FILE_NAME = "settings.json"


@dataclass
class Settings:
    model_folders: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> "Settings":
        """Defaults when the file is missing or unreadable: settings never stop the app."""
        try:
            data = json_loads((paths.config_dir() / FILE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        folders = data.get("model_folders") if isinstance(data, dict) else None
        if not isinstance(folders, list):
            return cls()
        return cls(model_folders=[str(f) for f in folders if isinstance(f, str)])

    def save(self) -> None:
        folder = paths.config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"model_folders": self.model_folders}, handle, indent=2, ensure_ascii=False)
        os.replace(temp, folder / FILE_NAME)

    def add_folder(self, folder: Path) -> None:
        text = str(Path(folder).expanduser().resolve())
        if text not in self.model_folders:
            self.model_folders.append(text)
            self.save()

    def remove_folder(self, folder: Path | str) -> None:
        text = str(folder)
        if text in self.model_folders:
            self.model_folders.remove(text)
            self.save()


def env_model_folders() -> list[Path]:
    """WORKBENCH_MODEL_DIRS: extra folders, separated like PATH."""
    value = os.environ.get("WORKBENCH_MODEL_DIRS", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p]
