"""The window's annotation side: labels, highlights, notes, ratings, sessions, search, undo.

`Annotating` wires the pane bars, the run strip, the Sessions and Search
docks and the Edit/Annotate menus to `notebook.annotations`, `.sessions`,
`.labels`, `.undo` and `.search()`. Every write goes through the
notebook queue (the core commits each in its own transaction); when it
returns, the runs it touched are read again and redrawn, so the screen shows
what is saved. Undo and redo do the same with the runs in
`Operation.run_ids`.

It is handed what it works on (the Context, the compare area's panes, what
the panes show, its actions) and never the window. The list of past runs
belongs to another feature: what annotating wants of it (step to the next
run, list a session, open a run, read the list again after a move) goes out
as signals, and the selected or listed runs come in through callables; the
shell connects both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QInputDialog, QToolButton, QWidget

from ...core.annotator_name import AnnotatorNameProblem, person_name
from ...core.comparison import RunOutcome
from ...core.errors import EnvironmentProblem
from ...core.notebook import MARK_END, MARK_START, Label, NotebookChange, RunAnnotations, SearchHit, Session
from ...core.notebook.offsets import from_utf16
from ..panes.compare_area import CompareArea
from ..panes.highlights import selection_to_stored
from ..panes.pane import ComparePane
from ..shared import describe
from ..shared.actions import NUMBER_KEYS, AnnotateActions
from ..shared.context import Context, NotebookEvents, PaneEvents
from ..shared.application import the_application
from ..shared.writes import Refused
from .annotator_dialog import AnnotatorDialog, env_note
from .labels_dialog import HighlightDialog, LabelsDialog
from .run_strip import RunStrip
from .search_panel import SearchPanel
from .sessions_panel import SessionsPanel

# What the panes and the strip draw of a run: labels, highlights, notes, the rating and
# summary, language links, and the machine's flags (streamed text is not among them).
ANNOTATED_TABLES = frozenset({"response_labels", "spans", "span_labels", "notes", "run_annotations", "run_links", "flags"})
LABEL_TABLES = frozenset({"labels"})  # the label set: the chips, the number keys, the legend
SESSION_TABLES = frozenset({"sessions", "session_runs", "runs"})  # the sessions and their run counts
WHO_CHARS = 24  # the status bar's "Annotating as …" (the tooltip has the whole name)


@dataclass(frozen=True)
class Written:
    """A write done, as the GUI thread needs it: the undo texts are read on the notebook
    thread with the write, so the Edit menu names what was saved."""

    result: Any
    undo_text: str | None
    redo_text: str | None


class Annotating(QObject):
    annotationsShown = Signal(int)  # a run's annotations are on screen (after a change too)
    searchFinished = Signal()
    sessionsLoaded = Signal()
    labelsLoaded = Signal()
    # What the list of past runs should do (the shell connects these to it):
    stepRun = Signal(int)  # show the next (+1, older) or previous (-1) run listed
    sessionChosen = Signal(object)  # list this session's runs (None: Unsorted)
    openRunRequested = Signal(int)  # show this run (a linked run, a search hit)
    activeSessionsRead = Signal(list)  # the sessions that may filter the list and take runs

    def __init__(
        self,
        context: Context,
        area: CompareArea,
        pane_events: PaneEvents,
        notebook_events: NotebookEvents,
        actions: AnnotateActions,
        *,
        selected_runs: Callable[[], list[int]],
        listed_runs: Callable[[], list[tuple[int, str]]],
        parent: QObject | None = None,
    ) -> None:
        """`selected_runs`: the runs selected in the list of past runs (what "Move here" moves);
        `listed_runs`: the runs listed there, with their text (what a language shift links to)."""
        super().__init__(parent)
        self._context = context
        self._area = area
        self._pane_events = pane_events
        notebook_events.watch(ANNOTATED_TABLES | LABEL_TABLES | SESSION_TABLES)
        notebook_events.changed.connect(self._notebook_changed)
        self._selected_runs = selected_runs
        self._listed_runs = listed_runs
        self.labels: list[Label] = []
        self.current_pane: ComparePane | None = None
        self._pending_hit: SearchHit | None = None
        self._labels_dialog: LabelsDialog | None = None
        self.strip = RunStrip()
        self.sessions = SessionsPanel()
        self.search = SearchPanel()
        self.actions = actions
        self.who = QToolButton()  # "Annotating as …" in the status bar; a click changes it
        self.who.setAutoRaise(True)
        self.who.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.who.clicked.connect(actions.annotator.trigger)
        context.feedback.add_permanent(self.who)
        self._update_undo(None, None)
        self._connected: set[int] = set()
        # Suggestions the user dismissed, by answer: hidden for this session only (flags
        # are not edited, and a dismissal is not a label; docs/flags.md).
        self.dismissed: dict[int, set[str]] = {}
        self._connect()
        self.attach_panes()

    def _connect(self) -> None:
        for key, action in zip(NUMBER_KEYS, self.actions.label_keys):
            action.triggered.connect(lambda _c=False, k=key: self.toggle_label_key(k))
        for name, action in self.actions.rate.items():
            action.triggered.connect(lambda _c=False, n=name: self.strip.choose(n))
        self.actions.undo.triggered.connect(lambda: self._undo_redo(True))
        self.actions.redo.triggered.connect(lambda: self._undo_redo(False))
        self.actions.annotator.triggered.connect(self.ask_annotator)
        self.actions.accept_flags.triggered.connect(self.accept_suggestions)
        self.actions.highlight.triggered.connect(self.highlight_selection)
        self.actions.next_pane.triggered.connect(lambda: self.move_focus(1))
        self.actions.previous_pane.triggered.connect(lambda: self.move_focus(-1))
        self.actions.next_run.triggered.connect(lambda: self.stepRun.emit(1))
        self.actions.previous_run.triggered.connect(lambda: self.stepRun.emit(-1))
        self.actions.summary.triggered.connect(lambda: self.strip.summary.setFocus())
        self.actions.run_note.triggered.connect(lambda: self.strip.note.editor.setFocus())
        self.actions.pane_note.triggered.connect(self._focus_pane_note)
        self.actions.labels.triggered.connect(self.show_labels_dialog)
        self.actions.find.triggered.connect(self._focus_search)
        s = self.strip
        s.divergenceChosen.connect(lambda d: self._run_write(lambda nb, run, who: nb.annotations.set_divergence(run, d, annotator=who)))
        s.summaryEdited.connect(lambda t: self._run_write(lambda nb, run, who: nb.annotations.set_summary(run, t, annotator=who)))
        s.noteEdited.connect(lambda t: self._run_write(lambda nb, run, who: nb.annotations.set_run_note(run, t, annotator=who)))
        s.linkRequested.connect(self.ask_language_shift)
        s.unlinkRequested.connect(lambda link: self.write(lambda nb: nb.annotations.unlink(link)))
        s.openRunRequested.connect(self.openRunRequested)
        p = self.sessions
        p.createRequested.connect(self._create_session)
        p.renameRequested.connect(lambda sid, name: self.write(lambda nb: nb.sessions.rename(sid, name)))
        p.archiveRequested.connect(lambda sid, on: self.write(lambda nb: nb.sessions.set_archived(sid, on)))
        p.sessionChosen.connect(self.sessionChosen)
        p.moveHereRequested.connect(lambda sid: self.move_runs(self._selected_runs(), sid))
        p.showArchivedChanged.connect(lambda _on: self.load_sessions())
        self.search.searchRequested.connect(self._search)
        self.search.hitOpened.connect(self.open_hit)
        self._pane_events.runCreated.connect(self._run_created)
        self._pane_events.answerSaved.connect(self._answer_saved)
        self._pane_events.runFinished.connect(self._run_finished)
        self._pane_events.runShown.connect(self._run_shown)
        self._pane_events.turnShown.connect(self._turn_shown)
        self._area.panesChanged.connect(self.attach_panes)
        the_application().focusChanged.connect(self._focus_changed)

    # --- who annotates -------------------------------------------------------------

    @property
    def annotator(self) -> str:
        return self._context.annotator

    def ask_annotator(self) -> AnnotatorDialog:
        """Annotate > Your annotator name…: saved in the shared settings (on the catalog
        queue, which writes them), then the window annotates and redraws as that name."""
        dialog = AnnotatorDialog(self.annotator, self._context.parent)
        dialog.accepted.connect(lambda: self._save_annotator(dialog.chosen()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _save_annotator(self, name: str) -> None:
        settings = self._context.workspace.settings
        self._context.catalog_tasks.submit(lambda: settings.set_annotator(name), lambda _name: self._annotator_changed(), self._problem)

    def _annotator_changed(self) -> None:
        self.show_annotator()
        self._context.feedback.status(f"Annotating as {self.annotator}", 4000)
        self.reload_shown()

    def show_annotator(self) -> None:
        """The status bar's "Annotating as …" button, after a change or at start."""
        self.who.setText(f"Annotating as {describe.cut(self.annotator, WHO_CHARS)}")
        note = env_note()
        tip = f"Your labels, highlights and notes are credited to “{self.annotator}”. Click to change it." + (f"\n{note}" if note else "")
        self.who.setToolTip(describe.tooltip(tip))

    def _adopt_legacy_annotator(self) -> None:
        """A name chosen in the window before the CLI shared it (window.ini) moves to the settings once."""
        prefs, settings = self._context.prefs, self._context.workspace.settings
        try:
            legacy = person_name(prefs.legacy_annotator)
        except AnnotatorNameProblem:  # none, or one that can't be used any more
            prefs.forget_legacy_annotator()
            return
        if settings.annotator:
            prefs.forget_legacy_annotator()
            return

        def moved(_name: str) -> None:
            prefs.forget_legacy_annotator()
            self._annotator_changed()

        self._context.catalog_tasks.submit(lambda: settings.set_annotator(legacy), moved, self._problem)

    # --- reading -------------------------------------------------------------------------

    def start(self) -> None:
        self._adopt_legacy_annotator()
        self.show_annotator()
        self.load_labels()
        self.load_sessions()

    def load_labels(self) -> None:
        ws = self._context.workspace

        def shown(labels: list[Label]) -> None:
            self.labels = labels
            for pane in self._area.panes:
                pane.annotation_bar.set_labels(labels)
            self.search.set_labels(labels)
            for index, action in enumerate(self.actions.label_keys):
                action.setText(f"{NUMBER_KEYS[index]}  {labels[index].title}" if index < len(labels) else f"Toggle label {NUMBER_KEYS[index]}")
            if self._labels_dialog is not None:
                self._labels_dialog.set_labels(labels)
            self.reload_shown()
            self.labelsLoaded.emit()

        self._context.notebook_tasks.submit(lambda: ws.notebook.labels.all(), shown)

    def load_sessions(self) -> None:
        ws = self._context.workspace
        archived = self.sessions.show_archived.isChecked()

        def shown(result: tuple[list[Session], list[Session]]) -> None:
            listed, active = result
            self.sessions.set_sessions(listed)
            self.activeSessionsRead.emit(active)
            self.search.set_sessions(listed)
            self.sessionsLoaded.emit()

        self._context.notebook_tasks.submit(
            lambda: (ws.notebook.sessions.all(include_archived=archived), ws.notebook.sessions.all()), shown
        )

    def panes_of(self, run_id: int) -> list[ComparePane]:
        return [p for p in self._area.panes if p.shown is not None and p.shown.run_id == run_id and p.response_id is not None]

    def load_run(self, run_id: int) -> None:
        """Read the run's annotations and draw them on the panes that show it and the strip."""
        ws = self._context.workspace
        self._context.notebook_tasks.submit(lambda: ws.notebook.annotations.for_run(run_id), self._show_run_annotations, self._problem)

    def _shown_runs(self) -> frozenset[int]:
        runs = {p.shown.run_id for p in self._area.panes if p.shown is not None and p.shown.run_id is not None}
        return frozenset(runs | ({self.strip.run_id} if self.strip.run_id is not None else set()))

    def _streaming(self, run_id: int) -> bool:
        """A live run still streams into some pane: each answer is drawn as it is saved
        (`_answer_saved`) and the whole run when it ends, not on every commit meanwhile."""
        return any(p.streaming for p in self._area.panes if p.shown is not None and p.shown.run_id == run_id)

    def reload_shown(self) -> None:
        for run_id in self._shown_runs():
            self.load_run(run_id)

    def _show_run_annotations(self, annotations: RunAnnotations) -> None:
        colours = {label.name: label.colour for label in self.labels}
        for pane in self.panes_of(annotations.run_id):
            if pane.streaming:
                continue  # its answer, and so its flags, are not finished: shown when it is
            response_id = pane.response_id
            assert response_id is not None, "panes_of() gives saved answers only"
            dismissed = frozenset(self.dismissed.get(response_id, ()))
            pane.show_annotations(response_id, annotations.responses.get(response_id), self.annotator, colours, dismissed)
        if self.strip.run_id == annotations.run_id:
            self.strip.show_run(annotations.run_id, annotations, self.annotator)
        self.annotationsShown.emit(annotations.run_id)

    # --- the run on screen ------------------------------------------------------------------

    def _answer_saved(self, pane: ComparePane) -> None:
        """A live answer is saved with its flags: show them (and let it be labelled) now,
        not only when the whole run is over."""
        if pane.shown is not None and pane.shown.run_id is not None:
            self.load_run(pane.shown.run_id)

    def _run_created(self, run_id: int) -> None:
        """A live run: the strip names it (annotating works once it is saved)."""
        self.strip.show_run(run_id, None, self.annotator)

    def _run_finished(self, outcome: RunOutcome | None) -> None:
        """The live run is over and saved: its annotations can be read, and it labelled."""
        if outcome is not None:
            self.load_run(outcome.run_id)

    def _run_shown(self, run_id: int) -> None:
        self.strip.show_run(run_id, None, self.annotator)
        self.load_run(run_id)
        self._open_pending_hit(run_id)

    def _turn_shown(self, run_id: int, _turn: int) -> None:
        """The panes show another turn of the run: other answers, so their annotations."""
        self.load_run(run_id)
        self._open_pending_hit(run_id)

    def _open_pending_hit(self, run_id: int) -> None:
        """A search hit waiting for its run: in another turn than the one shown (a follow-up
        or its answer), that turn is asked for first (the hit is revealed once it shows)."""
        hit = self._pending_hit
        if hit is None or hit.run_id != run_id:
            return
        turns, turn = self._area.turns, hit.turn
        if turn is not None and turns.count > 1 and turn != turns.current:
            turns.choose(turn)
            return
        self._pending_hit = None
        self._reveal(hit)

    def _focus_pane_note(self) -> None:
        pane = self._pane()
        if pane is not None:
            pane.annotation_bar.note.editor.setFocus()

    def _pane(self) -> ComparePane | None:
        panes = self._area.panes
        if self.current_pane in panes:
            return self.current_pane
        return panes[0] if panes else None

    def set_current_pane(self, pane: ComparePane | None) -> None:
        for other in self._area.panes:
            other.set_current(other is pane)
        self.current_pane = pane

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        while new is not None and not isinstance(new, ComparePane):
            new = new.parentWidget()
        if new is not None and new in self._area.panes and new is not self.current_pane:
            self.set_current_pane(new)

    def move_focus(self, delta: int) -> None:
        panes = self._area.panes
        here = self._pane()
        index = (panes.index(here) + delta) % len(panes) if here in panes else 0
        self.set_current_pane(panes[index])
        panes[index].answer_view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- writing ------------------------------------------------------------------------------

    def write(self, change: Callable[[Any], Any], *, on_done: Callable[[Any], None] | None = None) -> None:
        """Run `change(notebook)` on the notebook queue; what it changed comes back as the
        notebook's announcement (`_notebook_changed`), a refusal as a notice."""
        nb = self._context.workspace.notebook

        def job() -> Written | Refused:
            try:
                result = change(nb)
            except (ValueError, LookupError) as refused:
                return Refused(str(refused))
            return Written(result, nb.undo.undo_text, nb.undo.redo_text)

        def done(outcome: Written | Refused) -> None:
            if isinstance(outcome, Refused):
                self._context.feedback.problem("annotation", outcome.text)
                return
            self._after_change(outcome)
            if on_done is not None:
                on_done(outcome.result)

        self._context.notebook_tasks.submit(job, done, self._problem)

    def _after_change(self, outcome: Written) -> None:
        """What this window wrote: the undo menu names it. What it changed shows through the
        notebook's announcement, as anyone else's change does."""
        self._context.feedback.dismiss("annotation")
        self._update_undo(outcome.undo_text, outcome.redo_text)

    def _notebook_changed(self, change: NotebookChange) -> None:
        """Whoever wrote it (this window, an import, a judge, a reflag, an undo, the command
        line through another connection of this process): the runs on screen, the label set
        and the sessions follow the notebook."""
        if change.touches(ANNOTATED_TABLES):
            for run_id in self._shown_runs():
                if change.touches_run(run_id) and not self._streaming(run_id):
                    self.load_run(run_id)
        if change.touches(LABEL_TABLES):
            self.load_labels()
        if change.touches(SESSION_TABLES):
            self.load_sessions()

    def _run_write(self, change: Callable[[Any, int, str], Any]) -> None:
        run_id, who = self.strip.run_id, self.annotator
        if run_id is not None:
            self.write(lambda nb: change(nb, run_id, who))

    def _problem(self, problem: EnvironmentProblem) -> None:
        self._context.feedback.problem("annotation", str(problem))

    def _update_undo(self, undo_text: str | None, redo_text: str | None) -> None:
        self.actions.undo.setEnabled(undo_text is not None)
        self.actions.undo.setText(f"Undo {undo_text}" if undo_text else "Undo")
        self.actions.redo.setEnabled(redo_text is not None)
        self.actions.redo.setText(f"Redo {redo_text}" if redo_text else "Redo")

    def _undo_redo(self, undoing: bool) -> None:
        nb = self._context.workspace.notebook

        def job() -> Written | None:
            operation = nb.undo.undo() if undoing else nb.undo.redo()
            if operation is None:
                return None
            return Written(operation, nb.undo.undo_text, nb.undo.redo_text)

        def done(outcome: Written | None) -> None:
            if outcome is not None:
                self._after_change(outcome)
                self._context.feedback.status(f"{'Undone' if undoing else 'Redone'}: {outcome.result.description}", 4000)

        def refused(problem: EnvironmentProblem) -> None:
            self._problem(problem)
            self._context.notebook_tasks.submit(lambda: (nb.undo.undo_text, nb.undo.redo_text), lambda texts: self._update_undo(*texts))

        self._context.notebook_tasks.submit(job, done, refused)

    # --- labels on answers -----------------------------------------------------------------

    def toggle_label_key(self, key: str) -> None:
        index = NUMBER_KEYS.index(key)
        if index < len(self.labels):
            self.toggle_label(self._pane(), self.labels[index].name)

    def toggle_label(self, pane: ComparePane | None, name: str) -> None:
        if pane is None or pane.response_id is None or pane.annotations is None:
            self._context.feedback.status("Labels go on a saved answer: show a run first.", 4000)
            return
        response_id, who = pane.response_id, self.annotator
        self.write(lambda nb: nb.annotations.toggle_label(response_id, name, annotator=who))

    def accept_suggestions(self) -> None:
        pane = self._pane()
        if pane is None or pane.response_id is None or not pane.annotation_bar.suggestions:
            return
        response_id, who, names = pane.response_id, self.annotator, list(pane.annotation_bar.suggestions)
        self.write(lambda nb: [nb.annotations.add_label(response_id, n, annotator=who) for n in names])

    def attach_panes(self) -> None:
        """Panes come and go (Ctrl+T, a run with more models): connect the new ones."""
        for pane in self._area.panes:
            if id(pane) not in self._connected:
                self._connected.add(id(pane))
                self._connect_pane(pane)

    def flush(self) -> None:
        """Save notes being typed (the window is closing)."""
        self.strip.flush()
        for pane in self._area.panes:
            pane.annotation_bar.note.flush()

    def _connect_pane(self, pane: ComparePane) -> None:
        """A pane's bar: its chips, suggestions, note and highlights write through here."""
        key = id(pane)
        pane.destroyed.connect(lambda _o=None: self._connected.discard(key))
        bar = pane.annotation_bar
        bar.set_labels(self.labels)
        bar.labelToggled.connect(lambda name, p=pane: self.toggle_label(p, name))
        bar.flagAccepted.connect(lambda name, p=pane: self._accept_flag(p, name))
        bar.flagDismissed.connect(lambda name, p=pane: self.dismiss_flag(p, name))
        bar.noteEdited.connect(lambda text, p=pane: self._pane_note(p, text))
        bar.spanEditRequested.connect(lambda span_id, p=pane: self.edit_span(p, span_id))
        bar.spanRemoveRequested.connect(lambda span_id: self.write(lambda nb: nb.annotations.delete_span(span_id)))

    def _accept_flag(self, pane: ComparePane, name: str) -> None:
        if pane.response_id is not None:
            response_id, who = pane.response_id, self.annotator
            self.write(lambda nb: nb.annotations.add_label(response_id, name, annotator=who))

    def dismiss_flag(self, pane: ComparePane, name: str) -> None:
        """Hide one suggestion on the pane's answer (this session; the stored flag stays)."""
        if pane.response_id is None:
            return
        self.dismissed.setdefault(pane.response_id, set()).add(name)
        pane.annotation_bar.set_annotations(pane.annotations, self.annotator, frozenset(self.dismissed[pane.response_id]))
        self._context.feedback.status("Suggestion dismissed on this answer until the app restarts; the stored flag stays.", 5000)

    def forget_dismissals(self) -> None:
        """Flags were recomputed: every suggestion is new, none stays dismissed (the runs on
        screen are drawn again, whether or not the notebook's announcement came first)."""
        self.dismissed.clear()
        self.reload_shown()

    def _pane_note(self, pane: ComparePane, text: str) -> None:
        if pane.response_id is not None and pane.annotations is not None:
            response_id, who = pane.response_id, self.annotator
            self.write(lambda nb: nb.annotations.set_response_note(response_id, text, annotator=who))

    # --- highlights -------------------------------------------------------------------------------

    def highlight_selection(self) -> HighlightDialog | None:
        """The selected words of the focused pane's answer (or reasoning) become a highlight."""
        pane = self._pane()
        if pane is None or pane.response_id is None or pane.annotations is None:
            self._context.feedback.status("Highlights go on a saved answer: show a run first.", 4000)
            return None
        found = self._selection(pane)
        if found is None:
            self._context.feedback.status("Select some words in an answer first, then press H.", 5000)
            return None
        field, start, end = found
        stored = pane.answer_text if field == "text" else pane.reasoning_text
        dialog = HighlightDialog(stored[start:end], self.labels, set(), "", self._context.parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        response_id, who = pane.response_id, self.annotator

        def save() -> None:
            labels, note = dialog.chosen(), dialog.note_text()  # as the dialog closed
            self.write(lambda nb: nb.annotations.add_span(response_id, field, start, end, annotator=who, labels=labels, note=note))

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    @staticmethod
    def _selection(pane: ComparePane) -> tuple[str, int, int] | None:
        cursor = pane.answer_view.textCursor()
        if cursor.hasSelection():
            where = selection_to_stored(
                pane.answer_text, cursor.selectedText(), cursor.selectionStart(), pane.answer_view.document().characterCount()
            )
            return ("text", *where) if where else None
        cursor = pane.reasoning_view.textCursor()
        if cursor.hasSelection():
            text = pane.reasoning_text
            start, end = from_utf16(text, cursor.selectionStart()), from_utf16(text, cursor.selectionEnd())
            return ("reasoning", start, end) if start < end else None
        return None

    def edit_span(self, pane: ComparePane, span_id: int) -> HighlightDialog | None:
        span = next((s for s in (pane.annotations.spans if pane.annotations else ()) if s.id == span_id), None)
        if span is None:
            return None
        dialog = HighlightDialog(span.quote, self.labels, set(span.labels), span.note, self._context.parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        who = self.annotator

        def save(labels: list[str], note: str) -> None:
            self.write(lambda nb: (nb.annotations.set_span_labels(span_id, labels, annotator=who), nb.annotations.set_span_note(span_id, note)))

        dialog.accepted.connect(lambda: save(dialog.chosen(), dialog.note_text()))
        dialog.open()
        return dialog

    # --- the label set ------------------------------------------------------------------------------

    def show_labels_dialog(self) -> LabelsDialog:
        if self._labels_dialog is None:
            dialog = LabelsDialog(self.labels, self._context.parent)
            dialog.createRequested.connect(self._create_label)
            dialog.finished.connect(lambda _r: setattr(self, "_labels_dialog", None))
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self._labels_dialog = dialog
        self._labels_dialog.show()
        self._labels_dialog.raise_()
        return self._labels_dialog

    def _create_label(self, name: str, title: str, colour: str, definition: str) -> None:
        who, ws = self.annotator, self._context.workspace

        def job() -> Refused | list[Label]:
            try:
                ws.notebook.labels.create(name, annotator=who, title=title, colour=colour, definition=definition)
            except ValueError as refused:
                return Refused(str(refused))
            return ws.notebook.labels.all()

        def done(result: Refused | list[Label]) -> None:
            if self._labels_dialog is None:
                return
            if isinstance(result, Refused):
                self._labels_dialog.show_problem(result.text)
            else:
                self._labels_dialog.label_created(result)
                self._context.notebook_tasks.submit(lambda: (ws.notebook.undo.undo_text, ws.notebook.undo.redo_text), lambda t: self._update_undo(*t))

        self._context.notebook_tasks.submit(job, done, self._problem)

    # --- runs: language shift, sessions ----------------------------------------------------------------

    def ask_language_shift(self) -> None:
        run_id = self.strip.run_id
        choices = [(rid, text) for rid, text in self._listed_runs() if rid != run_id]
        if run_id is None or not choices:
            self._context.feedback.status("Pick a run from the history first; the other run must be in the history list.", 5000)
            return
        texts = [f"#{rid}: {text}" for rid, text in choices]
        picked, ok = QInputDialog.getItem(self._context.parent, "Language shift", f"Run #{run_id} asked the same as:", texts, 0, False)
        if ok:
            other, who = choices[texts.index(picked)][0], self.annotator
            self.write(lambda nb: nb.annotations.link_language_shift(run_id, other, annotator=who))

    def _create_session(self, name: str) -> None:
        who = self.annotator
        self.write(lambda nb: nb.sessions.create(name, annotator=who))

    def move_runs(self, run_ids: list[int], session_id: int | None) -> None:
        if run_ids:
            who = self.annotator
            self.write(lambda nb: nb.sessions.move_runs(run_ids, session_id, annotator=who))

    # --- search -----------------------------------------------------------------------------------------

    def _focus_search(self) -> None:
        dock = self.search.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.show()
            dock.raise_()
        self.search.query.setFocus()
        self.search.query.selectAll()

    def _search(self, query: str, filters: Any, serial: int) -> None:
        ws = self._context.workspace

        def job() -> Any:
            try:
                return ws.notebook.search(query, filters)
            except ValueError as refused:
                return Refused(str(refused))

        def done(result: Any) -> None:
            if isinstance(result, Refused):
                self.search.show_problem(serial, result.text)
            else:
                self.search.show_hits(serial, result)
            self.searchFinished.emit()

        self._context.notebook_tasks.submit(job, done, lambda problem: self.search.show_problem(serial, str(problem)))

    def open_hit(self, hit: SearchHit) -> None:
        """Show the hit's run with its annotations, then scroll its pane to the match (a run
        already in the panes is not read again: only the hit's turn may have to be shown)."""
        self._pending_hit = hit
        if hit.run_id == self.strip.run_id and self.panes_of(hit.run_id) and not self._streaming(hit.run_id):
            self._open_pending_hit(hit.run_id)
        else:
            self.openRunRequested.emit(hit.run_id)

    def _reveal(self, hit: SearchHit) -> None:
        if hit.position is None or hit.position >= len(self._area.panes):
            return
        pane = self._area.panes[hit.position]
        self.set_current_pane(pane)
        start = hit.snippet.find(MARK_START)
        term = hit.snippet[start + 1 : hit.snippet.find(MARK_END, start)] if start >= 0 else ""
        view = pane.reasoning_view if hit.field == "reasoning" else pane.answer_view
        if term and view.find(term):
            view.setFocus(Qt.FocusReason.OtherFocusReason)
