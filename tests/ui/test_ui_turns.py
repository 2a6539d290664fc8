"""Follow-up turns in the window: Follow up sends the prompt box to every pane, each model
continuing its own conversation; the turn strip chooses the turn every pane shows, and
annotations go on the answer shown. The models are scripted (tests/fake_model.py), so what
each one was sent can be checked message by message."""

from __future__ import annotations

from PySide6.QtCore import Qt
from window_helpers import WAIT_MS, make_run, run_and_wait, settle

from workbench.core.engine.backend import FINISH_ERROR, GenerationResult
from workbench.core.notebook import open_notebook
from workbench.ui.compare.comparing import NOTHING_TO_FOLLOW, PANE_RERUN_ALONE

QUESTION = "What happened in June 1989?"
FOLLOW_UP = "请用中文回答"
REPLIES = {QUESTION: "The army cleared the square.", FOLLOW_UP: "军队清场了。"}


def reply(model: str, prompt: str) -> str:
    return f"{model}: {REPLIES.get(prompt, 'Yes.')}"


def follow_up(qtbot, window, text: str):
    """Type `text` and press Alt+Enter in the prompt box; wait for every pane to answer."""
    window.prompt_bar.prompt.setPlainText(text)
    window.prompt_bar.prompt.setFocus()
    assert window.commands.run.follow_up.isEnabled()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as finished:
        qtbot.keyClick(window.prompt_bar.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert finished.args[0] is not None, "the follow-up did not start"
    qtbot.waitUntil(lambda: not any(p.answer_view.rendering for p in window.area.panes), timeout=WAIT_MS)
    return finished.args[0]


def asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models, answer=reply):
    loader = scripted_models(answer)
    opened = open_window([tiny_models])
    window = opened.window
    assert not window.commands.run.follow_up.isEnabled(), "nothing to follow up before a run"
    window.prompt_bar.prompt.setPlainText(QUESTION)
    first = run_and_wait(qtbot, window)
    second = follow_up(qtbot, window, FOLLOW_UP)
    settle(qtbot, window)
    return opened, loader, first, second


def test_a_follow_up_goes_to_every_pane_each_continuing_its_own_conversation(open_window, tiny_models, scripted_models, qtbot):
    opened, loader, first, second = asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models)
    window = opened.window
    assert (second.run_id, second.turn) == (first.run_id, 1)
    assert window.prompt_bar.prompt_text == FOLLOW_UP, "Alt+Enter went to the action, not into the text"
    names = [pane.entry.name for pane in window.area.panes]
    sent = {backend.display_name: backend.conversations for backend in loader.loaded}
    for name in names:
        # Each model was sent its own first answer, never the other model's.
        assert sent[name][-1] == [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": reply(name, QUESTION)},
            {"role": "user", "content": FOLLOW_UP},
        ]
    for index, (pane, name) in enumerate(zip(window.area.panes, names)):
        assert pane.answer_text == reply(name, FOLLOW_UP) == opened.recorder.streams.answer[index]  # streamed in, as a run's
        assert pane.turn_prompt_label.isVisibleTo(window) and pane.turn_prompt_label.text() == f"Turn 2 · You asked: {FOLLOW_UP}"
        assert f"Run #{first.run_id} · turn 2" in pane.caption_label.text()
    strip = window.area.turns
    assert strip.isVisibleTo(window) and (strip.count, strip.current) == (2, 1)
    turns = opened.workspace.notebook.run(first.run_id)["turns"]
    assert [t["prompt"] for t in turns] == [QUESTION, FOLLOW_UP]
    assert [p.response_id for p in window.area.panes] == [r["id"] for r in turns[1]["responses"]]
    assert "2 turns" in window.history.list.item(0).text()


def test_the_strip_switches_turns_and_labels_go_on_the_shown_turns_answer(open_window, tiny_models, scripted_models, qtbot):
    opened, _loader, first, _second = asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models)
    window = opened.window
    turns = opened.workspace.notebook.run(first.run_id)["turns"]
    pane = window.area.panes[0]
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        qtbot.mouseClick(window.area.turns._buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.answer_view.rendering, timeout=WAIT_MS)
    assert window.area.turns.current == 0
    assert pane.response_id == turns[0]["responses"][0]["id"]
    assert pane.answer_text == turns[0]["responses"][0]["text"] and "army" in pane.answer_text
    assert pane.turn_prompt_label.text() == f"Turn 1 · You asked: {QUESTION}"

    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.annotating.toggle_label(pane, "hard_refusal")
    annotations = opened.workspace.notebook.annotations.for_run(first.run_id).responses
    assert [label.label for label in annotations[turns[0]["responses"][0]["id"]].labels] == ["hard_refusal"]
    assert annotations[turns[1]["responses"][0]["id"]].labels == ()
    assert pane.annotation_bar.checked_labels == {"hard_refusal"}

    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.area.turns.choose(1)
    assert pane.response_id == turns[1]["responses"][0]["id"] and pane.annotation_bar.checked_labels == set()


def test_a_pane_whose_model_failed_says_it_was_not_asked_again(open_window, tiny_models, scripted_models, qtbot):
    def answer(model: str, prompt: str):
        if model.startswith("SmolLM2") and prompt == QUESTION:
            return GenerationResult(finish_reason=FINISH_ERROR, error="The template raised an error.")
        return reply(model, prompt)

    opened, loader, first, _second = asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models, answer)
    window = opened.window
    failed = next(p for p in window.area.panes if p.entry.name.startswith("SmolLM2"))
    other = next(p for p in window.area.panes if p is not failed)
    assert failed.error_box.isVisibleTo(window)
    assert failed.error_label.text().startswith("Not asked: SmolLM2 Tiny's previous answer failed (The template raised an error.)")
    assert other.answer_text == reply(other.entry.name, FOLLOW_UP) and not other.error_box.isVisibleTo(window)
    smol = next(b for b in loader.loaded if b.display_name.startswith("SmolLM2"))
    assert smol.prompts == [QUESTION], "the failed model was not sent the follow-up"


def test_a_saved_run_opens_at_its_last_turn_and_a_search_hit_opens_its_turn(open_window, tiny_models, scripted_models, qtbot):
    opened, _loader, first, _second = asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models)
    window = opened.window
    turns = opened.workspace.notebook.run(first.run_id)["turns"]
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.area.turns.choose(0)
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS):
        window.history.select_run(first.run_id)
    assert window.area.turns.current == 1 and window.area.turns.count == 2
    assert [p.response_id for p in window.area.panes] == [r["id"] for r in turns[1]["responses"]]

    panel = window.annotating.search
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.query.setText("army")  # in the first turn's answers only
    hit = next(h for h in panel.hits if h.response_id == turns[0]["responses"][1]["id"])
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.annotating.open_hit(hit)
    qtbot.waitUntil(lambda: window.area.turns.current == 0, timeout=WAIT_MS)
    assert window.area.panes[1].response_id == hit.response_id
    assert window.annotating.current_pane is window.area.panes[1]

    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.query.setText("中文回答")  # the follow-up's prompt
    hit = next(h for h in panel.hits if h.field == "prompt")
    assert hit.turn == 1
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.annotating.open_hit(hit)
    assert window.area.turns.current == 1
    assert window.area.panes[0].turn_prompt_label.text() == f"Turn 2 · You asked: {FOLLOW_UP}"


def test_blind_keeps_the_models_hidden_across_turns_and_votes_stay_with_the_run(open_window, tiny_models, scripted_models, qtbot):
    def answer(model: str, prompt: str):
        if model.startswith("Qwen") and prompt == QUESTION:
            return GenerationResult(finish_reason=FINISH_ERROR, error="It failed.")
        return reply(model, prompt)

    scripted_models(answer)
    window = open_window([tiny_models]).window
    window.commands.present.blind.setChecked(True)
    window.prompt_bar.prompt.setPlainText(QUESTION)
    first = run_and_wait(qtbot, window)
    blind = window.presentation.blind
    assert blind.run_id == first.run_id
    follow_up(qtbot, window, FOLLOW_UP)
    settle(qtbot, window)
    assert blind.run_id == first.run_id, "the votes still go to the run"
    for pane in window.area.panes:
        assert pane.hidden_identity and pane.blind_label.text() in ("Model A", "Model B")
        assert not pane.caption_label.isVisibleTo(window) and not pane.picker.isVisibleTo(window)
    qwen = next(p for p in window.area.panes if p.entry.name.startswith("Qwen"))
    assert qwen.error_label.text().startswith(f"Not asked: Model {qwen.blind_letter}'s previous answer failed")
    assert "Qwen" not in qwen.error_label.text()
    assert "2 turns" in window.history.list.item(0).text() and "Tiny" not in window.history.list.item(0).text()


def test_a_model_not_on_this_computer_is_named_and_nothing_is_sent(open_window, isolated_dirs, qtbot):
    path = isolated_dirs / "notebook.sqlite"
    run_id = make_run(path)  # SmolLM2 and Qwen2.5, whose files are not here
    window = open_window([]).window
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS):
        window.history.select_run(run_id)
    window.prompt_bar.prompt.setPlainText(FOLLOW_UP)
    window.commands.run.follow_up.trigger()
    text = window.messages.text("follow-up")
    assert text is not None and "\n" not in text
    assert text.startswith("Not sent: SmolLM2, Qwen2.5 are not in the model library on this computer")
    assert not window.activity.comparing
    settle(qtbot, window)
    notebook = open_notebook(path)
    assert len(notebook.run(run_id)["turns"]) == 1
    notebook.close()


def test_a_panes_rerun_is_no_conversation_to_follow_up_and_the_button_says_why(open_window, tiny_models, scripted_models, qtbot):
    scripted_models(reply)
    window = open_window([tiny_models]).window
    follow = window.commands.run.follow_up
    assert not follow.isEnabled() and follow.toolTip() == NOTHING_TO_FOLLOW
    window.prompt_bar.prompt.setPlainText(QUESTION)
    run_and_wait(qtbot, window)
    assert follow.isEnabled() and "continues its own conversation" in follow.toolTip()
    assert "follow up" in window.prompt_bar.prompt.placeholderText()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        window.area.panes[1].rerun_button.click()
    assert not follow.isEnabled() and follow.toolTip() == PANE_RERUN_ALONE
    assert not window.area.turns.isVisibleTo(window)


def test_a_replayed_run_takes_the_turn_strip_away_until_a_run_is_shown(open_window, tiny_models, scripted_models, qtbot):
    opened, _loader, first, _second = asked_and_followed_up(qtbot, open_window, tiny_models, scripted_models)
    window, demo = opened.window, opened.window.demo
    demos = opened.workspace.notebook.demos
    script = demos.create("Lesson", annotator="ana")
    demos.add_step_from_run(script.id, first.run_id, annotator="ana", note="")
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.choose_script(script.id)
    during: list[bool] = []
    window.pane_events.replayStarted.connect(lambda _run: during.append(window.area.turns.isVisibleTo(window)))
    with qtbot.waitSignal(window.runShown, timeout=WAIT_MS):  # the replay ends showing the run
        window.commands.demo.next.trigger()
    assert during == [False], "the strip of the run shown before stayed over the replay"
    assert window.area.turns.isVisibleTo(window) and window.area.turns.current == 1


def test_a_conversation_fits_a_laptop_with_the_answers_taking_the_room(open_window, isolated_dirs, tiny_models, qtbot):
    from layout_helpers import LAPTOPS, assert_answers_dominate, client, settle_layout

    path = isolated_dirs / "notebook.sqlite"
    run_id = make_run(path)
    notebook = open_notebook(path)
    turn = notebook.add_turn(run_id, "请用中文回答，并说明你的信息来源。你确定吗？请再想一想，然后用三句话回答。", language="zh")
    for position, (name, text) in enumerate((("SmolLM2", "军队清场了天安门广场。"), ("Qwen2.5", "对不起，我无法讨论这个话题。"))):
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=None, seed=1, sampler={}, turn=turn)
        notebook.finish_response(rid, text=text, finish_reason="stop")
    notebook.close()
    window = open_window([tiny_models]).window
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.history.select_run(run_id)
    assert window.area.turns.isVisibleTo(window) and window.area.panes[0].turn_prompt_label.isVisibleTo(window)
    for width, height in LAPTOPS:
        window.resize(client(width, height))
        settle_layout(qtbot)
        assert window.size() == client(width, height), f"the window keeps a minimum of {window.minimumSize()} at {width}x{height}"
        assert_answers_dominate(window)


def test_a_long_turn_question_is_one_line_whole_and_inert_in_its_tooltip(qtbot):
    from workbench.ui.panes.pane import ComparePane

    pane = ComparePane()
    qtbot.addWidget(pane)
    pane.resize(300, 600)
    pane.show()
    question = "<b>Are you sure?</b>\n" + "请再想一想。" * 20
    pane.show_turn_prompt(2, question)
    label = pane.turn_prompt_label
    assert label.isVisibleTo(pane) and label.height() < 2 * label.fontMetrics().lineSpacing()
    assert label.text() == "Turn 3 · You asked: " + " ".join(question.split())
    assert "&lt;b&gt;Are you sure?&lt;/b&gt;" in label.toolTip(), "markup in a prompt must show as text"
    pane.show_turn_prompt(None)
    assert not label.isVisibleTo(pane)


def test_presenting_names_the_follow_up_key() -> None:
    from workbench.ui.classroom.presentation import key_line

    assert "Alt+Enter: follow up" in key_line(presenting=True, running=False, blind=False)
    assert "Alt+Enter" not in key_line(presenting=True, running=True, blind=False)  # Esc stops then; nothing to follow yet


def test_a_pane_given_another_model_is_refused_and_the_conversation_shows_again(open_window, tiny_models, scripted_models, qtbot):
    loader = scripted_models(reply)
    window = open_window([tiny_models]).window
    window.prompt_bar.prompt.setPlainText(QUESTION)
    first = run_and_wait(qtbot, window)
    left, right = window.area.panes
    answers = [left.answer_text, right.answer_text]
    left.select(right.entry_id)  # the left pane now has the right one's model
    window.prompt_bar.prompt.setPlainText(FOLLOW_UP)
    settle(qtbot, window)
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as finished:
        window.commands.run.follow_up.trigger()
    assert finished.args == [None], "refused before it began"
    qtbot.waitUntil(lambda: left.response_id is not None and not left.answer_view.rendering, timeout=WAIT_MS)  # the run's turn shown again
    problem = window.messages.text("run")
    assert problem is not None and "is not the model of position 0" in problem
    assert [left.answer_text, right.answer_text] == answers and left.response_id is not None
    assert window.area.turns.count == 1 and not window.area.turns.isVisibleTo(window)
    assert all(FOLLOW_UP not in backend.prompts for backend in loader.loaded)
    assert len(window.workspace.notebook.run(first.run_id)["turns"]) == 1
