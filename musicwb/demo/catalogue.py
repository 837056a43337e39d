"""The demo's cast: record labels, artists (with their style and messy genre spellings), DJs
(with their label taste), and the words titles and venues are made of.

Pure data; :mod:`musicwb.demo.plan` and :mod:`musicwb.demo.tracklists` draw from it.

Examples
--------
>>> len(ARTISTS), len(LABELS), len(DJS)
(36, 9, 12)
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
    """A demo artist: style preset, home label, canonical genre and its messy tag spellings.

    ``voice`` picks the artist's own twist of the style (see
    :func:`musicwb.demo.styles.artist_style`); ``album_tracks`` is the length of each of the
    artist's two albums.
    """

    name: str
    style: str
    label: str
    genre: str
    genre_tags: tuple[str, ...]
    voice: int = 0
    album_tracks: int = 2


TimestampStyle = Literal["minutes", "clock"]
"""How a DJ's tracklists write an entry's time: ``"012"`` (minutes) or ``"0:12:30"`` (clock)."""


@dataclass(frozen=True)
class DJ:
    """A DJ playing the demo sets: how much each label is liked (label name to weight)."""

    name: str
    labels: dict[str, float] = field(hash=False)
    sets: int = 8
    timestamp_style: TimestampStyle = "minutes"


LABELS: tuple[Label, ...] = (
    Label("Ferrous Records", "FER"),
    Label("Nightglass", "NGL"),
    Label("Basalt Works", "BSW"),
    Label("Low Tide Audio", "LTA"),
    Label("Polar Arc", "PARC"),
    Label("Sunday Loft", "SLF"),
    Label("Mossgrove Recordings", "MGR"),
    Label("Cinder Lane", "CDL"),
    Label("Fathom Audio", "FTH"),
)


def _family(
    style: str, genre: str, forms: tuple[str, ...], cast: tuple[tuple[str, str, str], ...]
) -> tuple[Artist, ...]:
    """One sound family: artists of one base style, each with its own voice (a twist of the
    style), home label and genre spellings (mostly the family's genre, once with a second
    one); the first one releases three tracks per album."""
    return tuple(
        Artist(name, style, label, genre, (forms[0], forms[1], forms[2],
                                           f"{forms[0]}; {other}"),
               voice=voice, album_tracks=3 if voice == 0 else 2)
        for voice, (name, label, other) in enumerate(cast)
    )  # fmt: skip


# Three families of twelve artists: a seed's playlist of 30 (at most 3 per artist) fills from
# its own family, and DJs' label taste keeps each family's artists playing together.
ARTISTS: tuple[Artist, ...] = (
    *_family("techno", "Techno", ("Techno", "techno", "TECHNO"), (
        ("Halden Ray", "Ferrous Records", "Industrial"),
        ("Kobalt Hours", "Ferrous Records", "Dub Techno"),
        ("Tessa Vire", "Nightglass", "Minimal"),
        ("Orun Delta", "Nightglass", "Electro"),
        ("Nadia Korr", "Basalt Works", "Hard Techno"),
        ("Ivo Stahl", "Ferrous Records", "Minimal"),
        ("Marek Lund", "Basalt Works", "Detroit Techno"),
        ("Ysolde Brandt", "Nightglass", "Dub Techno"),
        ("Corvid Array", "Basalt Works", "Industrial"),
        ("Petra Holm", "Ferrous Records", "Detroit Techno"),
        ("Gray Meridian", "Nightglass", "Minimal"),
        ("Anouk Veld", "Basalt Works", "Hard Techno"),
    )),
    *_family("deep_house", "Deep House", ("Deep House", "deep house", "DEEP HOUSE"), (
        ("Mira Solenne", "Low Tide Audio", "House"),
        ("Selin Aster", "Polar Arc", "Progressive House"),
        ("Pelle Marten", "Low Tide Audio", "Tech House"),
        ("Jonah Vale", "Sunday Loft", "Soulful House"),
        ("Aurelie Faure", "Polar Arc", "House"),
        ("Deniz Koral", "Sunday Loft", "Tech House"),
        ("Kasimir Lowe", "Low Tide Audio", "Progressive House"),
        ("Rosa Ilves", "Polar Arc", "Soulful House"),
        ("The Quiet Rooms", "Sunday Loft", "House"),
        ("Lucan Reyes", "Low Tide Audio", "Tech House"),
        ("Noor Haddad", "Polar Arc", "House"),
        ("Elio Brenner", "Sunday Loft", "Soulful House"),
    )),
    *_family("drum_and_bass", "Drum & Bass", ("Drum & Bass", "DnB", "Drum n Bass"), (
        ("Quill & Vane", "Mossgrove Recordings", "Jungle"),
        ("Fen Okafor", "Mossgrove Recordings", "Liquid Funk"),
        ("Tamsin Greer", "Cinder Lane", "Neurofunk"),
        ("Obi Nwosu", "Fathom Audio", "Jungle"),
        ("Lyra Kestrel", "Cinder Lane", "Liquid Funk"),
        ("Dax Moreno", "Fathom Audio", "Neurofunk"),
        ("Hollis Crane", "Mossgrove Recordings", "Jungle"),
        ("Senna Blau", "Cinder Lane", "Liquid Funk"),
        ("Atlas Drift", "Fathom Audio", "Neurofunk"),
        ("Juno Falk", "Mossgrove Recordings", "Liquid Funk"),
        ("Keziah Roy", "Fathom Audio", "Jungle"),
        ("Wren Adeyemi", "Cinder Lane", "Neurofunk"),
    )),
)  # fmt: skip

GUEST_RELEASES: dict[tuple[str, int], str] = {
    ("Tessa Vire", 1): "Ferrous Records",
    ("Orun Delta", 1): "Basalt Works",
    ("Selin Aster", 1): "Low Tide Audio",
    ("Jonah Vale", 1): "Polar Arc",
    ("Fen Okafor", 1): "Cinder Lane",
    ("Obi Nwosu", 1): "Mossgrove Recordings",
}
"""Albums released away from the artist's home label: (artist, album index) to label."""

VOCALISTS = ("Ines Calder", "Rafe Moreau", "Lio Marin", "Sade Okoro")
"""Featured artists (``Artist feat. Vocalist``)."""


DJS: tuple[DJ, ...] = (
    DJ("Halden Ray", {"Ferrous Records": 5, "Nightglass": 1.5}, sets=9),
    DJ("Nadia Korr", {"Basalt Works": 5, "Ferrous Records": 1.5}),
    DJ("Orun Delta", {"Nightglass": 5, "Basalt Works": 1.5}),
    DJ("Ivo Stahl", {"Ferrous Records": 3, "Basalt Works": 3}, timestamp_style="clock"),
    DJ("Mira Solenne", {"Low Tide Audio": 5, "Polar Arc": 1.5}, timestamp_style="clock", sets=9),
    DJ("Pelle Marten", {"Low Tide Audio": 3, "Sunday Loft": 3}, timestamp_style="clock"),
    DJ("Jonah Vale", {"Sunday Loft": 5, "Polar Arc": 1.5}),
    DJ("Rosa Ilves", {"Polar Arc": 5, "Low Tide Audio": 1.5}),
    DJ("Quill & Vane", {"Mossgrove Recordings": 5, "Cinder Lane": 1.5}, sets=9),
    DJ("Tamsin Greer", {"Cinder Lane": 5, "Fathom Audio": 1.5}, timestamp_style="clock"),
    DJ("Obi Nwosu", {"Fathom Audio": 5, "Mossgrove Recordings": 1.5}),
    DJ("Marta Ostrowska", {"Low Tide Audio": 2, "Polar Arc": 2, "Sunday Loft": 2},
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
    ("Werk 2", "Zurich"), ("Pier Stage", "Lisbon"), ("Fabrika", "Tbilisi"),
    ("Harbour Room", "Glasgow"), ("Sonar Hall", "Gent"), ("Cellar 22", "Prague"),
)  # fmt: skip
"""Where the demo sets were played: (venue, city)."""
