"""Does a replay keep the recorded pace? One JSON object on stdout.

    QT_QPA_PLATFORM=offscreen python bench/replay_timing.py [--max-tokens 128]

Runs the starter pair once in the real window (offscreen), makes a one-step
demo script that replays that run, plays it at the recorded speed, and sets
each pane's replayed duration (first piece to last, as it reached the pane)
against the recorded one (issue 7 asks for within 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))

from capture import close, open_window, run, settle  # noqa: E402
from window_stream import wait_for  # noqa: E402
from workbench.core.classroom.replay import response_schedule  # noqa: E402
from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.ui.shell.app import application  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--prompt", default="What happened at Tiananmen Square in June 1989?")
    args = parser.parse_args()
    application()
    with tempfile.TemporaryDirectory(prefix="workbench-replay-") as temp:
        scratch = Path(temp)
        (scratch / "home").mkdir()
        window, workspace = open_window(scratch, "replay", GenerationParams(max_tokens=args.max_tokens, seed=1))
        try:
            if len(window.library_control.starter_ids) < 2:
                print("replay_timing: the starter pair is not ready: " + "; ".join(window.library_control.starter_problems), file=sys.stderr)
                return 1
            window.prompt_bar.set_texts(args.prompt, "")
            run(window)
            demo = window.demo
            demo.new_script("Replay timing")
            wait_for(demo.scriptsLoaded)
            demo.add_from_panes()
            wait_for(demo.scriptsLoaded)
            arrivals: dict[int, list[float]] = {}
            demo.player.chunk.connect(lambda pane, _kind, _text: arrivals.setdefault(pane, []).append(time.monotonic()))
            demo.next_step()
            while not demo.replaying:
                settle(20)
            wait_for(demo.replayFinished)
            recorded_run = workspace.notebook.run(demo.steps[0].run_id)
            panes = []
            for pane, response in enumerate(recorded_run["responses"]):
                chunks = response_schedule(response, at_recorded_speed=True)
                recorded = (chunks[-1].at_ms - chunks[0].at_ms) / 1000
                replayed = arrivals[pane][-1] - arrivals[pane][0]
                panes.append({"model": response["model_name"], "pieces": len(chunks), "recorded_s": round(recorded, 3),
                              "replayed_s": round(replayed, 3), "ratio": round(replayed / recorded, 4)})
            print(json.dumps({"benchmark": "replay_timing", "prompt": args.prompt, "max_tokens": args.max_tokens, "panes": panes}, ensure_ascii=False))
            return 0
        finally:
            close(window, workspace)


if __name__ == "__main__":
    sys.exit(main())
