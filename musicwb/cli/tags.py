"""Tag commands: write accepted labels and catalogue numbers into the files, list and undo runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from musicwb.cli._common import (
    App,
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

if TYPE_CHECKING:
    from musicwb.library.tag_runs import TagRunKind, TagRunReport
    from musicwb.store import Store

tags_app = App(
    help="Write the store's labels and catalogue numbers into the files' tags, and undo it.",
    no_args_is_help=True,
)
app.add_typer(tags_app, name="tags")


def _echo_report(report: TagRunReport, *, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
    else:
        typer.echo(report.describe())
    echo_failure_reasons(r.reason for r in report.results if r.outcome == "failed")


def _interrupted(opened: Store, *, kind: TagRunKind, as_json: bool) -> NoReturn:
    """After Ctrl-C: say what the run recorded, and exit with 130."""
    from musicwb.store import last_run

    run = last_run(opened, kind=kind)
    if run is not None:
        if as_json:
            print_json({k: run[k] for k in ("run_id", "kind", "status", "summary")})
        typer.echo(
            f"interrupted; run {run['run_id']} recorded what was done: {run['summary']}"
            + (
                f" (`musicwb tags undo {run['run_id']}` restores it)" if kind == "tag_write" else ""
            ),
            err=True,
        )
    raise typer.Exit(130)


def _run(
    job: Callable[[Store], TagRunReport],
    *,
    kind: TagRunKind,
    store: Path | None,
    as_json: bool,
) -> None:
    """Run a tag write or undo on the store and print its report; exit 1 if a file failed."""
    from musicwb.store import Store

    with Store(store_path(store), hold_open=False) as opened:
        try:
            report = job(opened)
        except KeyboardInterrupt:
            _interrupted(opened, kind=kind, as_json=as_json)
    _echo_report(report, as_json=as_json)
    if report.counts().get("failed"):
        raise typer.Exit(1)


@tags_app.command()
def write(
    fields: Annotated[
        str, option("--fields", "Fields to write, comma-separated: label, catalogue.")
    ] = "label,catalogue",
    min_confidence: Annotated[
        float,
        option("--min-confidence", "Write only values at least this sure.", min=0.0, max=1.0),
    ] = 0.9,
    apply: Annotated[bool, flag("--apply", "Write the files (a dry run otherwise).")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write accepted labels and catalogue numbers into the files (dry run by default).

    Prints, per file, each field that would change (old → new) or why the file is skipped
    (gone, read-only, unsupported format, changed since the last scan). With --apply the
    original tags are saved in the store first; `musicwb tags undo RUN_ID` restores them.
    """
    from musicwb.library.tag_runs import write_tags

    _run(
        lambda opened: write_tags(
            opened,
            fields=fields,
            min_confidence=min_confidence,
            apply=apply,
            progress=not as_json,
        ),
        kind="tag_write",
        store=store,
        as_json=as_json,
    )


@tags_app.command()
def undo(
    run_id: Annotated[str, typer.Argument(help="The tag write run (see `musicwb tags runs`).")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore the tags a `tags write --apply` run replaced, byte for byte.

    Files changed since that write (size, mtime or tags) are skipped with the reason.
    """
    from musicwb.library.tag_runs import undo_tags

    _run(
        lambda opened: undo_tags(opened, run_id, progress=not as_json),
        kind="tag_undo",
        store=store,
        as_json=as_json,
    )


@tags_app.command()
def runs(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the tag write and undo runs, newest first, with what each did."""
    from musicwb.library.tag_runs import tag_runs
    from musicwb.store import Store

    with Store(store_path(store), hold_open=False) as opened:
        frame = tag_runs(opened)
    print_frame(frame, as_json=as_json)


@tags_app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="A tag write or undo run.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the files of one tag run: outcome, reason and changes."""
    from musicwb.library.tag_runs import tag_run_files
    from musicwb.store import Store

    with Store(store_path(store), hold_open=False) as opened:
        frame = tag_run_files(opened, run_id=run_id)
    print_frame(frame, as_json=as_json)
