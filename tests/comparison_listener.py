"""A `ComparisonListener` that keeps everything a comparison reports, for tests to read."""

from __future__ import annotations


class Listener:
    def __init__(self) -> None:
        self.texts: dict[int, list[str]] = {}
        self.finished = []
        self.problems = []
        self.on_text = None

    def text(self, position, parts):
        self.texts.setdefault(position, []).extend(text for _kind, text in parts)
        if self.on_text:
            self.on_text(position)

    def response_finished(self, outcome):
        self.finished.append(outcome)

    def problem(self, problem):
        self.problems.append(problem)
