"""Feature backups and forced re-analysis (issue 11): a SIGKILL never leaves tracks without
features, backups say whether they are complete, and restore never picks a partial one.

The forced run is a real ``musicwb extract --force`` process killed with SIGKILL while it works;
the files are real audio written with soundfile and scanned with ``scan_library``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.library import scan_library
from musicwb.sonic.backups import (
    backup_features,
    list_backups,
    newest_complete_backup,
    restore_features,
)
from musicwb.sonic.extract import extract_library, features_frame
from musicwb.store import Store
from musicwb.store.paths import StorePaths

SR = 22050
MUSICWB = str(Path(sys.executable).with_name("musicwb"))


def _write_library(folder: Path, n: int, seconds: float = 6.0) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(5)
    for i in range(n):
        notes = rng.choice([220, 262, 294, 330, 392, 440, 523], int(seconds * 4))
        t = np.arange(SR // 4) / SR
        y = np.concatenate([0.2 * np.sin(2 * np.pi * hz * t) * np.exp(-6 * t) for hz in notes])
        sf.write(folder / f"Artist {i % 3} - Song {i:02d}.wav", y.astype(np.float32), SR)


def _features_state(path: Path) -> tuple[int, int, str | None]:
    """(tracks with features, tracks, newest extracted_at) read between the writer's commits."""
    with Store(path, read_only=True, hold_open=False, lock_wait_s=30) as reader:
        row = reader.rows(
            "SELECT (SELECT count(DISTINCT track_id) FROM sonic_features), "
            "(SELECT count(*) FROM tracks), (SELECT max(extracted_at) FROM sonic_features)"
        )[0]
    return int(row[0]), int(row[1]), row[2]


def _loky_workers(parent: int) -> list[int]:
    """Ids of the loky worker processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == parent and b"popen_loky" in cmdline:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _newer_than(path: Path, moment) -> int:
    with Store(path, read_only=True, hold_open=False, lock_wait_s=30) as reader:
        return int(
            reader.scalar("SELECT count(*) FROM sonic_features WHERE extracted_at > ?", [moment])
        )


@pytest.mark.slow
def test_a_sigkilled_force_run_leaves_every_track_with_its_old_or_new_features(tmp_path):
    n = 40
    _write_library(tmp_path / "music", n)
    path = tmp_path / "lib.duckdb"
    with Store(path) as store:
        scan_library(store, tmp_path / "music", progress=False)
    first = subprocess.run(
        [MUSICWB, "extract", "--store", str(path), "--json"], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert _features_state(path)[:2] == (n, n)

    for attempt in range(2):  # killed twice: the second backup must not shadow the first
        before = _features_state(path)[2]
        log = (tmp_path / f"forced{attempt}.log").open("wb")
        forced = subprocess.Popen(
            [MUSICWB, "extract", "--store", str(path), "--force", "--yes"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        new = 0
        while new == 0 and time.monotonic() < deadline and forced.poll() is None:
            time.sleep(0.05)
            new = _newer_than(path, before)
        assert forced.poll() is None, "the forced run ended before it could be killed"
        workers = _loky_workers(forced.pid)
        assert workers, "the command analyses in a worker process"
        os.kill(forced.pid, signal.SIGKILL)
        assert forced.wait(timeout=60) == -signal.SIGKILL
        log.close()
        # Its worker dies with it (no orphan goes on analysing and holding a cache slot).
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "an orphaned worker outlived the kill"
        with_features, tracks, _ = _features_state(path)
        replaced = _newer_than(path, before)
        # Every track has features: some new (written before the kill), the others still old.
        assert (with_features, tracks) == (n, n), f"attempt {attempt}: {with_features} of {n}"
        assert 0 < replaced < n, replaced

    listed = list_backups(store=path)
    assert len(listed) == 2 and listed["reason"].tolist() == ["before extract --force"] * 2
    assert listed["status"].tolist() == ["complete", "complete"]
    assert listed["count"].tolist() == [n, n] and listed["tracks"].tolist() == [n, n]
    assert Path(listed["path"][0]).parent == StorePaths.of(path).backups
    shown = CliRunner().invoke(app, ["features", "list-backups", "--store", str(path), "--json"])
    assert [row["status"] for row in json.loads(shown.stdout)] == ["complete", "complete"]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Path:
    """A store of three analysed tracks (a template: tests copy it)."""
    root = tmp_path_factory.mktemp("backups")
    _write_library(root / "music", 3, seconds=4.0)
    with Store(root / "lib.duckdb") as store:
        scan_library(store, root / "music", progress=False)
        extract_library(store, progress=False)
    return root / "lib.duckdb"


@pytest.fixture
def store_file(analysed, tmp_path) -> Path:
    path = tmp_path / "lib.duckdb"
    path.write_bytes(analysed.read_bytes())
    return path


def test_a_partial_backup_is_marked_and_restore_picks_the_newest_complete_one(store_file):
    with Store(store_file) as store:
        full = backup_features(store, name="full")
        assert (full["count"], full["tracks"], full["complete"]) == (3, 3, True)
        complete = features_frame(store)
        store.execute("DELETE FROM sonic_features WHERE track_id > 1")  # an interrupted run
        partial = backup_features(store, name="later")
        assert (partial["count"], partial["tracks"], partial["complete"]) == (1, 3, False)
        listed = list_backups(store=store)
        assert listed[["name", "status"]].values.tolist() == [
            ["later", "partial"],
            ["full", "complete"],
        ]
        assert newest_complete_backup(store=store) == "full"
        plan = restore_features(store)  # no name: the newest complete backup, a dry run
        assert (plan["name"], plan["applied"], plan["would_restore"]) == ("full", False, 3)
        done = restore_features(store, apply=True)
        assert done["applied"] and done["backup"] is not None
        np.testing.assert_array_equal(features_frame(store).to_numpy(), complete.to_numpy())
        listed = list_backups(store=store)
        made = listed[listed["name"] == done["backup"]].iloc[0]
        # What the restore replaced (one row) was backed up first, and is itself partial.
        assert made["reason"] == "before restore of full" and made["count"] == 1
        assert made["status"] == "partial"
        assert newest_complete_backup(store=store) == "full"


def test_backups_made_before_the_track_count_was_kept_compare_row_counts(store_file):
    with Store(store_file) as store:
        folder = Path(backup_features(store, name="old-full")["path"])
        store.execute("DELETE FROM sonic_features WHERE track_id > 2")
        small = Path(backup_features(store, name="old-small")["path"])
    for meta_file in (folder / "meta.json", small / "meta.json"):
        meta = json.loads(meta_file.read_text())
        for key in ("tracks", "covered", "complete"):
            meta.pop(key)
        meta_file.write_text(json.dumps(meta))
    listed = list_backups(store=store_file)
    assert dict(zip(listed["name"], listed["status"])) == {
        "old-full": "complete",
        "old-small": "partial",
    }


def test_restore_command_backs_up_what_it_replaces(store_file):
    runner = CliRunner()
    common = ["--store", str(store_file)]
    done = runner.invoke(app, ["features", "backup", "--name", "snap", *common])
    assert done.exit_code == 0 and "of 3 track(s) in the store" in done.stdout, done.output
    with Store(store_file) as store:
        store.execute("DELETE FROM sonic_features WHERE track_id = 3")
    done = runner.invoke(app, ["features", "restore", *common])
    assert done.exit_code == 0 and "would restore 3 track(s) from snap" in done.stdout
    done = runner.invoke(app, ["features", "restore", "snap", "--apply", *common])
    assert done.exit_code == 0, done.output
    assert "restored 3 track(s) from snap" in done.stdout
    assert "the replaced features were backed up first: features-" in done.stdout
    listed = json.loads(runner.invoke(app, ["features", "list-backups", *common, "--json"]).stdout)
    assert [(row["count"], row["status"]) for row in listed] == [(2, "partial"), (3, "complete")]
