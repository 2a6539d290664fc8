"""Labels, highlights, notes, run ratings and links; undo and redo; nothing lost to SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench.core.notebook import open_notebook
from workbench.core.notebook.undo import UndoConflict
from workbench.core.notebook.offsets import from_utf16, locate_quote, to_utf16

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "Troops cleared the square 🙂 and 天安门 was quiet. **Casualty figures** remain disputed."


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = open_notebook(tmp_path / "nb.sqlite")
    yield notebook
    notebook.close()


def _run(notebook, prompt: str = "What happened in June 1989?", language: str | None = "en", answers=(ANSWER, "I can't help with that.")):
    run_id = notebook.create_run(prompt, language=language)
    ids = []
    for position, text in enumerate(answers):
        rid = notebook.add_response(run_id, position, model_name=f"Model {position}", model_sha256=None, origin_country=None, seed=1, sampler={})
        notebook.finish_response(rid, text=text, reasoning="<reasoning>" if position == 0 else "")
        ids.append(rid)
    return run_id, ids


# --- the label set ----------------------------------------------------------------


def test_user_labels_are_added_after_the_built_in_ones_and_renaming_keeps_the_stored_name(notebook) -> None:
    label = notebook.labels.create("whataboutism", annotator="ana", title="Whataboutism", definition="Answers a criticism with another.")
    assert (label.position, label.builtin, label.colour.startswith("#")) == (11, False, True)
    _, (rid, _) = _run(notebook)
    notebook.annotations.add_label(rid, "whataboutism", annotator="ana")
    renamed = notebook.labels.update("whataboutism", annotator="bo", title="Deflection by comparison", colour="#ABCDEF")
    assert (renamed.name, renamed.title, renamed.colour, renamed.annotator) == ("whataboutism", "Deflection by comparison", "#abcdef", "bo")
    assert notebook.annotations.for_run(1).responses[rid].label_names() == {"whataboutism"}
    # A built-in label can be retitled, but not redefined.
    assert notebook.labels.update("evasive", annotator="ana", title="Ausweichend").name == "evasive"
    with pytest.raises(ValueError, match="definition of the built-in label"):
        notebook.labels.update("evasive", annotator="ana", definition="something else")
    assert notebook.labels.update("whataboutism", annotator="ana", definition=" Changes the subject to another's faults. ").definition == (
        "Changes the subject to another's faults."
    )


@pytest.mark.parametrize("name", ["Has Space", "9lives", "", "x" * 41, "台湾"])
def test_label_names_are_identifiers(notebook, name: str) -> None:
    with pytest.raises(ValueError, match="lower-case letters"):
        notebook.labels.create(name, annotator="ana")


def test_duplicate_labels_bad_colours_and_nameless_annotators_are_refused(notebook) -> None:
    with pytest.raises(ValueError, match="already a label"):
        notebook.labels.create("evasive", annotator="ana")
    with pytest.raises(ValueError, match="#rrggbb"):
        notebook.labels.create("mine", annotator="ana", colour="red")
    with pytest.raises(ValueError, match="annotator name is needed"):
        notebook.labels.create("mine", annotator="  ")
    with pytest.raises(ValueError, match="title is empty"):
        notebook.labels.create("mine", annotator="ana", title=" ")


# --- labels on answers ------------------------------------------------------------------


def test_an_answer_carries_several_labels_each_with_who_and_when(notebook) -> None:
    run_id, (rid, other) = _run(notebook)
    assert notebook.annotations.add_label(rid, "evasive", annotator="ana")
    assert notebook.annotations.add_label(rid, "soft_omission", annotator="ana")
    assert notebook.annotations.add_label(rid, "evasive", annotator="bo")  # another person's is their own
    assert not notebook.annotations.add_label(rid, "evasive", annotator="ana")
    annotations = notebook.annotations.for_run(run_id).responses
    assert annotations[rid].label_names() == {"evasive", "soft_omission"}
    assert annotations[rid].label_names("bo") == {"evasive"}
    assert all(label.created_at.endswith("+00:00") for label in annotations[rid].labels)
    assert annotations[other].labels == ()
    row = notebook.store.db.execute("select annotator, created_at, updated_at from response_labels where annotator = 'bo'").fetchone()
    assert row[0] == "bo" and row[1] == row[2]


def test_toggling_is_the_number_key_and_touches_only_ones_own_label(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    notebook.annotations.add_label(rid, "balanced", annotator="bo")
    assert notebook.annotations.toggle_label(rid, "balanced", annotator="ana") is True
    assert notebook.annotations.toggle_label(rid, "balanced", annotator="ana") is False
    assert [(label.label, label.annotator) for label in notebook.annotations.for_run(run_id).responses[rid].labels] == [("balanced", "bo")]
    assert notebook.annotations.remove_label(rid, "balanced", annotator="ana") is False


def test_unknown_labels_and_answers_are_told_apart(notebook) -> None:
    _, (rid, _) = _run(notebook)
    with pytest.raises(ValueError, match="No label named 'evasiv'.*evasive"):
        notebook.annotations.add_label(rid, "evasiv", annotator="ana")
    with pytest.raises(LookupError, match="no response 999"):
        notebook.annotations.add_label(999, "evasive", annotator="ana")
    with pytest.raises(LookupError, match="no run 999"):
        notebook.annotations.set_run_note(999, "x", annotator="ana")


# --- highlights ---------------------------------------------------------------------------


def test_a_highlight_stays_on_the_exact_characters_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    _, (rid, _) = _run(notebook)
    start = ANSWER.index("天安门")
    span = notebook.annotations.add_span(rid, "text", start, start + 3, annotator="ana", labels=["state_narrative", "evasive"], note="*quiet*?")
    assert (span.quote, span.labels, span.note, span.intact) == ("天安门", ("state_narrative", "evasive"), "*quiet*?", True)
    notebook.close()

    notebook = open_notebook(path)
    try:
        (again,) = notebook.annotations.for_run(1).responses[rid].spans
        assert again == span
        text = notebook.run(1)["responses"][0]["text"]
        assert text[again.start : again.end] == "天安门"
        # The same offsets, as SQLite counts them (code points), for other tools.
        assert notebook.store.db.execute("select substr(r.text, s.start + 1, s.\"end\" - s.start) from spans s join responses r on r.id = s.response_id").fetchone()[0] == "天安门"
    finally:
        notebook.close()


def test_a_highlight_whose_text_changed_is_reported_not_intact(notebook) -> None:
    _, (rid, _) = _run(notebook)
    span = notebook.annotations.add_span(rid, "reasoning", 1, 10, annotator="ana")
    assert span.quote == "reasoning"
    notebook.store.db.execute("update responses set reasoning = 'something else entirely' where id = ?", [rid])
    assert notebook.annotations.span(span.id).intact is False


@pytest.mark.parametrize("field, start, end, message", [
    ("text", 5, 5, "start < end"), ("text", -1, 3, "start < end"), ("text", 0, len(ANSWER) + 1, f"<= {len(ANSWER)}"),
    ("reasoning", 0, 12, "<= 11"), ("prompt", 0, 1, "text or reasoning"),
])
def test_highlight_offsets_must_lie_in_the_stored_text(notebook, field: str, start: int, end: int, message: str) -> None:
    _, (rid, _) = _run(notebook)
    with pytest.raises(ValueError, match=message):
        notebook.annotations.add_span(rid, field, start, end, annotator="ana")
    assert notebook.store.db.execute("select count(*) from spans").fetchone()[0] == 0


def test_a_highlights_labels_and_note_can_be_changed_and_it_can_be_removed(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    span = notebook.annotations.add_span(rid, "text", 0, 6, annotator="ana", labels=["evasive"])
    assert notebook.annotations.set_span_labels(span.id, ["one_sided", "factual_error"], annotator="bo").labels == ("one_sided", "factual_error")
    assert notebook.annotations.set_span_note(span.id, "  see [1]  ").note == "see [1]"
    notebook.annotations.delete_span(span.id)
    assert notebook.annotations.for_run(run_id).responses[rid].spans == ()
    assert notebook.store.db.execute("select count(*) from span_labels").fetchone()[0] == 0
    with pytest.raises(LookupError):
        notebook.annotations.span(span.id)


def test_qt_positions_convert_to_stored_offsets_and_back() -> None:
    text = "a🙂b天c"
    # Qt counts the emoji as two UTF-16 units.
    assert [to_utf16(text, i) for i in range(len(text) + 1)] == [0, 1, 3, 4, 5, 6]
    assert [from_utf16(text, p) for p in range(7)] == [0, 1, 1, 2, 3, 4, 5]
    assert text[from_utf16(text, 3) : from_utf16(text, 5)] == "b天"


def test_a_selection_in_rendered_markdown_is_found_in_the_stored_text() -> None:
    assert locate_quote(ANSWER, "天安门") == (ANSWER.index("天安门"), ANSWER.index("天安门") + 3)
    # Rendered, the ** are gone: "Casualty figures remain".
    start, end = locate_quote(ANSWER, "Casualty figures remain")
    assert ANSWER[start:end] == "Casualty figures** remain"
    text = "the cat and the cat"
    assert locate_quote(text, "the cat", near=14) == (12, 19)
    assert locate_quote(text, "the dog") is None and locate_quote(text, "  ") is None


# --- notes, ratings, links --------------------------------------------------------------------


def test_notes_are_markdown_one_per_annotator_and_an_empty_one_is_removed(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    notebook.annotations.set_response_note(rid, "Refuses; compare **run 2**.\n\n<script>x</script>", annotator="ana")
    notebook.annotations.set_response_note(rid, "Evasive.", annotator="bo")
    notebook.annotations.set_run_note(run_id, "Asked twice.", annotator="ana")
    notebook.annotations.set_response_note(rid, "Refuses.", annotator="ana")
    found = notebook.annotations.for_run(run_id)
    assert [(n.annotator, n.body) for n in found.responses[rid].notes] == [("ana", "Refuses."), ("bo", "Evasive.")]
    assert [(n.body, n.response_id) for n in found.notes] == [("Asked twice.", None)]
    created, updated = notebook.store.db.execute("select created_at, updated_at from notes where annotator = 'ana' and response_id = ?", [rid]).fetchone()
    assert updated >= created
    notebook.annotations.set_response_note(rid, "   ", annotator="bo")
    assert [n.annotator for n in notebook.annotations.for_run(run_id).responses[rid].notes] == ["ana"]


def test_a_run_gets_a_divergence_rating_and_a_summary_per_annotator(notebook) -> None:
    run_id, _ = _run(notebook)
    notebook.annotations.set_divergence(run_id, "substantive", annotator="ana")
    notebook.annotations.set_summary(run_id, "One refuses;\n the other invents a law.", annotator="ana")
    notebook.annotations.set_divergence(run_id, "opposite", annotator="bo")
    assessments = {a.annotator: a for a in notebook.annotations.for_run(run_id).assessments}
    assert (assessments["ana"].divergence, assessments["ana"].summary) == ("substantive", "One refuses; the other invents a law.")
    assert (assessments["bo"].divergence, assessments["bo"].summary) == ("opposite", "")
    with pytest.raises(ValueError, match="none, minor, substantive, opposite"):
        notebook.annotations.set_divergence(run_id, "huge", annotator="ana")
    notebook.annotations.set_divergence(run_id, None, annotator="bo")  # nothing left of bo's verdict: the row goes
    assert [a.annotator for a in notebook.annotations.for_run(run_id).assessments] == ["ana"]


def test_a_language_shift_links_the_same_prompt_in_two_languages(notebook) -> None:
    en, _ = _run(notebook)
    zh, _ = _run(notebook, "1989年6月发生了什么？", "zh")
    other_en, _ = _run(notebook)
    link = notebook.annotations.link_language_shift(zh, en, annotator="ana", note="Refuses in English, answers in Chinese")
    assert (link.run_a, link.run_b, link.kind, link.other(en)) == (en, zh, "language_shift", zh)
    assert notebook.annotations.for_run(zh).links == (link,)
    with pytest.raises(ValueError, match="both in 'en'"):
        notebook.annotations.link_language_shift(en, other_en, annotator="ana")
    with pytest.raises(ValueError, match="two different runs"):
        notebook.annotations.link_language_shift(en, en, annotator="ana")
    again = notebook.annotations.link_language_shift(en, zh, annotator="bo", note="Only in Chinese it answers")
    assert (again.id, again.note, again.annotator) == (link.id, "Only in Chinese it answers", "ana")  # one mark per pair
    notebook.annotations.unlink(link.id)
    assert notebook.annotations.for_run(en).links == ()
    with pytest.raises(LookupError, match="no run link"):
        notebook.annotations.unlink(link.id)


# --- undo and redo ----------------------------------------------------------------------------------


def test_every_change_undoes_and_redoes_in_order(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    stack = notebook.undo
    notebook.annotations.toggle_label(rid, "evasive", annotator="ana")
    span = notebook.annotations.add_span(rid, "text", 0, 6, annotator="ana", labels=["one_sided"], note="n")
    notebook.annotations.set_divergence(run_id, "minor", annotator="ana")
    snapshot = notebook.annotations.for_run(run_id)
    assert stack.undo_text == f"Rate run {run_id} minor"

    operation = stack.undo()
    assert operation.run_ids == {run_id} and operation.tables == {"run_annotations"}
    assert stack.undo().tables == {"spans", "span_labels"}
    assert stack.undo_text == f"Label 'Evasive' on response {rid}"
    stack.undo()
    assert not stack.can_undo and stack.undo() is None
    empty = notebook.annotations.for_run(run_id)
    assert empty.assessments == () and empty.responses[rid].labels == () and empty.responses[rid].spans == ()

    for _ in range(3):
        stack.redo()
    assert not stack.can_redo
    assert notebook.annotations.for_run(run_id) == snapshot  # same ids, labels, times
    assert notebook.annotations.span(span.id).labels == ("one_sided",)


def test_undo_brings_back_a_removed_highlight_with_its_labels(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    span = notebook.annotations.add_span(rid, "text", 0, 6, annotator="ana", labels=["evasive", "one_sided"], note="why")
    notebook.annotations.delete_span(span.id)
    notebook.undo.undo()
    assert notebook.annotations.span(span.id) == span
    assert [h.span_id for h in notebook.search("why")] == [span.id]  # and its note is searchable again


def test_a_new_change_clears_redo_and_typing_a_note_undoes_as_one_step(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    notebook.annotations.add_label(rid, "evasive", annotator="ana")
    for text in ("R", "Re", "Ref", "Refuses"):
        notebook.annotations.set_response_note(rid, text, annotator="ana")
    notebook.undo.undo()
    assert notebook.annotations.for_run(run_id).responses[rid].notes == ()
    assert notebook.undo.redo_text == f"Note on response {rid}"
    notebook.annotations.add_label(rid, "balanced", annotator="ana")
    assert not notebook.undo.can_redo
    notebook.undo.undo()
    notebook.undo.undo()
    assert notebook.annotations.for_run(run_id).responses[rid].labels == ()


def test_a_change_that_changes_nothing_is_not_an_undo_step(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    notebook.annotations.set_run_note(run_id, "Same", annotator="ana")
    notebook.annotations.add_label(rid, "evasive", annotator="ana")
    notebook.annotations.set_run_note(run_id, " Same ", annotator="ana")  # stored stripped: no change
    notebook.annotations.add_label(rid, "evasive", annotator="ana")
    assert notebook.undo.undo_text == f"Label 'Evasive' on response {rid}"
    notebook.undo.undo()
    assert notebook.undo.undo_text == f"Note on run {run_id}"
    # A note typed and deleted again, as one merged step, leaves nothing to undo.
    notebook.annotations.set_response_note(rid, "tmp", annotator="ana")
    notebook.annotations.set_response_note(rid, "", annotator="ana")
    assert notebook.undo.undo_text == f"Note on run {run_id}"


def test_sessions_undo_too(notebook) -> None:
    run_id, _ = _run(notebook)
    session = notebook.sessions.create("Study", annotator="ana")
    notebook.sessions.move_runs([run_id], session.id, annotator="ana")
    notebook.sessions.rename(session.id, "Study A")
    assert notebook.undo.undo().tables == {"sessions"}
    assert notebook.sessions.get(session.id).name == "Study"
    notebook.undo.undo()
    assert notebook.sessions.session_of(run_id) is None


def test_undo_refuses_to_overwrite_what_someone_else_changed_since(notebook, tmp_path: Path) -> None:
    run_id, (rid, _) = _run(notebook)
    notebook.annotations.set_summary(run_id, "mine", annotator="ana")
    other = sqlite3.connect(tmp_path / "nb.sqlite")  # e.g. `workbench annotate` meanwhile
    other.execute("update run_annotations set summary = 'theirs'")
    other.commit()
    other.close()
    with pytest.raises(UndoConflict, match="changed since.*Nothing was overwritten"):
        notebook.undo.undo()
    assert notebook.annotations.for_run(run_id).assessments[0].summary == "theirs"
    assert not notebook.undo.can_undo  # the stale step is gone, not retried forever


def test_undoing_a_new_label_that_is_in_use_elsewhere_is_refused(notebook, tmp_path: Path) -> None:
    notebook.labels.create("mine", annotator="ana")
    _, (rid, _) = _run(notebook)
    other = open_notebook(tmp_path / "nb.sqlite")  # another window of the app, its own undo history
    other.annotations.add_label(rid, "mine", annotator="bo")
    other.close()
    with pytest.raises(UndoConflict):
        notebook.undo.undo()
    assert notebook.labels.get("mine").name == "mine"


# --- durability -------------------------------------------------------------------------------------

ANNOTATE_AND_WAIT = textwrap.dedent(
    """
    import sys, time
    from workbench.core.notebook import open_notebook
    notebook = open_notebook(sys.argv[1])
    response_id, round_ = int(sys.argv[2]), int(sys.argv[3])
    notebook.annotations.add_label(response_id, ["evasive", "balanced", "one_sided", "answered", "factual_error"][round_], annotator="ana")
    notebook.annotations.add_span(response_id, "text", round_, round_ + 5, annotator="ana", note=f"round {round_}")
    notebook.annotations.set_response_note(response_id, f"note {round_}", annotator="ana")
    print("saved", flush=True)
    time.sleep(60)
    """
)


def test_killing_the_process_right_after_an_annotation_is_saved_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    _, (rid, _) = _run(notebook)
    notebook.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for round_ in range(5):
        process = subprocess.Popen([sys.executable, "-c", ANNOTATE_AND_WAIT, str(path), str(rid), str(round_)], stdout=subprocess.PIPE, env=env)
        assert process.stdout.readline() == b"saved\n"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
        process.stdout.close()
        reopened = open_notebook(path)
        try:
            annotations = reopened.annotations.for_run(1).responses[rid]
            assert len(annotations.labels) == round_ + 1
            assert [s.note for s in annotations.spans][-1] == f"round {round_}" and len(annotations.spans) == round_ + 1
            assert [n.body for n in annotations.notes] == [f"note {round_}"]
        finally:
            reopened.close()
