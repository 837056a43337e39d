"""A persistent cache of source responses in the store (table ``source_cache``).

Keyed by source and normalised query (:func:`~musicwb.enrich.sources.base.normalise_query`),
it holds the service's answer as JSON with a status: ``ok``, or ``not_found`` when the service
said it has nothing (cached too, so a re-run asks nothing). Failures are not cached: the next
run tries again. Entries older than the TTL are ignored and refreshed on the next request.

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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from musicwb.errors import NotFound, ParameterError
from musicwb.store import Store

__all__ = ["CacheEntry", "ResponseCache", "STATUS_OK", "STATUS_NOT_FOUND"]

STATUS_OK = "ok"
STATUS_NOT_FOUND = "not_found"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CacheEntry:
    """One cached answer: its status, the response (``None`` for ``not_found``) and its age."""

    status: str
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
    ) -> None:
        if not ttl_days > 0:
            raise ParameterError(f"ttl_days must be positive, got {ttl_days}")
        self.store = store
        self.ttl = dt.timedelta(days=ttl_days)
        self._now = now
        self.stats: Counter[str] = Counter()

    def get(self, source: str, query_key: str) -> CacheEntry | None:
        """The fresh entry for this query, or ``None``."""
        rows = self.store.rows(
            "SELECT status, response, fetched_at FROM source_cache "
            "WHERE source = ? AND query_key = ? AND fetched_at >= ?",
            [source, query_key, self._now() - self.ttl],
        )
        if not rows:
            return None
        status, response, fetched_at = rows[0]
        return CacheEntry(
            status=status,
            response=None if response is None else json.loads(response),
            fetched_at=fetched_at,
        )

    def put(self, source: str, query_key: str, *, status: str, response: Any = None) -> None:
        """Store (or replace) the answer to one query."""
        if status not in (STATUS_OK, STATUS_NOT_FOUND):
            raise ParameterError(f"cache status must be 'ok' or 'not_found', got {status!r}")
        frame = pd.DataFrame(
            {
                "source": [source],
                "query_key": [query_key],
                "status": [status],
                "response": [
                    None
                    if response is None
                    else json.dumps(response, ensure_ascii=False, sort_keys=True)
                ],
                "fetched_at": [pd.Timestamp(self._now())],
            }
        )
        self.store.upsert("source_cache", frame, key=["source", "query_key"])
        self.stats["writes"] += 1

    def fetch(self, source: str, query_key: str, fetch: Callable[[], Any], *, what: str = "") -> Any:
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
        self.put(source, query_key, status=STATUS_OK, response=response)
        return response

    def frame(self, source: str | None = None) -> pd.DataFrame:
        """The cached entries (``source``, ``query_key``, ``status``, ``fetched_at``)."""
        sql = "SELECT source, query_key, status, fetched_at FROM source_cache"
        if source is None:
            return self.store.df(sql + " ORDER BY source, query_key")
        return self.store.df(sql + " WHERE source = ? ORDER BY query_key", [source])
