"""Asking the panes' models, and showing a saved run: what fills the panes.

`Comparing` owns the live comparison (the prompt bar's Run, Stop and the
reruns, the runner's stream into the panes) and the one way a saved run is
put in the panes (`show_run`): the history, search hits, the Batches window
and a finished replay all come here. What it put there is announced on
`PaneEvents`, which the features decorating the panes follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Slot

from ...core.catalog import ModelEntry
from ...core.comparison import Contender, ResponseOutcome, RunOutcome
from ...core.engine.params import GenerationParams, random_seed
from ..panes.compare_area import CompareArea
from ..panes.pane import ComparePane
from ..panes.saved_run import place_saved_run
from ..shared.actions import MAX_PANES, RunActions
from ..shared.context import Activity, Context, ModelLibrary, PaneEvents
from ..shared.describe import local_time
from .prompt_bar import PromptBar
from .runner import ComparisonRunner, RunRequest
from .settings_form import SettingsForm

BATCH_BUSY = "A batch is using the models: Run is off until it ends or you pause it (Run > Batches…)."
JUDGE_BUSY = "A model is judging answers: Run is off until it ends or you cancel it (Run > Batches…)."


@dataclass(frozen=True)
class ShownPrompt:
    """The prompt the panes show (a live or a saved run): what "rerun" asks again."""

    prompt: str
    system_prompt: str
    schedule: str


class Comparing(QObject):
    def __init__(
        self,
        ctx: Context,
        library: ModelLibrary,
        activity: Activity,
        events: PaneEvents,
        actions: RunActions,
        area: CompareArea,
        prompt_bar: PromptBar,
        settings_form: SettingsForm,
    ) -> None:
        super().__init__(ctx.parent)
        self.ctx, self.library, self.activity, self.events, self.actions = ctx, library, activity, events, actions
        self.area, self.prompt_bar, self.settings_form = area, prompt_bar, settings_form
        self.runner = ComparisonRunner(ctx.workspace, self)
        self._request: RunRequest | None = None
        self._shown: ShownPrompt | None = None
        self._hashed: list[ModelEntry] = []  # entries hashed during the run: the library learns them at its end
        actions.run.triggered.connect(self.run_prompt)
        actions.rerun.triggered.connect(self.rerun_all)
        actions.stop.triggered.connect(self.stop)
        area.rerunRequested.connect(self.rerun_pane)
        r = self.runner
        r.runCreated.connect(self._run_created)
        r.status.connect(lambda pane, status: self.area.panes[pane].on_status(status))
        r.text.connect(lambda pane, kind, text, pieces: self.area.panes[pane].on_text(kind, text, pieces))
        r.responseFinished.connect(self._response_finished)
        r.problem.connect(lambda text: ctx.feedback.problem("notebook", text))
        r.failed.connect(self._run_failed)
        r.finished.connect(self._run_finished)

    # --- a live comparison -------------------------------------------------------------------

    def run_prompt(self) -> None:
        """Ask every pane's model the prompt in the box, with the current settings."""
        if not self.actions.run.isEnabled():
            return
        prompt = self.prompt_bar.prompt_text.strip()
        if not prompt:
            self.ctx.feedback.status("Type a question first.")
            self.prompt_bar.prompt.setFocus()
            return
        if self.settings_form.random_seed.isChecked():
            self.settings_form.seed.setValue(random_seed())
        try:
            self.settings_form.params()
        except ValueError as problem:
            self.ctx.feedback.problem("settings", f"Check the shared settings: {problem}")
            return
        runs = [(i, p.entry, p.params()) for i, p in enumerate(self.area.panes) if p.entry is not None]
        self._start(prompt, self.prompt_bar.system_prompt_text.strip(), runs)

    def rerun_all(self) -> None:
        """The shown prompt again, each pane with the settings and seed its answer was made with."""
        if not self.actions.rerun.isEnabled():
            return
        if self._shown is None:
            self.run_prompt()
            return
        self.prompt_bar.set_texts(self._shown.prompt, self._shown.system_prompt)
        self.prompt_bar.set_schedule(self._shown.schedule)
        runs = [(i, p.entry, self._same_params(p)) for i, p in enumerate(self.area.panes) if p.entry is not None]
        self._start(self._shown.prompt, self._shown.system_prompt, runs)

    def rerun_pane(self, pane: ComparePane) -> None:
        """One pane again, same prompt, settings and seed; the notebook keeps it as a run of its own."""
        if self.activity.panes_busy or pane.entry is None:
            return
        shown = self._shown or ShownPrompt(self.prompt_bar.prompt_text.strip(), self.prompt_bar.system_prompt_text.strip(), self.prompt_bar.schedule_key)
        if not shown.prompt:
            self.ctx.feedback.status("Type a question first.")
            return
        self._start(shown.prompt, shown.system_prompt, [(self.area.panes.index(pane), pane.entry, self._same_params(pane))], pane_rerun=True)

    @staticmethod
    def _same_params(pane: ComparePane) -> GenerationParams:
        return pane.shown.params if pane.shown is not None and pane.shown.params is not None else pane.params()

    def _start(self, prompt: str, system_prompt: str, runs: list[tuple[int, ModelEntry, GenerationParams]], pane_rerun: bool = False) -> None:
        if not runs:
            self.ctx.feedback.problem("no-model", "Choose a model in at least one pane.")
            return
        if self.activity.batch or self.activity.judging:  # every way of starting a run comes here
            self.ctx.feedback.status(BATCH_BUSY if self.activity.batch else JUDGE_BUSY, 8000)
            self.events.runFinished.emit(None)
            return
        self.ctx.feedback.dismiss("no-model")
        request = RunRequest(
            prompt=prompt,
            system_prompt=system_prompt,
            schedule=self.prompt_bar.schedule_key,
            contenders=tuple(Contender(entry, params.replace(system_prompt=system_prompt)) for _, entry, params in runs),
            panes=tuple(index for index, _, _ in runs),
            pane_rerun=pane_rerun,
        )
        self._request = request
        self._shown = ShownPrompt(prompt, system_prompt, request.schedule)
        for (index, entry, params) in runs:
            self.area.panes[index].begin("Starting…", params, entry.name)
        if not pane_rerun:
            for index, pane in enumerate(self.area.panes):
                if index not in request.panes:
                    pane.clear_response("No model chosen: this pane sat out the run.")
        self.area.set_running(True)
        self.prompt_bar.run_info.setText("Running…")
        self.events.runStarting.emit(list(request.panes), pane_rerun)
        self.activity.set_comparing(True)
        self.runner.start(request)

    def stop(self) -> None:
        if self.runner.running:
            self.runner.stop()
            self.ctx.feedback.status("Stopping… what the models wrote so far is kept.")

    @Slot(int, list)
    def _run_created(self, run_id: int, response_ids: list[int]) -> None:
        request = self._request
        if request is None:
            return
        only = " (this pane only, saved as a run of its own)" if request.pane_rerun else ""
        for index, response_id in zip(request.panes, response_ids):
            pane = self.area.panes[index]
            pane.set_run_id(run_id, f"Run #{run_id}{only}")
            pane.response_id = response_id  # annotating works on it once it is saved
        self.prompt_bar.run_info.setText(f"Run #{run_id} — saved to the notebook as it streams")
        self.events.runCreated.emit(run_id)

    @Slot(int, object)
    def _response_finished(self, pane: int, outcome: ResponseOutcome) -> None:
        self.area.panes[pane].on_finished(outcome)
        self.events.answerSaved.emit(self.area.panes[pane])  # saved and flagged: its suggestions show
        if outcome.entry.sha256 and outcome.entry.id in self.library:
            self._hashed.append(outcome.entry)  # now hashed: no need to hash again

    @Slot(str)
    def _run_failed(self, text: str) -> None:
        self.ctx.feedback.problem("run", text)
        if self._request is not None:
            for index in self._request.panes:
                self.area.panes[index].clear_response(f"Not run: {text}")

    @Slot(object)
    def _run_finished(self, outcome: RunOutcome | None) -> None:
        self._request = None
        self.area.set_running(False)
        hashed, self._hashed = self._hashed, []
        for entry in hashed:
            self.library.put(entry)
        if outcome is not None:
            self.prompt_bar.run_info.setText(f"Run #{outcome.run_id} finished and saved")
        self.activity.set_comparing(False)
        self.events.runFinished.emit(outcome)

    # --- a saved run ---------------------------------------------------------------------------

    def show_run(self, run_id: int) -> None:
        """Read a saved run and show it in the panes."""
        if self.activity.panes_busy:
            return
        notebook = self.ctx.workspace.notebook
        self.ctx.notebook_tasks.submit(lambda: notebook.run(run_id), self._display_run)

    def _display_run(self, run: dict[str, Any] | None) -> None:
        if run is None or self.activity.panes_busy:
            return
        self.events.panesWanted.emit()
        when = local_time(run.get("created_at"))
        responses = run["responses"]
        headers = place_saved_run(self.area, run, self.library.by_sha256())
        for pane, response, (_name, origin) in zip(self.area.panes, responses, headers):
            pane.show_saved(response, f"Run #{run['id']} · {when}", origin)
        hidden = len(responses) - len(self.area.panes)
        self.prompt_bar.set_texts(run["prompt"], run.get("system_prompt") or "")
        self.prompt_bar.set_schedule(run.get("schedule") or self.prompt_bar.schedule_key)
        self._shown = ShownPrompt(run["prompt"], run.get("system_prompt") or "", self.prompt_bar.schedule_key)
        more = f" ({hidden} more model(s) not shown: at most {MAX_PANES} panes)" if hidden > 0 else ""
        self.prompt_bar.run_info.setText(f"Showing run #{run['id']} from {when}{more}")
        self.events.runShown.emit(run["id"])
