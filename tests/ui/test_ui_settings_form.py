"""The window's settings boxes take exactly what the core accepts: a setting
recorded at the core's limits (a batch, a demo step, a preference) is shown as
it is, not quietly cut to a smaller box's maximum. A damaged preference falls
back to the defaults."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from workbench.core.engine.params import MAX_CONTEXT, MAX_SEED, MAX_THREADS, MAX_TOP_K, MIN_CONTEXT, GenerationParams
from workbench.ui.shared.preferences import Preferences
from workbench.ui.compare.settings_form import SettingsForm


def test_the_boxes_limits_are_the_core_s(qapp: QApplication) -> None:
    form = SettingsForm(GenerationParams(), offer_random_seed=False)
    assert (form.n_ctx.minimum(), form.n_ctx.maximum()) == (MIN_CONTEXT, MAX_CONTEXT)
    assert (form.n_threads.minimum(), form.n_threads.maximum()) == (1, MAX_THREADS)
    assert (form.max_tokens.minimum(), form.max_tokens.maximum()) == (1, MAX_CONTEXT)
    assert (form.top_k.minimum(), form.top_k.maximum()) == (0, MAX_TOP_K)
    assert (form.seed.minimum(), form.seed.maximum()) == (0, MAX_SEED)


def test_settings_at_the_core_s_limits_come_back_unchanged(qapp: QApplication) -> None:
    recorded = GenerationParams(top_k=MAX_TOP_K, max_tokens=MAX_CONTEXT, seed=MAX_SEED, n_ctx=MAX_CONTEXT, n_threads=MAX_THREADS)
    form = SettingsForm(GenerationParams(), offer_random_seed=False)
    form.set_params(recorded)
    assert form.params() == recorded


def test_preferences_nested_too_deeply_read_as_the_defaults(qapp: QApplication, tmp_path: Path) -> None:
    """The window's preferences file is the user's to edit (or damage): it must not stop the window opening."""
    file = tmp_path / "workbench.ini"
    QSettings(str(file), QSettings.Format.IniFormat).setValue("run/shared_params", "[" * 100_000)
    assert Preferences.at(file).shared_params == GenerationParams()
