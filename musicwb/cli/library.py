"""Library commands: scan, scan-errors, tracks, demo and the report batch.

Each command parses its options, calls one library function and prints the result. The
library is imported inside the commands, so that ``musicwb --help`` does not load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from musicwb.cli._common import (
    JsonOption,
    StoreOption,
    app,
    echo_failure_reasons,
    flag,
    option,
    print_frame,
    print_json,
    store_path,
)


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="A music folder (or one file) to scan.")],
    metadata: Annotated[
        Path | None,
        option("--metadata", "CSV with path, artist, album, title, label, genre; overrides tags."),
    ] = None,
    prune: Annotated[
        bool,
        flag(
            "--prune",
            "Delete the tracks under PATH whose file is missing, with their features, "
            "findings and queue rows.",
        ),
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Walk a music folder into the store (incremental: unchanged files are skipped).

    Tracks whose file is gone are kept and flagged missing (see `musicwb tracks`) until a scan
    finds them again or `--prune` deletes them.
    """
    from musicwb.library import scan_library
    from musicwb.store import Store

    # Opened per batch: readers (`musicwb tracks`, a notebook) get in between two commits.
    with Store(store_path(store), hold_open=False) as opened:
        summary = scan_library(
            opened, path, metadata_csv=metadata, prune=prune, progress=not as_json
        )
    if as_json:
        print_json(summary.as_dict())
    else:
        typer.echo(summary.describe())
    if summary.errors or summary.folder_errors:
        echo_failure_reasons(
            reason for reason, count in summary.error_reasons.items() for _ in range(count)
        )
        typer.echo(
            f"{summary.errors} file(s) and {summary.folder_errors} folder(s) could not be read; "
            "see `musicwb scan-errors`.",
            err=True,
        )
    if summary.missing and not prune:
        typer.echo(
            f"{summary.missing} track(s) under {summary.root} have a missing file; they are "
            "kept, flagged missing (`musicwb tracks --missing` lists them), and left out of "
            "artifacts and playlists until found again or deleted by `musicwb scan PATH --prune`.",
            err=True,
        )


@app.command("scan-errors")
def scan_errors(
    store: StoreOption = None,
    as_json: JsonOption = False,
    all_runs: Annotated[bool, flag("--all", "Errors of every scan, not the last.")] = False,
) -> None:
    """List the files the last scan could not read, with the reason."""
    from musicwb.library import scan_errors_frame
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        frame = scan_errors_frame(opened, last_run_only=not all_runs)
    print_frame(frame, as_json=as_json)


@app.command()
def tracks(
    store: StoreOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int | None, option("--limit", "At most N rows.", min=1)] = None,
    missing_only: Annotated[
        bool, flag("--missing", "Only the tracks whose file is missing.")
    ] = False,
) -> None:
    """List what the store holds: id, path, artist, title, album, label, duration, format,
    missing (the last scan found the file gone)."""
    from musicwb.library import track_counts, tracks_frame
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        frame = tracks_frame(opened, limit=limit, missing_only=missing_only)
        counts = track_counts(opened)
    print_frame(frame, as_json=as_json)
    if not as_json:
        line = f"{counts['tracks']} track(s), {counts['missing']} missing"
        if counts["missing"]:
            line += " (file gone; `musicwb scan PATH --prune` deletes them)"
        typer.echo(line)


@app.command()
def demo(
    out: Annotated[
        Path | None, option("--out", "Folder for the demo audio \\[default: <data_dir>/demo].")
    ] = None,
    seed: Annotated[int, option("--seed", "Random seed of the demo library.")] = 7,
    force: Annotated[bool, flag("--force", "Rebuild even if it exists.")] = False,
    store: Annotated[
        Path | None,
        option(
            "--store",
            "The store to build into \\[default: the demo's own <data_dir>/demo.duckdb; "
            "$MUSICWB_STORE is not used, so a real library is never touched].",
            show_default=False,
        ),
    ] = None,
    into_existing: Annotated[
        bool, flag("--into-existing", "Allow a --store that already holds other (real) tracks.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the deterministic synthetic demo library into its own store."""
    from musicwb.config import get_settings
    from musicwb.demo import DEMO_STORE_NAME, build_demo
    from musicwb.store import Store

    settings = get_settings()
    target = store if store is not None else settings.data_dir / DEMO_STORE_NAME
    out_dir = out if out is not None else settings.data_dir / "demo"
    with Store(target) as opened:
        summary = build_demo(
            store=opened,
            out_dir=out_dir,
            seed=seed,
            force=force,
            progress=not as_json,
            into_existing=into_existing,
        )
    if as_json:
        print_json({**summary.as_dict(), "store": str(Path(target).absolute())})
    else:
        typer.echo(summary.describe())
        typer.echo(
            f"The demo store is {Path(target).absolute()}: pass it as --store, or "
            f"export MUSICWB_STORE={Path(target).absolute()}"
        )


@app.command()
def batch(
    config: Annotated[
        Path | None, option("--config", "TOML or YAML file with per-notebook parameters.")
    ] = None,
    out: Annotated[
        Path | None,
        option(
            "--out",
            "Reports folder \\[default: $MUSICWB_REPORTS_DIR, else <store-stem>.reports/ "
            "beside the store].",
            show_default=False,
        ),
    ] = None,
    no_input: Annotated[bool, flag("--no-input", "Hide code cells in the HTML reports.")] = False,
    notebook: Annotated[
        list[str] | None, option("--notebook", "Run only this notebook (repeatable).")
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the notebooks with papermill on the store and export self-contained HTML reports."""
    from musicwb.config import get_settings
    from musicwb.reports import BatchInterrupted, run_batch
    from musicwb.store.paths import StorePaths

    settings = get_settings(store=store)
    reports = StorePaths.of(settings.store).reports(settings.reports_dir)
    try:
        result = run_batch(
            store_path=settings.store,
            out_dir=out if out is not None else reports,
            config_path=config,
            notebooks=notebook,
            no_input=no_input,
            progress=not as_json,
            notebooks_dir=settings.notebooks_dir,
        )
    except BatchInterrupted as stopped:
        if as_json:
            print_json(stopped.result.as_dict())
        else:
            typer.echo(stopped.result.describe())
        typer.echo(f"interrupted; what ran is in {stopped.result.index_path}", err=True)
        raise typer.Exit(130) from None
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.describe())
        typer.echo(str(result.index_path))
    if not result.ok:
        raise typer.Exit(1)
