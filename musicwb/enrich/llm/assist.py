"""The LLM assist: the three questions a chat model can help the label hunter with.

- :meth:`LlmAssist.query_variants`: other ways to search for a messy library entry;
- :meth:`LlmAssist.select_candidate`: which of a source's candidates is this track, if any;
- :meth:`LlmAssist.map_release`: which of a release's labels (and catalogue numbers) released it.

Each question is asked through :class:`~musicwb.enrich.sources.llm.ChatTransport`, with the
prompts and fields of :mod:`musicwb.enrich.llm.prompts` and the answer checked by
:mod:`musicwb.enrich.llm.answers`; this module counts calls, fallbacks and tokens, and stops
asking after too many failures in a row.

Examples
--------
>>> assist = LlmAssist(base_url="http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct")
>>> assist.endpoint, assist.stats["calls"]
('http://127.0.0.1:8080/v1/chat/completions', 0)
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from musicwb.config import Settings, get_settings
from musicwb.enrich.llm.answers import (
    LabelMapping,
    QueryVariant,
    Selection,
    _LabelChoice,
    _QueryVariants,
    bound_index,
    check_index,
    message_content,
    parse_completion,
    response_format,
    unfenced,
    validation_summary,
)
from musicwb.enrich.llm.prompts import (
    MAP_PROMPT,
    SELECT_PROMPT,
    VARIANTS_PROMPT,
    candidate_fields,
    plain_fields,
    release_fields,
    track_fields,
)
from musicwb.enrich.sources.base import Candidate, ReleaseDetails
from musicwb.enrich.sources.http import HttpPolicy, RateLimit, policy_from_settings
from musicwb.enrich.sources.llm import (
    DEFAULT_MAX_TRIES,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT_S,
    ChatTransport,
    LlmError,
    redacted_url,
)
from musicwb.errors import ParameterError
from musicwb.text import fold_spaces

if TYPE_CHECKING:  # the session is made and used in enrich/sources/
    import requests

__all__ = ["LlmAssist"]

# The package's logger: one name for every part of the assist (``musicwb.enrich.llm``).
logger = logging.getLogger("musicwb.enrich.llm")

M = TypeVar("M", bound=BaseModel)


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
        Injected in tests; by default the policy's (:meth:`HttpPolicy.session`).
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
        self._chat = ChatTransport(
            base_url=base_url,
            api_key=api_key,
            policy=policy,
            session=session,
            rate_limit=rate_limit,
        )
        if not model or not model.strip():
            raise ParameterError("llm_model is empty: name the model the endpoint serves")
        if max_consecutive_failures is not None and max_consecutive_failures < 1:
            raise ParameterError(
                f"max_consecutive_failures must be at least 1 or None, got {max_consecutive_failures}"
            )
        self.endpoint = self._chat.endpoint
        self.model = model.strip()
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
        settings: Settings | None = None,
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
        key = "set" if self.has_key else "none"
        return (
            f"LlmAssist(model={self.model!r}, endpoint={redacted_url(self.endpoint)!r}, "
            f"api_key={key}, calls={self.calls}, fallbacks={self.fallbacks})"
        )

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured (the key itself is never shown)."""
        return self._chat.has_key

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
        self._chat.close()

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
            system=VARIANTS_PROMPT.format(n=max_variants),
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
        bound_index(fmt, len(candidates))
        question = {
            "track": track_fields(track),
            "candidates": [
                {"index": i, **plain_fields(candidate_fields(c))} for i, c in enumerate(candidates)
            ],
        }

        def finish(answer: Selection) -> Selection:
            check_index(answer.index, len(candidates), "candidate")
            return answer

        return self._ask(
            "select_candidate",
            system=SELECT_PROMPT,
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
        bound_index(fmt, len(release.labels))
        question = {"track": track_fields(track), "release": release_fields(release)}

        def finish(answer: _LabelChoice) -> LabelMapping:
            check_index(answer.index, len(release.labels), "label")
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
            system=MAP_PROMPT,
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
        what = f"LLM {call} ({self.model} at {redacted_url(self.endpoint)})"
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
            content = self._content(self._chat.post(payload, what=what), what)
            try:
                answer = answer_model.model_validate_json(unfenced(content), strict=True)
            except ValidationError as exc:
                raise LlmError(
                    f"{what}: answer does not follow the {fmt['json_schema']['name']} schema: "
                    f"{validation_summary(exc)}"
                ) from None
            result = finish(answer)
        except LlmError as exc:
            text = str(exc) if str(exc).startswith(what) else f"{what}: {exc}"
            message = self._chat.scrub(text)
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

    def _content(self, body: bytes, what: str) -> str:
        """The assistant message's text; counts token usage."""
        completion = parse_completion(body, what=what)
        if completion.usage is not None:
            with self._lock:
                self.prompt_tokens += completion.usage.prompt_tokens or 0
                self.completion_tokens += completion.usage.completion_tokens or 0
        return message_content(completion, what=what)
