"""The menu bar: every action of shared/actions.py, laid out in menus.

The menus are the map of the window's commands, with their shortcuts beside
them; the docks' show/hide toggles sit with the feature they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenuBar

from ..shared.actions import Actions


@dataclass(frozen=True)
class Docks:
    """The window's docks, by the menu that shows or hides them."""

    library: QDockWidget
    history: QDockWidget
    settings: QDockWidget
    sessions: QDockWidget
    search: QDockWidget
    demo: QDockWidget
    notes: QDockWidget


def build_menus(bar: QMenuBar, a: Actions, docks: Docks) -> None:
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.file.get_models, a.file.open_file, a.file.add_folder, a.file.endpoints, a.file.rescan])
    file_menu.addSeparator()
    file_menu.addActions([a.file.export, a.file.import_])
    file_menu.addSeparator()
    file_menu.addAction(a.file.quit)

    edit = bar.addMenu("&Edit")
    edit.addActions([a.annotate.undo, a.annotate.redo])

    run_menu = bar.addMenu("&Run")
    run_menu.addActions([a.run.run, a.run.follow_up, a.run.stop, a.run.rerun])
    run_menu.addSeparator()
    run_menu.addAction(a.run.batches)
    run_menu.addSeparator()
    run_menu.addMenu("Models run").addActions(list(a.run.schedule.values()))

    pane_menu = bar.addMenu("&Panes")
    pane_menu.addActions([a.panes.add_pane, a.panes.remove_pane])
    pane_menu.addSeparator()
    pane_menu.addAction(a.panes.sync_scrolling)

    view = bar.addMenu("&View")
    for dock, shortcut in ((docks.library, "Ctrl+1"), (docks.history, "Ctrl+2"), (docks.settings, "Ctrl+3")):
        toggle = dock.toggleViewAction()
        toggle.setShortcut(QKeySequence(shortcut))
        view.addAction(toggle)
    view.addSeparator()
    view.addActions([a.view.bigger, a.view.smaller, a.view.reset_size])
    view.addMenu("Theme").addActions(list(a.view.theme.values()))
    view.addSeparator()
    view.addAction(a.view.focus_prompt)
    view.addSeparator()
    view.addActions([a.side_by_side.difference, a.side_by_side.languages])
    p = a.present
    view.addSeparator()
    view.addActions([p.present, p.blind, p.reveal_all])
    view.addMenu("Reveal one pane").addActions(p.reveal_pane)
    votes = view.addMenu("Audience vote")
    votes.addActions(list(p.add_vote.values()))
    votes.addSeparator()
    votes.addActions(list(p.remove_vote.values()))
    view.addAction(p.show_labels)

    n = a.annotate
    annotate = bar.addMenu("&Annotate")
    annotate.addAction(n.annotator)
    annotate.addSeparator()
    annotate.addMenu("Toggle label (number keys)").addActions(n.label_keys)
    annotate.addActions([n.accept_flags, n.highlight, n.pane_note])
    annotate.addSeparator()
    annotate.addMenu("Divergence").addActions(list(n.rate.values()))
    annotate.addActions([n.summary, n.run_note])
    annotate.addSeparator()
    annotate.addActions([n.next_pane, n.previous_pane, n.next_run, n.previous_run])
    annotate.addSeparator()
    annotate.addActions([n.labels, n.find])
    annotate.addActions([docks.sessions.toggleViewAction(), docks.search.toggleViewAction()])
    annotate.addSeparator()
    annotate.addAction(n.reflag)

    d = a.demo
    demo = bar.addMenu("&Demo")
    demo.addActions([d.new, d.next, d.previous])
    demo.addSeparator()
    demo.addActions(list(d.speed.values()))
    demo.addSeparator()
    demo.addActions([d.export, d.import_])
    demo.addSeparator()
    demo.addActions([docks.demo.toggleViewAction(), docks.notes.toggleViewAction()])
