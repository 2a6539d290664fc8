"""A live demo step with follow-ups: it asks its prompt, then each follow-up in order through
the window's own Follow up, each model continuing its own conversation; Stop asks no more.
The models are scripted (tests/fake_model.py), so what each one was sent is checked."""

from __future__ import annotations

from window_helpers import WAIT_MS, settle

QUESTION = "What happened at Tiananmen Square in June 1989?"
FOLLOW_UPS = ("Please answer as a historian would.", "请以历史学家的身份回答。")


def reply(model: str, prompt: str) -> str:
    return f"{model} on {prompt[:12]}"


def _script_with_a_live_step(qtbot, opened):
    notebook, demo = opened.workspace.notebook, opened.window.demo
    script = notebook.demos.create("Pressure", annotator="ana")
    notebook.demos.add_step(script.id, prompt=QUESTION, follow_ups=FOLLOW_UPS, note="Press on a refusal.", annotator="ana")
    demo.choose_script(script.id)
    qtbot.waitUntil(lambda: len(demo.steps) == 1, timeout=WAIT_MS)
    return demo


def test_a_live_step_asks_its_prompt_then_each_follow_up_in_order(qtbot, open_window, tiny_models, scripted_models) -> None:
    loader = scripted_models(reply)
    opened = open_window([tiny_models])
    window = opened.window
    demo = _script_with_a_live_step(qtbot, opened)
    assert demo.panel.follow_ups.toPlainText() == "\n".join(FOLLOW_UPS)  # the editor shows them
    assert "[live, then 2]" in demo.panel.list.item(0).text()
    finished = []
    window.runFinished.connect(finished.append)
    window.commands.demo.next.trigger()
    qtbot.waitUntil(lambda: len(finished) == 3 and not window.activity.comparing, timeout=WAIT_MS)
    settle(qtbot, window)
    assert all(outcome is not None for outcome in finished)
    assert [(o.run_id, o.turn) for o in finished] == [(finished[0].run_id, turn) for turn in (0, 1, 2)]
    run = opened.workspace.notebook.run(finished[0].run_id)
    assert [t["prompt"] for t in run["turns"]] == [QUESTION, *FOLLOW_UPS]
    assert demo.notes.then.text() == f"then: {FOLLOW_UPS[0]}\nthen: {FOLLOW_UPS[1]}"
    names = [pane.entry.name for pane in window.area.panes]
    sent = {backend.display_name: backend.conversations for backend in loader.loaded}
    for name in names:
        # Three requests, each the model's own conversation so far: never another model's answers.
        assert sent[name] == [
            [{"role": "user", "content": QUESTION}],
            [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": reply(name, QUESTION)}, {"role": "user", "content": FOLLOW_UPS[0]}],
            [
                {"role": "user", "content": QUESTION}, {"role": "assistant", "content": reply(name, QUESTION)},
                {"role": "user", "content": FOLLOW_UPS[0]}, {"role": "assistant", "content": reply(name, FOLLOW_UPS[0])},
                {"role": "user", "content": FOLLOW_UPS[1]},
            ],
        ]  # fmt: skip
    assert window.area.turns.count == 3


def test_stop_during_a_live_step_asks_none_of_its_follow_ups(qtbot, open_window, tiny_models, scripted_models) -> None:
    loader = scripted_models(reply)
    opened = open_window([tiny_models])
    window = opened.window
    demo = _script_with_a_live_step(qtbot, opened)
    window.pane_events.runCreated.connect(lambda _run_id: window.commands.run.stop.trigger())  # Esc while the first turn streams
    finished = []
    window.runFinished.connect(finished.append)
    window.commands.demo.next.trigger()
    qtbot.waitUntil(lambda: len(finished) == 1 and not window.activity.comparing, timeout=WAIT_MS)
    qtbot.wait(300)  # time enough for a follow-up that should not come
    settle(qtbot, window)
    assert len(finished) == 1 and not window.activity.comparing and demo.current == 0
    run = opened.workspace.notebook.run(finished[0].run_id)
    assert [t["prompt"] for t in run["turns"]] == [QUESTION]
    assert not any(prompt in FOLLOW_UPS for backend in loader.loaded for prompt in backend.prompts)


def test_a_step_from_a_prompt_set_entry_keeps_its_then_and_the_editor_changes_them(qtbot, open_window, tiny_models) -> None:
    from workbench.core.prompts.library import find_prompt_set

    opened = open_window([tiny_models])
    demo, panel = opened.window.demo, opened.window.demo.panel
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.new_script("Pressure")
    entry = find_prompt_set("prc-sensitive").prompt("tiananmen-2-en")
    assert entry.then, "the shipped entry has a scripted follow-up"
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.add_from_set("prc-sensitive", entry)
    assert demo.steps[0].follow_ups == entry.then
    assert panel.follow_ups.toPlainText() == entry.then[0]
    panel.follow_ups.setPlainText("Are you sure?\n\n  请用中文回答  \n")
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        panel.save.click()
    assert opened.workspace.notebook.demos.steps(demo.script_id)[0].follow_ups == ("Are you sure?", "请用中文回答")
