"""One question asked in English and in Chinese, written by hand: the runs the language grid,
its view and the reports' language tables are tested on."""

from __future__ import annotations

from collections.abc import Mapping

PROMPTS = {"en": "What happened in June 1989?", "zh": "1989年6月发生了什么？"}


def add_language_pair(notebook, answers: Mapping[str, Mapping[str, str]], *, link: bool = True) -> tuple[int, int]:
    """An English and a Chinese run, `answers[language][model]` their answers in pane order;
    linked as a language shift (by ana) unless `link` is False. Returns (English run, Chinese run)."""
    runs = []
    for language in ("en", "zh"):
        run_id = notebook.create_run(PROMPTS[language], language=language)
        for position, (name, text) in enumerate(answers[language].items()):
            rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=None, seed=1, sampler={})
            notebook.finish_response(rid, text=text, finish_reason="stop")
        runs.append(run_id)
    if link:
        notebook.annotations.link_language_shift(runs[1], runs[0], annotator="ana")
    return runs[0], runs[1]
