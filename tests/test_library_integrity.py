"""Broken, corrupted, truncated and unreadable files: each gets a reason and the scan goes on;
real audio is never taken for truncated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from library_files import MUSICWB, by_file_name, errors, scan, tracks, write_audio

from musicwb import library
from musicwb.library import read_track_file

# -- broken files and bad input ----------------------------------------------------------


def test_broken_files_get_error_rows_and_the_rest_is_scanned(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "good.flac")
    write_audio(music / "good.mp3", seed=1)
    (music / "empty.mp3").write_bytes(b"")
    (music / "notes.mp3").write_text("this is a text file, not audio\n" * 20, encoding="utf-8")
    for suffix in (".flac", ".ogg", ".wav", ".mp3"):
        source = write_audio(tmp_path / f"full{suffix}", seconds=3.0, seed=4)
        data = source.read_bytes()
        (music / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    (music / "cover.jpg").write_bytes(b"\xff\xd8\xff")  # not a candidate: ignored
    os.symlink(music / "nowhere.flac", music / "dangling.flac")

    summary = scan(tmp_path / "s.duckdb", music)

    # 9 files seen (the dangling link among them): 2 added, 7 errors, nothing else
    assert (summary.scanned, summary.added) == (9, 2)
    assert summary.errors == 7 and summary.folder_errors == 0
    found = by_file_name(errors(tmp_path / "s.duckdb"))["reason"]
    assert found.to_dict() == {
        "cut.flac": "truncated",
        "cut.mp3": "truncated",
        "cut.ogg": "truncated",
        "cut.wav": "truncated",
        "dangling.flac": "unreadable",
        "empty.mp3": "zero_byte",
        "notes.mp3": "not_audio",
    }
    assert sorted(Path(p).name for p in tracks(tmp_path / "s.duckdb")["path"]) == [
        "good.flac",
        "good.mp3",
    ]


def test_corrupted_files_give_a_reason_and_never_stop_the_reader(tmp_path):
    # Seeded random damage (overwritten bytes, cut ends) to real files of every format.
    rng = np.random.default_rng(11)
    originals = [
        write_audio(tmp_path / f"src{suffix}", seconds=1.0)
        for suffix in (".mp3", ".flac", ".ogg", ".opus", ".wav", ".aiff", ".m4a", ".wma")
    ]
    reasons = set()
    for case in range(1200):
        data = bytearray(originals[case % len(originals)].read_bytes())
        for _ in range(int(rng.integers(1, 9))):
            data[int(rng.integers(0, min(len(data), int(rng.choice([64, 512, 4096])))))] = int(
                rng.integers(0, 256)
            )
        if rng.random() < 0.3:
            data = data[: int(rng.integers(1, len(data)))]
        damaged = tmp_path / f"damaged{case}{originals[case % len(originals)].suffix}"
        damaged.write_bytes(bytes(data))
        reading = read_track_file(str(damaged))
        reasons.add(reading.reason)
        assert reading.ok or reading.message, damaged
    assert reasons <= {None, "truncated", "unreadable", "not_audio"}
    assert {"truncated", "unreadable"} <= reasons


def test_real_audio_is_not_mistaken_for_truncated(shared_data):
    files = [
        p
        for p in (shared_data / "audio").rglob("*")
        if p.suffix.lower() in library.AUDIO_EXTENSIONS and p.stat().st_size > 1000
    ]
    assert len(files) > 90
    problems = {str(p): read_track_file(str(p)).message for p in files}
    assert {p: m for p, m in problems.items() if m} == {}


def _unprivileged(command: list[str]) -> list[str]:
    """Run a command so that file permissions apply to it, also when tests run as root."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without util-linux setpriv: permissions cannot be enforced")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", *command]


def _scan_locked(music: Path, store: Path, locked: list[Path]) -> subprocess.CompletedProcess:
    """``musicwb scan --json`` by a process to which ``locked`` paths are unreadable."""
    for path in locked:
        path.chmod(0)
    try:
        return subprocess.run(
            _unprivileged([str(MUSICWB), "scan", str(music), "--json", "--store", str(store)]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        for path in locked:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_unreadable_file_and_folder_give_permission_errors(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "ok.flac")
    locked_file = write_audio(music / "locked.flac", seed=1)
    locked_folder = music / "private"
    inside = write_audio(locked_folder / "inside.flac", seed=2)
    store = tmp_path / "s.duckdb"

    done = _scan_locked(music, store, [locked_file, locked_folder])

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["scanned"], summary["added"], summary["errors"]) == (2, 1, 1)
    assert summary["folder_errors"] == 1  # apart: the files in it are unknown
    reasons = errors(store).set_index("path")["reason"].to_dict()
    assert reasons == {
        str(locked_file): "permission_denied",
        str(locked_folder): "permission_denied",
    }
    assert "see `musicwb scan-errors`" in done.stderr

    # Once readable, everything is scanned; locked again, the folder's tracks are not "missing".
    assert scan(store, music).added == 2
    again = json.loads(_scan_locked(music, store, [locked_folder]).stdout)
    assert (again["unchanged"], again["errors"], again["missing"]) == (2, 0, 0)
    assert again["folder_errors"] == 1
    assert str(inside) in set(tracks(store)["path"])
