"""Under each answer: its labels, the detectors' suggestions, its highlights, a note.

The bar only shows what the window read from the notebook and says what
the user asked for (signals); the window writes it through the notebook
queue and redraws from the notebook, so the screen always shows what is
saved. Your labels are solid (checked) chips; a label only others gave (an
imported colleague's session, a model judge) is a hollow, dotted chip with
their names, and a chip you and others set says both; clicking or a number
key toggles only your own, never someone else's. Others' highlights and
notes are shown with their names. Machine suggestions (flags) are shown
apart, dashed and marked "suggested", with what they rest on (rules, the
classifier, its confidence) and the words they found in a tooltip. A click
accepts one as the annotator's label; ✕ dismisses it from view for this
session (the stored flag stays: flags are not edited, and a dismissal is
not a label). While a comparison is blind, a suggestion that tells what kind
of model wrote the answer (`thought_suppressed`: only reasoning models have
thoughts to suppress) waits for the reveal.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.analysis.flag_names import LANG_MISMATCH, THOUGHT_SUPPRESSED
from ...core.flagging import describe_basis, evidence_words
from ...core.notebook import Label
from ...core.notebook.annotations import Flag, ResponseAnnotations, ResponseLabel, Span
from ..shared import describe
from ..shared.actions import NUMBER_KEYS, REMOVE_HIGHLIGHT_KEYS
from ..shared.flow_layout import FlowBox, empty_layout
from ..shared.text_label import text_label
from .note_editor import NoteEditor

SPAN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
QUOTE_CHARS = 60
OTHER_NAME_CHARS = 12  # another annotator's name on a chip (the tooltip has it whole)
# Flags that say something about the model rather than the answer alone: hidden while blind.
IDENTIFYING_FLAGS = frozenset({THOUGHT_SUPPRESSED})
SUGGESTION_CSS = "QToolButton { border: 1px dashed palette(dark); border-radius: 9px; padding: 1px 6px; font-style: italic; }"
DISMISS_CSS = "QToolButton { border: none; padding: 0 3px; }"
# Titles of flags no built-in label shares a name with.
FLAG_TITLES = {LANG_MISMATCH: "Language mismatch"}


def key_of(index: int) -> str | None:
    """The number key of the label at `index` in the label set (None after the tenth)."""
    return NUMBER_KEYS[index] if index < len(NUMBER_KEYS) else None


def chip_css(colour: str) -> str:
    """Yours: filled. Only others': the `others` property set, a hollow dotted outline."""
    return (
        f"QToolButton {{ border: 1px solid {colour}; border-radius: 9px; padding: 1px 6px; }}"
        f"QToolButton:checked {{ background: {colour}; color: white; }}"
        f'QToolButton[others="true"]:!checked {{ border: 2px dotted {colour}; padding: 0 5px; }}'
    )


def who_text(mine: bool, others: list[str]) -> str:
    """The names on a chip: "" (yours alone), "bo", "you, bo", "bo +2"."""
    names = (["you"] if mine else []) + [describe.cut(name, OTHER_NAME_CHARS) for name in others]
    if not others:
        return ""
    return ", ".join(names) if len(names) <= 2 else f"{names[0]} +{len(names) - 1}"


def given_text(given: list[ResponseLabel], annotator: str) -> str:
    """Who gave a label, when: "labelled by you, 2026-11-30; by bo, 2026-11-29" (yours first)."""
    ordered = sorted(given, key=lambda g: (g.annotator != annotator, g.created_at))
    return "; ".join(f"by {'you' if g.annotator == annotator else g.annotator}, {describe.local_time(g.created_at)[:10]}" for g in ordered)


def flag_title(name: str, labels: dict[str, Label]) -> str:
    """A flag as people read it: its label's title when a label has its name ("Hard refusal")."""
    label = labels.get(name)
    return label.title if label else FLAG_TITLES.get(name, name.replace("_", " ").capitalize())


def suggestion_text(name: str, flags: list[Flag], labels: dict[str, Label]) -> str:
    """"suggested: Hard refusal · 0.97": the chip's words (the confidence when the classifier spoke)."""
    confidence = max((f.confidence for f in flags if f.confidence is not None), default=None)
    return f"suggested: {flag_title(name, labels)}" + (f" · {confidence:.2f}" if confidence is not None else "")


def suggestion_tooltip(name: str, flags: list[Flag], labels: dict[str, Label]) -> str:
    """Plain text: what the flag is, what it rests on and the words it found (escaped by describe.tooltip)."""
    lines = [f"Suggested by the automatic detectors, not by a person: {flag_title(name, labels)} ({name})."]
    for flag in flags:
        lines.append(f"Basis: {describe_basis(flag.basis, flag.confidence)} — {flag.detector}.")
    words = [w for f in flags for w in evidence_words(f.evidence)]
    if words:
        lines.append("Evidence in the answer: " + ", ".join(f"“{' '.join(w.split())}”" for w in words[:5]) + ("…" if len(words) > 5 else ""))
    return "\n".join(lines)


class AnnotationBar(QWidget):
    labelToggled = Signal(str)  # a label name
    flagAccepted = Signal(str)  # a flag name that is also a label
    flagDismissed = Signal(str)  # a flag name: hide this suggestion on this answer
    evidenceRequested = Signal(str)  # words a flag found: show them in the answer
    noteEdited = Signal(str)
    spanEditRequested = Signal(int)
    spanRemoveRequested = Signal(int)
    spanActivated = Signal(int)  # scroll the answer to this highlight

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: dict[str, Label] = {}
        self._chips: dict[str, QToolButton] = {}
        self._chip_texts: dict[str, str] = {}  # a chip's own words ("2 Hard refusal"), before any names
        self.suggestions: list[str] = []  # flag names that could become labels, not yet accepted
        self.suggestion_buttons: dict[str, QToolButton] = {}  # flag name -> its chip, as shown
        self._annotations: ResponseAnnotations | None = None
        self._annotator = ""
        self._dismissed: frozenset[str] = frozenset()
        self._identity_hidden = False
        # The label chips wrap like words: a grid of columns squeezed ten titles to "2 Har…fusal"
        # in a narrow pane; a line of chips keeps each title whole at its own height.
        self.chip_box = FlowBox(spacing=3)
        self.chip_flow = self.chip_box.flow
        self.flag_box = FlowBox(spacing=3, shorten=True)  # the suggestions, wrapping in a narrow pane
        self.flag_flow = self.flag_box.flow
        self.spans = QListWidget()
        self.spans.setMaximumHeight(70)
        self.spans.setToolTip("Highlighted passages. Enter edits one, Delete removes it.")
        self.spans.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.spans.customContextMenuRequested.connect(self._span_menu)
        self.spans.itemActivated.connect(lambda item: self.spanEditRequested.emit(item.data(SPAN_ID_ROLE)))
        self.spans.currentItemChanged.connect(self._span_activated)
        remove = QAction("Remove highlight", self.spans)
        remove.setShortcut(QKeySequence(REMOVE_HIGHLIGHT_KEYS))
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_current)
        self.spans.addAction(remove)
        self.others_notes = text_label(role="muted")  # notes are untrusted: plain text
        self.note = NoteEditor("Note on this answer (Markdown)", "Why these labels? What stands out?")
        self.note.edited.connect(self.noteEdited)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.chip_box)
        layout.addWidget(self.flag_box)
        layout.addWidget(self.spans)
        layout.addWidget(self.others_notes)
        layout.addWidget(self.note, 1)
        self.set_annotations(None, "")

    # --- the label set ------------------------------------------------------------

    def set_labels(self, labels: list[Label]) -> None:
        """One chip per label, numbered 1-9, 0 for the first ten."""
        empty_layout(self.chip_flow)
        self._labels = {label.name: label for label in labels}
        self._chips, self._chip_texts = {}, {}
        for index, label in enumerate(labels):
            key = key_of(index)
            chip = QToolButton()
            chip.setCheckable(True)
            self._chip_texts[label.name] = f"{key} {label.title}" if key else label.title
            chip.setText(self._chip_texts[label.name])
            chip.setToolTip(describe.tooltip(f"{label.title} ({label.name}){f' — key {key}' if key else ''}\n{label.definition}"))
            chip.setStyleSheet(chip_css(label.colour))
            chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the pane, not to a chip
            chip.clicked.connect(lambda _checked=False, name=label.name: self.labelToggled.emit(name))
            self.chip_flow.addWidget(chip)
            self._chips[label.name] = chip

    # --- one answer's annotations ---------------------------------------------------

    def set_annotations(self, annotations: ResponseAnnotations | None, annotator: str, dismissed: frozenset[str] = frozenset()) -> None:
        """Check the chips of your labels on the answer and mark those others gave, with
        their names; show its flags as suggestions, less the `dismissed` ones."""
        self._annotations, self._annotator, self._dismissed = annotations, annotator, dismissed
        self.setEnabled(annotations is not None)
        on = annotations.label_names(annotator) if annotations else set()  # yours: others' don't stop you accepting a suggestion
        for name, chip in self._chips.items():
            given = [g for g in annotations.labels if g.label == name] if annotations else []
            mine = any(g.annotator == annotator for g in given)
            others = sorted({g.annotator for g in given} - {annotator})
            chip.setChecked(mine)
            if bool(chip.property("others")) != bool(others):
                chip.setProperty("others", bool(others))
                chip.style().unpolish(chip)
                chip.style().polish(chip)
            who = who_text(mine, others)
            chip.setText(self._chip_texts[name] + (f" · {who}" if who else ""))
            label = self._labels[name]
            lines = [f"{label.title} ({label.name})" + (f" — labelled {given_text(given, annotator)}" if given else ""), label.definition]
            if others:
                lines.append("Click to remove your label (theirs stays)." if mine else "Click to add your own label beside theirs.")
            chip.setToolTip(describe.tooltip("\n".join(line for line in lines if line)))
        self._show_flags(annotations, on)
        self._show_spans(annotations.spans if annotations else ())
        note = next((n.body for n in annotations.notes if n.annotator == annotator), "") if annotations else ""
        self.note.set_text(note)
        self._show_others_notes(annotations)

    def set_identity_hidden(self, hidden: bool) -> None:
        """While the pane hides which model answered, so do its suggestions (IDENTIFYING_FLAGS)."""
        if hidden != self._identity_hidden:
            self._identity_hidden = hidden
            annotations = self._annotations
            self._show_flags(annotations, annotations.label_names(self._annotator) if annotations else set())

    def _show_flags(self, annotations: ResponseAnnotations | None, on: set[str]) -> None:
        empty_layout(self.flag_flow)
        self.suggestion_buttons = {}
        flags = annotations.flags if annotations else ()
        hidden = self._dismissed | (IDENTIFYING_FLAGS if self._identity_hidden else frozenset())
        by_name: dict[str, list[Flag]] = {}
        for flag in flags:
            if flag.name not in hidden:
                by_name.setdefault(flag.name, []).append(flag)
        self.suggestions = [n for n in by_name if n in self._labels and n not in on]
        for name, named in by_name.items():
            self.flag_flow.addWidget(self._suggestion(name, named, accepted=name in on))
        self.flag_box.setVisible(bool(by_name))

    def _suggestion(self, name: str, flags: list[Flag], *, accepted: bool) -> QWidget:
        """One suggestion: the chip (click accepts; its menu shows the evidence) and ✕ (dismiss)."""
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        button = QToolButton()
        button.setText(suggestion_text(name, flags, self._labels) + (" ✓" if accepted else ""))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setStyleSheet(SUGGESTION_CSS)
        tip = suggestion_tooltip(name, flags, self._labels)
        menu = QMenu(button)
        if name in self.suggestions:
            tip += f"\nClick (or press A) to accept it as your label ({self._annotator or 'you'})."
            button.clicked.connect(lambda _checked=False, n=name: self.flagAccepted.emit(n))

            def accept(n: str = name) -> None:
                self.flagAccepted.emit(n)

            menu.addAction("Accept as my label", accept)
        else:
            tip += "\nYou labelled it so." if accepted else "\nNo label has this name, so it can't be accepted; it stays a suggestion."
            button.clicked.connect(button.showMenu)

        def dismiss_it(n: str = name) -> None:
            self.flagDismissed.emit(n)

        menu.addAction("Dismiss (hide this suggestion)", dismiss_it)
        words = list(dict.fromkeys(w for f in flags for w in evidence_words(f.evidence)))
        if words:
            menu.addSeparator()
            for word in words[:8]:
                shown = " ".join(word.split())

                def find(w: str = word) -> None:
                    self.evidenceRequested.emit(w)

                menu.addAction(f"Find “{shown if len(shown) <= 40 else shown[:39] + '…'}” in the answer", find)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.setToolTip(describe.tooltip(tip))
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        dismiss.setStyleSheet(DISMISS_CSS)
        dismiss.setToolTip("Dismiss this suggestion (hidden on this answer until the app restarts; the stored flag stays)")
        dismiss.clicked.connect(lambda _checked=False, n=name: self.flagDismissed.emit(n))
        row.addWidget(button)
        row.addWidget(dismiss)
        self.suggestion_buttons[name] = button
        return box

    def _show_spans(self, spans: tuple[Span, ...]) -> None:
        self.spans.blockSignals(True)
        self.spans.clear()
        for span in spans:
            quote = describe.cut(span.quote, QUOTE_CHARS)
            titles = ", ".join(self._labels[n].title if n in self._labels else n for n in span.labels)
            where = " (reasoning)" if span.field == "reasoning" else ""
            text = f"“{quote}”{where}" + (f" — {titles}" if titles else "")
            if span.annotator != self._annotator:
                text += f" · by {describe.cut(span.annotator, OTHER_NAME_CHARS)}"
            if not span.intact:
                text = "⚠ text changed: " + text
            item = QListWidgetItem(text)
            item.setData(SPAN_ID_ROLE, span.id)
            tip = f"{span.quote}\n\nby {span.annotator}, {describe.local_time(span.created_at)}" + (f"\n\n{span.note}" if span.note else "")
            if not span.intact:
                tip = "The answer no longer reads this at the stored place: this highlight is not trusted.\n\n" + tip
            item.setToolTip(describe.tooltip(tip))
            self.spans.addItem(item)
        self.spans.setVisible(bool(spans))
        self.spans.blockSignals(False)

    def _show_others_notes(self, annotations: ResponseAnnotations | None) -> None:
        """Others' notes on the answer, read-only above yours: who wrote one, in a line (a pane
        has little height to spare), and each note whole, as plain text, in the tooltip."""
        notes = [n for n in annotations.notes if n.annotator != self._annotator] if annotations else []
        names = [describe.cut(n.annotator, OTHER_NAME_CHARS) for n in notes]
        listed = ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} +{len(names) - 2}"
        self.others_notes.setText(f"{'Note' if len(notes) == 1 else 'Notes'} by {listed}: point here to read")
        self.others_notes.setToolTip(describe.tooltip("\n\n".join(f"{n.annotator}, {describe.local_time(n.updated_at)}:\n{n.body}" for n in notes)))
        self.others_notes.setVisible(bool(notes))

    @property
    def checked_labels(self) -> set[str]:
        """Your labels on the answer (checked chips)."""
        return {name for name, chip in self._chips.items() if chip.isChecked()}

    @property
    def labels_by_others(self) -> set[str]:
        """The labels others gave the answer (chips carrying their names)."""
        return {name for name, chip in self._chips.items() if chip.property("others")}

    def _span_menu(self, point: QPoint) -> None:
        item = self.spans.itemAt(point)
        if item is None:
            return
        span_id = item.data(SPAN_ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Labels and note…", lambda: self.spanEditRequested.emit(span_id))
        menu.addAction("Remove highlight", lambda: self.spanRemoveRequested.emit(span_id))
        menu.popup(self.spans.viewport().mapToGlobal(point))

    def _span_activated(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self.spanActivated.emit(item.data(SPAN_ID_ROLE))

    def _remove_current(self) -> None:
        item = self.spans.currentItem()
        if item is not None:
            self.spanRemoveRequested.emit(item.data(SPAN_ID_ROLE))
