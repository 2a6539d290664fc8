"""What starting `workbench` imports (issue 20): `--help` nothing heavy, a model process
only the worker's needs, and every command still there, built only when asked for.

The figures (seconds) are `make bench`'s startup section; these tests hold the cause,
the modules loaded, which a slow or busy machine doesn't change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cli_process import ROOT, env, in_process

from workbench.cli.main import COMMANDS

# Slow to import, and needed by some commands only: none may load for `--help`.
HEAVY = (
    "numpy", "sqlite3", "sqlite_utils", "openai", "httpx", "httpx2", "keyring", "jinja2", "markdown", "nh3",
    "PySide6", "shiboken6", "gguf", "psutil", "llama_cpp",
    "workbench.ui", "workbench.core.notebook", "workbench.core.analysis", "workbench.core.catalog",
    "workbench.core.comparison", "workbench.core.workspace", "workbench.core.endpoints", "workbench.core.export",
    "workbench.cli.render",
)  # fmt: skip
# What a model process must not load before llama.cpp: the front ends and what only they use.
NOT_IN_A_MODEL_PROCESS = (
    "workbench.cli", "workbench.ui", "workbench.core.notebook", "workbench.core.analysis", "workbench.core.catalog",
    "workbench.core.endpoints", "workbench.core.export", "PySide6", "numpy", "sqlite_utils", "openai", "keyring",
)  # fmt: skip


def loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    """The modules among `modules` that are, or are inside, one of `prefixes`."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


# `python -m workbench ARGS` as it runs, then every module it loaded, as its last line on
# stderr. (`-X importtime` would miss the command modules: it sees `import` statements,
# not importlib.import_module.)
LIST_MODULES = (
    "import atexit, json, runpy, sys; "
    "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr)); "
    "runpy.run_module('workbench', run_name='__main__', alter_sys=True)"
)


def imported_by(*argv: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `workbench *argv` (as `python -m workbench`); its result and every module it loaded."""
    done = subprocess.run([sys.executable, "-c", LIST_MODULES, *argv], capture_output=True, text=True, env=env(), timeout=120)
    return done, json.loads(done.stderr.splitlines()[-1])


def test_help_imports_only_the_command_table() -> None:
    done, modules = imported_by("--help")
    assert done.returncode == 0, done.stderr
    assert "workbench.cli.main" in modules  # the import list was read
    assert loaded(modules, HEAVY) == []
    assert loaded(modules, tuple(f"workbench.cli.{c.module}" for c in COMMANDS.values())) == []


def test_a_command_imports_its_own_module_only() -> None:
    done, modules = imported_by("diff", "--help")
    assert done.returncode == 0, done.stderr
    assert "workbench.cli.cmd_diff" in modules
    assert loaded(modules, ("workbench.cli.cmd_compare", "workbench.cli.cmd_endpoint", "workbench.cli.cmd_batch", "openai", "PySide6")) == []


def test_help_lists_every_command_once_with_its_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        in_process("--help")
    assert exited.value.code == 0
    listing = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines to the terminal
    for name, command in COMMANDS.items():
        assert listing.count(f" {name} {' '.join(command.help.split())}") == 1, name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_builds_its_parser_when_asked(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        in_process(name, "--help")
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: workbench {name} ")
    assert "options:" in shown


def test_an_unknown_command_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        in_process("compair", "hello")
    assert exited.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert "invalid choice: 'compair'" in error
    assert all(f"'{name}'" in error for name in COMMANDS)


def test_options_before_and_after_the_command_still_meet() -> None:
    from workbench.cli.main import parse

    args = parse(["--folder", "a", "--db", "x.sqlite", "models", "--folder", "b", "--json"])
    assert (args.command, [str(f) for f in args.folder], str(args.db), args.json) == ("models", ["a", "b"], "x.sqlite", True)


def test_the_model_process_entry_imports_no_front_end_and_no_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, workbench.core.engine.model_process; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, env=env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modules = done.stdout.split()
    assert "workbench.core.engine.model_process" in modules
    assert loaded(modules, NOT_IN_A_MODEL_PROCESS + ("jinja2", "llama_cpp")) == []  # those two load inside the child, when used


# pip's console script, as it writes one for [project.scripts] (its import at the top is
# the point), with a spawned child that reports what it holds once it has imported the
# model process's entry: what a model process of the installed `workbench` loads before llama.cpp.
CONSOLE_SCRIPT = """\
import json
import sys
from {module} import {function}


def report(conn):
    import workbench.core.engine.model_process

    conn.send(sorted(sys.modules))


if __name__ == "__main__":
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=report, args=(theirs,))
    child.start()
    print(json.dumps(ours.recv()))
    child.join()
"""


def test_a_model_process_of_the_installed_command_loads_only_its_entry(tmp_path: Path) -> None:
    """Spawn runs the parent's main script again in every child (as __mp_main__): the
    `workbench` script's entry module must be light, or each model process loads the CLI."""
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["workbench"]
    module, function = entry.split(":")
    script = tmp_path / "workbench"
    script.write_text(CONSOLE_SCRIPT.format(module=module, function=function))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env(), timeout=120)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert "__mp_main__" in modules and module in modules  # the script ran again in the child
    assert loaded(modules, NOT_IN_A_MODEL_PROCESS) == []


def test_the_notebook_and_the_comparison_load_no_detectors() -> None:
    """The detectors (the classifier, a few hundred rules) load when an answer is flagged or
    while a model loads (flagging.warm_up), not with the notebook's search or the comparison;
    the gguf package only when a header is read, not for a catalog served from its cache."""
    code = (
        "import json, sys; import workbench.core.notebook, workbench.core.comparison, workbench.core.batch; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=120)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert loaded(modules, ("workbench.core.analysis.flags", "workbench.core.analysis.compliance", "gguf")) == []
    assert "workbench.core.analysis.flag_names" in modules  # the names alone
