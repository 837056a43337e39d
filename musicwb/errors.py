"""The one error family of musicwb.

Every error the package raises on purpose is a :class:`MusicwbError`, so a caller (the CLI, a
notebook, a batch) can catch the family once and show its message. Errors from libraries are
wrapped once, at the boundary where the context is known, with ``raise ... from exc``.

One member lives beside the code that raises it, to keep this module free of imports:
:class:`musicwb.enrich.llm.LlmError` (a :class:`SourceError`: the optional LLM assist failed,
and the label hunter falls back to its deterministic path).
"""

from __future__ import annotations

__all__ = [
    "MusicwbError",
    "ParameterError",
    "SourceError",
    "NotFound",
    "RateLimited",
    "SourceUnreachable",
    "AuthError",
    "StoreError",
    "StoreLockedError",
    "AudioError",
    "UnsupportedFormatError",
]


class MusicwbError(Exception):
    """Base class of every error musicwb raises on purpose."""


class ParameterError(MusicwbError, ValueError):
    """A parameter, option or input value is invalid (names the parameter and the value)."""


class SourceError(MusicwbError):
    """A metadata source (MusicBrainz, Discogs, ...) failed after its retries."""


class NotFound(SourceError):
    """The source answered, and it has nothing for the query."""


class RateLimited(SourceError):
    """The source kept refusing for rate limiting (HTTP 429/503) after every retry."""


class SourceUnreachable(SourceError):
    """The service's host cannot be reached (DNS failure, connection refused, no route).

    The HTTP policy marks the host down for the rest of the run after the first such answer
    (and one quick retry); later requests raise this at once, with the same ``reason``.

    Attributes
    ----------
    reason : str
        ``"<Service>: cannot reach <host> (<cause>)"``, the same for every request to the host.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class AuthError(SourceError):
    """The source refused the credentials (HTTP 401/403)."""


class StoreError(MusicwbError):
    """The DuckDB store cannot be opened, migrated, read or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""


class AudioError(MusicwbError):
    """An audio file cannot be read or analysed (corrupt, truncated, empty)."""


class UnsupportedFormatError(AudioError):
    """An audio file is in a format that no installed decoder reads."""
