"""Running a gold set through the real search path (a function the caller builds over its search
service), scoring each query, aggregating per query type/variant, and comparing two runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from indexer.evaluation.gold import GoldQuery
from indexer.evaluation.metrics import mean_metrics, query_metrics

# The ids of one page of results for a search given as ``SearchParams`` fields. The caller (the
# web layer, which owns the search service) builds it, so evaluation never imports the faces;
# webapi.search.evaluation.page_search is the real one.
PageSearch = Callable[[dict[str, Any]], list[str]]

PAGE_SIZE = 100


@dataclass
class QueryResult:
    """One query's ranking (after ``exclude``) and metrics; ``error`` when the search refused it."""

    id: str
    type: str
    variant: str
    ranking: list[str]
    metrics: dict[str, float]
    error: str | None = None


@dataclass
class EvalRun:
    """All results of one gold set under one mode and fusion."""

    mode: str
    fusion: str
    model_id: str | None
    results: list[QueryResult] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        """``"type/variant"`` and ``"type"`` → mean metrics and query count (errors excluded)."""
        groups: dict[str, list[dict[str, float]]] = defaultdict(list)
        for r in self.results:
            if r.error is None:
                groups[f"{r.type}/{r.variant}"].append(r.metrics)
                groups[r.type].append(r.metrics)
        return {
            name: {**mean_metrics(rows), "queries": float(len(rows))}
            for name, rows in sorted(groups.items())
        }

    def to_json(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "mode": self.mode,
            "fusion": self.fusion,
            "model_id": self.model_id,
            "summary": self.summary(),
            "results": [asdict(r) for r in self.results],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalRun:
        """Inverse of :meth:`to_json`."""
        return cls(
            data["mode"],
            data["fusion"],
            data.get("model_id"),
            [QueryResult(**r) for r in data["results"]],
        )


def search_params(
    query: GoldQuery, mode: str, fusion: str, size: int, page: int = 1
) -> dict[str, Any]:
    """The SearchParams fields for one gold query."""
    return {
        "q": query.q,
        "image_id": query.image_id,
        "mix": query.mix,
        "modify": list(query.modify),
        "mode": mode,
        "fusion": fusion,
        "size": size,
        "page": page,
    }


def run_gold(
    search: PageSearch,
    queries: Sequence[GoldQuery],
    *,
    mode: str = "semantic",
    fusion: str = "rrf",
    depth: int = 100,
    model_id: str | None = None,
) -> EvalRun:
    """Search every query (``depth`` results, excluded ids removed) and score it."""
    run = EvalRun(mode, fusion, model_id)
    for query in queries:
        ranking: list[str] = []
        error = None
        try:
            page = 1
            while len(ranking) < depth + len(query.exclude):
                ids = search(search_params(query, mode, fusion, PAGE_SIZE, page))
                ranking.extend(ids)
                if len(ids) < PAGE_SIZE:
                    break
                page += 1
        except (
            Exception
        ) as exc:  # a refused query (e.g. keyword mode with an image) is reported, not fatal
            error = f"{type(exc).__name__}: {exc}"
        excluded = set(query.exclude)
        ranking = [doc for doc in ranking if doc not in excluded][:depth]
        metrics = query_metrics(ranking, query.relevant) if error is None else {}
        run.results.append(
            QueryResult(query.id, query.type, query.variant, ranking, metrics, error)
        )
    return run


@dataclass
class Change:
    """How one query's top-k differs between run A and run B."""

    id: str
    type: str
    overlap: int
    only_a: list[str]
    only_b: list[str]
    ndcg_a: float
    ndcg_b: float


def compare_runs(a: EvalRun, b: EvalRun, k: int = 10) -> list[Change]:
    """Queries present in both runs whose top-k sets differ, biggest nDCG change first."""
    by_id = {r.id: r for r in b.results}
    changes = []
    for ra in a.results:
        rb = by_id.get(ra.id)
        if rb is None:
            continue
        top_a, top_b = ra.ranking[:k], rb.ranking[:k]
        if top_a == top_b:
            continue
        changes.append(
            Change(
                ra.id,
                ra.type,
                len(set(top_a) & set(top_b)),
                [d for d in top_a if d not in top_b],
                [d for d in top_b if d not in top_a],
                ra.metrics.get("ndcg@10", 0.0),
                rb.metrics.get("ndcg@10", 0.0),
            )
        )
    return sorted(changes, key=lambda c: (-abs(c.ndcg_b - c.ndcg_a), c.id))
