"""The cool-down in the store: park tracks, send back the due ones, count what waits.

The dates come from :mod:`musicwb.enrich.cooldown`; every function takes the time as
a ``now`` parameter, so tests run months in milliseconds.

Examples
--------
>>> import tempfile
>>> from datetime import datetime
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/cooldown.duckdb") as store:
...     process(store, now=datetime(2026, 1, 1)), stats(store, now=datetime(2026, 1, 1))["total"]
(0, 0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from musicwb.enrich.cooldown import DEFAULT_STRATEGY, Strategy, base_delay_days, plan_parking
from musicwb.enrich.queue import COOLDOWN_PRIORITY, enqueue_tracks
from musicwb.store import Store
from musicwb.store.tables import enrich as tables

__all__ = [
    "due_frame",
    "last_failure_reasons",
    "migrate",
    "park",
    "process",
    "process_due",
    "stats",
    "summary_frame",
    "write_parking",
]


def park(
    store: Store,
    entries: pd.DataFrame,
    *,
    now: datetime,
    strategy: Strategy = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
) -> int:
    """Put tracks into the cool-down (or back into it after a retry found nothing again).

    A track already in the cool-down keeps its strategy and retry count; a new one starts at
    retry 0 with ``strategy``. Joins the caller's transaction.

    Parameters
    ----------
    store : Store
        Open for writing.
    entries : pandas.DataFrame
        ``track_id``, ``reason`` (``"not_found"`` or ``"failed"``), ``last_error`` (str or
        None), optional ``label_hint`` (bool).
    now : datetime
    strategy : {"fixed", "exponential", "adaptive"}, default "adaptive"
        For tracks entering the cool-down for the first time.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    int
        Tracks parked (waiting or permanently failed); tracks no longer in the library are
        left out.
    """
    base_delay_days(strategy, retry_count=0)  # validates the strategy
    if entries.empty:
        return 0
    known = tables.cooldown_of_tracks(store=store, track_ids=entries["track_id"])
    planned = plan_parking(
        entries.merge(known, on="track_id", how="inner"), now=now, strategy=strategy, rng=rng
    )
    return write_parking(store, planned)


def write_parking(store: Store, planned: pd.DataFrame) -> int:
    """Write rows of :func:`~musicwb.enrich.cooldown.plan_parking`: new ones
    inserted, known ones updated (bulk)."""
    if planned.empty:
        return 0
    return tables.write_cooldown(
        store=store, rows=planned.drop(columns="is_new"), is_new=planned["is_new"]
    )


def migrate(
    store: Store,
    *,
    now: datetime,
    strategy: Strategy = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
    track_ids: Sequence[int] | None = None,
) -> int:
    """Park the tracks that enrichment left without a label and that are not in cool-down yet.

    Two kinds: queue items finished as ``not_found`` or ``failed`` (the worker parks these
    itself; this catches items finished by a worker told not to park, or before the cool-down
    existed), and tracks never queued whose latest label hunt (``musicwb hunt-labels``, the
    ``label_hunts`` table) ended ``not_found`` or ``failed`` and that still have no label.

    Parameters
    ----------
    store : Store
    now : datetime
    strategy : {"fixed", "exponential", "adaptive"}, default "adaptive"
    rng : numpy.random.Generator or int, optional
    track_ids : sequence of int, optional
        Only these tracks.

    Returns
    -------
    int
        Tracks parked.
    """
    with store.transaction():
        entries = tables.finished_without_label(store=store, track_ids=track_ids)
        return park(store, entries, now=now, strategy=strategy, rng=rng)


def process(store: Store, *, now: datetime) -> int:
    """Send the tracks whose retry time has come back to the work queue.

    Each goes in with the cool-down priority, its attempts reset, and its retry count raised by
    one; permanently failed tracks stay. One transaction.

    Returns
    -------
    int
        Tracks re-queued.
    """
    return len(process_due(store, now=now))


def process_due(store: Store, *, now: datetime) -> list[int]:
    """:func:`process`, returning the ids of the tracks re-queued (in the order they fell due)."""
    with store.transaction():
        due = tables.cooldown_due(store=store, now=now)
        if not due:
            return []
        tables.mark_cooldown_queued(store=store, track_ids=due, now=now)
        enqueue_tracks(store, due, priority=COOLDOWN_PRIORITY, reason="cooldown", now=now)
    return due


def last_failure_reasons(store: Store, track_ids: Sequence[int]) -> dict[str, int]:
    """Why the given tracks failed the last time they were hunted, counted per short reason.

    A track whose latest hunt did not fail counts nothing; a failed hunt recorded before short
    reasons were kept counts its full error.

    Parameters
    ----------
    store : Store
    track_ids : sequence of int

    Returns
    -------
    dict of str to int
        Most frequent first.

    Examples
    --------
    >>> last_failure_reasons(store, [3, 5])  # doctest: +SKIP
    {'MusicBrainz: cannot reach musicbrainz.org (Name or service not known)': 2}
    """
    ids = sorted({int(i) for i in track_ids})
    if not ids:
        return {}
    counts: Counter[str] = Counter()
    for status, reasons, error in tables.last_hunt_failures(store=store, track_ids=ids):
        if status == "failed":
            counts.update(reasons or [error or "unknown"])
    return dict(counts.most_common())


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def stats(store: Store, *, now: datetime) -> dict[str, Any]:
    """The cool-down at a glance.

    Returns
    -------
    dict
        ``total`` (waiting or permanently failed), ``ready`` (due now), ``waiting`` (due
        later), ``permanently_failed``, ``queued`` (sent back, not finished yet),
        ``resolved``, ``next_retry_at`` (ISO time of the next future retry, or None),
        ``average_retries`` (mean retry count of the tracks in cool-down, or None) and
        ``strategies`` (the rows of :func:`summary_frame` as dicts).
    """
    counts = tables.cooldown_counts(store=store, now=now)
    summary = summary_frame(store, now=now)
    summary["next_retry_at"] = summary["next_retry_at"].map(_iso)
    average = counts.average_retries
    return {
        "total": counts.total,
        "ready": counts.ready,
        "waiting": counts.waiting,
        "permanently_failed": counts.permanently_failed,
        "queued": counts.queued,
        "resolved": counts.resolved,
        "next_retry_at": _iso(counts.next_retry_at),
        "average_retries": None if average is None else round(average, 3),
        "strategies": summary.to_dict(orient="records"),
    }


def summary_frame(store: Store, *, now: datetime) -> pd.DataFrame:
    """One row per strategy: how many tracks wait, are due, gave up; when the next is due.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``total``, ``ready``, ``waiting``, ``permanently_failed``,
        ``average_retries``, ``next_retry_at`` (shape ``(n_strategies, 7)``).
    """
    return tables.cooldown_summary(store=store, now=now)


def due_frame(store: Store) -> pd.DataFrame:
    """The tracks waiting in the cool-down and when each is due (for the retry chart).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``strategy``, ``reason``, ``retry_count``, ``next_retry_at``,
        ``due_date`` (the day) — one row per waiting track, ordered by ``next_retry_at``.
    """
    return tables.cooldown_waiting(store=store)
