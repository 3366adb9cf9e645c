"""CLI: ``mapsearch calibrate`` (the model's similarity bar, from a gold set; docs/search.md
"Honest result sets") and ``mapsearch calibrate-steering`` (the default modifier weight, from a
development collection; docs/search.md "Modifiers"), both written beside the model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from webapi.cli.common import data_dir_option, friendly_errors, require_index, services_for

if TYPE_CHECKING:
    from indexer.calibration import Calibration

# Words no map catalogue holds, reported next to the bar so a reader sees that they fall below it.
NONSENSE_QUERIES = ("zzzqqq", "qwxzv plomf", "asdfghjkl")


def read_calibration(directory: Path) -> Calibration | None:
    """The calibration already in ``directory`` (imported late: the CLI starts fast)."""
    from indexer.calibration import read_calibration as read

    return read(directory)


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
        from indexer.calibration import Calibration
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
        if out_dir is not None:
            # a steering calibration of the same model already there is kept
            kept = read_calibration(out_dir)
            if kept is not None and kept.model_id == calibration.model_id:
                calibration = replace(
                    calibration, modifier_weight=kept.modifier_weight, steering=kept.steering
                )
        _write(calibration, out_dir)

    @cli.command("calibrate-steering")
    @data_dir_option
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Add modifier_weight to calibration.json in this folder (default: print only).",
    )
    @click.option("--word", default="grayscale", show_default=True, help="The modifier's text.")
    @click.option(
        "--attribute",
        default="colour_scheme=grayscale",
        show_default=True,
        help="The ground-truth ATTRIBUTE=VALUE the word should steer to.",
    )
    @click.option("--maps", default=40, show_default=True, help="Query maps (without the value).")
    @click.option("--seed", default=0, show_default=True, help="Which query maps are drawn.")
    @friendly_errors
    def calibrate_steering_command(
        data_dir: Path | None,
        out_dir: Path | None,
        word: str,
        attribute: str,
        maps: int,
        seed: int,
    ) -> None:
        """Calibrate the default modifier weight on a development collection (a demo data dir
        with ground_truth.jsonl, never the held-out gold collection)."""
        from indexer.calibration import Calibration
        from indexer.evaluation.steering import (
            NEAR_BEST,
            default_weight,
            query_maps,
            steering_curve,
        )
        from indexer.synthetic import read_ground_truth
        from webapi.search.params import SearchParams

        name, sep, value = attribute.partition("=")
        if not sep or not name or not value:
            raise click.BadParameter("give ATTRIBUTE=VALUE", param_hint="--attribute")
        services = services_for(data_dir)
        require_index(services)
        truth = read_ground_truth(services.settings.data_dir)
        if not truth:
            raise click.ClickException(
                f"{services.settings.data_dir} has no ground_truth.jsonl (a `mapsearch demo` dir)"
            )
        chosen = query_maps(truth, name, value, maps, seed)

        def steered(doc_id: str, modify: list[str]) -> list[str]:
            params = SearchParams(
                image_id=doc_id, modify=modify, mode="semantic", size=11, min_similarity=-1
            )
            hits = services.search.search(params, image=None).hits
            return [hit.id for hit in hits if hit.id != doc_id]

        curve = steering_curve(steered, truth, chosen, word, (name, value))
        choice = default_weight(curve)
        model_id = str(services.backend.model_id())
        steering = {
            "method": (
                f"mapsearch calibrate-steering --word {word} --attribute {attribute} --maps "
                f"{len(chosen)} --seed {seed}: 'this map + {word}:w' (semantic) for {len(chosen)} "
                f"maps without {attribute}; the smallest w whose top-10 share of {attribute} maps "
                f"of the query map's kind is within {NEAR_BEST:g} of the best"
            ),
            "collection": f"{services.settings.data_dir.name}: {len(truth)} maps",
            "curve": [
                {
                    "weight": point.weight,
                    "attribute_share": round(point.attribute_share, 3),
                    "same_kind_share": round(point.same_kind_share, 3),
                }
                for point in curve
            ],
        }
        existing = read_calibration(out_dir) if out_dir is not None else None
        base = (
            existing
            if existing is not None and existing.model_id == model_id
            else Calibration(model_id=model_id, min_similarity=-1.0)
        )
        _write(replace(base, modifier_weight=choice.weight, steering=steering), out_dir)
        for point in curve:
            click.echo(
                f"weight {point.weight:>5g}: {point.attribute_share:6.1%} {value}, "
                f"{point.same_kind_share:6.1%} {value} and same kind",
                err=True,
            )
        click.echo(f"default modifier weight: {choice.weight:g}", err=True)


def _write(calibration: Calibration, out_dir: Path | None) -> None:
    """Print the calibration, and write it into ``out_dir`` when given."""
    from indexer.calibration import CALIBRATION_FILE

    click.echo(calibration.to_json(), nl=False)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / CALIBRATION_FILE).write_text(calibration.to_json(), encoding="utf-8")
        click.echo(f"wrote {out_dir / CALIBRATION_FILE}", err=True)


def _median(values: object) -> float:
    import numpy as np

    array = np.asarray(values, np.float64)
    return float(np.median(array)) if array.size else float("nan")
