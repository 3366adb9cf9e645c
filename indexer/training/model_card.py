"""The model card written next to every checkpoint: data, settings, before/after metrics."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"


def _metrics_table(before: dict[str, float], after: dict[str, float]) -> list[str]:
    lines = ["| metric | before | after |", "|---|---|---|"]
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        lines.append(
            f"| {name} | {'' if b is None else f'{b:.3f}'} | {'' if a is None else f'{a:.3f}'} |"
        )
    return lines


def write_model_card(
    out_dir: str | Path,
    *,
    model_id: str,
    title: str,
    data: dict[str, Any],
    settings: dict[str, Any],
    model_cfg: dict[str, Any],
    before: dict[str, float],
    after: dict[str, float],
    history: list[dict[str, Any]],
    notes: list[str] | None = None,
) -> Path:
    """Write ``MODEL_CARD.md`` and ``metrics.json`` into ``out_dir``; returns the card's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# {title}",
        "",
        f"- model id: `{model_id}`",
        f"- written: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, torch "
        f"{torch.__version__}, {platform.machine()}",
        "",
        "## Data",
        "",
        *[f"- {k}: {v}" for k, v in data.items()],
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(settings, indent=2, default=str),
        "```",
        "",
        "Model config (open_clip):",
        "",
        "```json",
        json.dumps(model_cfg, indent=2),
        "```",
        "",
        "## Validation metrics (held-out caption pairs), before and after training",
        "",
        *_metrics_table(before, after),
        "",
        "## Epochs",
        "",
        "| epoch | steps | train loss | val recall@10 | val attr_p@10 | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for h in history:
        val = h.get("val", {})
        lines.append(
            f"| {h['epoch']} | {h['steps']} | {h['train_loss']:.3f} | "
            f"{val.get('recall@10', float('nan')):.3f} "
            f"| {val.get('attr_p@10', float('nan')):.3f} | {h['seconds']} |"
        )
    if notes:
        lines += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    card = out / CARD_FILE
    card.write_text("\n".join(lines) + "\n")
    (out / METRICS_FILE).write_text(
        json.dumps(
            {
                "model_id": model_id,
                "before": before,
                "after": after,
                "history": history,
                "data": data,
                "settings": settings,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return card
