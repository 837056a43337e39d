"""`musicwb playlist` and `musicwb genres migrate` as a user runs them: a real process, a real
DuckDB store, a real artifact; the JSON keys scripts rely on, a playable M3U8 whose paths
resolve, and clear errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import musicwb.cli.playlist  # noqa: F401  (registers the commands until musicwb.cli imports it)
from musicwb.cli import app
from musicwb.store import Store

# A real `musicwb` process (main() turns errors into exit codes); until musicwb/cli/__init__.py
# imports musicwb.cli.playlist, the command is registered here.
LAUNCH = (
    "import sys, musicwb.cli.playlist; from musicwb.cli import main; "
    "sys.argv[0] = 'musicwb'; main()"
)


def invoke(*args: str):
    """The command in this process (fast); exit codes of errors need :func:`run_cli`."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MUSICWB_")}
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        check=False,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- genres migrate ----------------------------------------------------------------------------

# id: (raw genres as scanned, genres after the migration)
MESSY = {
    1: (["Rock; Alt Rock", "seen live"], ["rock", "alternative rock"]),
    2: (["Alternatif et indé"], ["indie"]),
    3: (["techno"], ["techno"]),
    4: (None, None),
    5: (["D&B", "Drum & Bass"], ["drum and bass"]),
    6: (["80s", "favourites"], []),
    7: (["Deep House", "zzq wobble"], ["deep house", "zzq wobble"]),
}


@pytest.fixture()
def messy_store(tmp_path: Path) -> Path:
    now = dt.datetime(2026, 1, 1)
    tracks = pd.DataFrame(
        [
            {
                "id": track_id,
                "path": f"/music/{track_id}.mp3",
                "size": 1,
                "mtime": 1.0,
                "content_hash": f"h{track_id}",
                "artist": f"Artist {track_id}",
                "title": f"Title {track_id}",
                "genres": before,
                "added_at": now,
                "updated_at": now,
            }
            for track_id, (before, _) in MESSY.items()
        ]
    )
    path = tmp_path / "lib.duckdb"
    with Store(path) as store:
        store.insert("tracks", tracks)
    return path


def stored_genres(path: Path) -> dict[int, list[str] | None]:
    with Store(path, read_only=True) as store:
        rows = store.rows("SELECT id, genres FROM tracks ORDER BY id")
    return {track_id: genres for track_id, genres in rows}


def test_genres_migrate_dry_run_changes_nothing(messy_store):
    done = invoke("genres", "migrate", "--store", str(messy_store), "--json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["applied"] is False and report["run_id"] is None
    assert report["tracks_with_genres"] == 6
    assert report["changed"] == 5 and report["unchanged"] == 1 and report["emptied"] == 1
    assert report["tags_by_outcome"] == {"mapped": 6, "meta": 3, "unknown": 1, "dropped": 0}
    assert {"tag": "zzq wobble", "tracks": 1} in report["top_unknown_tags"]
    assert {"tag": "Alternatif et indé", "genres": ["indie"], "tracks": 1} in report[
        "top_changed_tags"
    ]
    assert done.stderr == ""  # no progress bar under --json
    assert stored_genres(messy_store) == {k: before for k, (before, _) in MESSY.items()}
    with Store(messy_store, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM genre_changes") == 0
        assert store.scalar("SELECT count(*) FROM runs") == 0

    text = invoke("genres", "migrate", "--store", str(messy_store))
    assert text.exit_code == 0, text.stderr
    assert "would change the genres of 5 of 6 track(s)" in text.stdout
    assert "add --apply" in text.stdout


def test_genres_migrate_apply_writes_logs_and_is_idempotent(messy_store):
    done = invoke("genres", "migrate", "--apply", "--store", str(messy_store), "--json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["applied"] is True and report["changed"] == 5
    assert stored_genres(messy_store) == {k: after for k, (_, after) in MESSY.items()}
    with Store(messy_store, read_only=True) as store:
        log = store.df("SELECT * FROM genre_changes ORDER BY track_id")
        run = store.df("SELECT kind, status FROM runs WHERE run_id = ?", [report["run_id"]])
        updated = store.scalar("SELECT updated_at FROM tracks WHERE id = 2")
    assert log["track_id"].tolist() == [1, 2, 5, 6, 7]
    assert set(log["run_id"]) == {report["run_id"]}
    assert list(log.set_index("track_id").loc[2, "genres_before"]) == ["Alternatif et indé"]
    assert list(log.set_index("track_id").loc[6, "genres_after"]) == []
    assert run.to_dict("records") == [{"kind": "genres_migrate", "status": "ok"}]
    assert updated > dt.datetime(2026, 1, 1)

    again = invoke("genres", "migrate", "--apply", "--store", str(messy_store), "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["changed"] == 0
    assert stored_genres(messy_store) == {k: after for k, (_, after) in MESSY.items()}


def test_genres_migrate_on_a_missing_store_is_a_clear_error(tmp_path):
    done = run_cli("genres", "migrate", "--store", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert done.returncode == 1
    assert "no store at" in done.stderr and "Traceback" not in done.stderr
