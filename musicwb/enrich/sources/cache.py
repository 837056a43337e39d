"""A persistent cache of source responses in the store (table ``source_cache``).

Keyed by source and normalised query (:func:`~musicwb.enrich.sources.base.normalise_query`),
it holds the service's answer as JSON with a status: ``ok``, or ``not_found`` when the service
said it has nothing (cached too, so a re-run asks nothing). Failures are not cached: the next
run tries again. Entries older than the TTL are ignored and refreshed on the next request.

Each write is a commit of the store (tens of milliseconds on a busy disk). At the real services'
rates that is nothing; for fast mirrors, ``flush_every=n`` keeps up to ``n`` answers in memory
(served from there) and writes them in one bulk upsert. :meth:`ResponseCache.flush` (also on
leaving a ``with`` block, and at the end of :func:`~musicwb.enrich.sources.base.search_many`)
writes what is pending; an interrupted run loses at most those answers, never a result.

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb")
>>> cache = ResponseCache(store, ttl_days=30)
>>> cache.fetch("discogs", '{"id":"1"}', lambda: {"title": "Stockholm"})
{'title': 'Stockholm'}
>>> cache.fetch("discogs", '{"id":"1"}', lambda: 1 / 0)   # served from the store
{'title': 'Stockholm'}
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Self

import pandas as pd

from musicwb.errors import NotFound, ParameterError
from musicwb.store import Store
from musicwb.store.tables import enrich as tables

__all__ = ["STATUS_NOT_FOUND", "STATUS_OK", "CacheEntry", "CacheStatus", "ResponseCache"]

CacheStatus = Literal["ok", "not_found"]
"""A cached answer: the service's response, or that it has nothing."""
STATUS_OK: CacheStatus = "ok"
STATUS_NOT_FOUND: CacheStatus = "not_found"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CacheEntry:
    """One cached answer: its status, the response (``None`` for ``not_found``) and its age."""

    status: CacheStatus
    response: Any
    fetched_at: dt.datetime


class ResponseCache:
    """Source responses kept in the store.

    Parameters
    ----------
    store : Store
        An open, writable store (migration 002 creates the table).
    ttl_days : float, default 30
        Entries older than this are treated as absent.
    now : callable, optional
        Returns the current UTC time (naive); injectable for tests.
    flush_every : int, default 1
        Write to the store once this many answers are pending (1: at once).

    Attributes
    ----------
    stats : collections.Counter
        ``hits``, ``misses`` and ``writes`` since this object was made.
    """

    def __init__(
        self,
        store: Store,
        *,
        ttl_days: float = 30.0,
        now: Callable[[], dt.datetime] = _utcnow,
        flush_every: int = 1,
    ) -> None:
        if not ttl_days > 0:
            raise ParameterError(f"ttl_days must be positive, got {ttl_days}")
        if flush_every < 1:
            raise ParameterError(f"flush_every must be at least 1, got {flush_every}")
        self.store = store
        self.ttl = dt.timedelta(days=ttl_days)
        self.flush_every = flush_every
        self._now = now
        self._pending: dict[tuple[str, str], CacheEntry] = {}
        self._lock = threading.RLock()
        self._fetching: dict[tuple[str, str], threading.Lock] = {}
        self.stats: Counter[str] = Counter()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def get(self, source: str, query_key: str) -> CacheEntry | None:
        """The fresh entry for this query, or ``None``."""
        with self._lock:
            pending = self._pending.get((source, query_key))
        if pending is not None:
            return pending
        row = tables.cache_entry(
            store=self.store, source=source, query_key=query_key, fresh_since=self._now() - self.ttl
        )
        if row is None:
            return None
        status, response, fetched_at = row
        return CacheEntry(
            status=status,
            response=None if response is None else json.loads(response),
            fetched_at=fetched_at,
        )

    def put(self, source: str, query_key: str, *, status: CacheStatus, response: Any = None) -> Any:
        """Store (or replace) the answer to one query.

        Returns
        -------
        The response as it will be read back (through JSON), so that a first run and a
        cached re-run see exactly the same value.
        """
        if status not in (STATUS_OK, STATUS_NOT_FOUND):
            raise ParameterError(f"cache status must be 'ok' or 'not_found', got {status!r}")
        if response is not None:
            response = json.loads(json.dumps(response, ensure_ascii=False))
        entry = CacheEntry(status=status, response=response, fetched_at=self._now())
        with self._lock:
            self._pending[(source, query_key)] = entry
            if len(self._pending) >= self.flush_every:
                self.flush()
        return response

    def flush(self) -> int:
        """Write the pending answers in one upsert; returns how many."""
        with self._lock:
            if not self._pending:
                return 0
            items = list(self._pending.items())
            frame = pd.DataFrame(
                {
                    "source": [source for (source, _), _ in items],
                    "query_key": [key for (_, key), _ in items],
                    "status": [entry.status for _, entry in items],
                    "response": [
                        None
                        if entry.response is None
                        else json.dumps(entry.response, ensure_ascii=False, sort_keys=True)
                        for _, entry in items
                    ],
                    "fetched_at": pd.to_datetime([entry.fetched_at for _, entry in items]),
                }
            )
            tables.upsert_cache(store=self.store, rows=frame)
            self._pending.clear()
            self.stats["writes"] += len(items)
            return len(items)

    def fetch(
        self, source: str, query_key: str, fetch: Callable[[], Any], *, what: str = ""
    ) -> Any:
        """The cached response, or ``fetch()``'s, which is then cached.

        Parameters
        ----------
        source, query_key : str
        fetch : callable
            Asks the service; raises :class:`~musicwb.errors.NotFound` when it has nothing.
        what : str
            Names the query in the ``NotFound`` raised for a cached ``not_found``.

        Raises
        ------
        NotFound
            The service said (now or when cached) that it has nothing.
        SourceError
            From ``fetch``; nothing is cached then.
        """
        with self._lock:
            key_lock = self._fetching.setdefault((source, query_key), threading.Lock())
        with key_lock:  # one request per query, even when threads ask at the same time
            try:
                return self._fetch_once(source, query_key, fetch, what)
            finally:
                with self._lock:
                    self._fetching.pop((source, query_key), None)

    def _fetch_once(self, source: str, query_key: str, fetch: Callable[[], Any], what: str) -> Any:
        entry = self.get(source, query_key)
        if entry is not None:
            self.stats["hits"] += 1
            if entry.status == STATUS_NOT_FOUND:
                raise NotFound(
                    f"{what or source}: not found (cached {entry.fetched_at:%Y-%m-%d %H:%M} UTC)"
                )
            return entry.response
        self.stats["misses"] += 1
        try:
            response = fetch()
        except NotFound:
            self.put(source, query_key, status=STATUS_NOT_FOUND)
            raise
        return self.put(source, query_key, status=STATUS_OK, response=response)

    def frame(self, source: str | None = None) -> pd.DataFrame:
        """The cached entries (``source``, ``query_key``, ``status``, ``fetched_at``)."""
        self.flush()
        return tables.cache_entries(store=self.store, source=source)
