"""User settings shared by the CLI and the window, in a small JSON file.

Only what both front ends need lives here: model folders, and the name a
person's annotations are credited to (core/annotator_name.py). Window layout
and the like are the window's, kept by Qt's QSettings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths, user_files
from .annotator_name import AnnotatorNameProblem, person_name
from .nesting import json_loads

FILE_NAME = "settings.json"
_OWN_KEYS = ("model_folders", "annotator")


@dataclass
class Settings:
    model_folders: list[str] = field(default_factory=list)
    annotator: str = ""  # the name chosen for annotating; "" when none was (core/annotator_name.py)
    # Keys other modules own (endpoints/config.py: "endpoints"), kept as read and saved back.
    others: dict[str, Any] = field(default_factory=dict)
    # The file was there but unreadable (damaged, hand-edited, another version's): kept
    # aside on the next save instead of overwritten, so the user can still mend it.
    unreadable: bool = field(default=False, compare=False)

    @classmethod
    def load(cls) -> Settings:
        """Defaults when the file is missing or unreadable: settings never stop the app."""
        file = paths.config_dir() / FILE_NAME
        try:
            data = json_loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            return cls(unreadable=True)
        folders = data.get("model_folders") if isinstance(data, dict) else None
        if not isinstance(folders, list):
            return cls(unreadable=True)
        others = {k: v for k, v in data.items() if k not in _OWN_KEYS}
        return cls(model_folders=[str(f) for f in folders if isinstance(f, str)], annotator=_saved_name(data.get("annotator")), others=others)

    def save(self) -> None:
        """Write the file whole (user_files.save: EnvironmentProblem if the disk says no).
        An unreadable file found at load is first renamed settings.json.unreadable."""
        folder = paths.config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if self.unreadable:
            try:
                os.replace(folder / FILE_NAME, folder / (FILE_NAME + ".unreadable"))
            except FileNotFoundError:
                pass
            self.unreadable = False
        saved = {"model_folders": self.model_folders} | ({"annotator": self.annotator} if self.annotator else {}) | self.others
        user_files.save(folder / FILE_NAME, json.dumps(saved, indent=2, ensure_ascii=False))

    def set_annotator(self, name: str) -> str:
        """Save `name` (checked by person_name: AnnotatorNameProblem says what is wrong) as the
        name to annotate under; the name as saved. Unchanged in memory if the disk says no."""
        name, before = person_name(name), self.annotator
        self.annotator = name
        try:
            self.save()
        except Exception:
            self.annotator = before
            raise
        return name

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


def _saved_name(value: object) -> str:
    """The saved annotator name, or "" when there is none or a hand edit broke it."""
    try:
        return person_name(value) if isinstance(value, str) else ""
    except AnnotatorNameProblem:
        return ""


def env_model_folders() -> list[Path]:
    """WORKBENCH_MODEL_DIRS: extra folders, separated like PATH."""
    value = os.environ.get("WORKBENCH_MODEL_DIRS", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p]
