"""Asking the panes' models, and showing a saved run: what fills the panes.

`Comparing` owns the live comparison (the prompt bar's Run, Stop and the
reruns, the runner's stream into the panes) and the one way a saved run is
put in the panes (`show_run`): the history, search hits, the Batches window
and a finished replay all come here. What it put there is announced on
`PaneEvents`, which the features decorating the panes follow.

A run the panes show can be continued (`follow_up`): each pane's model is asked
the next turn of its own conversation (`Comparison.follow_up`), with the
settings its answers were made with. The turn strip above the panes then
chooses which turn every pane shows (`show_turn`); annotations follow the
answer shown, since they are kept by response id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Slot

from ...core.catalog import ModelEntry
from ...core.comparison import Contender, ResponseOutcome, RunOutcome
from ...core.engine.offload import GPU_BACKENDS
from ...core.engine.params import GenerationParams, random_seed
from ..panes.compare_area import CompareArea
from ..panes.pane import ComparePane
from ..panes.saved_run import place_saved_run
from ..panes.turn_strip import TurnStrip
from ..shared.actions import MAX_PANES, RunActions
from ..shared.context import Activity, Context, ModelLibrary, PaneEvents
from ..shared.describe import local_time, recorded_origin_text
from .prompt_bar import PromptBar
from .runner import ComparisonRunner, RunRequest
from .settings_form import SettingsForm

BATCH_BUSY = "A batch is using the models: Run is off until it ends or you pause it (Run > Batches…)."
JUDGE_BUSY = "A model is judging answers: Run is off until it ends or you cancel it (Run > Batches…)."
NOTHING_TO_FOLLOW = "Run a prompt first: a follow-up continues the run the panes show, each model its own conversation."
PANE_RERUN_ALONE = "This pane's rerun is a run of its own: open it from History to follow it up, or run the prompt again in every pane."


@dataclass(frozen=True)
class ShownPrompt:
    """The prompt the panes show (a live or a saved run): what "rerun" asks again."""

    prompt: str
    system_prompt: str
    schedule: str


@dataclass
class Conversation:
    """The run the panes show, as a follow-up continues it: which pane shows each of its
    answer positions, and the prompts of its turns so far."""

    run_id: int
    panes: tuple[int, ...]  # panes[i] shows the run's position i
    prompts: list[str] = field(default_factory=list)
    asked: bool = True  # False while the newest turn is not yet in the notebook

    def show_on(self, strip: TurnStrip, current: int) -> None:
        strip.set_turns(self.prompts, current)


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
        self.conversation: Conversation | None = None  # what a follow-up continues
        self._headers: list[str] = []  # each answer position's origin text, as the saved run shown named it
        self._follow_up_tip = actions.follow_up.toolTip()  # as declared; while off, the tooltip says why
        self._set_conversation(None)
        self._hashed: list[ModelEntry] = []  # entries hashed during the run: the library learns them at its end
        actions.run.triggered.connect(self.run_prompt)
        actions.rerun.triggered.connect(self.rerun_all)
        actions.stop.triggered.connect(self.stop)
        actions.follow_up.triggered.connect(self.follow_up)
        area.rerunRequested.connect(self.rerun_pane)
        area.turns.turnChosen.connect(self.show_turn)
        events.replayStarted.connect(self._replay_started)
        r = self.runner
        r.runCreated.connect(self._run_created)
        r.turnCreated.connect(self._turn_created)
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
        if not self._models_free():
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
        self._set_conversation(None, PANE_RERUN_ALONE if pane_rerun else NOTHING_TO_FOLLOW)
        for (index, entry, params) in runs:
            self.area.panes[index].begin("Starting…", params, entry.name)
        self.area.turns.clear()  # a new run is one turn; a pane's rerun leaves no one conversation in the panes
        if not pane_rerun:
            self._headers = []
            for index, pane in enumerate(self.area.panes):
                if index not in request.panes:
                    pane.clear_response("No model chosen: this pane sat out the run.")
        self.events.runStarting.emit(list(request.panes), pane_rerun)
        self._launch(request)

    def _models_free(self) -> bool:
        """Every way of starting a run or a follow-up comes here: a batch or a judge holds the models."""
        if self.activity.batch or self.activity.judging:
            self.ctx.feedback.status(BATCH_BUSY if self.activity.batch else JUDGE_BUSY, 8000)
            self.events.runFinished.emit(None)
            return False
        return True

    def _launch(self, request: RunRequest) -> None:
        self.area.set_running(True)
        self.prompt_bar.run_info.setText("Running…")
        self.activity.set_comparing(True)
        self.runner.start(request)

    # --- a follow-up: the next turn of each pane's conversation ----------------------------------

    @property
    def can_follow_up(self) -> bool:
        """The panes show a run of theirs that a follow-up can continue."""
        return self.conversation is not None

    def _set_conversation(self, conversation: Conversation | None, why_not: str = NOTHING_TO_FOLLOW) -> None:
        self.conversation = conversation
        self.actions.follow_up.setToolTip(self._follow_up_tip if conversation is not None else why_not)
        self.prompt_bar.set_follow_up_ready(conversation is not None)

    def follow_up(self) -> None:
        """Ask every pane's model the text in the prompt box as the next turn of its own
        conversation, with the settings its answers were made with."""
        if not self.actions.follow_up.isEnabled():
            return
        conversation = self.conversation
        if conversation is None:  # the action is off then (the shell asks `can_follow_up`)
            return
        prompt = self.prompt_bar.prompt_text.strip()
        if not prompt:
            self.ctx.feedback.status("Type the follow-up first: every model gets it as the next turn of its conversation.")
            self.prompt_bar.prompt.setFocus()
            return
        runs = self._follow_up_contenders(conversation)
        if runs is None or not self._models_free():
            return
        self.ctx.feedback.dismiss("follow-up")
        system_prompt = self._shown.system_prompt if self._shown is not None else ""
        request = RunRequest(
            prompt=prompt,
            system_prompt=system_prompt,
            schedule=self.prompt_bar.schedule_key,
            contenders=tuple(Contender(entry, params.replace(system_prompt=system_prompt)) for _, entry, params in runs),
            panes=conversation.panes,
            follow_up_of=conversation.run_id,
        )
        self._request = request
        turn = len(conversation.prompts)
        conversation.prompts.append(prompt)
        conversation.asked = False
        conversation.show_on(self.area.turns, turn)  # the newest turn, streaming
        for index, entry, params in runs:
            pane = self.area.panes[index]
            pane.begin("Starting…", params, entry.name)
            pane.show_turn_prompt(turn, prompt)
        self.events.turnStarting.emit(list(request.panes))
        self._launch(request)

    def _follow_up_contenders(self, conversation: Conversation) -> list[tuple[int, ModelEntry, GenerationParams]] | None:
        """Each position's pane with its model and recorded settings; None, and one line
        saying why, when a model is not on this computer. (A pane given another model since
        is refused by the core, which compares the files' SHA-256.)"""
        runs, missing = [], []
        for position, index in enumerate(conversation.panes):
            pane = self.area.panes[index] if index < len(self.area.panes) else None
            recorded = pane.shown.model_name if pane is not None and pane.shown is not None else f"the model of answer {position + 1}"
            entry = pane.entry if pane is not None else None
            if entry is None:
                missing.append(recorded)
                continue
            assert pane is not None, "a pane that was removed has no entry"
            runs.append((index, entry, self._same_params(pane)))
        if missing:
            names = ", ".join(missing)
            self.ctx.feedback.problem(
                "follow-up",
                f"Not sent: {names} {'is' if len(missing) == 1 else 'are'} not in the model library on this computer, "
                "so the conversation can't go on. Ask a new question instead (Ctrl+Enter).",
            )
            return None
        return runs

    @Slot(int, int, list)
    def _turn_created(self, run_id: int, turn: int, response_ids: list[int]) -> None:
        request, conversation = self._request, self.conversation
        if request is None or conversation is None or conversation.run_id != run_id:
            return
        for index, response_id in zip(request.panes, response_ids):
            pane = self.area.panes[index]
            pane.set_run_id(run_id, f"Run #{run_id} · turn {turn + 1}")
            pane.response_id = response_id
        conversation.asked = True
        self.prompt_bar.run_info.setText(f"Run #{run_id}, turn {turn + 1} — saved to the notebook as it streams")
        self.events.runCreated.emit(run_id)

    def stop(self) -> None:
        if self.runner.running:
            self.runner.stop()
            self.ctx.feedback.status("Stopping… what the models wrote so far is kept.")

    @Slot(int, list)
    def _run_created(self, run_id: int, response_ids: list[int]) -> None:
        request = self._request
        if request is None:
            return
        if not request.pane_rerun:
            self._set_conversation(Conversation(run_id, request.panes, [request.prompt]))
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
        if GPU_BACKENDS in outcome.result.backend_info:
            # A model process said what this llama.cpp can offload to: the settings' tooltip says so.
            self.settings_form.set_gpu_backends(list(outcome.result.backend_info[GPU_BACKENDS]))
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
        request, self._request = self._request, None
        self.area.set_running(False)
        hashed, self._hashed = self._hashed, []
        for entry in hashed:
            self.library.put(entry)
        conversation = self.conversation
        if outcome is not None:
            turn = f", turn {outcome.turn + 1}," if outcome.turn else ""
            self.prompt_bar.run_info.setText(f"Run #{outcome.run_id}{turn} finished and saved")
        self.activity.set_comparing(False)
        if outcome is None and request is not None and request.follow_up_of is not None and conversation is not None:
            self._forget_unasked_turn(conversation)
        self.events.runFinished.emit(outcome)

    def _forget_unasked_turn(self, conversation: Conversation) -> None:
        """The follow-up never reached the notebook (refused before it began): the strip loses
        its turn, and the panes show the conversation's last turn again."""
        if not conversation.asked:
            conversation.prompts.pop()
            conversation.asked = True
        conversation.show_on(self.area.turns, len(conversation.prompts) - 1)
        self.show_turn(len(conversation.prompts) - 1)

    # --- a saved run ---------------------------------------------------------------------------

    def show_run(self, run_id: int) -> None:
        """Read a saved run and show it in the panes: its last turn, with the turn strip."""
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
        self._headers = [origin for _name, origin in headers]
        turns = run["turns"]
        last = len(turns) - 1
        for pane, response in zip(self.area.panes, turns[last]["responses"]):
            self._show_response(pane, run, last, response)
        hidden = len(responses) - len(self.area.panes)
        self.prompt_bar.set_texts(run["prompt"], run.get("system_prompt") or "")
        self.prompt_bar.set_schedule(run.get("schedule") or self.prompt_bar.schedule_key)
        self._shown = ShownPrompt(run["prompt"], run.get("system_prompt") or "", self.prompt_bar.schedule_key)
        conversation = Conversation(
            run["id"],
            tuple(range(len(responses))),
            [turn["prompt"] for turn in turns],
        )
        conversation.show_on(self.area.turns, last)
        if hidden > 0:
            self._set_conversation(
                None, f"Run #{run['id']} has {len(responses)} answers and the window shows at most {MAX_PANES}: a follow-up must reach them all."
            )
        else:
            self._set_conversation(conversation)
        more = f" ({hidden} more model(s) not shown: at most {MAX_PANES} panes)" if hidden > 0 else ""
        self.prompt_bar.run_info.setText(f"Showing run #{run['id']} from {when}{more}")
        self.events.runShown.emit(run["id"])

    def _replay_started(self, _run_id: int) -> None:
        """A recorded run replays in the panes: no conversation of theirs until it is shown."""
        self.area.turns.clear()
        self._set_conversation(None)

    def show_turn(self, turn: int) -> None:
        """Every pane shows its answer to `turn` of the conversation (a click on the turn strip)."""
        conversation = self.conversation
        if conversation is None:
            return
        notebook, run_id = self.ctx.workspace.notebook, conversation.run_id
        self.ctx.notebook_tasks.submit(lambda: notebook.run(run_id), lambda run: self._display_turn(run, turn))

    def _display_turn(self, run: dict[str, Any] | None, turn: int) -> None:
        conversation = self.conversation
        if run is None or conversation is None or conversation.run_id != run["id"] or self.activity.panes_busy:
            return
        turns = run["turns"]
        turn = min(turn, len(turns) - 1)
        for position, response in enumerate(turns[turn]["responses"]):
            if position < len(conversation.panes) and conversation.panes[position] < len(self.area.panes):
                self._show_response(self.area.panes[conversation.panes[position]], run, turn, response)
        self.area.turns.select(turn)
        self.events.turnShown.emit(run["id"], turn)

    def _show_response(self, pane: ComparePane, run: dict[str, Any], turn: int, response: dict[str, Any]) -> None:
        """One pane shows its answer to one turn of a saved run, under that turn's question
        when the run is a conversation."""
        position = response.get("position") or 0
        if position < len(self._headers):
            origin = self._headers[position]  # as the saved run's model was named when shown
        else:  # a live run's answer
            origin = recorded_origin_text(response.get("origin_country"), pane.entry.origin.maker if pane.entry else None)
        turns = run["turns"]
        of = f" · turn {turn + 1} of {len(turns)}" if len(turns) > 1 else ""
        pane.show_saved(response, f"Run #{run['id']} · {local_time(run.get('created_at'))}{of}", origin)
        pane.show_turn_prompt(turn if len(turns) > 1 else None, turns[turn]["prompt"])
