"""The one small protocol every metadata source follows, and the values it returns.

A source answers two questions: *who released this?* (:meth:`Source.search`, artist and title
in, ranked :class:`Candidate` rows out) and *what is on this release?* (:meth:`Source.lookup`,
an id in, :class:`ReleaseDetails` out). Everything else (HTTP policy, cache, the client library
of the service) stays behind it, so the label hunter can treat MusicBrainz and Discogs alike.

Examples
--------
>>> from musicwb.enrich.sources.base import Candidate, normalise_query
>>> Candidate(source="discogs", source_id="1", artist="The Persuader", title="Östermalm",
...           label="Svek", catalog="SK032").label
'Svek'
>>> normalise_query(artist="  The  Persuader ", title="ÖSTERMALM")
'{"artist":"the persuader","title":"östermalm"}'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd
from tqdm.auto import tqdm

from musicwb.enrich.sources.cache import ResponseCache
from musicwb.enrich.sources.http import Failure, HttpPolicy, RateLimit
from musicwb.errors import NotFound, SourceError
from musicwb.text import fold_spaces

__all__ = [
    "Candidate",
    "LabelDetails",
    "ReleaseDetails",
    "ServiceClient",
    "Source",
    "Track",
    "ask_service",
    "normalise_query",
    "search_many",
]


@dataclass(frozen=True)
class Candidate:
    """One answer of a source to an artist/title search.

    Attributes
    ----------
    source : str
        ``"musicbrainz"`` or ``"discogs"``.
    source_id : str
        The id to pass to :meth:`Source.lookup` (a release id).
    artist, title : str
        As the source spells them (for Discogs search results, split from ``"Artist - Title"``).
    release_title : str or None
        The release the recording appears on.
    label, catalog : str or None
        First label and its catalogue number, when the search answer carries them.
    year : int or None
    duration_s : float or None
        Recording length in seconds (MusicBrainz only).
    score : float or None
        The service's own relevance score (MusicBrainz ``ext:score``, 0–100).
    recording_id : str or None
        The MusicBrainz recording id.
    country : str or None
    formats : tuple of str
    genres, styles : tuple of str
    extra : dict
        Raw fields a matcher may need (release status, release-group type, all labels).
    """

    source: str
    source_id: str
    artist: str
    title: str
    release_title: str | None = None
    label: str | None = None
    catalog: str | None = None
    year: int | None = None
    duration_s: float | None = None
    score: float | None = None
    recording_id: str | None = None
    country: str | None = None
    formats: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The candidate as a plain dict (for DataFrames and JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class Track:
    """One track of a release: position, title, length and its own artist credit."""

    position: str
    title: str
    duration_s: float | None = None
    artist: str | None = None


@dataclass(frozen=True)
class ReleaseDetails:
    """What a source knows about one release.

    Attributes
    ----------
    source, source_id : str
    title, artist : str
    labels : tuple of (str, str or None)
        ``(label name, catalogue number)`` pairs, in the source's order.
    genres, styles, tags : tuple of str
        Discogs has genres and styles; MusicBrainz has genres (JSON) and folksonomy tags.
    year : int or None
    country : str or None
    formats : tuple of str
        E.g. ``('Vinyl 12"',)`` or ``('CD',)``.
    tracklist : tuple of Track
    credits : tuple of (str, str)
        ``(role, name)`` pairs (Discogs ``extraartists``, MusicBrainz artist relations).
    """

    source: str
    source_id: str
    title: str
    artist: str
    labels: tuple[tuple[str, str | None], ...] = ()
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    year: int | None = None
    country: str | None = None
    formats: tuple[str, ...] = ()
    tracklist: tuple[Track, ...] = ()
    credits: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str | None:
        """The first label, or None."""
        return self.labels[0][0] if self.labels else None

    @property
    def catalog(self) -> str | None:
        """The first catalogue number, or None."""
        return self.labels[0][1] if self.labels else None

    def as_dict(self) -> dict[str, Any]:
        """The release as a plain dict (for DataFrames and JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class LabelDetails:
    """What a source knows about one record label.

    Attributes
    ----------
    source, source_id, name : str
    sort_name, type, country : str or None
    label_code : str or None
        The IFPI label code (``LC 1305`` is stored as ``"1305"``).
    aliases, tags : tuple of str
    """

    source: str
    source_id: str
    name: str
    sort_name: str | None = None
    type: str | None = None
    country: str | None = None
    label_code: str | None = None
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@runtime_checkable
class Source(Protocol):
    """A metadata source: search by artist and title, look up by id.

    Implementations raise :class:`~musicwb.errors.NotFound` when the service has nothing for an
    id, :class:`~musicwb.errors.RateLimited` or :class:`~musicwb.errors.SourceError` once the
    HTTP policy has given up, and never return a half-read answer.
    """

    name: str

    def search(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        """Candidates for a track, best first (an empty list when the service knows none)."""
        ...

    def lookup(self, source_id: str) -> ReleaseDetails:
        """Details of one release."""
        ...


class ServiceClient(Protocol):
    """What :func:`ask_service` needs of a source: its name, HTTP policy, cache, rate-limit key
    and default limit (a source may also have ``display_name``, its name in failure reasons)."""

    name: str
    policy: HttpPolicy
    cache: ResponseCache | None
    rate_key: str
    limit: RateLimit


def ask_service(
    source: ServiceClient,
    *,
    key: str,
    what: str,
    attempt: Callable[[], Any],
    classify: Callable[[BaseException], Failure | None],
) -> Any:
    """One question to a service: from the cache when fresh, else through the HTTP policy.

    Parameters
    ----------
    source : ServiceClient
        A source with ``name``, ``policy``, ``cache`` (or None), ``rate_key`` and ``limit``
        (and optionally ``display_name``, the service's name in failure reasons).
    key : str
        The normalised query (:func:`normalise_query`), the cache key.
    what : str
        Names the request in errors ("MusicBrainz release <id>").
    attempt : callable
        One HTTP attempt; the policy retries it.
    classify : callable
        Maps the client library's exceptions to the policy's failure kinds.

    Returns
    -------
    object
        The service's answer (``NotFound`` answers are cached too, errors never).
    """

    def from_service() -> Any:
        return source.policy.call(
            source.rate_key,
            what,
            attempt,
            classify=classify,
            default_limit=source.limit,
            service=getattr(source, "display_name", source.name),
        )

    if source.cache is None:
        return from_service()
    return source.cache.fetch(source.name, key, from_service, what=what)


def normalise_query(**fields: object) -> str:
    """A stable cache key for a query: normalised values, sorted keys, compact JSON.

    ``None`` values are left out, so adding an optional argument does not change old keys.
    """
    clean = {
        key: fold_spaces(value) if isinstance(value, str) else value
        for key, value in sorted(fields.items())
        if value is not None
    }
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def search_many(
    source: Source,
    queries: Iterable[tuple[str, str]] | pd.DataFrame,
    *,
    limit: int = 25,
    progress: bool = True,
) -> pd.DataFrame:
    """Search a source for many tracks, recording a status for each instead of stopping.

    Parameters
    ----------
    source : Source
    queries : iterable of (artist, title) or DataFrame with ``artist`` and ``title`` columns
    limit : int, default 25
        Candidates asked for per search.
    progress : bool, default True
        Show a tqdm bar on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per query (shape ``(n_queries, 6)``): ``artist``, ``title``, ``source``,
        ``status`` (``ok``, ``not_found`` or ``error:<Type>: message``), ``n_candidates`` and
        ``candidates`` (a list of :class:`Candidate`).

    Examples
    --------
    >>> frame = search_many(source, [("Dynamo Go", "Thief of Hearts")])  # doctest: +SKIP
    >>> frame.loc[0, "status"]  # doctest: +SKIP
    'ok'
    """
    if isinstance(queries, pd.DataFrame):
        pairs: Sequence[tuple[str, str]] = list(
            queries[["artist", "title"]].itertuples(index=False, name=None)
        )
    else:
        pairs = list(queries)
    rows = []
    try:
        for artist, title in tqdm(pairs, desc=f"{source.name} search", disable=not progress):
            try:
                found = source.search(artist, title, limit=limit)
            except NotFound:
                found, status = [], "not_found"
            except SourceError as exc:
                found, status = [], f"error:{type(exc).__name__}: {exc}"
            else:
                status = "ok" if found else "not_found"
            rows.append(
                {
                    "artist": artist,
                    "title": title,
                    "source": source.name,
                    "status": status,
                    "n_candidates": len(found),
                    "candidates": found,
                }
            )
    finally:
        cache = getattr(source, "cache", None)
        if cache is not None:
            cache.flush()  # what was fetched stays fetched, even when interrupted
    return pd.DataFrame(
        rows, columns=["artist", "title", "source", "status", "n_candidates", "candidates"]
    )
