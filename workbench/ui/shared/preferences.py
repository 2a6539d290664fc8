"""What the window remembers between launches, in a QSettings INI file.

Kept in the workbench's config folder (`WORKBENCH_CONFIG_DIR` moves it), next
to the settings the CLI shares, so tests and portable installs never touch
the user's real files. Every getter falls back to a default when the stored
value is missing or damaged: preferences never stop the app from starting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings

from ...core import paths
from ...core.comparison import SCHEDULES, SEQUENTIAL
from ...core.engine.params import GenerationParams
from ...core.nesting import json_loads

FILE_NAME = "window.ini"
T = TypeVar("T")


def default_settings_file() -> Path:
    return paths.config_dir() / FILE_NAME


class Preferences:
    def __init__(self, settings: QSettings) -> None:
        self._s = settings

    @classmethod
    def at(cls, file: Path) -> Preferences:
        return cls(QSettings(str(file), QSettings.Format.IniFormat))

    def sync(self) -> None:
        self._s.sync()

    # --- helpers ------------------------------------------------------------

    def _get(self, key: str, default: T, kind: Callable[[Any], T]) -> T:
        value = self._s.value(key, default)
        if kind is bool and isinstance(value, str):  # INI files store booleans as text
            return kind(value.lower() == "true")
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _get_json(self, key: str, default: Any) -> Any:
        value = self._s.value(key, "")
        if not isinstance(value, (str, bytes)):  # not text: what json_loads would refuse
            return default
        try:
            return json_loads(value)
        except (TypeError, ValueError):  # damaged, hand-edited, or nested too deeply: the default
            return default

    # --- window layout ------------------------------------------------------

    @property
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue("window/state", value)

    # --- panes --------------------------------------------------------------

    @property
    def pane_models(self) -> list[str | None] | None:
        """The catalog id chosen in each pane (None for an empty pane); None if never saved."""
        value = self._get_json("panes/models", None)
        if not isinstance(value, list):
            return None
        return [item if isinstance(item, str) else None for item in value]

    @pane_models.setter
    def pane_models(self, ids: list[str | None]) -> None:
        self._s.setValue("panes/models", json.dumps(ids))

    @property
    def pane_overrides(self) -> list[GenerationParams | None]:
        value = self._get_json("panes/overrides", [])
        result: list[GenerationParams | None] = []
        for item in value if isinstance(value, list) else []:
            try:
                result.append(GenerationParams.from_dict(item) if isinstance(item, dict) else None)
            except (TypeError, ValueError):
                result.append(None)
        return result

    @pane_overrides.setter
    def pane_overrides(self, overrides: list[GenerationParams | None]) -> None:
        self._s.setValue("panes/overrides", json.dumps([o.to_dict() if o else None for o in overrides]))

    @property
    def sync_scrolling(self) -> bool:
        return self._get("panes/sync_scrolling", False, bool)

    @sync_scrolling.setter
    def sync_scrolling(self, on: bool) -> None:
        self._s.setValue("panes/sync_scrolling", on)

    @property
    def opened_files(self) -> list[str]:
        """Single GGUF files the user opened (folders are kept by core settings)."""
        value = self._get_json("library/opened_files", [])
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    @opened_files.setter
    def opened_files(self, files: list[str]) -> None:
        self._s.setValue("library/opened_files", json.dumps(files))

    @property
    def library_grouping(self) -> str:
        return self._get("library/grouping", "", str)

    @library_grouping.setter
    def library_grouping(self, key: str) -> None:
        self._s.setValue("library/grouping", key)

    # --- running ------------------------------------------------------------

    @property
    def shared_params(self) -> GenerationParams:
        value = self._get_json("run/shared_params", None)
        if isinstance(value, dict):
            try:
                return GenerationParams.from_dict(value)
            except (TypeError, ValueError):
                pass
        return GenerationParams()

    @shared_params.setter
    def shared_params(self, params: GenerationParams) -> None:
        self._s.setValue("run/shared_params", json.dumps(params.to_dict()))

    @property
    def random_seed_each_run(self) -> bool:
        return self._get("run/random_seed_each_run", False, bool)

    @random_seed_each_run.setter
    def random_seed_each_run(self, on: bool) -> None:
        self._s.setValue("run/random_seed_each_run", on)

    @property
    def schedule(self) -> str:
        value = self._get("run/schedule", SEQUENTIAL, str)
        return value if value in SCHEDULES else SEQUENTIAL

    @schedule.setter
    def schedule(self, value: str) -> None:
        self._s.setValue("run/schedule", value)

    @property
    def prompt(self) -> str | None:
        """The prompt box's text at the last exit; None on the first launch."""
        value = self._s.value("run/prompt")
        return value if isinstance(value, str) else None

    @prompt.setter
    def prompt(self, text: str) -> None:
        self._s.setValue("run/prompt", text)

    @property
    def system_prompt(self) -> str:
        return self._get("run/system_prompt", "", str)

    @system_prompt.setter
    def system_prompt(self, text: str) -> None:
        self._s.setValue("run/system_prompt", text)

    # --- appearance ---------------------------------------------------------

    @property
    def font_size(self) -> float | None:
        value = self._get("appearance/font_size", 0.0, float)
        return value if value > 0 else None

    @font_size.setter
    def font_size(self, points: float) -> None:
        self._s.setValue("appearance/font_size", points)

    @property
    def theme(self) -> str:
        return self._get("appearance/theme", "system", str)

    @theme.setter
    def theme(self, value: str) -> None:
        self._s.setValue("appearance/theme", value)

    @property
    def cjk_notice_shown(self) -> bool:
        return self._get("notices/cjk_font", False, bool)

    @cjk_notice_shown.setter
    def cjk_notice_shown(self, shown: bool) -> None:
        self._s.setValue("notices/cjk_font", shown)

    # --- annotating -----------------------------------------------------------

    @property
    def legacy_annotator(self) -> str:
        """The annotator name older versions kept here (Edit > Annotator name…): moved once
        into the settings the CLI shares (core/annotator_name.py), then forgotten here."""
        return self._get("annotate/annotator", "", str)

    def forget_legacy_annotator(self) -> None:
        self._s.remove("annotate/annotator")
