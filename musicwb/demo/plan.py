"""The demo library's plan: every file's truth, its messy tags and how to render it.

Pure and deterministic: :func:`plan_library` turns a seed into 150 :class:`DemoTrack` (36
artists in three sound families, 2 albums each, spread over OGG, MP3, FLAC and WAV) with labels in the label tag, or only
in the title (``Title [Label]``, ``Title [Label - CAT 001]``), or nowhere; ``feat.`` artists,
remixes, karaoke versions, genres in messy forms, BPM and key on some, and a few files with no
tags at all. :func:`truth_frame` is the clean truth of it (``truth.csv``).

Examples
--------
>>> tracks = plan_library(7)
>>> truth_frame(tracks).groupby("tag_case").size().to_dict()["untagged"]
14
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from musicwb.demo.catalogue import (
    ARTISTS,
    GUEST_RELEASES,
    LABELS,
    TITLE_WORDS,
    VOCALISTS,
    Artist,
    Label,
)
from musicwb.demo.styles import STYLES, AlbumVariation, Style, artist_style, key_name, track_bars
from musicwb.errors import ParameterError

__all__ = ["FORMATS", "DemoTrack", "check_seed", "plan_library", "truth_frame"]

FORMATS = ("ogg", "mp3", "flac", "wav")


def check_seed(seed: int) -> None:
    """Raise :class:`~musicwb.errors.ParameterError` unless ``seed`` is a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"demo seed must be a non-negative integer, got {seed!r}")


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
    voice: int
    variation: AlbumVariation
    audio_seed: tuple[int, ...]

    @property
    def sound(self) -> Style:
        """The artist's own style, which the track is rendered from."""
        return artist_style(STYLES[self.style], voice=self.voice)

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
    shares = {"untagged": 0.09, "label_in_title": 0.11, "label_cat_in_title": 0.09,
              "no_label": 0.19}  # fmt: skip
    counts = {case: round(share * n) for case, share in shares.items()}
    cases = np.full(n, "label_tag", dtype=object)
    start = 0
    for case, count in counts.items():
        cases[order[start : start + count]] = case
        start += count
    version = np.full(n, "", dtype=object)
    order = rng.permutation(n)
    remixes, karaoke = round(0.09 * n), round(0.05 * n)
    version[order[:remixes]] = "remix"
    version[order[remixes : remixes + karaoke]] = "karaoke"
    featuring = np.zeros(n, dtype=bool)
    featuring[rng.permutation(n)[: round(0.09 * n)]] = True
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
        150 tracks: 36 artists in three sound families, 2 albums each of 2 tracks (3 for the
        first artist of a family), 20-34 s long; in artist, album, track order.

    Examples
    --------
    >>> tracks = plan_library(7)
    >>> len(tracks), sorted({t.format for t in tracks})
    (150, ['flac', 'mp3', 'ogg', 'wav'])
    """
    check_seed(seed)
    rng = np.random.default_rng([seed, 0])
    labels = {label.name: label for label in LABELS}
    n_tracks = sum(2 * artist.album_tracks for artist in ARTISTS)
    words = [(a, b) for a in TITLE_WORDS[0] for b in TITLE_WORDS[1] if a != b]
    picks = rng.choice(len(words), size=n_tracks + 2 * len(ARTISTS), replace=False)
    names = [f"{words[i][0]} {words[i][1]}" for i in picks]
    track_titles, album_titles = names[:n_tracks], names[n_tracks:]
    cases = _case_assignment(rng, n_tracks)
    catalog_next = dict.fromkeys(labels, 1)
    tracks: list[DemoTrack] = []
    for a, artist in enumerate(ARTISTS):
        style = artist_style(STYLES[artist.style], voice=artist.voice)
        for album_index in range(2):
            variation = _album_variation(rng, album_index)
            album = album_titles[2 * a + album_index]
            label = labels[GUEST_RELEASES.get((artist.name, album_index), artist.label)]
            catalog = f"{label.prefix} {catalog_next[label.name]:03d}"
            catalog_next[label.name] += 1
            year = 2019 + 2 * album_index + a % 3
            for number in range(1, artist.album_tracks + 1):
                i = len(tracks)
                track_rng = np.random.default_rng([seed, 1, a, album_index, number])
                bpm = float(round(track_rng.uniform(*style.bpm) + variation.bpm_shift))
                bars = track_bars(bpm, target_s=float(track_rng.uniform(22, 32)))
                while bars * 240 / bpm + 0.6 > 34:
                    bars -= 2
                while bars * 240 / bpm + 0.6 < 20:
                    bars += 2
                version = ""
                if cases["version"][i] == "remix":
                    others = [x.name for x in ARTISTS if x.style == artist.style and x != artist]
                    version = f"{others[int(track_rng.integers(len(others)))]} Remix"
                elif cases["version"][i] == "karaoke":
                    version = "Karaoke Version"
                featuring = (
                    VOCALISTS[int(track_rng.integers(len(VOCALISTS)))]
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
    key = key_name(artist_style(STYLES[artist.style], voice=artist.voice))
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
                "tracknumber": f"{number}/{artist.album_tracks}", "date": str(year)}  # fmt: skip
        if case == "label_tag":
            tags["label"] = label.name
            tags["catalognumber"] = catalog
            tags["label_key"] = "organization" if rng.random() < 0.3 else "label"
        if rng.random() < 0.85:
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
        style=artist.style, voice=artist.voice, variation=variation, audio_seed=audio_seed,
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
