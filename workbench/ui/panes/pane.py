"""One model's column in the compare area: which model, its settings, its answer.

A pane shows one response at a time, streamed live or read back from the
notebook, and keeps the exact text it was given (`answer_text`,
`reasoning_text`), which is what the notebook holds; the views only render
it. The header (model picker, origin, facts, settings) is separate from the
response below it, so a blind comparison can hide who answered.

The answer gets the room: the facts, the settings and the caption take one line
each (shortened with "…", whole in their tooltips), Copy and Rerun sit beside
the caption, and the labels, suggestions, highlights and note under the answer
scroll when the pane is short rather than push the window taller than a laptop's
screen (or, squeezed, draw their chips cut or squashed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ...core.comparison import ResponseOutcome
from ...core.engine.backend import FINISH_CRASHED, FINISH_ERROR, FINISH_LENGTH, FINISH_STOP, FINISH_STOPPED
from ...core.engine.offload import RAN_ON
from ...core.engine.offload import describe as describe_ran_on
from ...core.engine.params import GenerationParams
from ...core.engine.formats import reasoning_never_ended
from ...core.engine.switches import no_effect_note, recorded_no_effect
from ...core.engine.reasoning import REASONING
from ...core.notebook.annotations import ResponseAnnotations, Span
from ...core.notebook.statuses import unfinished
from ..shared import describe
from ..shared.combo import enable_item
from .annotation_bar import AnnotationBar
from .answer_view import AnswerView, ReasoningView
from .highlights import Mark
from .status_line import StatusLine
from ..shared.scroller import Scroller
from ..shared.text_label import ElidedLabel, text_label

# The live figures change only when text arrives, and are redrawn with it at most this
# often: with every hand-over of a live answer (worker.SEND_INTERVAL_S apart), less often
# than every piece of a replay.
STATS_REFRESH_MS = 150
NO_MODEL = "Choose a model…"  # the picker's first item: no model chosen
DEFAULT_HIGHLIGHT = "#fbc02d"  # a highlight without labels
TEXTS_SHARE = 1000  # any size: the splitter scales them to its height
ANNOTATION_LINES = 4  # the least the labels and note under an answer ask for; below that they scroll
ERROR_LINES = 2  # a crash notice's first lines; the rest (llama.cpp's log) scrolls

FINISH_TEXT = {
    FINISH_STOP: "finished",
    FINISH_LENGTH: "reached max tokens",
    FINISH_STOPPED: "stopped",
    FINISH_ERROR: "failed",
    FINISH_CRASHED: "crashed",
}


@dataclass(frozen=True)
class Shown:
    """The response a pane displays, so it can be rerun exactly."""

    run_id: int | None
    params: GenerationParams | None
    model_name: str


@dataclass(frozen=True)
class Identity:
    """Who wrote the answer a pane shows: what a blind comparison hides until it is revealed."""

    name: str
    maker: str | None
    country: str | None  # ISO code, as the catalog and the notebook keep it

    @property
    def badge(self) -> str:
        """"CN · China — Alibaba (Qwen team)": the origin spelled out for a room to read."""
        return " — ".join(part for part in (describe.country_name(self.country), self.maker) if part)


def _small_button(text: str) -> QToolButton:
    """A pane's buttons take the width of their words (a push button asks for 80 px at least:
    six panes of them did not fit a full-HD screen beside the docks)."""
    button = QToolButton()
    button.setText(text)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


def stats_text(tokens: int | None, tokens_per_s: float | None, ttft_s: float | None, *, approximate: bool = False) -> str:
    """"12 tokens · 30.1 tokens/s · first token 0.20 s"; a figure nobody knows is left out, not shown as "?"."""
    about = "about " if approximate else ""
    parts = [f"{about}{tokens} token{'s' if tokens != 1 else ''}"] if tokens is not None else []
    if tokens_per_s:
        parts.append(f"{tokens_per_s:.1f} tokens/s")
    if ttft_s is not None:
        parts.append(f"first token {ttft_s:.2f} s")
    return " · ".join(parts)


class ComparePane(QFrame):
    modelChosen = Signal(object)  # the pane
    rerunRequested = Signal(object)
    settingsRequested = Signal(object)
    removeRequested = Signal(object)
    linkHovered = Signal(str)
    revealed = Signal(object)  # the pane, when its blind name gives way to the model's

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paneCard")
        self.override: GenerationParams | None = None
        self.shown: Shown | None = None
        self.response_id: int | None = None  # the notebook's id of the answer shown: what annotations attach to
        self.annotations: ResponseAnnotations | None = None
        self._entries: dict[str, ModelEntry] = {}
        self._shared = GenerationParams()
        self._running = False
        self._blind: str | None = None  # the letter of "Model A" while the comparison is blind
        self._revealed = False
        self._presenting = False
        self._recorded_country: str | None = None  # the origin the notebook kept for a saved answer
        self._recorded_name: str | None = None  # the model of a saved answer whose file is not here
        self._error: str | None = None
        self._ran_on = ""  # what ran the answer shown (engine/offload.py describe), for the figures' tooltip
        self._marks: dict[str, list[Mark]] = {}
        self._annotations_visible = True
        self.streaming = False  # an answer is on its way into this pane (its annotations wait for its end)

        # --- header: the model this pane runs -------------------------------
        self.picker = QComboBox()
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(8)  # six panes side by side on a full-HD screen
        self.picker.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.picker.setToolTip("The model this pane asks")
        self.picker.activated.connect(lambda _index: self._picked())
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this pane")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        self.origin_label = text_label(name="originLabel")
        self.facts_label = ElidedLabel(role="muted")
        self.settings_label = ElidedLabel(role="muted")
        self.settings_button = _small_button("Settings…")
        self.settings_button.setToolTip("Use the shared settings, or give this pane its own")
        self.settings_button.clicked.connect(lambda: self.settingsRequested.emit(self))
        self.blind_label = text_label(name="blindName")
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setToolTip("Show which model wrote this answer")
        self.reveal_button.clicked.connect(self.reveal)
        self.origin_badge = text_label(name="originBadge")

        # --- the response -----------------------------------------------------
        # The question of the turn shown, above its answer, once the run is a conversation: one
        # line (whole in its tooltip), as the answers need the height on a laptop.
        self.turn_prompt_label = ElidedLabel(name="turnPrompt")
        self.turn_prompt_label.hide()
        self.caption_label = ElidedLabel(role="muted")
        self.status_label = StatusLine()  # the live figures: changed several times a second
        self.error_label = text_label(name="paneError")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = Scroller(self.error_label, lines=ERROR_LINES)
        self.error_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.error_box.hide()
        self.reasoning_toggle = QToolButton()
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setChecked(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reasoning_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.reasoning_toggle.setToolTip("Show or fold away the model's reasoning")
        self.reasoning_toggle.toggled.connect(self._fold_reasoning)
        self.reasoning_toggle.hide()
        self.reasoning_view = ReasoningView()
        self.reasoning_view.hide()
        self.answer_view = AnswerView()
        self.answer_view.linkHovered.connect(self.linkHovered)
        self.copy_button = _small_button("Copy")
        self.copy_button.setToolTip("Copy this answer (as Markdown) to the clipboard")
        self.copy_button.clicked.connect(self.copy_answer)
        self.rerun_button = _small_button("Rerun")
        self.rerun_button.setToolTip(
            "Rerun this pane: ask this model again with the same prompt, settings and seed. Saved in the notebook as a new run of its own."
        )
        self.rerun_button.clicked.connect(lambda: self.rerunRequested.emit(self))

        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.blind_label, 1)
        top.addWidget(self.reveal_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.remove_button)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.caption_label, 1)
        caption_row.addWidget(self.copy_button)
        caption_row.addWidget(self.rerun_button)
        self.texts = QSplitter(Qt.Orientation.Vertical)
        self.texts.setChildrenCollapsible(False)
        self.texts.addWidget(self.reasoning_view)
        self.texts.addWidget(self.answer_view)
        self.annotation_bar = AnnotationBar()
        self.annotation_bar.evidenceRequested.connect(self.show_evidence)
        self.annotation_box = Scroller(self.annotation_bar, lines=ANNOTATION_LINES)
        self.texts.addWidget(self.annotation_box)
        self.texts.setStretchFactor(0, 1)
        self.texts.setStretchFactor(1, 4)
        self.texts.setStretchFactor(2, 1)
        # A splitter grows its parts in proportion to their sizes: at their minimums, the
        # labels would stay four lines tall on any screen. Sized in proportion from the start,
        # the answer takes four fifths and the labels the rest, as the window grows.
        self.texts.setSizes([TEXTS_SHARE, 4 * TEXTS_SHARE, TEXTS_SHARE])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.origin_badge)
        layout.addWidget(self.origin_label)
        facts_row = QHBoxLayout()  # the file and the settings: one line between them
        facts_row.addWidget(self.facts_label, 1)
        facts_row.addWidget(self.settings_label, 1)
        facts_row.addWidget(self.settings_button)
        layout.addLayout(facts_row)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.turn_prompt_label)
        layout.addLayout(caption_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_box)
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.texts, 1)

        self.pieces = 0
        self.first_text_at: float | None = None
        self.last_text_at: float | None = None
        self._stats_shown_at: float | None = None
        self._generating_since: float | None = None
        self._streaming_word = "generating"
        self.set_entries([])
        self._show_idle()
        self._show_identity()

    # --- the model --------------------------------------------------------------

    def set_entries(self, entries: list[ModelEntry]) -> None:
        """Offer `entries` in the picker, keeping the current choice when it is still there."""
        current = self.entry_id
        self._entries = {e.id: e for e in entries}
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItem(NO_MODEL, None)
        for entry in entries:
            self.picker.addItem(describe.entry_label(entry), entry.id)
            index = self.picker.count() - 1
            self.picker.setItemData(index, describe.tooltip(str(entry.path)), Qt.ItemDataRole.ToolTipRole)
            if not entry.ok:
                enable_item(self.picker, index, False)
        self.picker.blockSignals(False)
        self.select(current)
        self._show_no_model_item()

    def select(self, entry_id: str | None) -> bool:
        """Choose a model by catalog id; False (and no model) if it isn't offered or can't load."""
        entry = self._entries.get(entry_id) if entry_id else None
        index = self.picker.findData(entry.id) if entry is not None and entry.ok else 0
        self.picker.setCurrentIndex(max(index, 0))
        if index > 0:
            self._set_recorded_name(None)
        self._describe_model()
        self.rerun_button.setEnabled(not self._running and index > 0)
        return index > 0

    @property
    def entry_id(self) -> str | None:
        data = self.picker.currentData()
        return data if isinstance(data, str) else None

    @property
    def entry(self) -> ModelEntry | None:
        return self._entries.get(self.entry_id) if self.entry_id else None

    def _picked(self) -> None:
        if self.entry is not None:
            self._set_recorded_name(None)
        self._describe_model()
        self.rerun_button.setEnabled(not self._running and self.entry is not None)
        self.modelChosen.emit(self)

    def _describe_model(self) -> None:
        entry = self.entry
        if entry is None:
            self.origin_label.setText("No model chosen")
            self.facts_label.setText("Pick one above, or use one from the library.")
        else:
            self.origin_label.setText(describe.origin_text(entry.origin))
            self.origin_label.setToolTip(describe.tooltip(entry.origin.evidence))
            self.facts_label.setText(describe.model_facts(entry))
        self._describe_settings()

    def show_recorded_model(self, name: str, origin: str) -> None:
        """The header for a saved answer whose model file is not on this computer (a demo
        brought to class): named from the notebook, so the room still sees who answered."""
        if self.entry is None:
            self._set_recorded_name(name)
            self.origin_label.setText(f"{name} · {origin}")
            self.origin_label.setToolTip("")
            self.facts_label.setText("Recorded answer: this model's file is not on this computer.")

    def _set_recorded_name(self, name: str | None) -> None:
        self._recorded_name = name
        self._show_no_model_item()

    def _show_no_model_item(self) -> None:
        """The picker's no-model item names the recorded model while its saved answer is shown
        without the file, rather than asking "Choose a model…" above who answered."""
        name = self._recorded_name
        self.picker.setItemText(0, f"{name} (recorded: file not on this computer)" if name else NO_MODEL)
        tip = "This answer was recorded elsewhere; choose a model on this computer to ask it again." if name else None
        self.picker.setItemData(0, tip, Qt.ItemDataRole.ToolTipRole)

    # --- settings -----------------------------------------------------------------

    def set_shared_params(self, shared: GenerationParams) -> None:
        self._shared = shared
        self._describe_settings()

    def set_override(self, own: GenerationParams | None) -> None:
        self.override = own
        self._describe_settings()

    def params(self) -> GenerationParams:
        """What this pane runs with now: its own settings, or the shared ones."""
        return self.override or self._shared

    def _describe_settings(self) -> None:
        which = "Own settings" if self.override else "Shared settings"
        self.settings_label.setText(f"{which}: {describe.params_summary(self.params())}")

    # --- running ------------------------------------------------------------------

    def set_running(self, running: bool, removable: bool) -> None:
        """While any run streams, panes keep their models and count."""
        self._running = running
        self.picker.setEnabled(not running)
        self.settings_button.setEnabled(not running)
        self.remove_button.setEnabled(removable and not running)
        self.rerun_button.setEnabled(not running and self.entry is not None)

    def begin(self, caption: str, params: GenerationParams, model_name: str) -> None:
        """A new response starts streaming into this pane."""
        self.shown = Shown(None, params, model_name)
        self._recorded_country = None
        self.streaming = True
        self.show_turn_prompt(None)  # a follow-up's question is shown by whoever began it
        self.show_annotations(None, None, "", {})
        self.caption_label.setText(caption)
        self._show_error(None)
        self.answer_view.clear_answer()
        self.reasoning_view.show_text("")
        self._show_reasoning_toggle(False)
        self._reset_stream_counters()
        self.status_label.setText("waiting for its turn…")
        self._show_ran_on("")

    def set_run_id(self, run_id: int, caption: str) -> None:
        if self.shown is not None:
            self.shown = Shown(run_id, self.shown.params, self.shown.model_name)
        self.caption_label.setText(caption)

    def show_turn_prompt(self, turn: int | None, prompt: str = "") -> None:
        """The question of the conversation's turn shown above its answer ("Turn 2 · You
        asked: …"); None hides it (a run of one question has its question in the prompt bar)."""
        self.turn_prompt_label.setText(f"Turn {turn + 1} · You asked: {' '.join(prompt.split())}" if turn is not None else "")
        self.turn_prompt_label.setVisible(turn is not None)

    def on_status(self, status: str) -> None:
        if status.startswith(("generating", "replaying")):  # a replay's figures must not say "generating"
            self._generating_since = time.perf_counter()
            self._streaming_word = status.split("…")[0]
        self.status_label.setText(status)

    def on_text(self, kind: str, text: str, pieces: int = 1) -> None:
        """`pieces`: how many streamed pieces `text` joins (the runner hands them over in
        batches); the live figures count pieces, as the engine's stream produced them."""
        now = time.perf_counter()
        if self.first_text_at is None:
            self.first_text_at = now
        self.last_text_at = now
        self.pieces += pieces
        if self._stats_shown_at is None or now - self._stats_shown_at >= STATS_REFRESH_MS / 1000:
            self._stats_shown_at = now
            self._show_live_stats()
        if kind == REASONING:
            self.reasoning_view.append_stream(text)
            self._show_reasoning_toggle(True)
        else:
            self.answer_view.append_stream(text)

    def on_finished(self, outcome: ResponseOutcome) -> None:
        self.streaming = False
        result = outcome.result
        self.answer_view.end_stream(outcome.answer)
        self.reasoning_view.show_text(outcome.reasoning)
        self._show_reasoning_toggle(bool(outcome.reasoning))
        error = _with_note(result.error or reasoning_never_ended(outcome.answer, outcome.reasoning, result.finish_reason), outcome.note)
        if result.completion_tokens is None:
            # A stopped, crashed or killed model never reported its count: the pieces that
            # arrived tell it (about so many; exactly none when nothing came).
            self._show_result(result.finish_reason, error, self.pieces, result.tokens_per_s, result.ttft_s, approximate=self.pieces > 0, sampler=outcome.sampler)
        else:
            self._show_result(result.finish_reason, error, result.completion_tokens, result.tokens_per_s, result.ttft_s, sampler=outcome.sampler)
        if outcome.unsaved is not None:
            # Said in the pane itself, not only in the message bar: this text is on screen
            # and nowhere else, and may be gone when the window closes.
            missing = "This answer is NOT saved" if outcome.unsaved.what == "answer" else "This answer's flags are NOT saved"
            unsaved = f"{missing} in the notebook: {outcome.unsaved.reason} Copy the text if you need it, then run the prompt again."
            self._show_error(f"{result.error}\n{unsaved}" if result.error else unsaved)

    def show_saved(self, response: dict[str, Any], caption: str, origin: str) -> None:
        """A response read back from the notebook."""
        self._reset_stream_counters()
        self.streaming = False
        try:
            params = GenerationParams.from_dict(response.get("sampler") or {})
        except (TypeError, ValueError):
            params = None
        self.shown = Shown(response.get("run_id"), params, response.get("model_name") or "?")
        self._recorded_country = response.get("origin_country")
        self.show_annotations(None, None, "", {})  # until the notebook's arrive
        self.response_id = response.get("id")
        self.caption_label.setText(f"{caption} — {response.get('model_name')} · {origin}")
        self.answer_view.show_markdown(response.get("text") or "")
        reasoning = response.get("reasoning") or ""
        self.reasoning_view.show_text(reasoning)
        self._show_reasoning_toggle(bool(reasoning))
        partial = unfinished(response.get("status") or "")
        if partial:
            word, explanation = partial
            self._show_error(f"{word.capitalize()}: {explanation}.")
            self.status_label.setText(word)
            self._show_ran_on("")
            return
        self._show_result(
            response.get("finish_reason") or FINISH_STOP,
            _with_note(
                response.get("error") or reasoning_never_ended(response.get("text") or "", reasoning, response.get("finish_reason")),
                no_effect_note(response.get("model_name") or "This model", recorded_no_effect(response.get("sampler"))),
            ),
            response.get("completion_tokens"),
            response.get("tokens_per_s"),
            response.get("ttft_s"),
            sampler=response.get("sampler"),
        )

    def clear_response(self, note: str) -> None:
        self.shown = None
        self.show_turn_prompt(None)
        self.streaming = False
        self._recorded_country = None
        self._set_recorded_name(None)
        self.show_annotations(None, None, "", {})
        self.caption_label.setText(note)
        self.status_label.setText("")
        self._show_ran_on("")
        self._show_error(None)
        self.answer_view.clear_answer()
        self.reasoning_view.show_text("")
        self._show_reasoning_toggle(False)

    def _show_idle(self) -> None:
        self.caption_label.setText("")
        self.status_label.setText("Ready. Type a question below and press Ctrl+Enter.")

    def _show_result(
        self, finish_reason: str, error: str | None, tokens: int | None, rate: float | None, ttft: float | None,
        *, approximate: bool = False, sampler: dict[str, Any] | None = None,
    ) -> None:
        """The figures, and over them what ran the model (engine/offload.py's RAN_ON in the
        answer's recorded settings `sampler`), since it explains them."""
        stats = stats_text(tokens, rate, ttft, approximate=approximate)
        finish = FINISH_TEXT.get(finish_reason, finish_reason)
        self.status_label.setText(f"{finish} · {stats}" if stats else finish)
        self._show_ran_on(describe_ran_on((sampler or {}).get(RAN_ON)))
        self._show_error(error)

    def _show_ran_on(self, ran_on: str | None = None) -> None:
        """"Ran on CUDA (29 of 29 layers)" over the figures; `ran_on` None: the one shown last.
        Not while blind: the layer count, like the model's facts, hints at the model."""
        if ran_on is not None:
            self._ran_on = ran_on
        self.status_label.setToolTip(f"Ran on {self._ran_on}" if self._ran_on and self._blind is None else "")

    def _show_error(self, error: str | None) -> None:
        """Errors name the model ("Qwen2.5 crashed…"): while blind, the letter stands in for it."""
        self._error = error
        if error and self.hidden_identity and self.shown is not None:
            error = error.replace(self.shown.model_name, f"Model {self._blind}")
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        self.error_box.setVisible(bool(error))

    def _reset_stream_counters(self) -> None:
        self.pieces = 0
        self.first_text_at = None
        self.last_text_at = None
        self._stats_shown_at = None
        self._generating_since = None

    def _show_live_stats(self) -> None:
        assert self.first_text_at is not None and self.last_text_at is not None, "shown only once text has come"
        elapsed = self.last_text_at - self.first_text_at
        rate = (self.pieces - 1) / elapsed if self.pieces > 1 and elapsed > 0 else None
        ttft = self.first_text_at - self._generating_since if self._generating_since is not None else None
        self.status_label.setText(f"{self._streaming_word}… · {stats_text(self.pieces, rate, ttft)}")

    # --- annotations -----------------------------------------------------------------

    def show_annotations(
        self,
        response_id: int | None,
        annotations: ResponseAnnotations | None,
        annotator: str,
        colours: dict[str, str],
        dismissed: frozenset[str] = frozenset(),
    ) -> None:
        """What the notebook holds on the answer shown: labels, suggestions (less the
        `dismissed` flag names), note, highlights.

        `colours` maps label names to colours; a highlight takes its first label's.
        """
        self.response_id = response_id
        self.annotations = annotations
        self.annotation_bar.set_annotations(annotations, annotator, dismissed)
        spans = annotations.spans if annotations else ()
        self._marks = {field: [_mark(span, colours) for span in spans if span.field == field] for field in ("text", "reasoning")}
        self._show_marks()

    def show_evidence(self, words: str) -> bool:
        """Select the first place in the answer (else the reasoning) that reads `words`, which
        an automatic flag found; False when the rendered text no longer shows them."""
        for view in (self.answer_view, self.reasoning_view):
            view.moveCursor(QTextCursor.MoveOperation.Start)
            if view.find(" ".join(words.split())):
                view.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return False

    def set_annotations_visible(self, visible: bool) -> None:
        """Labels, suggestions and highlights on screen or not (a class may first read the bare answers)."""
        self._annotations_visible = visible
        self.annotation_box.setVisible(visible)  # the box too: an empty one would keep the answer's room
        self._show_marks()

    def _show_marks(self) -> None:
        for field, view in (("text", self.answer_view), ("reasoning", self.reasoning_view)):
            view.set_marks(self._marks.get(field, []) if self._annotations_visible else [])

    def set_current(self, current: bool) -> None:
        """The pane the number keys label: drawn with a stronger frame."""
        self.setProperty("current", current)
        self.setStyleSheet("#paneCard[current=\"true\"] { border: 2px solid palette(highlight); }" if current else "")

    # --- blind comparison and presenting -------------------------------------------

    def set_blind(self, letter: str | None) -> None:
        """Show the pane as "Model <letter>" with every text that names the model hidden; None ends it.

        Setting a letter again hides a revealed pane: a new answer is a new round of guessing.
        The answer itself is never touched ("I am Qwen…" is the model's own honest give-away).
        """
        self._blind = letter
        self._revealed = False
        self._show_identity()

    @property
    def blind_letter(self) -> str | None:
        return self._blind

    @property
    def hidden_identity(self) -> bool:
        """True while the pane is blind and not yet revealed."""
        return self._blind is not None and not self._revealed

    def reveal(self) -> None:
        if self.hidden_identity:
            self._revealed = True
            self._show_identity()
            self.revealed.emit(self)

    @property
    def identity(self) -> Identity | None:
        """The catalog's view of the pane's model, else what the notebook recorded with the answer."""
        entry = self.entry
        if entry is not None:
            return Identity(entry.name, entry.origin.maker, entry.origin.country)
        if self.shown is not None:
            return Identity(self.shown.model_name, None, self._recorded_country)
        return None

    def set_presenting(self, presenting: bool) -> None:
        """In front of a class: the model and its answer, without settings and editing buttons."""
        self._presenting = presenting
        self._show_identity()

    def _show_identity(self) -> None:
        blind, hidden, presenting = self._blind is not None, self.hidden_identity, self._presenting
        self.picker.setVisible(not blind)
        self.origin_label.setVisible(not blind)
        self.facts_label.setVisible(not blind and not presenting)
        for widget in (self.settings_label, self.settings_button):
            widget.setVisible(not blind and not presenting)
        self.caption_label.setVisible(not hidden)
        for button in (self.remove_button, self.copy_button, self.rerun_button):
            button.setVisible(not presenting)
        self.blind_label.setVisible(blind)
        self.reveal_button.setVisible(hidden)
        self.annotation_bar.set_identity_hidden(hidden)
        identity = self.identity
        self.origin_badge.setVisible(blind and not hidden and identity is not None)
        if blind:
            self.blind_label.setText(f"Model {self._blind}" + (f": {identity.name}" if not hidden and identity else ""))
            self.origin_badge.setText(identity.badge if identity else "")
        self._show_error(self._error)
        self._show_ran_on()

    # --- reasoning, copying ---------------------------------------------------------

    def _show_reasoning_toggle(self, has_reasoning: bool) -> None:
        self.reasoning_toggle.setVisible(has_reasoning)
        self.reasoning_view.setVisible(has_reasoning and self.reasoning_toggle.isChecked())
        if has_reasoning:
            self.reasoning_toggle.setText(f"Reasoning ({len(self.reasoning_view.text):,} characters)")

    def _fold_reasoning(self, shown: bool) -> None:
        self.reasoning_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.reasoning_view.setVisible(shown and self.reasoning_toggle.isVisible())

    def copy_answer(self) -> None:
        QGuiApplication.clipboard().setText(self.answer_text)

    @property
    def answer_text(self) -> str:
        return self.answer_view.text

    @property
    def reasoning_text(self) -> str:
        return self.reasoning_view.text


def _mark(span: Span, colours: dict[str, str]) -> Mark:
    labels = ", ".join(span.labels) or "no label"
    tip = f"Highlight by {span.annotator} ({labels})" + (f"\n\n{span.note}" if span.note else "")
    if not span.intact:
        tip = "This highlight's text has changed since it was made.\n\n" + tip
    colour = colours.get(span.labels[0], DEFAULT_HIGHLIGHT) if span.labels else DEFAULT_HIGHLIGHT
    return Mark(span.id, span.start, span.end, span.quote, colour, span.intact, describe.tooltip(tip))


def _with_note(error: str | None, note: str | None) -> str | None:
    """The message under an answer: its error, and a note on settings that had no effect."""
    return "\n".join(line for line in (error, note) if line) or None
