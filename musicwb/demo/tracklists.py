"""The demo's DJ sets: which songs each DJ plays, which entries stay unknown, and how
MixesDB writes them.

:func:`plan_tracklists` is pure and deterministic; the two writers at the end put its result in
``tracklists/<DJ>_tracklists.csv`` (MixesDB format) and in the store.

Examples
--------
>>> from musicwb.demo.plan import plan_library
>>> lists = plan_tracklists(plan_library(7), 7)
>>> sorted(lists.sets.dj.unique())[:2], int(lists.entries.is_unknown.sum()) == len(lists.truth)
(['Halden Ray', 'Ivo Stahl'], True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from musicwb.demo.catalogue import ARTISTS, DJ, DJS, LABELS, TITLE_WORDS, VENUES, TimestampStyle
from musicwb.demo.plan import DemoTrack, check_seed
from musicwb.linkage.tracklist_files import mix_title_parts
from musicwb.store import Store
from musicwb.store.tables.demo import replace_tracklist_source

__all__ = [
    "MIXESDB_COLUMNS",
    "DemoTracklists",
    "plan_tracklists",
    "store_tracklists",
    "write_tracklists",
]

MIXESDB_COLUMNS = [
    "mix_title",
    "mix_url",
    "part",
    "position",
    "timestamp",
    "artist",
    "title",
    "raw",
]
"""The columns of a MixesDB tracklist CSV, in order."""


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
    library track played before and after its release (see :func:`_release_dates`), one an
    unreleased track of a label artist."""
    blocks = []
    for label in LABELS:
        pool = [s for s in songs if s.label == label.name]
        picks = rng.permutation(len(pool))
        released, before1, after1, before2, after2 = (pool[i] for i in picks[:5])
        home = [a for a in ARTISTS if a.label == label.name]
        artist = home[int(rng.integers(len(home)))].name
        first, second = (words[int(rng.integers(len(words)))] for words in TITLE_WORDS)
        unreleased = _Song(artist, artist, f"{first} {second} (Dub)", label.name, "", "")
        blocks += [(before1, released, after1), (before2, unreleased, after2)]
    return blocks


def _release_dates(
    blocks: list[tuple[_Song, _Song, _Song]], rng: np.random.Generator
) -> dict[str, pd.Timestamp]:
    """When each library promo comes out: sets played before it write the promo as an ID,
    sets after it mostly name it (a tracklist knows a track once it is released)."""
    return {
        promo.path: FIRST_SET_DATE + pd.Timedelta(days=int(rng.integers(150, 550)))
        for _, promo, _ in blocks
        if promo.path
    }


def _runs(
    songs: list[_Song], blocks: list[tuple[_Song, _Song, _Song]], rng: np.random.Generator
) -> list[tuple[_Song, ...]]:
    """Two runs per label: a track of the label, then three tracks of its sound family (its own
    and its sister labels), four artists in all, that DJs mix in this order set after set (a
    favourite blend). Drawing across the family keeps a run's pairs of artists its own, so
    the run's order identifies a missing track. No song is in two runs or in a promo block."""
    taken = {song.path for block in blocks for song in block}
    family_of = {artist.label: artist.style for artist in ARTISTS}
    runs = []
    for label in LABELS:
        family = [s for s in songs if family_of[s.label] == family_of[label.name]]
        for _ in range(2):
            picks: list[_Song] = []
            for i in rng.permutation(len(family)):
                song = family[int(i)]
                opens = bool(picks) or song.label == label.name
                if opens and song.path not in taken and song.artist not in {p.artist for p in picks}:
                    picks.append(song)
                    taken.add(song.path)
                if len(picks) == 4:
                    break
            runs.append(tuple(picks))
    return runs


FIRST_SET_DATE = pd.Timestamp("2024-01-06")
"""The demo sets are played in the 700 days from this date."""


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

    Each DJ favours some labels (artist-DJs play their own productions too); each set holds 14
    to 25 entries: one or two promo blocks (a promo always between the same two label tracks),
    three or four runs (four label tracks that DJs mix in the same order, set after set), and
    about 15% unknown entries whose identity goes into ``truth``. The runs and the DJs' label
    taste are the context from which an unknown entry can be recovered.

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
    >>> from musicwb.demo.plan import plan_library
    >>> lists = plan_tracklists(plan_library(7), 7)
    >>> len(lists.sets), bool(lists.entries.is_unknown.mean() > 0.1)
    (99, True)
    """
    check_seed(seed)
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
    runs = _runs(songs, blocks, rng)
    released = _release_dates(blocks, rng)
    set_rows, entry_rows, truth_rows, csv_rows = [], [], [], []
    for dj in DJS:
        csv_file = f"tracklists/{dj.name.replace(' ', '_')}_tracklists.csv"
        for number in range(1, dj.sets + 1):
            set_id = f"demo-{_slug(dj.name)}-{number}"
            venue, city = VENUES[int(rng.integers(len(VENUES)))]
            date = FIRST_SET_DATE + pd.Timedelta(days=int(rng.integers(0, 700)))
            mix_title = f"{date:%Y-%m-%d} - {dj.name} @ {venue}, {city}"
            mix_url = "https://mixesdb.demo.invalid/w/" + mix_title.replace(" ", "_")
            order = _set_order(dj, songs, blocks, runs, rng)
            unknown = _unknown_slots(order, rng, released=released, date=date)
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
    dj: DJ,
    songs: list[_Song],
    blocks: list[tuple[_Song, _Song, _Song]],
    runs: list[tuple[_Song, ...]],
    rng: np.random.Generator,
) -> list[tuple[_Song, str]]:
    """One set: 14-25 songs drawn by the DJ's label taste (own productions x3), with one or two
    promo blocks and three or four runs kept together, and up to two more songs. Each item is ``(song, kind)``, kind
    ``plain|anchor|promo|run|run_middle``."""
    block_weights = np.array([dj.labels.get(block[1].label, 0.0) for block in blocks])
    chosen = rng.choice(
        len(blocks),
        size=int(rng.integers(1, 3)),
        replace=False,
        p=block_weights / block_weights.sum(),
    )
    run_weights = np.sqrt([np.mean([dj.labels.get(s.label, 0.0) for s in run]) for run in runs])
    chosen_runs = rng.choice(
        len(runs), size=int(rng.integers(3, 5)), replace=False, p=run_weights / run_weights.sum()
    )
    in_blocks = {song.path for b in chosen for song in blocks[b] if song.path}
    in_blocks |= {song.path for r in chosen_runs for song in runs[r]}
    weights = np.array([
        0.0 if song.path in in_blocks
        else dj.labels.get(song.label, 0.0) * (3.0 if song.artist == dj.name else 1.0)
        for song in songs
    ])  # fmt: skip
    fill = rng.choice(
        len(songs), size=int(rng.integers(0, 3)), replace=False, p=weights / weights.sum()
    )
    # runs and promo blocks stay whole: they go between the other pieces, never inside one
    pieces: list[list[tuple[_Song, str]]] = [[(songs[i], "plain")] for i in fill]
    for r in chosen_runs:
        first, *middle, last = runs[r]
        pieces.append([(first, "run"), *((song, "run_middle") for song in middle), (last, "run")])
    for b in chosen:
        before, promo, after = blocks[b]
        pieces.append([(before, "anchor"), (promo, "promo"), (after, "anchor")])
    order = [item for i in rng.permutation(len(pieces)) for item in pieces[int(i)]]
    return order


def _unknown_slots(
    order: list[tuple[_Song, str]],
    rng: np.random.Generator,
    *,
    released: dict[str, pd.Timestamp],
    date: pd.Timestamp,
) -> list[bool]:
    """Which entries the tracklist leaves unidentified: promos (an unreleased one always, a
    library one before its release and now and then after it), then plain entries and the
    middles of runs until about 15% of the set; anchors and the ends of runs stay known."""
    unknown = [
        kind == "promo"
        and (not song.path or date < released[song.path] or rng.random() < 0.15)
        for song, kind in order
    ]
    plain = [i for i, (_, kind) in enumerate(order) if kind in ("plain", "run_middle")]
    missing = max(0, max(1, round(0.15 * len(order))) - sum(unknown))
    for i in rng.choice(plain, size=min(missing, len(plain)), replace=False):
        unknown[int(i)] = True
    return unknown


def _timestamp(minute: float, style: TimestampStyle) -> str:
    whole = int(minute)
    if style == "clock":
        seconds = round(minute * 60)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{whole:03d}"


def write_tracklists(lists: DemoTracklists, out_dir: Path) -> None:
    """Write ``out_dir/tracklists/<DJ>_tracklists.csv`` (MixesDB columns, one file per DJ) and
    ``out_dir/tracklist_truth.csv``."""
    folder = out_dir / "tracklists"
    folder.mkdir(parents=True, exist_ok=True)
    for dj, rows in lists.csv_rows.groupby("dj", sort=False):
        name = folder / f"{str(dj).replace(' ', '_')}_tracklists.csv"
        rows[MIXESDB_COLUMNS].to_csv(name, index=False)
    lists.truth.to_csv(out_dir / "tracklist_truth.csv", index=False)


def store_tracklists(store: Store, lists: DemoTracklists, *, out_dir: Path) -> None:
    """Replace the demo's sets in the store by these ones, all or nothing; their
    ``source_file`` becomes a path under ``out_dir``, and the date and venue come from the mix
    title as an import of the CSVs would read them."""
    details = [mix_title_parts(title) for title in lists.sets["title"]]
    sets = lists.sets.assign(
        source_file=[str(out_dir / f) for f in lists.sets.source_file],
        set_date=[parts.date for parts in details],
        venue=[parts.venue for parts in details],
        show_name=[parts.show for parts in details],
    )
    replace_tracklist_source(
        store,
        source="demo",
        sets=sets,
        entries=lists.entries,
        truth=lists.truth.drop(columns=["path"]),
    )
