"""Blind comparison: answers under "Model A", "Model B", … until revealed, and the audience vote.

A letter names an answer's position in the run (the notebook's `pane:N`
choices count from the same 0 = "A"), so the vote stored for "Model B" is
always the second answer, whichever pane showed it. Every new run, and every
other saved run opened, is a new round: all panes go blind again. A follow-up (the
run's next turn, PaneEvents.turnStarting) or another turn of it shown is not: the
letters, what was revealed and the votes stay with the run. The vote result
names the models, so it waits until every answer is revealed.

Answers are followed by their pane, not by the pane's place in the row: a pane
removed takes its answer off the vote (no "Model C" to vote for once its pane is
gone), and the panes after it keep their letters.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from ...core.notebook.votes import TIE, Tally, letter, pane_choice
from ..panes.compare_area import CompareArea
from ..panes.pane import ComparePane
from ..shared.context import Context, PaneEvents
from .vote_bar import VoteBar

PANE_RERUN = "One pane's rerun is a run of its own: votes go with a run of every pane."


class BlindComparison(QObject):
    """Blind names on the panes of `area`, and the votes on the run they show (followed
    through `pane_events`: a live run, a saved run shown, a recorded run replayed)."""

    tallyShown = Signal(object)  # the Tally now on the buttons (after every vote is saved)
    # Blind on or off. Outside the panes, the models are named in pane order: revealing one
    # pane must not name the others, so the views that name runs' models (history, search,
    # the demo's) hide them until blind ends. The notes window on a second screen is the
    # teacher's own and keeps them.
    activeChanged = Signal(bool)

    def __init__(self, context: Context, area: CompareArea, pane_events: PaneEvents, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.area = area
        self.bar = VoteBar()
        self.active = False
        self.run_id: int | None = None  # the run votes go to
        self._order: list[ComparePane] = []  # the pane showing each answer position of that run
        self._pane_rerun = False
        self.bar.voteRequested.connect(self.vote)
        pane_events.runStarting.connect(self._run_started)
        pane_events.runCreated.connect(self._run_created)
        pane_events.runShown.connect(self._run_shown)
        pane_events.replayStarted.connect(self._run_shown)  # a replayed run takes the votes, as when shown
        area.panesChanged.connect(self._panes_changed)
        area.paneRevealed.connect(self._show_result)
        self._panes_changed()

    # --- blind names -----------------------------------------------------------------

    def set_active(self, on: bool) -> None:
        self.active = on
        self._new_round()
        self.activeChanged.emit(on)

    def _letters(self) -> list[str]:
        """Each pane's letter: its answer's position; panes that sat the run out, or were
        added since, come after."""
        letters, later = [], len(self._order)
        for pane in self.area.panes:
            if pane in self._order:
                letters.append(letter(self._order.index(pane)))
            else:
                letters.append(letter(later))
                later += 1
        return letters

    def _new_round(self) -> None:
        for pane, name in zip(self.area.panes, self._letters()):
            pane.set_blind(name if self.active else None)
        self._show_result()

    def _panes_changed(self) -> None:
        """A pane added while blind gets its letter; the others keep theirs, revealed or not.
        The vote offers the answers still on screen."""
        for pane, name in zip(self.area.panes, self._letters()):
            wanted = name if self.active else None
            if pane.blind_letter != wanted:
                pane.set_blind(wanted)
        self._offer_shown_answers()
        self._show_result()

    def _offer_shown_answers(self) -> None:
        shown = [pane_choice(position) for position, pane in enumerate(self._order) if pane in self.area.panes]
        self.bar.set_offered([*shown, TIE])

    def reveal_all(self) -> None:
        for pane in self.area.panes:
            pane.reveal()

    def reveal(self, index: int) -> None:
        """Reveal the pane at `index` (0 = the leftmost), if there is one."""
        panes = self.area.panes
        if 0 <= index < len(panes):
            panes[index].reveal()

    @property
    def all_revealed(self) -> bool:
        return not any(pane.hidden_identity for pane in self.area.panes)

    # --- runs ------------------------------------------------------------------------

    @Slot(list, bool)
    def _run_started(self, panes: list[int], pane_rerun: bool) -> None:
        self._pane_rerun = pane_rerun
        if pane_rerun:
            self.run_id = None
            self.bar.set_tally(None, PANE_RERUN)
            return
        self._order = [self.area.panes[p] for p in panes if p < len(self.area.panes)]
        self._offer_shown_answers()
        self.run_id = None
        self.bar.set_tally(None, "Votes open once the run is saved…")
        self._new_round()

    @Slot(int)
    def _run_created(self, run_id: int) -> None:
        if not self._pane_rerun:
            self.run_id = run_id
            self._load(run_id)

    @Slot(int)
    def _run_shown(self, run_id: int) -> None:
        """Another run is a new round; the same one shown again (a replay ending) keeps what was revealed."""
        order = list(self.area.panes)
        same = (run_id, order) == (self.run_id, self._order) and not self._pane_rerun
        self._pane_rerun = False
        self._order, self.run_id = order, run_id
        self._offer_shown_answers()
        if not same:
            self._new_round()
        self._load(run_id)

    # --- votes -------------------------------------------------------------------------

    def _load(self, run_id: int) -> None:
        votes = self.context.workspace.notebook.votes
        self.context.notebook_tasks.submit(lambda: votes.tally(run_id), self._show_tally)

    def vote(self, choice: str, delta: int) -> None:
        """Add (or with -1 take back) a vote; saved on the notebook queue, then shown."""
        run_id = self.run_id
        if run_id is None or choice not in self.bar.choices:
            return
        votes, who = self.context.workspace.notebook.votes, self.context.annotator
        self.context.notebook_tasks.submit(lambda: votes.add(run_id, choice, delta, annotator=who), self._show_tally)

    def vote_key(self, key: str, delta: int) -> None:
        """V then a letter (A, B, … or T for a tie)."""
        choice = self.bar.choice_for_key(key)
        if choice is not None:
            self.vote(choice, delta)

    def _show_tally(self, tally: Tally) -> None:
        if tally.run_id != self.run_id:
            return  # the class moved on to another run meanwhile
        self.bar.set_tally(tally)
        self._show_result()
        self.tallyShown.emit(tally)

    def _show_result(self, *_: object) -> None:
        panes = self.area.panes
        if self.bar.tally is None or not self.all_revealed:
            self.bar.show_result(None)
            return
        self.bar.show_result([pane.identity if pane in panes else None for pane in self._order])
