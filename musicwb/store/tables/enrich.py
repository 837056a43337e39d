"""The enrichment's SQL: the queue, the worker row, the cool-down, hunts and findings, the
services' response cache.

Tables (migrations 005 and later): ``enrich_queue``, ``enrich_worker``, ``enrich_cooldown``,
``label_hunts``, ``label_findings``, ``source_cache``, and the label columns of ``tracks``.
Every function takes a :class:`~musicwb.store.Store` and values and returns values, frames or
small frozen dataclasses; the enrichment room above writes no SQL against the schema.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/enrich.duckdb") as store:
...     pending_count(store=store), worker_row(store=store).state
(0, 'idle')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import pandas as pd

from musicwb.store.database import Store

__all__ = [
    "HUNTER_SOURCE_PREFIX",
    "TRACK_KEYS",
    "WORKER_COUNTERS",
    "CooldownCounts",
    "HuntTrack",
    "QueueItem",
    "WorkerRow",
    "add_worker_counts",
    "apply_catalog_numbers",
    "apply_labels",
    "cache_entries",
    "cache_entry",
    "claim_worker",
    "cooldown_counts",
    "cooldown_due",
    "cooldown_of_tracks",
    "cooldown_summary",
    "cooldown_waiting",
    "coverage",
    "current_labels",
    "ensure_worker_row",
    "findings",
    "finished_without_label",
    "hunts",
    "insert_findings",
    "insert_hunts",
    "last_hunt_failures",
    "mark_cooldown_queued",
    "mark_cooldown_resolved",
    "pending_count",
    "pending_items",
    "queue_of_tracks",
    "queue_rows",
    "recent_hunt_count",
    "release_from_cooldown",
    "set_worker_state",
    "track_ids_added_by",
    "tracks_for_hunt",
    "unqueued_tracks_without_label",
    "update_queue",
    "upsert_cache",
    "upsert_queue",
    "user_labels",
    "worker_row",
    "write_cooldown",
]

HUNTER_SOURCE_PREFIX = "hunt:"
"""``tracks.label_source`` of a label the hunter filled (``hunt:musicbrainz``)."""

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
"""The track fields the label hunter reads."""

WORKER_COUNTERS = ("processed", "enriched", "not_found", "failed", "attempt_errors")
"""The worker's counters in ``enrich_worker``, kept over every run."""

_UNLABELLED = "(t.label IS NULL OR trim(t.label) = '')"
_IDS = "(SELECT unnest(?::BIGINT[]))"


@dataclass(frozen=True)
class HuntTrack(Mapping[str, Any]):
    """A track as the label hunter reads it.

    Also a read-only mapping of its fields (``track["title"]``, ``track.get("album")``,
    ``dict(track)``), so tiers, plug-ins and tests may hand the hunter a plain dict instead.

    Examples
    --------
    >>> track = HuntTrack(id=1, artist="Trevino", title="Sombre Tones")
    >>> track["title"], track.get("album"), "path" in track
    ('Sombre Tones', None, True)
    """

    id: int
    artist: str | None = None
    title: str | None = None
    album: str | None = None
    path: str | None = None
    label: str | None = None
    label_source: str | None = None
    duration: float | None = None
    added_at: datetime | None = None
    added_run: str | None = None

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _ids(values: Sequence[int]) -> list[int]:
    return [int(i) for i in values]


def _limit(sql: str, limit: int | None) -> str:
    return sql if limit is None else f"{sql} LIMIT {int(limit)}"


# -- the queue -------------------------------------------------------------------------------


def queue_of_tracks(*, store: Store, track_ids: Sequence[int]) -> pd.DataFrame:
    """The given tracks of the library with their queue row, if any.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``priority``, ``state``, ``queued_at``, ``reason`` (null when the track
        is not queued); tracks not in the library are left out.
    """
    return store.df(
        "SELECT t.id AS track_id, q.priority, q.state, q.queued_at, q.reason "
        f"FROM tracks t LEFT JOIN enrich_queue q ON q.track_id = t.id WHERE t.id IN {_IDS}",
        [_ids(track_ids)],
    )


def upsert_queue(*, store: Store, rows: pd.DataFrame) -> None:
    """Insert or replace whole queue rows (keyed by ``track_id``)."""
    store.upsert("enrich_queue", rows, key=["track_id"])


def update_queue(*, store: Store, rows: pd.DataFrame) -> None:
    """Update the given columns of queue rows (keyed by ``track_id``)."""
    store.update("enrich_queue", rows, key=["track_id"])


def unqueued_tracks_without_label(*, store: Store, limit: int | None = None) -> list[int]:
    """Tracks without a label that are neither queued nor in the cool-down, in id order."""
    sql = (
        f"SELECT t.id FROM tracks t WHERE {_UNLABELLED} "
        "AND NOT EXISTS (SELECT 1 FROM enrich_queue q WHERE q.track_id = t.id) "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = t.id) ORDER BY t.id"
    )
    return [int(row[0]) for row in store.rows(_limit(sql, limit))]


def track_ids_added_by(*, store: Store, run_id: str, only_missing: bool) -> list[int]:
    """Tracks a scan run added that are not in the cool-down (only unlabelled ones if asked)."""
    sql = (
        "SELECT id FROM tracks t WHERE added_run = ? "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = t.id)"
    )
    if only_missing:
        sql += f" AND {_UNLABELLED}"
    return [int(row[0]) for row in store.rows(sql + " ORDER BY id", [run_id])]


def queue_rows(*, store: Store, state: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The queue with each track's artist and title, in the order the worker takes it."""
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
    return store.df(_limit(sql, limit), parameters or None)


def pending_count(*, store: Store) -> int:
    """Items pending in the queue."""
    return int(store.scalar("SELECT count(*) FROM enrich_queue WHERE state = 'pending'"))


@dataclass(frozen=True)
class QueueItem:
    """A pending queue item as the worker takes it: the queue row, the track the hunter reads,
    and the track's cool-down row (if any), so that parking needs no second read.

    Attributes
    ----------
    track_id : int
    attempts : int
        Failed attempts so far.
    queued_at : datetime
    priority : int
    reason : str
        Why it was queued (``manual``, ``last_scan``, ``cooldown``, ``missing_label``).
    in_library : bool
        False when the track was removed from the library after it was queued.
    track : HuntTrack or None
        The hunter's track (None only in examples that need none).
    cooldown_strategy, cooldown_retry_count, cooldown_entered_at, cooldown_history
        The track's cool-down row, None when it has none.
    """

    track_id: int
    attempts: int
    queued_at: datetime
    priority: int
    reason: str
    in_library: bool
    track: HuntTrack | None = None
    cooldown_strategy: str | None = None
    cooldown_retry_count: int | None = None
    cooldown_entered_at: datetime | None = None
    cooldown_history: str | None = None

    @property
    def has_label(self) -> bool:
        """The track carries a label (of lower standing: the hunt is still asked)."""
        return self.track is not None and self.track.label is not None


_ITEM_COLUMNS = (
    "q.track_id, q.attempts, q.queued_at, q.priority, q.reason, t.id IS NOT NULL, "
    + ", ".join(f"t.{key}" for key in TRACK_KEYS)
    + ", c.strategy, c.retry_count, c.entered_at, c.history"
)


def pending_items(*, store: Store, exclude: Sequence[int], limit: int) -> list[QueueItem]:
    """The next pending items, highest priority first, then first queued first.

    Parameters
    ----------
    store : Store
    exclude : sequence of int
        Track ids in hand or deferred.
    limit : int

    Returns
    -------
    list of QueueItem
    """
    rows = store.rows(
        f"SELECT {_ITEM_COLUMNS} FROM enrich_queue q LEFT JOIN tracks t ON t.id = q.track_id "
        "LEFT JOIN enrich_cooldown c ON c.track_id = q.track_id "
        f"WHERE q.state = 'pending' AND q.track_id NOT IN {_IDS} "
        "ORDER BY q.priority DESC, q.queued_at, q.track_id LIMIT ?",
        [_ids(exclude), int(limit)],
    )
    n = len(TRACK_KEYS)
    return [
        QueueItem(
            track_id=int(row[0]),
            attempts=int(row[1]),
            queued_at=row[2],
            priority=int(row[3]),
            reason=row[4],
            in_library=bool(row[5]),
            track=HuntTrack(
                **(dict(zip(TRACK_KEYS, row[6 : 6 + n], strict=True)) | {"id": int(row[0])})
            ),
            cooldown_strategy=row[6 + n],
            cooldown_retry_count=row[7 + n],
            cooldown_entered_at=row[8 + n],
            cooldown_history=row[9 + n],
        )
        for row in rows
    ]


# -- the worker row --------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerRow:
    """The store's record of the worker: state, counters, and its process.

    Attributes
    ----------
    state : str
    counts : dict of str to int
        :data:`WORKER_COUNTERS`.
    pid : int or None
    host : str or None
    process_started : float or None
        The process's start time, to tell a reused PID apart.
    """

    state: str = "idle"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKER_COUNTERS, 0))
    pid: int | None = None
    host: str | None = None
    process_started: float | None = None


def worker_row(*, store: Store) -> WorkerRow:
    """The worker's row (an idle one with zero counters when none was written yet)."""
    names = ", ".join(WORKER_COUNTERS)
    rows = store.rows(f"SELECT state, {names}, pid, host, process_started FROM enrich_worker "
                      "WHERE id = 1")  # fmt: skip
    if not rows:
        return WorkerRow()
    state, *values = rows[0]
    n = len(WORKER_COUNTERS)
    pid, host, started = values[n:]
    return WorkerRow(
        state=state,
        counts={name: int(value) for name, value in zip(WORKER_COUNTERS, values[:n], strict=True)},
        pid=None if pid is None else int(pid),
        host=None if host is None else str(host),
        process_started=started,
    )


def ensure_worker_row(*, store: Store, now: datetime) -> None:
    """Write the idle worker row unless there is one."""
    store.execute(
        "INSERT INTO enrich_worker (id, state, updated_at) VALUES (1, 'idle', ?) "
        "ON CONFLICT DO NOTHING",
        [now],
    )


def set_worker_state(*, store: Store, state: str, now: datetime) -> None:
    """Record the worker's state (writing its row first if needed)."""
    with store.transaction():
        ensure_worker_row(store=store, now=now)
        store.execute(
            "UPDATE enrich_worker SET state = ?, updated_at = ? WHERE id = 1", [state, now]
        )


def claim_worker(
    *, store: Store, started_at: datetime, pid: int, host: str, process_started: Any
) -> None:
    """Record a process as the running worker."""
    store.execute(
        "UPDATE enrich_worker SET state = 'running', started_at = ?, updated_at = ?, "
        "pid = ?, host = ?, process_started = ? WHERE id = 1",
        [started_at, started_at, pid, host, process_started],
    )


def add_worker_counts(*, store: Store, counts: dict[str, int], now: datetime) -> None:
    """Add to the worker's counters (keys :data:`WORKER_COUNTERS`)."""
    assignments = ", ".join(f"{name} = {name} + ?" for name in WORKER_COUNTERS)
    store.execute(
        f"UPDATE enrich_worker SET {assignments}, updated_at = ? WHERE id = 1",
        [int(counts[name]) for name in WORKER_COUNTERS] + [now],
    )


def recent_hunt_count(*, store: Store, since: datetime, until: datetime) -> int:
    """Hunts that did not fail, recorded in ``(since, until]``."""
    return int(
        store.scalar(
            "SELECT count(*) FROM label_hunts WHERE status <> 'failed' AND hunted_at > ? "
            "AND hunted_at <= ?",
            [since, until],
        )
    )


# -- the cool-down ---------------------------------------------------------------------------


def release_from_cooldown(*, store: Store, track_ids: Sequence[int], now: datetime) -> None:
    """Mark waiting or permanently failed cool-down rows as queued (a re-queue by hand)."""
    store.execute(
        "UPDATE enrich_cooldown SET state = 'queued', permanently_failed = false, "
        f"updated_at = ? WHERE state IN ('waiting', 'permanent') AND track_id IN {_IDS}",
        [now, _ids(track_ids)],
    )


def mark_cooldown_queued(*, store: Store, track_ids: Sequence[int], now: datetime) -> None:
    """Mark cool-down rows as sent back to the queue, one retry more."""
    store.execute(
        "UPDATE enrich_cooldown SET state = 'queued', retry_count = retry_count + 1, "
        f"updated_at = ? WHERE track_id IN {_IDS}",
        [now, _ids(track_ids)],
    )


def mark_cooldown_resolved(*, store: Store, track_ids: Sequence[int], now: datetime) -> None:
    """Mark the queued cool-down rows of tracks that found their label as resolved."""
    store.execute(
        "UPDATE enrich_cooldown SET state = 'resolved', updated_at = ? "
        f"WHERE state = 'queued' AND track_id IN {_IDS}",
        [now, _ids(track_ids)],
    )


def cooldown_of_tracks(*, store: Store, track_ids: Sequence[int]) -> pd.DataFrame:
    """The given tracks of the library with their cool-down row, if any.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``has_label``, ``added_at``, ``strategy``, ``retry_count``,
        ``entered_at``, ``history``.
    """
    return store.df(
        "SELECT t.id AS track_id, t.label IS NOT NULL AS has_label, t.added_at, "
        "c.strategy, c.retry_count, c.entered_at, c.history "
        f"FROM tracks t LEFT JOIN enrich_cooldown c ON c.track_id = t.id WHERE t.id IN {_IDS}",
        [_ids(track_ids)],
    )


def write_cooldown(*, store: Store, rows: pd.DataFrame, is_new: pd.Series) -> int:
    """Insert the new cool-down rows and update the known ones (bulk, one transaction)."""
    if rows.empty:
        return 0
    with store.transaction():
        if is_new.any():
            store.insert("enrich_cooldown", rows[is_new])
        if (~is_new).any():
            store.update(
                "enrich_cooldown", rows[~is_new].drop(columns="entered_at"), key=["track_id"]
            )
    return len(rows)


def finished_without_label(*, store: Store, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Tracks enrichment left without a label that are not in the cool-down.

    Queue items finished ``not_found`` or ``failed`` (with no cool-down row, or one already
    queued or resolved), and never-queued tracks whose latest hunt ended so and that still have
    no label.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``reason``, ``last_error``, by track id.
    """
    queued = (
        "SELECT q.track_id, q.state AS reason, q.last_error FROM enrich_queue q "
        "LEFT JOIN enrich_cooldown c ON c.track_id = q.track_id "
        "WHERE q.state IN ('not_found', 'failed') "
        "AND (c.track_id IS NULL OR c.state IN ('queued', 'resolved'))"
    )
    hunted = (
        "SELECT h.track_id, h.status AS reason, h.error AS last_error FROM ("
        "SELECT track_id, status, error, row_number() OVER "
        "(PARTITION BY track_id ORDER BY hunted_at DESC) AS latest FROM label_hunts) h "
        "JOIN tracks t ON t.id = h.track_id "
        "WHERE h.latest = 1 AND h.status IN ('not_found', 'failed') "
        f"AND {_UNLABELLED} "
        "AND NOT EXISTS (SELECT 1 FROM enrich_queue q WHERE q.track_id = h.track_id) "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = h.track_id)"
    )
    sql = f"SELECT * FROM ({queued} UNION ALL {hunted}) AS finished"
    parameters: list[Any] = []
    if track_ids is not None:
        sql += f" WHERE track_id IN {_IDS}"
        parameters.append(_ids(track_ids))
    return store.df(sql + " ORDER BY track_id", parameters or None)


def cooldown_due(*, store: Store, now: datetime) -> list[int]:
    """Waiting tracks whose retry time has come, in the order they fell due."""
    rows = store.rows(
        "SELECT track_id FROM enrich_cooldown WHERE state = 'waiting' "
        "AND next_retry_at <= ? ORDER BY next_retry_at, track_id",
        [now],
    )
    return [int(row[0]) for row in rows]


def last_hunt_failures(*, store: Store, track_ids: Sequence[int]) -> list[tuple]:
    """``(status, reasons, error)`` of each given track's latest hunt."""
    return store.rows(
        "SELECT status, reasons, error FROM label_hunts "
        f"WHERE track_id IN {_IDS} "
        "QUALIFY row_number() OVER (PARTITION BY track_id ORDER BY hunted_at DESC) = 1",
        [_ids(track_ids)],
    )


_COOLDOWN_COUNTS = (
    "count(*) FILTER (WHERE state IN ('waiting', 'permanent')) AS total, "
    "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at <= $now) AS ready, "
    "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at > $now) AS waiting, "
    "count(*) FILTER (WHERE state = 'permanent') AS permanently_failed, "
)
_NEXT_RETRY = (
    "min(next_retry_at) FILTER (WHERE state = 'waiting' AND next_retry_at > $now) AS next_retry_at"
)
_AVERAGE_RETRIES = "avg(retry_count) FILTER (WHERE state IN ('waiting', 'permanent'))"


@dataclass(frozen=True)
class CooldownCounts:
    """The cool-down's rows counted by state (see :func:`cooldown_counts`)."""

    total: int
    ready: int
    waiting: int
    permanently_failed: int
    queued: int
    resolved: int
    next_retry_at: datetime | None
    average_retries: float | None


def cooldown_counts(*, store: Store, now: datetime) -> CooldownCounts:
    """Tracks in the cool-down (waiting or permanent), ready now, waiting, given up, queued,
    resolved; the next future retry; the mean retry count."""
    row = store.df(
        f"SELECT {_COOLDOWN_COUNTS}"
        "count(*) FILTER (WHERE state = 'queued') AS queued, "
        "count(*) FILTER (WHERE state = 'resolved') AS resolved, "
        f"{_NEXT_RETRY}, {_AVERAGE_RETRIES} AS average_retries FROM enrich_cooldown",
        {"now": now},
    ).iloc[0]
    return CooldownCounts(
        **{name: int(row[name]) for name in
           ("total", "ready", "waiting", "permanently_failed", "queued", "resolved")},
        next_retry_at=None if pd.isna(row["next_retry_at"]) else row["next_retry_at"],
        average_retries=None if pd.isna(row["average_retries"]) else float(row["average_retries"]),
    )  # fmt: skip


def cooldown_summary(*, store: Store, now: datetime) -> pd.DataFrame:
    """One row per strategy: ``strategy``, ``total``, ``ready``, ``waiting``,
    ``permanently_failed``, ``average_retries``, ``next_retry_at``."""
    frame = store.df(
        f"SELECT strategy, {_COOLDOWN_COUNTS}round({_AVERAGE_RETRIES}, 3) AS average_retries, "
        f"{_NEXT_RETRY} FROM enrich_cooldown GROUP BY strategy ORDER BY strategy",
        {"now": now},
    )
    for column in ("total", "ready", "waiting", "permanently_failed"):
        frame[column] = frame[column].astype(int)
    return frame


def cooldown_waiting(*, store: Store) -> pd.DataFrame:
    """Waiting tracks and when each is due: ``track_id``, ``strategy``, ``reason``,
    ``retry_count``, ``next_retry_at``, ``due_date``."""
    return store.df(
        "SELECT track_id, strategy, reason, retry_count, next_retry_at, "
        "CAST(next_retry_at AS DATE) AS due_date FROM enrich_cooldown "
        "WHERE state = 'waiting' ORDER BY next_retry_at, track_id"
    )


# -- hunts and findings ----------------------------------------------------------------------

_HUNT_TRACK_COLUMNS = (*TRACK_KEYS, "added_run")


def tracks_for_hunt(
    *,
    store: Store,
    limit: int | None = None,
    skip_with_labels: bool = False,
    track_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The tracks a hunt works on, in id order (:data:`TRACK_KEYS` and ``added_run``)."""
    where, params = [], []
    if skip_with_labels:
        where.append("label IS NULL")
    if track_ids is not None:
        where.append("list_contains(?, id)")
        params.append(_ids(track_ids))
    sql = f"SELECT {', '.join(_HUNT_TRACK_COLUMNS)} FROM tracks"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.df(_limit(sql + " ORDER BY id", limit), params or None)


def user_labels(*, store: Store) -> pd.DataFrame:
    """The user's own labels (not the hunter's): ``id``, ``artist``, ``album``, ``label``."""
    return store.df(
        "SELECT id, artist, album, label FROM tracks WHERE label IS NOT NULL "
        "AND coalesce(label_source, '') NOT LIKE ?",
        [HUNTER_SOURCE_PREFIX + "%"],
    )


def insert_hunts(*, store: Store, rows: pd.DataFrame) -> None:
    """Append hunt outcomes (rows of ``label_hunts``)."""
    store.insert("label_hunts", rows)


def insert_findings(*, store: Store, rows: pd.DataFrame) -> None:
    """Append findings (rows of ``label_findings``)."""
    store.insert("label_findings", rows)


def current_labels(*, store: Store, track_ids: Sequence[int]) -> pd.DataFrame:
    """``track_id``, ``current_label``, ``current_source``, ``current_confidence``."""
    return store.df(
        "SELECT t.id AS track_id, t.label AS current_label, t.label_source AS "
        "current_source, t.label_confidence AS current_confidence FROM tracks t "
        "JOIN (SELECT unnest(?) AS id) AS wanted ON wanted.id = t.id",
        [_ids(track_ids)],
    )


def apply_labels(*, store: Store, rows: pd.DataFrame) -> None:
    """Fill tracks' ``label``, ``label_source``, ``label_confidence``, ``updated_at`` (by ``id``)."""
    store.update("tracks", rows, key=["id"])


def apply_catalog_numbers(
    *,
    store: Store,
    track_ids: Sequence[int],
    catalogs: Sequence[str],
    sources: Sequence[str],
    confidences: Sequence[float],
) -> None:
    """Fill catalogue numbers where the track has none, or one an earlier hunt wrote."""
    store.execute(
        "UPDATE tracks SET catalog_number = c.catalog, catalog_number_source = c.src, "
        "catalog_number_confidence = c.conf FROM (SELECT unnest(?) AS id, unnest(?) AS "
        "catalog, unnest(?) AS src, unnest(?) AS conf) AS c WHERE tracks.id = c.id "
        "AND (tracks.catalog_number IS NULL OR tracks.catalog_number_source LIKE 'hunt:%')",
        [_ids(track_ids), list(catalogs), list(sources), [float(c) for c in confidences]],
    )


def _equal_filters(conditions: dict[str, Any]) -> tuple[str, list[Any]]:
    """``WHERE a = ? AND b = ?`` for the columns whose value is given (None: no filter)."""
    given = {column: value for column, value in conditions.items() if value is not None}
    clause = " AND ".join(f"{column} = ?" for column in given)
    return (f"WHERE {clause}" if clause else ""), list(given.values())


def findings(
    *, store: Store, run_id: str | None = None, accepted: bool | None = None
) -> pd.DataFrame:
    """Findings with the track's artist and title, newest first."""
    clause, params = _equal_filters({"f.run_id": run_id, "f.accepted": accepted})
    return store.df(
        "SELECT f.track_id, t.artist, t.title, f.label, f.catalog, f.source, f.confidence, "
        "f.accepted, f.applied, f.evidence, f.parts, f.found_at, f.run_id "
        f"FROM label_findings f LEFT JOIN tracks t ON t.id = f.track_id {clause} "
        "ORDER BY f.found_at DESC, f.track_id",
        params or None,
    )


def hunts(*, store: Store, run_id: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Hunt outcomes with the track's artist and title, newest first."""
    clause, params = _equal_filters({"h.run_id": run_id, "h.status": status})
    return store.df(
        "SELECT h.track_id, t.artist, t.title, h.status, h.tried, h.error, h.elapsed_s, "
        f"h.hunted_at, h.run_id FROM label_hunts h LEFT JOIN tracks t ON t.id = h.track_id "
        f"{clause} ORDER BY h.hunted_at DESC, h.track_id",
        params or None,
    )


def coverage(*, store: Store) -> tuple[int, int, int]:
    """Tracks in all, with a label, and with a label the hunter filled."""
    tracks, with_label, by_hunter = store.rows(
        "SELECT count(*), count(nullif(trim(label), '')), "
        "count(*) FILTER (WHERE label_source LIKE 'hunt:%') FROM tracks"
    )[0]
    return int(tracks), int(with_label), int(by_hunter)


# -- the services' response cache ------------------------------------------------------------


def cache_entry(
    *, store: Store, source: str, query_key: str, fresh_since: datetime
) -> tuple[str, str | None, datetime] | None:
    """``(status, response JSON, fetched_at)`` of a cached answer fetched since a time."""
    rows = store.rows(
        "SELECT status, response, fetched_at FROM source_cache "
        "WHERE source = ? AND query_key = ? AND fetched_at >= ?",
        [source, query_key, fresh_since],
    )
    return tuple(rows[0]) if rows else None  # type: ignore[return-value]


def upsert_cache(*, store: Store, rows: pd.DataFrame) -> None:
    """Insert or replace cached answers (keyed by ``source`` and ``query_key``)."""
    store.upsert("source_cache", rows, key=["source", "query_key"])


def cache_entries(*, store: Store, source: str | None = None) -> pd.DataFrame:
    """The cached entries (``source``, ``query_key``, ``status``, ``fetched_at``)."""
    sql = "SELECT source, query_key, status, fetched_at FROM source_cache"
    if source is None:
        return store.df(sql + " ORDER BY source, query_key")
    return store.df(sql + " WHERE source = ? ORDER BY query_key", [source])
