"""One background enrichment run, as ``musicwb enrich run`` does it: queue, hunt, record.

:func:`run_enrichment` queues the last scan's tracks and every track missing a label (unless
told not to), builds the label hunter, and lets a :class:`~musicwb.enrich.worker.Worker` work
through the queue until the queue, the limit or the budget is done, recording the whole as a
run of kind ``enrich`` (:func:`musicwb.store.runs.recorded_run`). Ctrl-C finishes and writes the
items in hand, records the run as ``interrupted`` and returns.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/run.duckdb", hold_open=False) as store:  # empty library
...     done = run_enrichment(store, limit=10, sources=["library", "title"])
>>> done.progress.state, done.progress.processed, done.interrupted
('finished', 0, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from musicwb.config import Settings
from musicwb.enrich.cooldown import DEFAULT_STRATEGY, Strategy
from musicwb.enrich.labels import make_hunter
from musicwb.enrich.match import Mode
from musicwb.enrich.queue import Progress, enqueue_last_scan, enqueue_missing_labels
from musicwb.enrich.worker import Worker
from musicwb.store import Store
from musicwb.store.runs import recorded_run

__all__ = ["EnrichmentRun", "run_enrichment"]


@dataclass(frozen=True)
class EnrichmentRun:
    """What a background enrichment run did.

    Attributes
    ----------
    run_id : str
        The run's record (kind ``enrich``).
    progress : Progress
        Where the queue stood when the run ended.
    failure_reasons : dict of str to int
        Failed attempts of this run per short reason, most frequent first.
    deferred : int
        Items left pending for a later run: their services could not be reached.
    interrupted : bool
        Ctrl-C ended the run (the items in hand were finished and written).
    """

    run_id: str
    progress: Progress
    failure_reasons: dict[str, int]
    deferred: int
    interrupted: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The progress with ``run_id``, ``failure_reasons`` and ``deferred`` (the ``--json``)."""
        return {
            **self.progress.as_dict(),
            "run_id": self.run_id,
            "failure_reasons": self.failure_reasons,
            "deferred": self.deferred,
        }


def run_enrichment(
    store: Store,
    *,
    settings: Settings | None = None,
    mode: Mode = "balanced",
    sources: Sequence[str] | None = None,
    limit: int | None = None,
    budget_s: float | None = None,
    threads: int = 2,
    strategy: Strategy = DEFAULT_STRATEGY,
    enqueue: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
) -> EnrichmentRun:
    """Work through the enrichment queue in a background thread until it is done.

    Parameters
    ----------
    store : Store
        Open for writing; opened with ``hold_open=False``, other processes use it between the
        worker's reads and commits (one handle serves every thread).
    settings : Settings, optional
        For the hunter (contact, rate limits, tokens); default ``get_settings()``.
    mode : {"fast", "balanced", "accurate"}, default "balanced"
    sources : sequence of str, optional
        The hunter's tiers (see :func:`~musicwb.enrich.labels.make_hunter`).
    limit : int, optional
        Take at most this many items.
    budget_s : float, optional
        Take no new item after this many seconds.
    threads : int, default 2
        Items hunted at once.
    strategy : {"fixed", "exponential", "adaptive"}, default "adaptive"
        Cool-down strategy for newly parked tracks.
    enqueue : bool, default True
        First queue the last scan's tracks and every track missing a label.
    on_progress : callable, optional
        Called with a :class:`~musicwb.enrich.queue.Progress` before the run and after every
        commit (from the worker thread).

    Returns
    -------
    EnrichmentRun
    """
    parameters = {
        "limit": limit,
        "budget": budget_s,
        "threads": threads,
        "mode": mode,
        "sources": list(sources) if sources is not None else None,
        "strategy": strategy,
    }
    if enqueue:
        enqueue_last_scan(store)
        enqueue_missing_labels(store)
    hunter = make_hunter(store, settings=settings, mode=mode, sources=sources)
    worker = Worker(
        store,
        hunter,
        threads=threads,
        limit=limit,
        budget_s=budget_s,
        strategy=strategy,
        on_progress=on_progress,
    )
    ended = {"ok": False}

    def summary() -> dict[str, Any]:
        reasons = {"failure_reasons": dict(worker.failure_reasons.most_common())}
        deferred = {"deferred": worker.deferred} if ended["ok"] else {}
        return {**worker.progress().as_dict(), **reasons, **deferred}

    interrupted = False
    try:
        with recorded_run(store, kind="enrich", parameters=parameters) as run:
            run.summary = summary
            if on_progress is not None:
                on_progress(worker.progress())
            worker.run()
            ended["ok"] = True
    except KeyboardInterrupt:
        interrupted = True
    return EnrichmentRun(
        run_id=run.run_id,
        progress=worker.progress(),
        failure_reasons=dict(worker.failure_reasons.most_common()),
        deferred=worker.deferred,
        interrupted=interrupted,
    )
