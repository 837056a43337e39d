"""Playlist files as a player reads them: M3U8 with absolute or relative paths that resolve to the
real files (non-ASCII names included), #EXTINF lines, and the CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicwb.errors import ParameterError
from musicwb.playlist.export import csv_frame, m3u8_text, write_csv, write_m3u8

NAMES = [
    ("Björk", "Jóga", "Björk/Homogenic/01 Jóga.flac", 305.4),
    ("Sigur Rós", "Hoppípolla", "Sigur Rós/Takk…/03 Hoppípolla.mp3", 268.0),
    ("坂本龍一", "Merry Christmas Mr. Lawrence", "坂本龍一/戦場のメリークリスマス.ogg", None),
    (None, "Untitled #1", "Zoë & Ærø/untitled (live).wav", 61.6),
]


@pytest.fixture()
def library(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    music = tmp_path / "Musique Électronique"
    rows = []
    for number, (artist, title, relative, duration) in enumerate(NAMES, start=1):
        path = music / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"audio")
        rows.append(
            {
                "track_id": 100 + number,
                "artist": artist,
                "title": title,
                "path": str(path),
                "duration": duration,
                "transition_in": float("nan") if number == 1 else 0.5 + number / 10,
                "seed_similarity": 1.0 / number,
            }
        )
    return tmp_path, pd.DataFrame(rows)


def entries(text: str) -> list[tuple[str, str]]:
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    pairs = list(zip(lines[1::2], lines[2::2], strict=True))
    assert all(info.startswith("#EXTINF:") for info, _ in pairs)
    return pairs


def test_absolute_paths_resolve_to_the_files(library, tmp_path):
    _, tracks = library
    out = write_m3u8(tracks, tmp_path / "lists" / "set.m3u8")
    pairs = entries(out.read_text(encoding="utf-8"))
    assert [Path(path) for _, path in pairs] == [Path(p) for p in tracks["path"]]
    assert all(Path(path).is_absolute() and Path(path).is_file() for _, path in pairs)


def test_relative_paths_resolve_from_the_playlist_folder(library, tmp_path):
    _, tracks = library
    folder = tmp_path / "lists" / "friday"
    out = write_m3u8(tracks, folder / "set.m3u8", relative_to=folder)
    pairs = entries(out.read_text(encoding="utf-8"))
    written = [path for _, path in pairs]
    assert all(not Path(p).is_absolute() and p.startswith("../../") for p in written)
    assert [(out.parent / p).resolve() for p in written] == [
        Path(p).resolve() for p in tracks["path"]
    ]
    assert "坂本龍一/戦場のメリークリスマス.ogg" in written[2]


def test_extinf_lines_carry_duration_and_names(library):
    _, tracks = library
    infos = [info for info, _ in entries(m3u8_text(tracks))]
    assert infos == [
        "#EXTINF:305,Björk - Jóga",
        "#EXTINF:268,Sigur Rós - Hoppípolla",
        "#EXTINF:-1,坂本龍一 - Merry Christmas Mr. Lawrence",
        "#EXTINF:62,Untitled #1",
    ]


def test_file_is_utf8_without_bom_and_one_line_per_entry(library, tmp_path):
    _, tracks = library
    tracks = tracks.assign(title=tracks["title"].str.replace("Jóga", "Jóga\nlive"))
    out = write_m3u8(tracks, tmp_path / "set.m3u8")
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    text = raw.decode("utf-8")
    assert len(text.splitlines()) == 1 + 2 * len(tracks)
    assert "#EXTINF:305,Björk - Jóga live" in text
    assert not (tmp_path / "set.m3u8.partial").exists()


def test_a_file_name_starting_with_hash_is_not_a_comment(tmp_path):
    song = tmp_path / "#1 Hit.mp3"
    song.write_bytes(b"audio")
    tracks = pd.DataFrame({"title": ["Hit"], "path": [str(song)]})
    line = m3u8_text(tracks, relative_to=tmp_path).splitlines()[2]
    assert line == "./#1 Hit.mp3" and (tmp_path / line).resolve() == song.resolve()


def test_a_track_without_path_is_named(library):
    _, tracks = library
    tracks.loc[1, "path"] = None
    with pytest.raises(ParameterError, match=r"track\(s\) \[102\] have no file path"):
        m3u8_text(tracks)


def test_a_folder_is_not_a_playlist_file(library, tmp_path):
    _, tracks = library
    with pytest.raises(ParameterError, match="is a folder"):
        write_m3u8(tracks, tmp_path)


def test_csv_keeps_order_names_and_numbers(library, tmp_path):
    _, tracks = library
    out = write_csv(tracks, tmp_path / "set.csv", relative_to=tmp_path)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "position",
        "track_id",
        "artist",
        "title",
        "path",
        "duration",
        "transition_in",
        "seed_similarity",
    ]
    assert [row["position"] for row in rows] == ["1", "2", "3", "4"]
    assert [row["artist"] for row in rows] == ["Björk", "Sigur Rós", "坂本龍一", ""]
    assert rows[0]["transition_in"] == ""  # the first track has no transition in
    assert float(rows[1]["transition_in"]) == pytest.approx(0.7)
    assert [(tmp_path / row["path"]).is_file() for row in rows] == [True] * 4
    assert pd.read_csv(out)["track_id"].tolist() == [101, 102, 103, 104]


def test_csv_frame_leaves_out_columns_the_playlist_lacks():
    frame = csv_frame(pd.DataFrame({"track_id": [3], "path": ["/m/x.mp3"], "extra": [1]}))
    assert list(frame.columns) == ["position", "track_id", "path"]


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.tuples(st.none() | st.text(max_size=30), st.none() | st.text(max_size=30)),
        min_size=1,
        max_size=6,
    )
)
def test_any_tag_text_keeps_one_line_per_entry(names):
    paths = [f"/music/{i} {'ü' * i}.flac" for i in range(len(names))]
    tracks = pd.DataFrame(
        {"artist": [a for a, _ in names], "title": [t for _, t in names], "path": paths}
    )
    lines = m3u8_text(tracks).split("\n")  # what a player splitting on line feeds reads
    assert lines[-1] == "" and len(lines) == 2 + 2 * len(names)
    assert lines[2:-1:2] == paths
    assert all(line.startswith("#EXTINF:-1,") and "\r" not in line for line in lines[1:-1:2])
