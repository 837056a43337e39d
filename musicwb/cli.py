"""The ``musicwb`` command.

Every command finds the store through ``--store PATH``, else ``$MUSICWB_STORE``, else
``data/musicwb.duckdb`` under the current directory. ``--json`` prints machine-readable output on
stdout; progress and messages go to stderr. Errors of the musicwb family print one clear line and
exit with status 1 (2 for a bad parameter); Ctrl-C exits with 130 after a clean stop.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from musicwb.errors import MusicwbError, ParameterError

app = typer.Typer(
    name="musicwb",
    help="A research workbench for large DJ and music libraries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The DuckDB store [default: $MUSICWB_STORE, else data/musicwb.duckdb].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _store_path(store: Path | None) -> Path:
    from musicwb.config import get_settings

    return get_settings(store=store).store


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=None, default=str, ensure_ascii=False))


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="A music folder (or one file) to scan.")],
    metadata: Annotated[
        Path | None,
        typer.Option(
            "--metadata", help="CSV with path, artist, album, title, label, genre; overrides tags."
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Walk a music folder into the store (incremental: unchanged files are skipped)."""
    from musicwb.library import scan_library
    from musicwb.store import Store

    with Store(_store_path(store)) as opened:
        summary = scan_library(opened, path, metadata_csv=metadata, progress=not as_json)
    if as_json:
        _print_json(summary.as_dict())
    else:
        typer.echo(summary.describe())
    if summary.errors:
        typer.echo(
            f"{summary.errors} file(s) could not be read; see `musicwb scan-errors`.", err=True
        )


@app.command("scan-errors")
def scan_errors(
    store: StoreOption = None,
    as_json: JsonOption = False,
    all_runs: Annotated[bool, typer.Option("--all", help="Errors of every scan, not the last.")] = False,
) -> None:
    """List the files the last scan could not read, with the reason."""
    from musicwb.library import scan_errors_frame
    from musicwb.store import Store

    with Store(_store_path(store), read_only=True) as opened:
        frame = scan_errors_frame(opened, last_run_only=not all_runs)
    _print_frame(frame, as_json=as_json)


@app.command()
def tracks(
    store: StoreOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N rows.")] = None,
) -> None:
    """List what the store holds: id, path, artist, title, album, label, duration, format."""
    from musicwb.library import tracks_frame
    from musicwb.store import Store

    with Store(_store_path(store), read_only=True) as opened:
        frame = tracks_frame(opened, limit=limit)
    _print_frame(frame, as_json=as_json)


@app.command()
def demo(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the demo audio [default: data/demo].")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the demo library.")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if it exists.")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the deterministic synthetic demo library and write it into the store."""
    from musicwb.config import get_settings
    from musicwb.demo import build_demo
    from musicwb.store import Store

    settings = get_settings(store=store)
    out_dir = out if out is not None else settings.data_dir / "demo"
    with Store(settings.store) as opened:
        summary = build_demo(
            store=opened, out_dir=out_dir, seed=seed, force=force, progress=not as_json
        )
    if as_json:
        _print_json(summary.as_dict())
    else:
        typer.echo(summary.describe())


@app.command()
def batch(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML or YAML file with per-notebook parameters."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Reports folder [default: reports/].")
    ] = None,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Hide code cells in the HTML reports.")
    ] = False,
    notebook: Annotated[
        list[str] | None,
        typer.Option("--notebook", help="Run only this notebook (repeatable)."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the notebooks with papermill on the store and export self-contained HTML reports."""
    from musicwb.config import get_settings
    from musicwb.reports import run_batch

    settings = get_settings(store=store)
    result = run_batch(
        store_path=settings.store,
        out_dir=out if out is not None else settings.reports_dir,
        config_path=config,
        notebooks=notebook,
        no_input=no_input,
        progress=not as_json,
        notebooks_dir=settings.notebooks_dir,
    )
    if as_json:
        _print_json(result.as_dict())
    else:
        typer.echo(result.describe())
        typer.echo(str(result.index_path))
    if not result.ok:
        raise typer.Exit(1)


def _print_frame(frame: Any, *, as_json: bool) -> None:
    if as_json:
        typer.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
    elif frame.empty:
        typer.echo("(none)")
    else:
        typer.echo(frame.to_string(index=False, max_colwidth=60))


def main() -> None:
    """Entry point of the console script: run the app, turning musicwb errors into messages.

    Usage errors exit with 2 and Ctrl-C with 1 ("Aborted!"), as click does; a bad parameter
    value exits with 2 and any other musicwb error with 1, each with one line on stderr.
    """
    try:
        app()
    except ParameterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except MusicwbError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)



titles_app = typer.Typer(help="Parse track titles and file names.", no_args_is_help=True)
app.add_typer(titles_app, name="titles")

_TITLE_TABLE_COLUMNS = ("input", "artist", "title", "mix", "label", "catalog", "pattern", "confidence")


@titles_app.command("parse")
def titles_parse(
    as_json: JsonOption = False,
    source: Annotated[
        str,
        typer.Option("--source", help="auto, tracklist, store, filename or karaoke."),
    ] = "auto",
) -> None:
    """Read one title per line from stdin; print one JSON object per line (--json) or a table."""
    from musicwb.titles import parse_titles

    lines = [line.rstrip("\r\n") for line in sys.stdin]
    parsed = parse_titles(lines, source=source)
    if as_json:
        for item in parsed:
            _print_json(item.as_dict())
        return
    rows = [[("" if getattr(p, c) is None else str(getattr(p, c)))[:40] for c in _TITLE_TABLE_COLUMNS]
            for p in parsed]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(_TITLE_TABLE_COLUMNS)]
    for row in [list(_TITLE_TABLE_COLUMNS), *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


# -- tracklists and identify (issue 5: unknown tracks in DJ sets) ------------------------------

tracklists_app = typer.Typer(help="Import DJ-set tracklists.", no_args_is_help=True)
app.add_typer(tracklists_app, name="tracklists")

FormatOption = Annotated[
    str, typer.Option("--format", help="mixesdb (MixesDB CSV), json, or csv (generic).")
]


def _quiet_splink() -> None:
    # splink warns on stderr about levels with few sampled pairs; the CLI is the caller that
    # decides what is logged.
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)


@tracklists_app.command("import")
def tracklists_import(
    paths: Annotated[list[Path], typer.Argument(help="Tracklist files.")],
    fmt: FormatOption = "mixesdb",
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import tracklist files; malformed rows are reported with file and line, the rest goes in.

    Re-importing a file already imported (same content) changes nothing.
    """
    from musicwb.linkage.tracklists import import_tracklists
    from musicwb.store import Store

    with Store(_store_path(store)) as opened:
        summary = import_tracklists(opened, paths, fmt=fmt, progress=not as_json)
    if as_json:
        _print_json(summary.as_dict())
    else:
        typer.echo(summary.describe())


identify_app = typer.Typer(
    help="Propose artists for unknown tracklist entries (splink), or evaluate the model.",
)
app.add_typer(identify_app, name="identify")


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
    from musicwb.linkage.proposals import identify as identify_slots
    from musicwb.store import Store

    _quiet_splink()
    with Store(_store_path(store)) as opened:
        result = identify_slots(opened, min_confidence=min_confidence, seed=seed)
    if as_json:
        _print_json({"summary": result.summary,
                     "proposals": result.proposals.drop(columns=["created_at"]).to_dict("records")})
        return
    typer.echo(f"{result.summary['slots']} unknown slot(s); "
               f"{result.summary.get('slots_with_proposal', 0)} with a proposal "
               f"(≥ {min_confidence}); {result.summary['proposals']} proposal(s) stored")
    for row in result.proposals.itertuples():
        typer.echo(f"{row.set_id} #{row.position}: {row.artist} ({row.probability:.2f}, "
                   f"{row.tier}) — {'; '.join(row.evidence)}")


@identify_app.command("evaluate")
def identify_evaluate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="More tracklist files (after --tracklists).")
    ] = None,
    tracklists: Annotated[
        list[Path] | None,
        typer.Option("--tracklists", help="Tracklist files [default: the store's tracklists]."),
    ] = None,
    fmt: FormatOption = "mixesdb",
    mask_fraction: Annotated[
        float, typer.Option("--mask-fraction", help="Share of eligible known entries hidden.")
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the masking.")] = 0,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hide known artists, predict them, report model and baseline side by side."""
    from musicwb.linkage.evaluate import evaluate, evaluate_files

    _quiet_splink()
    files = [*(tracklists or []), *(paths or [])]
    options = {"mask_fraction": mask_fraction, "seed": seed}
    if files:
        result = evaluate_files(files, fmt=fmt, **options)
    else:
        from musicwb.linkage.tracklists import entries_frame
        from musicwb.store import Store

        with Store(_store_path(store), read_only=True) as opened:
            result = evaluate(entries_frame(opened), **options)
    if as_json:
        _print_json(result.summary)
        return
    typer.echo(result.comparison_frame().to_string(index=False))
    typer.echo(f"equal coverage: {result.summary['equal_coverage']}")
    typer.echo(result.calibration_frame().to_string(index=False))


# ---------------------------------------------------------------- sonic: extract, features, artifact, validate


@app.command()
def extract(
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786): run there."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-analyse every track (after an automatic backup).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --force without asking.")] = False,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="Also retry tracks that failed before.")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Analyse every track without beat3tower features (resumable; failures recorded)."""
    from musicwb.runs import finish_run, start_run
    from musicwb.sonic.extract import extract_library
    from musicwb.store import Store

    if force and not yes:
        if as_json or not sys.stdin.isatty():
            raise ParameterError("--force needs --yes when there is nobody to ask")
        typer.confirm(
            "Re-analyse every track? The current features are backed up first.", abort=True, err=True
        )
        yes = True
    parameters = {"workers": workers, "scheduler": scheduler, "force": force, "retry_errors": retry_errors}
    with Store(_store_path(store)) as opened:
        run_id = start_run(opened, kind="extract", parameters=parameters)
        try:
            summary = extract_library(
                opened, workers=workers, scheduler=scheduler, force=force, confirmed=yes,
                retry_errors=retry_errors, progress=not as_json,
            )
        except KeyboardInterrupt:
            finish_run(opened, run_id, status="interrupted", summary={})
            typer.echo("interrupted: finished batches are saved; run it again to resume", err=True)
            raise typer.Exit(130) from None
        except BaseException as exc:
            finish_run(opened, run_id, status="failed", summary={"error": str(exc)})
            raise
        finish_run(opened, run_id, status="ok", summary=summary.as_dict())
    if as_json:
        _print_json({**summary.as_dict(), "run_id": run_id})
    else:
        typer.echo(summary.describe())
    if summary.failed:
        typer.echo(f"{summary.failed} track(s) failed; see the sonic_errors table.", err=True)


features_app = typer.Typer(help="Back up and restore the sonic features.", no_args_is_help=True)
app.add_typer(features_app, name="features")
BackupDirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Backup folder [default: <data_dir>/sonic_backups].", show_default=False),
]


@features_app.command("backup")
def features_backup(
    name: Annotated[str | None, typer.Option("--name", help="Backup name [default: time].")] = None,
    backup_dir: BackupDirOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Snapshot the sonic features (compressed) with JSON metadata."""
    from musicwb.sonic.backups import backup_features
    from musicwb.store import Store

    with Store(_store_path(store), read_only=True) as opened:
        info = backup_features(opened, name=name, backup_dir=backup_dir)
    if as_json:
        _print_json(info)
    else:
        typer.echo(f"backup {info['name']}: {info['count']} track(s), {info['errors']} error row(s) -> {info['path']}")


@features_app.command("list-backups")
def features_list_backups(backup_dir: BackupDirOption = None, as_json: JsonOption = False) -> None:
    """The backups, newest first."""
    from musicwb.sonic.backups import list_backups

    _print_frame(list_backups(backup_dir=backup_dir), as_json=as_json)


@features_app.command("restore")
def features_restore(
    name: Annotated[str, typer.Argument(help="A backup name (see list-backups).")],
    apply: Annotated[bool, typer.Option("--apply", help="Do it (default: dry run).")] = False,
    backup_dir: BackupDirOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the current features by a backup's; a dry run unless --apply."""
    from musicwb.sonic.backups import restore_features
    from musicwb.store import Store

    with Store(_store_path(store)) as opened:
        plan = restore_features(opened, name, apply=apply, backup_dir=backup_dir)
    if as_json:
        _print_json(plan)
        return
    verb = "restored" if plan["applied"] else "would restore"
    typer.echo(
        f"{verb} {plan['would_restore']} track(s) from {name} (now {plan['current']}; "
        f"{plan['changed']} changed, {plan['would_drop']} dropped, {plan['orphaned']} no longer "
        "in the library)" + ("" if plan["applied"] else "; add --apply to do it")
    )


artifact_app = typer.Typer(help="The sonic artifact for playlists.", no_args_is_help=True)
app.add_typer(artifact_app, name="artifact")


@artifact_app.command("build")
def artifact_build(
    out: Annotated[
        Path | None, typer.Option("--out", help="Output .npz [default: <data_dir>/sonic_artifact.npz].")
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option("--variant", help="raw, zscore or robust_whiten [default: best of the last validate]."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write per-tower matrices, labels, fitted preprocessing and calibration to one .npz."""
    from musicwb.sonic.artifact import build_artifact, load_artifact
    from musicwb.store import Store

    with Store(_store_path(store), read_only=True) as opened:
        path = build_artifact(opened, out=out, variant=variant)
    meta = load_artifact(path).meta
    if as_json:
        _print_json({"path": str(path), **meta})
    else:
        typer.echo(
            f"{path}: {meta['n_tracks']} track(s), variant {meta['variant']} ({meta['variant_source']})"
        )


@app.command()
def validate(
    variant: Annotated[
        str, typer.Option("--variant", help="raw, zscore, robust_whiten, or all (side by side).")
    ] = "all",
    seed_track: Annotated[
        int | None, typer.Option("--seed-track", help="Also report this track id as the seed.")
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """The similarity metrics over all seeds; with --variant all, names the best variant."""
    from musicwb.sonic.validation import validate_store

    with_store = _store_path(store)
    from musicwb.store import Store

    with Store(with_store, read_only=variant != "all") as opened:
        report = validate_store(opened, variant=variant, seed_track=seed_track)
    if as_json:
        _print_json(report)
        return
    from musicwb.sonic.validation import report_frame

    typer.echo(report_frame(report).to_string(index=False))
    if "best_variant" in report:
        typer.echo(f"best variant: {report['best_variant']} (artifact build uses it)")
