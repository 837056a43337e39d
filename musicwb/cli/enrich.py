"""Enrichment commands: ``musicwb hunt-labels``, ``musicwb enrich queue|run|status`` and
``musicwb cooldown migrate|process|stats``.

``enrich run`` works through the queue in a background thread (the label hunter, rate limited
per source) until the queue, ``--limit`` or ``--budget`` is done; Ctrl-C finishes and writes the
items in hand, saves the worker's state and exits with 130, and the next run carries on. It
opens the store only to read its next items and to commit, so ``musicwb enrich status``,
``musicwb tracks`` and the other commands work while it runs; ``enrich status`` checks that
the worker's process is alive.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from musicwb.cli._common import (
    App,
    Choices,
    JsonOption,
    ModeOption,
    SourcesOption,
    StoreOption,
    app,
    echo_failure_reasons,
    echo_job_result,
    print_frame,
    print_json,
    split_names,
    store_path,
)
from musicwb.errors import ParameterError

if TYPE_CHECKING:  # the commands import the library when they run, so --help stays fast
    from musicwb.enrich.queue import Progress

enrich_app = App(
    help="Background label hunting: queue tracks, run the worker, see where it stands.",
    no_args_is_help=True,
)
cooldown_app = App(
    help="The cool-down queue: tracks without a label yet, retried months later.",
    no_args_is_help=True,
)
app.add_typer(enrich_app, name="enrich")
app.add_typer(cooldown_app, name="cooldown")

WRITER_LOCK_WAIT_S = 60.0
"""How long a long writer's commit waits for readers of the store (each holds it briefly)."""

StrategyOption = Annotated[
    str,
    typer.Option(
        "--strategy",
        metavar=Choices("musicwb.enrich.cooldown", "STRATEGIES"),
        help="Cool-down strategy for newly parked tracks: fixed, exponential or adaptive.",
    ),
]


@enrich_app.command("queue")
def queue_command(
    missing_labels: Annotated[
        bool, typer.Option("--missing-labels", help="Every track without a label (priority 0).")
    ] = False,
    last_scan: Annotated[
        bool, typer.Option("--last-scan", help="The tracks the last scan added (priority 20).")
    ] = False,
    track: Annotated[
        list[int] | None,
        typer.Option("--track", help="A track id (repeatable): re-queued by hand (priority 30)."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put tracks in the enrichment queue (one row per track; higher priorities win)."""
    from musicwb.enrich.queue import (
        enqueue_last_scan,
        enqueue_missing_labels,
        enqueue_tracks,
        queue_progress,
    )
    from musicwb.store import Store

    if not (missing_labels or last_scan or track):
        raise ParameterError("say what to queue: --missing-labels, --last-scan or --track ID")
    counts = {}
    with Store(store_path(store)) as opened:
        if track:
            counts["manual"] = enqueue_tracks(opened, track)
        if last_scan:
            counts["last_scan"] = enqueue_last_scan(opened)
        if missing_labels:
            counts["missing_labels"] = enqueue_missing_labels(opened)
        remaining = queue_progress(opened).remaining
    if as_json:
        print_json({"queued": counts, "remaining": remaining})
    else:
        done = ", ".join(f"{count} by {name.replace('_', ' ')}" for name, count in counts.items())
        typer.echo(f"queued {done}; {remaining} item(s) pending")


@enrich_app.command("run")
def run_command(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Take at most N items.")
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option("--budget", min=0, help="Take no new item after SECONDS (then finish)."),
    ] = None,
    threads: Annotated[
        int, typer.Option("--threads", min=1, help="Items hunted at once (sources in parallel).")
    ] = 2,
    mode: ModeOption = "balanced",
    sources: SourcesOption = None,
    strategy: StrategyOption = "adaptive",
    enqueue: Annotated[
        bool,
        typer.Option(
            "--enqueue/--no-enqueue",
            help="First queue the last scan's tracks and every track missing a label.",
        ),
    ] = True,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Work through the queue in the background; Ctrl-C finishes the items in hand and stops."""
    from tqdm.auto import tqdm

    from musicwb.config import get_settings
    from musicwb.enrich.background import run_enrichment
    from musicwb.store import Store

    settings = get_settings(store=store)
    bar = tqdm(desc="enrich", unit="track", disable=as_json, dynamic_ncols=True)

    def show(progress: Progress) -> None:
        bar.total = progress.processed + progress.remaining
        bar.n = progress.processed
        bar.set_postfix(found=progress.enriched, failed=progress.failed, refresh=False)
        bar.refresh()

    try:
        with Store(store_path(store), hold_open=False, lock_wait_s=WRITER_LOCK_WAIT_S) as opened:
            done = run_enrichment(
                opened,
                settings=settings,
                mode=mode,
                sources=split_names(sources, option="--sources"),
                limit=limit,
                budget_s=budget,
                threads=threads,
                strategy=strategy,
                enqueue=enqueue,
                on_progress=show,
            )
    finally:
        bar.close()
    if done.interrupted:
        typer.echo(
            "interrupted: the items in hand were finished and saved; "
            "`musicwb enrich run` carries on",
            err=True,
        )
        echo_failure_reasons(Counter(done.failure_reasons).elements())
        raise typer.Exit(130)
    deferred = (
        f"{done.deferred} item(s) left pending for the next run: their services could "
        "not be reached"
    )
    echo_job_result(
        as_json=as_json,
        data=done.as_dict(),
        text=_describe(done.progress),
        warning=deferred if done.deferred else None,
        failure_reasons=done.failure_reasons,
    )


def _describe(progress: Progress) -> str:
    rate = "" if progress.rate_per_s is None else f", {progress.rate_per_s:.2f} tracks/s"
    eta = (
        "" if progress.eta_s is None or not progress.remaining else f", ETA {progress.eta_s:.0f} s"
    )
    return (
        f"{progress.shown_state}: {progress.processed} processed ({progress.enriched} enriched, "
        f"{progress.not_found} not found, {progress.failed} failed), "
        f"{progress.remaining} remaining{rate}{eta}"
    )


@enrich_app.command("status")
def status_command(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Where the enrichment stands: processed, enriched, failed, remaining, rate, ETA.

    Works while ``musicwb enrich run`` does (it waits a few seconds for a commit to finish); a
    worker recorded as running whose process is gone shows as ``stopped (worker PID n is
    gone)``.
    """
    from musicwb.enrich.queue import queue_progress
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        progress = queue_progress(opened)
    if as_json:
        print_json(progress.as_dict())
    else:
        typer.echo(_describe(progress))


@cooldown_app.command("migrate")
def cooldown_migrate(
    strategy: StrategyOption = "adaptive",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the jitter (reproducible dates).")
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Park finished tracks without a label (not found, failed) that are not in cool-down yet."""
    from musicwb.enrich import cooldown
    from musicwb.store import Store

    with Store(store_path(store)) as opened:
        parked = cooldown.migrate(opened, now=cooldown.utc_now(), strategy=strategy, rng=seed)
    if as_json:
        print_json({"parked": parked})
    else:
        typer.echo(f"parked {parked} track(s) in the cool-down ({strategy})")


@cooldown_app.command("process")
def cooldown_process(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Send the tracks whose retry time has come back to the enrichment queue.

    The summary ends with why the re-queued tracks failed last time (those that were not
    simply not found).
    """
    from musicwb.enrich import cooldown
    from musicwb.store import Store

    with Store(store_path(store)) as opened:
        due = cooldown.process_due(opened, now=cooldown.utc_now())
        reasons = cooldown.last_failure_reasons(opened, due)
    if as_json:
        print_json({"requeued": len(due), "failure_reasons": reasons})
    else:
        typer.echo(f"re-queued {len(due)} track(s) from the cool-down")
    echo_failure_reasons(Counter(reasons).elements())


@cooldown_app.command("stats")
def cooldown_stats(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Total, ready, waiting, next retry time, average retries, and a summary per strategy."""
    import pandas as pd

    from musicwb.enrich import cooldown
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        stats = cooldown.stats(opened, now=cooldown.utc_now())
    if as_json:
        print_json(stats)
        return
    typer.echo(
        f"{stats['total']} in cool-down: {stats['ready']} ready, {stats['waiting']} waiting, "
        f"{stats['permanently_failed']} permanently failed; next retry "
        f"{stats['next_retry_at'] or '-'}; average retries {stats['average_retries']}"
    )
    print_frame(pd.DataFrame(stats["strategies"]), as_json=False)


# ``musicwb hunt-labels``: the label hunter over the library, in the foreground.

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
    where the track has none of the user's own (tags, CSV, `musicwb labels accept`). The library
    and title tiers state the precision last measured by `musicwb labels calibrate` (until then
    the library tier's measured on the DJ Mix Dataset). Ctrl-C keeps what was finished. The store is
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
