"""Sonic commands: extract, sonic-errors, features backup/list-backups/restore, artifact build, validate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from musicwb.cli._common import (
    App,
    Choices,
    IncludeFlaggedOption,
    JsonOption,
    StoreOption,
    app,
    echo_failure_reasons,
    print_frame,
    print_json,
    store_path,
)
from musicwb.errors import ParameterError


@app.command()
def extract(
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="With --workers 1, analyse in this process (faster to start; a crash in "
            "native code then ends the command instead of being recorded for its track).",
        ),
    ] = False,
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
    from musicwb.sonic.jobs import recorded_extract

    if force and not yes:
        if as_json or not sys.stdin.isatty():
            raise ParameterError("--force needs --yes when there is nobody to ask")
        typer.confirm(
            "Re-analyse every track? The current features are backed up first.",
            abort=True,
            err=True,
        )
        yes = True
    try:
        done = recorded_extract(
            store_path(store),
            workers=workers,
            in_process=in_process,
            scheduler=scheduler,
            force=force,
            confirmed=yes,
            retry_errors=retry_errors,
            progress=not as_json,
        )
    except KeyboardInterrupt:
        if force:  # the tracks not yet redone keep their earlier (backed-up) features
            typer.echo("interrupted: finished batches are saved, the other tracks keep their "
                       "earlier features; run `extract --force` again to redo them all",
                       err=True)  # fmt: skip
        else:
            typer.echo("interrupted: finished batches are saved; run it again to resume",
                       err=True)
        raise typer.Exit(130) from None
    summary, run_id = done.summary, done.run_id
    if as_json:
        print_json({**summary.as_dict(), "run_id": run_id})
    else:
        typer.echo(summary.describe())
    if summary.failed:
        typer.echo(f"{summary.failed} track(s) failed; see `musicwb sonic-errors`.", err=True)
        echo_failure_reasons(
            [reason for reason, n in summary.failure_reasons.items() for _ in range(n)]
        )


@app.command("sonic-errors")
def sonic_errors(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the tracks sonic extraction failed on, with the reason and when (newest first)."""
    from musicwb.store import Store
    from musicwb.store.tables.sonic import error_rows

    with Store(store_path(store), read_only=True) as opened:
        frame = error_rows(opened)
    if frame.empty and not as_json:
        typer.echo("No sonic errors: extraction has failed on none of the tracks.")
        return
    print_frame(frame, as_json=as_json)


features_app = App(help="Back up and restore the sonic features.", no_args_is_help=True)
app.add_typer(features_app, name="features")
BackupDirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Backup folder \\[default: <store stem>.backups beside the store].",
        show_default=False,
    ),
]


@features_app.command("backup")
def features_backup(
    name: Annotated[str | None, typer.Option("--name", help="Backup name \\[default: time].")] = None,
    backup_dir: BackupDirOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Snapshot the sonic features (compressed) with JSON metadata."""
    from musicwb.sonic.backups import backup_features
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        info = backup_features(opened, name=name, backup_dir=backup_dir)
    if as_json:
        print_json(info)
    else:
        typer.echo(
            f"backup {info['name']}: {info['count']} track(s), {info['errors']} error row(s) "
            f"of {info['tracks']} track(s) in the store"
            + ("" if info["complete"] else " (partial: some tracks not analysed)")
            + f" -> {info['path']}"
        )


@features_app.command("list-backups")
def features_list_backups(
    backup_dir: BackupDirOption = None, store: StoreOption = None, as_json: JsonOption = False
) -> None:
    """The backups, newest first: rows, the store's track count then, complete or partial."""
    from musicwb.sonic.backups import list_backups

    print_frame(list_backups(backup_dir=backup_dir, store=store_path(store)), as_json=as_json)


@features_app.command("restore")
def features_restore(
    name: Annotated[
        str | None,
        typer.Argument(help="A backup name (see list-backups) \\[default: the newest complete]."),
    ] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Do it (default: dry run).")] = False,
    backup_dir: BackupDirOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the current features by a backup's; a dry run unless --apply."""
    from musicwb.sonic.backups import restore_features
    from musicwb.store import Store

    with Store(store_path(store)) as opened:
        plan = restore_features(opened, name, apply=apply, backup_dir=backup_dir)
    if as_json:
        print_json(plan)
        return
    verb = "restored" if plan["applied"] else "would restore"
    partial = " (a PARTIAL backup)" if plan["status"] == "partial" else ""
    typer.echo(
        f"{verb} {plan['would_restore']} track(s) from {plan['name']}{partial} (now "
        f"{plan['current']}; {plan['changed']} changed, {plan['would_drop']} dropped, "
        f"{plan['orphaned']} no longer in the library)"
        + ("" if plan["applied"] else "; add --apply to do it")
    )
    if plan.get("backup"):
        typer.echo(f"the replaced features were backed up first: {plan['backup']}")


artifact_app = App(help="The sonic artifact for playlists.", no_args_is_help=True)
app.add_typer(artifact_app, name="artifact")


@artifact_app.command("build")
def artifact_build(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output .npz \\[default: <store stem>.artifact.npz beside the store]."
        ),
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option(
            "--variant",
            help="raw, zscore, robust_whiten or learned \\[default: best of the last validate, "
            "else learned].",
            metavar=Choices("musicwb.sonic.whiten", "VARIANTS"),
        ),
    ] = None,
    include_flagged: IncludeFlaggedOption = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write per-tower matrices, labels, fitted preprocessing and calibration to one .npz.

    Tracks whose files are missing, and flagged tracks unless --include-flagged, are left out.
    """
    from musicwb.sonic.artifact import build_artifact, load_artifact
    from musicwb.store import Store

    with Store(store_path(store), read_only=True, hold_open=False) as opened:
        path = build_artifact(opened, out=out, variant=variant, include_flagged=include_flagged)
    meta = load_artifact(path).meta
    if as_json:
        print_json({"path": str(path), **meta})
    else:
        typer.echo(
            f"{path}: {meta['n_tracks']} track(s), variant {meta['variant']} ({meta['variant_source']})"
        )
        _echo_left_out(meta.get("left_out"))


@app.command()
def validate(
    variant: Annotated[
        str,
        typer.Option(
            "--variant",
            help="raw, zscore, robust_whiten, learned, or all (side by side).",
            metavar=Choices("musicwb.sonic.whiten", "VARIANTS", extra=("all",)),
        ),
    ] = "all",
    seed_track: Annotated[
        int | None, typer.Option("--seed-track", help="Also report this track id as the seed.")
    ] = None,
    include_flagged: IncludeFlaggedOption = False,
    peers: Annotated[
        bool,
        typer.Option(
            "--peers",
            help="Also run Musly and bliss on the same files (pip install 'musicwb\\[peers]'; "
            "results cached beside the store).",
        ),
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """The similarity metrics over all seeds, in-sample and artist-disjoint; with --variant
    all, names the best variant (the artist-disjoint winner).

    Tracks flagged as silence, near-silence or steady tone are left out unless --include-flagged.
    """
    from musicwb.sonic.peers import PEERS
    from musicwb.sonic.validation import report_frame, retrieval_report_frame, validate_store
    from musicwb.store import Store

    with Store(store_path(store), read_only=variant != "all", hold_open=False) as opened:
        report = validate_store(
            opened,
            variant=variant,
            seed_track=seed_track,
            include_flagged=include_flagged,
            peers=PEERS if peers else (),
        )
    if as_json:
        print_json(report)
        return
    typer.echo(report_frame(report).to_string(index=False))
    if report.get("retrieval"):
        typer.echo("\nretrieval, in-sample and artist-disjoint (95% interval over artists):")
        typer.echo(retrieval_report_frame(report).to_string(index=False))
        typer.echo(report["retrieval_verdict"]["sentence"])
    _echo_left_out(report.get("left_out"))
    for note in report.get("notes") or []:
        typer.echo(f"note: {note}")
    if "best_variant" in report:
        typer.echo(f"best variant: {report['best_variant']} (artifact build uses it)")


def _echo_left_out(recorded: dict[str, Any] | None) -> None:
    """The line saying which analysed tracks were left out, from a ``left_out`` record."""
    from musicwb.sonic.feature_set import LeftOut

    line = LeftOut.from_dict(recorded or {}).describe()
    if line:
        typer.echo(line)
