"""musicwb.overview on a small real store whose every count is known by construction.

The store comes from ``report_stores.build_library_store`` (shared with test_reports.py and
test_browser.py); its metadata holds HTML and ``</script>`` payloads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_stores import (
    MALICIOUS_ARTIST,
    MALICIOUS_LABEL,
    MALICIOUS_TITLE,
    TRACKS,
    build_library_store,
)

from musicwb import overview
from musicwb.errors import ParameterError
from musicwb.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    path = build_library_store(tmp_path_factory.mktemp("overview") / "lib.duckdb")
    with Store(path, read_only=True) as opened:
        yield opened


@pytest.fixture()
def empty_store(tmp_path: Path):
    with Store(tmp_path / "empty.duckdb") as opened:
        yield opened


def test_library_totals_counts_every_table(store: Store) -> None:
    totals = dict(overview.library_totals(store).itertuples(index=False))
    assert totals == {
        "tracks": 6,
        "artists": 2,
        "albums": 2,
        "labels": 2,  # an empty label is no label
        "genres": 4,
        "tracklist sets": 2,
        "tracklist entries": 4,
        "unknown entries": 3,
        "truth rows": 1,
        "scan errors": 0,
    }


def test_label_coverage_splits_by_source_and_adds_up(store: Store) -> None:
    coverage = overview.label_coverage(store)
    rows = {(r.status, r.label_source): r.tracks for r in coverage.itertuples()}
    # an empty-string label counts as no label
    assert rows == {
        ("with label", "tags"): 2,
        ("with label", "title"): 1,
        ("without label", overview.NO_LABEL): 3,
    }
    assert coverage["tracks"].sum() == len(TRACKS)
    assert coverage["share"].sum() == pytest.approx(1.0)
    assert list(coverage["status"]) == ["with label", "with label", "without label"]


def test_top_labels_and_missing_labels(store: Store) -> None:
    labels = overview.top_labels(store)
    assert list(labels["label"]) == ["Anjunabeats", MALICIOUS_LABEL]
    assert list(labels["tracks"]) == [2, 1]
    assert list(overview.top_labels(store, limit=1)["label"]) == ["Anjunabeats"]

    missing = overview.tracks_missing_label(store)
    assert set(missing["title"]) == {"Glass", MALICIOUS_TITLE, "Untitled"}
    assert list(missing.columns) == ["id", "artist", "title", "album", "path"]
    assert len(overview.tracks_missing_label(store, limit=2)) == 2


def test_tracklist_set_summary(store: Store) -> None:
    sets = overview.tracklist_set_summary(store).set_index("set_id")
    assert sets.loc[
        "set-a", ["entries", "known_entries", "unknown_entries", "truth_rows"]
    ].tolist() == [3, 1, 2, 1]
    assert sets.loc[
        "set-b", ["entries", "known_entries", "unknown_entries", "truth_rows"]
    ].tolist() == [1, 0, 1, 0]
    assert sets.loc["set-a", "unknown_share"] == pytest.approx(2 / 3)
    assert sets.loc["set-a", "title"] == MALICIOUS_TITLE


def test_unknown_entries_carry_their_truth(store: Store) -> None:
    unknown = overview.unknown_entries(store)
    assert list(zip(unknown["set_id"], unknown["position"])) == [
        ("set-a", 2),
        ("set-a", 3),
        ("set-b", 1),
    ]
    first = unknown.iloc[0]
    assert (first["raw"], first["truth_artist"], first["truth_title"]) == (
        "ID - ID",
        "Aurora Drift",
        "Glass",
    )
    assert unknown["truth_artist"].isna().sum() == 2


def test_audio_properties(store: Store) -> None:
    formats = dict(
        zip(overview.format_counts(store)["format"], overview.format_counts(store)["tracks"])
    )
    assert formats == {"flac": 2, "mp3": 2, "wav": 1, overview.NO_VALUE: 1}
    rates = overview.sample_rate_counts(store)
    assert list(rates["sample_rate"]) == ["44100 Hz", "48000 Hz", "96000 Hz", overview.NO_VALUE]
    assert list(rates["tracks"]) == [3, 1, 1, 1]


def test_duration_histogram_bins(store: Store) -> None:
    bins = overview.duration_histogram(store, bin_s=60)
    # durations 61, 190, 255, 301, 412 -> bins 60, 180, 240, 300, 360
    assert list(bins["bin_start_s"]) == [60.0, 180.0, 240.0, 300.0, 360.0]
    assert list(bins["bin_end_s"]) == [120.0, 240.0, 300.0, 360.0, 420.0]
    assert bins["tracks"].sum() == 5  # the track without a duration is not counted
    assert overview.duration_histogram(store, bin_s=1000)["tracks"].tolist() == [5]


def test_artists_albums_genres(store: Store) -> None:
    artists = overview.tracks_per_artist(store)
    assert list(artists["artist"]) == ["Aurora Drift", MALICIOUS_ARTIST, overview.NO_ARTIST]
    assert list(artists["tracks"]) == [3, 2, 1]
    albums = overview.tracks_per_album(store)
    assert list(zip(albums["album"], albums["tracks"])) == [("Low Tides", 3), ("B-Sides", 1)]
    assert albums.loc[0, "minutes"] == pytest.approx((301 + 255 + 412) / 60)
    genres = dict(
        zip(overview.genre_counts(store)["genre"], overview.genre_counts(store)["tracks"])
    )
    assert genres == {"trance": 2, "progressive": 2, MALICIOUS_TITLE: 1, "techno": 1}
    assert len(overview.genre_counts(store, limit=1)) == 1


def test_empty_store_gives_empty_frames(empty_store: Store) -> None:
    assert overview.library_totals(empty_store)["value"].sum() == 0
    for function in (
        overview.label_coverage,
        overview.top_labels,
        overview.tracks_missing_label,
        overview.tracklist_set_summary,
        overview.unknown_entries,
        overview.format_counts,
        overview.sample_rate_counts,
        overview.duration_histogram,
        overview.tracks_per_artist,
        overview.tracks_per_album,
        overview.genre_counts,
    ):
        frame = function(empty_store)
        assert frame.empty, function.__name__
        assert len(frame.columns) >= 2, function.__name__


@pytest.mark.parametrize("limit", [0, -3, 2.5, True, "10"])
def test_bad_limits_name_the_parameter(store: Store, limit: object) -> None:
    with pytest.raises(ParameterError, match="limit"):
        overview.tracks_missing_label(store, limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("bin_s", [0, -30, "30", None])
def test_bad_bin_width(store: Store, bin_s: object) -> None:
    with pytest.raises(ParameterError, match="bin_s"):
        overview.duration_histogram(store, bin_s=bin_s)  # type: ignore[arg-type]
