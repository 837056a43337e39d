"""Deleted files: flagged missing by a scan, cleared when found again, shown by `musicwb tracks`,
kept until `musicwb scan ROOT --prune` deletes them with every row that names them; and the
scan's counts, which add up to the files seen."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from library_files import run_cli, scan, tracks, write_audio

from musicwb.store import Store
from musicwb.store.runs import last_run
from musicwb.store.tables.library import track_id_tables


def _missing(store_path: Path) -> dict[str, bool]:
    """File name → whether ``missing_since`` is set."""
    frame = tracks(store_path)
    return dict(zip(frame["path"].map(lambda p: Path(p).name), frame["missing_since"].notna()))


def _library(music: Path, n: int = 4) -> list[Path]:
    return [
        write_audio(music / f"Artist {i} - Track {i}.flac", seconds=0.3, seed=i) for i in range(n)
    ]


def _parts(summary: dict) -> int:
    return sum(summary[k] for k in ("added", "updated", "unchanged", "moved", "errors"))


# -- missing_since: set, kept, cleared ---------------------------------------------------


def test_deleted_files_are_flagged_and_cleared_when_found_again(tmp_path):
    music = tmp_path / "music"
    paths = _library(music)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    kept = tmp_path / "elsewhere"
    kept.mkdir()
    shutil.copy2(paths[0], kept / paths[0].name)
    shutil.copy2(paths[1], kept / paths[1].name)
    paths[0].unlink()
    paths[1].unlink()

    gone = scan(store, music)

    assert (gone.missing, gone.unchanged, gone.found_again) == (2, 2, 0)
    assert _missing(store) == {
        "Artist 0 - Track 0.flac": True,
        "Artist 1 - Track 1.flac": True,
        "Artist 2 - Track 2.flac": False,
        "Artist 3 - Track 3.flac": False,
    }
    first_seen = tracks(store).set_index("id")["missing_since"]
    again = scan(store, music)  # still gone: the time it was first found missing stays
    assert again.missing == 2
    assert tracks(store).set_index("id")["missing_since"].equals(first_seen)

    # One comes back at its old path, the other at a new one (a move): both are present again.
    shutil.copy2(kept / paths[0].name, paths[0])
    moved_to = music / "sub" / "Moved.flac"
    moved_to.parent.mkdir()
    shutil.copy2(kept / paths[1].name, moved_to)
    back = scan(store, music)

    assert (back.missing, back.found_again, back.moved) == (0, 2, 1)
    frame = tracks(store)
    assert frame["missing_since"].isna().all()
    assert len(frame) == 4 and str(moved_to) in set(frame["path"])


def test_a_subfolder_scan_flags_only_its_own_missing_tracks(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "a" / "A - One.wav", seconds=0.2, seed=1)
    write_audio(music / "b" / "B - Two.wav", seconds=0.2, seed=2)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    (music / "a" / "A - One.wav").unlink()
    (music / "b" / "B - Two.wav").unlink()

    assert scan(store, music / "b").missing == 1
    assert _missing(store) == {"A - One.wav": False, "B - Two.wav": True}


def test_tracks_command_shows_the_missing_flag_and_a_count(tmp_path):
    music = tmp_path / "music"
    paths = _library(music, 3)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    paths[2].unlink()
    done = run_cli("scan", str(music), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "1 missing" in done.stdout
    assert "--prune" in done.stderr

    listed = run_cli("tracks", "--json", "--store", str(store))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(Path(r["path"]).name, r["missing"]) for r in rows] == [
        ("Artist 0 - Track 0.flac", False),
        ("Artist 1 - Track 1.flac", False),
        ("Artist 2 - Track 2.flac", True),
    ]
    table = run_cli("tracks", "--store", str(store))
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header[-1] == "missing"
    assert "3 track(s), 1 missing" in table.stdout
    only = json.loads(run_cli("tracks", "--json", "--missing", "--store", str(store)).stdout)
    assert [Path(r["path"]).name for r in only] == ["Artist 2 - Track 2.flac"]


# -- prune -------------------------------------------------------------------------------


def _literal(data_type: str, track_id: int) -> str:
    """A SQL value of a column type, for filling the NOT NULL columns of a test row (text is
    the track's id, so keys such as ``tag_writes (run_id, path)`` differ between tracks)."""
    if data_type.endswith("]"):
        base, size = data_type[:-1].rsplit("[", 1)
        if size:
            return f"CAST(list_resize([0]::{base}[], {size}, 0) AS {data_type})"
        return f"CAST([] AS {data_type})"
    return {
        "BOOLEAN": "false",
        "TIMESTAMP": "TIMESTAMP '2026-01-01 00:00:00'",
        "JSON": "'{}'::JSON",
    }.get(data_type, f"'{track_id}'" if data_type == "VARCHAR" else f"CAST(1 AS {data_type})")


def _fill_dependent_rows(store: Store, ids: list[int]) -> list[str]:
    """One row per track in every table with a ``track_id`` column; returns the tables."""
    tables = track_id_tables(store)
    for table in tables:
        columns = store.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND is_nullable = 'NO' AND column_default IS NULL "
            "AND column_name <> 'track_id' ORDER BY ordinal_position",
            [table],
        )
        names = ", ".join(["track_id", *(name for name, _ in columns)])
        for track_id in ids:
            values = ", ".join([str(track_id), *(_literal(kind, track_id) for _, kind in columns)])
            store.execute(f"INSERT INTO {table} ({names}) VALUES ({values})")
    return tables


def test_prune_deletes_missing_tracks_of_the_root_with_their_rows(tmp_path):
    music = tmp_path / "music"
    paths = _library(music / "in", 4)
    outside = write_audio(music / "out" / "Other - Elsewhere.flac", seconds=0.3, seed=9)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    with Store(store) as opened:
        ids = dict(opened.rows("SELECT path, id FROM tracks"))
        tables = _fill_dependent_rows(opened, sorted(ids.values()))
    assert {"sonic_features", "sonic_errors", "label_findings", "label_hunts", "enrich_queue",
            "enrich_cooldown", "play_history", "genre_changes"} <= set(tables)  # fmt: skip
    paths[0].unlink()
    paths[3].unlink()
    outside.unlink()  # missing too, but not under the pruned root

    plain = run_cli("scan", str(music / "in"), "--store", str(store), "--json")
    assert json.loads(plain.stdout)["missing"] == 2
    assert len(tracks(store)) == 5  # kept until pruned

    done = run_cli("scan", str(music / "in"), "--prune", "--store", str(store))

    assert done.returncode == 0, done.stderr
    assert f"pruned 2 missing track(s) and {2 * len(tables)} dependent row(s)" in done.stdout
    gone = {ids[str(paths[0])], ids[str(paths[3])]}
    left = tracks(store)
    assert set(left["id"]) == set(ids.values()) - gone
    with Store(store, read_only=True) as opened:
        for table in tables:
            remaining = {row[0] for row in opened.rows(f"SELECT track_id FROM {table}")}
            assert remaining == set(ids.values()) - gone, table
    # the outside track is still there, flagged by the next scan of its folder, not pruned
    assert scan(store, music).missing == 1
    assert len(tracks(store)) == 3


def test_prune_as_json_reports_counts_per_table(tmp_path):
    music = tmp_path / "music"
    paths = _library(music, 2)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    with Store(store) as opened:
        opened.execute(
            "INSERT INTO label_hunts (track_id, status, hunted_at) VALUES (1, 'found', now())"
        )
    paths[0].unlink()
    done = run_cli("scan", str(music), "--prune", "--json", "--store", str(store))
    summary = json.loads(done.stdout)
    assert (summary["missing"], summary["pruned"], summary["pruned_rows"]) == (
        1, 1, {"label_hunts": 1}
    )  # fmt: skip
    assert tracks(store)["path"].tolist() == [str(paths[1])]


# -- the counts add up -------------------------------------------------------------------


def test_scan_counts_add_up_to_the_files_seen(shared_data, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    bad = shared_data / "audio" / "badaudio"
    originals = sorted(p for p in bad.iterdir() if p.suffix in (".wav", ".flac", ".mp3", ".ogg"))
    assert len(originals) == 5
    for path in originals:  # links: the shared data is not copied
        os.symlink(path, music / path.name)
    good = _library(music / "mine", 2)
    (music / "empty.mp3").write_bytes(b"")
    (music / "notes.flac").write_text("not audio\n" * 30, encoding="utf-8")
    data = write_audio(tmp_path / "long.ogg", seconds=2.0).read_bytes()
    (music / "cut.ogg").write_bytes(data[: len(data) // 2])
    os.symlink(music / "nowhere.wav", music / "dangling.wav")
    os.mkfifo(music / "pipe.mp3")
    store = tmp_path / "s.duckdb"

    done = run_cli("scan", str(music), "--json", "--store", str(store))

    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    assert first["scanned"] == 12  # 5 shared + 2 good + 5 broken
    assert (first["added"], first["errors"]) == (7, 5)
    assert _parts(first) == first["scanned"]
    assert first["error_reasons"] == {"unreadable": 2, "not_audio": 1, "truncated": 1,
                                      "zero_byte": 1}  # fmt: skip
    assert "top failure reasons:" in done.stderr and "2 × unreadable" in done.stderr

    # Changed, moved, deleted, and a new broken file: still every file counted once.
    os.utime(good[0], (1_700_000_000, 1_700_000_000))
    good[1].rename(music / "Moved.flac")
    (music / "empty.mp3").unlink()
    (music / "other.wav").write_bytes(b"RIFF\x00\x00")
    second = json.loads(run_cli("scan", str(music), "--json", "--store", str(store)).stdout)
    assert _parts(second) == second["scanned"] == 12
    assert (second["updated"], second["moved"], second["missing"]) == (1, 1, 0)
    assert second["unchanged"] == 5 and second["errors"] == 5

    human = run_cli("scan", str(music), "--store", str(store))
    assert "12 files" in human.stdout and "5 errors; 0 missing" in human.stdout


@pytest.mark.parametrize("prune", [False, True])
def test_the_run_records_the_prune_parameter(tmp_path, prune):
    music = tmp_path / "music"
    _library(music, 1)
    summary = scan(tmp_path / "s.duckdb", music, prune=prune)
    with Store(tmp_path / "s.duckdb", read_only=True) as opened:
        run = last_run(opened, kind="scan")
    assert run["parameters"]["prune"] is prune and run["summary"] == summary.as_dict()


def test_a_prune_that_fails_half_way_deletes_nothing(tmp_path):
    music = tmp_path / "music"
    paths = _library(music, 2)
    store = tmp_path / "s.duckdb"
    scan(store, music)
    with Store(store) as opened:
        # Two more tables that name tracks, one referencing the other: deleting from m_parent
        # fails while z_child still holds the track, after label_hunts (in name order) lost its
        # row: the prune is half done then, and must be undone.
        opened.execute("CREATE TABLE m_parent (track_id BIGINT PRIMARY KEY)")
        opened.execute("CREATE TABLE z_child (track_id BIGINT REFERENCES m_parent (track_id))")
        opened.execute("INSERT INTO m_parent VALUES (1), (2)")
        opened.execute("INSERT INTO z_child VALUES (1)")
        opened.execute(
            "INSERT INTO label_hunts (track_id, status, hunted_at) VALUES (1, 'found', now())"
        )
    paths[0].unlink()

    done = run_cli("scan", str(music), "--prune", "--store", str(store))

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "pruning 1 missing track(s) failed, nothing was deleted" in done.stderr
    assert "foreign key" in done.stderr
    assert len(tracks(store)) == 2
    with Store(store, read_only=True) as opened:
        for table in ("m_parent", "z_child", "label_hunts"):
            assert opened.scalar(f"SELECT count(*) FROM {table} WHERE track_id = 1") == 1, table
        run = last_run(opened, kind="scan")
    assert run["status"] == "failed"
    assert _missing(store)["Artist 0 - Track 0.flac"]  # the flag, committed before, stays
