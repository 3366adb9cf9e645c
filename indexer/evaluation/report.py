"""Markdown and JSON reports of evaluation runs (and of a comparison between two)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from indexer.evaluation.runner import Change, EvalRun

COLUMNS = ("p@10", "ndcg@10", "mrr", "recall@10", "recall@100")


def markdown_report(
    runs: Sequence[EvalRun], changes: Sequence[Change] | None = None, title: str = "Search quality"
) -> str:
    """One table per run (rows: query type and type/variant), then the changed queries."""
    lines = [f"# {title}", ""]
    for run in runs:
        lines += [f"## mode={run.mode}, fusion={run.fusion}, model={run.model_id}", ""]
        lines += [
            "| queries | n | " + " | ".join(COLUMNS) + " |",
            "|---|---|" + "---|" * len(COLUMNS),
        ]
        for group, metrics in run.summary().items():
            cells = " | ".join(f"{metrics.get(c, float('nan')):.3f}" for c in COLUMNS)
            lines.append(f"| {group} | {int(metrics['queries'])} | {cells} |")
        errors = [r for r in run.results if r.error]
        if errors:
            lines += [
                "",
                f"{len(errors)} queries refused, e.g. `{errors[0].id}`: {errors[0].error}",
            ]
        lines.append("")
    if changes is not None:
        lines += [
            f"## Top-10 changes ({len(changes)} queries differ)",
            "",
            "| query | type | overlap | nDCG@10 A → B | only in A | only in B |",
            "|---|---|---|---|---|---|",
        ]
        for c in changes:
            lines.append(
                f"| {c.id} | {c.type} | {c.overlap}/10 | {c.ndcg_a:.3f} → {c.ndcg_b:.3f} | "
                f"{', '.join(c.only_a[:4])} | {', '.join(c.only_b[:4])} |"
            )
        lines.append("")
    return "\n".join(lines)


def json_report(runs: Sequence[EvalRun], changes: Sequence[Change] | None = None) -> dict[str, Any]:
    """Runs (with every ranking) and changes, JSON-ready; ``--compare`` accepts this back."""
    from dataclasses import asdict

    return {
        "runs": [r.to_json() for r in runs],
        "changes": [asdict(c) for c in changes] if changes is not None else None,
    }
