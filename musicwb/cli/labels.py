"""``musicwb hunt-labels``: the label hunter over the library."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer

from musicwb.cli._common import (
    JsonOption,
    ModeOption,
    SourcesOption,
    StoreOption,
    app,
    echo_failure_reasons,
    print_json,
    split_names,
    store_path,
)

WRITER_LOCK_WAIT_S = 60.0
"""How long a write waits for readers of the store (each holds it for a moment)."""


@app.command("hunt-labels")
def hunt_labels(
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N tracks.")] = None,
    skip_with_labels: Annotated[
        bool, typer.Option("--skip-with-labels", help="Leave out tracks that have a label.")
    ] = False,
    mode: ModeOption = "balanced",
    sources: SourcesOption = None,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="A finding needs this to be accepted.")
    ] = 0.7,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find record labels: library knowledge, title brackets, MusicBrainz, Discogs.

    Every finding is stored with its source, confidence and evidence; a label is filled in only
    where the track has none of the user's own. Ctrl-C keeps what was finished. The store is
    opened only while a result is written, so other commands can read it meanwhile; a service
    that cannot be reached is asked no more in this run, and the summary ends with the most
    common failure reasons.
    """
    from musicwb.config import get_settings
    from musicwb.enrich.hunt import hunt_labels as run_hunt
    from musicwb.store import Store

    settings = get_settings(store=store)
    with Store(store_path(store), hold_open=False, lock_wait_s=WRITER_LOCK_WAIT_S) as opened:
        try:
            summary = run_hunt(
                opened,
                limit=limit,
                skip_with_labels=skip_with_labels,
                mode=mode,
                sources=split_names(sources, option="--sources"),
                min_confidence=min_confidence,
                settings=settings,
                progress=not as_json,
            )
        except KeyboardInterrupt:
            typer.echo("interrupted: finished tracks are saved; run it again to go on", err=True)
            raise typer.Exit(130) from None
    failed = (
        f"{summary.failed} track(s) failed at a source; see the label_hunts table "
        "(status 'failed') or the label_hunting notebook."
    )
    echo_job_result(
        as_json=as_json,
        data=summary.as_dict(),
        text=summary.describe(),
        warning=failed if summary.failed else None,
        failure_reasons=summary.failure_reasons,
    )


def echo_job_result(
    *,
    as_json: bool,
    data: dict[str, Any],
    text: str,
    warning: str | None,
    failure_reasons: dict[str, int],
) -> None:
    """Print a label job's result: its JSON or its text on stdout, then on stderr the warning
    (if any) and the most common failure reasons."""
    if as_json:
        print_json(data)
    else:
        typer.echo(text)
    if warning:
        typer.echo(warning, err=True)
    echo_failure_reasons(Counter(failure_reasons).elements())
