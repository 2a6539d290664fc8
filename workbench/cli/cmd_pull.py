"""`workbench pull`: download a curated model (`pull NAME`) or any GGUF on the hub
(`pull OWNER/REPO FILE`) into the workbench's models folder (core/downloads).

Progress goes to stderr: one redrawn line with speed and time left on a terminal, a
plain line every few seconds otherwise (no control characters in a log). Ctrl+C stops
the download and keeps what arrived; the same command resumes it. Exit status: 0 only
when the file's SHA-256 matched the hub's and it is in the models folder; 1 with one
line on stderr when the hub, the network or the disk got in the way; 130 after Ctrl+C;
2 for a misused command line. `--list --json` and `--json` print objects whose keys
are only ever added to (README).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from ..core.catalog.catalog import Catalog
from ..core.downloads.curated import CuratedModel, curated_models
from ..core.downloads.hub import DownloadCancelled, Downloaded, Progress, format_bytes, format_seconds, hub_endpoint, pull
from ..core.engine.cancel import Cancel
from . import render
from .terminal import CLEAR_LINE, control, json_text
from .interrupt import run_cancellable

LOG_EVERY_S = 5.0  # a progress line this often when stderr is not a terminal
EXIT_INTERRUPTED = 130


def add_pull(subparsers: Any) -> None:
    """Add `pull` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    pull_parser = subparsers.add_parser("pull")
    pull_parser.add_argument("model", nargs="?", metavar="NAME_OR_REPO", help="a curated name (see --list), or OWNER/REPO followed by FILE")
    pull_parser.add_argument("file", nargs="?", metavar="FILE", help="with OWNER/REPO: the .gguf file in that repository")
    pull_parser.add_argument("--list", action="store_true", help="list the curated models, in pairs, with size, memory, licence and origin")
    pull_parser.add_argument(
        "--mirror", metavar="URL",
        help="a Hugging Face mirror, e.g. https://hf-mirror.com (default: HF_ENDPOINT, else https://huggingface.co)",
    )  # fmt: skip
    pull_parser.add_argument("--json", action="store_true", help="print JSON (the list, or the finished download)")
    pull_parser.set_defaults(func=cmd_pull)


def cmd_pull(args: argparse.Namespace) -> int:
    if args.list:
        if args.model or args.file:
            return _misuse("--list takes no model: `workbench pull --list`")
        return _print_list(args.json)
    if not args.model:
        return _misuse("name a model: `workbench pull NAME` (see `workbench pull --list`) or `workbench pull OWNER/REPO FILE.gguf`")
    if args.file:
        repo, file = args.model, args.file
    elif "/" in args.model:
        return _misuse(f"give the file too: `workbench pull {args.model} FILE.gguf` (the repository's .gguf files are on its Files page)")
    else:
        model = curated_models().find(args.model)
        repo, file = model.repo, model.file
    endpoint = hub_endpoint(args.mirror)
    meter = _Meter(sys.stderr, f"{repo}/{file} from {endpoint}:")

    def work(cancel: Cancel) -> Downloaded:
        return pull(repo, file, mirror=endpoint, progress=meter.show, cancel=cancel)

    try:
        done, _ = run_cancellable(work, lambda: print("\nStopping; what arrived is kept …", file=sys.stderr))
    except DownloadCancelled as stopped:
        meter.end()  # before the message, so it starts a line of its own
        print(f"workbench: interrupted: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        meter.end()
    _print_done(done, args.json)
    return 0


def _misuse(message: str) -> int:
    print(f"workbench pull: {message}", file=sys.stderr)
    return 2


def _print_list(as_json: bool) -> int:
    curated = curated_models()
    if as_json:
        pairs = [{"id": p.id, "title": p.title, "demo": p.demo, "models": [m.name for m in curated.in_pair(p.id)]} for p in curated.pairs]
        print(json_text({"pairs": pairs, "models": [m.to_json() for m in curated.models]}))
        return 0
    for pair in curated.pairs:
        print(f"{pair.title}\n  {pair.demo}")
        for model in curated.in_pair(pair.id):
            print(f"  {_model_line(model)}")
        print()
    print("Download one with `workbench pull NAME`; any other GGUF with `workbench pull OWNER/REPO FILE.gguf`.")
    print("Sizes marked ~ are approximate; the download checks the hub's own size and SHA-256.")
    return 0


def _model_line(model: CuratedModel) -> str:
    size = ("~" if model.approximate else "") + format_bytes(model.size_bytes)
    base = f", base {model.base}" if model.base else ""
    return f"{model.name:<30} {model.country}  {model.maker}{base}  {model.quant} {size}, needs ~{model.memory_gb:g} GB RAM  {model.licence}\n      {model.note}"


def _print_done(done: Downloaded, as_json: bool) -> None:
    """What arrived and how the library lists it (its id and origin, from a scan of the
    workbench's own folders)."""
    entry = next((e for e in Catalog(include_other_apps=False).scan() if e.path == done.path), None)
    if as_json:
        remote = done.remote
        print(json_text({
            "path": str(done.path), "repo": remote.repo, "file": remote.file, "endpoint": remote.endpoint,
            "commit": remote.commit, "sha256": remote.sha256, "size_bytes": remote.size,
            "resumed_from": done.resumed_from, "already_there": done.already_there,
            "model_id": entry.id if entry else None,
            "maker": entry.origin.maker if entry else None, "country": entry.origin.country if entry else None,
        }))  # fmt: skip
        return
    said = "was already there, SHA-256 checked" if done.already_there else "downloaded, SHA-256 matches the hub's"
    print(f"{done.remote.repo}/{done.remote.file} {said} ({format_bytes(done.remote.size)}): {done.path}")
    if entry is not None:
        print(f"In the library as {entry.id} ({render.origin_label(entry)}): `workbench compare --model {entry.id} …`")


class _Meter:
    """Progress on stderr: redrawn in place on a terminal, else a plain line now and then.
    The title comes with the first report, so a refusal before any byte is one line."""

    def __init__(self, stream: TextIO, title: str) -> None:
        self.stream = stream
        self.title: str | None = title
        self.live = stream.isatty()
        self.last = 0.0
        self.drawn = False

    def show(self, progress: Progress) -> None:
        now = time.monotonic()
        finished = progress.done >= progress.total
        if not self.live and now - self.last < LOG_EVERY_S and not (finished and progress.stage == "verify"):
            return
        self.last = now
        if self.title is not None:
            print(self.title, file=self.stream)
            self.title = None
        line = progress_line(progress)
        if self.live:
            control(self.stream, CLEAR_LINE)
            self.stream.write(line)
            self.drawn = True
        else:
            print(line, file=self.stream)
        self.stream.flush()

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False


def progress_line(progress: Progress) -> str:
    """'  41% 812.4 MB of 2.0 GB, 11.3 MB/s, 1 min 45 s left (resumed at 200.0 MB)'."""
    share = 100 * progress.done / progress.total if progress.total else 100
    if progress.stage == "verify":
        return f"  checking SHA-256: {share:3.0f}% of {format_bytes(progress.total)}"
    parts = [f"  {share:3.0f}% {format_bytes(progress.done)} of {format_bytes(progress.total)}"]
    if progress.bytes_per_s is not None:
        parts.append(f"{format_bytes(progress.bytes_per_s)}/s")
    if progress.seconds_left is not None:
        parts.append(f"{format_seconds(progress.seconds_left)} left")
    resumed = f" (resumed at {format_bytes(progress.resumed_from)})" if progress.resumed_from else ""
    return ", ".join(parts) + resumed
