"""The background worker: a thread that empties the enrichment queue.

A :class:`Worker` takes the highest-priority items (:func:`musicwb.enrich.queue` and the store's
``enrich_queue``), hunts ``threads`` of them at a time, and books each batch
(:func:`musicwb.enrich.queue.book`: queue rows, cool-down rows, counters) together with the
findings in one transaction. It can be paused (the thread stays), resumed and stopped (the items
in hand are finished and written first); its counters live in the store, so after a restart,
even after a ``SIGKILL``, the queue and the counters carry on where the last commit left them:
no finished result is lost and no recorded item is hunted again.

When the only failures of an item were services that could not be reached (the HTTP policy
marks such a host down for the run), the item is not tried again in the same run: it stays
pending for the next run, so an offline run does not burn every item's attempts in seconds and
park the whole queue for months.

The worker records its process (PID, host, start time) in the store when it starts, so that
:func:`~musicwb.enrich.queue.queue_progress` reports a worker killed while running as
``stopped``, and a second worker refuses to work the same queue while the first one lives. With
a store opened with ``hold_open=False`` (as ``musicwb enrich run`` does) the worker opens the
file only to read the next items and to commit, so other processes read and write the store in
between.

Examples
--------
>>> import tempfile
>>> from musicwb.enrich.labels import make_hunter
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/worker.duckdb") as store:  # an empty queue
...     worker = Worker(store, make_hunter(store, sources=["title"], llm=None))
...     worker.run().state
'finished'
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from musicwb.enrich.cooldown import (
    DEFAULT_STRATEGY,
    Strategy,
    base_delay_days,
    utc_now,
)
from musicwb.enrich.cooldown.parking import write_parking
from musicwb.enrich.findings import record_outcomes
from musicwb.enrich.labels import make_hunter
from musicwb.enrich.liveness import WorkerProcess, worker_gone
from musicwb.enrich.outcomes import Hunter, HuntOutcome, Recorder
from musicwb.enrich.queue import (
    ACTIVE_STATES,
    MAX_ATTEMPTS,
    RATE_WINDOW_S,
    Finished,
    Progress,
    QueueItem,
    WorkerState,
    book,
    worker_counters,
)
from musicwb.errors import MusicwbError, ParameterError, StoreLockedError
from musicwb.store import Store
from musicwb.store.tables import enrich as tables

__all__ = ["Worker", "WorkerOptions"]


@dataclass(frozen=True)
class WorkerOptions:
    """How a :class:`Worker` works through the queue (see its parameters); checked when made.

    Raises
    ------
    ParameterError
        A count below one, a negative limit or budget, an unknown cool-down strategy.
    """

    threads: int = 2
    max_attempts: int = MAX_ATTEMPTS
    limit: int | None = None
    budget_s: float | None = None
    strategy: Strategy = DEFAULT_STRATEGY
    park: bool = True
    batch_size: int = 1024

    def __post_init__(self) -> None:
        for name, least in (("threads", 1), ("max_attempts", 1), ("batch_size", 1)):
            value = getattr(self, name)
            if value < least:
                raise ParameterError(f"{name} must be at least {least}, got {value}")
        if self.limit is not None and self.limit < 0:
            raise ParameterError(f"limit must be >= 0, got {self.limit}")
        if self.budget_s is not None and self.budget_s < 0:
            raise ParameterError(f"budget_s must be >= 0, got {self.budget_s}")
        base_delay_days(self.strategy, retry_count=0)  # validates the name


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
        hunter: Hunter | None = None,
        *,
        threads: int = 2,
        max_attempts: int = MAX_ATTEMPTS,
        limit: int | None = None,
        budget_s: float | None = None,
        strategy: Strategy = DEFAULT_STRATEGY,
        park: bool = True,
        clock: Callable[[], datetime] = utc_now,
        rng: np.random.Generator | int | None = None,
        record: Recorder | None = None,
        batch_size: int = 1024,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if store.read_only:
            raise ParameterError(f"the worker needs store {store.path} open for writing")
        self.options = WorkerOptions(
            threads=threads,
            max_attempts=max_attempts,
            limit=limit,
            budget_s=budget_s,
            strategy=strategy,
            park=park,
            batch_size=batch_size,
        )
        self.store = store
        self.clock = clock
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
        self._state: WorkerState = "idle"
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
    def state(self) -> WorkerState:
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
        counters = worker_counters(self._status)
        remaining = tables.pending_count(store=self._status)
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

    def _set_state(self, state: WorkerState) -> None:
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
        record = self._record if self._record is not None else record_outcomes
        started = time.monotonic()
        self._set_state("running")
        buffer: collections.deque[QueueItem] = collections.deque()
        # Submitted items: at most ``threads`` run, the rest wait in the pool. Waiting ones are
        # cancelled on pause, stop or the end of the budget; running ones are finished.
        in_hand: dict[Future[Finished], QueueItem] = {}
        end_state: WorkerState = "stopped"
        with ThreadPoolExecutor(self.options.threads, thread_name_prefix="musicwb-hunt") as pool:
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
                    if (
                        self.options.budget_s is not None
                        and time.monotonic() - started >= self.options.budget_s
                    ):
                        break
                    while len(in_hand) < self.options.batch_size and self._may_take():
                        if not buffer:
                            taken = [i.track_id for i in in_hand.values()]
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

    def _cancel_waiting(self, in_hand: dict[Future[Finished], QueueItem]) -> None:
        """Cancel the submitted items no thread has started; they stay pending in the store."""
        for future in [f for f in in_hand if f.cancel()]:
            del in_hand[future]
            self._taken -= 1

    def _may_take(self) -> bool:
        return self.options.limit is None or self._taken < self.options.limit

    def _drain(self, in_hand: dict[Future[Finished], QueueItem], record: Recorder) -> None:
        """Finish and write every item in hand (also on Ctrl-C or an error of the loop)."""
        if not in_hand:
            return
        done, _ = wait(list(in_hand))
        results = [future.result() for future in done]
        in_hand.clear()
        self._commit(results, record)

    def _default_hunter(self) -> Hunter:
        return make_hunter(self.store.reader() if self.store.hold_open else self.store)

    def _fetch(self, *, exclude: list[int]) -> list[QueueItem]:
        """The next pending items, highest priority first."""
        return tables.pending_items(
            store=self._writer, exclude=exclude, limit=self.options.batch_size
        )

    @staticmethod
    def _hunt(hunter: Hunter, item: QueueItem) -> Finished:
        if not item.in_library or item.track is None:
            error = f"worker: ParameterError: track {item.track_id} is no longer in the library"
            outcome = HuntOutcome(track_id=item.track_id, status="failed", error=error)
            return Finished(item, outcome)
        started = time.perf_counter()
        try:
            outcome = hunter.hunt(item.track)
        except MusicwbError as exc:  # a failed attempt, recorded with its reason
            error = f"worker: {type(exc).__name__}: {exc}"
            outcome = HuntOutcome(
                track_id=item.track_id,
                status="failed",
                error=error,
                reasons=(error,),
                elapsed_s=time.perf_counter() - started,
            )
        return Finished(item, outcome)

    def _commit(self, results: list[Finished], record: Recorder) -> None:
        """Outcomes (label_hunts, label_findings, tracks), queue update, cool-down and counters:
        one transaction per chunk."""
        for start in range(0, len(results), self.options.batch_size):
            self._commit_chunk(results[start : start + self.options.batch_size], record)
        if self.on_progress is not None and results:
            self.on_progress(self.progress())

    def _commit_chunk(self, results: list[Finished], record: Recorder) -> None:
        now = self.clock()
        booking = book(
            results,
            now=now,
            max_attempts=self.options.max_attempts,
            park=self.options.park,
            strategy=self.options.strategy,
            rng=self._rng,
        )
        store = self._writer
        with store.transaction():
            record(store, [r.outcome for r in results])
            tables.update_queue(store=store, rows=booking.queue_update)
            if booking.parking is not None:
                write_parking(store, booking.parking)
            if booking.resolved:
                tables.mark_cooldown_resolved(store=store, track_ids=booking.resolved, now=now)
            tables.add_worker_counts(store=store, counts=booking.counts, now=now)
        self._finish_times.extend([time.monotonic()] * booking.counts["processed"])
        for result, state in zip(results, booking.states, strict=True):
            if result.status == "failed":
                outcome = result.outcome
                self.failure_reasons.update(outcome.reasons or [outcome.error or "unknown"])
                if outcome.unreachable and state.state == "pending":
                    self._deferred.add(result.item.track_id)  # not again in this run

    def _save_state(self, state: WorkerState) -> None:
        tables.set_worker_state(store=self._writer, state=state, now=self.clock())

    def _claim(self, *, started_at: datetime) -> None:
        """Record this process as the store's running worker, unless another one lives."""
        me = WorkerProcess.current()  # of the process that starts the thread (after a fork too)
        with self._writer.transaction():
            tables.ensure_worker_row(store=self._writer, now=started_at)
            row = tables.worker_row(store=self._writer)
            other = (
                None
                if row.pid is None or row.host is None
                else WorkerProcess(pid=row.pid, host=row.host, started=row.process_started)
            )
            if (
                row.state in ACTIVE_STATES
                and other is not None
                and (other.pid, other.host) != (me.pid, me.host)
                and worker_gone(other) is not True
            ):
                raise StoreLockedError(
                    f"store {self.store.path}: a worker ({other.describe()}, {row.state}) is "
                    "working through this queue already; stop it, or wait until it has finished"
                )
            tables.claim_worker(
                store=self._writer,
                started_at=started_at,
                pid=me.pid,
                host=me.host,
                process_started=me.started,
            )
