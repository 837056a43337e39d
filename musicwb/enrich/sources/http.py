"""The one HTTP policy of every metadata source: who we are, how long we wait, how fast we go.

- **User-Agent** ``musicwb/<version> ( <contact> )``: MusicBrainz blocks anonymous clients and
  asks for a way to reach the operator.
- **Timeouts** on every request (``http_timeout_s``).
- **Per-host rate limits** with pyrate-limiter: MusicBrainz at most 1 request/s, Discogs at most
  50/min with a token and 25/min without. Every attempt, retries included, waits for its slot;
  see :class:`HostLimiter` for how network jitter is kept from pushing two requests closer
  than the service allows. A source can ask to slow down further
  (:meth:`HttpPolicy.slow_down`), as Discogs does when ``X-Discogs-Ratelimit-Remaining`` runs low.
- **Retries** with tenacity: exponential backoff with full jitter on 429, 503, other 5xx,
  timeouts, dropped connections and truncated or malformed bodies; after the last try a typed
  error (:class:`~musicwb.errors.RateLimited` when the service kept refusing for load,
  :class:`~musicwb.errors.SourceError` otherwise). 404 becomes
  :class:`~musicwb.errors.NotFound` and 401/403 :class:`~musicwb.errors.AuthError` at once.

The clock and the sleep function are injectable, so tests do not have to wait real seconds.

Examples
--------
>>> policy = HttpPolicy(contact="dj@example.org", timeout_s=5,
...                     limits={"musicbrainz.org": RateLimit(1, 1.0)})
>>> policy.user_agent.startswith("musicwb/")
True
>>> policy.call("musicbrainz@musicbrainz.org", "MusicBrainz ping", lambda: "pong",
...             classify=lambda exc: None)
'pong'
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pyrate_limiter import Limiter, Rate
from pyrate_limiter.abstracts import AbstractClock, RateItem
from pyrate_limiter.buckets import InMemoryBucket
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from musicwb.errors import ParameterError, SourceError

__all__ = [
    "RateLimit",
    "Failure",
    "HttpPolicy",
    "HostLimiter",
    "MUSICBRAINZ_LIMIT",
    "DISCOGS_LIMIT_WITH_TOKEN",
    "DISCOGS_LIMIT_WITHOUT_TOKEN",
    "policy_from_settings",
    "answered",
]

T = TypeVar("T")


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests in any window of ``per_s`` seconds.

    >>> RateLimit(50, 60.0).per_second
    0.8333333333333334
    """

    requests: int
    per_s: float

    def __post_init__(self) -> None:
        if self.requests < 1 or not self.per_s > 0:
            raise ParameterError(
                f"rate limit needs requests >= 1 and per_s > 0, got {self.requests}/{self.per_s}s"
            )

    @property
    def per_second(self) -> float:
        """The allowed average rate in requests per second."""
        return self.requests / self.per_s


MUSICBRAINZ_LIMIT = RateLimit(1, 1.0)
DISCOGS_LIMIT_WITH_TOKEN = RateLimit(50, 60.0)
DISCOGS_LIMIT_WITHOUT_TOKEN = RateLimit(25, 60.0)


@dataclass(frozen=True)
class Failure:
    """How a source judges one failed attempt.

    Attributes
    ----------
    reason : str
        Short, for messages and status rows: ``"HTTP 503"``, ``"timeout"``, ``"malformed XML"``.
    retry : bool
        Whether another attempt may succeed (load, faults in transit).
    error : type of SourceError
        Raised when not retrying, or after the last try.
    """

    reason: str
    retry: bool
    error: type[SourceError] = SourceError


class _Transient(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class _ClockAdapter(AbstractClock):
    """pyrate-limiter's clock interface over any ``() -> seconds`` function."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> int:
        return int(1000 * self._clock())


_current = threading.local()


def answered() -> None:
    """Tell the limiter of the request running in this thread that its answer has arrived.

    Called by a source's transport right after reading the body; a no-op elsewhere.
    """
    limiter = getattr(_current, "limiter", None)
    if limiter is not None:
        limiter.answered()


class HostLimiter:
    """The request slots of one host: a pyrate-limiter bucket plus an optional slow-down.

    A window limit (``RateLimit(50, 60)``) lets requests through as long as the moving window
    has room; the window is stretched by ``safety`` as a margin for the time between taking a
    slot and the request reaching the service. A spacing limit (one request per interval, as
    MusicBrainz asks) cannot be kept that way: the time from taking a slot to arriving varies by
    milliseconds to tens of milliseconds, and two arrivals may then come closer than the
    interval. So for those hosts one request is in flight at a time and the next slot opens one
    interval after the previous answer came back: arrivals are then at least one interval
    apart whatever the latency.

    Parameters
    ----------
    key : str
        Names the limiter (``"<source>@<host>"``).
    limit : RateLimit
    safety : float, default 0.04
        Stretch of window limits (see above).
    clock, sleep : callables
        ``time.monotonic`` and ``time.sleep`` unless injected.
    """

    def __init__(
        self,
        key: str,
        limit: RateLimit,
        *,
        safety: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.limit = limit
        self.spacing = limit.requests == 1
        self._clock = clock
        self._sleep = sleep
        self._window_ms = math.ceil(limit.per_s * 1000 * (1 + safety))
        self._bucket = InMemoryBucket([Rate(limit.requests, self._window_ms)])
        self._pyrate_clock = _ClockAdapter(clock)
        self._limiter = Limiter(self._bucket, clock=self._pyrate_clock, raise_when_fail=False)
        self._not_before = 0.0
        self._lock = threading.Lock()
        self._in_flight = threading.Lock()
        self._answered = False

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a slot, hold it while the request runs, and release it."""
        if not self.spacing:
            self.acquire()
            yield
            return
        with self._in_flight:
            self.acquire()
            self._answered = False
            _current.limiter = self
            try:
                yield
            finally:
                _current.limiter = None
                if not self._answered:
                    self.slow_down(self.limit.per_s)

    def answered(self) -> None:
        """The answer's bytes are in: the interval to the next request starts now.

        Parsing the answer then overlaps the wait instead of adding to it.
        """
        if self.spacing and not self._answered:
            self._answered = True
            self.slow_down(self.limit.per_s)

    def acquire(self) -> None:
        """Block until this host may receive one more request, then take the slot."""
        while True:
            with self._lock:
                pause = self._not_before - self._clock()
            if pause > 0:
                self._sleep(pause)
                continue
            if self._limiter.try_acquire(self.key):
                return
            with self._limiter.lock:
                wait_ms = self._bucket.waiting(RateItem(self.key, self._pyrate_clock.now()))
            self._sleep(max(int(wait_ms), 1) / 1000)

    def free_slots(self) -> int:
        """How many more requests the window would let through right now."""
        now = self._pyrate_clock.now()
        with self._limiter.lock:
            used = sum(1 for item in self._bucket.items if item.timestamp > now - self._window_ms)
        return max(self.limit.requests - used, 0)

    def slow_down(self, seconds: float) -> None:
        """Send nothing to this host for ``seconds`` from now (extends, never shortens)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)


class HttpPolicy:
    """User-Agent, timeouts, per-host rate limits and retries, shared by all sources.

    Parameters
    ----------
    contact : str
        An e-mail address or URL where the operator can be reached; goes into the User-Agent.
    app, version : str
        The application part of the User-Agent.
    timeout_s : float, default 20
        Connect and read timeout of every request.
    limits : mapping of str to RateLimit, optional
        Limits that win over a source's defaults (e.g. scaled-up limits for a local server),
        keyed by ``"<source>@<host>"`` (``"discogs@api.discogs.com"``) or by host alone.
    max_tries : int, default 5
        Attempts per request, the first included.
    backoff_initial_s, backoff_max_s : float
        Exponential backoff with full jitter: the n-th wait is uniform in
        ``[0, min(backoff_max_s, backoff_initial_s * 2**n)]``.
    safety : float, default 0.04
        Margin on every rate window (see :class:`HostLimiter`).
    clock, sleep : callables, optional
        Injected in tests; ``sleep`` serves both the limiter and the backoff.

    Attributes
    ----------
    attempts : collections.Counter
        HTTP attempts made per rate-limit key (what the services saw from us).

    Notes
    -----
    Limits are kept per source and host (the key ``"<source>@<host>"``), so two services
    behind one address, like the local replay server, each keep their own budget.
    """

    def __init__(
        self,
        *,
        contact: str,
        app: str = "musicwb",
        version: str | None = None,
        timeout_s: float = 20.0,
        limits: Mapping[str, RateLimit] | None = None,
        max_tries: int = 5,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        safety: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not contact or not contact.strip():
            raise ParameterError(
                "contact is empty: MusicBrainz and Discogs ask for a User-Agent with a way to "
                "reach you (set MUSICWB_CONTACT to an e-mail address or URL)"
            )
        if max_tries < 1:
            raise ParameterError(f"max_tries must be at least 1, got {max_tries}")
        if not timeout_s > 0:
            raise ParameterError(f"timeout_s must be positive, got {timeout_s}")
        if version is None:
            from musicwb import __version__ as version
        self.app = app
        self.version = version
        self.contact = contact.strip()
        self.timeout_s = float(timeout_s)
        self.max_tries = max_tries
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.safety = safety
        self._overrides = dict(limits or {})
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[str, HostLimiter] = {}
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()

    @property
    def user_agent(self) -> str:
        """``musicwb/<version> ( <contact> )``."""
        return f"{self.app}/{self.version} ( {self.contact} )"

    def limiter(self, key: str, *, default: RateLimit) -> HostLimiter:
        """The limiter of ``key`` (``"<source>@<host>"``), created on first use.

        Its limit is the one configured for the key, else for the host part, else ``default``.
        """
        with self._lock:
            if key not in self._limiters:
                host = key.split("@", 1)[-1]
                self._limiters[key] = HostLimiter(
                    key,
                    self._overrides.get(key, self._overrides.get(host, default)),
                    safety=self.safety,
                    clock=self._clock,
                    sleep=self._sleep,
                )
            return self._limiters[key]

    def slow_down(self, key: str, seconds: float) -> None:
        """Hold back the next request under ``key`` for ``seconds`` (if it has a limiter)."""
        with self._lock:
            limiter = self._limiters.get(key)
        if limiter is not None:
            limiter.slow_down(seconds)

    def call(
        self,
        key: str,
        what: str,
        fetch: Callable[[], T],
        *,
        classify: Callable[[BaseException], Failure | None],
        default_limit: RateLimit = MUSICBRAINZ_LIMIT,
    ) -> T:
        """Run ``fetch`` under the host's rate limit, retrying what ``classify`` calls transient.

        Parameters
        ----------
        key : str
            Rate-limit key ``"<source>@<host>"``, e.g. ``"musicbrainz@musicbrainz.org"``.
        what : str
            Names the request in error messages, e.g. ``"MusicBrainz recording search"``.
        fetch : callable
            One attempt; raises on failure.
        classify : callable
            Maps an exception of ``fetch`` to a :class:`Failure`; ``None`` lets it propagate
            unchanged (a programming error, not a service failure).
        default_limit : RateLimit
            Used when no limit was configured for ``key`` or its host.

        Returns
        -------
        Whatever ``fetch`` returns.

        Raises
        ------
        NotFound, AuthError
            At once, when ``classify`` says so.
        RateLimited
            The service kept answering 429/503 until the last try.
        SourceError
            Any other failure after the last try.
        """
        limiter = self.limiter(key, default=default_limit)

        def attempt() -> T:
            try:
                with limiter.slot():
                    self.attempts[key] += 1
                    return fetch()
            except Exception as exc:
                failure = classify(exc)
                if failure is None:
                    raise
                if failure.retry:
                    raise _Transient(failure) from exc
                raise failure.error(f"{what}: {failure.reason}") from exc

        retrying = Retrying(
            stop=stop_after_attempt(self.max_tries),
            wait=wait_random_exponential(multiplier=self.backoff_initial_s, max=self.backoff_max_s),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, _Transient)
            failure = last.failure
            raise failure.error(
                f"{what}: {failure.reason} after {self.max_tries} tries"
            ) from last.__cause__


def policy_from_settings(settings: object | None = None, **overrides: object) -> HttpPolicy:
    """An :class:`HttpPolicy` with the contact and timeout of the settings.

    Parameters
    ----------
    settings : musicwb.config.Settings, optional
        ``get_settings()`` when omitted.
    **overrides
        Passed on to :class:`HttpPolicy` (``limits``, ``max_tries``, ...).
    """
    if settings is None:
        from musicwb.config import get_settings

        settings = get_settings()
    arguments: dict[str, object] = {
        "contact": settings.contact,  # type: ignore[attr-defined]
        "timeout_s": settings.http_timeout_s,  # type: ignore[attr-defined]
    }
    arguments.update(overrides)
    return HttpPolicy(**arguments)  # type: ignore[arg-type]
