"""The enrichment queue in the store: putting tracks in, where it stands, and what happens to
an item after its hunt.

At one request per second, ten thousand tracks take hours, so label hunting runs in the
background: tracks go into a queue in the store (:func:`enqueue_tracks`,
:func:`enqueue_missing_labels`, :func:`enqueue_last_scan`), and a
:class:`~musicwb.enrich.worker.Worker` thread takes the highest-priority items, hunts them and
books the outcomes with :func:`book` (pure) in one transaction per batch.

Priorities (higher first): a manual re-queue 30, tracks of the last scan 20, retries from the
cool-down 10, the rest of the tracks missing a label 0; within a priority, first queued first.

What happens to an item (:func:`next_state`):

- ``found``: the finding is recorded (:func:`musicwb.enrich.findings.record_outcomes`), the
  item is ``done``;
- ``not_found``: every tier answered and none knew the label. That is an answer, not an error:
  the item is finished at once (``not_found``) and parked in the cool-down, since a promo that
  nobody knows today is often released one to three months later;
- ``failed`` (a source failed after its own retries): the attempt is counted and the item goes
  to the back of its priority; after ``max_attempts`` (3) it is ``failed`` and parked in the
  cool-down too. When the only failures were services that could not be reached (offline, DNS
  failure, connection refused), the worker does not try the item again in the same run.

:func:`queue_progress` (``musicwb enrich status``) reports a worker recorded as running whose
process is gone as ``stopped`` with the detail ``worker PID n is gone``.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/queue.duckdb") as store:
...     enqueue_missing_labels(store), queue_progress(store).state
(0, 'idle')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from musicwb.enrich.cooldown import Strategy, plan_parking, utc_now
from musicwb.enrich.liveness import WorkerProcess, worker_gone
from musicwb.enrich.outcomes import HuntOutcome
from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import last_run
from musicwb.store.tables import enrich as tables
from musicwb.store.tables.enrich import QueueItem

__all__ = [
    "ACTIVE_STATES",
    "COOLDOWN_PRIORITY",
    "FINISHED_STATES",
    "LAST_SCAN_PRIORITY",
    "MANUAL_PRIORITY",
    "MAX_ATTEMPTS",
    "MISSING_LABEL_PRIORITY",
    "RATE_WINDOW_S",
    "Booking",
    "Finished",
    "ItemState",
    "NextState",
    "Progress",
    "QueueItem",
    "QueueReason",
    "WorkerState",
    "book",
    "checked_state",
    "enqueue_last_scan",
    "enqueue_missing_labels",
    "enqueue_tracks",
    "next_state",
    "queue_frame",
    "queue_progress",
    "worker_counters",
]

MANUAL_PRIORITY = 30
LAST_SCAN_PRIORITY = 20
COOLDOWN_PRIORITY = 10
MISSING_LABEL_PRIORITY = 0
MAX_ATTEMPTS = 3
RATE_WINDOW_S = 60.0
"""The window of the rate (items finished per second) and so of the ETA."""

ItemState = Literal["pending", "done", "not_found", "failed"]
"""A queue item's state."""
QueueReason = Literal["manual", "last_scan", "missing_label", "cooldown"]
"""The policy that queued an item."""
FINISHED_STATES: tuple[ItemState, ...] = ("done", "not_found", "failed")
WorkerState = Literal[
    "idle", "running", "pausing", "paused", "stopping", "stopped", "finished", "error"
]
"""The worker's state, as recorded in the store."""
ACTIVE_STATES: tuple[WorkerState, ...] = ("running", "pausing", "paused", "stopping")
"""States in which the recorded worker process should be alive."""


# -- enqueueing ------------------------------------------------------------------------------


def enqueue_tracks(
    store: Store,
    track_ids: Iterable[int],
    *,
    priority: int = MANUAL_PRIORITY,
    reason: QueueReason = "manual",
    now: datetime | None = None,
    requeue_finished: bool = True,
) -> int:
    """Put tracks in the queue (one row per track), or raise the priority of queued ones.

    Parameters
    ----------
    store : Store
        Open for writing.
    track_ids : iterable of int
        Tracks of the library; unknown ids raise.
    priority : int, default 30 (manual)
        A pending item keeps the higher of its priority and this one.
    reason : str, default "manual"
        The policy that queues them (``manual``, ``last_scan``, ``missing_label``, ``cooldown``).
    now : datetime, optional
        The queue time (naive UTC); default the current time.
    requeue_finished : bool, default True
        Put finished items (done, not_found, failed) back as pending with their attempts reset,
        and take them out of the cool-down, even when permanently failed. False leaves them be.

    Returns
    -------
    int
        Items newly pending or with a raised priority.

    Raises
    ------
    ParameterError
        A track id is not in the library.

    Examples
    --------
    >>> enqueue_tracks(store, [3, 5])  # doctest: +SKIP
    2
    """
    ids = sorted({int(i) for i in track_ids})
    if not ids:
        return 0
    now = now or utc_now()
    with store.transaction():
        known = tables.queue_of_tracks(store=store, track_ids=ids)
        missing = sorted(set(ids) - set(known["track_id"].astype(int)))
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise ParameterError(f"no track with id {shown} in store {store.path}")
        is_new = known["state"].isna()
        is_pending = known["state"].eq("pending")
        raise_priority = is_pending & (known["priority"] < priority)
        requeue = known["state"].isin(FINISHED_STATES) & requeue_finished
        fresh = known[is_new | requeue]
        raised = known[raise_priority]
        stamp = pd.Timestamp(now)
        if not fresh.empty:
            fresh_ids = fresh["track_id"].astype("int64")
            tables.upsert_queue(
                store=store,
                rows=pd.DataFrame(
                    {
                        "track_id": fresh_ids,
                        "priority": np.int32(priority),
                        "reason": reason,
                        "queued_at": stamp,
                        "attempts": np.int32(0),
                        "last_error": None,
                        "state": "pending",
                        "finished_at": pd.NaT,
                        "updated_at": stamp,
                    }
                ),
            )
            tables.release_from_cooldown(store=store, track_ids=fresh_ids.tolist(), now=now)
        if not raised.empty:
            tables.update_queue(
                store=store,
                rows=pd.DataFrame(
                    {
                        "track_id": raised["track_id"].astype("int64"),
                        "priority": np.int32(priority),
                        "reason": reason,
                        "updated_at": stamp,
                    }
                ),
            )
    return len(fresh) + len(raised)


def enqueue_missing_labels(
    store: Store, *, now: datetime | None = None, limit: int | None = None
) -> int:
    """Queue every track without a label that the queue has not seen yet (priority 0).

    Tracks already in the queue (pending or finished) or in the cool-down are left as they
    are: the cool-down decides when a not-found track is asked about again.

    Returns
    -------
    int
        Tracks queued.
    """
    if limit is not None and limit < 1:
        raise ParameterError(f"limit must be at least 1, got {limit}")
    return enqueue_tracks(
        store,
        tables.unqueued_tracks_without_label(store=store, limit=limit),
        priority=MISSING_LABEL_PRIORITY,
        reason="missing_label",
        now=now,
        requeue_finished=False,
    )


def enqueue_last_scan(
    store: Store, *, now: datetime | None = None, only_missing: bool = True
) -> int:
    """Queue the tracks the last scan added (``tracks.added_run``), with scan priority (20).

    Tracks already finished in the queue or parked in the cool-down (a plain hunt found
    nothing for them) are left as they are; a manual re-queue overrides both.

    Parameters
    ----------
    store : Store
    now : datetime, optional
    only_missing : bool, default True
        Only those without a label (a label from the file's tags is the user's and stays).

    Returns
    -------
    int
        Tracks queued or raised to the scan priority; 0 when there was no scan.
    """
    scan = last_run(store, kind="scan")
    if scan is None:
        return 0
    return enqueue_tracks(
        store,
        tables.track_ids_added_by(store=store, run_id=scan["run_id"], only_missing=only_missing),
        priority=LAST_SCAN_PRIORITY,
        reason="last_scan",
        now=now,
        requeue_finished=False,
    )


def queue_frame(
    store: Store, *, state: ItemState | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The queue with each track's artist and title, in the order the worker takes it.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``priority``, ``reason``, ``state``,
        ``attempts``, ``last_error``, ``queued_at``, ``finished_at``.
    """
    return tables.queue_rows(store=store, state=state, limit=limit)


# -- what happens to an item -----------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """One hunt as the worker books it: the queue item and the hunter's outcome."""

    item: QueueItem
    outcome: HuntOutcome

    @property
    def status(self) -> str:
        """The outcome's status: ``found``, ``not_found`` or ``failed``."""
        return self.outcome.status


@dataclass(frozen=True)
class NextState:
    """An item's queue row after its hunt (see :func:`next_state`)."""

    state: ItemState
    attempts: int
    queued_at: datetime

    @property
    def finished(self) -> bool:
        """The item left the queue (done, not found, or failed for good)."""
        return self.state in FINISHED_STATES


def next_state(
    item: QueueItem, outcome: HuntOutcome, *, now: datetime, max_attempts: int = MAX_ATTEMPTS
) -> NextState:
    """The per-item state machine: where a queue item goes after its hunt.

    ``found`` → ``done``; ``not_found`` → ``not_found``; ``failed`` counts an attempt and stays
    ``pending`` (at the back of its priority: queued again at ``now``) until ``max_attempts``,
    then ``failed``. An item whose track left the library fails at once.

    Parameters
    ----------
    item : QueueItem
    outcome : HuntOutcome
    now : datetime
    max_attempts : int, default 3

    Returns
    -------
    NextState

    Examples
    --------
    >>> from datetime import datetime
    >>> item = QueueItem(track_id=1, attempts=2, queued_at=datetime(2026, 1, 1), priority=0,
    ...                  reason="missing_label", in_library=True)
    >>> failed = HuntOutcome(track_id=1, status="failed", error="timeout")
    >>> next_state(item, failed, now=datetime(2026, 1, 2)).state
    'failed'
    >>> next_state(item, failed, now=datetime(2026, 1, 2), max_attempts=5).state
    'pending'
    """
    attempts = item.attempts + (1 if outcome.status == "failed" else 0)
    state: ItemState
    if outcome.status == "found":
        state = "done"
    elif outcome.status == "not_found":
        state = "not_found"
    elif attempts >= max_attempts or not item.in_library:
        state = "failed"
    else:
        state = "pending"
    return NextState(
        state=state, attempts=attempts, queued_at=now if state == "pending" else item.queued_at
    )


@dataclass(frozen=True)
class Booking:
    """What a batch of finished hunts writes (see :func:`book`).

    Attributes
    ----------
    states : tuple of NextState
        One per hunt, in order.
    queue_update : pandas.DataFrame
        The queue rows' new ``state``, ``attempts``, ``last_error``, ``queued_at``,
        ``finished_at``, ``updated_at``.
    parking : pandas.DataFrame or None
        Cool-down rows of the items finished without a label (None when none, or not parking).
    resolved : tuple of int
        Re-queued tracks (from the cool-down or by hand) that found their label.
    counts : dict of str to int
        What to add to the worker's counters.
    """

    states: tuple[NextState, ...]
    queue_update: pd.DataFrame
    parking: pd.DataFrame | None
    resolved: tuple[int, ...]
    counts: dict[str, int]


def book(
    finished: Sequence[Finished],
    *,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
    park: bool = True,
    strategy: Strategy = "adaptive",
    rng: np.random.Generator | None = None,
) -> Booking:
    """Book a batch of finished hunts: queue rows, cool-down rows and counters (pure).

    Parameters
    ----------
    finished : sequence of Finished
    now : datetime
    max_attempts : int, default 3
    park : bool, default True
        Plan cool-down rows for the items finished without a label.
    strategy : {"fixed", "exponential", "adaptive"}, default "adaptive"
        For items entering the cool-down for the first time.
    rng : numpy.random.Generator, optional
        The cool-down jitter's random source.

    Returns
    -------
    Booking
    """
    states = tuple(
        next_state(f.item, f.outcome, now=now, max_attempts=max_attempts) for f in finished
    )
    stamp = pd.Timestamp(now)
    queue_update = pd.DataFrame(
        {
            "track_id": pd.Series([f.item.track_id for f in finished], dtype="int64"),
            "state": [s.state for s in states],
            "attempts": pd.Series([s.attempts for s in states], dtype="int32"),
            "last_error": [f.outcome.error for f in finished],
            "queued_at": pd.to_datetime([s.queued_at for s in states]),
            "finished_at": [stamp if s.finished else pd.NaT for s in states],
            "updated_at": stamp,
        }
    )
    parked = [
        (f, s)
        for f, s in zip(finished, states, strict=True)
        if s.state in ("not_found", "failed") and f.item.in_library
    ]
    parking = None
    if park and parked:
        entries = pd.DataFrame(
            {
                "track_id": [f.item.track_id for f, _ in parked],
                "reason": [s.state for _, s in parked],
                "last_error": [f.outcome.error for f, _ in parked],
                "has_label": [f.item.has_label for f, _ in parked],
                "added_at": [f.item.track and f.item.track.added_at for f, _ in parked],
                "strategy": [f.item.cooldown_strategy for f, _ in parked],
                "retry_count": [f.item.cooldown_retry_count for f, _ in parked],
                "entered_at": [f.item.cooldown_entered_at for f, _ in parked],
                "history": [f.item.cooldown_history for f, _ in parked],
            }
        )
        parking = plan_parking(entries, now=now, strategy=strategy, rng=rng)
    # only a re-queued track (from the cool-down or by hand) can have a cool-down row
    resolved = tuple(
        f.item.track_id
        for f in finished
        if f.status == "found" and f.item.reason != "missing_label"
    )
    counts = {
        "processed": sum(s.finished for s in states),
        "enriched": sum(s.state == "done" for s in states),
        "not_found": sum(s.state == "not_found" for s in states),
        "failed": sum(s.state == "failed" for s in states),
        "attempt_errors": sum(f.status == "failed" for f in finished),
    }
    return Booking(
        states=states,
        queue_update=queue_update,
        parking=parking,
        resolved=resolved,
        counts=counts,
    )


# -- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where the enrichment stands.

    Attributes
    ----------
    state : str
        The worker's state (``idle``, ``running``, ``paused``, ``stopped``, ``finished``,
        ``error``). A worker killed while running leaves ``running`` in the store;
        :func:`queue_progress` reports it as ``stopped`` once its process is gone.
    processed : int
        Items finished so far, over every run (``enriched + not_found + failed``).
    enriched, not_found, failed : int
        Finished with a label; answered without one; failed on every attempt.
    attempt_errors : int
        Attempts that failed (each item gets up to three).
    remaining : int
        Items pending in the queue.
    rate_per_s : float or None
        Items finished per second over the last minute.
    eta_s : float or None
        Seconds until the queue is empty at that rate.
    pid : int or None
        The process the worker runs (or last ran) in.
    host : str or None
        The machine of that process.
    detail : str or None
        Why the state differs from what the store recorded (``"worker PID 123 is gone"``), or
        that it cannot be checked (a worker on another host).
    """

    state: str
    processed: int
    enriched: int
    not_found: int
    failed: int
    attempt_errors: int
    remaining: int
    rate_per_s: float | None
    eta_s: float | None
    pid: int | None = None
    host: str | None = None
    detail: str | None = None

    @property
    def shown_state(self) -> str:
        """The state with its detail, for people: ``"stopped (worker PID 123 is gone)"``."""
        return f"{self.state} ({self.detail})" if self.detail else self.state

    @property
    def fraction(self) -> float:
        """Finished share of what was and is in the queue (1.0 when it is empty)."""
        total = self.processed + self.remaining
        return 1.0 if total == 0 else self.processed / total

    def as_dict(self) -> dict[str, Any]:
        """The progress as a plain dict (the JSON of ``musicwb enrich status``)."""
        return asdict(self)


def worker_counters(store: Store) -> dict[str, Any]:
    """The worker's recorded state, counters, PID and host (the fields of :class:`Progress`
    that the store keeps)."""
    row = tables.worker_row(store=store)
    return {"state": row.state, **row.counts, "pid": row.pid, "host": row.host}


def checked_state(store: Store) -> tuple[str, str | None]:
    """The recorded worker state as it really is, and why it differs (or None).

    An active worker whose process is gone is ``stopped`` (``worker PID 123 is gone``); one on
    another host cannot be checked.
    """
    row = tables.worker_row(store=store)
    if row.state not in ACTIVE_STATES or row.pid is None or row.host is None:
        return row.state, None
    process = WorkerProcess(pid=row.pid, host=row.host, started=row.process_started)
    gone = worker_gone(process)
    if gone:
        return "stopped", f"worker {process.describe()} is gone"
    if gone is None:
        return row.state, f"worker {process.describe()}, not checked from this host"
    return row.state, None


def queue_progress(store: Store, *, now: datetime | None = None) -> Progress:
    """The progress as the store records it (what a second process or a report sees).

    The rate counts the items finished in the minute before ``now``. A worker recorded as
    active whose process has ended (killed) is reported as ``stopped``, with the detail
    ``worker PID n is gone``.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    now : datetime, optional
        Default the current time (naive UTC).

    Returns
    -------
    Progress
    """
    now = now or utc_now()
    counters = worker_counters(store)
    counters["state"], detail = checked_state(store)
    remaining = tables.pending_count(store=store)
    recent = tables.recent_hunt_count(
        store=store, since=now - timedelta(seconds=RATE_WINDOW_S), until=now
    )
    rate = recent / RATE_WINDOW_S if recent else None
    return Progress(
        **counters,
        remaining=remaining,
        rate_per_s=rate,
        eta_s=None if rate is None else remaining / rate,
        detail=detail,
    )
