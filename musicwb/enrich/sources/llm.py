"""The LLM client for the assist: one OpenAI-compatible chat endpoint, reached over HTTP through the
sources' :class:`~musicwb.enrich.sources.http.HttpPolicy` (its session, timeouts, retries and
rate limits), with the API key kept out of every message.

Examples
--------
>>> chat = ChatTransport(base_url="http://127.0.0.1:8080/v1")
>>> chat.endpoint, chat.has_key
('http://127.0.0.1:8080/v1/chat/completions', False)
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import SecretStr

from musicwb.enrich.sources.http import Failure, HttpPolicy, RateLimit
from musicwb.errors import ParameterError, SourceError

__all__ = [
    "DEFAULT_MAX_TRIES",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "ChatTransport",
    "LlmError",
    "redacted_url",
    "short",
]

#: A chat completion takes longer than a metadata lookup, above all on a local model.
DEFAULT_TIMEOUT_S = 60.0
#: The assist is optional: one retry, then the deterministic path.
DEFAULT_MAX_TRIES = 2
#: Hosted endpoints count requests per minute; 60/min is below the free tiers of most.
DEFAULT_RATE_LIMIT = RateLimit(60, 60.0)


class LlmError(SourceError):
    """The LLM assist failed (transport, HTTP, not JSON, schema violation, index out of range).

    The label hunter catches it and takes the deterministic path. The message names the call,
    the model and the endpoint, never the API key.
    """


class ChatTransport:
    """POSTs chat-completion requests to one endpoint under an HTTP policy.

    Parameters
    ----------
    base_url : str
        The API root of an OpenAI-compatible endpoint; requests go to
        ``<base_url>/chat/completions`` (a URL already ending so is used as it is).
    api_key : SecretStr or str, optional
        Sent as ``Authorization: Bearer <key>``.
    policy : HttpPolicy, optional
        Timeouts, retries and rate limits; by default one with ``DEFAULT_TIMEOUT_S`` and
        ``DEFAULT_MAX_TRIES``.
    session : requests.Session, optional
        Injected in tests; by default the policy's (:meth:`HttpPolicy.session`).
    rate_limit : RateLimit, default 60 requests per 60 s
        Used unless the policy has a limit configured for the endpoint's host.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | str | None = None,
        policy: HttpPolicy | None = None,
        session: requests.Session | None = None,
        rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
    ) -> None:
        parts = urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParameterError(
                f"llm_base_url must be an http(s) URL such as https://api.openai.com/v1, "
                f"got {redacted_url(base_url)!r}"
            )
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions"
        self.endpoint = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        if isinstance(api_key, str):
            api_key = SecretStr(api_key) if api_key else None
        self._api_key = api_key
        self.policy = policy or HttpPolicy(
            contact="musicwb LLM assist", timeout_s=DEFAULT_TIMEOUT_S, max_tries=DEFAULT_MAX_TRIES
        )
        self._session = session or self.policy.session()
        self._rate_limit = rate_limit
        self._rate_key = f"llm@{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured (the key itself is never shown)."""
        return self._api_key is not None

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def post(self, payload: dict[str, Any], *, what: str) -> bytes:
        """The body of the endpoint's 200 answer to ``payload``, with the policy's retries.

        Raises
        ------
        LlmError
            Transport failure or HTTP error after the retries (the key scrubbed out).
        """
        return self.policy.call(
            self._rate_key,
            what,
            lambda: self._post(payload),
            classify=classify,
            default_limit=self._rate_limit,
        )

    def _post(self, payload: dict[str, Any]) -> bytes:
        """One HTTP attempt; raises only exceptions that carry no request (and no header)."""
        headers = {"User-Agent": self.policy.user_agent, "Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        problem: Exception | None = None
        try:
            response = self._session.post(
                self.endpoint, json=payload, headers=headers, timeout=self.policy.timeout_s
            )
            body = response.content
        except requests.Timeout:
            problem = _Transport("timeout", retry=True)
        except requests.RequestException as exc:
            problem = _Transport(f"connection failed ({type(exc).__name__})", retry=True)
        if problem is not None:
            # Raised outside the except block: no __context__ holding the request's headers.
            raise problem
        if response.status_code != 200:
            if response.status_code == 429:
                self._heed_retry_after(response.headers.get("Retry-After"))
            raise _HttpStatus(response.status_code, self.scrub(error_excerpt(body)))
        return body

    def _heed_retry_after(self, value: str | None) -> None:
        try:
            seconds = float(value) if value is not None else 0.0
        except ValueError:
            return  # an HTTP date: the backoff alone will do
        if seconds > 0:
            self.policy.slow_down(self._rate_key, min(seconds, 60.0))

    def scrub(self, text: str) -> str:
        """``text`` without the API key or key-like tokens a server echoed."""
        if self._api_key is not None:
            secret = self._api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "***")
        return _KEYLIKE.sub("***", text)


# Key-like tokens some servers echo in 401 answers ("Incorrect API key provided: sk-ab***yz").
_KEYLIKE = re.compile(
    r"\b(?:sk|pk|key)-[A-Za-z0-9*_\-.]{4,}|\b[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*"
)


class _Transport(Exception):
    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class _HttpStatus(Exception):
    def __init__(self, status: int, excerpt: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.excerpt = excerpt


def classify(exc: BaseException) -> Failure | None:
    """Retry timeouts, dropped connections, 429 and 5xx; anything else fails at once."""
    if isinstance(exc, _Transport):
        return Failure(exc.reason, retry=exc.retry, error=LlmError)
    if isinstance(exc, _HttpStatus):
        reason = f"HTTP {exc.status}" + (f" ({exc.excerpt})" if exc.excerpt else "")
        return Failure(reason, retry=exc.status == 429 or exc.status >= 500, error=LlmError)
    return None


def error_excerpt(body: bytes) -> str:
    """The error message of an OpenAI-style error document, else the start of the body."""
    text = body.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        return short(text)
    if isinstance(document, dict):
        error = document.get("error", document)
        if isinstance(error, dict) and error.get("message"):
            return short(str(error["message"]))
        if isinstance(error, str):
            return short(error)
    return short(text)


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redacted_url(url: str | None) -> str:
    """The URL without user info or query (either may hold a key)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
