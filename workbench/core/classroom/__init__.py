"""Classroom mode (issue 7): demo files to carry a lesson to class, and replaying
recorded answers. Qt-free. The votes and the demo scripts themselves are
notebook tables (core/notebook/votes.py, demos.py), built by the notebook."""
