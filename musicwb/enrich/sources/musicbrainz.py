"""MusicBrainz through musicbrainzngs: recording and release search, release and label lookup.

musicbrainzngs keeps its settings in module globals and has its own limiter and retry loop
(8 tries, sleeping ``2 s × n`` on 500/502/503, no timeout). Both are wrong for us: the limiter
assumes the default host, the retry loop would multiply our own retries and ignore the rate
limit. So every call here runs under one lock that sets the host, User-Agent and format, turns
the built-in limiter off (``set_rate_limit(False)``) and swaps the library's ``_safe_read``
(its single HTTP read) for one try with our timeout that raises the library's own
``ResponseError``/``NetworkError``. :class:`~musicwb.enrich.sources.http.HttpPolicy` then
rate-limits per host and retries; :func:`classify_musicbrainz_error` maps the library's errors
(the HTTP status is in ``.cause.code``) to ours.

Responses are cached as the library returns them (parsed XML as dicts, or the JSON document);
:func:`candidates_from_recordings`, :func:`candidates_from_releases`,
:func:`release_details_from_musicbrainz` and :func:`label_details_from_musicbrainz` turn them
into values, for both the XML and the JSON shape of the web service.

Examples
--------
>>> from musicwb.enrich.sources.http import HttpPolicy
>>> policy = HttpPolicy(contact="dj@example.org")
>>> mb = MusicBrainzSource(policy)                      # musicbrainz.org over https
>>> mb.search("Dynamo Go", "Thief of Hearts")[0].release_title  # doctest: +SKIP
'Folly, Vice & Madness'
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.error
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

import musicbrainzngs
from musicbrainzngs import musicbrainz as _mbcore

from musicwb.enrich.sources.base import (
    Candidate,
    LabelDetails,
    ReleaseDetails,
    Track,
    ask_service,
    normalise_query,
)
from musicwb.enrich.sources.cache import ResponseCache
from musicwb.enrich.sources.http import (
    MUSICBRAINZ_LIMIT,
    Failure,
    HttpPolicy,
    RateLimit,
    answered,
    http_failure,
    unreachable_cause,
)
from musicwb.errors import AuthError, ParameterError, SourceError

__all__ = [
    "RELEASE_INCLUDES",
    "MusicBrainzSource",
    "candidates_from_recordings",
    "candidates_from_releases",
    "classify_musicbrainz_error",
    "label_details_from_musicbrainz",
    "release_details_from_musicbrainz",
]

T = TypeVar("T")

#: What a release lookup asks for: labels and catalogue numbers, tracks, credits, tags.
RELEASE_INCLUDES = [
    "labels",
    "recordings",
    "artist-credits",
    "release-groups",
    "tags",
    "artist-rels",
]
LABEL_INCLUDES = ["aliases", "tags"]

# musicbrainzngs is configured through module globals: one call at a time.
_LIBRARY_LOCK = threading.Lock()
_state = threading.local()


def _single_read(opener: Any, req: Any, body: Any = None, *_: Any, **__: Any) -> bytes:
    """One HTTP read with our timeout, in place of musicbrainzngs' own retry loop."""
    timeout = getattr(_state, "timeout_s", 20.0)
    try:
        response = opener.open(req, body, timeout) if body else opener.open(req, timeout=timeout)
        answered()  # the status line is in, so the request has arrived: the interval starts
        return response.read()
    except urllib.error.HTTPError as exc:
        raise musicbrainzngs.ResponseError(cause=exc) from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise musicbrainzngs.NetworkError(cause=exc) from exc


def classify_musicbrainz_error(exc: BaseException) -> Failure | None:
    """Judge one failed musicbrainzngs call (see :class:`~musicwb.enrich.sources.http.Failure`).

    >>> import urllib.error
    >>> cause = urllib.error.HTTPError("http://x/ws/2/release/1", 503, "busy", {}, None)
    >>> classify_musicbrainz_error(musicbrainzngs.ResponseError(cause=cause))
    Failure(reason='HTTP 503', retry=True, error=<class 'musicwb.errors.RateLimited'>, unreachable=False)
    """
    if isinstance(exc, musicbrainzngs.AuthenticationError):
        return Failure("authentication refused", retry=False, error=AuthError)
    if isinstance(exc, (musicbrainzngs.ResponseError, musicbrainzngs.NetworkError)):
        cause = exc.cause
        if isinstance(cause, urllib.error.HTTPError):
            return http_failure(cause.code)
        unreachable = unreachable_cause(cause)
        if unreachable is not None:  # DNS failure, connection refused: fail fast
            return Failure(unreachable, retry=True, unreachable=True)
        if isinstance(cause, (ParseError, ExpatError, UnicodeError, json.JSONDecodeError)):
            return Failure("truncated or malformed response", retry=True)
        if isinstance(cause, urllib.error.URLError) and isinstance(cause.reason, TimeoutError):
            return Failure("timeout", retry=True)
        if isinstance(cause, (TimeoutError, socket.timeout)):
            return Failure("timeout", retry=True)
        if isinstance(cause, http.client.IncompleteRead):
            return Failure("truncated response", retry=True)
        return Failure(f"network error ({type(cause).__name__}: {cause})", retry=True)
    if isinstance(exc, json.JSONDecodeError):
        return Failure("truncated or malformed JSON", retry=True)
    return None


class MusicBrainzSource:
    """MusicBrainz (or a mirror) behind the :class:`~musicwb.enrich.sources.base.Source` protocol.

    Parameters
    ----------
    policy : HttpPolicy
        User-Agent, timeout, rate limit and retries.
    cache : ResponseCache, optional
        Responses are read from and written to it; without one every call asks the service.
    host : str, default "musicbrainz.org"
        Host, with ``:port`` for a mirror or a local replay server.
    use_https : bool, default True
    ws_format : {"xml", "json"}, default "xml"
        The web-service format; XML is musicbrainzngs' own, JSON also carries genres.
    limit : RateLimit, default 1 request/s
        Used unless the policy configures a limit for ``host``.
    """

    name = "musicbrainz"
    display_name = "MusicBrainz"

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        cache: ResponseCache | None = None,
        host: str = "musicbrainz.org",
        use_https: bool = True,
        ws_format: Literal["xml", "json"] = "xml",
        limit: RateLimit = MUSICBRAINZ_LIMIT,
    ) -> None:
        if ws_format not in ("xml", "json"):
            raise ParameterError(f"ws_format must be 'xml' or 'json', got {ws_format!r}")
        if not host:
            raise ParameterError("MusicBrainz host is empty")
        self.policy = policy
        self.cache = cache
        self.host = host
        self.use_https = use_https
        self.ws_format = ws_format
        self.limit = limit

    @property
    def rate_key(self) -> str:
        """The policy's rate-limit key: ``"<source>@<host>"``."""
        return f"{self.name}@{self.host}"

    def __repr__(self) -> str:
        scheme = "https" if self.use_https else "http"
        return f"MusicBrainzSource({scheme}://{self.host}, format={self.ws_format})"

    # -- the protocol ------------------------------------------------------------------------

    def search(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        """Recordings matching artist and title, one candidate per (recording, release).

        Returns
        -------
        list of Candidate
            Best first, as MusicBrainz scores them; empty when nothing matches.
        """
        response = self._search("recording", artist=artist, title=title, limit=limit)
        return candidates_from_recordings(response)

    def lookup(self, source_id: str) -> ReleaseDetails:
        """A release with its labels and catalogue numbers, tracks, credits and tags.

        Raises
        ------
        NotFound
            MusicBrainz has no release with this id.
        """
        source_id = _mbid(source_id)
        response = self._ask(
            "release",
            f"MusicBrainz release {source_id}",
            lambda: musicbrainzngs.get_release_by_id(source_id, includes=RELEASE_INCLUDES),
            id=source_id,
        )
        return release_details_from_musicbrainz(response)

    # -- more of MusicBrainz -----------------------------------------------------------------

    def search_releases(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        """Releases matching artist and release title; these answers carry label-info."""
        response = self._search("release", artist=artist, title=title, limit=limit)
        return candidates_from_releases(response)

    def lookup_label(self, label_id: str) -> LabelDetails:
        """A label with its aliases, label code, country and tags."""
        label_id = _mbid(label_id)
        response = self._ask(
            "label",
            f"MusicBrainz label {label_id}",
            lambda: musicbrainzngs.get_label_by_id(label_id, includes=LABEL_INCLUDES),
            id=label_id,
        )
        return label_details_from_musicbrainz(response)

    # -- plumbing ----------------------------------------------------------------------------

    def _search(
        self, entity: Literal["recording", "release"], *, artist: str, title: str, limit: int
    ) -> Any:
        """A recording or release search (the raw answer), cached by its query."""
        fields = _search_fields(artist=artist, **{entity: title})
        search = {
            "recording": musicbrainzngs.search_recordings,
            "release": musicbrainzngs.search_releases,
        }[entity]
        return self._ask(
            f"{entity}-search",
            f"MusicBrainz {entity} search {artist!r} - {title!r}",
            lambda: search(limit=limit, **fields),
            limit=limit,
            **fields,
        )

    def _ask(self, kind: str, what: str, call: Callable[[], Any], **fields: object) -> Any:
        return ask_service(
            self,
            key=normalise_query(kind=kind, format=self.ws_format, **fields),
            what=what,
            attempt=lambda: self._with_library(call),
            classify=classify_musicbrainz_error,
        )

    def _with_library(self, call: Callable[[], T]) -> T:
        with _LIBRARY_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # set_format("json") warns that JSON is unofficial
            original_read = _mbcore._safe_read
            musicbrainzngs.set_useragent(self.policy.app, self.policy.version, self.policy.contact)
            musicbrainzngs.set_hostname(self.host, use_https=self.use_https)
            musicbrainzngs.set_rate_limit(False)
            musicbrainzngs.set_format(self.ws_format)
            _mbcore._safe_read = _single_read
            _state.timeout_s = self.policy.timeout_s
            try:
                return call()
            finally:
                _mbcore._safe_read = original_read
                musicbrainzngs.set_format("xml")


def _mbid(value: str) -> str:
    text = str(value).strip()
    if not text or "/" in text:
        raise ParameterError(f"not a MusicBrainz id: {value!r}")
    return text


def _search_fields(**fields: str | None) -> dict[str, str]:
    clean = {key: value.strip() for key, value in fields.items() if value and value.strip()}
    if not clean:
        raise ParameterError(f"a MusicBrainz search needs at least one of {sorted(fields)}")
    return clean


# -- pure conversion of responses (XML-as-dicts or JSON) -------------------------------------


def _first(mapping: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, "", []):
            return value
    return default


def _year(date: str | None) -> int | None:
    if not date or len(str(date)) < 4 or not str(date)[:4].isdigit():
        return None
    return int(str(date)[:4])


def _seconds(length: Any) -> float | None:
    try:
        return None if length in (None, "") else int(length) / 1000.0
    except (TypeError, ValueError):
        return None


def _credit_phrase(entity: dict[str, Any]) -> str:
    phrase = entity.get("artist-credit-phrase")
    if phrase:
        return phrase
    parts = []
    for credit in entity.get("artist-credit") or []:
        if isinstance(credit, str):  # XML join phrases arrive as bare strings
            parts.append(credit)
            continue
        parts.append(credit.get("name") or credit.get("artist", {}).get("name", ""))
        parts.append(credit.get("joinphrase", ""))
    return "".join(parts).strip()


def _media(release: dict[str, Any]) -> list[dict[str, Any]]:
    return list(_first(release, "medium-list", "media", default=[]))


def _formats(release: dict[str, Any]) -> tuple[str, ...]:
    return tuple(m["format"] for m in _media(release) if m.get("format"))


def _labels(release: dict[str, Any]) -> list[tuple[str, str | None]]:
    pairs = []
    for info in _first(release, "label-info-list", "label-info", default=[]):
        name = (info.get("label") or {}).get("name")
        if name:
            pairs.append((name, info.get("catalog-number")))
    return pairs


def _names_by_count(items: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    ranked = sorted(items, key=lambda item: (-int(item.get("count") or 0), item.get("name", "")))
    return tuple(item["name"] for item in ranked if item.get("name"))


def _score(entity: dict[str, Any]) -> float | None:
    value = _first(entity, "ext:score", "score")
    return None if value is None else float(value)


def candidates_from_recordings(response: dict[str, Any]) -> list[Candidate]:
    """Candidates from a recording search, one per (recording, release), best first.

    Parameters
    ----------
    response : dict
        ``search_recordings`` output (XML: ``recording-list``; JSON: ``recordings``).

    Returns
    -------
    list of Candidate
        A recording on no release gives one candidate whose ``source_id`` is the recording id
        (``extra["entity"] == "recording"``).
    """
    candidates = []
    for recording in _first(response, "recording-list", "recordings", default=[]):
        common = {
            "source": "musicbrainz",
            "artist": _credit_phrase(recording),
            "title": recording.get("title", ""),
            "duration_s": _seconds(recording.get("length")),
            "score": _score(recording),
            "recording_id": recording.get("id"),
        }
        releases = _first(recording, "release-list", "releases", default=[])
        if not releases:
            candidates.append(
                Candidate(source_id=recording["id"], extra={"entity": "recording"}, **common)
            )
        for release in releases:
            group = release.get("release-group") or {}
            candidates.append(
                Candidate(
                    source_id=release["id"],
                    release_title=release.get("title"),
                    year=_year(release.get("date")),
                    country=release.get("country"),
                    formats=_formats(release),
                    extra={
                        "entity": "release",
                        "status": release.get("status"),
                        "release_type": _first(group, "type", "primary-type"),
                    },
                    **common,
                )
            )
    return candidates


def candidates_from_releases(response: dict[str, Any]) -> list[Candidate]:
    """Candidates from a release search; each carries its first label and catalogue number."""
    candidates = []
    for release in _first(response, "release-list", "releases", default=[]):
        labels = _labels(release)
        group = release.get("release-group") or {}
        candidates.append(
            Candidate(
                source="musicbrainz",
                source_id=release["id"],
                artist=_credit_phrase(release),
                title=release.get("title", ""),
                release_title=release.get("title"),
                label=labels[0][0] if labels else None,
                catalog=labels[0][1] if labels else None,
                year=_year(release.get("date")),
                score=_score(release),
                country=release.get("country"),
                formats=_formats(release),
                extra={
                    "entity": "release",
                    "labels": labels,
                    "status": release.get("status"),
                    "release_type": _first(group, "type", "primary-type"),
                    "barcode": release.get("barcode"),
                },
            )
        )
    return candidates


def _tracks(release: dict[str, Any]) -> tuple[Track, ...]:
    tracks = []
    for medium in _media(release):
        for track in _first(medium, "track-list", "tracks", default=[]):
            recording = track.get("recording") or {}
            tracks.append(
                Track(
                    position=str(_first(track, "number", "position", default="")),
                    title=_first(track, "title", default=recording.get("title", "")),
                    duration_s=_seconds(_first(track, "length", default=recording.get("length"))),
                    artist=_credit_phrase(track) or _credit_phrase(recording) or None,
                )
            )
    return tuple(tracks)


def _credits(release: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    relations = list(release.get("artist-relation-list") or [])
    relations += [r for r in release.get("relations") or [] if r.get("artist")]
    return tuple(
        (relation.get("type", ""), relation["artist"]["name"])
        for relation in relations
        if relation.get("artist", {}).get("name")
    )


def release_details_from_musicbrainz(response: dict[str, Any]) -> ReleaseDetails:
    """:class:`ReleaseDetails` from a release lookup (XML ``{"release": ...}`` or JSON)."""
    release = response.get("release", response)
    if "id" not in release:
        raise SourceError("MusicBrainz release lookup: the answer holds no release")
    return ReleaseDetails(
        source="musicbrainz",
        source_id=release["id"],
        title=release.get("title", ""),
        artist=_credit_phrase(release),
        labels=tuple(_labels(release)),
        genres=_names_by_count(_first(release, "genre-list", "genres", default=[])),
        tags=_names_by_count(_first(release, "tag-list", "tags", default=[])),
        year=_year(release.get("date")),
        country=release.get("country"),
        formats=_formats(release),
        tracklist=_tracks(release),
        credits=_credits(release),
    )


def label_details_from_musicbrainz(response: dict[str, Any]) -> LabelDetails:
    """:class:`LabelDetails` from a label lookup (XML ``{"label": ...}`` or JSON)."""
    label = response.get("label", response)
    if "id" not in label:
        raise SourceError("MusicBrainz label lookup: the answer holds no label")
    aliases = _first(label, "alias-list", "aliases", default=[])
    code = label.get("label-code")
    return LabelDetails(
        source="musicbrainz",
        source_id=label["id"],
        name=label.get("name", ""),
        sort_name=label.get("sort-name"),
        type=label.get("type"),
        country=label.get("country"),
        label_code=None if code in (None, "") else str(code),
        aliases=tuple(
            a.get("alias") or a.get("name") for a in aliases if a.get("alias") or a.get("name")
        ),
        tags=_names_by_count(_first(label, "tag-list", "tags", default=[])),
    )
