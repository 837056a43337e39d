"""The demo library: counts, determinism, messy tags after a real scan, tracklists with their
truth, and music whose artists and albums can be told apart (building and reuse: see
test_demo_build.py).

The full build runs once per session (the ``demo_store`` fixture of conftest.py); these tests
only read it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from musicwb.demo import (
    ARTISTS,
    FORMATS,
    LABELS,
    plan_library,
    plan_tracklists,
    write_track,
)
from musicwb.errors import ParameterError
from musicwb.store import Store

DEMO_ARTISTS = {artist.name for artist in ARTISTS}
LABEL_NAMES = {label.name for label in LABELS}
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


@pytest.fixture(scope="module")
def demo_dir(demo_store: Path) -> Path:
    return demo_store.parent / "demo"


@pytest.fixture(scope="module")
def truth(demo_dir: Path) -> pd.DataFrame:
    return pd.read_csv(demo_dir / "truth.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def tracks(demo_store: Path) -> pd.DataFrame:
    with Store(demo_store, read_only=True) as store:
        return store.df("SELECT * FROM tracks ORDER BY id")


def _relative(tracks: pd.DataFrame, demo_dir: Path) -> pd.DataFrame:
    root = demo_dir.resolve()
    return tracks.assign(rel=[Path(p).resolve().relative_to(root).as_posix() for p in tracks.path])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the library ------------------------------------------------------------------------------


def test_library_has_artists_albums_tracks_and_formats(
    truth: pd.DataFrame, tracks: pd.DataFrame
) -> None:
    assert truth.artist.nunique() >= 36
    albums = truth.groupby("artist").album.nunique()
    assert (albums >= 2).all(), albums
    per_album = truth.groupby(["artist", "album"]).size()
    assert (per_album >= 2).all(), per_album
    assert len(tracks) == len(truth) >= 150
    assert set(tracks.format) == {"vorbis", "mp3", "flac", "wav"}
    assert tracks.format.value_counts().min() >= 10  # spread, not one token file each
    # Durations as the scanner decoded them, not as planned.
    assert tracks.duration.between(20, 35).all(), tracks.duration.describe()
    assert set(tracks.sample_rate) == {22050}


def test_truth_names_every_file_once_with_a_label_and_catalog(
    truth: pd.DataFrame, demo_dir: Path
) -> None:
    assert truth.path.is_unique
    assert all((demo_dir / path).is_file() for path in truth.path)
    assert set(truth.label) <= LABEL_NAMES and len(set(truth.label)) == len(LABELS)
    prefixes = {label.name: label.prefix for label in LABELS}
    assert all(c.startswith(prefixes[l] + " ") for l, c in zip(truth.label, truth.catalog))
    # Each artist belongs mainly to one label.
    main_share = truth.groupby("artist").label.agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert (main_share >= 0.5).all()
    assert truth.bpm.between(80, 180).all()
    assert truth.key.str.fullmatch(r"[A-G][b#]? (major|minor)").all()


def test_same_seed_gives_identical_files_and_another_seed_does_not(
    demo_dir: Path, tmp_path: Path
) -> None:
    plan = plan_library(7)
    assert plan == plan_library(7)
    one_per_format = [next(t for t in plan if t.format == fmt and t.tags) for fmt in FORMATS]
    untagged = next(t for t in plan if not t.tags)
    for track in [*one_per_format, untagged]:
        rebuilt = write_track(track, tmp_path / "a")
        assert _sha256(rebuilt) == _sha256(demo_dir / track.path), track.path
    other = plan_library(8)
    assert [t.title for t in other] != [t.title for t in plan]
    same_slot = other[0]
    assert _sha256(write_track(same_slot, tmp_path / "b")) != _sha256(demo_dir / plan[0].path)


def test_messy_tag_cases_reach_the_store(
    tracks: pd.DataFrame, truth: pd.DataFrame, demo_dir: Path
) -> None:
    merged = _relative(tracks, demo_dir).merge(
        truth, left_on="rel", right_on="path", suffixes=("", "_true")
    )
    assert len(merged) == len(truth)

    label_only_in_title = merged[
        merged.label.isna() & merged.title.str.contains(r" \[", regex=True)
    ]
    assert len(label_only_in_title) >= 5
    assert all(
        f"[{l}" in t for l, t in zip(label_only_in_title.label_true, label_only_in_title.title)
    )
    with_catalog_in_title = label_only_in_title[label_only_in_title.title.str.contains(" - ")]
    assert len(with_catalog_in_title) >= 3
    assert all(c in t for c, t in zip(with_catalog_in_title.catalog, with_catalog_in_title.title))

    from_tags = merged[merged.label_source == "tags"]
    assert len(from_tags) >= 20
    assert (from_tags.label == from_tags.label_true).all()
    assert (from_tags.catalog_number == from_tags.catalog).all()

    untagged = merged[merged.artist_source == "filename"]
    assert len(untagged) >= 4
    assert (
        untagged.artist.str.split(r" (?:feat\.|Feat\.|ft\.) ").str[0] == untagged.artist_true
    ).all()
    assert untagged.album.isna().all()

    assert merged.artist.str.contains(r" (?:feat\.|Feat\.|ft\.) ", regex=True).sum() >= 3
    remixes = merged[merged.title.str.contains(r"\(.+ Remix\)", regex=True)]
    assert len(remixes) >= 3
    remixers = remixes.title.str.extract(r"\((.+) Remix\)", expand=False)
    assert remixers.isin(DEMO_ARTISTS).all(), remixes.title
    assert merged.title.str.contains("(Karaoke Version)", regex=False).sum() >= 2

    genres = [g for row in merged.genres.dropna() for g in row]
    assert {"Deep House", "Tech House"} <= set(genres)  # from "Deep House; Tech House"
    assert any(g.islower() for g in genres) and any(g == "Drum & Bass" for g in genres)
    assert merged.genres.isna().sum() >= 5
    assert 10 <= merged.bpm.notna().sum() < len(merged)
    assert 10 <= merged.key.notna().sum() < len(merged)


# -- tracklists -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tracklists(demo_store: Path) -> dict[str, pd.DataFrame]:
    with Store(demo_store, read_only=True) as store:
        return {
            table: store.df(f"SELECT * FROM {table}")
            for table in ("tracklist_sets", "tracklist_entries", "tracklist_truth")
        }


def test_sets_are_by_several_djs_with_demo_artists_and_labels(
    tracklists: dict[str, pd.DataFrame],
) -> None:
    sets, entries = tracklists["tracklist_sets"], tracklists["tracklist_entries"]
    assert 95 <= len(sets) <= 105
    assert 10 <= sets.dj.nunique() <= 14
    assert sets.set_id.str.fullmatch(r"demo-[a-z0-9-]+-\d+").all()
    assert (sets.source == "demo").all()
    assert len(set(sets.dj) & DEMO_ARTISTS) >= 2  # DJs who are demo artists
    sizes = entries.groupby("set_id").size()
    assert sizes.between(10, 25).all() and set(sizes.index) == set(sets.set_id)
    known = entries[~entries.is_unknown]
    main_artist = known.artist.str.split(" Feat. ").str[0]
    assert main_artist.isin(DEMO_ARTISTS).all()
    assert known.label.dropna().isin(LABEL_NAMES).all()
    assert (known.raw == known.artist + " - " + known.raw.str.split(" - ", n=1).str[1]).all()
    # Artist-DJs play their own productions.
    dj_of_entry = known.set_id.map(sets.set_index("set_id").dj)
    assert (main_artist == dj_of_entry).sum() >= 5


def test_every_unknown_entry_has_its_truth(
    tracklists: dict[str, pd.DataFrame], truth: pd.DataFrame
) -> None:
    entries, answers = tracklists["tracklist_entries"], tracklists["tracklist_truth"]
    unknown = entries[entries.is_unknown]
    assert 0.10 <= len(unknown) / len(entries) <= 0.20
    joined = unknown.merge(answers, on=["set_id", "position"], how="left", suffixes=("", "_true"))
    assert joined.artist_true.notna().all()
    assert len(answers) == len(unknown)
    assert set(joined.artist_true) <= DEMO_ARTISTS and set(joined.label_true) <= LABEL_NAMES
    forms = set(unknown.raw.str.replace(r"^(?!ID - ID$).+ - (ID|\?)", r"Artist - \1", regex=True))
    assert {"ID - ID", "?", "Artist - ID", "Artist - ?"} <= forms, forms
    assert unknown.raw.str.contains(r"\? \[Unreleased\]", regex=True).any()
    # A hint in the raw line names the true artist.
    hinted = joined[joined.artist.notna()]
    assert (hinted.artist.str.split(" Feat. ").str[0] == hinted.artist_true).all()
    # Some promos are library tracks, others are unreleased.
    library_titles = set(
        truth.title + np.where(truth.version != "", " (" + truth.version + ")", "")
    )
    released = joined.title_true.isin(library_titles)
    assert released.any() and (~released).any()


def test_the_same_promo_is_played_next_to_the_same_tracks(
    tracklists: dict[str, pd.DataFrame],
) -> None:
    entries, answers = tracklists["tracklist_entries"], tracklists["tracklist_truth"]
    keyed = entries.set_index(["set_id", "position"]).raw
    neighbours: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in answers.itertuples():
        before = keyed.get((row.set_id, row.position - 1), "")
        after = keyed.get((row.set_id, row.position + 1), "")
        neighbours.setdefault((row.artist, row.title), set()).add(
            (before.split(" [")[0], after.split(" [")[0])
        )
    repeated = [
        promo
        for promo, pairs in neighbours.items()
        if len(pairs) < sum((answers.artist == promo[0]) & (answers.title == promo[1]))
    ]
    assert len(repeated) >= 3, neighbours


@pytest.fixture(scope="module")
def plays() -> pd.DataFrame:
    """Every planned play of seed 7: the truth in place of the unknown entries, with the set's
    date and the raw lines of the entries before and after."""
    lists = plan_tracklists(plan_library(7), 7)
    truth = lists.truth.set_index(["set_id", "position"])
    played = lists.entries.set_index(["set_id", "position"])
    unknown = played.is_unknown
    played.loc[unknown, ["artist", "title"]] = truth.loc[played.index[unknown], ["artist", "title"]]
    played["path"] = truth.path.reindex(played.index).fillna("")
    played = played.reset_index()
    played["date"] = pd.to_datetime(played.set_id.map(lists.sets.set_index("set_id").title)
                                    .str[:10])
    by_set = played.groupby("set_id").raw
    played["before"] = by_set.shift(1).fillna("").str.split(" [", regex=False).str[0]
    played["after"] = by_set.shift(-1).fillna("").str.split(" [", regex=False).str[0]
    return played


def test_a_promo_block_is_never_broken_up(plays: pd.DataFrame) -> None:
    # An unreleased promo ("(Dub)") is only ever played in its block, between the same two
    # tracks; a run or another block inserted inside the block would break that.
    promos = plays[plays.title.str.endswith("(Dub)")]
    neighbours = promos.groupby(["artist", "title"])[["before", "after"]].nunique()
    assert len(neighbours) >= 9 and (neighbours == 1).all().all(), neighbours


def test_a_library_promo_is_an_id_before_its_release_and_named_after(plays: pd.DataFrame) -> None:
    blocks = plays[plays.path.ne("") & plays.is_unknown].groupby(["artist", "title"]).size()
    promo_plays = plays.set_index(["artist", "title"]).loc[blocks.index].reset_index()
    steady = promo_plays.groupby(["artist", "title"])[["before", "after"]].nunique().eq(1).all(1)
    promo_plays = promo_plays[promo_plays.set_index(["artist", "title"]).index.isin(
        steady[steady].index)]
    earlier = total = 0
    for _, track in promo_plays.groupby(["artist", "title"]):
        ids, named = track[track.is_unknown].date, track[~track.is_unknown].date
        earlier += sum(int(i < n) for i in ids for n in named)
        total += len(ids) * len(named)
    assert total >= 20
    assert earlier / total >= 0.8, (earlier, total)


def test_tracklist_csvs_are_in_mixesdb_format_and_match_the_store(
    demo_dir: Path, tracklists: dict[str, pd.DataFrame]
) -> None:
    files = sorted((demo_dir / "tracklists").glob("*_tracklists.csv"))
    assert len(files) == tracklists["tracklist_sets"].dj.nunique()
    rows = pd.concat(pd.read_csv(f, dtype=str, keep_default_na=False) for f in files)
    assert list(rows.columns) == MIXESDB_COLUMNS
    assert len(rows) == len(tracklists["tracklist_entries"])
    assert set(rows.raw) == set(tracklists["tracklist_entries"].raw)
    assert rows.mix_title.nunique() == len(tracklists["tracklist_sets"])
    assert (rows[rows.raw == "?"].artist == "").all()
    labelled = rows[rows.raw.str.contains(r" \[.+ - [A-Z]+ \d{3}\]$", regex=True)]
    assert len(labelled) >= 50
    assert (labelled.artist + " - " + labelled.title == labelled.raw).all()


# -- plans ------------------------------------------------------------------------------------


def test_bad_seed_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="seed"):
        plan_library(-1)


def test_tracklist_plan_is_deterministic() -> None:
    plan = plan_library(7)
    one, two = plan_tracklists(plan, 7), plan_tracklists(plan, 7)
    pd.testing.assert_frame_equal(one.entries, two.entries)
    pd.testing.assert_frame_equal(one.truth, two.truth)
    assert not one.entries.equals(plan_tracklists(plan, 8).entries)


# -- the music --------------------------------------------------------------------------------


def _mfcc_profile(path: Path, *, start_s: float = 8.0, length_s: float = 12.0) -> np.ndarray:
    # Decode from the start (seeking into MP3 lands mid bit-reservoir) and cut the excerpt.
    audio, sr = sf.read(path, frames=int((start_s + length_s) * 22050), dtype="float32")
    excerpt = audio[int(start_s * sr) :]
    return librosa.feature.mfcc(y=excerpt, sr=sr, n_mfcc=20).mean(axis=1)


def test_artists_and_albums_sound_alike(truth: pd.DataFrame, demo_dir: Path) -> None:
    # Four artists of different styles, two tracks from each of their two albums.
    chosen = truth[truth.artist.isin(["Halden Ray", "Mira Solenne", "Fen Okafor", "Orun Delta"])]
    chosen = chosen.groupby(["artist", "album"]).head(2).reset_index(drop=True)
    profiles = np.array([_mfcc_profile(demo_dir / p) for p in chosen.path])
    profiles = (profiles - profiles.mean(axis=0)) / profiles.std(axis=0)
    distance = np.linalg.norm(profiles[:, None] - profiles[None], axis=2)
    pairs = np.triu_indices(len(chosen), 1)
    same_artist = (chosen.artist.values[:, None] == chosen.artist.values[None])[pairs]
    same_album = (chosen.album.values[:, None] == chosen.album.values[None])[pairs]
    d = distance[pairs]
    within_album = d[same_album].mean()
    across_albums = d[same_artist & ~same_album].mean()
    across_artists = d[~same_artist].mean()
    assert within_album < across_albums < across_artists, (
        within_album,
        across_albums,
        across_artists,
    )
    assert across_artists / across_albums > 1.2
