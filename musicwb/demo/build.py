"""The demo library: synthetic music with messy tags, DJ-set tracklists, and the truth for both.

``build_demo`` writes, under ``out_dir``:

- ``library/<Artist>/<Album>/...``: 8 artists x 2 albums x 4 tracks of deterministic synthetic
  music (:mod:`musicwb.demo.audio`), 30-60 s each, spread over OGG, MP3, FLAC and WAV, tagged
  with mutagen the way real libraries are: labels in the label tag, or only in the title
  (``Title [Label]``, ``Title [Label - CAT 001]``), or nowhere; ``feat.`` artists, remixes,
  karaoke versions, genres in messy forms (``Techno; Minimal``, ``deep house``), BPM and key on
  some, and a few files with no tags at all (artist and title only in ``Artist - Title.ext``);
- ``truth.csv``: the clean truth per file (``path`` relative to ``out_dir``, artist, featuring,
  album, title, version, label, catalog, genre, bpm, key, format, duration_s, tag_case);
- ``tracklists/<DJ>_tracklists.csv``: DJ sets in the MixesDB CSV format, about 15% of the
  entries unknown (``ID - ID``, ``?``, ``Artist - ID``, ``Artist - ? [Unreleased]``, ...);
  ``tracklist_truth.csv`` says what each unknown entry really was;
- ``demo.json``: seed, generator version and file list, so a second build reuses the audio.

It then scans the library into the store with :func:`musicwb.library.scan_library` and writes
the sets into ``tracklist_sets``, ``tracklist_entries`` and ``tracklist_truth``.

The same seed gives byte-identical audio and identical tags (on one machine and library
versions: floating point and encoders may differ elsewhere).

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:  # doctest: +SKIP
...     print(build_demo(store=store, out_dir=Path("data/demo")).describe())
Demo library (seed 7) built in data/demo in 31.0 s: 64 tracks by 8 artists on 16 albums; ...
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from mutagen import flac, id3, oggvorbis, wave
from mutagen.ogg import OggPage
from tqdm.auto import tqdm

from musicwb.demo.audio import (
    SAMPLE_RATE,
    STYLES,
    AlbumVariation,
    key_name,
    render_track,
    track_bars,
)
from musicwb.errors import AudioError, ParameterError
from musicwb.runs import finish_run, start_run
from musicwb.store import Store

__all__ = [
    "ARTISTS",
    "DJS",
    "GENERATOR_VERSION",
    "LABELS",
    "DemoSummary",
    "DemoTrack",
    "DemoTracklists",
    "build_demo",
    "plan_library",
    "plan_tracklists",
    "truth_frame",
    "write_track",
]

GENERATOR_VERSION = "2"
"""Changes whenever the same seed would give different files; a demo folder of the same seed
built by another version is rebuilt on the next build."""

MARKER = "demo.json"
FORMATS = ("ogg", "mp3", "flac", "wav")
_SOUNDFILE_FORMATS = {
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "flac": ("FLAC", "PCM_16"),
    "wav": ("WAV", "PCM_16"),
}
_TRACKLIST_COLUMNS = [
    "mix_title",
    "mix_url",
    "part",
    "position",
    "timestamp",
    "artist",
    "title",
    "raw",
]


# -- the cast ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class DJ:
    """A DJ playing the demo sets: how much each label is liked (label name to weight)."""

    name: str
    labels: dict[str, float] = field(hash=False)
    sets: int = 3
    timestamp_style: str = "minutes"


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

# Albums released away from the artist's home label: (artist, album index) -> label.
_GUEST_RELEASES = {
    ("Tessa Vire", 1): "Low Tide Audio",
    ("Orun Delta", 1): "Ferrous Records",
    ("Fen Okafor", 1): "Polar Arc",
}
_VOCALISTS = ("Ines Calder", "Rafe Moreau", "Lio Marin", "Sade Okoro")

DJS: tuple[DJ, ...] = (
    DJ("Halden Ray", {"Ferrous Records": 5, "Nightglass": 2, "Low Tide Audio": 0.5}, sets=4),
    DJ("Mira Solenne", {"Low Tide Audio": 5, "Nightglass": 2, "Polar Arc": 1, "Mossgrove Recordings": 1},
       timestamp_style="clock"),
    DJ("Orun Delta", {"Nightglass": 4, "Ferrous Records": 3}),
    DJ("Nadia Korr", {"Ferrous Records": 3, "Nightglass": 3, "Low Tide Audio": 1}),
    DJ("Pelle Marten", {"Mossgrove Recordings": 3, "Polar Arc": 3, "Low Tide Audio": 2},
       timestamp_style="clock"),
)  # fmt: skip

_WORDS_A = (
    "Copper",
    "Slow",
    "Hollow",
    "Amber",
    "Silent",
    "Northern",
    "Glass",
    "Velvet",
    "Iron",
    "Pale",
    "Distant",
    "Neon",
    "Salt",
    "Quiet",
    "Broken",
    "Lunar",
    "Static",
    "Deep",
    "Violet",
    "Cold",
    "Open",
    "Low",
    "Bright",
    "Drift",
    "Tidal",
    "Hidden",
    "Ashen",
    "Paper",
    "Signal",
    "Echo",
)
_WORDS_B = (
    "Tide",
    "Meridian",
    "Circuit",
    "Harbour",
    "Motion",
    "Canopy",
    "Engine",
    "Pulse",
    "Garden",
    "Current",
    "Horizon",
    "Frame",
    "Orbit",
    "Chamber",
    "Lantern",
    "Tunnel",
    "Fields",
    "Signal",
    "Mirror",
    "Dunes",
    "Relay",
    "Corridor",
    "Ember",
    "Season",
    "Transit",
    "Atlas",
    "Shore",
    "Vector",
    "Window",
    "Ritual",
)
_VENUES = (
    ("Halle Nord", "Hamburg"), ("Kantine", "Leipzig"), ("The Basement", "Bristol"),
    ("Sala Ovni", "Madrid"), ("Dock 9", "Rotterdam"), ("Radio Kollektiv", "Vienna"),
    ("Werk 2", "Zurich"), ("Pier Stage", "Lisbon"),
)  # fmt: skip


# -- the library plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTrack:
    """Everything about one demo file: the truth, the tags as written, and how to render it.

    ``title`` is the clean song title and ``version`` its mix (``"Tessa Vire Remix"``,
    ``"Karaoke Version"``, or ``""``); ``tags`` holds what goes into the file (empty for a file
    without tags), in tag-neutral keys (``artist, title, album, tracknumber, date, label,
    catalognumber, genre, bpm, key``; ``label_key`` says which Vorbis key holds the label).
    """

    path: str
    artist: str
    featuring: str
    album: str
    album_index: int
    track_number: int
    title: str
    version: str
    label: str
    catalog: str
    genre: str
    bpm: float
    key: str
    format: str
    bars: int
    duration_s: float
    tag_case: str
    tags: dict[str, str] = field(hash=False)
    style: str
    variation: AlbumVariation
    audio_seed: tuple[int, ...]

    @property
    def full_title(self) -> str:
        """The title with its version, as a DJ would write it: ``Copper Tide (X Remix)``."""
        return f"{self.title} ({self.version})" if self.version else self.title


def _album_variation(rng: np.random.Generator, album_index: int) -> AlbumVariation:
    if album_index == 0:  # the darker, plainer album
        return AlbumVariation(
            bpm_shift=float(rng.uniform(-2.0, 0.0)), brightness=float(rng.uniform(0.6, 0.8)),
            density=float(rng.uniform(-0.3, 0.0)), lead_ratio_shift=0.0,
        )  # fmt: skip
    return AlbumVariation(
        bpm_shift=float(rng.uniform(1.5, 3.5)), brightness=float(rng.uniform(1.3, 1.6)),
        density=float(rng.uniform(0.25, 0.45)), lead_ratio_shift=float(rng.choice([0.5, 1.0])),
    )  # fmt: skip


def _case_assignment(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Which track gets which messy case: disjoint label cases, independent versions."""
    order = rng.permutation(n)
    counts = {"untagged": 6, "label_in_title": 7, "label_cat_in_title": 6, "no_label": 12}
    cases = np.full(n, "label_tag", dtype=object)
    start = 0
    for case, count in counts.items():
        cases[order[start : start + count]] = case
        start += count
    version = np.full(n, "", dtype=object)
    order = rng.permutation(n)
    version[order[:6]] = "remix"
    version[order[6:9]] = "karaoke"
    featuring = np.zeros(n, dtype=bool)
    featuring[rng.permutation(n)[:6]] = True
    return {"case": cases, "version": version, "featuring": featuring}


def _safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|]+', "-", text).strip(" .")


def _key_tag(key: str, rng: np.random.Generator) -> str:
    """A key as tags write it: ``Am``, ``A minor`` or Camelot ``8A``."""
    tonic, quality = key.split()
    camelot_minor = {"Ab": 1, "Eb": 2, "Bb": 3, "F": 4, "C": 5, "G": 6, "D": 7, "A": 8, "E": 9,
                     "B": 10, "F#": 11, "C#": 12}  # fmt: skip
    camelot_major = {"B": 1, "F#": 2, "C#": 3, "Ab": 4, "Eb": 5, "Bb": 6, "F": 7, "C": 8, "G": 9,
                     "D": 10, "A": 11, "E": 12}  # fmt: skip
    form = int(rng.integers(3))
    if form == 0:
        return tonic + ("m" if quality == "minor" else "")
    if form == 1:
        return key
    table = camelot_minor if quality == "minor" else camelot_major
    return f"{table[tonic]}{'A' if quality == 'minor' else 'B'}"


def plan_library(seed: int = 7) -> list[DemoTrack]:
    """The demo library's tracks, their truth and tags: pure and deterministic.

    Parameters
    ----------
    seed : int, default 7
        Picks titles, tempi, durations, formats of the messy cases and the music itself.

    Returns
    -------
    list of DemoTrack
        64 tracks: 8 artists x 2 albums x 4 tracks, in artist, album, track order.

    Examples
    --------
    >>> tracks = plan_library(7)
    >>> len(tracks), sorted({t.format for t in tracks})
    (64, ['flac', 'mp3', 'ogg', 'wav'])
    """
    _check_seed(seed)
    rng = np.random.default_rng([seed, 0])
    labels = {label.name: label for label in LABELS}
    n_tracks = len(ARTISTS) * 2 * 4
    words = [(a, b) for a in _WORDS_A for b in _WORDS_B if a != b]
    picks = rng.choice(len(words), size=n_tracks + 2 * len(ARTISTS), replace=False)
    names = [f"{words[i][0]} {words[i][1]}" for i in picks]
    track_titles, album_titles = names[:n_tracks], names[n_tracks:]
    cases = _case_assignment(rng, n_tracks)
    catalog_next = dict.fromkeys(labels, 1)
    tracks: list[DemoTrack] = []
    for a, artist in enumerate(ARTISTS):
        style = STYLES[artist.style]
        for album_index in range(2):
            variation = _album_variation(rng, album_index)
            album = album_titles[2 * a + album_index]
            label = labels[_GUEST_RELEASES.get((artist.name, album_index), artist.label)]
            catalog = f"{label.prefix} {catalog_next[label.name]:03d}"
            catalog_next[label.name] += 1
            year = 2019 + 2 * album_index + a % 3
            for number in range(1, 5):
                i = len(tracks)
                track_rng = np.random.default_rng([seed, 1, a, album_index, number])
                bpm = float(round(track_rng.uniform(*style.bpm) + variation.bpm_shift))
                bars = track_bars(bpm, target_s=float(track_rng.uniform(34, 56)))
                while bars * 240 / bpm + 0.6 > 59:
                    bars -= 2
                while bars * 240 / bpm + 0.6 < 31:
                    bars += 2
                version = ""
                if cases["version"][i] == "remix":
                    others = [x.name for x in ARTISTS if x.name != artist.name]
                    version = f"{others[int(track_rng.integers(len(others)))]} Remix"
                elif cases["version"][i] == "karaoke":
                    version = "Karaoke Version"
                featuring = (
                    _VOCALISTS[int(track_rng.integers(len(_VOCALISTS)))]
                    if cases["featuring"][i]
                    else ""
                )
                fmt = FORMATS[(a + album_index + number) % len(FORMATS)]
                tracks.append(
                    _track(
                        artist=artist,
                        featuring=featuring,
                        album=album,
                        album_index=album_index,
                        number=number,
                        title=track_titles[i],
                        version=version,
                        label=label,
                        catalog=catalog,
                        bpm=bpm,
                        bars=bars,
                        fmt=fmt,
                        case=cases["case"][i],
                        year=year,
                        variation=variation,
                        audio_seed=(seed, a, album_index, number),
                        rng=track_rng,
                    )
                )
    return tracks


def _track(
    *,
    artist: Artist,
    featuring: str,
    album: str,
    album_index: int,
    number: int,
    title: str,
    version: str,
    label: Label,
    catalog: str,
    bpm: float,
    bars: int,
    fmt: str,
    case: str,
    year: int,
    variation: AlbumVariation,
    audio_seed: tuple[int, ...],
    rng: np.random.Generator,
) -> DemoTrack:
    style = STYLES[artist.style]
    key = key_name(style)
    feat_word = ("feat.", "Feat.", "ft.")[int(rng.integers(3))]
    credited = f"{artist.name} {feat_word} {featuring}" if featuring else artist.name
    shown_title = f"{title} ({version})" if version else title
    tags: dict[str, str] = {}
    if case == "label_in_title":
        shown_title += f" [{label.name}]"
    elif case == "label_cat_in_title":
        shown_title += f" [{label.name} - {catalog}]"
    if case == "untagged":
        stem = f"{credited} - {shown_title}"
    else:
        stem = f"{number:02d} - {shown_title}"
        tags = {"artist": credited, "title": shown_title, "album": album,
                "tracknumber": f"{number}/4", "date": str(year)}  # fmt: skip
        if case == "label_tag":
            tags["label"] = label.name
            tags["catalognumber"] = catalog
            tags["label_key"] = "organization" if rng.random() < 0.3 else "label"
        if rng.random() < 0.75:
            tags["genre"] = artist.genre_tags[int(rng.integers(len(artist.genre_tags)))]
        if rng.random() < 0.45:
            tags["bpm"] = f"{bpm:.0f}" if rng.random() < 0.6 else f"{bpm:.2f}"
        if rng.random() < 0.4:
            tags["key"] = _key_tag(key, rng)
    path = f"library/{_safe_name(artist.name)}/{_safe_name(album)}/{_safe_name(stem)}.{fmt}"
    return DemoTrack(
        path=path, artist=artist.name, featuring=featuring, album=album, album_index=album_index,
        track_number=number, title=title, version=version, label=label.name, catalog=catalog,
        genre=artist.genre, bpm=bpm, key=key, format=fmt, bars=bars,
        duration_s=round(bars * 240 / bpm + 0.6, 3), tag_case=case, tags=tags,
        style=artist.style, variation=variation, audio_seed=audio_seed,
    )  # fmt: skip


def truth_frame(tracks: Sequence[DemoTrack]) -> pd.DataFrame:
    """The clean truth of the library, one row per file (what ``truth.csv`` holds).

    Returns
    -------
    pandas.DataFrame
        Columns ``path, artist, featuring, album, track_number, title, version, label, catalog,
        genre, bpm, key, format, duration_s, tag_case, tagged``.
    """
    rows = [
        {
            "path": t.path,
            "artist": t.artist,
            "featuring": t.featuring,
            "album": t.album,
            "track_number": t.track_number,
            "title": t.title,
            "version": t.version,
            "label": t.label,
            "catalog": t.catalog,
            "genre": t.genre,
            "bpm": t.bpm,
            "key": t.key,
            "format": t.format,
            "duration_s": t.duration_s,
            "tag_case": t.tag_case,
            "tagged": bool(t.tags),
        }
        for t in tracks
    ]
    return pd.DataFrame(rows)


# -- writing audio and tags -------------------------------------------------------------------


def write_track(track: DemoTrack, out_dir: Path) -> Path:
    """Render, encode and tag one demo track at ``out_dir / track.path``.

    The file appears complete or not at all (written to ``*.part`` and renamed), so an
    interrupted build leaves no half-written audio.

    Parameters
    ----------
    track : DemoTrack
    out_dir : Path

    Returns
    -------
    Path
        The written file.
    """
    target = Path(out_dir) / track.path
    target.parent.mkdir(parents=True, exist_ok=True)
    audio = render_track(
        STYLES[track.style], variation=track.variation, bpm=track.bpm, bars=track.bars,
        seed=track.audio_seed, sr=SAMPLE_RATE,
    )  # fmt: skip
    data = encode_audio(audio, fmt=track.format, sr=SAMPLE_RATE, stream_serial=_serial(track))
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    try:
        if track.tags:
            _write_tags(partial, track.format, track.tags)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def _serial(track: DemoTrack) -> int:
    return int(np.random.default_rng(list(track.audio_seed)).integers(1, 2**31 - 1))


def encode_audio(audio: np.ndarray, *, fmt: str, sr: int, stream_serial: int = 1) -> bytes:
    """Encode mono float audio with libsndfile; Ogg streams get a fixed serial number.

    libsndfile draws the Ogg serial number at random, which would make two builds differ; the
    pages are rewritten (with their checksums) with ``stream_serial``.

    Parameters
    ----------
    audio : numpy.ndarray, shape (n_samples,)
    fmt : {"ogg", "mp3", "flac", "wav"}
    sr : int
    stream_serial : int

    Returns
    -------
    bytes
    """
    if fmt not in _SOUNDFILE_FORMATS:
        raise ParameterError(f"demo format must be one of {FORMATS}, got {fmt!r}")
    container, subtype = _SOUNDFILE_FORMATS[fmt]
    buffer = io.BytesIO()
    try:
        sf.write(buffer, audio, sr, format=container, subtype=subtype)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"libsndfile cannot write {fmt} ({container}/{subtype}): {exc}") from exc
    if fmt != "ogg":
        return buffer.getvalue()
    buffer.seek(0)
    pages = []
    while True:
        try:
            page = OggPage(buffer)
        except EOFError:
            break
        page.serial = stream_serial
        pages.append(page.write())
    return b"".join(pages)


_ID3_FRAMES = {
    "artist": id3.TPE1, "title": id3.TIT2, "album": id3.TALB, "tracknumber": id3.TRCK,
    "date": id3.TDRC, "label": id3.TPUB, "genre": id3.TCON, "bpm": id3.TBPM, "key": id3.TKEY,
}  # fmt: skip


def _write_tags(path: Path, fmt: str, tags: dict[str, str]) -> None:
    values = {k: v for k, v in tags.items() if k != "label_key"}
    if fmt in ("mp3", "wav"):
        frames = [
            id3.TXXX(encoding=3, desc="CATALOGNUMBER", text=[value])
            if name == "catalognumber"
            else _ID3_FRAMES[name](encoding=3, text=[value])
            for name, value in values.items()
        ]
        tags = id3.ID3()
        if fmt == "wav":
            riff = wave.WAVE(path)
            riff.add_tags()
            tags = riff.tags
        for frame in frames:
            tags.add(frame)
        if fmt == "wav":
            riff.save()
        else:
            tags.save(path, v2_version=4)
        return
    audio = flac.FLAC(path) if fmt == "flac" else oggvorbis.OggVorbis(path)
    for name, value in values.items():
        key = tags.get("label_key", "label") if name == "label" else name
        audio[key] = [value]
    audio.save()


# -- tracklists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTracklists:
    """The demo's DJ sets as the store holds them, plus their MixesDB CSV rows.

    Attributes
    ----------
    sets : pandas.DataFrame
        ``set_id, dj, title, source, source_file`` (source_file relative to the demo folder).
    entries : pandas.DataFrame
        ``set_id, position, raw, artist, title, label, is_unknown``.
    truth : pandas.DataFrame
        ``set_id, position, artist, title, label, path`` for every unknown entry; ``path`` is
        the library file (relative) or empty for an unreleased track.
    csv_rows : pandas.DataFrame
        MixesDB columns plus ``dj``.
    """

    sets: pd.DataFrame
    entries: pd.DataFrame
    truth: pd.DataFrame
    csv_rows: pd.DataFrame


@dataclass(frozen=True)
class _Song:
    artist: str
    credited: str
    title: str
    label: str
    catalog: str
    path: str


def _promos(songs: list[_Song], rng: np.random.Generator) -> list[tuple[_Song, _Song, _Song]]:
    """Two promos per label, each with the two label tracks it is always mixed between: one a
    library track played before its release, one an unreleased track of a label artist."""
    blocks = []
    for label in LABELS:
        pool = [s for s in songs if s.label == label.name]
        picks = rng.permutation(len(pool))
        released, before1, after1, before2, after2 = (pool[i] for i in picks[:5])
        home = [a for a in ARTISTS if a.label == label.name]
        artist = home[int(rng.integers(len(home)))].name
        words = (
            _WORDS_A[int(rng.integers(len(_WORDS_A)))],
            _WORDS_B[int(rng.integers(len(_WORDS_B)))],
        )
        unreleased = _Song(artist, artist, f"{words[0]} {words[1]} (Dub)", label.name, "", "")
        blocks += [(before1, released, after1), (before2, unreleased, after2)]
    return blocks


def _unknown_raw(
    song: _Song, rng: np.random.Generator, *, unreleased: bool
) -> tuple[str, dict, dict]:
    """How a tracklist writes an unidentified track: raw line, CSV artist/title, parsed fields."""
    forms = ["ID - ID", "?", "Artist - ID", "Artist - ?", "Artist - ? [Label]"]
    weights = [0.3, 0.2, 0.2, 0.15, 0.15]
    if unreleased:
        forms.append("Artist - ? [Unreleased]")
        weights = [0.25, 0.15, 0.15, 0.1, 0.1, 0.25]
    form = forms[int(rng.choice(len(forms), p=np.asarray(weights) / sum(weights)))]
    artist = song.credited
    none = {"artist": None, "title": None, "label": None}
    if form == "ID - ID":
        return "ID - ID", {"artist": "ID", "title": "ID"}, none
    if form == "?":
        return "?", {"artist": "", "title": "?"}, none
    if form == "Artist - ID":
        return f"{artist} - ID", {"artist": artist, "title": "ID"}, {**none, "artist": artist}
    if form == "Artist - ?":
        return f"{artist} - ?", {"artist": artist, "title": "?"}, {**none, "artist": artist}
    if form == "Artist - ? [Label]":
        return (
            f"{artist} - ? [{song.label}]",
            {"artist": artist, "title": f"? [{song.label}]"},
            {"artist": artist, "title": None, "label": song.label},
        )
    return (
        f"{artist} - ? [Unreleased]",
        {"artist": artist, "title": "? [Unreleased]"},
        {**none, "artist": artist},
    )


def _known_raw(song: _Song, rng: np.random.Generator) -> tuple[str, dict, dict]:
    form = rng.random()
    if form < 0.55:
        suffix, label = f" [{song.label} - {song.catalog}]", song.label
    elif form < 0.8:
        suffix, label = f" [{song.label}]", song.label
    else:
        suffix, label = "", None
    title = song.title + suffix
    return (
        f"{song.credited} - {title}",
        {"artist": song.credited, "title": title},
        {"artist": song.credited, "title": song.title, "label": label},
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def plan_tracklists(tracks: Sequence[DemoTrack], seed: int = 7) -> DemoTracklists:
    """DJ sets built from the demo tracks: pure and deterministic.

    Each DJ favours some labels (artist-DJs play their own productions too); each set holds 12
    to 20 entries, one or two promo blocks (a promo always between the same two label tracks)
    and about 15% unknown entries whose identity goes into ``truth``.

    Parameters
    ----------
    tracks : sequence of DemoTrack
        From :func:`plan_library`.
    seed : int, default 7

    Returns
    -------
    DemoTracklists

    Examples
    --------
    >>> lists = plan_tracklists(plan_library(7), 7)
    >>> len(lists.sets), bool(lists.entries.is_unknown.mean() > 0.1)
    (16, True)
    """
    _check_seed(seed)
    rng = np.random.default_rng([seed, 2])
    songs = [
        _Song(
            t.artist,
            f"{t.artist} Feat. {t.featuring}" if t.featuring else t.artist,
            t.full_title,
            t.label,
            t.catalog,
            t.path,
        )
        for t in tracks
        if t.version != "Karaoke Version"  # DJs do not play the karaoke versions
    ]
    blocks = _promos(songs, rng)
    set_rows, entry_rows, truth_rows, csv_rows = [], [], [], []
    for dj in DJS:
        csv_file = f"tracklists/{dj.name.replace(' ', '_')}_tracklists.csv"
        for number in range(1, dj.sets + 1):
            set_id = f"demo-{_slug(dj.name)}-{number}"
            venue, city = _VENUES[int(rng.integers(len(_VENUES)))]
            date = pd.Timestamp("2024-01-06") + pd.Timedelta(days=int(rng.integers(0, 700)))
            mix_title = f"{date:%Y-%m-%d} - {dj.name} @ {venue}, {city}"
            mix_url = "https://mixesdb.demo.invalid/w/" + mix_title.replace(" ", "_")
            order = _set_order(dj, songs, blocks, rng)
            unknown = _unknown_slots(order, rng)
            minute = 0.0
            for position, (song, kind) in enumerate(order, start=1):
                if unknown[position - 1]:
                    raw, shown, parsed = _unknown_raw(song, rng, unreleased=not song.path)
                    truth_rows.append({
                        "set_id": set_id, "position": position, "artist": song.artist,
                        "title": song.title, "label": song.label, "path": song.path,
                    })  # fmt: skip
                else:
                    raw, shown, parsed = _known_raw(song, rng)
                entry_rows.append({"set_id": set_id, "position": position, "raw": raw, **parsed,
                                   "is_unknown": unknown[position - 1]})  # fmt: skip
                csv_rows.append({
                    "dj": dj.name, "mix_title": mix_title, "mix_url": mix_url, "part": "",
                    "position": position, "timestamp": _timestamp(minute, dj.timestamp_style),
                    "artist": shown["artist"], "title": shown["title"], "raw": raw,
                })  # fmt: skip
                minute += float(rng.uniform(2.5, 6.0))
            set_rows.append({"set_id": set_id, "dj": dj.name, "title": mix_title, "source": "demo",
                             "source_file": csv_file})  # fmt: skip
    entries = pd.DataFrame(entry_rows).astype({"position": "int32", "is_unknown": bool})
    truth = pd.DataFrame(truth_rows).astype({"position": "int32"})
    return DemoTracklists(pd.DataFrame(set_rows), entries, truth, pd.DataFrame(csv_rows))


def _set_order(
    dj: DJ, songs: list[_Song], blocks: list[tuple[_Song, _Song, _Song]], rng: np.random.Generator
) -> list[tuple[_Song, str]]:
    """One set: 12-20 songs drawn by the DJ's label taste (own productions x3), with one or two
    promo blocks kept together. Each item is ``(song, kind)``, kind ``plain|anchor|promo``."""
    block_weights = np.array([dj.labels.get(block[1].label, 0.1) for block in blocks])
    chosen = rng.choice(
        len(blocks),
        size=int(rng.integers(1, 3)),
        replace=False,
        p=block_weights / block_weights.sum(),
    )
    in_blocks = {song.path for b in chosen for song in blocks[b] if song.path}
    weights = np.array([
        0.0 if song.path in in_blocks
        else dj.labels.get(song.label, 0.1) * (3.0 if song.artist == dj.name else 1.0)
        for song in songs
    ])  # fmt: skip
    n_entries = int(rng.integers(12, 21))
    fill = rng.choice(
        len(songs), size=n_entries - 3 * len(chosen), replace=False, p=weights / weights.sum()
    )
    order: list[tuple[_Song, str]] = [(songs[i], "plain") for i in fill]
    for b in chosen:
        at = int(rng.integers(0, len(order) + 1))
        before, promo, after = blocks[b]
        order[at:at] = [(before, "anchor"), (promo, "promo"), (after, "anchor")]
    return order


def _unknown_slots(order: list[tuple[_Song, str]], rng: np.random.Generator) -> list[bool]:
    """Which entries the tracklist leaves unidentified: promos (an unreleased one always, a
    library one mostly), then plain entries until about 15% of the set; anchors stay known."""
    unknown = [kind == "promo" and (not song.path or rng.random() < 0.85) for song, kind in order]
    plain = [i for i, (_, kind) in enumerate(order) if kind == "plain"]
    missing = max(0, max(1, round(0.15 * len(order))) - sum(unknown))
    for i in rng.choice(plain, size=min(missing, len(plain)), replace=False):
        unknown[int(i)] = True
    return unknown


def _timestamp(minute: float, style: str) -> str:
    whole = int(minute)
    if style == "clock":
        seconds = round(minute * 60)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{whole:03d}"


def _write_tracklists(lists: DemoTracklists, out_dir: Path) -> None:
    folder = out_dir / "tracklists"
    folder.mkdir(parents=True, exist_ok=True)
    for dj, rows in lists.csv_rows.groupby("dj", sort=False):
        name = folder / f"{str(dj).replace(' ', '_')}_tracklists.csv"
        rows[_TRACKLIST_COLUMNS].to_csv(name, index=False)
    lists.truth.to_csv(out_dir / "tracklist_truth.csv", index=False)


def _store_tracklists(store: Store, lists: DemoTracklists, out_dir: Path) -> None:
    """Replace the demo's sets in the store by these ones, all or nothing."""
    sets = lists.sets.assign(source_file=[str(out_dir / f) for f in lists.sets.source_file])
    demo_sets = "SELECT set_id FROM tracklist_sets WHERE source = 'demo'"
    with store.transaction():
        store.execute(f"DELETE FROM tracklist_truth WHERE set_id IN ({demo_sets})")
        store.execute(f"DELETE FROM tracklist_entries WHERE set_id IN ({demo_sets})")
        store.execute("DELETE FROM tracklist_sets WHERE source = 'demo'")
        store.insert("tracklist_sets", sets)
        store.insert("tracklist_entries", lists.entries)
        store.insert("tracklist_truth", lists.truth.drop(columns=["path"]))


def _forget_tracks(store: Store, out_dir: Path, files: list[str]) -> None:
    """Drop the store's rows of an earlier demo build's files that this build does not have.

    The scanner keeps rows of vanished files (a drive may be unmounted); these files were the
    demo's own and were deleted on purpose by ``force``.
    """
    if files:
        paths = [str(out_dir / name) for name in files]
        store.execute("DELETE FROM tracks WHERE list_contains(?::VARCHAR[], path)", [paths])


# -- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` did.

    Attributes
    ----------
    out_dir : Path
    seed : int
    tracks, artists, albums : int
    sets, entries, unknown_entries : int
        DJ sets written, their entries, and how many of those are unknown.
    built : bool
        False when the audio of an earlier build was reused.
    duration_s : float
    """

    out_dir: Path
    seed: int
    tracks: int
    artists: int
    albums: int
    sets: int
    entries: int
    unknown_entries: int
    built: bool
    duration_s: float

    def as_dict(self) -> dict:
        """The summary as JSON-ready values."""
        values = asdict(self)
        values["out_dir"] = str(self.out_dir)
        values["duration_s"] = round(self.duration_s, 2)
        return values

    def describe(self) -> str:
        """One line for people."""
        verb = "built" if self.built else "reused"
        return (
            f"Demo library (seed {self.seed}) {verb} in {self.out_dir} in {self.duration_s:.1f} s: "
            f"{self.tracks} tracks by {self.artists} artists on {self.albums} albums; "
            f"{self.sets} DJ sets with {self.entries} entries ({self.unknown_entries} unknown)."
        )


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"demo seed must be a non-negative integer, got {seed!r}")


def _read_marker(out_dir: Path) -> dict | None:
    path = out_dir / MARKER
    if not path.exists():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(
            f"{path} is not a readable demo marker ({exc}); use force to rebuild"
        ) from exc
    if not isinstance(marker, dict) or "seed" not in marker:
        raise ParameterError(f"{path} is not a demo marker (no seed); use force to rebuild")
    return marker


def _write_marker(out_dir: Path, *, seed: int, files: list[str], complete: bool) -> None:
    marker = {
        "generator": "musicwb.demo",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "complete": complete,
        "files": files,
    }
    partial = out_dir / (MARKER + ".part")
    partial.write_text(json.dumps(marker, indent=1), encoding="utf-8")
    os.replace(partial, out_dir / MARKER)


def _prepare_folder(out_dir: Path, *, seed: int, force: bool) -> list[str]:
    """Check that ``out_dir`` may take this build; remove the earlier build with ``force`` or
    when another generator version made it.

    Returns the files (relative paths) of the earlier build that were removed.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"demo out_dir {out_dir} exists and is not a folder")
    marker = _read_marker(out_dir) if not force else None
    if marker is not None:
        if marker["seed"] != seed:
            raise ParameterError(
                f"{out_dir} holds the demo of seed {marker['seed']}, not {seed}: pass force "
                "(`musicwb demo --force`) to rebuild it, or choose another folder"
            )
        if marker.get("version") == GENERATOR_VERSION:
            return []
        return _remove_build(out_dir)  # made by another generator version: rebuild it
    if force:
        return _remove_build(out_dir)
    library = out_dir / "library"
    if library.exists() and any(library.iterdir()):
        raise ParameterError(
            f"{library} already holds files but no {MARKER}: it is not a demo build; pass force "
            "to write the demo into it anyway, or choose another folder"
        )
    return []


def _remove_build(out_dir: Path) -> list[str]:
    """Delete the files an earlier build listed in its marker, and the marker."""
    removed = [str(name) for name in _read_marker_quietly(out_dir).get("files", [])]
    for name in removed:
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)
    return removed


def _read_marker_quietly(out_dir: Path) -> dict:
    try:
        marker = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def _remove_partial_files(out_dir: Path) -> None:
    library = out_dir / "library"
    if library.is_dir():
        for leftover in library.rglob("*.part"):
            leftover.unlink(missing_ok=True)


def _render_all(todo: list[DemoTrack], out_dir: Path, *, progress: bool) -> None:
    """Write the tracks on up to two worker processes (files appear whole or not at all)."""
    if not todo:
        return
    _remove_partial_files(out_dir)  # left by an interrupted build
    jobs = min(2, os.cpu_count() or 1, len(todo))
    bar = tqdm(
        total=len(todo), desc="demo audio", unit="track", disable=not progress, file=sys.stderr
    )
    try:
        if jobs == 1:
            for track in todo:
                write_track(track, out_dir)
                bar.update()
        else:
            from joblib import Parallel, delayed

            run = Parallel(n_jobs=jobs, return_as="generator_unordered")
            for _ in run(delayed(write_track)(track, out_dir) for track in todo):
                bar.update()
    finally:
        bar.close()
        _remove_partial_files(out_dir)


def build_demo(*, store: Store, out_dir: Path, seed: int = 7, force: bool = False) -> DemoSummary:
    """Build (or reuse) the demo library, scan it into ``store`` and write its DJ sets.

    Parameters
    ----------
    store : Store
        Open for writing; gets the scanned tracks and the demo's tracklist tables.
    out_dir : Path
        Folder for ``library/``, ``tracklists/``, ``truth.csv``, ``tracklist_truth.csv`` and
        ``demo.json``.
    seed : int, default 7
    force : bool, default False
        Rebuild even when ``out_dir`` holds a build (of any seed). A build of the same seed by
        another generator version is rebuilt without it.

    Returns
    -------
    DemoSummary

    Raises
    ------
    ParameterError
        ``out_dir`` holds a demo of another seed, or files that are not a demo, and ``force``
        is not set; or ``seed`` is not a non-negative integer.

    Notes
    -----
    The build is recorded as a run of kind ``"demo"`` in ``runs`` (the scan records its own).
    A second build with the same seed renders only files that are missing, re-runs the
    (incremental) scan and replaces the demo's tracklist rows with identical ones. Progress
    bars show on stderr when it is a terminal. Interrupting leaves finished files in place;
    the next build carries on.
    """
    started = time.perf_counter()
    _check_seed(seed)
    out_dir = Path(out_dir).expanduser().resolve()
    removed = _prepare_folder(out_dir, seed=seed, force=force)
    run_id = start_run(store, kind="demo", parameters={"out_dir": str(out_dir), "seed": seed,
                                                       "force": force})  # fmt: skip
    try:
        summary = _build(store, out_dir, seed=seed, force=force, removed=removed, started=started)
    except KeyboardInterrupt:
        finish_run(store, run_id, status="interrupted", summary={})
        raise
    except BaseException as exc:
        finish_run(
            store, run_id, status="failed", summary={"error": f"{type(exc).__name__}: {exc}"}
        )
        raise
    finish_run(store, run_id, status="ok", summary=summary.as_dict())
    return summary


def _build(
    store: Store, out_dir: Path, *, seed: int, force: bool, removed: list[str], started: float
) -> DemoSummary:
    from musicwb.library import scan_library

    tracks = plan_library(seed)
    files = [t.path for t in tracks]
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [t for t in tracks if force or not (out_dir / t.path).is_file()]
    progress = sys.stderr.isatty()
    if todo:
        _write_marker(out_dir, seed=seed, files=files, complete=False)
        _render_all(todo, out_dir, progress=progress)
    _write_marker(out_dir, seed=seed, files=files, complete=True)
    truth_frame(tracks).to_csv(out_dir / "truth.csv", index=False)
    scan_library(store, out_dir / "library", metadata_csv=None, progress=progress)
    _forget_tracks(store, out_dir, sorted(set(removed) - set(files)))
    lists = plan_tracklists(tracks, seed)
    _write_tracklists(lists, out_dir)
    _store_tracklists(store, lists, out_dir)
    return DemoSummary(
        out_dir=out_dir,
        seed=seed,
        tracks=len(tracks),
        artists=len({t.artist for t in tracks}),
        albums=len({(t.artist, t.album) for t in tracks}),
        sets=len(lists.sets),
        entries=len(lists.entries),
        unknown_entries=int(lists.entries.is_unknown.sum()),
        built=bool(todo),
        duration_s=time.perf_counter() - started,
    )
