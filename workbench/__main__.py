"""The `workbench` command's entry point (pyproject's [project.scripts]) and `python -m workbench`.

It imports nothing at the top but `sys`, because every model process loads it
again: multiprocessing's "spawn" re-runs the parent's main script in the child
(as `__mp_main__`), and the `workbench` script pip writes imports this module at
its top. Were that import the command line's, each model process would load the
whole CLI before llama.cpp. The CLI is imported inside `main`, which the
child never calls.
"""

import sys


def main() -> int:
    if getattr(sys, "frozen", False):
        # A frozen (PyInstaller) app's model processes re-run this executable:
        # freeze_support turns such a run into the model worker and exits.
        import multiprocessing

        multiprocessing.freeze_support()
    from workbench.cli.main import main as run_command

    return run_command()


if __name__ == "__main__":
    raise SystemExit(main())
