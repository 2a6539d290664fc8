"""The two kinds of failure the workbench distinguishes.

`EnvironmentProblem` is something the user's machine or files did (a broken
model file, a full disk, a damaged notebook, a model process that crashed).
It carries a message written for the user that says what to do, and the
front ends show it without a traceback. Anything else that escapes is a bug
in the workbench and is reported as one.
"""


class EnvironmentProblem(Exception):
    """The environment, not the workbench, caused this; `str()` is for the user."""


class ModelFileProblem(EnvironmentProblem):
    """A model file is missing, damaged, hostile or not a model."""


class NotebookProblem(EnvironmentProblem):
    """The notebook can't be opened or written (damaged, newer, locked, disk full)."""


class ModelProcessProblem(EnvironmentProblem):
    """A model's own process failed to start, crashed, or refused a request."""
