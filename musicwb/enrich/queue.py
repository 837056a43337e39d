"""The enrichment queue in the store, and the background worker that empties it.

At one request per second, ten thousand tracks take hours, so label hunting runs in the
background: tracks go into a queue in the store (:func:`enqueue_tracks`,
:func:`enqueue_missing_labels`, :func:`enqueue_last_scan`), and a :class:`Worker` thread takes
the highest-priority item, runs the label hunter on it and writes the outcome together with the
queue update in one transaction. The worker can be paused (the thread stays), resumed and
stopped (the items in hand are finished and written first); its counters live in the store, so
after a restart, even after a ``SIGKILL``, the queue and the counters carry on where the last
commit left them: no finished result is lost and no recorded item is hunted again.

Priorities (higher first): a manual re-queue 30, tracks of the last scan 20, retries from the
cool-down 10, the rest of the tracks missing a label 0; within a priority, first queued first.

What happens to an item:

- ``found``: the finding is recorded (:func:`musicwb.enrich.labels.record_outcomes`), the item
  is ``done``;
- ``not_found``: every tier answered and none knew the label. That is an answer, not an error:
  the item is finished at once (``not_found``) and parked in the cool-down, since a promo that
  nobody knows today is often released one to three months later;
- ``failed`` (a source failed after its own retries): the attempt is counted and the item goes
  to the back of its priority; after ``max_attempts`` (3) it is ``failed`` and parked in the
  cool-down too. When the only failures were services that could not be reached (offline, DNS
  failure, connection refused: the HTTP policy marks such a host down for the run), the item is
  not tried again in the same run: it stays pending for the next run, so an offline run does
  not burn every item's attempts in seconds and park the whole queue for months.

The worker records its process (PID, host, start time) in the store when it starts, so that
:func:`queue_progress` (``musicwb enrich status``) reports a worker killed while running as
``stopped`` with the detail ``worker PID n is gone``, and a second worker refuses to work the
same queue while the first one lives. With a store opened with ``hold_open=False`` (as
``musicwb enrich run`` does) the worker opens the file only to read the next items and to
commit, so other processes read and write the store in between.

Sources are used in parallel where their limits allow: the worker hunts ``threads`` items at a
time (2 by default), and each source's shared HTTP policy keeps its own host within its rate
limit, so MusicBrainz and Discogs work side by side without either going over.

Examples
--------
>>> worker = Worker(store, hunter)            # doctest: +SKIP
>>> worker.start(); worker.pause(); worker.resume()  # doctest: +SKIP
>>> worker.progress().as_dict()               # doctest: +SKIP
{'state': 'running', 'processed': 12, 'enriched': 9, ...}
>>> worker.stop()                             # doctest: +SKIP
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from musicwb.enrich import cooldown
from musicwb.enrich.cooldown import utc_now
from musicwb.enrich.liveness import WorkerProcess, worker_gone
from musicwb.enrich.outcomes import HuntOutcome
from musicwb.errors import MusicwbError, ParameterError, StoreLockedError
from musicwb.store import Store

__all__ = [
    "COOLDOWN_PRIORITY",
    "LAST_SCAN_PRIORITY",
    "MANUAL_PRIORITY",
    "MAX_ATTEMPTS",
    "MISSING_LABEL_PRIORITY",
    "Progress",
    "Worker",
    "enqueue_last_scan",
    "enqueue_missing_labels",
    "enqueue_tracks",
    "queue_frame",
    "queue_progress",
]

MANUAL_PRIORITY = 30
LAST_SCAN_PRIORITY = 20
COOLDOWN_PRIORITY = 10
MISSING_LABEL_PRIORITY = 0
MAX_ATTEMPTS = 3
RATE_WINDOW_S = 60.0
FINISHED_STATES = ("done", "not_found", "failed")
TRACK_KEYS = (
    "id",
    "path",
    "artist",
    "title",
    "album",
    "label",
    "label_source",
    "duration",
    "added_at",
)
WORKER_STATES = ("idle", "running", "pausing", "paused", "stopping", "stopped", "finished", "error")
ACTIVE_STATES = ("running", "pausing", "paused", "stopping")
"""States in which the recorded worker process should be alive."""


# -- enqueueing ------------------------------------------------------------------------------


def enqueue_tracks(
    store: Store,
    track_ids: Iterable[int],
    *,
    priority: int = MANUAL_PRIORITY,
    reason: str = "manual",
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
        known = store.df(
            "SELECT t.id AS track_id, q.priority, q.state, q.queued_at, q.reason "
            "FROM tracks t LEFT JOIN enrich_queue q ON q.track_id = t.id "
            "WHERE t.id IN (SELECT unnest(?::BIGINT[]))",
            [ids],
        )
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
        if not fresh.empty:
            store.upsert(
                "enrich_queue",
                pd.DataFrame(
                    {
                        "track_id": fresh["track_id"].astype("int64"),
                        "priority": np.int32(priority),
                        "reason": reason,
                        "queued_at": pd.Timestamp(now),
                        "attempts": np.int32(0),
                        "last_error": None,
                        "state": "pending",
                        "finished_at": pd.NaT,
                        "updated_at": pd.Timestamp(now),
                    }
                ),
                key=["track_id"],
            )
            store.execute(
                "UPDATE enrich_cooldown SET state = 'queued', permanently_failed = false, "
                "updated_at = ? WHERE state IN ('waiting', 'permanent') "
                "AND track_id IN (SELECT unnest(?::BIGINT[]))",
                [now, [int(i) for i in fresh["track_id"]]],
            )
        if not raised.empty:
            store.update(
                "enrich_queue",
                pd.DataFrame(
                    {
                        "track_id": raised["track_id"].astype("int64"),
                        "priority": np.int32(priority),
                        "reason": reason,
                        "updated_at": pd.Timestamp(now),
                    }
                ),
                key=["track_id"],
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
    sql = (
        "SELECT t.id FROM tracks t WHERE (t.label IS NULL OR trim(t.label) = '') "
        "AND NOT EXISTS (SELECT 1 FROM enrich_queue q WHERE q.track_id = t.id) "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = t.id) ORDER BY t.id"
    )
    if limit is not None:
        if limit < 1:
            raise ParameterError(f"limit must be at least 1, got {limit}")
        sql += f" LIMIT {int(limit)}"
    ids = [int(row[0]) for row in store.rows(sql)]
    return enqueue_tracks(
        store,
        ids,
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
    run_id = store.scalar(
        "SELECT run_id FROM runs WHERE kind = 'scan' ORDER BY started_at DESC, run_id DESC LIMIT 1"
    )
    if run_id is None:
        return 0
    sql = (
        "SELECT id FROM tracks t WHERE added_run = ? "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = t.id)"
    )
    if only_missing:
        sql += " AND (label IS NULL OR trim(label) = '')"
    ids = [int(row[0]) for row in store.rows(sql + " ORDER BY id", [run_id])]
    return enqueue_tracks(
        store,
        ids,
        priority=LAST_SCAN_PRIORITY,
        reason="last_scan",
        now=now,
        requeue_finished=False,
    )


def queue_frame(
    store: Store, *, state: str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The queue with each track's artist and title, in the order the worker takes it.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``priority``, ``reason``, ``state``,
        ``attempts``, ``last_error``, ``queued_at``, ``finished_at``.
    """
    sql = (
        "SELECT q.track_id, t.artist, t.title, q.priority, q.reason, q.state, q.attempts, "
        "q.last_error, q.queued_at, q.finished_at FROM enrich_queue q "
        "LEFT JOIN tracks t ON t.id = q.track_id"
    )
    parameters: list[Any] = []
    if state is not None:
        sql += " WHERE q.state = ?"
        parameters.append(state)
    sql += " ORDER BY q.state <> 'pending', q.priority DESC, q.queued_at, q.track_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store.df(sql, parameters or None)


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


_COUNTERS = ("processed", "enriched", "not_found", "failed", "attempt_errors")


def _counters(store: Store) -> dict[str, Any]:
    frame = store.df("SELECT * FROM enrich_worker WHERE id = 1")
    if frame.empty:
        return {"state": "idle", **dict.fromkeys(_COUNTERS, 0), "pid": None, "host": None}
    row = frame.iloc[0]
    return {
        "state": row["state"],
        **{name: int(row[name]) for name in _COUNTERS},
        "pid": None if pd.isna(row["pid"]) else int(row["pid"]),
        "host": None if pd.isna(row["host"]) else str(row["host"]),
    }


def _recorded_process(store: Store) -> tuple[str, WorkerProcess | None]:
    """The recorded state and worker process (None when no process was recorded)."""
    rows = store.rows("SELECT state, pid, host, process_started FROM enrich_worker WHERE id = 1")
    if not rows:
        return "idle", None
    state, pid, host, started = rows[0]
    if pid is None or host is None:
        return state, None
    return state, WorkerProcess(pid=int(pid), host=str(host), started=started)


def _checked_state(state: str, process: WorkerProcess | None) -> tuple[str, str | None]:
    """The recorded state as it really is: ``stopped`` when an active worker's process is gone."""
    if state not in ACTIVE_STATES or process is None:
        return state, None
    gone = worker_gone(process)
    if gone:
        return "stopped", f"worker {process.describe()} is gone"
    if gone is None:
        return state, f"worker {process.describe()}, not checked from this host"
    return state, None


def _remaining(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM enrich_queue WHERE state = 'pending'"))


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
    counters = _counters(store)
    state, process = _recorded_process(store)
    counters["state"], detail = _checked_state(state, process)
    remaining = _remaining(store)
    recent = int(
        store.scalar(
            "SELECT count(*) FROM label_hunts WHERE status <> 'failed' AND hunted_at > ? "
            "AND hunted_at <= ?",
            [now - timedelta(seconds=RATE_WINDOW_S), now],
        )
    )
    rate = recent / RATE_WINDOW_S if recent else None
    return Progress(
        **counters,
        remaining=remaining,
        rate_per_s=rate,
        eta_s=None if rate is None else remaining / rate,
        detail=detail,
    )


# -- the worker ------------------------------------------------------------------------------


# What the worker reads for each queue item: the hunter's track dict, the queue row, and the
# track's cool-down row (if any) so that parking needs no second read.
_ITEM_COLUMNS = (
    ("id", "q.track_id"),
    ("attempts", "q.attempts"),
    ("queued_at", "q.queued_at"),
    ("priority", "q.priority"),
    ("reason", "q.reason"),
    ("in_library", "t.id IS NOT NULL"),
    ("path", "t.path"),
    ("artist", "t.artist"),
    ("title", "t.title"),
    ("album", "t.album"),
    ("label", "t.label"),
    ("label_source", "t.label_source"),
    ("duration", "t.duration"),
    ("added_at", "t.added_at"),
    ("has_label", "t.label IS NOT NULL"),
    ("cooldown_strategy", "c.strategy"),
    ("cooldown_retry_count", "c.retry_count"),
    ("cooldown_entered_at", "c.entered_at"),
    ("cooldown_history", "c.history"),
)


@dataclass(frozen=True)
class _Finished:
    """One hunt as the worker books it: the queue item and the hunter's outcome."""

    item: dict[str, Any]
    outcome: HuntOutcome

    @property
    def status(self) -> str:
        return self.outcome.status


class Worker:
    """A background thread that hunts labels for the queued tracks, one transaction per batch.

    Parameters
    ----------
    store : Store
        Open for writing; the worker writes through its own cursor, so the caller (a notebook)
        can go on reading the same store while it runs. Opened with ``hold_open=False``, the
        store's file is open only while the worker reads its next items or commits, so other
        processes (``musicwb tracks``, ``musicwb enrich status``) use it in between; the
        worker then uses this very handle (give the hunter the same one), whose statements and
        transactions take turns.
    hunter : object, optional
        Has ``hunt(track: dict) -> HuntOutcome`` and is thread-safe; default
        :func:`musicwb.enrich.labels.make_hunter` on the store with the settings.
    threads : int, default 2
        Items hunted at the same time. Each source's HTTP policy keeps its host within its
        limit, so two threads let MusicBrainz and Discogs work side by side.
    max_attempts : int, default 3
        Failed attempts before an item is ``failed`` and parked in the cool-down.
    limit : int, optional
        Take at most this many items in this run.
    budget_s : float, optional
        Take no new item after this many seconds (the items in hand are finished).
    strategy : str, default "adaptive"
        Cool-down strategy for items parked for the first time.
    park : bool, default True
        Park ``not_found`` and ``failed`` items in the cool-down as they finish.
    clock : callable, default :func:`~musicwb.enrich.cooldown.utc_now`
        Returns the current naive UTC time (queue and cool-down times).
    rng : numpy.random.Generator or int, optional
        The cool-down jitter's random source.
    record : callable, optional
        ``record(store, outcomes) -> int`` writing the findings; default
        :func:`musicwb.enrich.labels.record_outcomes`.
    batch_size : int, default 1024
        Items submitted to the threads at a time (those not started are cancelled on pause
        or stop), and the most finished items written in one transaction: with a fast source
        many finish between two commits, with a rate-limited one each is written as it
        finishes.
    on_progress : callable, optional
        Called with a :class:`Progress` after every commit, from the worker thread.

    Attributes
    ----------
    failure_reasons : collections.Counter
        Failed attempts of the current run per short reason (see
        :attr:`~musicwb.enrich.outcomes.HuntOutcome.reasons`), counted as they are committed.

    Raises
    ------
    StoreLockedError
        From :meth:`start`: another live process is working through the store's queue.

    Examples
    --------
    >>> worker = Worker(store, hunter, budget_s=60).start()  # doctest: +SKIP
    >>> worker.join(); worker.progress().processed  # doctest: +SKIP
    42
    """

    def __init__(
        self,
        store: Store,
        hunter: Any = None,
        *,
        threads: int = 2,
        max_attempts: int = MAX_ATTEMPTS,
        limit: int | None = None,
        budget_s: float | None = None,
        strategy: str = cooldown.DEFAULT_STRATEGY,
        park: bool = True,
        clock: Callable[[], datetime] = utc_now,
        rng: np.random.Generator | int | None = None,
        record: Callable[[Store, Sequence[Any]], int] | None = None,
        batch_size: int = 1024,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if store.read_only:
            raise ParameterError(f"the worker needs store {store.path} open for writing")
        for name, value, least in (
            ("threads", threads, 1),
            ("max_attempts", max_attempts, 1),
            ("batch_size", batch_size, 1),
        ):
            if value < least:
                raise ParameterError(f"{name} must be at least {least}, got {value}")
        if limit is not None and limit < 0:
            raise ParameterError(f"limit must be >= 0, got {limit}")
        if budget_s is not None and budget_s < 0:
            raise ParameterError(f"budget_s must be >= 0, got {budget_s}")
        cooldown.base_delay_days(strategy, retry_count=0)  # validates the name
        self.store = store
        self.threads = threads
        self.max_attempts = max_attempts
        self.limit = limit
        self.budget_s = budget_s
        self.strategy = strategy
        self.park = park
        self.clock = clock
        self.batch_size = batch_size
        self.on_progress = on_progress
        self._hunter = hunter
        self._record = record
        self._rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        if store.hold_open:
            self._writer = store.reader()  # the worker's own connection (a cursor): it writes
            self._status = store.reader()  # progress() reads through this one, from any thread
        else:
            # A store that opens its file per statement serialises its statements and
            # transactions (one lock), and several such handles opening and closing one file
            # from several threads at once can trip DuckDB's instance cache: share this one.
            self._writer = self._status = store
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = "idle"
        self._state_lock = threading.Lock()
        self._finish_times: collections.deque[float] = collections.deque()
        self._taken = 0
        self.error: BaseException | None = None
        self.failure_reasons: collections.Counter[str] = collections.Counter()
        self._deferred: set[int] = set()

    # -- controls ----------------------------------------------------------------------------

    def start(self) -> Worker:
        """Start the background thread (returns the worker, for chaining).

        Records this process as the store's worker first; a new run asks again the services
        an earlier run found unreachable.

        Raises
        ------
        ParameterError
            This worker is running already.
        StoreLockedError
            Another live process is the store's worker.
        """
        if self.is_alive:
            raise ParameterError("the worker is running already: pause, resume or stop it")
        self._claim(started_at=self.clock())
        new_run = getattr(self._hunter, "new_run", None)
        if new_run is not None:
            new_run()
        self._stop.clear()
        self._resume.set()
        self._taken = 0
        self.error = None
        self.failure_reasons = collections.Counter()
        self._deferred = set()
        self._done.clear()
        self._thread = threading.Thread(
            target=self._run_guarded, name="musicwb-enrich", daemon=True
        )
        self._thread.start()
        return self

    def pause(self) -> None:
        """Take no new item; the items in hand are finished and written. The thread stays."""
        self._resume.clear()
        self._set_state("pausing")

    def resume(self) -> None:
        """Go on after :meth:`pause`."""
        self._resume.set()

    def stop(self, *, wait: bool = True, timeout: float | None = None) -> None:
        """Finish the items in hand, write them, and end the thread."""
        self._stop.set()
        self._resume.set()
        if wait:
            self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has. Raises what ended it, if anything."""
        if self._thread is not None:
            # Wait on an event, not on Thread.join: a Ctrl-C that interrupts Thread.join can
            # leave the thread marked as ended while it still runs (CPython gh-90882).
            if not self._done.wait(timeout):
                return False
            self._thread.join()
        if self.error is not None:
            raise self.error
        return True

    def run(self) -> Progress:
        """Start the thread and wait until the queue, the limit or the budget is done.

        Ctrl-C (KeyboardInterrupt) stops taking items, finishes and writes those in hand, then
        re-raises.
        """
        self.start()
        try:
            while not self.join(0.2):
                pass
        except KeyboardInterrupt:
            self.stop()
            raise
        return self.progress()

    @property
    def state(self) -> str:
        """``idle``, ``running``, ``pausing``, ``paused``, ``stopping``, ``stopped``,
        ``finished`` or ``error``."""
        return self._state

    @property
    def deferred(self) -> int:
        """Items of this run left pending for a later run: their services could not be reached."""
        return len(self._deferred)

    @property
    def is_alive(self) -> bool:
        """Whether the thread runs (also while paused)."""
        return self._thread is not None and not self._done.is_set()

    def progress(self) -> Progress:
        """Counters from the store, the rate of the last minute, the ETA (any thread)."""
        counters = _counters(self._status)
        remaining = _remaining(self._status)
        rate = self._rate()
        counters["state"] = self._state
        return Progress(
            **counters,
            remaining=remaining,
            rate_per_s=rate,
            eta_s=None if not rate else remaining / rate,
        )

    # -- the loop ----------------------------------------------------------------------------

    def _rate(self) -> float | None:
        now = time.monotonic()
        times = self._finish_times
        while times and times[0] < now - RATE_WINDOW_S:
            times.popleft()
        if len(times) < 2:
            return None
        span = max(now - times[0], 1e-6)
        return len(times) / span

    def _set_state(self, state: str) -> None:
        with self._state_lock:
            self._state = state

    def _run_guarded(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001  (kept for join(): a thread must not die silently)
            self.error = exc
            self._set_state("error")
            self._save_state("error")
        finally:
            self._done.set()

    def _loop(self) -> None:
        hunter = self._hunter if self._hunter is not None else self._default_hunter()
        record = self._record if self._record is not None else _default_record()
        started = time.monotonic()
        self._set_state("running")
        buffer: collections.deque[dict[str, Any]] = collections.deque()
        # Submitted items: at most ``threads`` run, the rest wait in the pool. Waiting ones are
        # cancelled on pause, stop or the end of the budget; running ones are finished.
        in_hand: dict[Future, dict[str, Any]] = {}
        end_state = "stopped"
        with ThreadPoolExecutor(self.threads, thread_name_prefix="musicwb-hunt") as pool:
            try:
                while not self._stop.is_set():
                    if not self._resume.is_set():
                        self._cancel_waiting(in_hand)
                        self._drain(in_hand, record)
                        buffer.clear()  # others may re-prioritise the queue meanwhile
                        self._set_state("paused")
                        self._save_state("paused")
                        self._resume.wait()
                        if not self._stop.is_set():
                            self._set_state("running")
                            self._save_state("running")
                        continue
                    if self.budget_s is not None and time.monotonic() - started >= self.budget_s:
                        break
                    while len(in_hand) < self.batch_size and self._may_take():
                        if not buffer:
                            taken = [i["id"] for i in in_hand.values()]
                            buffer.extend(self._fetch(exclude=[*taken, *self._deferred]))
                            if not buffer:
                                break
                        item = buffer.popleft()
                        in_hand[pool.submit(self._hunt, hunter, item)] = item
                        self._taken += 1
                    if not in_hand:
                        done_all = self._may_take() and not self._deferred
                        end_state = "finished" if done_all else "stopped"
                        break
                    done, _ = wait(list(in_hand), timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in done:
                        del in_hand[future]
                    if done:
                        self._commit([future.result() for future in done], record)
            finally:
                self._cancel_waiting(in_hand)
                self._drain(in_hand, record)
        self._set_state(end_state)
        self._save_state(end_state)

    def _cancel_waiting(self, in_hand: dict[Future, dict[str, Any]]) -> None:
        """Cancel the submitted items no thread has started; they stay pending in the store."""
        for future in [f for f in in_hand if f.cancel()]:
            del in_hand[future]
            self._taken -= 1

    def _may_take(self) -> bool:
        return self.limit is None or self._taken < self.limit

    def _drain(self, in_hand: dict[Future, dict[str, Any]], record: Callable) -> None:
        """Finish and write every item in hand (also on Ctrl-C or an error of the loop)."""
        if not in_hand:
            return
        done, _ = wait(list(in_hand))
        results = [future.result() for future in done]
        in_hand.clear()
        self._commit(results, record)

    def _default_hunter(self) -> Any:
        from musicwb.enrich.labels import make_hunter

        return make_hunter(self.store.reader() if self.store.hold_open else self.store)

    def _fetch(self, *, exclude: list[int]) -> list[dict[str, Any]]:
        """The next pending items, highest priority first, as the hunter's track dicts."""
        columns = ", ".join(f"{expression} AS {name}" for name, expression in _ITEM_COLUMNS)
        rows = self._writer.rows(
            f"SELECT {columns} FROM enrich_queue q LEFT JOIN tracks t ON t.id = q.track_id "
            "LEFT JOIN enrich_cooldown c ON c.track_id = q.track_id "
            "WHERE q.state = 'pending' AND q.track_id NOT IN (SELECT unnest(?::BIGINT[])) "
            "ORDER BY q.priority DESC, q.queued_at, q.track_id LIMIT ?",
            [exclude, self.batch_size],
        )
        names = [name for name, _ in _ITEM_COLUMNS]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _hunt(self, hunter: Any, item: dict[str, Any]) -> _Finished:
        track_id = int(item["id"])
        if not item["in_library"]:
            error = f"worker: ParameterError: track {track_id} is no longer in the library"
            return _Finished(item, HuntOutcome(track_id=track_id, status="failed", error=error))
        track = {key: item[key] for key in TRACK_KEYS}
        started = time.perf_counter()
        try:
            outcome = hunter.hunt(track)
        except MusicwbError as exc:  # a failed attempt, recorded with its reason
            error = f"worker: {type(exc).__name__}: {exc}"
            outcome = HuntOutcome(
                track_id=track_id,
                status="failed",
                error=error,
                reasons=(error,),
                elapsed_s=time.perf_counter() - started,
            )
        return _Finished(item, outcome)

    def _commit(self, results: list[_Finished], record: Callable) -> None:
        """Outcomes (label_hunts, label_findings, tracks), queue update, cool-down and counters:
        one transaction per chunk."""
        for start in range(0, len(results), self.batch_size):
            self._commit_chunk(results[start : start + self.batch_size], record)
        if self.on_progress is not None and results:
            self.on_progress(self.progress())

    def _commit_chunk(self, results: list[_Finished], record: Callable) -> None:
        now = self.clock()
        rows = []
        for result in results:
            attempts = int(result.item["attempts"]) + (1 if result.status == "failed" else 0)
            if result.status == "found":
                state = "done"
            elif result.status == "not_found":
                state = "not_found"
            elif attempts >= self.max_attempts or not result.item["in_library"]:
                state = "failed"
            else:
                state = "pending"
            rows.append(
                {
                    "track_id": int(result.item["id"]),
                    "status": result.status,
                    "state": state,
                    "attempts": attempts,
                    "error": result.outcome.error,
                    # a failed attempt goes to the back of its priority
                    "queued_at": now if state == "pending" else result.item["queued_at"],
                }
            )
        frame = pd.DataFrame(rows)
        outcomes = [r.outcome for r in results]
        queue_update = pd.DataFrame(
            {
                "track_id": frame["track_id"].astype("int64"),
                "state": frame["state"],
                "attempts": frame["attempts"].astype("int32"),
                "last_error": frame["error"],
                "queued_at": pd.to_datetime(frame["queued_at"]),
                "finished_at": [now if s in FINISHED_STATES else pd.NaT for s in frame["state"]],
                "updated_at": pd.Timestamp(now),
            }
        )
        parking = self._plan_parking(results, frame, now=now)
        found_ids = [int(i) for i in frame.loc[frame["state"] == "done", "track_id"]]
        # only a re-queued track (from the cool-down or by hand) can have a cool-down row
        requeued_found = [
            r.item["id"]
            for r in results
            if r.status == "found" and r.item["reason"] != "missing_label"
        ]
        counts = {
            "processed": int(frame["state"].isin(FINISHED_STATES).sum()),
            "enriched": len(found_ids),
            "not_found": int((frame["state"] == "not_found").sum()),
            "failed": int((frame["state"] == "failed").sum()),
            "attempt_errors": int((frame["status"] == "failed").sum()),
        }
        store = self._writer
        with store.transaction():
            record(store, outcomes)
            store.update("enrich_queue", queue_update, key=["track_id"])
            if self.park and parking is not None:
                cooldown.write_parking(store, parking)
            if requeued_found:
                store.execute(
                    "UPDATE enrich_cooldown SET state = 'resolved', updated_at = ? "
                    "WHERE state = 'queued' AND track_id IN (SELECT unnest(?::BIGINT[]))",
                    [now, requeued_found],
                )
            self._bump(store, counts, now=now)
        stamp = time.monotonic()
        self._finish_times.extend([stamp] * counts["processed"])
        for result, row in zip(results, rows, strict=True):
            if result.status == "failed":
                outcome = result.outcome
                self.failure_reasons.update(outcome.reasons or [outcome.error or "unknown"])
                if outcome.unreachable and row["state"] == "pending":
                    self._deferred.add(row["track_id"])  # not again in this run

    def _plan_parking(
        self, results: list[_Finished], frame: pd.DataFrame, *, now: datetime
    ) -> pd.DataFrame | None:
        """Cool-down rows for the items finished without a label (from what the fetch read)."""
        chosen = frame["state"].isin(["not_found", "failed"]).to_numpy()
        chosen &= np.array([bool(r.item["in_library"]) for r in results])
        if not self.park or not chosen.any():
            return None
        items = [r.item for r, keep in zip(results, chosen, strict=True) if keep]
        entries = pd.DataFrame(
            {
                "track_id": frame.loc[chosen, "track_id"].to_numpy(),
                "reason": frame.loc[chosen, "state"].to_numpy(),
                "last_error": frame.loc[chosen, "error"].to_numpy(),
                "has_label": [bool(i["has_label"]) for i in items],
                "added_at": [i["added_at"] for i in items],
                "strategy": [i["cooldown_strategy"] for i in items],
                "retry_count": [i["cooldown_retry_count"] for i in items],
                "entered_at": [i["cooldown_entered_at"] for i in items],
                "history": [i["cooldown_history"] for i in items],
            }
        )
        return cooldown.plan_parking(entries, now=now, strategy=self.strategy, rng=self._rng)

    @staticmethod
    def _bump(store: Store, counts: dict[str, int], *, now: datetime) -> None:
        store.execute(
            "UPDATE enrich_worker SET processed = processed + ?, enriched = enriched + ?, "
            "not_found = not_found + ?, failed = failed + ?, attempt_errors = attempt_errors + ?, "
            "updated_at = ? WHERE id = 1",
            [
                counts["processed"],
                counts["enriched"],
                counts["not_found"],
                counts["failed"],
                counts["attempt_errors"],
                now,
            ],
        )

    @staticmethod
    def _ensure_state_row(store: Store, *, now: datetime) -> None:
        store.execute(
            "INSERT INTO enrich_worker (id, state, updated_at) VALUES (1, 'idle', ?) "
            "ON CONFLICT DO NOTHING",
            [now],
        )

    def _save_state(self, state: str) -> None:
        now = self.clock()
        with self._writer.transaction():
            self._ensure_state_row(self._writer, now=now)
            self._writer.execute(
                "UPDATE enrich_worker SET state = ?, updated_at = ? WHERE id = 1", [state, now]
            )

    def _claim(self, *, started_at: datetime) -> None:
        """Record this process as the store's running worker, unless another one lives."""
        me = WorkerProcess.current()  # of the process that starts the thread (after a fork too)
        with self._writer.transaction():
            self._ensure_state_row(self._writer, now=started_at)
            state, other = _recorded_process(self._writer)
            if (
                state in ACTIVE_STATES
                and other is not None
                and (other.pid, other.host) != (me.pid, me.host)
                and worker_gone(other) is not True
            ):
                raise StoreLockedError(
                    f"store {self.store.path}: a worker ({other.describe()}, {state}) is working "
                    "through this queue already; stop it, or wait until it has finished"
                )
            self._writer.execute(
                "UPDATE enrich_worker SET state = 'running', started_at = ?, updated_at = ?, "
                "pid = ?, host = ?, process_started = ? WHERE id = 1",
                [started_at, started_at, me.pid, me.host, me.started],
            )


def _default_record() -> Callable[[Store, Sequence[Any]], int]:
    from musicwb.enrich.labels import record_outcomes

    return record_outcomes
