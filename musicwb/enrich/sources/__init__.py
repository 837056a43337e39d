"""Metadata sources behind one protocol, one HTTP policy and one response cache.

- :mod:`.base`: the :class:`Source` protocol, :class:`Candidate`, :class:`ReleaseDetails`,
  :func:`search_many` (many searches, a status per query).
- :mod:`.http`: :class:`HttpPolicy` (User-Agent, timeouts, per-host rate limits, retries).
- :mod:`.cache`: :class:`ResponseCache` (table ``source_cache`` in the store).
- :mod:`.musicbrainz` and :mod:`.discogs`: the two services, on musicbrainzngs and
  python3-discogs-client.

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:                        # doctest: +SKIP
...     musicbrainz, discogs = make_sources(store=store)
...     candidates = musicbrainz.search("Dynamo Go", "Thief of Hearts")
"""

from __future__ import annotations

from typing import Any

from musicwb.enrich.sources.base import (
    Candidate,
    LabelDetails,
    ReleaseDetails,
    Source,
    Track,
    normalise_query,
    normalise_text,
    search_many,
)
from musicwb.enrich.sources.cache import ResponseCache
from musicwb.enrich.sources.discogs import DEFAULT_BASE_URL, DiscogsSource
from musicwb.enrich.sources.http import (
    DISCOGS_LIMIT_WITH_TOKEN,
    DISCOGS_LIMIT_WITHOUT_TOKEN,
    MUSICBRAINZ_LIMIT,
    Failure,
    HttpPolicy,
    RateLimit,
    policy_from_settings,
)
from musicwb.enrich.sources.musicbrainz import MusicBrainzSource

__all__ = [
    "Candidate",
    "LabelDetails",
    "ReleaseDetails",
    "Source",
    "Track",
    "normalise_query",
    "normalise_text",
    "search_many",
    "ResponseCache",
    "HttpPolicy",
    "RateLimit",
    "Failure",
    "policy_from_settings",
    "MUSICBRAINZ_LIMIT",
    "DISCOGS_LIMIT_WITH_TOKEN",
    "DISCOGS_LIMIT_WITHOUT_TOKEN",
    "MusicBrainzSource",
    "DiscogsSource",
    "make_sources",
]


def make_sources(
    settings: Any = None,
    *,
    store: Any = None,
    policy: HttpPolicy | None = None,
    musicbrainz_host: str = "musicbrainz.org",
    musicbrainz_https: bool = True,
    discogs_base_url: str = DEFAULT_BASE_URL,
) -> tuple[MusicBrainzSource, DiscogsSource]:
    """MusicBrainz and Discogs sharing one policy and, given a store, one cache.

    Parameters
    ----------
    settings : musicwb.config.Settings, optional
        Contact, timeout, cache TTL and Discogs token; ``get_settings()`` when omitted.
    store : Store, optional
        Where responses are cached; no cache without it.
    policy : HttpPolicy, optional
        Built from the settings when omitted.
    musicbrainz_host, musicbrainz_https, discogs_base_url
        Where the services are (a mirror, or the local replay server in tests).

    Returns
    -------
    (MusicBrainzSource, DiscogsSource)
    """
    if settings is None:
        from musicwb.config import get_settings

        settings = get_settings()
    policy = policy or policy_from_settings(settings)
    cache = None if store is None else ResponseCache(store, ttl_days=settings.cache_ttl_days)
    musicbrainz = MusicBrainzSource(
        policy, cache=cache, host=musicbrainz_host, use_https=musicbrainz_https
    )
    discogs = DiscogsSource(
        policy, cache=cache, token=settings.discogs_token, base_url=discogs_base_url
    )
    return musicbrainz, discogs
