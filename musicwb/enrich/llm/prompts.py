"""What the LLM assist tells the model: the three system prompts and the fields of a track,
a candidate and a release it may see (everything else stays on this machine).

Examples
--------
>>> track_fields({"artist": "Trevino", "title": "Sombre Tones", "path": "/music/a/01.flac",
...               "sha256": "ab12", "duration": float("nan")})
{'artist': 'Trevino', 'title': 'Sombre Tones', 'file_name': '01.flac'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from musicwb.enrich.sources.base import Candidate, ReleaseDetails

__all__ = [
    "MAP_PROMPT",
    "SELECT_PROMPT",
    "TRACK_FIELDS",
    "VARIANTS_PROMPT",
    "candidate_fields",
    "plain_fields",
    "release_fields",
    "track_fields",
]

VARIANTS_PROMPT = """\
You help a DJ find tracks of their library in MusicBrainz and Discogs to learn the record label.
You get an artist and a title as they appear in the library, often messy. Propose at most {n}
alternative artist/title searches that are more likely to find the original release, most
promising first, for example: remix, edit and mix words removed from the title ("Original Mix",
"Extended Mix", "X Remix"); featured artists ("feat.", "ft.") moved out of the title or dropped;
artist and title swapped back when they are clearly the wrong way round; label or catalogue
brackets, YouTube and karaoke noise removed. Use only names present in the input; never invent
an artist or a title. Leave out searches identical to the input. Answer with JSON only."""

SELECT_PROMPT = """\
You match a track of a DJ's library to search results of a music database. Choose the candidate
that is the same recording (same artist, same title, same mix or remix version; the length
should agree when both are known). Prefer the original release over a compilation. Answer the
0-based index of the candidate, or null when none of them is this recording; a confidence from
0 to 1; and one sentence of reason. Answer with JSON only."""

MAP_PROMPT = """\
A release lists several labels with catalogue numbers. Choose the record label that released
this track: not a distributor, a publisher, a manufacturer or "Not On Label" when a real label is
listed. Answer the 0-based index in the release's labels, or null when none is right; a
confidence from 0 to 1; and one sentence of reason. Answer with JSON only."""


def plain_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
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


def track_fields(track: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`TRACK_FIELDS` of a track, plus the file name of its ``path``."""
    fields = plain_fields({key: track[key] for key in TRACK_FIELDS if key in track})
    path = track.get("path")
    if isinstance(path, (str, PurePath)) and str(path):
        fields["file_name"] = PurePath(str(path).replace("\\", "/")).name
    return fields


def candidate_fields(candidate: Candidate) -> dict[str, Any]:
    fields = candidate.as_dict()
    fields.pop("extra", None)
    fields.pop("recording_id", None)
    fields.pop("source_id", None)
    for key in ("status", "release_group_type", "primary_type", "secondary_types"):
        if candidate.extra.get(key):
            fields[key] = candidate.extra[key]
    return fields


def release_fields(release: ReleaseDetails) -> dict[str, Any]:
    fields = plain_fields(
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
        plain_fields({"position": t.position, "title": t.title, "artist": t.artist})
        for t in release.tracklist[:40]
    ]
    if tracklist:
        fields["tracklist"] = tracklist
    return fields
