"""What the LLM assist asks for and reads back: strict JSON schemas of the answers, the chat
completion document, and the checks an answer must pass (pure, no I/O).

The model only ever picks by index from what it was shown (a candidate, a label of the
release), so it cannot invent a label; :class:`Assist` is what the label hunter's tiers ask.

Examples
--------
>>> fmt = response_format(Selection)
>>> fmt["json_schema"]["name"], fmt["json_schema"]["strict"]
('Selection', True)
>>> unfenced('```json\\n{"index": 0}\\n```')
'{"index": 0}'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from musicwb.enrich.sources.base import Candidate, ReleaseDetails
from musicwb.enrich.sources.llm import LlmError, short

__all__ = [
    "Assist",
    "Completion",
    "LabelMapping",
    "QueryVariant",
    "Selection",
    "bound_index",
    "check_index",
    "message_content",
    "parse_completion",
    "response_format",
    "unfenced",
    "validation_summary",
]


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


class Completion(BaseModel):
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


def parse_completion(body: bytes, *, what: str) -> Completion:
    """The chat-completion document of an answer's body.

    Raises
    ------
    LlmError
        The body is not JSON, or not a chat completion.
    """
    try:
        return Completion.model_validate_json(body)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            shown = short(body.decode("utf-8", "replace"))
            raise LlmError(f"{what}: the answer is not JSON: {shown!r}") from None
        raise LlmError(
            f"{what}: the answer is not a chat completion: {validation_summary(exc)}"
        ) from None


def message_content(completion: Completion, *, what: str) -> str:
    """The assistant message's text.

    Raises
    ------
    LlmError
        The model refused, the answer was cut off, or it has no content.
    """
    choice = completion.choices[0]
    if choice.message.refusal:
        raise LlmError(f"{what}: the model refused: {short(choice.message.refusal)}")
    if choice.finish_reason == "length":
        raise LlmError(f"{what}: the answer was cut off (finish_reason=length)")
    content = choice.message.content
    if content is None or not content.strip():
        raise LlmError(f"{what}: the answer's message has no content")
    return content


def unfenced(content: str) -> str:
    """The JSON inside a single Markdown code fence, else the content unchanged.

    Some OpenAI-compatible servers ignore ``response_format`` for models without constrained
    decoding and wrap the JSON in a ```json fence. Only a fence around the whole answer is
    removed; what is inside must still parse and follow the schema in full, so this accepts
    nothing the schema would refuse.
    """
    stripped = content.strip()
    match = re.fullmatch(r"```[A-Za-z]*\s*\n?(.*?)\n?\s*```", stripped, flags=re.DOTALL)
    return match.group(1) if match else stripped


def validation_summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "answer"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def check_index(index: int | None, count: int, what: str) -> None:
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


def bound_index(fmt: dict[str, Any], count: int) -> None:
    """Tell the model the valid index range in the description of ``index``."""
    field = fmt["json_schema"]["schema"]["properties"]["index"]
    field["description"] = f"{field['description']} (from 0 to {count - 1})"


class Assist(Protocol):
    """The questions the label hunter's tiers ask an assist (:class:`~musicwb.enrich.llm.LlmAssist`
    or a test's stand-in); every failure raises :class:`LlmError`."""

    def query_variants(
        self, *, artist: str, title: str, raw: str | None = None, max_variants: int = 3
    ) -> list[QueryVariant]:
        """Alternative artist/title searches for a library entry."""
        ...

    def select_candidate(
        self, *, track: Mapping[str, Any], candidates: Sequence[Candidate]
    ) -> Selection:
        """The candidate that is this track, or none of them."""
        ...

    def map_release(self, *, track: Mapping[str, Any], release: ReleaseDetails) -> LabelMapping:
        """The label and catalogue number of ``release`` that released the track."""
        ...
