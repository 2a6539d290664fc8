"""Facts both reports (Markdown and HTML) show, worded once.

Everything returned here is plain, unescaped text: each writer escapes it
for its own format.
"""

from __future__ import annotations

from typing import Any

from ..analysis.agreement import Agreement, label_agreement, responses_labelled
from .collect import ExportData

TITLE = "Model Values Workbench report"
# Answers at most this long, and at most this many per run, go side by side in Markdown.
SIDE_BY_SIDE_CHARS = 240
SIDE_BY_SIDE_MODELS = 4
SAMPLER_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "n_ctx")


def model_heading(response: dict[str, Any], models: dict[str, dict[str, Any]]) -> str:
    """"SmolLM2 (HuggingFaceTB, US) · Q4_1": who made the model and where."""
    model = models.get(response["model_sha256"] or "", {})
    maker = model.get("maker")
    country = response["origin_country"] or model.get("origin_country")
    who = ", ".join(part for part in (maker, country) if part)
    heading = response["model_name"] + (f" ({who})" if who else "")
    return heading + (f" · {model['quantization']}" if model.get("quantization") else "")


def sampler_summary(response: dict[str, Any]) -> str:
    sampler = response["sampler"]
    parts = [f"seed {response['seed']}"] + [f"{key} {sampler[key]}" for key in SAMPLER_KEYS if key in sampler]
    return ", ".join(parts)


def timing_summary(response: dict[str, Any]) -> str:
    parts = []
    if response["ttft_s"] is not None:
        parts.append(f"first text {response['ttft_s']:.2f} s")
    if response["tokens_per_s"] is not None:
        parts.append(f"{response['tokens_per_s']:.1f} tokens/s")
    if response["completion_tokens"] is not None:
        parts.append(f"{response['completion_tokens']} tokens")
    if response["duration_s"] is not None:
        parts.append(f"{response['duration_s']:.2f} s in all")
    return ", ".join(parts)


def status_summary(response: dict[str, Any]) -> str:
    reason = response["finish_reason"] or response["status"]
    return f"{reason}: {response['error']}" if response["error"] else reason


def span_context(response: dict[str, Any], span: dict[str, Any], around: int = 40) -> tuple[str, str, str]:
    """(before, highlighted, after) for a highlight, from the stored text when it still reads the quote."""
    stored = response[span["field"]] or ""
    start, end = span["start"], span["end"]
    if stored[start:end] != span["quote"]:
        return "", span["quote"], ""
    before = stored[max(0, start - around) : start]
    after = stored[end : end + around]
    return ("…" if start > around else "") + before, span["quote"], after + ("…" if end + around < len(stored) else "")


def label_titles(data: ExportData) -> dict[str, str]:
    return {label["name"]: label["title"] for label in data.labels}


def agreements(data: ExportData) -> list[Agreement]:
    return label_agreement(responses_labelled(data.responses()))


def format_kappa(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"


def provenance_rows(data: ExportData) -> list[tuple[str, str]]:
    """(what, value) lines of the provenance block."""
    header = data.header()
    prov = header["provenance"]
    rows = [
        ("Exported", f"{header['exported_at']} by Model Values Workbench {header['app_version']}"),
        ("Runs made with", ", ".join(prov["app_versions"]) or "unknown"),
        ("llama.cpp", ", ".join(prov["llama_cpp_versions"]) or "unknown"),
        ("Runs", f"{prov['runs']} ({prov['responses']} answers), {prov['first_run_at'] or '–'} to {prov['last_run_at'] or '–'}"),
        ("Annotators", ", ".join(prov["annotators"]) or "none"),
    ]
    for model in prov["models"]:
        templates = ", ".join(model["template_sha256"]) or "unknown"
        rows.append(
            (f"Model {model['name']}", f"SHA-256 {model['sha256'] or 'unknown'}; quantization {model['quantization'] or 'unknown'}; template SHA-256 {templates}")
        )
    return rows
