"""CLI: finetune, weaken-model, eval, make-gold, train-demo-model (owned by the model work)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from webapi.cli.common import data_dir_option, friendly_errors

MODES = ("hybrid", "semantic", "keyword")
FUSIONS = ("rrf", "linear")


def _search_service(data_dir: Path | None, model: str | None) -> Any:
    """The real SearchService of the app for ``data_dir`` (and ``model``, when given)."""
    from webapi.app import create_app
    from webapi.services import services_of

    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if model is not None:
        overrides["model"] = model
    if overrides:
        return services_of(create_app(overrides)).search
    return services_of().search


def _print_summary(before: dict[str, float], after: dict[str, float]) -> None:
    for name in ("recall@1", "recall@5", "recall@10", "attr_p@10"):
        if name in before or name in after:
            click.echo(
                f"  {name:<10} {before.get(name, float('nan')):.3f} → "
                f"{after.get(name, float('nan')):.3f}"
            )


threads_option = click.option(
    "--threads",
    type=click.IntRange(1),
    default=None,
    help="CPU threads for torch (default: torch's choice). On a busy shared machine 1 is much "
    "faster: "
    "waiting threads spin and burn the CPU share.",
)


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _echo_epoch(log: Any) -> None:
    val = " ".join(
        f"{k}={v:.3f}"
        for k, v in log.val.items()
        if k in ("recall@10", "t2i_recall@10", "attr_p@10")
    )
    click.echo(
        f"epoch {log.epoch}: {log.steps} steps, loss {log.train_loss:.3f}, {val} "
        f"({log.seconds:.0f} s)"
    )


def _check_geometry(base: str | None, image_size: int | None, patch_size: int | None) -> None:
    """--image-size and --patch-size (or the base's) must tile the input with whole patches:
    refused here, before any training data is drawn."""
    from indexer.training.checkpoint import checkpoint_dir, read_config
    from indexer.training.demo import vision_geometry

    vision = None
    if base is not None:
        try:
            vision = read_config(checkpoint_dir(base))["model_cfg"]["vision_cfg"]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--base") from exc
    try:
        vision_geometry(image_size, patch_size, vision)
    except ValueError as exc:
        raise click.BadParameter(
            str(exc), param_hint="--patch-size" if patch_size else "--image-size"
        ) from exc


def export_beside(checkpoint_dir: Path) -> Path:
    """Write the ONNX export a torch-free server reads into ``checkpoint_dir/onnx``."""
    from indexer.model_export import export_onnx
    from indexer.torch_clip import load_checkpoint_dir

    return export_onnx(load_checkpoint_dir(checkpoint_dir), checkpoint_dir / "onnx")


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.group("model")
    def model_group() -> None:
        """The CLIP model: export it to ONNX for serving, show what runs it."""

    @model_group.command("export")
    @click.option(
        "--model",
        "spec",
        default=None,
        help="MAPSEARCH_MODEL spec to convert (default: the configured model).",
    )
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Export folder (default: 'onnx' inside a checkpoint folder; required for NAME:TAG).",
    )
    @friendly_errors
    def export_command(spec: str | None, out_dir: Path | None) -> None:
        """Convert an open_clip checkpoint to the ONNX pair (text + image towers) that serving runs.

        Needs the training extra (torch, open_clip). The export keeps the model id, so an index
        built with torch vectors is searched with ONNX query vectors and back, without a reindex.
        Serve it with MAPSEARCH_MODEL=<the checkpoint folder or the export folder>.
        """
        from flask import current_app

        from indexer.model_specs import DEMO_MODEL_DIR, DEMO_ONNX_DIR

        spec = spec or current_app.config["MAPSEARCH_SETTINGS"].model
        assert spec is not None
        source = Path(spec).expanduser()
        if out_dir is None:
            if spec == "demo":
                out_dir = DEMO_ONNX_DIR
            elif source.is_dir():
                out_dir = source / "onnx"
            else:
                raise click.UsageError(f"give --out for {spec!r} (it is not a checkpoint folder)")
        try:
            from indexer.model_export import export_onnx
            from indexer.torch_clip import load_checkpoint_dir, load_model
        except ImportError:
            raise click.ClickException(
                "exporting needs torch and open_clip: install the training extra "
                "(scripts/bootstrap.sh --train)"
            ) from None
        loaded = load_checkpoint_dir(DEMO_MODEL_DIR) if spec == "demo" else load_model(spec)
        written = export_onnx(loaded, out_dir)
        click.echo(f"wrote {written} (model id {loaded.model_id})")

    @model_group.command("info")
    @friendly_errors
    def info_command() -> None:
        """Which model and runtime this configuration serves (loads the model)."""
        from flask import current_app

        from webapi.services import services_of

        embedder = services_of(current_app).embedder
        runtime = getattr(embedder, "runtime_name", "?")
        click.echo(
            json.dumps(
                {"model_id": embedder.model_id, "dims": embedder.dims, "runtime": runtime},
                indent=1,
            )
        )

    @cli.command("finetune")
    @data_dir_option
    @click.option(
        "--base",
        default="demo",
        show_default=True,
        help="Checkpoint folder, 'demo', or an open_clip NAME:PRETRAINED tag.",
    )
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help="Where the fine-tuned checkpoint and model card go.",
    )
    @click.option(
        "--ground-truth",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help=(
            "JSONL of {id, attributes}: adds attribute words to captions and enables "
            "multi-positive pairs."
        ),
    )
    @click.option("--epochs", type=click.IntRange(1), default=5, show_default=True)
    @click.option(
        "--batch-size",
        type=click.IntRange(2),
        default=128,
        show_default=True,
        help="As large as memory allows: every other pair in the batch is a negative.",
    )
    @click.option(
        "--lr", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True
    )
    @click.option(
        "--lock-image",
        is_flag=True,
        help="LiT: freeze the image tower so indexed image vectors stay valid.",
    )
    @click.option(
        "--wise-alpha",
        type=click.FloatRange(0, 1),
        default=1.0,
        show_default=True,
        help="WiSE-FT: weight of the fine-tuned model (0 = base, 1 = fine-tuned).",
    )
    @click.option(
        "--val-fraction",
        type=click.FloatRange(0.01, 0.9),
        default=0.1,
        show_default=True,
        help="Held out by id hash for validation and early stopping.",
    )
    @click.option("--patience", type=click.IntRange(1), default=2, show_default=True)
    @click.option(
        "--minutes", type=click.FloatRange(min=0, min_open=True), help="Wall-clock training budget."
    )
    @click.option("--limit", type=click.IntRange(2), help="Use at most this many indexed maps.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option(
        "--no-resume", is_flag=True, help="Start over even if OUT/.work has epoch checkpoints."
    )
    @threads_option
    @friendly_errors
    def finetune_command(
        data_dir: Path | None,
        base: str,
        out_dir: Path,
        ground_truth: Path | None,
        epochs: int,
        batch_size: int,
        lr: float,
        lock_image: bool,
        wise_alpha: float,
        val_fraction: float,
        patience: int,
        minutes: float | None,
        limit: int | None,
        seed: int,
        no_resume: bool,
        threads: int | None,
    ) -> None:
        """Fine-tune a CLIP model on the indexed collection's map–caption pairs."""
        _set_threads(threads)
        import shutil

        from indexer.training.finetune import (
            collection_pairs,
            finetune,
            load_base,
            read_ground_truth,
            split_pairs,
        )
        from indexer.training.trainer import TrainConfig

        service = _search_service(data_dir, None)
        _, _, pre, _ = load_base(base)
        truth = read_ground_truth(ground_truth) if ground_truth else None
        pairs = collection_pairs(
            service.settings,
            service.backend,
            int(pre["size"] if isinstance(pre["size"], int) else pre["size"][0]),
            truth,
            limit,
        )
        if len(pairs) < 4:
            raise click.ClickException(
                f"only {len(pairs)} indexed maps with readable images; fine-tuning needs more"
            )
        train, val = split_pairs(pairs, val_fraction)
        click.echo(f"{len(train)} training pairs, {len(val)} held out")
        if no_resume and (out_dir / ".work").exists():
            shutil.rmtree(out_dir / ".work")
        config = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            lock_image=lock_image,
            patience=patience,
            minutes=minutes,
            seed=seed,
            warmup_steps=10,
            multi_positive=truth is not None,
        )
        summary = finetune(base, train, val, out_dir, config, wise_alpha=wise_alpha)
        export_beside(out_dir)  # so a server without torch can run the fine-tuned model
        click.echo(
            f"wrote {out_dir} (model id {summary['model_id']}; stopped: {summary['stopped']}, best "
            f"epoch {summary['best_epoch']})"
        )
        _print_summary(summary["before"], summary["after"])

    @cli.command("weaken-model")
    @click.argument("source")
    @click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
    @click.option(
        "--strength",
        type=click.FloatRange(0, 1),
        default=0.5,
        show_default=True,
        help="Weight of random weights blended in.",
    )
    @click.option("--seed", type=int, default=0, show_default=True)
    @friendly_errors
    def weaken_command(source: str, out_dir: Path, strength: float, seed: int) -> None:
        """Blend a checkpoint with random weights (the
        starting point of the fine-tuning experiment)."""
        from indexer.training.finetune import weaken_checkpoint

        click.echo(
            f"wrote {out_dir} (model id {weaken_checkpoint(source, out_dir, strength, seed)})"
        )

    @cli.command("make-gold")
    @data_dir_option
    @click.option(
        "--ground-truth",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Default: <data dir>/ground_truth.jsonl.",
    )
    @click.option(
        "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True
    )
    @click.option("--seed", type=int, default=0, show_default=True)
    @friendly_errors
    def make_gold_command(
        data_dir: Path | None, ground_truth: Path | None, out_path: Path, seed: int
    ) -> None:
        """Generate a gold query set from a synthetic collection's ground truth."""
        from indexer.evaluation.gold import write_gold
        from indexer.evaluation.goldgen import generate_gold, shapes
        from indexer.training.finetune import read_ground_truth

        if ground_truth is None:
            from indexer.settings import load_settings

            ground_truth = (data_dir or load_settings().data_dir) / "ground_truth.jsonl"
            if not ground_truth.is_file():
                raise click.ClickException(
                    f"{ground_truth} not found: run `mapsearch demo` first or pass --ground-truth"
                )
        queries = generate_gold(read_ground_truth(ground_truth), seed)
        write_gold(out_path, queries)
        click.echo(
            f"wrote {len(queries)} queries to {out_path}: "
            + ", ".join(f"{k} {v}" for k, v in shapes(queries).items())
        )

    @cli.command("eval")
    @click.argument("gold", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @data_dir_option
    @click.option(
        "--model", help="Query model (default: MAPSEARCH_MODEL); must be the index's model."
    )
    @click.option(
        "--mode",
        "modes",
        multiple=True,
        type=click.Choice(MODES),
        help="Repeatable; default semantic.",
    )
    @click.option(
        "--fusion",
        "fusions",
        multiple=True,
        type=click.Choice(FUSIONS),
        help="Repeatable (hybrid mode); default rrf.",
    )
    @click.option(
        "--compare",
        "compare",
        type=click.Path(exists=True, path_type=Path),
        help=(
            "A JSON report of an earlier eval, or another data dir (its index and --compare-model)."
        ),
    )
    @click.option("--compare-model", help="Query model for --compare DATA_DIR.")
    @click.option(
        "--out",
        "out_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the markdown report here.",
    )
    @click.option(
        "--json-out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the JSON report (every ranking) here.",
    )
    @friendly_errors
    def eval_command(
        gold: Path,
        data_dir: Path | None,
        model: str | None,
        modes: tuple[str, ...],
        fusions: tuple[str, ...],
        compare: Path | None,
        compare_model: str | None,
        out_path: Path | None,
        json_out: Path | None,
    ) -> None:
        """Run a gold query set through the real search
        path and report recall@k, nDCG@10, MRR, P@10."""
        from indexer.evaluation.gold import load_gold
        from indexer.evaluation.report import json_report, markdown_report
        from indexer.evaluation.runner import EvalRun, compare_runs, run_gold
        from webapi.search.evaluation import page_search

        try:
            queries = load_gold(gold)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        service = _search_service(data_dir, model)
        model_id = service.backend.model_id()
        runs = []
        for mode in modes or ("semantic",):
            for fusion in (fusions or ("rrf",)) if mode == "hybrid" else ("rrf",):
                click.echo(
                    f"running {len(queries)} queries, mode={mode} fusion={fusion} ...", err=True
                )
                runs.append(
                    run_gold(
                        page_search(service), queries, mode=mode, fusion=fusion, model_id=model_id
                    )
                )
        changes = None
        if compare is not None:
            if compare.is_file():
                try:
                    other = EvalRun.from_json(json.loads(compare.read_text())["runs"][0])
                except (json.JSONDecodeError, KeyError, TypeError, IndexError) as exc:
                    raise click.ClickException(
                        f"--compare {compare}: not a JSON report of mapsearch eval ({exc})"
                    ) from None
            else:
                other_service = _search_service(compare, compare_model)
                other = run_gold(
                    page_search(other_service),
                    queries,
                    mode=runs[0].mode,
                    fusion=runs[0].fusion,
                    model_id=other_service.backend.model_id(),
                )
                runs.append(other)
            changes = compare_runs(runs[0], other)
        markdown = markdown_report(runs, changes, title=f"Search quality: {gold.name}")
        click.echo(markdown)
        if out_path:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            out_path.write_text(markdown)
        if json_out:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(json_report(runs, changes), indent=1) + "\n")

    @cli.command("train-demo-model")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option(
        "--minutes",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Wall-clock training budget (rendering not included).",
    )
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Default: the repository's indexer/models/demo.",
    )
    @click.option("--train-size", type=click.IntRange(64), default=8000, show_default=True)
    @click.option("--val-size", type=click.IntRange(16), default=500, show_default=True)
    @click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Rendered-image cache (default: a temp dir).",
    )
    @click.option(
        "--work-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Per-epoch checkpoints for resuming (default: a temp dir).",
    )
    @click.option(
        "--base",
        default=None,
        help="Go on training this checkpoint folder ('demo' = the shipped demo model) instead "
        "of starting from scratch.",
    )
    @click.option(
        "--tile-sheets",
        type=click.IntRange(0),
        default=0,
        show_default=True,
        help="Mix in region pairs: the grid tiles and ornament crops of this many large-format "
        "sheets, captioned from their ornament boxes (docs/regions.md).",
    )
    @click.option(
        "--tile-val-sheets",
        type=click.IntRange(0),
        default=0,
        show_default=True,
        help="Large-format sheets whose region pairs join the validation set.",
    )
    @click.option(
        "--tile-grid",
        default="2,4@0.25",
        show_default=True,
        help="Region grid the tiles are cut on (as MAPSEARCH_REGION_GRID).",
    )
    @click.option(
        "--image-size",
        type=click.IntRange(16),
        default=None,
        help="Vision input size in px (default: the base's, else 128).",
    )
    @click.option(
        "--patch-size",
        type=click.IntRange(1),
        default=None,
        help="ViT patch size in px (default: the base's, else a quarter of the input). With "
        "--base of another geometry, its patch embedding is resampled (docs/regions.md).",
    )
    @threads_option
    @friendly_errors
    def train_demo_command(
        seed: int,
        minutes: float,
        out_dir: Path | None,
        train_size: int,
        val_size: int,
        cache_dir: Path | None,
        work_dir: Path | None,
        base: str | None,
        tile_sheets: int,
        tile_val_sheets: int,
        tile_grid: str,
        image_size: int | None,
        patch_size: int | None,
        threads: int | None,
    ) -> None:
        """Reproduce the shipped demo CLIP: render the
        synthetic world, train, write checkpoint + card."""
        _set_threads(threads)
        if tile_sheets or tile_val_sheets:
            from indexer.regions.grid import parse_grid

            try:
                parse_grid(tile_grid)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--tile-grid") from exc
        if image_size or patch_size:
            _check_geometry(base, image_size, patch_size)
        from indexer.training.checkpoint import DEMO_MODEL_DIR
        from indexer.training.demo import train_demo_model

        tmp = Path(tempfile.gettempdir()) / "mapsearch-train-demo"
        summary = train_demo_model(
            out_dir=out_dir or DEMO_MODEL_DIR,
            seed=seed,
            minutes=minutes,
            train_size=train_size,
            val_size=val_size,
            cache_dir=cache_dir or tmp / "cache",
            work_dir=work_dir or tmp / f"work-{seed}",
            on_epoch=_echo_epoch,
            base=base,
            tile_sheets=tile_sheets,
            tile_val_sheets=tile_val_sheets,
            tile_grid=tile_grid,
            image_size=image_size,
            patch_size=patch_size,
        )
        onnx_dir = export_beside(out_dir or DEMO_MODEL_DIR)
        click.echo(
            f"wrote {out_dir or DEMO_MODEL_DIR} and its ONNX export {onnx_dir} "
            f"(model id {summary['model_id']}; {summary['stopped']})"
        )
        _print_summary(summary["before"], summary["best_metrics"])
