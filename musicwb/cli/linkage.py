"""DJ-set commands: ``tracklists import``, ``identify`` and ``identify evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import musicwb.linkage
import musicwb.store
from musicwb.cli._common import (
    App,
    Choices,
    JsonOption,
    StoreOption,
    app,
    echo_failure_reasons,
    print_json,
    quiet_splink,
    store_path,
)

if TYPE_CHECKING:
    import pandas as pd

tracklists_app = App(help="Import DJ-set tracklists.", no_args_is_help=True)
app.add_typer(tracklists_app, name="tracklists")

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        metavar=Choices("musicwb.linkage.tracklist_files", "FORMATS"),
        help="One of: mixesdb (MixesDB CSV), json (sets), csv (generic), djmix (DJ Mix Dataset "
        "JSON).",
    ),
]


def _checked_format(fmt: str) -> str:
    """``fmt``, or a ParameterError naming the choices, before any store is opened."""
    from musicwb.linkage.tracklist_files import check_format  # pandas only when run

    check_format(fmt)
    return fmt


@tracklists_app.command("import")
def tracklists_import(
    paths: Annotated[list[Path], typer.Argument(help="Tracklist files.")],
    fmt: FormatOption = "mixesdb",
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding", help="The files' text encoding, e.g. cp1252 or latin-1 \\[default: utf-8]."
        ),
    ] = "utf-8",
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse a whole file if any of its rows is malformed."),
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import tracklist files; malformed rows are reported with file and line, the rest goes in.

    Each file is reported on its own line. A file that cannot be read (wrong encoding, broken
    quoting, missing columns) is not imported at all, the others are, and the command exits
    with 1. Re-importing a file already imported (same content) changes nothing.
    """
    _checked_format(fmt)
    with musicwb.store.Store(store_path(store)) as opened:
        summary = musicwb.linkage.import_tracklists(
            opened, paths, fmt=fmt, encoding=encoding, strict=strict, progress=not as_json
        )
    if as_json:
        print_json(summary.as_dict())
    else:
        typer.echo(summary.describe())
    if summary.failed:
        echo_failure_reasons(item["reason"] for item in summary.failed)
        done = len(summary.files) + len(summary.skipped)
        typer.echo(
            f"{len(summary.failed)} of {len(summary.per_file)} file(s) failed and were not "
            f"imported; {done} other file(s) were imported or already there.",
            err=True,
        )
        raise typer.Exit(1)


identify_app = App(
    help="Propose artists for unknown tracklist entries (splink), or evaluate the model.",
)
app.add_typer(identify_app, name="identify")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for JSON: missing values as null, not NaN."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@identify_app.callback(invoke_without_command=True)
def identify(
    ctx: typer.Context,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="Calibrated probability a proposal needs.")
    ] = 0.7,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the masked training answers.")] = 0,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose artists for the store's unknown slots and store them with their evidence."""
    if ctx.invoked_subcommand is not None:
        return
    quiet_splink()
    try:
        with musicwb.store.Store(store_path(store)) as opened:
            result = musicwb.linkage.identify(opened, min_confidence=min_confidence, seed=seed)
    except KeyboardInterrupt:
        typer.echo("interrupted: the stored proposals are as they were", err=True)
        raise typer.Exit(130) from None
    if as_json:
        print_json(
            {
                "summary": result.summary,
                "proposals": _records(result.proposals.drop(columns=["created_at"])),
                "labels": _records(result.slot_labels.drop(columns=["slot_id"])),
            }
        )
        return
    typer.echo(
        f"{result.summary['slots']} unknown slot(s); "
        f"{result.summary.get('slots_with_proposal', 0)} with a proposal "
        f"(≥ {min_confidence}); {result.summary['proposals']} proposal(s) stored"
    )
    for row in result.proposals.itertuples():
        typer.echo(
            f"{row.slot}: {row.artist} ({row.probability:.2f}, "
            f"{row.tier}) — {'; '.join(row.evidence)}"
            + (f"; label {row.label} ({row.label_probability:.2f})"
               if isinstance(row.label, str) else "")
        )


@identify_app.command("evaluate")
def identify_evaluate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="More tracklist files (after --tracklists).")
    ] = None,
    tracklists: Annotated[
        list[Path] | None,
        typer.Option("--tracklists", help="Tracklist files \\[default: the store's tracklists]."),
    ] = None,
    fmt: FormatOption = "mixesdb",
    mask_fraction: Annotated[
        float, typer.Option("--mask-fraction", help="Share of eligible known entries hidden.")
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the masking.")] = 0,
    rounds: Annotated[
        int,
        typer.Option("--rounds", help="Repeat with disjoint masked entries (rounds x fraction <= 1)."),
    ] = 1,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="splink backend: duckdb, or spark (spark extra).",
            metavar=Choices("musicwb.linkage.backends", "BACKENDS"),
        ),
    ] = "duckdb",
    evaluate_on: Annotated[
        list[Path] | None,
        typer.Option(
            "--evaluate-on", metavar="FILE",
            help="Mask only entries of the sets in this file (repeat for more); the other "
                 "tracklists (files given, else the store's) are context only.",
        ),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", min=1, help="Candidate artists kept per slot.")
    ] = 50,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hide known artists, predict them, report the model beside the baselines.

    Shows each candidate source's recall, the model against three baselines, the labels' top-1.

    Marks the targets met or missed, and stores the run in linkage_evaluations.
    """
    _checked_format(fmt)
    quiet_splink()
    try:
        stored = musicwb.linkage.evaluate_and_save(
            store_path(store), files=[*(tracklists or []), *(paths or [])], fmt=fmt,
            backend=backend, rounds=rounds, mask_fraction=mask_fraction, seed=seed,
            evaluate_on=evaluate_on or [], k=k,
        )  # fmt: skip
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was stored (an evaluation is stored whole at its end)",
                   err=True)
        raise typer.Exit(130) from None
    result, run_id = stored.result, stored.run_id
    if as_json:
        print_json({**result.summary, "run_id": run_id})
        return
    typer.echo(result.describe())
    typer.echo(f"stored as {run_id} in linkage_evaluations")
