"""The window's task queues: results come back on the GUI thread, and a closed queue runs nothing."""

from __future__ import annotations

import threading

from workbench.ui.shared.tasks import TaskQueue


def test_a_job_runs_off_the_gui_thread_and_its_result_comes_back_on_it(qtbot, tasks: TaskQueue) -> None:
    queue = tasks
    results: list[tuple[str, threading.Thread]] = []
    queue.submit(lambda: threading.current_thread(), lambda worker: results.append((worker.name, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    worker_name, delivered_on = results[0]
    assert worker_name != threading.main_thread().name and delivered_on is threading.main_thread()


def test_a_closed_queue_runs_what_was_queued_and_nothing_after(qtbot, tasks: TaskQueue) -> None:
    """The window closes its queues before the notebook: a job asked for later (by a signal
    still on its way) must not run against a closed notebook."""
    queue = tasks
    ran: list[str] = []
    queue.submit(lambda: ran.append("before"))
    assert queue.close(5000)
    queue.submit(lambda: ran.append("after"))
    assert queue.close(5000)  # nothing left to run: it would have run by now
    assert ran == ["before"]
    qtbot.waitUntil(lambda: not queue.busy, timeout=5000)  # the first job's result delivered
