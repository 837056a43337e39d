"""A metadata CSV overriding tags, on a first scan and a re-scan, its errors, and the real
``realmusic`` library with its CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from library_files import scan, tag_file, tracks, write_audio

from musicwb.errors import ParameterError

# -- metadata CSV ------------------------------------------------------------------------


def test_metadata_csv_overrides_tags_and_ignores_extra_columns(tmp_path):
    music = tmp_path / "music"
    first = write_audio(music / "a" / "one.flac")
    tag_file(first, {"artist": "Tag Artist", "title": "Tag Title", "label": "Tag Label"})
    write_audio(music / "b" / "two.ogg", seed=1)
    csv = tmp_path / "meta" / "metadata.csv"
    csv.parent.mkdir()
    # one.flac relative to the scanned root, two.ogg relative to the CSV's folder
    pd.DataFrame(
        {
            "path": ["a/one.flac", "../music/b/two.ogg", "nowhere.mp3"],
            "artist": ["CSV Artist", "Other", "X"],
            "title": ["", "CSV Two", ""],
            "label": ["CSV Label", "", ""],
            "genre": ["Techno; Dub Techno", "", ""],
            "comment": ["ignored", "ignored", ""],
        }
    ).to_csv(csv, index=False)

    summary = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)

    assert summary.metadata_unmatched == 1
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    one = rows.loc[str(first)]
    assert (one["artist"], one["artist_source"]) == ("CSV Artist", "metadata_csv")
    assert (one["title"], one["title_source"]) == ("Tag Title", "tags")  # empty cell: no override
    assert (one["label"], one["label_source"]) == ("CSV Label", "metadata_csv")
    assert list(one["genres"]) == ["Techno", "Dub Techno"]
    two = rows.loc[str(music / "b" / "two.ogg")]
    assert (two["artist"], two["title"]) == ("Other", "CSV Two")


def test_metadata_csv_applies_to_unchanged_files_on_a_rescan(tmp_path):
    music = tmp_path / "music"
    path = write_audio(music / "one.wav")
    scan(tmp_path / "s.duckdb", music)
    csv = tmp_path / "meta.csv"
    csv.write_text(f"path,artist\n{path},Fixed Artist\n", encoding="utf-8")

    summary = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)
    again = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)

    assert (summary.updated, summary.unchanged) == (1, 0)
    assert (again.updated, again.unchanged) == (0, 1)
    assert tracks(tmp_path / "s.duckdb").loc[0, "artist"] == "Fixed Artist"


def test_metadata_csv_without_path_column_is_a_clear_error(tmp_path):
    write_audio(tmp_path / "music" / "one.wav")
    csv = tmp_path / "meta.csv"
    csv.write_text("file,artist\none.wav,X\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"meta\.csv has no 'path' column"):
        scan(tmp_path / "s.duckdb", tmp_path / "music", metadata_csv=csv)
    with pytest.raises(ParameterError, match="missing.csv does not exist"):
        scan(tmp_path / "s.duckdb", tmp_path / "music", metadata_csv=tmp_path / "missing.csv")
    assert tracks(tmp_path / "s.duckdb").empty


def test_real_library_with_its_metadata_csv(tmp_path, shared_data):
    root = shared_data / "audio" / "realmusic"
    expected = pd.read_csv(root / "tracks.csv")

    summary = scan(tmp_path / "s.duckdb", root, metadata_csv=root / "tracks.csv")

    assert (summary.scanned, summary.added, summary.errors) == (75, 75, 0)
    rows = tracks(tmp_path / "s.duckdb")
    rows["relative"] = rows["path"].map(lambda p: Path(p).relative_to(root.resolve()).as_posix())
    merged = expected.merge(rows, left_on="path", right_on="relative", suffixes=("_csv", ""))
    assert len(merged) == 75
    assert (merged["artist"] == merged["artist_csv"]).all()
    assert (merged["album"] == merged["album_csv"]).all()
    assert (merged["title"] == merged["title_csv"]).all()
    assert set(merged["artist_source"]) == {"metadata_csv"}
    rescan = scan(tmp_path / "s.duckdb", root, metadata_csv=root / "tracks.csv")
    assert (rescan.unchanged, rescan.updated, rescan.added) == (75, 0, 0)
    assert merged["duration"].to_numpy() == pytest.approx(merged["duration_s"].to_numpy(), rel=0.01)
    assert rows["label"].isna().all()  # the CSV has no label column and the files no label tag
