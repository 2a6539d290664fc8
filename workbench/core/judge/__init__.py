"""A model as judge (issue 14): SpeechMap's rubric, asked of a model the user picks.

`rubric` holds the rubric text (with its source and licence), the prompt and
the verdict parser; `runner` the `Judge`, which stores each verdict as a
label and a note by the annotator `judge:<model name>`. docs/judge.md says
how well the starter models judge, and what to use instead.
"""

from ..notebook.annotations import is_machine_annotator, judge_annotator
from .rubric import LABEL_OF, VERDICTS, Verdict, judge_prompt, parse_verdict
from .runner import DEFAULT_JUDGE_PARAMS, Judge, Judged, JudgeModel, JudgeResult, PooledJudgeModel, Target, batch_targets, run_targets

__all__ = [
    "DEFAULT_JUDGE_PARAMS", "LABEL_OF", "VERDICTS", "Judge", "JudgeModel", "JudgeResult", "Judged", "PooledJudgeModel", "Target",
    "Verdict", "batch_targets", "is_machine_annotator", "judge_annotator", "judge_prompt", "parse_verdict", "run_targets",
]
