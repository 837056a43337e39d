"""Reading what scans wrote (:func:`tracks_frame`, :func:`scan_errors_frame`) and the
``musicwb scan``/``tracks``/``scan-errors`` commands."""

from __future__ import annotations

import json
import os

from library_files import run_cli, scan, tag_file, write_audio

from musicwb.library import scan_errors_frame, tracks_frame
from musicwb.store import Store


def test_scan_errors_frame_shows_the_last_scan_unless_asked(tmp_path):
    music = tmp_path / "music"
    (music).mkdir()
    (music / "empty.flac").write_bytes(b"")
    scan(tmp_path / "s.duckdb", music)
    (music / "empty.flac").unlink()
    write_audio(music / "fine.flac")
    scan(tmp_path / "s.duckdb", music)
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert scan_errors_frame(store).empty
        every = scan_errors_frame(store, last_run_only=False)
    assert every.columns.tolist() == ["path", "reason", "message", "run_id", "recorded_at"]
    assert every["reason"].tolist() == ["zero_byte"]


# -- the command line --------------------------------------------------------------------


def test_cli_scan_and_tracks_json_with_store_option_and_environment(tmp_path):
    music = tmp_path / "music"
    tag_file(write_audio(music / "x.flac"), {"artist": "Surgeon", "title": "Klonk", "label": "DT"})
    write_audio(music / "Regis - Blood Witness.ogg", seed=1)
    store = tmp_path / "cli.duckdb"

    done = run_cli("scan", str(music), "--json", "--store", str(store))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {"scanned", "added", "updated", "unchanged", "errors", "moved", "run_id"} <= set(summary)
    assert (summary["scanned"], summary["added"]) == (2, 2)

    again = run_cli("scan", str(music), "--json", env={"MUSICWB_STORE": str(store)})
    assert json.loads(again.stdout)["unchanged"] == 2

    listed = run_cli("tracks", "--json", env={"MUSICWB_STORE": str(store)})
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["artist"], r["title"], r["label"]) for r in rows] == [
        ("Regis", "Blood Witness", None),
        ("Surgeon", "Klonk", "DT"),
    ]
    assert set(rows[0]) == {
        "id", "path", "artist", "title", "album", "label", "duration", "format", "missing"
    }
    assert [r["missing"] for r in rows] == [False, False]

    human = run_cli("scan", str(music), "--store", str(store))
    assert human.returncode == 0 and "2 unchanged" in human.stdout

    (music / "empty.mp3").write_bytes(b"")
    assert run_cli("scan", str(music), "--store", str(store)).returncode == 0
    listed_errors = run_cli("scan-errors", "--json", "--store", str(store))
    assert [(e["path"], e["reason"]) for e in json.loads(listed_errors.stdout)] == [
        (str(music / "empty.mp3"), "zero_byte")
    ]


def test_cli_scan_of_a_missing_folder_exits_2_naming_it(tmp_path):
    done = run_cli("scan", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s.duckdb"))
    assert done.returncode == 2
    assert "nowhere does not exist" in done.stderr


def test_cli_scan_while_another_process_holds_the_store_is_refused(tmp_path):
    write_audio(tmp_path / "music" / "a.wav")
    store_path = tmp_path / "held.duckdb"
    with Store(store_path):
        done = run_cli("scan", str(tmp_path / "music"), "--store", str(store_path))
    assert done.returncode == 1
    assert "is locked" in done.stderr and str(os.getpid()) in done.stderr
    assert "Traceback" not in done.stderr


def test_tracks_frame_limit(tmp_path):
    for i in range(3):
        write_audio(tmp_path / "music" / f"A - {i}.wav", seconds=0.2, seed=i)
    scan(tmp_path / "s.duckdb", tmp_path / "music")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert tracks_frame(store, limit=2)["id"].tolist() == [1, 2]
        assert len(tracks_frame(store)) == 3
