"""What a tag write would change: the store's accepted values against the files' own tags.

Pure functions on values; the files are read and written by :mod:`.tag_files`, the run is kept
by :mod:`.tag_runs`. A field is written where the store holds a value of at least the minimum
confidence that did not come from the file's own tags, and where the file's tags (as a scan
reads them) say something else.

Examples
--------
>>> row = {"id": 7, "path": "/m/a.flac", "label": "Klockworks", "label_source": "musicbrainz",
...        "label_confidence": 0.95, "catalog_number": "KW 20",
...        "catalog_number_source": "tags", "catalog_number_confidence": 1.0}
>>> wanted = wanted_values(row, fields=("label", "catalogue"), min_confidence=0.9)
>>> [(value.field, value.value) for value in wanted]
[('label', 'Klockworks')]
>>> changes_for(wanted, current={"catalog_number": "KW 20"})
(TagChange(field='label', old=None, new='Klockworks', source='musicbrainz', confidence=0.95),)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from musicwb.errors import ParameterError

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "FIELD_COLUMNS",
    "OWN_SOURCES",
    "FileOutcome",
    "FileResult",
    "StoredValue",
    "TagChange",
    "TagField",
    "changes_for",
    "parse_fields",
    "wanted_values",
]

TagField = Literal["label", "catalogue"]
"""The fields ``tags write`` writes (``--fields``)."""

FIELD_COLUMNS: dict[TagField, str] = {"label": "label", "catalogue": "catalog_number"}
"""The ``tracks`` column of each writable field."""

_ALIASES = {"catalog": "catalogue", "catalog_number": "catalogue", "catalogue_number": "catalogue"}

OWN_SOURCES = frozenset({"tags"})
"""Sources that mean the value came from the file's own tags: nothing to write back."""

DEFAULT_MIN_CONFIDENCE = 0.9
"""Values below this confidence are not written unless asked (``--min-confidence``)."""

FileOutcome = Literal["would_write", "written", "unchanged", "skipped", "failed", "restored"]
"""What became of one file: ``would_write`` (dry run), ``written``, ``unchanged`` (its tags
already say so), ``skipped`` (with a reason; nothing touched), ``failed`` (an error while
writing; the file is unchanged), ``restored`` (undo)."""


def parse_fields(values: str | Sequence[str] | None) -> tuple[TagField, ...]:
    """The fields asked for, comma-separated or as a list; both when ``None``.

    Raises
    ------
    ParameterError
        A name that is not ``label`` or ``catalogue`` (``catalog`` is read as ``catalogue``),
        or no name at all.

    Examples
    --------
    >>> parse_fields("label, catalog")
    ('label', 'catalogue')
    >>> parse_fields(None)
    ('label', 'catalogue')
    """
    if values is None:
        return tuple(FIELD_COLUMNS)
    items = [values] if isinstance(values, str) else list(values)
    names = [n.strip().lower() for item in items for n in item.split(",") if n.strip()]
    fields: list[TagField] = []
    for name in names:
        name = _ALIASES.get(name, name)
        if name not in FIELD_COLUMNS:
            raise ParameterError(
                f"--fields: no field {name!r}; one or more of {', '.join(FIELD_COLUMNS)}"
            )
        if name not in fields:
            fields.append(name)  # type: ignore[arg-type]
    if not fields:
        raise ParameterError("--fields needs at least one of label, catalogue")
    return tuple(fields)


@dataclass(frozen=True)
class StoredValue:
    """A value of the store a tag write considers for one file."""

    track_id: int
    path: str
    field: TagField
    value: str
    source: str
    confidence: float


@dataclass(frozen=True)
class TagChange:
    """One field of one file: what its tags say now (``old``, None when absent) and the new
    value, with the store's source and confidence."""

    field: TagField
    old: str | None
    new: str
    source: str
    confidence: float

    def as_dict(self) -> dict:
        """The change as JSON-ready values."""
        return {
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "source": self.source,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class FileResult:
    """One file of a tag write, dry run or undo: its outcome, why, and its changes."""

    path: str
    outcome: FileOutcome
    changes: tuple[TagChange, ...] = ()
    reason: str | None = None
    message: str | None = None
    track_id: int | None = None
    format: str | None = None

    def as_dict(self) -> dict:
        """The result as JSON-ready values."""
        return {
            "path": self.path,
            "track_id": self.track_id,
            "format": self.format,
            "outcome": self.outcome,
            "reason": self.reason,
            "message": self.message,
            "changes": [change.as_dict() for change in self.changes],
        }


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def wanted_values(
    row: Mapping[str, object], *, fields: Sequence[TagField], min_confidence: float
) -> tuple[StoredValue, ...]:
    """The values of one ``tracks`` row worth writing into its file.

    Parameters
    ----------
    row : mapping
        ``id, path`` and, per field, its column with ``_source`` and ``_confidence``.
    fields : sequence of TagField
    min_confidence : float
        Values below it are left out; so are values whose source is in :data:`OWN_SOURCES`.

    Returns
    -------
    tuple of StoredValue
    """
    wanted = []
    for name in fields:
        column = FIELD_COLUMNS[name]
        value, source = _text(row.get(column)), _text(row.get(f"{column}_source"))
        confidence = row.get(f"{column}_confidence")
        if value is None or confidence is None or source in OWN_SOURCES:
            continue
        confidence = float(confidence)  # type: ignore[arg-type]
        if math.isnan(confidence) or confidence < min_confidence:
            continue
        wanted.append(
            StoredValue(
                track_id=int(row["id"]),  # type: ignore[call-overload]
                path=str(row["path"]),
                field=name,
                value=value,
                source=source or "unknown",
                confidence=confidence,
            )
        )
    return tuple(wanted)


def changes_for(
    wanted: Sequence[StoredValue], *, current: Mapping[str, object]
) -> tuple[TagChange, ...]:
    """The changes a file needs: the wanted values its tags do not already carry.

    Parameters
    ----------
    wanted : sequence of StoredValue
        From :func:`wanted_values`.
    current : mapping
        The file's fields as a scan reads them (``label``, ``catalog_number``; see
        :func:`~musicwb.library.tags.tags_to_fields`).

    Returns
    -------
    tuple of TagChange
    """
    changes = []
    for value in wanted:
        old = _text(current.get(FIELD_COLUMNS[value.field]))
        if old != value.value:
            changes.append(
                TagChange(
                    field=value.field,
                    old=old,
                    new=value.value,
                    source=value.source,
                    confidence=value.confidence,
                )
            )
    return tuple(changes)
