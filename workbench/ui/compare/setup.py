"""How the comparison is set up: the panes, their settings, the schedule, and what is remembered.

`ComparisonSetup` answers the Panes menu (add, remove, scroll together), the
Models-run schedule (menu and prompt bar kept in step), the shared settings
form (applied to every pane) and each pane's own settings dialog. It is the one
owner of these preferences: it restores them at start and writes them back as
they change and at close.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from ...core.engine.params import GenerationParams, random_seed
from ...core.rendering import is_safe_link
from ..panes.compare_area import CompareArea
from ..panes.pane import ComparePane
from ..shared.actions import MAX_PANES, PaneActions, RunActions
from ..shared.context import Activity, Context
from .prompt_bar import SAMPLE_PROMPT, PromptBar
from .settings_form import PaneSettingsDialog, SettingsForm


class ComparisonSetup(QObject):
    def __init__(
        self,
        ctx: Context,
        activity: Activity,
        run_actions: RunActions,
        pane_actions: PaneActions,
        area: CompareArea,
        prompt_bar: PromptBar,
        settings_form: SettingsForm,
    ) -> None:
        super().__init__(ctx.parent)
        self.ctx, self.activity, self.run_actions = ctx, activity, run_actions
        self.area, self.prompt_bar, self.settings_form = area, prompt_bar, settings_form
        for key, action in run_actions.schedule.items():
            action.triggered.connect(lambda _checked=False, k=key: prompt_bar.set_schedule(k))
        prompt_bar.schedule.currentIndexChanged.connect(self._schedule_changed)
        pane_actions.add_pane.triggered.connect(self._add_pane)
        pane_actions.remove_pane.triggered.connect(lambda: area.remove_pane(area.panes[-1]))
        pane_actions.sync_scrolling.toggled.connect(self._set_sync_scrolling)
        self.sync_scrolling = pane_actions.sync_scrolling
        area.modelChosen.connect(lambda _pane: self.remember_pane_models())
        area.settingsRequested.connect(self.edit_pane_settings)
        area.linkHovered.connect(self._link_hovered)
        settings_form.changed.connect(self._shared_settings_changed)

    def restore(self, initial_prompt: str | None) -> None:
        """The setup as the user left it (`initial_prompt`: one given on the command line wins)."""
        p = self.ctx.prefs
        self.prompt_bar.set_texts(initial_prompt or (p.prompt if p.prompt is not None else SAMPLE_PROMPT), p.system_prompt)
        self.prompt_bar.set_schedule(p.schedule)
        self._schedule_changed()
        self.settings_form.random_seed.setChecked(p.random_seed_each_run)
        self.sync_scrolling.setChecked(p.sync_scrolling)
        saved = p.pane_models
        if saved is not None:
            self.area.set_count(len(saved))
        for pane, own in zip(self.area.panes, p.pane_overrides):
            pane.set_override(own)
        self._shared_settings_changed()

    def save(self) -> None:
        """Into the preferences (the caller syncs them)."""
        p = self.ctx.prefs
        p.prompt = self.prompt_bar.prompt_text
        p.system_prompt = self.prompt_bar.system_prompt_text
        p.schedule = self.prompt_bar.schedule_key
        p.random_seed_each_run = self.settings_form.random_seed.isChecked()
        p.sync_scrolling = self.area.sync_scrolling
        p.pane_overrides = [pane.override for pane in self.area.panes]
        self.remember_pane_models()
        try:
            p.shared_params = self.settings_form.params()
        except ValueError:
            pass  # keep the last valid settings

    def remember_pane_models(self) -> None:
        """The panes' models, for next time; not before the library's first scan, when the
        panes show nothing worth keeping."""
        if self.activity.library_ready:
            self.ctx.prefs.pane_models = [pane.entry_id for pane in self.area.panes]

    def batch_params(self) -> GenerationParams:
        """The shared settings for a new batch, with a new seed when every run gets one.
        ValueError when the settings form holds an invalid value."""
        params = self.settings_form.params()
        return params.replace(seed=random_seed()) if self.settings_form.random_seed.isChecked() else params

    def edit_pane_settings(self, pane: ComparePane) -> PaneSettingsDialog:
        dialog = PaneSettingsDialog(
            self.area.shared_params, pane.override, pane.entry.name if pane.entry else "this pane", self.ctx.parent,
            gpu_backends=self.settings_form.gpu_backends,
        )  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._pane_settings_chosen(pane, dialog.override()))
        dialog.open()
        return dialog

    def _pane_settings_chosen(self, pane: ComparePane, own: GenerationParams | None) -> None:
        if pane in self.area.panes:
            pane.set_override(own)
            self.ctx.prefs.pane_overrides = [p.override for p in self.area.panes]

    def _add_pane(self) -> None:
        if self.area.add_pane() is None:
            self.ctx.feedback.status(f"At most {MAX_PANES} panes.", 4000)

    def _shared_settings_changed(self) -> None:
        try:
            shared = self.settings_form.params()
        except ValueError:
            return  # the form shows why; panes keep the last valid settings
        self.area.set_shared_params(shared)
        self.ctx.prefs.shared_params = shared

    def _schedule_changed(self) -> None:
        key = self.prompt_bar.schedule_key
        self.run_actions.schedule[key].setChecked(True)
        self.ctx.prefs.schedule = key

    def _set_sync_scrolling(self, on: bool) -> None:
        self.area.set_sync_scrolling(on)
        self.ctx.prefs.sync_scrolling = on

    def _link_hovered(self, url: str) -> None:
        if not url:
            self.ctx.feedback.clear_status()
        elif is_safe_link(url):
            self.ctx.feedback.status(f"{url} — click to open it in your browser", 0)
        else:
            self.ctx.feedback.status("This link is not http(s); the workbench will not open it.", 0)
