"""The demo's cast: record labels, artists (with their style and messy genre spellings), DJs
(with their label taste), and the words titles and venues are made of.

Pure data; :mod:`musicwb.demo.plan` and :mod:`musicwb.demo.tracklists` draw from it.

Examples
--------
>>> len(ARTISTS), len(LABELS), len(DJS)
(8, 5, 5)
>>> {artist.label for artist in ARTISTS} == {label.name for label in LABELS}
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ARTISTS",
    "DJ",
    "DJS",
    "GUEST_RELEASES",
    "LABELS",
    "TITLE_WORDS",
    "VENUES",
    "VOCALISTS",
    "Artist",
    "Label",
    "TimestampStyle",
]


@dataclass(frozen=True)
class Label:
    """A record label and the prefix of its catalogue numbers."""

    name: str
    prefix: str


@dataclass(frozen=True)
class Artist:
    """A demo artist: style preset, home label, canonical genre and its messy tag spellings."""

    name: str
    style: str
    label: str
    genre: str
    genre_tags: tuple[str, ...]


TimestampStyle = Literal["minutes", "clock"]
"""How a DJ's tracklists write an entry's time: ``"012"`` (minutes) or ``"0:12:30"`` (clock)."""


@dataclass(frozen=True)
class DJ:
    """A DJ playing the demo sets: how much each label is liked (label name to weight)."""

    name: str
    labels: dict[str, float] = field(hash=False)
    sets: int = 3
    timestamp_style: TimestampStyle = "minutes"


LABELS: tuple[Label, ...] = (
    Label("Ferrous Records", "FER"),
    Label("Low Tide Audio", "LTA"),
    Label("Nightglass", "NGL"),
    Label("Polar Arc", "PARC"),
    Label("Mossgrove Recordings", "MGR"),
)

ARTISTS: tuple[Artist, ...] = (
    Artist("Halden Ray", "techno", "Ferrous Records", "Techno",
           ("Techno", "techno", "Techno; Minimal", "Techno / Industrial")),
    Artist("Kobalt Hours", "dub_techno", "Ferrous Records", "Dub Techno",
           ("Dub Techno", "dub techno", "Dub Techno; Ambient", "Techno")),
    Artist("Mira Solenne", "deep_house", "Low Tide Audio", "Deep House",
           ("Deep House", "deep house", "House; Deep House", "DEEP HOUSE")),
    Artist("Tessa Vire", "minimal", "Nightglass", "Minimal",
           ("Minimal", "minimal techno", "Techno; Minimal", "Minimal / Tech House")),
    Artist("Orun Delta", "electro", "Nightglass", "Electro",
           ("Electro", "electro", "Electro; Breaks", "Electronic")),
    Artist("Selin Aster", "progressive", "Polar Arc", "Progressive House",
           ("Progressive House", "progressive", "Trance; Progressive House", "Prog House")),
    Artist("Fen Okafor", "electronica", "Mossgrove Recordings", "Electronica",
           ("Electronica", "electronica", "Electronic; Downtempo", "IDM")),
    Artist("Quill & Vane", "drum_and_bass", "Mossgrove Recordings", "Drum & Bass",
           ("Drum & Bass", "DnB", "drum and bass", "Drum n Bass; Jungle")),
)  # fmt: skip

GUEST_RELEASES: dict[tuple[str, int], str] = {
    ("Tessa Vire", 1): "Low Tide Audio",
    ("Orun Delta", 1): "Ferrous Records",
    ("Fen Okafor", 1): "Polar Arc",
}
"""Albums released away from the artist's home label: (artist, album index) to label."""

VOCALISTS = ("Ines Calder", "Rafe Moreau", "Lio Marin", "Sade Okoro")
"""Featured artists (``Artist feat. Vocalist``)."""


DJS: tuple[DJ, ...] = (
    DJ("Halden Ray", {"Ferrous Records": 5, "Nightglass": 2, "Low Tide Audio": 0.5}, sets=4),
    DJ("Mira Solenne", {"Low Tide Audio": 5, "Nightglass": 2, "Polar Arc": 1, "Mossgrove Recordings": 1},
       timestamp_style="clock"),
    DJ("Orun Delta", {"Nightglass": 4, "Ferrous Records": 3}),
    DJ("Nadia Korr", {"Ferrous Records": 3, "Nightglass": 3, "Low Tide Audio": 1}),
    DJ("Pelle Marten", {"Mossgrove Recordings": 3, "Polar Arc": 3, "Low Tide Audio": 2},
       timestamp_style="clock"),
)  # fmt: skip

TITLE_WORDS: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        "Copper", "Slow", "Hollow", "Amber", "Silent", "Northern", "Glass", "Velvet",
        "Iron", "Pale", "Distant", "Neon", "Salt", "Quiet", "Broken", "Lunar", "Static",
        "Deep", "Violet", "Cold", "Open", "Low", "Bright", "Drift", "Tidal", "Hidden",
        "Ashen", "Paper", "Signal", "Echo",
    ),
    (
        "Tide", "Meridian", "Circuit", "Harbour", "Motion", "Canopy", "Engine", "Pulse",
        "Garden", "Current", "Horizon", "Frame", "Orbit", "Chamber", "Lantern", "Tunnel",
        "Fields", "Signal", "Mirror", "Dunes", "Relay", "Corridor", "Ember", "Season",
        "Transit", "Atlas", "Shore", "Vector", "Window", "Ritual",
    ),
)  # fmt: skip
"""First and second words of track, album and promo titles (``Copper Tide``)."""

VENUES = (
    ("Halle Nord", "Hamburg"), ("Kantine", "Leipzig"), ("The Basement", "Bristol"),
    ("Sala Ovni", "Madrid"), ("Dock 9", "Rotterdam"), ("Radio Kollektiv", "Vienna"),
    ("Werk 2", "Zurich"), ("Pier Stage", "Lisbon"),
)  # fmt: skip
"""Where the demo sets were played: (venue, city)."""
