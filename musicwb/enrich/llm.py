"""Optional LLM assist for the label hunter, through any OpenAI-compatible chat endpoint.

Three questions a language model can help with where string matching is weak:

- :meth:`LlmAssist.query_variants`: other ways to search for a messy library entry (remix
  words stripped, featured artists moved to the artist, artist and title swapped back);
- :meth:`LlmAssist.select_candidate`: which of a source's candidates is this track, if any;
- :meth:`LlmAssist.map_release`: which of a release's labels (and catalogue numbers) released it.

The assist is **off by default and never required**: :meth:`LlmAssist.from_settings` returns
``None`` unless ``MUSICWB_LLM_BASE_URL`` and ``MUSICWB_LLM_MODEL`` are set, and every failure
(connection, timeout, HTTP error, an answer that is not JSON, JSON that breaks the schema, an
index out of range) raises :class:`LlmError`, a :class:`~musicwb.errors.SourceError`, so the
caller catches it and takes the deterministic path. The instance counts those fallbacks and
keeps the last error for the hunt's report (:attr:`LlmAssist.stats`); after
``max_consecutive_failures`` failures in a row it stops asking (a dead endpoint should not cost
a timeout per track) and fails at once.

Answers are strict JSON: each request carries ``response_format={"type": "json_schema",
"json_schema": {"name": ..., "strict": true, "schema": ...}}`` with the JSON schema of a pydantic
model (every property required, no additional properties), and the answer is validated with the
same model. The model only ever picks by index from what it was shown (a candidate, a label of
the release), so it cannot invent a label.

Requests go through the sources' :class:`~musicwb.enrich.sources.http.HttpPolicy` (timeouts,
retries with jittered backoff on 429, 5xx, timeouts and dropped connections, a per-host rate
limit). The API key (``MUSICWB_LLM_API_KEY``) is sent as ``Authorization: Bearer ...`` and is
kept as a :class:`pydantic.SecretStr`: it is not in reprs, error messages, logs or the chained
exceptions (transport errors are re-raised without the request that carried the header).

Examples
--------
>>> from musicwb.config import Settings
>>> LlmAssist.from_settings(Settings(llm_base_url=None, llm_model=None)) is None  # the default
True
>>> assist = LlmAssist(base_url="http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct")
>>> assist.endpoint
'http://127.0.0.1:8080/v1/chat/completions'
>>> variants = assist.query_variants(artist="Faithless",
...                                  title="We Come 1 (Adam Beyer Remix)")  # doctest: +SKIP
>>> [(v.artist, v.title) for v in variants]  # doctest: +SKIP
[('Faithless', 'We Come 1')]
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from musicwb.enrich.sources.base import Candidate, ReleaseDetails
from musicwb.enrich.sources.http import Failure, HttpPolicy, RateLimit, policy_from_settings
from musicwb.errors import ParameterError, SourceError
from musicwb.text import fold_spaces

__all__ = [
    "DEFAULT_MAX_TRIES",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "TRACK_FIELDS",
    "LabelMapping",
    "LlmAssist",
    "LlmError",
    "QueryVariant",
    "Selection",
    "response_format",
]

logger = logging.getLogger(__name__)

#: A chat completion takes longer than a metadata lookup, above all on a local model.
DEFAULT_TIMEOUT_S = 60.0
#: The assist is optional: one retry, then the deterministic path.
DEFAULT_MAX_TRIES = 2
#: Hosted endpoints count requests per minute; 60/min is below the free tiers of most.
DEFAULT_RATE_LIMIT = RateLimit(60, 60.0)

M = TypeVar("M", bound=BaseModel)


class LlmError(SourceError):
    """The LLM assist failed (transport, HTTP, not JSON, schema violation, index out of range).

    The label hunter catches it and takes the deterministic path. The message names the call,
    the model and the endpoint, never the API key.
    """


# -- answers ---------------------------------------------------------------------------------


class _Strict(BaseModel):
    # extra="forbid" puts additionalProperties: false into the schema, and fields without
    # defaults are all "required": the two conditions of OpenAI's strict mode.
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueryVariant(_Strict):
    """One alternative search for a track.

    Attributes
    ----------
    artist, title : str
        What to search for.
    reason : str
        What was changed, e.g. ``"remix words stripped"``.
    """

    artist: str = Field(min_length=1, description="Artist to search for")
    title: str = Field(min_length=1, description="Title to search for")
    reason: str = Field(description="What was changed compared to the input, in a few words")


class _QueryVariants(_Strict):
    variants: list[QueryVariant] = Field(
        description="Alternative searches, most promising first; empty when none would help"
    )


class Selection(_Strict):
    """Which candidate is the track.

    Attributes
    ----------
    index : int or None
        0-based position in the candidates shown, or None when none of them is this recording.
    confidence : float
        0–1.
    reason : str
        One sentence a user can check.
    """

    index: int | None = Field(
        ge=0, description="0-based index of the matching candidate, or null when none matches"
    )
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence from 0 to 1")
    reason: str = Field(description="One sentence explaining the choice")


class _LabelChoice(_Strict):
    index: int | None = Field(
        ge=0, description="0-based index in the release's labels, or null when none is right"
    )
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence from 0 to 1")
    reason: str = Field(description="One sentence explaining the choice")


class LabelMapping(_Strict):
    """The label (and catalogue number) of a release that released the track.

    ``label`` and ``catalog`` are copied from the release's ``labels`` entry the model picked
    (``index``), never taken from the model's text.

    Attributes
    ----------
    label, catalog : str or None
        None (with ``index`` None) when the model found no fitting label.
    index : int or None
        Position in ``ReleaseDetails.labels``.
    confidence : float
    reason : str
    """

    label: str | None
    catalog: str | None
    index: int | None
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Completion(BaseModel):
    """The parts of a chat-completion document we read (other fields are ignored)."""

    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


def response_format(model: type[BaseModel], *, name: str | None = None) -> dict[str, Any]:
    """The strict ``response_format`` of a chat completion answering with ``model``.

    The schema is the model's JSON schema without the value bounds (``minimum``, ``maxLength``,
    ``maxItems``, ...): OpenAI's strict mode refuses some of them with HTTP 400 and other
    compatible servers differ in which they take. The field descriptions state the ranges for
    the model, and the answer is validated against the full pydantic model, bounds included.

    Parameters
    ----------
    model : pydantic model class
    name : str, optional
        The schema's name (letters, digits, ``_`` and ``-``); the model's name by default.

    Returns
    -------
    dict
        ``{"type": "json_schema", "json_schema": {"name", "strict": True, "schema"}}``.

    Examples
    --------
    >>> fmt = response_format(Selection)
    >>> fmt["json_schema"]["strict"], sorted(fmt["json_schema"]["schema"]["required"])
    (True, ['confidence', 'index', 'reason'])
    """
    schema = _portable(copy.deepcopy(model.model_json_schema()))
    for node in (schema, *schema.get("$defs", {}).values()):
        node.pop("description", None)  # the class docstrings are for readers, not the model
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name or model.__name__.lstrip("_"),
            "strict": True,
            "schema": schema,
        },
    }


# -- prompts ---------------------------------------------------------------------------------

_VARIANTS_PROMPT = """\
You help a DJ find tracks of their library in MusicBrainz and Discogs to learn the record label.
You get an artist and a title as they appear in the library, often messy. Propose at most {n}
alternative artist/title searches that are more likely to find the original release, most
promising first, for example: remix, edit and mix words removed from the title ("Original Mix",
"Extended Mix", "X Remix"); featured artists ("feat.", "ft.") moved out of the title or dropped;
artist and title swapped back when they are clearly the wrong way round; label or catalogue
brackets, YouTube and karaoke noise removed. Use only names present in the input; never invent
an artist or a title. Leave out searches identical to the input. Answer with JSON only."""

_SELECT_PROMPT = """\
You match a track of a DJ's library to search results of a music database. Choose the candidate
that is the same recording (same artist, same title, same mix or remix version; the length
should agree when both are known). Prefer the original release over a compilation. Answer the
0-based index of the candidate, or null when none of them is this recording; a confidence from
0 to 1; and one sentence of reason. Answer with JSON only."""

_MAP_PROMPT = """\
A release lists several labels with catalogue numbers. Choose the record label that released
this track: not a distributor, a publisher, a manufacturer or "Not On Label" when a real label is
listed. Answer the 0-based index in the release's labels, or null when none is right; a
confidence from 0 to 1; and one sentence of reason. Answer with JSON only."""


# -- the assist ------------------------------------------------------------------------------


class LlmAssist:
    """Query building, candidate selection and label mapping by a chat model.

    Parameters
    ----------
    base_url : str
        The API root of an OpenAI-compatible endpoint (``https://api.openai.com/v1``,
        ``http://localhost:11434/v1`` for Ollama, ...); requests go to
        ``<base_url>/chat/completions`` (a URL already ending so is used as it is).
    model : str
        The model name the endpoint expects.
    api_key : SecretStr or str, optional
        Sent as ``Authorization: Bearer <key>``; local servers usually need none.
    policy : HttpPolicy, optional
        Timeouts, retries and rate limits; by default one with ``DEFAULT_TIMEOUT_S`` and
        ``DEFAULT_MAX_TRIES`` (use :meth:`from_settings` to take the contact from the settings).
    session : requests.Session, optional
        Injected in tests; a new session by default.
    rate_limit : RateLimit, default 60 requests per 60 s
        Used unless the policy has a limit configured for the endpoint's host.
    temperature : float or None, default 0
        None leaves it out of the request (some reasoning models refuse the parameter).
    max_consecutive_failures : int or None, default 5
        After so many failures in a row every call fails at once, without a request; None
        never stops asking.

    Attributes
    ----------
    calls, fallbacks : int
        Questions asked and questions that ended in :class:`LlmError`.
    failures : collections.Counter
        Failures per call name (``"select_candidate"``, ...).
    last_error : str or None
        The message of the last failure.
    prompt_tokens, completion_tokens : int
        Token usage the endpoint reported.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | str | None = None,
        policy: HttpPolicy | None = None,
        session: requests.Session | None = None,
        rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
        temperature: float | None = 0.0,
        max_consecutive_failures: int | None = 5,
    ) -> None:
        parts = urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParameterError(
                f"llm_base_url must be an http(s) URL such as https://api.openai.com/v1, "
                f"got {_redacted_url(base_url)!r}"
            )
        if not model or not model.strip():
            raise ParameterError("llm_model is empty: name the model the endpoint serves")
        if max_consecutive_failures is not None and max_consecutive_failures < 1:
            raise ParameterError(
                f"max_consecutive_failures must be at least 1 or None, got {max_consecutive_failures}"
            )
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions"
        self.endpoint = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        self.model = model.strip()
        if isinstance(api_key, str):
            api_key = SecretStr(api_key) if api_key else None
        self._api_key = api_key
        self._policy = policy or HttpPolicy(
            contact="musicwb LLM assist", timeout_s=DEFAULT_TIMEOUT_S, max_tries=DEFAULT_MAX_TRIES
        )
        self._session = session or requests.Session()
        self._rate_limit = rate_limit
        self._rate_key = f"llm@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        self.temperature = temperature
        self.max_consecutive_failures = max_consecutive_failures
        self.calls = 0
        self.fallbacks = 0
        self.failures: Counter[str] = Counter()
        self.last_error: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._consecutive = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: Any = None,
        *,
        policy: HttpPolicy | None = None,
        session: requests.Session | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_tries: int = DEFAULT_MAX_TRIES,
        **options: Any,
    ) -> LlmAssist | None:
        """The assist the settings describe, or None when it is not configured.

        Parameters
        ----------
        settings : musicwb.config.Settings, optional
            ``llm_base_url``, ``llm_model``, ``llm_api_key`` and the contact;
            ``get_settings()`` when omitted.
        policy : HttpPolicy, optional
            By default the settings' policy with ``timeout_s`` and ``max_tries``.
        session : requests.Session, optional
        timeout_s : float, default 60
        max_tries : int, default 2
        **options
            Passed on to :class:`LlmAssist` (``temperature``, ``max_consecutive_failures``, ...).

        Returns
        -------
        LlmAssist or None
            None unless both ``llm_base_url`` and ``llm_model`` are set (the assist is off by
            default); half a configuration is logged as a warning and also gives None.

        Raises
        ------
        ParameterError
            ``llm_base_url`` is not an http(s) URL: a configured assist that cannot work is
            reported, not silently switched off.
        """
        if settings is None:
            from musicwb.config import get_settings

            settings = get_settings()
        base_url, model = settings.llm_base_url, settings.llm_model
        if not base_url or not model:
            if base_url or model:
                missing = "MUSICWB_LLM_MODEL" if base_url else "MUSICWB_LLM_BASE_URL"
                logger.warning("LLM assist stays off: %s is not set", missing)
            return None
        if policy is None:
            policy = policy_from_settings(settings, timeout_s=timeout_s, max_tries=max_tries)
        return cls(
            base_url=base_url,
            model=model,
            api_key=settings.llm_api_key,
            policy=policy,
            session=session,
            **options,
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key is not None else "none"
        return (
            f"LlmAssist(model={self.model!r}, endpoint={_redacted_url(self.endpoint)!r}, "
            f"api_key={key}, calls={self.calls}, fallbacks={self.fallbacks})"
        )

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured (the key itself is never shown)."""
        return self._api_key is not None

    @property
    def stats(self) -> dict[str, Any]:
        """Counters for the hunt's report: calls, fallbacks, failures per call, last error,
        whether the assist has switched itself off, token usage."""
        with self._lock:
            return {
                "model": self.model,
                "calls": self.calls,
                "fallbacks": self.fallbacks,
                "failures": dict(self.failures),
                "last_error": self.last_error,
                "switched_off": self._switched_off,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            }

    @property
    def _switched_off(self) -> bool:
        limit = self.max_consecutive_failures
        return limit is not None and self._consecutive >= limit

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the three questions -------------------------------------------------------------------

    def query_variants(
        self, *, artist: str, title: str, raw: str | None = None, max_variants: int = 3
    ) -> list[QueryVariant]:
        """Alternative artist/title searches for a library entry.

        Parameters
        ----------
        artist, title : str
            As parsed from the library (either may be empty when parsing failed).
        raw : str, optional
            The raw string they came from (file name, full title), when there is one.
        max_variants : int, default 3
            At most this many variants come back (asked for, and the rest dropped).

        Returns
        -------
        list of QueryVariant
            Length 0 to ``max_variants``, most promising first, without duplicates and
            without the input itself (compared after :func:`~musicwb.text.fold_spaces`).

        Raises
        ------
        LlmError

        Examples
        --------
        >>> assist.query_variants(artist="Faithless", title="We Come 1 (Adam Beyer Remix)")
        ... # doctest: +SKIP
        [QueryVariant(artist='Faithless', title='We Come 1', reason='remix words stripped')]
        """
        if max_variants < 1:
            raise ParameterError(f"max_variants must be at least 1, got {max_variants}")
        fmt = response_format(_QueryVariants, name="query_variants")
        variants_field = fmt["json_schema"]["schema"]["properties"]["variants"]
        variants_field["description"] += f" (at most {max_variants})"
        question = {"artist": artist, "title": title}
        if raw:
            question["raw"] = raw

        def finish(answer: _QueryVariants) -> list[QueryVariant]:
            seen = {(fold_spaces(artist), fold_spaces(title))}
            variants = []
            for variant in answer.variants:
                key = (fold_spaces(variant.artist), fold_spaces(variant.title))
                if key not in seen and key[0] and key[1]:
                    seen.add(key)
                    variants.append(variant)
            return variants[:max_variants]

        return self._ask(
            "query_variants",
            system=_VARIANTS_PROMPT.format(n=max_variants),
            question=question,
            answer_model=_QueryVariants,
            fmt=fmt,
            finish=finish,
        )

    def select_candidate(
        self, *, track: Mapping[str, Any], candidates: Sequence[Candidate]
    ) -> Selection:
        """The candidate that is this track, or none of them.

        Parameters
        ----------
        track : mapping
            What the library knows, e.g. a row of ``tracks``: only :data:`TRACK_FIELDS`
            (``artist``, ``title``, ``album``, ``duration``, ``label``, ...) and the file name
            of ``path`` are sent; missing and NaN values are left out.
        candidates : sequence of Candidate
            Length 1 or more; shown to the model with their 0-based index.

        Returns
        -------
        Selection
            ``index`` is None or a valid position in ``candidates``.

        Raises
        ------
        LlmError
            Also when the index is out of range.
        ParameterError
            ``candidates`` is empty.

        Examples
        --------
        >>> pick = assist.select_candidate(track={"artist": "Trevino", "title": "Sombre Tones"},
        ...                                candidates=candidates)  # doctest: +SKIP
        >>> candidates[pick.index].label, pick.confidence  # doctest: +SKIP
        ('Klockworks', 0.92)
        """
        if not candidates:
            raise ParameterError("select_candidate needs at least one candidate, got none")
        fmt = response_format(Selection, name="select_candidate")
        _bound_index(fmt, len(candidates))
        question = {
            "track": _track_fields(track),
            "candidates": [
                {"index": i, **_plain(_candidate_fields(c))} for i, c in enumerate(candidates)
            ],
        }

        def finish(answer: Selection) -> Selection:
            _check_index(answer.index, len(candidates), "candidate")
            return answer

        return self._ask(
            "select_candidate",
            system=_SELECT_PROMPT,
            question=question,
            answer_model=Selection,
            fmt=fmt,
            finish=finish,
        )

    def map_release(self, *, track: Mapping[str, Any], release: ReleaseDetails) -> LabelMapping:
        """The label and catalogue number of ``release`` that released the track.

        Parameters
        ----------
        track : mapping
            As for :meth:`select_candidate`.
        release : ReleaseDetails
            Its ``labels`` (``(name, catalog)`` pairs, length 1 or more) are shown with their
            0-based index, with the release's title, artist, year, country, formats and
            tracklist.

        Returns
        -------
        LabelMapping
            ``label`` and ``catalog`` copied from ``release.labels[index]``; all None when the
            model picked none.

        Raises
        ------
        LlmError
            Also when the index is out of range.
        ParameterError
            The release lists no labels.

        Examples
        --------
        >>> mapping = assist.map_release(track={"artist": "Trevino", "title": "Sombre Tones"},
        ...                              release=release)  # doctest: +SKIP
        >>> mapping.label, mapping.catalog  # doctest: +SKIP
        ('Klockworks', 'KW 20')
        """
        if not release.labels:
            raise ParameterError(
                f"map_release needs a release with labels; {release.source} release "
                f"{release.source_id} lists none"
            )
        fmt = response_format(_LabelChoice, name="map_release")
        _bound_index(fmt, len(release.labels))
        question = {"track": _track_fields(track), "release": _release_fields(release)}

        def finish(answer: _LabelChoice) -> LabelMapping:
            _check_index(answer.index, len(release.labels), "label")
            label, catalog = (None, None) if answer.index is None else release.labels[answer.index]
            return LabelMapping(
                label=label,
                catalog=catalog,
                index=answer.index,
                confidence=answer.confidence,
                reason=answer.reason,
            )

        return self._ask(
            "map_release",
            system=_MAP_PROMPT,
            question=question,
            answer_model=_LabelChoice,
            fmt=fmt,
            finish=finish,
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _ask(
        self,
        call: str,
        *,
        system: str,
        question: dict[str, Any],
        answer_model: type[M],
        fmt: dict[str, Any],
        finish: Callable[[M], Any],
    ) -> Any:
        """Ask, validate, finish; count the outcome. Every failure leaves as LlmError."""
        what = f"LLM {call} ({self.model} at {_redacted_url(self.endpoint)})"
        with self._lock:
            self.calls += 1
            switched_off = self._switched_off
            last = self.last_error
        try:
            if switched_off:
                raise LlmError(
                    f"{what}: switched off after {self.max_consecutive_failures} failures in a "
                    f"row; last: {last}"
                )
            payload: dict[str, Any] = {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": json.dumps(question, ensure_ascii=False)},
                ],
                "response_format": fmt,
            }
            if self.temperature is not None:
                payload["temperature"] = self.temperature
            body = self._policy.call(
                self._rate_key,
                what,
                lambda: self._post(payload),
                classify=_classify,
                default_limit=self._rate_limit,
            )
            content = self._content(body, what)
            try:
                answer = answer_model.model_validate_json(_unfenced(content), strict=True)
            except ValidationError as exc:
                raise LlmError(
                    f"{what}: answer does not follow the {fmt['json_schema']['name']} schema: "
                    f"{_validation_summary(exc)}"
                ) from None
            result = finish(answer)
        except LlmError as exc:
            text = str(exc) if str(exc).startswith(what) else f"{what}: {exc}"
            message = self._scrub(text)
            with self._lock:
                self.fallbacks += 1
                self.failures[call] += 1
                if not switched_off:
                    self._consecutive += 1
                    self.last_error = message
                now_off = not switched_off and self._switched_off
            # Once per failure at INFO (a hunt reports its fallbacks); a WARNING only when the
            # assist gives up, so a dead endpoint does not flood stderr under a progress bar.
            if now_off:
                logger.warning(
                    "LLM assist switched off after %d failures in a row; last: %s",
                    self.max_consecutive_failures,
                    message,
                )
            elif not switched_off:
                logger.info("%s", message)
            if message != str(exc):
                raise LlmError(message) from None
            raise
        with self._lock:
            self._consecutive = 0
        return result

    def _post(self, payload: dict[str, Any]) -> bytes:
        """One HTTP attempt; raises only exceptions that carry no request (and no header)."""
        headers = {"User-Agent": self._policy.user_agent, "Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        problem: Exception | None = None
        try:
            response = self._session.post(
                self.endpoint, json=payload, headers=headers, timeout=self._policy.timeout_s
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
            raise _HttpStatus(response.status_code, self._scrub(_error_excerpt(body)))
        return body

    def _heed_retry_after(self, value: str | None) -> None:
        try:
            seconds = float(value) if value is not None else 0.0
        except ValueError:
            return  # an HTTP date: the backoff alone will do
        if seconds > 0:
            self._policy.slow_down(self._rate_key, min(seconds, 60.0))

    def _content(self, body: bytes, what: str) -> str:
        """The assistant message's text; counts token usage."""
        try:
            completion = _Completion.model_validate_json(body)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                shown = _short(body.decode("utf-8", "replace"))
                raise LlmError(f"{what}: the answer is not JSON: {shown!r}") from None
            raise LlmError(
                f"{what}: the answer is not a chat completion: {_validation_summary(exc)}"
            ) from None
        if completion.usage is not None:
            with self._lock:
                self.prompt_tokens += completion.usage.prompt_tokens or 0
                self.completion_tokens += completion.usage.completion_tokens or 0
        choice = completion.choices[0]
        if choice.message.refusal:
            raise LlmError(f"{what}: the model refused: {_short(choice.message.refusal)}")
        if choice.finish_reason == "length":
            raise LlmError(f"{what}: the answer was cut off (finish_reason=length)")
        content = choice.message.content
        if content is None or not content.strip():
            raise LlmError(f"{what}: the answer's message has no content")
        return content

    def _scrub(self, text: str) -> str:
        if self._api_key is not None:
            secret = self._api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "***")
        return _KEYLIKE.sub("***", text)


# -- helpers ---------------------------------------------------------------------------------

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


def _classify(exc: BaseException) -> Failure | None:
    """Retry timeouts, dropped connections, 429 and 5xx; anything else fails at once."""
    if isinstance(exc, _Transport):
        return Failure(exc.reason, retry=exc.retry, error=LlmError)
    if isinstance(exc, _HttpStatus):
        reason = f"HTTP {exc.status}" + (f" ({exc.excerpt})" if exc.excerpt else "")
        return Failure(reason, retry=exc.status == 429 or exc.status >= 500, error=LlmError)
    return None


def _error_excerpt(body: bytes) -> str:
    """The error message of an OpenAI-style error document, else the start of the body."""
    text = body.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        return _short(text)
    if isinstance(document, dict):
        error = document.get("error", document)
        if isinstance(error, dict) and error.get("message"):
            return _short(str(error["message"]))
        if isinstance(error, str):
            return _short(error)
    return _short(text)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unfenced(content: str) -> str:
    """The JSON inside a single Markdown code fence, else the content unchanged.

    Some OpenAI-compatible servers ignore ``response_format`` for models without constrained
    decoding and wrap the JSON in a ```json fence. Only a fence around the whole answer is
    removed; what is inside must still parse and follow the schema in full, so this accepts
    nothing the schema would refuse.
    """
    stripped = content.strip()
    match = re.fullmatch(r"```[A-Za-z]*\s*\n?(.*?)\n?\s*```", stripped, flags=re.DOTALL)
    return match.group(1) if match else stripped


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "answer"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _check_index(index: int | None, count: int, what: str) -> None:
    if index is not None and not 0 <= index < count:
        raise LlmError(f"the model chose {what} index {index}, but only 0..{count - 1} exist")


_BOUNDS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
    }
)


def _portable(node: Any) -> Any:
    """A JSON schema without value bounds (see :func:`response_format`); property names kept."""
    if isinstance(node, list):
        return [_portable(item) for item in node]
    if not isinstance(node, dict):
        return node
    # A bound is a number or a string; a property that happens to be named "format" or
    # "pattern" has a schema (a dict) as its value and stays.
    return {
        key: _portable(value)
        for key, value in node.items()
        if key not in _BOUNDS or not isinstance(value, (int, float, str))
    }


def _bound_index(fmt: dict[str, Any], count: int) -> None:
    """Tell the model the valid index range in the description of ``index``."""
    field = fmt["json_schema"]["schema"]["properties"]["index"]
    field["description"] = f"{field['description']} (from 0 to {count - 1})"


def _redacted_url(url: str | None) -> str:
    """The URL without user info or query (either may hold a key)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values, leaving out missing ones (None, NaN, NA, empty collections).

    Tracks often come from a DataFrame row, so NumPy scalars and pandas' missing values are
    turned into plain Python values first.
    """
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        value = _json_value(value)
        if value is None or value == []:
            continue
        clean[str(key)] = value
    return clean


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, set, np.ndarray)):
        items = [_json_value(v) for v in value]
        return [v for v in items if v is not None]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (str, int, bool)):
        return value
    return str(value)


#: The track fields the model sees; everything else (hashes, sizes, sources, confidences, the
#: folders of ``path``) stays on this machine.
TRACK_FIELDS = (
    "artist",
    "title",
    "album",
    "mix",
    "remixer",
    "featured",
    "duration",
    "duration_s",
    "year",
    "label",
    "catalog",
    "catalog_number",
    "genres",
    "bpm",
    "key",
    "isrc",
)


def _track_fields(track: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`TRACK_FIELDS` of a track, plus the file name of its ``path``."""
    fields = _plain({key: track[key] for key in TRACK_FIELDS if key in track})
    path = track.get("path")
    if isinstance(path, (str, PurePath)) and str(path):
        fields["file_name"] = PurePath(str(path).replace("\\", "/")).name
    return fields


def _candidate_fields(candidate: Candidate) -> dict[str, Any]:
    fields = candidate.as_dict()
    fields.pop("extra", None)
    fields.pop("recording_id", None)
    fields.pop("source_id", None)
    for key in ("status", "release_group_type", "primary_type", "secondary_types"):
        if candidate.extra.get(key):
            fields[key] = candidate.extra[key]
    return fields


def _release_fields(release: ReleaseDetails) -> dict[str, Any]:
    fields = _plain(
        {
            "title": release.title,
            "artist": release.artist,
            "year": release.year,
            "country": release.country,
            "formats": release.formats,
        }
    )
    fields["labels"] = [
        {"index": i, "label": name, "catalog": catalog}
        for i, (name, catalog) in enumerate(release.labels)
    ]
    tracklist = [
        _plain({"position": t.position, "title": t.title, "artist": t.artist})
        for t in release.tracklist[:40]
    ]
    if tracklist:
        fields["tracklist"] = tracklist
    return fields
