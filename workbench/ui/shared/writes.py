"""What comes back from a write the notebook refused, for every feature that writes.

A write job on the notebook queue returns `Refused` instead of raising when
the notebook said no for a reason the user can act on (a bad name, a run
that is gone): the queue's failure path is for the environment's problems
(the disk, a locked file), shown as such, while a refusal is worded in the
view that asked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refused:
    """A write the notebook refused for a reason the user can act on (bad name, no such run)."""

    text: str
