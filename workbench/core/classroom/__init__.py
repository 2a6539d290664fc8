"""Classroom mode (issue 7): audience votes on a run, and demo scripts. Qt-free."""
