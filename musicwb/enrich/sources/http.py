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
- **Unreachable hosts fail fast**: a DNS failure ("Name or service not known"), a refused
  connection or an unreachable network is tried once more after ``quick_retry_s``; if the host
  still cannot be reached it is marked down for the rest of the run (the life of the policy,
  or until :meth:`HttpPolicy.reset_unreachable`), and every later request to it raises
  :class:`SourceUnreachable` at once with the same reason, instead of five tries with backoff
  per track.

Every error the policy raises carries a short ``reason`` that names the service and not the
request (``"MusicBrainz: cannot reach musicbrainz.invalid (Name or service not known)"``,
``"Discogs: HTTP 503 after 5 tries"``), so a summary can count equal failures together
(:func:`failure_reason`).

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
import errno
import math
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import requests
from pyrate_limiter import Limiter, Rate
from pyrate_limiter.abstracts import AbstractClock, RateItem
from pyrate_limiter.buckets import InMemoryBucket
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from musicwb._version import __version__
from musicwb.config import Settings, get_settings
from musicwb.errors import (
    AuthError,
    NotFound,
    ParameterError,
    RateLimited,
    SourceError,
    SourceUnreachable,
)

__all__ = [
    "DISCOGS_LIMIT_WITHOUT_TOKEN",
    "DISCOGS_LIMIT_WITH_TOKEN",
    "MUSICBRAINZ_LIMIT",
    "Failure",
    "HostLimiter",
    "HttpPolicy",
    "RateLimit",
    "SourceUnreachable",
    "answered",
    "expected_remaining",
    "failure_reason",
    "http_failure",
    "policy_from_settings",
    "unreachable_cause",
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
    unreachable: bool = False


def http_failure(code: int) -> Failure:
    """How a service's HTTP error status is judged: 404 not found and 401/403 refused at once;
    429 and 503 (load) retried, then :class:`~musicwb.errors.RateLimited`; other 5xx retried.

    Examples
    --------
    >>> http_failure(503)
    Failure(reason='HTTP 503', retry=True, error=<class 'musicwb.errors.RateLimited'>, unreachable=False)
    >>> http_failure(404).error.__name__
    'NotFound'
    """
    if code == 404:
        return Failure("HTTP 404", retry=False, error=NotFound)
    if code in (401, 403):
        return Failure(f"HTTP {code}", retry=False, error=AuthError)
    if code in (429, 503):
        return Failure(f"HTTP {code}", retry=True, error=RateLimited)
    return Failure(f"HTTP {code}", retry=code >= 500)


def failure_reason(exc: BaseException, *, prefix: str | None = None) -> str:
    """The short reason of a failure, without the request that met it (for counting).

    Errors raised by :class:`HttpPolicy` carry one (``"MusicBrainz: HTTP 503 after 5 tries"``);
    any other error gives ``"<prefix>: <Type>: <message>"``.

    >>> failure_reason(SourceUnreachable("x", reason="Discogs: cannot reach h (refused)"))
    'Discogs: cannot reach h (refused)'
    >>> failure_reason(SourceError("boom"), prefix="shop")
    'shop: SourceError: boom'
    """
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    text = f"{type(exc).__name__}: {exc}"
    return f"{prefix}: {text}" if prefix else text


_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH}


def unreachable_cause(exc: BaseException | None) -> str | None:
    """Why a host could not be reached, if that is what ``exc`` (or what caused it) says.

    Walks the chain of causes (``__cause__``, ``__context__``, and the ``reason``/``cause``
    attributes and exception arguments that urllib, urllib3, requests and musicbrainzngs use)
    for a DNS failure (:class:`socket.gaierror`), a refused connection or an unreachable
    network or host.

    Returns
    -------
    str or None
        The operating system's words (``"Name or service not known"``, ``"Connection
        refused"``), or None when the failure is something else (a timeout, an HTTP status).

    Examples
    --------
    >>> import socket, urllib.error
    >>> unreachable_cause(urllib.error.URLError(socket.gaierror(-2, "Name or service not known")))
    'Name or service not known'
    >>> unreachable_cause(TimeoutError("timed out")) is None
    True
    """
    stack: list[object] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return current.strerror or str(current)
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return current.strerror or str(current)
        stack.extend(
            [
                current.__cause__,
                current.__context__,
                getattr(current, "reason", None),
                getattr(current, "cause", None),
                *current.args,
            ]
        )
    return None


class _Transient(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class _Unreachable(Exception):
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

    Called by a source's transport as soon as the status line is in; a no-op elsewhere.
    """
    slot = getattr(_current, "slot", None)
    if slot is not None:
        slot.limiter._release(slot)


def expected_remaining() -> int | None:
    """For the request running in this thread: how many more requests our own limiter would
    have allowed in the window when it was sent (``None`` outside a request).

    A service that reports fewer remaining (``X-Discogs-Ratelimit-Remaining``) is being used
    by other clients too. Counted when the slot was taken, it can only be lower than what the
    service counts for us then, never higher.
    """
    slot = getattr(_current, "slot", None)
    return None if slot is None else slot.free_after


@dataclass
class _Slot:
    limiter: HostLimiter
    free_after: int
    released: bool = False


class HostLimiter:
    """The request slots of one host: at most ``limit.requests`` in any ``limit.per_s`` window.

    Two gates, both must open:

    1. pyrate-limiter's bucket, stamped when a slot is taken (the usual client-side limiter);
    2. a guard stamped when each answer arrived: a slot opens only if fewer than
       ``limit.requests`` requests are in flight or were answered within the last window.

    The first alone is not enough: the time from taking a slot to the request reaching the
    service varies (milliseconds on a busy machine, more on the internet), and two arrivals can
    then come closer than the service allows. A request reaches the service before its answer
    comes back, so the second gate keeps arrivals within the limit whatever the latency; for
    MusicBrainz' one request per second it means one request in flight at a time and the next
    one a second after the previous answer. A source can ask for a further pause
    (:meth:`slow_down`).

    Parameters
    ----------
    key : str
        Names the limiter (``"<source>@<host>"``).
    limit : RateLimit
    clock, sleep : callables
        ``time.monotonic`` and ``time.sleep`` unless injected.
    """

    def __init__(
        self,
        key: str,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._window_ms = math.ceil(limit.per_s * 1000)
        self._bucket = InMemoryBucket([Rate(limit.requests, self._window_ms)])
        self._pyrate_clock = _ClockAdapter(clock)
        self._limiter = Limiter(self._bucket, clock=self._pyrate_clock, raise_when_fail=False)
        self._not_before = 0.0
        self._answers: deque[float] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a slot, hold it while the request runs, and release it."""
        slot = _Slot(self, free_after=self._acquire())
        _current.slot = slot
        try:
            yield
        finally:
            _current.slot = None
            self._release(slot)

    def _release(self, slot: _Slot) -> None:
        """The request is answered (or failed): it counts in the window from now on."""
        with self._lock:
            if slot.released:
                return
            slot.released = True
            self._in_flight -= 1
            self._answers.append(self._clock())

    def _acquire(self) -> int:
        """Block until both gates open, count the request as in flight, and return how many
        more the window would take."""
        while True:
            with self._lock:
                now = self._clock()
                pause = max(self._not_before - now, self._guard_wait(now))
                if pause <= 0 and self._limiter.try_acquire(self.key):
                    self._in_flight += 1
                    return self.limit.requests - len(self._answers) - self._in_flight
            if pause <= 0:
                with self._limiter.lock:
                    item = RateItem(self.key, self._pyrate_clock.now())
                    pause = max(int(self._bucket.waiting(item)), 1) / 1000
            self._sleep(pause)

    def _guard_wait(self, now: float) -> float:
        window = self.limit.per_s
        while self._answers and self._answers[0] <= now - window:
            self._answers.popleft()
        excess = len(self._answers) + self._in_flight - self.limit.requests + 1
        if excess <= 0:
            return 0.0
        if excess > len(self._answers):
            return 0.001  # every slot is in flight: wait for an answer
        return self._answers[excess - 1] + window - now

    def free_slots(self) -> int:
        """How many more requests the window would let through right now."""
        with self._lock:
            now = self._clock()
            self._guard_wait(now)
            return max(self.limit.requests - len(self._answers) - self._in_flight, 0)

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
    quick_retry_s : float, default 0.5
        The pause before the one retry of a request whose host could not be reached; if that
        fails too, the host is marked down for the rest of the run (see :attr:`unreachable`).
    clock, sleep : callables, optional
        Injected in tests; ``sleep`` serves both the limiter and the backoff.

    Attributes
    ----------
    attempts : collections.Counter
        HTTP attempts made per rate-limit key (what the services saw from us).
    unreachable : dict of str to str
        The rate-limit keys marked down in this run, with why (``"cannot reach <host>
        (<cause>)"``).

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
        quick_retry_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if quick_retry_s < 0:
            raise ParameterError(f"quick_retry_s must be >= 0, got {quick_retry_s}")
        if not contact or not contact.strip():
            raise ParameterError(
                "contact is empty: MusicBrainz and Discogs ask for a User-Agent with a way to "
                "reach you (set MUSICWB_CONTACT to an e-mail address or URL)"
            )
        if max_tries < 1:
            raise ParameterError(f"max_tries must be at least 1, got {max_tries}")
        if not timeout_s > 0:
            raise ParameterError(f"timeout_s must be positive, got {timeout_s}")
        self.app = app
        self.version = __version__ if version is None else version
        self.contact = contact.strip()
        self.timeout_s = float(timeout_s)
        self.max_tries = max_tries
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.quick_retry_s = float(quick_retry_s)
        self.unreachable: dict[str, str] = {}
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

    def session(self) -> requests.Session:
        """A new HTTP session for a service reached with :mod:`requests` directly (the LLM
        endpoint): it sends the policy's User-Agent and asks for JSON.

        Send its requests with ``timeout=policy.timeout_s`` inside :meth:`call`, so they get
        the rate limit and the retries like every other source's.

        Examples
        --------
        >>> HttpPolicy(contact="dj@example.org").session().headers["User-Agent"][:8]
        'musicwb/'
        """
        session = requests.Session()
        session.headers.update({"User-Agent": self.user_agent, "Accept": "application/json"})
        return session

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

    def reset_unreachable(self) -> None:
        """Forget which hosts were marked down: a new run asks them again."""
        with self._lock:
            self.unreachable.clear()

    def _down(self, key: str) -> str | None:
        with self._lock:
            return self.unreachable.get(key)

    def call(
        self,
        key: str,
        what: str,
        fetch: Callable[[], T],
        *,
        classify: Callable[[BaseException], Failure | None],
        default_limit: RateLimit = MUSICBRAINZ_LIMIT,
        service: str | None = None,
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
        service : str, optional
            The service's name in failure reasons (``"MusicBrainz"``); default the source part
            of ``key``.

        Returns
        -------
        Whatever ``fetch`` returns.

        Raises
        ------
        NotFound, AuthError
            At once, when ``classify`` says so.
        RateLimited
            The service kept answering 429/503 until the last try.
        SourceUnreachable
            The host cannot be reached (DNS failure, connection refused), now and on the quick
            retry, or it was marked down earlier in this run (then without any request).
        SourceError
            Any other failure after the last try.

        Every error raised carries a ``reason`` (see :func:`failure_reason`).
        """
        host = key.split("@", 1)[-1]
        service = service or key.split("@", 1)[0]
        down = self._down(key)
        if down is not None:
            raise SourceUnreachable(
                f"{what}: {down}; not asked again in this run", reason=f"{service}: {down}"
            )
        limiter = self.limiter(key, default=default_limit)
        unreachable_before = False

        def attempt() -> T:
            nonlocal unreachable_before
            if self._down(key) is not None:  # another thread found it down meanwhile
                raise _Unreachable(Failure(self._down(key) or "", retry=False, unreachable=True))
            try:
                with limiter.slot():
                    self.attempts[key] += 1
                    return fetch()
            except Exception as exc:
                failure = classify(exc)
                if failure is None:
                    raise
                if failure.unreachable:
                    failure = Failure(
                        f"cannot reach {host} ({failure.reason})",
                        retry=False,
                        unreachable=True,
                    )
                    if unreachable_before:
                        raise _Unreachable(failure) from exc
                    unreachable_before = True
                    raise _Transient(failure) from exc  # one quick retry
                if failure.retry:
                    raise _Transient(failure) from exc
                raise _tagged(
                    failure.error(f"{what}: {failure.reason}"), f"{service}: {failure.reason}"
                ) from exc

        backoff = wait_random_exponential(multiplier=self.backoff_initial_s, max=self.backoff_max_s)

        def wait(state: RetryCallState) -> float:
            last = state.outcome.exception() if state.outcome is not None else None
            if isinstance(last, _Transient) and last.failure.unreachable:
                return self.quick_retry_s
            return backoff(state)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_tries),
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(attempt)
        except _Unreachable as exc:
            return self._mark_down(key, what, service, exc.failure, exc.__cause__)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, _Transient)
            failure = last.failure
            if failure.unreachable:  # max_tries 1: no quick retry to make
                return self._mark_down(key, what, service, failure, last.__cause__)
            raise _tagged(
                failure.error(f"{what}: {failure.reason} after {self.max_tries} tries"),
                f"{service}: {failure.reason} after {self.max_tries} tries",
            ) from last.__cause__

    def _mark_down(
        self, key: str, what: str, service: str, failure: Failure, cause: BaseException | None
    ) -> NoReturn:
        with self._lock:
            reason = self.unreachable.setdefault(key, failure.reason)
        raise SourceUnreachable(
            f"{what}: {reason}; marked down for the rest of this run",
            reason=f"{service}: {reason}",
        ) from cause


def _tagged(error: SourceError, reason: str) -> SourceError:
    """``error`` with its short ``reason`` (the service and what went wrong, not the request)."""
    error.reason = reason  # type: ignore[attr-defined]
    return error


def policy_from_settings(settings: Settings | None = None, **overrides: object) -> HttpPolicy:
    """An :class:`HttpPolicy` with the contact and timeout of the settings.

    Parameters
    ----------
    settings : musicwb.config.Settings, optional
        ``get_settings()`` when omitted.
    **overrides
        Passed on to :class:`HttpPolicy` (``limits``, ``max_tries``, ...).
    """
    if settings is None:
        settings = get_settings()
    arguments: dict[str, object] = {
        "contact": settings.contact,
        "timeout_s": settings.http_timeout_s,
        "max_tries": settings.http_max_tries,
        "backoff_initial_s": settings.http_backoff_initial_s,
        "backoff_max_s": settings.http_backoff_max_s,
    }
    arguments.update(overrides)
    return HttpPolicy(**arguments)  # type: ignore[arg-type]
