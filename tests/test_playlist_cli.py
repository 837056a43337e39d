"""`musicwb playlist` and `musicwb genres migrate` as a user runs them: a real process, a real
DuckDB store, a real artifact; the JSON keys scripts rely on, a playable M3U8 whose paths
resolve, and clear errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from drawn_features import add_drawn_features
from typer.testing import CliRunner

import musicwb.cli.playlist  # noqa: F401  (registers the commands until musicwb.cli imports it)
from musicwb.cli import app
from musicwb.errors import ParameterError
from musicwb.store import Store

# A real `musicwb` process (main() turns errors into exit codes); until musicwb/cli/__init__.py
# imports musicwb.cli.playlist, the command is registered here.
LAUNCH = (
    "import sys, musicwb.cli.playlist; from musicwb.cli import main; "
    "sys.argv[0] = 'musicwb'; main()"
)


def invoke(*args: str):
    """The command in this process (fast); the exit codes of errors need :func:`run_cli`."""
    return CliRunner().invoke(app, list(args))


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


# -- musicwb playlist --------------------------------------------------------------------------

PLAYLIST_TRACK_KEYS = {"track_id", "artist", "title", "path", "transition_in"}
DIAGNOSTIC_KEYS = {
    "pool_size",
    "artists",
    "relaxations",
    "mean_transition",
    "min_transition",
    "max_per_artist",
}


def _no_nan(constant: str) -> None:
    raise AssertionError(f"JSON holds {constant}: not valid JSON for other tools")


@pytest.fixture(scope="module")
def library(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo library (real audio files) with sonic features and its artifact,
    built by `musicwb artifact build` where it belongs: beside the store."""
    path = tmp_path_factory.mktemp("library") / "demo.duckdb"
    shutil.copy(demo_store, path)
    add_drawn_features(path)
    done = invoke("artifact", "build", "--store", str(path), "--variant", "robust_whiten")
    assert done.exit_code == 0, done.output
    return path


@pytest.fixture(scope="module")
def demo_artifact(library: Path) -> Path:
    from musicwb.store.paths import StorePaths

    artifact = StorePaths.of(library).artifact
    assert artifact.is_file()
    return artifact


@pytest.fixture(scope="module")
def seed(library: Path) -> int:
    with Store(library, read_only=True) as store:
        return int(store.scalar("SELECT min(id) FROM tracks"))


def playlist_args(store: Path, artifact: Path, seed: int, *extra: str) -> list[str]:
    return [
        "playlist",
        "--seed",
        str(seed),
        "--store",
        str(store),
        "--artifact",
        str(artifact),
        *extra,
    ]


def test_playlist_json_has_exactly_the_keys_scripts_rely_on(library, demo_artifact, seed):
    done = invoke(*playlist_args(library, demo_artifact, seed, "--length", "12", "--json"))
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout, parse_constant=_no_nan)
    assert set(result) == {"tracks", "diagnostics"}
    tracks, diagnostics = result["tracks"], result["diagnostics"]
    assert 2 <= len(tracks) <= 12
    assert all(set(track) == PLAYLIST_TRACK_KEYS for track in tracks)
    assert tracks[0]["track_id"] == seed and tracks[0]["transition_in"] is None
    assert all(isinstance(track["transition_in"], float) for track in tracks[1:])
    assert len({track["track_id"] for track in tracks}) == len(tracks)
    assert all(Path(track["path"]).is_file() and track["title"] for track in tracks)
    assert DIAGNOSTIC_KEYS <= set(diagnostics)
    # artists are counted by artist key ("A feat. B" is A), so never more than the credits
    assert 1 <= diagnostics["artists"] <= len({track["artist"] for track in tracks})
    assert diagnostics["min_transition"] == pytest.approx(
        min(track["transition_in"] for track in tracks[1:])
    )
    for relaxation in diagnostics["relaxations"]:
        assert {"level", "rule", "reason"} <= set(relaxation)
    assert done.stderr == ""


def test_the_playlist_as_text_shows_no_nan(library, demo_artifact, seed):
    done = invoke(*playlist_args(library, demo_artifact, seed, "--length", "6"))
    assert done.exit_code == 0, done.stderr
    assert "transition_in" in done.stdout and "NaN" not in done.stdout  # the seed's is blank


def test_playlist_out_writes_a_playable_m3u8(library, demo_artifact, seed, tmp_path):
    from musicwb.sonic.io import probe_audio

    folder = tmp_path / "Playlists (été)"
    out = folder / "from seed.m3u8"
    done = invoke(*playlist_args(library, demo_artifact, seed, "--length", "8", "--out", str(out), "--relative"))  # fmt: skip
    assert done.exit_code == 0, done.stderr
    written = int(re.search(r"wrote (\d+) track\(s\) to (.+)$", done.stderr)[1])
    assert done.stderr.strip().endswith(str(out)) and 5 <= written <= 8
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U" and len(lines) == 1 + 2 * written
    entries = list(zip(lines[1::2], lines[2::2], strict=True))
    with Store(library, read_only=True) as store:
        stored = dict(store.rows("SELECT path, duration FROM tracks"))
    for info, relative in entries:
        assert not Path(relative).is_absolute()
        path = (folder / relative).resolve()
        audio = probe_audio(path)  # what a player does first: the file is there and is audio
        assert audio.duration_s > 1
        assert info.startswith(f"#EXTINF:{round(stored[str(path)])},")
    printed = done.stdout.splitlines()
    assert printed[0].split() == [
        "position",
        "track_id",
        "artist",
        "title",
        "transition_in",
        "seed_similarity",
    ]
    assert any(line.startswith("pool ") for line in printed)


def test_playlist_out_csv_with_absolute_paths(library, demo_artifact, seed, tmp_path):
    out = tmp_path / "set.csv"
    done = invoke(
        *playlist_args(library, demo_artifact, seed, "--length", "6", "--out", str(out))
    )
    assert done.exit_code == 0, done.stderr
    frame = pd.read_csv(out)
    assert frame["position"].tolist() == list(range(1, len(frame) + 1)) and len(frame) >= 5
    assert frame["track_id"].iloc[0] == seed
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in frame["path"])


def test_recently_played_tracks_are_left_out(library, demo_artifact, seed, tmp_path):
    store = tmp_path / "copy.duckdb"
    shutil.copy(library, store)
    first = json.loads(
        invoke(*playlist_args(store, demo_artifact, seed, "--length", "8", "--json")).stdout
    )
    played = [track["track_id"] for track in first["tracks"][1:3]]
    from musicwb.playlist.history import record_plays

    with Store(store) as opened:
        plays = pd.DataFrame({"track_id": played, "played_at": [dt.datetime.now(dt.UTC)] * 2})
        record_plays(opened, plays, source="test")
    second = json.loads(
        invoke(*playlist_args(store, demo_artifact, seed, "--length", "8", "--json")).stdout
    )
    assert not set(played) & {track["track_id"] for track in second["tracks"]}
    again = invoke(
        *playlist_args(store, demo_artifact, seed, "--length", "8", "--recent-days", "0", "--json")
    )
    assert set(played) <= {track["track_id"] for track in json.loads(again.stdout)["tracks"]}


def test_unknown_seed_exits_2_naming_it(library, demo_artifact, tmp_path):
    done = run_cli(*playlist_args(library, demo_artifact, 987654), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and "987654" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_bad_options_exit_2_with_the_reason(library, demo_artifact, seed, tmp_path):
    missing = run_cli(*playlist_args(library, tmp_path / "none.npz", seed), cwd=tmp_path)
    assert missing.returncode == 2
    assert "none.npz" in missing.stderr and "musicwb artifact build" in missing.stderr
    wrong = invoke(*playlist_args(library, demo_artifact, seed, "--mode", "chill"))
    assert isinstance(wrong.exception, ParameterError) and "chill" in str(wrong.exception)
    floor = invoke(*playlist_args(library, demo_artifact, seed, "--similarity-floor", "1.5"))
    assert isinstance(floor.exception, ParameterError)
    assert "similarity_floor" in str(floor.exception)
    suffix = invoke(
        *playlist_args(library, demo_artifact, seed, "--out", str(tmp_path / "x.txt"))
    )
    assert isinstance(suffix.exception, ParameterError) and ".m3u8" in str(suffix.exception)


# -- the artifact belongs to its store ---------------------------------------------------------


def other_library(folder: Path, *, ids: list[int]) -> Path:
    """Another library in ``folder/data/musicwb.duckdb`` (its own store, other tracks), with
    features and an artifact written where musicwb used to write it:
    ``./data/sonic_artifact.npz``."""
    path = folder / "data" / "musicwb.duckdb"
    now = dt.datetime(2026, 1, 1)
    tracks = pd.DataFrame(
        {
            "id": ids,
            "path": [str(folder / f"other {i}.ogg") for i in ids],
            "size": 1000,
            "mtime": 0.0,
            "content_hash": [f"other{i}" for i in ids],
            "artist": [f"Yubatake {i % 4}" for i in ids],
            "title": [f"Other title {i}" for i in ids],
            "added_at": now,
            "updated_at": now,
        }
    )
    with Store(path) as store:
        store.insert("tracks", tracks)
    add_drawn_features(path, seed=3)
    done = run_cli(
        "artifact", "build", "--store", str(path), "--out", "data/sonic_artifact.npz", cwd=folder
    )
    assert done.returncode == 0, done.stderr
    return path


def test_playlist_uses_its_store_s_artifact_whatever_the_current_folder(
    library, demo_artifact, seed, tmp_path
):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    other = other_library(folder, ids=[seed, *range(5000, 5030)])
    with Store(library, read_only=True) as store:
        ours = dict(store.rows("SELECT id, path FROM tracks"))
    # run where the other library's artifact lies at ./data/sonic_artifact.npz (the old default)
    done = run_cli("playlist", "--seed", str(seed), "--store", str(library), "--length", "10",
                   "--json", cwd=folder)  # fmt: skip
    assert done.returncode == 0, done.stderr
    tracks = json.loads(done.stdout)["tracks"]
    assert len(tracks) >= 5 and tracks[0]["track_id"] == seed
    for track in tracks:  # ids, names and paths of one library: this one
        assert track["track_id"] in ours and track["path"] == ours[track["track_id"]]
        assert Path(track["path"]).is_file() and track["artist"] and track["title"]
    same = invoke(*playlist_args(library, demo_artifact, seed, "--length", "10", "--json"))
    assert json.loads(same.stdout)["tracks"] == tracks  # exactly the store's own artifact

    # the other library's artifact, named explicitly, is refused with how to fix it
    refused = run_cli("playlist", "--seed", str(seed), "--store", str(library), "--artifact",
                      "data/sonic_artifact.npz", "--json", cwd=folder)  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "another store" in refused.stderr and str(other) in refused.stderr
    assert f"musicwb artifact build --store {library}" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    # and the other store with this library's artifact too
    crossed = run_cli("playlist", "--seed", str(seed), "--store", "data/musicwb.duckdb",
                      "--artifact", str(demo_artifact), cwd=folder)  # fmt: skip
    assert crossed.returncode == 2 and "another store" in crossed.stderr


def test_a_stale_artifact_is_refused_until_rebuilt(library, demo_artifact, seed, tmp_path):
    from musicwb.store.paths import StorePaths

    store = tmp_path / "copy.duckdb"
    shutil.copy(library, store)
    shutil.copy(demo_artifact, StorePaths.of(store).artifact)  # a copy is the same library
    done = run_cli("playlist", "--seed", str(seed), "--store", str(store), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Store(store) as opened:  # one track analysed again since the artifact was built
        opened.execute(
            "UPDATE sonic_features SET extracted_at = TIMESTAMP '2026-12-01 10:00:00' "
            "WHERE track_id = ?",
            [seed + 1],
        )
    stale = run_cli("playlist", "--seed", str(seed), "--store", str(store), "--json", cwd=tmp_path)
    assert stale.returncode == 2, stale.stderr
    assert "stale" in stale.stderr and "2026-12-01T10:00:00" in stale.stderr
    assert f"musicwb artifact build --store {store}" in stale.stderr
    rebuilt = run_cli("artifact", "build", "--store", str(store), cwd=tmp_path)
    assert rebuilt.returncode == 0 and str(StorePaths.of(store).artifact) in rebuilt.stdout
    again = run_cli("playlist", "--seed", str(seed), "--store", str(store), "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


# -- missing files and tracks that are not music -----------------------------------------------


def test_missing_and_vanished_files_are_never_in_a_playlist(library, demo_artifact, seed, tmp_path):
    from musicwb.store.paths import StorePaths

    store = tmp_path / "copy.duckdb"
    shutil.copy(library, store)
    shutil.copy(demo_artifact, StorePaths.of(store).artifact)
    args = ("playlist", "--seed", str(seed), "--store", str(store), "--length", "12")
    first = json.loads(run_cli(*args, "--json", cwd=tmp_path).stdout)["tracks"]
    marked = [track["track_id"] for track in first[2:4]]  # a scan found these files gone
    vanish = first[1]  # deleted after the scan; the first pick after the seed, drawn again
    moved = tmp_path / "music" / Path(vanish["path"]).name
    moved.parent.mkdir()
    shutil.copy(vanish["path"], moved)
    with Store(store) as opened:
        opened.execute(
            "UPDATE tracks SET missing_since = TIMESTAMP '2026-12-01 09:00:00' "
            "WHERE list_contains(?, id)",
            [marked],
        )
        opened.execute("UPDATE tracks SET path = ? WHERE id = ?", [str(moved), vanish["track_id"]])
    moved.unlink()

    done = run_cli(*args, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # the artifact is not stale: features unchanged
    result = json.loads(done.stdout)
    ids = [track["track_id"] for track in result["tracks"]]
    assert not set(marked) & set(ids) and vanish["track_id"] not in ids
    assert len(ids) == len(first)  # refilled from the pool
    assert all(Path(track["path"]).is_file() for track in result["tracks"])
    left_out = result["diagnostics"]["left_out"]
    assert left_out["missing"] == 2 and left_out["vanished"] == [vanish["track_id"]]
    text = run_cli(*args, cwd=tmp_path)
    assert "left out: 2 missing file(s)" in text.stdout
    assert f"vanished since the last scan (ids {vanish['track_id']}" in text.stdout

    for gone in (marked[0], vanish["track_id"]):  # a seed whose file is gone: a clear error
        refused = run_cli("playlist", "--seed", str(gone), "--store", str(store), cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert f"seed track {gone} is missing" in refused.stderr
        assert "musicwb scan" in refused.stderr and "Traceback" not in refused.stderr

    # a scan marked the files missing before the artifact was built: they are not in it
    rebuilt = run_cli("artifact", "build", "--store", str(store), "--json", cwd=tmp_path)
    meta = json.loads(rebuilt.stdout)
    with Store(store, read_only=True) as opened:
        analysed = opened.scalar("SELECT count(*) FROM sonic_features")
    assert meta["n_tracks"] == analysed - 2 and meta["left_out"]["missing"] == 2
    from musicwb.sonic.artifact import load_artifact

    assert not set(marked) & set(load_artifact(meta["path"])["track_ids"].tolist())


def test_flagged_tracks_are_left_out_and_a_flagged_seed_is_refused(
    library, demo_artifact, seed, tmp_path
):
    store = tmp_path / "copy.duckdb"
    shutil.copy(library, store)
    with Store(store, read_only=True) as opened:
        ids = [row[0] for row in opened.rows("SELECT id FROM tracks ORDER BY id")]
    silent, tone = ids[1], ids[2]
    with Store(store) as opened:  # as extraction records them
        opened.execute(
            "UPDATE sonic_features SET content_flag = 'silence', "
            "content_reason = 'peak level below -60 dBFS' WHERE track_id = ?",
            [silent],
        )
        opened.execute(
            "UPDATE sonic_features SET content_flag = 'steady_tone', "
            "content_reason = 'one pitch held throughout' WHERE track_id = ?",
            [tone],
        )
    built = run_cli("artifact", "build", "--store", str(store), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "left out 2 analysed track(s): 1 silence, 1 steady-tone" in built.stdout

    args = ("playlist", "--store", str(store), "--length", "64", "--min-gap", "0",
            "--max-artist-fraction", "1", "--similarity-floor", "-1", "--genre-gate", "0")  # fmt: skip
    done = run_cli(*args, "--seed", str(seed), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    playlist_ids = {track["track_id"] for track in result["tracks"]}
    assert len(playlist_ids) > 30 and not {silent, tone} & playlist_ids

    refused = run_cli(*args, "--seed", str(silent), cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert f"seed track {silent} is flagged silence (peak level below -60 dBFS)" in refused.stderr
    assert "--include-flagged" in refused.stderr and refused.stdout == ""

    # keeping them needs an artifact that holds them
    wanted = run_cli(*args, "--seed", str(silent), "--include-flagged", cwd=tmp_path)
    assert wanted.returncode == 2
    assert f"musicwb artifact build --store {store} --include-flagged" in wanted.stderr
    with_flagged = run_cli("artifact", "build", "--store", str(store), "--include-flagged",
                           "--json", cwd=tmp_path)  # fmt: skip
    assert json.loads(with_flagged.stdout)["include_flagged"] is True
    kept = run_cli(*args, "--seed", str(silent), "--include-flagged", "--json", cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["tracks"][0]["track_id"] == silent
    # that artifact without --include-flagged still leaves them out, and says so
    plain = run_cli(*args, "--seed", str(seed), "--json", cwd=tmp_path)
    left_out = json.loads(plain.stdout)["diagnostics"]["left_out"]
    assert left_out["flagged"] == {"silence": 1, "steady_tone": 1}
    assert not {silent, tone} & {t["track_id"] for t in json.loads(plain.stdout)["tracks"]}


def test_a_file_deleted_and_rescanned_leaves_the_playlists(library, demo_artifact, seed, tmp_path):
    """The whole path a user takes: delete a file, `musicwb scan`, then `musicwb playlist` with
    the artifact built before (not stale: the features did not change)."""
    from musicwb.store.paths import StorePaths

    with Store(library, read_only=True) as store:
        paths = [row[0] for row in store.rows("SELECT path FROM tracks")]
    root = Path(os.path.commonpath(paths))
    music = tmp_path / "music"
    shutil.copytree(root, music)  # modification times kept: the scan sees unchanged files
    store = tmp_path / "lib.duckdb"
    shutil.copy(library, store)
    shutil.copy(demo_artifact, StorePaths.of(store).artifact)
    with Store(store) as opened:
        opened.execute("UPDATE tracks SET path = replace(path, ?, ?)", [str(root), str(music)])
    args = ("playlist", "--seed", str(seed), "--store", str(store), "--length", "10", "--json")
    before = json.loads(run_cli(*args, cwd=tmp_path).stdout)["tracks"]
    deleted = before[1]
    Path(deleted["path"]).unlink()
    scanned = run_cli("scan", str(music), "--store", str(store), "--json", cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    with Store(store, read_only=True) as opened:
        flagged = opened.rows("SELECT id FROM tracks WHERE missing_since IS NOT NULL")
    assert flagged == [(deleted["track_id"],)]
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert deleted["track_id"] not in [track["track_id"] for track in result["tracks"]]
    assert result["diagnostics"]["left_out"]["missing"] == 1
    assert result["diagnostics"]["left_out"]["vanished"] == []  # the scan had marked it


def test_a_playlist_seeded_on_real_silence_is_refused(shared_data, tmp_path):
    """Real files: a 10-minute silent FLAC and an 8 kHz sine beside four real tracks, scanned and
    extracted; silence and tone are flagged, left out of the artifact, and refused as seeds (the
    issue: a playlist seeded on silence started with real music at similarity 0.43)."""
    music = tmp_path / "music"
    music.mkdir()
    for name in ("silent_10min.flac", "mono8k.wav"):
        shutil.copy(shared_data / "audio" / "badaudio" / name, music)
    for name in ("01_opening", "19_courtesan", "enter_the_emperor", "15_dungeon"):
        shutil.copy(shared_data / "audio" / "realmusic" / "avgvst" / f"tuxemon__{name}.ogg", music)
    store = tmp_path / "lib.duckdb"
    for command in (("scan", str(music)), ("extract",)):
        done = run_cli(*command, "--store", str(store), "--json", cwd=tmp_path, timeout=900)
        assert done.returncode == 0, done.stderr
    with Store(store, read_only=True) as opened:
        flags = dict(
            opened.rows(
                "SELECT t.path, f.content_flag FROM tracks t JOIN sonic_features f "
                "ON f.track_id = t.id"
            )
        )
        ids = dict(opened.rows("SELECT path, id FROM tracks"))
    silent, tone = str(music / "silent_10min.flac"), str(music / "mono8k.wav")
    assert flags[silent] == "silence" and flags[tone] is not None
    built = run_cli("artifact", "build", "--store", str(store), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert ": 4 track(s)" in built.stdout and "left out 2 analysed track(s)" in built.stdout

    refused = run_cli("playlist", "--seed", str(ids[silent]), "--store", str(store), cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert f"seed track {ids[silent]} is flagged silence" in refused.stderr
    assert refused.stdout == ""
    first_music = ids[str(music / "tuxemon__01_opening.ogg")]
    args = ("--similarity-floor", "-1", "--genre-gate", "0", "--min-gap", "0",
            "--max-artist-fraction", "1")  # fmt: skip
    done = run_cli("playlist", "--seed", str(first_music), "--store", str(store), *args,
                   "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {track["path"] for track in result["tracks"]} <= {
        path for path, flag in flags.items() if flag is None
    }
    left_out = result["diagnostics"]["left_out"]
    assert sum(left_out["flagged"].values()) == 0  # not in the artifact at all
    assert sum(left_out["by_artifact"]["flagged"].values()) == 2  # but said
    text = run_cli("playlist", "--seed", str(first_music), "--store", str(store), *args,
                   cwd=tmp_path)  # fmt: skip
    assert "left out: not in the artifact: 1 silence, 1 " in text.stdout


def test_the_library_functions_default_to_the_store_s_artifact(library, seed, tmp_path):
    from musicwb.playlist.build import make_playlist, playlist_context
    from musicwb.playlist.sweeps import sweep

    with Store(library, read_only=True, hold_open=False) as store:
        playlist = make_playlist(playlist_context(store=store), seed_track_id=seed, length=6)
        frame = sweep(playlist_context(store=store), seed_track_ids=[seed], parameter="length",
                      values=[6], progress=False)  # fmt: skip
    cli = json.loads(invoke("playlist", "--seed", str(seed), "--store", str(library),
                            "--length", "6", "--json").stdout)  # fmt: skip
    assert playlist.tracks["track_id"].tolist() == [t["track_id"] for t in cli["tracks"]]
    assert frame["length"].tolist() == [len(playlist)]
    with pytest.raises(ParameterError, match="the store whose artifact"):
        make_playlist(playlist_context(), seed_track_id=seed)
    empty = tmp_path / "none.duckdb"
    with Store(empty) as store, pytest.raises(ParameterError, match="none.artifact.npz") as no:
        make_playlist(playlist_context(store=store), seed_track_id=seed)
    assert f"musicwb artifact build --store {empty}" in str(no.value)
    done = run_cli("playlist", "--seed", "1", "--store", str(empty), cwd=tmp_path)
    assert done.returncode == 2 and f"musicwb artifact build --store {empty}" in done.stderr


def test_tracks_analysed_since_the_build_are_counted_not_refused(library, demo_artifact, seed,
                                                                 tmp_path):  # fmt: skip
    """While `musicwb extract` adds tracks, playlists go on from the artifact and say what it
    lacks; only a change to the artifact's own tracks makes it stale."""
    from musicwb.store.paths import StorePaths

    store = tmp_path / "copy.duckdb"
    shutil.copy(library, store)
    with Store(store) as opened:
        newest = int(opened.scalar("SELECT max(track_id) FROM sonic_features"))
        saved = opened.df("SELECT * FROM sonic_features WHERE track_id = ?", [newest])
        opened.execute("DELETE FROM sonic_features WHERE track_id = ?", [newest])
    built = run_cli("artifact", "build", "--store", str(store), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    with Store(store) as opened:  # as extract writes it, after the build
        opened.insert("sonic_features", saved.assign(extracted_at=dt.datetime(2026, 12, 2)))
    args = ("playlist", "--seed", str(seed), "--store", str(store), "--length", "8")
    done = run_cli(*args, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["diagnostics"]["left_out"]["not_in_artifact"] == 1
    assert newest not in [track["track_id"] for track in result["tracks"]]
    text = run_cli(*args, cwd=tmp_path).stdout
    assert "1 track(s) analysed since the artifact was built (`musicwb artifact build`" in text
    assert StorePaths.of(store).artifact.is_file()
