"""CLI: ``mapsearch calibrate``, deriving the model's similarity bar from a gold set and writing
it beside the model (docs/search.md "Honest result sets")."""

from __future__ import annotations

from pathlib import Path

import click

from webapi.cli.common import data_dir_option, friendly_errors, require_index, services_for

# Words no map catalogue holds, reported next to the bar so a reader sees that they fall below it.
NONSENSE_QUERIES = ("zzzqqq", "qwxzv plomf", "asdfghjkl")


def register(cli: click.Group) -> None:
    """Add ``calibrate`` to the CLI group."""

    @cli.command("calibrate")
    @click.argument("gold", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @data_dir_option
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Write calibration.json into this folder (the model's own; default: print only).",
    )
    @click.option(
        "--min-grade",
        type=click.IntRange(1, 2),
        default=2,
        show_default=True,
        help="Lowest judgement that counts as a match (2: fully relevant).",
    )
    @friendly_errors
    def calibrate_command(
        gold: Path, data_dir: Path | None, out_dir: Path | None, min_grade: int
    ) -> None:
        """Calibrate the model's similarity bar on a gold set."""
        from indexer.backends.base import BackendQuery
        from indexer.calibration import CALIBRATION_FILE, Calibration
        from indexer.evaluation.calibration import best_threshold, split_scores
        from indexer.evaluation.gold import load_gold

        try:
            queries = [q for q in load_gold(gold) if q.type == "text"]
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if not queries:
            raise click.ClickException(f"{gold} has no text queries to calibrate on")
        services = services_for(data_dir)
        require_index(services)
        backend, embedder = services.backend, services.search.embedder()
        documents = backend.info().with_vectors

        def every_score(text: str) -> dict[str, float]:
            vector = embedder.embed_query_text(text)
            result = backend.search(
                BackendQuery(vector=vector, num_candidates=documents, min_similarity=-1.0)
            )
            return {hit.id: hit.score for hit in result.semantic}

        scores = {query.id: every_score(str(query.q)) for query in queries}
        relevant, other = split_scores(queries, scores, min_grade)
        choice = best_threshold(relevant, other)
        nonsense = {
            text: max(every_score(text).values(), default=-1.0) for text in NONSENSE_QUERIES
        }
        calibration = Calibration(
            model_id=str(backend.model_id()),
            min_similarity=round(choice.threshold, 4),
            method=(
                f"mapsearch calibrate {gold.name} --min-grade {min_grade}: the cosine that "
                "maximises "
                f"F1 of judged (grade >= {min_grade}) vs other (text query, map) pairs over "
                f"{len(queries)} text queries x {documents} maps"
            ),
            figures={
                "precision": round(choice.precision, 4),
                "recall": round(choice.recall, 4),
                "f1": round(choice.f1, 4),
                "relevant_pairs": choice.relevant_pairs,
                "other_pairs": choice.other_pairs,
                "relevant_median": round(float(_median(relevant)), 4),
                "other_median": round(float(_median(other)), 4),
                "nonsense_best": {text: round(score, 4) for text, score in nonsense.items()},
            },
        )
        click.echo(calibration.to_json(), nl=False)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / CALIBRATION_FILE).write_text(calibration.to_json(), encoding="utf-8")
            click.echo(f"wrote {out_dir / CALIBRATION_FILE}", err=True)


def _median(values: object) -> float:
    import numpy as np

    array = np.asarray(values, np.float64)
    return float(np.median(array)) if array.size else float("nan")
