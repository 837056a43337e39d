"""Building the demo: reuse of an earlier build, rendering a deleted file again, refusing a
folder of another seed or with foreign files, rebuilding with force or a new generator version.

These tests copy the session's demo store (the ``demo_store`` fixture of conftest.py) before
they write to it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from musicwb.demo import MARKER, build_demo, plan_library
from musicwb.demo.build import _prepare_folder
from musicwb.errors import ParameterError
from musicwb.sonic.io import read_audio
from musicwb.store import Store


@pytest.fixture(scope="module")
def demo_dir(demo_store: Path) -> Path:
    return demo_store.parent / "demo"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_TABLES = ("tracks", "tracklist_sets", "tracklist_entries", "tracklist_truth")


def test_second_build_reuses_audio_and_changes_no_rows(
    demo_store: Path, demo_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_store, copy)
    before_hashes = {p: _sha256(p) for p in sorted((demo_dir / "library").rglob("*.*"))}
    with Store(copy) as store:
        before = {t: store.df(f"SELECT * FROM {t}") for t in _TABLES}
        capfd.readouterr()
        summary = build_demo(store=store, out_dir=demo_dir, seed=7, progress=False)
        assert capfd.readouterr().err == ""  # no bars: stdout may carry JSON, stderr stays quiet
        after = {t: store.df(f"SELECT * FROM {t}") for t in _TABLES}
    assert summary.built is False
    assert summary.duration_s < 30
    for table in _TABLES[1:]:
        pd.testing.assert_frame_equal(
            before[table].sort_values(list(before[table].columns[:2])).reset_index(drop=True),
            after[table].sort_values(list(after[table].columns[:2])).reset_index(drop=True),
        )
    assert len(after["tracks"]) == len(before["tracks"])
    assert after["tracks"].path.is_unique
    assert {p: _sha256(p) for p in before_hashes} == before_hashes
    assert summary.as_dict()["tracks"] == 150 and "reused" in summary.describe()


def test_a_deleted_file_is_rendered_again_identically(
    demo_store: Path, demo_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir, folder)
    plan = plan_library(7)
    victim = folder / plan[5].path
    expected = _sha256(victim)
    victim.unlink()
    with Store(tmp_path / "fresh.duckdb") as store:
        capfd.readouterr()
        summary = build_demo(store=store, out_dir=folder, seed=7)
        bars = capfd.readouterr().err
        assert store.scalar("SELECT count(*) FROM tracks") == len(plan)
        runs = store.df("SELECT kind, status FROM runs ORDER BY started_at")
    assert summary.built is True
    assert "demo audio: 100%" in bars and "1/1" in bars  # the one missing file, on stderr
    assert "scan" in bars
    assert _sha256(victim) == expected
    assert ("demo", "ok") in set(zip(runs.kind, runs.status))
    assert not list(folder.rglob("*.part"))


def test_another_seed_in_a_built_folder_is_refused(
    demo_store: Path, demo_dir: Path, tmp_path: Path
) -> None:
    marker = (demo_dir / MARKER).read_text()
    with Store(tmp_path / "other.duckdb") as store, pytest.raises(ParameterError, match="seed 7"):
        build_demo(store=store, out_dir=demo_dir, seed=8)
    assert (demo_dir / MARKER).read_text() == marker
    assert json.loads(marker)["complete"] is True


@pytest.mark.slow
def test_force_rebuilds_another_seed_and_forgets_the_old_tracks(
    demo_store: Path, demo_dir: Path, tmp_path: Path
) -> None:
    folder, copy = tmp_path / "demo", tmp_path / "copy.duckdb"
    shutil.copytree(demo_dir, folder)
    shutil.copy(demo_store, copy)
    with Store(copy) as store:
        store.execute(
            "UPDATE tracks SET path = replace(path, ?, ?)",
            [str(demo_dir.resolve()), str(folder.resolve())],
        )
        summary = build_demo(store=store, out_dir=folder, seed=8, force=True)
        paths = set(store.df("SELECT path FROM tracks").path)
        sets = store.df("SELECT set_id FROM tracklist_sets")
    assert summary.built is True and summary.seed == 8
    assert json.loads((folder / MARKER).read_text())["seed"] == 8
    expected = {str(folder.resolve() / t.path) for t in plan_library(8)}
    assert paths == expected
    assert sorted(
        p.relative_to(folder).as_posix() for p in (folder / "library").rglob("*.*")
    ) == sorted(t.path for t in plan_library(8))
    assert sets.set_id.is_unique and len(sets) == summary.sets


def test_a_build_by_another_generator_version_is_replaced(tmp_path: Path) -> None:
    old_file = tmp_path / "library" / "Old Artist" / "old.wav"
    old_file.parent.mkdir(parents=True)
    old_file.write_bytes(b"RIFF")
    marker = {"seed": 7, "version": "0", "files": ["library/Old Artist/old.wav"], "complete": True}
    (tmp_path / MARKER).write_text(json.dumps(marker))
    assert _prepare_folder(tmp_path, seed=7, force=False) == ["library/Old Artist/old.wav"]
    assert not old_file.exists() and not (tmp_path / MARKER).exists()


def test_a_folder_with_foreign_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "mine.mp3").write_bytes(b"not the demo")
    with (
        Store(tmp_path / "s.duckdb") as store,
        pytest.raises(ParameterError, match="not a demo build"),
    ):
        build_demo(store=store, out_dir=tmp_path, seed=7)
    assert (tmp_path / "library" / "mine.mp3").read_bytes() == b"not the demo"


def _real_library_store(tmp_path: Path) -> Path:
    """A store holding one track that is not the demo's (a real user's library)."""
    import numpy as np
    import soundfile as sf

    from musicwb.library import scan_library

    music = tmp_path / "music"
    music.mkdir()
    tone = 0.2 * np.sin(2 * np.pi * 220 * np.arange(22050 * 3) / 22050)
    sf.write(music / "Real Artist - Real Track.wav", tone, 22050)
    path = tmp_path / "real.duckdb"
    with Store(path) as store:
        scan_library(store, music, metadata_csv=None, progress=False)
    return path


def test_a_store_holding_a_real_library_is_refused_and_left_as_it_was(
    demo_dir: Path, tmp_path: Path
) -> None:
    real = _real_library_store(tmp_path)
    with Store(real) as store:
        before = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in (*_TABLES, "runs")}
        with pytest.raises(ParameterError, match="1 tracks that are not the demo's"):
            build_demo(store=store, out_dir=demo_dir, seed=7, progress=False)
        after = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in (*_TABLES, "runs")}
        assert after == before
        summary = build_demo(
            store=store, out_dir=demo_dir, seed=7, progress=False, into_existing=True
        )
        assert store.scalar("SELECT count(*) FROM tracks") == summary.tracks + 1


def test_the_demo_command_builds_its_own_store_and_ignores_the_configured_one(
    demo_dir: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    real = _real_library_store(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data / "demo")  # reused: only the scan runs
    env = {**os.environ, "MUSICWB_STORE": str(real), "MUSICWB_DATA_DIR": str(data)}
    command = [str(Path(sys.executable).parent / "musicwb"), "demo", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["store"] == str(data / "demo.duckdb")
    with Store(real, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tracks") == 1
        assert store.scalar("SELECT count(*) FROM tracklist_sets") == 0
    with Store(data / "demo.duckdb", read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tracks") == 150

    refused = subprocess.run(
        [*command, "--store", str(real)], env=env, capture_output=True, text=True, timeout=300
    )
    assert refused.returncode == 2 and "--into-existing" in refused.stderr


def test_demo_mp3s_decode_without_decoder_errors(
    demo_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # libmpg123 prints its complaints on file descriptor 2, below Python's sys.stderr.
    mp3s = sorted((demo_dir / "library").rglob("*.mp3"))
    assert mp3s
    capfd.readouterr()
    for path in mp3s:
        assert read_audio(path).duration_s > 20  # block by block, as extraction reads
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
