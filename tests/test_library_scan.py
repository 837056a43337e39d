"""Incremental re-scans, moves, sub-folders, bad roots, a single file, interrupts and the
scan's run record."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from library_files import scan, tag_file, tracks, write_audio

from musicwb import library
from musicwb.errors import ParameterError
from musicwb.library import plan_scan
from musicwb.library import scan as library_scan
from musicwb.store import Store
from musicwb.store.runs import last_run

# -- incremental re-scans and moves ------------------------------------------------------


def test_rescan_skips_unchanged_files_without_opening_them(tmp_path, monkeypatch):
    music = tmp_path / "music"
    paths = [write_audio(music / f"Artist {i} - Track {i}.flac", seed=i) for i in range(4)]
    first = scan(tmp_path / "s.duckdb", music)
    ids_before = tracks(tmp_path / "s.duckdb").set_index("path")["id"]

    tag_file(paths[0], {"title": "Retagged"})
    os.utime(paths[0], (1_700_000_000, 1_700_000_000))
    new = write_audio(music / "Artist 9 - Track 9.flac", seed=9)
    opened: list[str] = []
    real_read = library.read_track_file
    monkeypatch.setattr(
        library_scan,
        "read_track_file",
        lambda path, **kw: opened.append(path) or real_read(path, **kw),
    )
    second = scan(tmp_path / "s.duckdb", music)

    assert (first.added, first.unchanged) == (4, 0)
    assert (second.scanned, second.added, second.updated, second.unchanged) == (5, 1, 1, 3)
    assert sorted(opened) == sorted([str(paths[0]), str(new)])
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    assert rows.loc[str(paths[0]), "title"] == "Retagged"
    assert rows["id"].drop(str(new)).equals(ids_before.loc[rows.index.drop(str(new))])
    assert rows.loc[str(new), "id"] == 5
    assert rows.loc[str(new), "added_run"] == second.run_id
    assert rows.loc[str(paths[1]), "added_run"] == first.run_id


def test_rereading_a_changed_file_keeps_curated_fields(tmp_path):
    music = tmp_path / "music"
    path = write_audio(music / "a.flac")
    tag_file(path, {"artist": "A", "label": "Tag Label"})
    scan(tmp_path / "s.duckdb", music)
    with Store(tmp_path / "s.duckdb") as store:
        store.update(
            "tracks",
            pd.DataFrame(
                {
                    "id": [1],
                    "label": ["Found Label"],
                    "label_source": ["musicbrainz"],
                    "label_confidence": [0.95],
                }
            ),
            key=["id"],
        )
    tag_file(path, {"artist": "B", "label": "New Tag Label"})

    summary = scan(tmp_path / "s.duckdb", music)

    row = tracks(tmp_path / "s.duckdb").iloc[0]
    assert summary.updated == 1
    assert (row["artist"], row["artist_source"]) == ("B", "tags")
    assert (row["label"], row["label_source"]) == ("Found Label", "musicbrainz")


def test_moved_file_keeps_its_id_and_deleted_file_keeps_its_row(tmp_path):
    music = tmp_path / "music"
    keep = write_audio(music / "old" / "Artist - Moved.ogg", seed=1)
    gone = write_audio(music / "old" / "Artist - Deleted.ogg", seed=2)
    stays = write_audio(music / "old" / "Artist - Stays.ogg", seed=3)
    scan(tmp_path / "s.duckdb", music)
    moved_id = tracks(tmp_path / "s.duckdb").set_index("path").loc[str(keep), "id"]

    target = music / "new" / "Renamed.ogg"
    target.parent.mkdir()
    keep.rename(target)
    gone.unlink()
    copy = shutil.copy2(stays, music / "new" / "Copy.ogg")  # same content, original still there
    summary = scan(tmp_path / "s.duckdb", music)

    assert (summary.moved, summary.added, summary.missing, summary.unchanged) == (1, 1, 1, 1)
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    assert rows.loc[str(target), "id"] == moved_id
    assert str(keep) not in rows.index
    assert str(gone) in rows.index  # kept, reported as missing
    assert rows.loc[str(copy), "id"] == 4
    assert len(rows) == 4


def test_scanning_a_subfolder_leaves_the_rest_of_the_library_alone(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "a" / "A - One.wav", seconds=0.2, seed=1)
    write_audio(music / "b" / "B - Two.wav", seconds=0.2, seed=2)
    scan(tmp_path / "s.duckdb", music)
    (music / "a" / "A - One.wav").unlink()

    part = scan(tmp_path / "s.duckdb", music / "b")

    assert (part.scanned, part.unchanged, part.missing) == (1, 1, 0)
    assert scan(tmp_path / "s.duckdb", music).missing == 1
    assert len(tracks(tmp_path / "s.duckdb")) == 2


def test_plan_scan_compares_size_and_mtime():
    files = pd.DataFrame({"path": ["/a", "/b", "/c"], "size": [1, 2, 3], "mtime": [1.0, 2.0, 3.0]})
    known = pd.DataFrame({"id": [4, 5], "path": ["/a", "/b"], "size": [1, 2], "mtime": [1.0, 2.5]})
    plan = plan_scan(files, known)
    assert plan["action"].tolist() == ["unchanged", "changed", "new"]
    assert plan["id"].tolist()[:2] == [4, 5] and pd.isna(plan["id"].iloc[2])


def test_missing_or_odd_roots_are_parameter_errors_naming_the_path(tmp_path):
    with pytest.raises(ParameterError, match=r"scan path .*nowhere does not exist"):
        scan(tmp_path / "s.duckdb", tmp_path / "nowhere")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ParameterError, match=r"pipe is neither a folder nor a regular file"):
        scan(tmp_path / "s.duckdb", fifo)
    text = tmp_path / "notes.txt"
    text.write_text("x", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"notes\.txt is a file without an audio extension"):
        scan(tmp_path / "s.duckdb", text)


def test_a_single_file_can_be_scanned(tmp_path):
    path = write_audio(tmp_path / "Solo - Track.wav")
    summary = scan(tmp_path / "s.duckdb", path)
    assert (summary.scanned, summary.added, summary.root) == (1, 1, str(path))


def test_a_quick_scan_shows_its_bar_alone_without_an_empty_listing_line(tmp_path, capfd):
    for number in range(3):
        write_audio(tmp_path / "music" / f"Artist - Track {number}.wav", seed=number)
    with Store(tmp_path / "s.duckdb") as store:
        library.scan_library(store, tmp_path / "music", progress=True)
    shown = capfd.readouterr().err
    assert "scan: 100%" in shown and "3/3" in shown
    assert "listing" not in shown


# -- interrupts and run records ----------------------------------------------------------


def test_interrupted_scan_keeps_finished_batches_and_resumes(tmp_path, monkeypatch):
    music = tmp_path / "music"
    for i in range(7):
        write_audio(music / f"A - T{i}.wav", seconds=0.2, seed=i)
    monkeypatch.setattr(library_scan, "BATCH_SIZE", 3)
    real_read = library.read_track_file
    calls = {"n": 0}

    def read_then_interrupt(path, **kw):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_read(path, **kw)

    monkeypatch.setattr(library_scan, "read_track_file", read_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        scan(tmp_path / "s.duckdb", music)
    assert len(tracks(tmp_path / "s.duckdb")) == 3  # the first batch; the second was in hand
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        run = last_run(store, kind="scan")
    assert run["status"] == "interrupted" and run["summary"]["added"] == 3

    monkeypatch.setattr(library_scan, "read_track_file", real_read)
    resumed = scan(tmp_path / "s.duckdb", music)
    assert (resumed.added, resumed.unchanged) == (4, 3)
    assert tracks(tmp_path / "s.duckdb")["id"].tolist() == list(range(1, 8))


def test_scan_is_recorded_as_a_run(tmp_path):
    write_audio(tmp_path / "music" / "a.wav")
    summary = scan(tmp_path / "s.duckdb", tmp_path / "music")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        run = last_run(store, kind="scan")
    assert run["run_id"] == summary.run_id
    assert run["status"] == "ok"
    assert run["summary"] == summary.as_dict()
    assert run["parameters"]["root"] == str((tmp_path / "music").resolve())
