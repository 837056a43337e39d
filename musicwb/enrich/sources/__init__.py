"""Metadata sources behind one protocol, one HTTP policy and one response cache.

- :mod:`.base`: the :class:`Source` protocol, :class:`Candidate`, :class:`ReleaseDetails`,
  :func:`search_many` (many searches, a status per query).
- :mod:`.http`: :class:`HttpPolicy` (User-Agent, timeouts, per-host rate limits, retries).
- :mod:`.cache`: :class:`ResponseCache` (table ``source_cache`` in the store).
- :mod:`.musicbrainz` and :mod:`.discogs`: the two services, on musicbrainzngs and
  python3-discogs-client;
- :mod:`.llm`: the client of an OpenAI-compatible chat endpoint, for the optional LLM assist
  (:mod:`musicwb.enrich.llm`).

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:                        # doctest: +SKIP
...     musicbrainz, discogs = make_sources(store=store)
...     candidates = musicbrainz.search("Dynamo Go", "Thief of Hearts")
"""

from __future__ import annotations

from urllib.parse import urlsplit

from musicwb.config import Settings, get_settings
from musicwb.enrich.sources.base import (
    Candidate,
    LabelDetails,
    ReleaseDetails,
    Source,
    Track,
    normalise_query,
    search_many,
)
from musicwb.enrich.sources.cache import ResponseCache
from musicwb.enrich.sources.discogs import DiscogsSource
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
from musicwb.store import Store

__all__ = [
    "DISCOGS_LIMIT_WITHOUT_TOKEN",
    "DISCOGS_LIMIT_WITH_TOKEN",
    "MUSICBRAINZ_LIMIT",
    "Candidate",
    "DiscogsSource",
    "Failure",
    "HttpPolicy",
    "LabelDetails",
    "MusicBrainzSource",
    "RateLimit",
    "ReleaseDetails",
    "ResponseCache",
    "Source",
    "Track",
    "make_sources",
    "normalise_query",
    "policy_from_settings",
    "search_many",
]


def make_sources(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    policy: HttpPolicy | None = None,
    musicbrainz_host: str | None = None,
    musicbrainz_https: bool | None = None,
    discogs_base_url: str | None = None,
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
        Where the services are (a mirror, or the local replay server in tests); the settings'
        values when omitted. The settings' ``musicbrainz_rate_per_s`` and
        ``discogs_requests_per_min`` become the policy's limits for those hosts.

    Returns
    -------
    (MusicBrainzSource, DiscogsSource)
    """
    if settings is None:
        settings = get_settings()
    if musicbrainz_host is None:
        musicbrainz_host = settings.musicbrainz_host
    if musicbrainz_https is None:
        musicbrainz_https = settings.musicbrainz_https
    if discogs_base_url is None:
        discogs_base_url = settings.discogs_base_url
    if policy is None:
        limits = {
            f"musicbrainz@{musicbrainz_host}": RateLimit(1, 1.0 / settings.musicbrainz_rate_per_s)
        }
        if settings.discogs_requests_per_min:
            discogs_host = urlsplit(discogs_base_url).netloc
            limits[f"discogs@{discogs_host}"] = RateLimit(
                int(settings.discogs_requests_per_min), 60.0
            )
        policy = policy_from_settings(settings, limits=limits)
    cache = None if store is None else ResponseCache(store, ttl_days=settings.cache_ttl_days)
    musicbrainz = MusicBrainzSource(
        policy, cache=cache, host=musicbrainz_host, use_https=musicbrainz_https
    )
    discogs = DiscogsSource(
        policy, cache=cache, token=settings.discogs_token, base_url=discogs_base_url
    )
    return musicbrainz, discogs
