"""Short texts about models, settings and times, the same in every view.

Flag-free on purpose: origin is shown as "CN · Alibaba (Qwen team)", which
reads the same on every system and never implies more than the catalog's
evidence says.
"""

from __future__ import annotations

import html
from datetime import datetime

from ...core.catalog import ModelEntry, Origin
from ...core.engine.params import ALL_LAYERS, DEFAULT_SWITCH, GenerationParams

UNKNOWN_ORIGIN = "origin unknown"
# What the views that name a run's models (History, Search, the demo panel, the notes
# dock) say instead while a blind comparison is on: the room sees them too.
MODELS_HIDDEN = "models hidden (blind comparison)"

COUNTRY_NAMES = {
    "AE": "United Arab Emirates",
    "CA": "Canada",
    "CN": "China",
    "FR": "France",
    "GB": "United Kingdom",
    "KR": "South Korea",
    "SG": "Singapore",
    "US": "United States",
}


def country_name(code: str | None) -> str:
    if not code:
        return "Unknown origin"
    return f"{code} · {COUNTRY_NAMES[code]}" if code in COUNTRY_NAMES else code


def origin_text(origin: Origin) -> str:
    """"CN · Alibaba (Qwen team)", with the base model's origin when it differs."""
    if origin.maker is None and origin.country is None:
        text = UNKNOWN_ORIGIN
    else:
        text = " · ".join(part for part in (origin.country or "??", origin.maker) if part)
    if origin.base_maker and origin.base_maker != origin.maker:
        text += f" (built on {origin.base_country or '??'} · {origin.base_maker})"
    return text


def local_time(iso_utc: str | None) -> str:
    """"2026-11-28 15:04" in the user's time zone, from the notebook's UTC timestamp."""
    if not iso_utc:
        return "?"
    try:
        return datetime.fromisoformat(iso_utc).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso_utc


def cut(text: str, chars: int) -> str:
    """`text` on one line, at most `chars` characters, with an ellipsis where it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def recorded_origin_text(country: str | None, maker: str | None = None) -> str:
    """The same, for a response read back from the notebook (which keeps country and maybe maker)."""
    if not country and not maker:
        return UNKNOWN_ORIGIN
    return " · ".join(part for part in (country or "??", maker) if part)


def file_size_text(size: int | None) -> str:
    if not size:
        return "?"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size < 10 * scale else f"{size / scale:.0f} {unit}"
    return f"{size} B"


def parameters_text(count: int | None) -> str:
    if not count:
        return "?"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{unit}" if count < 10 * scale else f"{count / scale:.0f}{unit}"
    return str(count)


def remote_badge(entry: ModelEntry) -> str:
    """"remote · lab": what marks a model served by an endpoint wherever models are listed."""
    return f"remote · {entry.endpoint}"


def badged_name(entry: ModelEntry) -> str:
    """The model's name, with "(remote · lab)" after a remote one's: lists of models to choose from."""
    return f"{entry.name} ({remote_badge(entry)})" if entry.remote else entry.name


def model_facts(entry: ModelEntry) -> str:
    """"Q4_K_M · 494M params · 491 MB · context 32768", "remote · lab · Qwen/Qwen2.5-72B-Instruct",
    or why the model can't load."""
    if entry.remote:
        return f"{remote_badge(entry)} · {entry.model_id}"
    meta = entry.metadata
    if meta is None:
        return entry.status
    parts = [
        meta.quantization or "quantization ?",
        f"{meta.size_label or parameters_text(meta.parameters)} params",
        file_size_text(meta.file_size),
    ]
    if meta.context_length:
        parts.append(f"context {meta.context_length}")
    return " · ".join(parts)


def entry_label(entry: ModelEntry) -> str:
    """The one line a model picker shows."""
    label = f"{badged_name(entry)} — {origin_text(entry.origin)}"
    return label if entry.ok else f"{label} (can't load: {entry.status})"


def params_summary(params: GenerationParams) -> str:
    return (
        f"temperature {params.temperature:g} · top-p {params.top_p:g} · max {params.max_tokens} tokens · "
        f"seed {params.seed} · context {params.n_ctx} · {params.n_threads} thread{'s' if params.n_threads != 1 else ''}"
        + (f" · thinking {params.thinking}" if params.thinking != DEFAULT_SWITCH else "")
        + (f" · reasoning effort {params.reasoning_effort}" if params.reasoning_effort != DEFAULT_SWITCH else "")
        + (f" · GPU layers {params.gpu_layers}" if params.gpu_layers != ALL_LAYERS else "")
    )


def tooltip(text: str) -> str:
    """A tooltip for untrusted text. Qt guesses whether a tooltip is rich text; wrapping the
    escaped text in a paragraph makes the guess "rich" and the content inert."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"
