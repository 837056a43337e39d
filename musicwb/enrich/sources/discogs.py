"""Discogs through python3-discogs-client: release search by artist and track, release details.

The client's own backoff (up to 100 tries on 429) is switched off (``backoff_enabled =
False``) so that :class:`~musicwb.enrich.sources.http.HttpPolicy` is the one that rate-limits
and retries. Discogs allows 60 requests/min with a token and 25 without; we stay at 50 and 25,
and after every answer read ``X-Discogs-Ratelimit-Remaining``: when few are left (other clients
share the token or the address) we pause a little longer before the next request.

The token (``DISCOGS_USER_TOKEN`` or ``MUSICWB_DISCOGS_TOKEN``) is kept as a
:class:`pydantic.SecretStr`, never goes into cache keys or values, and is scrubbed from the
messages of transport errors (requests puts the full URL, token included, into them).

Examples
--------
>>> from musicwb.enrich.sources.http import HttpPolicy
>>> discogs = DiscogsSource(HttpPolicy(contact="dj@example.org"), token=None)
>>> discogs.lookup("1").labels  # doctest: +SKIP
(('Svek', 'SK032'),)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import discogs_client
import requests
from discogs_client.exceptions import DiscogsAPIError, HTTPError, MalformedResponseError
from pydantic import SecretStr

from musicwb.enrich.sources.base import (
    Candidate,
    ReleaseDetails,
    Track,
    ask_service,
    normalise_query,
)
from musicwb.enrich.sources.cache import ResponseCache
from musicwb.enrich.sources.http import (
    DISCOGS_LIMIT_WITH_TOKEN,
    DISCOGS_LIMIT_WITHOUT_TOKEN,
    Failure,
    HttpPolicy,
    RateLimit,
    expected_remaining,
    http_failure,
    unreachable_cause,
)
from musicwb.errors import ParameterError, SourceError

__all__ = [
    "DEFAULT_BASE_URL",
    "DiscogsSource",
    "DiscogsTransportError",
    "candidates_from_discogs_search",
    "classify_discogs_error",
    "release_details_from_discogs",
]

DEFAULT_BASE_URL = "https://api.discogs.com"
_TOKEN_PARAM = re.compile(r"(token=)[^&\s'\"]+")


class DiscogsTransportError(Exception):
    """A timeout or connection failure, with any token scrubbed from the message.

    ``unreachable`` holds the operating system's words when the host could not be reached at
    all (``"Name or service not known"``, ``"Connection refused"``), else None.
    """

    def __init__(self, message: str, *, timeout: bool, unreachable: str | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.unreachable = unreachable


def classify_discogs_error(exc: BaseException) -> Failure | None:
    """Judge one failed discogs_client call (see :class:`~musicwb.enrich.sources.http.Failure`).

    >>> from discogs_client.exceptions import HTTPError
    >>> classify_discogs_error(HTTPError("You are making requests too quickly.", 429))
    Failure(reason='HTTP 429', retry=True, error=<class 'musicwb.errors.RateLimited'>, unreachable=False)
    """
    if isinstance(exc, DiscogsTransportError) and exc.unreachable:
        return Failure(exc.unreachable, retry=True, unreachable=True)
    if isinstance(exc, DiscogsTransportError):
        return Failure("timeout" if exc.timeout else f"connection failed ({exc})", retry=True)
    if isinstance(exc, MalformedResponseError):
        if exc.status_code == 429 or exc.status_code >= 500:
            return http_failure(exc.status_code)
        return Failure("truncated or malformed JSON", retry=True)
    if isinstance(exc, HTTPError):
        return http_failure(exc.status_code)
    if isinstance(exc, DiscogsAPIError):
        return Failure(f"{type(exc).__name__}", retry=False)
    return None


class DiscogsSource:
    """Discogs behind the :class:`~musicwb.enrich.sources.base.Source` protocol.

    Parameters
    ----------
    policy : HttpPolicy
    cache : ResponseCache, optional
    token : SecretStr or str, optional
        A personal access token; raises the limit from 25 to 60 requests/min.
    base_url : str, default "https://api.discogs.com"
    limit : RateLimit, optional
        Used unless the policy configures a limit for this host; 50/min with a token and
        25/min without by default.
    low_remaining : int, default 5
        When ``X-Discogs-Ratelimit-Remaining`` is at or below this and below what our own
        limiter would still allow (other clients share the budget), the next request waits
        ``window / limit × (low_remaining + 1 − remaining)`` seconds more.
    window_s : float, default 60
        The length of Discogs' moving rate-limit window.
    """

    name = "discogs"
    display_name = "Discogs"

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        cache: ResponseCache | None = None,
        token: SecretStr | str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        limit: RateLimit | None = None,
        low_remaining: int = 5,
        window_s: float = 60.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParameterError(f"Discogs base_url must be an http(s) URL, got {base_url!r}")
        self.policy = policy
        self.cache = cache
        self.base_url = base_url.rstrip("/")
        self.host = parts.netloc
        self._token = SecretStr(token) if isinstance(token, str) else token
        if self._token is not None and not self._token.get_secret_value().strip():
            self._token = None
        self.limit = limit or (
            DISCOGS_LIMIT_WITH_TOKEN if self._token is not None else DISCOGS_LIMIT_WITHOUT_TOKEN
        )
        self.low_remaining = low_remaining
        self.window_s = window_s
        self._client = self._make_client()

    @property
    def rate_key(self) -> str:
        """The policy's rate-limit key: ``"<source>@<host>"``."""
        return f"{self.name}@{self.host}"

    def __repr__(self) -> str:
        token = "token" if self._token is not None else "no token"
        return f"DiscogsSource({self.base_url}, {token})"

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated with a personal token."""
        return self._token is not None

    # -- the protocol ------------------------------------------------------------------------

    def search(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        """Releases by ``artist`` that contain a track called ``title``.

        Returns
        -------
        list of Candidate
            In Discogs' order; ``title`` and ``release_title`` are the release's title (a
            search result does not name the track), ``extra["searched_track"]`` the title asked
            for. Empty when nothing matches.
        """
        fields = {
            k: v.strip() for k, v in {"artist": artist, "track": title}.items() if v and v.strip()
        }
        if not fields:
            raise ParameterError("a Discogs search needs an artist or a track title")
        per_page = max(1, min(int(limit), 100))

        def call() -> list[dict[str, Any]]:
            results = self._client.search(type="release", **fields)
            results.per_page = per_page
            return [item.data for item in results.page(1)]

        response = self._ask(
            "release-search",
            f"Discogs search {artist!r} - {title!r}",
            call,
            per_page=per_page,
            **fields,
        )
        return candidates_from_discogs_search(response, searched_track=title)

    def lookup(self, source_id: str) -> ReleaseDetails:
        """A release: labels and catalogue numbers, genres, styles, year, country, formats,
        tracklist and credits.

        Raises
        ------
        NotFound
            Discogs has no release with this id.
        """
        text = str(source_id).strip()
        if not text.isdigit():
            raise ParameterError(f"not a Discogs release id: {source_id!r}")

        def call() -> dict[str, Any]:
            release = self._client.release(int(text))
            release.refresh()
            return dict(release.data)

        response = self._ask("release", f"Discogs release {text}", call, id=text)
        return release_details_from_discogs(response)

    # -- plumbing ----------------------------------------------------------------------------

    def _make_client(self) -> discogs_client.Client:
        token = None if self._token is None else self._token.get_secret_value()
        client = discogs_client.Client(self.policy.user_agent, user_token=token)
        client._base_url = self.base_url  # the documented way to point the client elsewhere
        client.backoff_enabled = False
        client.set_timeout(connect=self.policy.timeout_s, read=self.policy.timeout_s)
        return client

    def _ask(self, kind: str, what: str, call: Callable[[], Any], **fields: object) -> Any:
        return ask_service(
            self,
            key=normalise_query(kind=kind, **fields),
            what=what,
            attempt=lambda: self._observed(call),
            classify=classify_discogs_error,
        )

    def _observed(self, call: Callable[[], Any]) -> Any:
        """One attempt: scrub transport errors, then heed the rate-limit headers."""
        fetcher = self._client._fetcher
        fetcher.rate_limit_remaining = None
        try:
            return call()
        except requests.Timeout as exc:
            raise DiscogsTransportError(_scrub(str(exc)), timeout=True) from None
        except requests.RequestException as exc:
            raise DiscogsTransportError(
                _scrub(str(exc)), timeout=False, unreachable=unreachable_cause(exc)
            ) from None
        finally:
            self._heed_remaining(fetcher)

    def _heed_remaining(self, fetcher: Any) -> None:
        remaining = _int_or_none(getattr(fetcher, "rate_limit_remaining", None))
        if remaining is None or remaining > self.low_remaining:
            return
        own = expected_remaining()
        if own is None or remaining >= own:
            return  # our own limiter holds us back enough: nobody else is using the budget
        allowed = _int_or_none(getattr(fetcher, "rate_limit", None)) or self.limit.requests
        pause = self.window_s / max(allowed, 1) * (self.low_remaining + 1 - remaining)
        self.policy.slow_down(self.rate_key, pause)


def _scrub(message: str) -> str:
    return _TOKEN_PARAM.sub(r"\1***", message)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


# -- pure conversion of responses -------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _year(value: Any) -> int | None:
    text = str(value or "")[:4]
    return int(text) if text.isdigit() and int(text) > 0 else None


def _split_title(title: str) -> tuple[str, str]:
    artist, separator, release = title.partition(" - ")
    return (artist.strip(), release.strip()) if separator else ("", title.strip())


def candidates_from_discogs_search(
    results: list[dict[str, Any]], *, searched_track: str | None = None
) -> list[Candidate]:
    """Candidates from the ``results`` of a database search (releases only, in order).

    Parameters
    ----------
    results : list of dict
        The raw result items (``title`` is ``"Artist - Release"``).
    searched_track : str, optional
        Kept in ``extra`` for the matcher.
    """
    candidates = []
    for item in results:
        if item.get("type", "release") != "release":
            continue
        artist, release_title = _split_title(item.get("title", ""))
        labels = _as_list(item.get("label"))
        candidates.append(
            Candidate(
                source="discogs",
                source_id=str(item["id"]),
                artist=artist,
                title=release_title,
                release_title=release_title,
                label=labels[0] if labels else None,
                catalog=item.get("catno") or None,
                year=_year(item.get("year")),
                country=item.get("country"),
                formats=tuple(_as_list(item.get("format"))),
                genres=tuple(_as_list(item.get("genre"))),
                styles=tuple(_as_list(item.get("style"))),
                extra={"labels": labels, "searched_track": searched_track},
            )
        )
    return candidates


def _artist_names(artists: list[dict[str, Any]]) -> str:
    text = ""
    for index, artist in enumerate(artists):
        name = artist.get("anv") or artist.get("name", "")
        text += re.sub(r" \(\d+\)$", "", name)  # Discogs numbers namesakes: "Dave (2)"
        if index < len(artists) - 1:
            join = (artist.get("join") or "&").strip()
            text += ", " if join == "," else f" {join} "
    return text.strip()


def _duration(text: str | None) -> float | None:
    if not text:
        return None
    pieces = str(text).split(":")
    if not all(p.isdigit() for p in pieces):
        return None
    seconds = 0
    for piece in pieces:
        seconds = seconds * 60 + int(piece)
    return float(seconds)


def _format_name(entry: dict[str, Any]) -> str:
    descriptions = [d for d in entry.get("descriptions") or [] if d]
    return " ".join([entry.get("name", ""), *descriptions]).strip()


def release_details_from_discogs(release: dict[str, Any]) -> ReleaseDetails:
    """:class:`ReleaseDetails` from a ``/releases/{id}`` document."""
    if "id" not in release:
        raise SourceError("Discogs release lookup: the answer holds no release id")
    tracks = tuple(
        Track(
            position=str(track.get("position", "")),
            title=track.get("title", ""),
            duration_s=_duration(track.get("duration")),
            artist=_artist_names(track.get("artists") or []) or None,
        )
        for track in release.get("tracklist") or []
        if track.get("type_", "track") == "track"
    )
    return ReleaseDetails(
        source="discogs",
        source_id=str(release["id"]),
        title=release.get("title", ""),
        artist=_artist_names(release.get("artists") or []),
        labels=tuple(
            (label["name"], label.get("catno") or None)
            for label in release.get("labels") or []
            if label.get("name")
        ),
        genres=tuple(release.get("genres") or ()),
        styles=tuple(release.get("styles") or ()),
        year=_year(release.get("year") or release.get("released")),
        country=release.get("country"),
        formats=tuple(_format_name(entry) for entry in release.get("formats") or []),
        tracklist=tracks,
        credits=tuple(
            (credit.get("role", ""), re.sub(r" \(\d+\)$", "", credit.get("name", "")))
            for credit in release.get("extraartists") or []
            if credit.get("name")
        ),
    )
