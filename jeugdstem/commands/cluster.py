"""``jeugdstem cluster``: cluster a JSONL file of answers into themes."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from aggregation import batch
from aggregation.clustering import ClusterConfig, fit_themes
from aggregation.exceptions import AggregationError
from aggregation.settings import get_settings
from aggregation.summaries import iter_summary_lines, summarise_themes
from aggregation.taxonomy import load_taxonomy


class ClusterMode(StrEnum):
    """Clustering mode."""

    guided = "guided"
    discover = "discover"


cluster_app = typer.Typer(
    help="Cluster survey answers (JSONL) into themes.", no_args_is_help=True, add_completion=False
)


@cluster_app.callback(invoke_without_command=True)
def cluster_command(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help='JSONL with {"id","text"} (+ role, kind, respondent_id).'
        ),
    ],
    output_path: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="JSONL: one {id, theme_id, theme_label, score} per answer."
        ),
    ],
    mode: Annotated[
        ClusterMode, typer.Option(help="guided (seed taxonomy) or discover.")
    ] = ClusterMode.guided,
    k: Annotated[
        int | None, typer.Option("--k", min=1, help="Clusters (discover); max emergent (guided).")
    ] = None,
    taxonomy_path: Annotated[
        Path | None, typer.Option("--taxonomy", help="Taxonomy YAML file.")
    ] = None,
    summary_path: Annotated[
        Path | None,
        typer.Option("--summary", help="Write the theme summary JSON here (else to stderr)."),
    ] = None,
    previous_path: Annotated[
        Path | None, typer.Option("--previous", help="Earlier round's summary JSON, for trends.")
    ] = None,
    exclude_path: Annotated[
        Path | None,
        typer.Option("--exclude", help="File of answer ids to exclude (quarantine guard)."),
    ] = None,
    k_min: Annotated[
        int | None, typer.Option("--k-min", min=1, help="Suppression threshold.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
) -> None:
    """Cluster answers into themes and write one assignment line per answer."""
    settings = get_settings()
    err = Console(stderr=True)
    k_min_value = k_min if k_min is not None else settings.min_group_size
    seed_value = seed if seed is not None else settings.random_state
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("reading answers", total=4)
            answers = batch.read_answers(input_path)
            exclude: set[str] = set()
            if exclude_path is not None:
                exclude = {
                    line.strip()
                    for line in exclude_path.read_text(encoding="utf-8").splitlines()
                    if line.strip()
                }
            taxonomy = load_taxonomy(taxonomy_path or settings.taxonomy_path)
            previous = batch.read_summary(previous_path) if previous_path else None
            progress.update(task, advance=1, description=f"clustering {len(answers)} answers")
            config = ClusterConfig(
                n_jobs=settings.n_jobs,
                fit_sample_size=settings.fit_sample_size,
                chunk_size=settings.chunk_size,
            )
            model, assignments = fit_themes(
                answers,
                mode=mode.value,
                k=k,
                taxonomy=taxonomy,
                k_min=k_min_value,
                random_state=seed_value,
                config=config,
                exclude_ids=exclude,
            )
            progress.update(task, advance=1, description="summarising")
            summary = summarise_themes(
                answers,
                assignments,
                model,
                k_min=k_min_value,
                max_quotes=settings.max_quotes,
                previous=previous,
                exclude_ids=exclude,
            )
            progress.update(task, advance=1, description="writing")
            with output_path.open("w", encoding="utf-8") as out:
                batch.write_assignments(assignments, out)
            if summary_path is not None:
                with summary_path.open("w", encoding="utf-8") as out:
                    batch.write_summary(summary, out)
            progress.update(task, advance=1)
    except (AggregationError, OSError) as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(code=2) from exc
    if summary_path is None:
        for line in iter_summary_lines(summary):
            err.print(line, markup=False, highlight=False)
