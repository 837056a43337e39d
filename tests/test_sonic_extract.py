"""Batch extraction on a few short generated files: safe mode, resume, errors, force, workers.

The files are real audio (written with soundfile, scanned by ``scan_library``); one is
damaged after the scan, the way a file goes bad on a disk. The loky and Dask runs start
worker processes that import librosa, which takes a while on a busy machine: they are
marked ``slow``.
"""

from __future__ import annotations

import json
import os
import shutil
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
from musicwb.errors import ParameterError
from musicwb.library import scan_library
from musicwb.sonic.backups import list_backups
from musicwb.sonic.extract import (
    CRASH_HOOK_VARIABLE,
    extract_library,
    features_frame,
    pending_tracks,
)
from musicwb.sonic.io import read_audio
from musicwb.sonic.towers import EXTRACTOR_VERSION, extract_features
from musicwb.store import Store

SR = 22050


def _click_track(bpm: float, seconds: float, pitch: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    y = 0.1 * np.sin(2 * np.pi * pitch * t)
    period = int(SR * 60 / bpm)
    for start in range(0, len(y) - 400, period):
        y[start : start + 400] += (
            0.6 * np.exp(-np.arange(400) / 60.0) * np.sin(2 * np.pi * 1800 * t[:400])
        )
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A folder of four short tagged-by-name tracks (8 s each)."""
    root = tmp_path_factory.mktemp("sonic_lib")
    for i, (bpm, pitch) in enumerate([(120, 220), (128, 330), (90, 440), (140, 262)]):
        sf.write(root / f"Artist {i % 2} - Track {i}.wav", _click_track(bpm, 8.0, pitch), SR)
    return root


@pytest.fixture(scope="module")
def numba_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("numba_home")


@pytest.fixture
def store(library, tmp_path) -> Store:
    folder = tmp_path / "music"
    shutil.copytree(library, folder)
    with Store(tmp_path / "lib.duckdb") as opened:
        scan_library(opened, folder, progress=False)
        (folder / "Artist 1 - Track 3.wav").write_bytes(b"RIFF not really a wave file")
        yield opened


def test_every_track_gets_features_or_one_error_row_with_its_reason(store, numba_home):
    summary = extract_library(store, progress=False, data_dir=numba_home, batch_size=2)
    assert (summary.pending, summary.analysed, summary.failed) == (4, 3, 1)
    errors = store.df("SELECT * FROM sonic_errors")
    assert len(errors) == 1 and errors["path"][0].endswith("Track 3.wav")
    assert (
        errors["reason"][0].startswith("error:AudioError:") and "Track 3.wav" in errors["reason"][0]
    )
    rows = store.df(
        "SELECT t.path, f.* FROM sonic_features f JOIN tracks t ON t.id = f.track_id ORDER BY t.path"
    )
    assert set(rows["extractor_version"]) == {EXTRACTOR_VERSION}
    # What the batch stored is what the pure extractor computes for that file.
    audio = read_audio(rows["path"][0])
    expected = extract_features(audio.samples, sr=audio.sr)
    np.testing.assert_array_equal(
        np.asarray(rows["vec_full"][0], np.float32), expected.segments["full"]
    )
    np.testing.assert_array_equal(
        np.asarray(rows["vec_end"][0], np.float32), expected.segments["end"]
    )
    assert rows["bpm"][0] == pytest.approx(expected.bpm_info["bpm"])
    assert bool(rows["grid_full"][0]) == expected.fixed_grid["full"]


def test_a_rerun_does_nothing_and_a_changed_file_is_analysed_again(store, numba_home):
    extract_library(store, progress=False, data_dir=numba_home)
    again = extract_library(store, progress=False, data_dir=numba_home)
    assert (again.pending, again.analysed, again.failed, again.up_to_date) == (0, 0, 0, 4)
    # The failed file was fixed: the next scan gives it a new hash, so it is tried again.
    folder = Path(store.scalar("SELECT path FROM tracks LIMIT 1")).parent
    sf.write(folder / "Artist 1 - Track 3.wav", _click_track(100, 8.0, 300), SR)
    scan_library(store, folder, progress=False)
    fixed = extract_library(store, progress=False, data_dir=numba_home)
    assert (fixed.analysed, fixed.failed) == (1, 0)
    assert store.scalar("SELECT count(*) FROM sonic_errors") == 0


def test_an_interrupted_run_keeps_finished_batches_and_the_next_run_resumes(store, numba_home):
    seen = []

    def stop_after_two(result):
        seen.append(result.track_id)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_library(
            store, progress=False, data_dir=numba_home, batch_size=1, on_result=stop_after_two
        )
    assert (
        store.scalar("SELECT count(*) FROM sonic_features")
        + store.scalar("SELECT count(*) FROM sonic_errors")
        == 2
    )
    assert not set(pending_tracks(store)["id"]) & set(seen)
    resumed = extract_library(store, progress=False, data_dir=numba_home)
    assert resumed.pending == 2 and resumed.up_to_date == 2


def test_force_needs_confirmation_and_backs_up_first(store, numba_home, tmp_path):
    extract_library(store, progress=False, data_dir=numba_home)
    before = features_frame(store)
    with pytest.raises(ParameterError, match="confirm"):
        extract_library(store, force=True, progress=False, data_dir=numba_home)
    backups = tmp_path / "backups"
    summary = extract_library(
        store, force=True, confirmed=True, progress=False, data_dir=numba_home, backup_dir=backups
    )
    assert summary.analysed == 3 and summary.backup is not None
    listed = list_backups(backup_dir=backups)
    assert listed["name"].tolist() == [summary.backup] and listed["count"].tolist() == [3]
    assert listed["reason"][0] == "before extract --force"
    np.testing.assert_array_equal(
        features_frame(store).to_numpy(), before.to_numpy()
    )  # deterministic


def test_extract_command_json_and_force_refused_without_yes(store, numba_home, monkeypatch):
    monkeypatch.setenv("MUSICWB_DATA_DIR", str(numba_home))
    path = str(store.path)
    store.close()
    runner = CliRunner()
    done = runner.invoke(app, ["extract", "--store", path, "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["analysed"] == 3 and summary["failed"] == 1 and summary["run_id"]
    assert "Track 3.wav" in summary["errors"][0]["path"]
    done = runner.invoke(app, ["extract", "--store", path, "--force", "--json"])
    assert done.exit_code != 0 and "--yes" in str(done.exception or done.output)


def test_sonic_errors_lists_the_failed_tracks_and_says_when_there_are_none(
    store, numba_home, monkeypatch
):
    monkeypatch.setenv("MUSICWB_DATA_DIR", str(numba_home))
    path = str(store.path)
    store.close()
    runner = CliRunner()
    empty = runner.invoke(app, ["sonic-errors", "--store", path])
    assert empty.exit_code == 0, empty.output
    assert "No sonic errors" in empty.stdout and "none" in empty.stdout
    assert json.loads(runner.invoke(app, ["sonic-errors", "--store", path, "--json"]).stdout) == []
    assert runner.invoke(app, ["extract", "--store", path]).exit_code == 0
    done = runner.invoke(app, ["sonic-errors", "--store", path, "--json"])
    assert done.exit_code == 0, done.output
    [error] = json.loads(done.stdout)
    assert error["path"].endswith("Track 3.wav") and error["reason"].startswith("error:AudioError:")
    assert error["track_id"] and error["recorded_at"] and error["extractor_version"]
    text = runner.invoke(app, ["sonic-errors", "--store", path]).stdout
    assert "error:AudioError:" in text and EXTRACTOR_VERSION in text  # long paths are cut at 60


@pytest.mark.slow
def test_two_loky_workers_give_the_same_features_as_one_process(store, numba_home, tmp_path):
    extract_library(store, progress=False, data_dir=numba_home)
    local = features_frame(store)
    store.execute("DELETE FROM sonic_features")
    summary = extract_library(store, workers=2, progress=False, data_dir=numba_home)
    assert summary.mode == "loky" and summary.analysed == 3
    np.testing.assert_array_equal(features_frame(store).to_numpy(), local.to_numpy())


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_features(store, numba_home):
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install 'musicwb[dask]'"
    )
    extract_library(store, progress=False, data_dir=numba_home)
    local = features_frame(store)
    store.execute("DELETE FROM sonic_features; DELETE FROM sonic_errors")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = extract_library(
            store, scheduler=cluster.scheduler_address, progress=False, data_dir=numba_home
        )
    assert summary.mode == "dask" and (summary.analysed, summary.failed) == (3, 1)
    np.testing.assert_array_equal(features_frame(store).to_numpy(), local.to_numpy())
    with pytest.raises(ParameterError, match="Dask scheduler"):
        extract_library(
            store,
            force=True,
            confirmed=True,
            scheduler="tcp://127.0.0.1:9",
            progress=False,
            data_dir=numba_home,
        )
    assert store.scalar("SELECT count(*) FROM sonic_features") == 3  # nothing deleted


# ------------------------------------------------------------------ crashes, locks (issue 11)

MUSICWB = str(Path(sys.executable).with_name("musicwb"))


def _badaudio_folder(shared_data: Path, root: Path) -> Path:
    """The files of ``audio/badaudio`` plus a 30 s six-channel sine WAV, as the issue had them."""
    folder = root / "music"
    shutil.copytree(shared_data / "audio" / "badaudio", folder)
    t = np.arange(30 * 44100) / 44100
    chord = np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in (220, 330, 440, 550, 660, 770)], 1)
    sf.write(folder / "six channels.wav", chord.astype(np.float32), 44100)
    return folder


def _cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 900):
    return subprocess.run(
        [MUSICWB, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_a_worker_that_dies_gets_its_error_row_and_the_others_are_analysed(
    store, numba_home, monkeypatch
):
    # The worker analysing Track 1 kills itself with SIGSEGV (a real signal, in a real loky
    # process), in the pool and again when it is retried alone.
    monkeypatch.setenv(CRASH_HOOK_VARIABLE, "Track 1.wav")
    summary = extract_library(store, workers=2, progress=False, data_dir=numba_home)
    assert (summary.analysed, summary.failed) == (2, 2) and summary.worker_crashes == 1
    errors = store.df("SELECT path, reason FROM sonic_errors ORDER BY path")
    crashed = errors[errors["path"].str.endswith("Track 1.wav")]["reason"].tolist()
    assert len(crashed) == 1
    assert crashed[0].startswith("error:WorkerCrashed: worker crashed (SIGSEGV)")
    assert "again (SIGSEGV) on this track alone" in crashed[0]
    assert any(reason.startswith("error:WorkerCrashed") for reason in summary.failure_reasons)
    analysed = store.df(
        "SELECT t.path FROM sonic_features f JOIN tracks t ON t.id = f.track_id ORDER BY 1"
    )["path"].tolist()
    assert [Path(p).name for p in analysed] == ["Artist 0 - Track 0.wav", "Artist 0 - Track 2.wav"]


@pytest.mark.slow
def test_cold_cache_two_workers_on_bad_audio_ten_times_then_one_worker_runs_cleanly(
    shared_data, tmp_path
):
    # Issue 11: from a cold numba cache, `extract --workers 2` on these files crashed a worker
    # with SIGSEGV (two processes compiling into one cache), and every later run exited 139.
    folders = []
    for attempt in range(10):
        root = tmp_path / f"try{attempt}"
        folder = _badaudio_folder(shared_data, root)
        assert _cli("scan", str(folder), "--store", "lib.duckdb", cwd=root).returncode == 0
        done = _cli("extract", "--workers", "2", "--store", "lib.duckdb", "--json", cwd=root)
        assert done.returncode == 0, f"attempt {attempt}: {done.returncode}\n{done.stderr[-3000:]}"
        summary = json.loads(done.stdout)
        assert (summary["analysed"], summary["failed"]) == (6, 0), summary
        assert summary["worker_crashes"] == 0
        assert summary["numba_cache"] == str(root / "lib.cache" / "numba")
        assert summary["flagged"] == {"silence": 1, "steady_tone": 3}
        folders.append(root)
    root = folders[-1]
    assert not (root / "data").exists()  # nothing derived lands in the current directory
    again = _cli("extract", "--workers", "1", "--force", "--yes", "--store", "lib.duckdb", cwd=root)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "6 track(s) analysed, 0 failed" in again.stdout


@pytest.mark.slow
def test_readers_get_in_while_extract_runs_in_another_process(shared_data, tmp_path):
    folder = shared_data / "audio" / "realmusic"
    path = tmp_path / "real.duckdb"
    with Store(path) as opened:
        scan_library(opened, folder, metadata_csv=folder / "tracks.csv", progress=False)
    worker = subprocess.Popen(
        [MUSICWB, "extract", "--store", str(path), "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        analysed = 0
        while analysed < 8 and time.monotonic() < deadline:  # the first batch is committed
            time.sleep(1.0)
            with Store(path, read_only=True, hold_open=False, lock_wait_s=10) as reader:
                analysed = reader.scalar("SELECT count(*) FROM sonic_features")
        assert analysed >= 8 and worker.poll() is None, "extract should still be working"
        for _ in range(3):
            done = _cli("tracks", "--json", "--store", str(path), cwd=tmp_path, timeout=120)
            assert done.returncode == 0, done.stderr
            assert len(json.loads(done.stdout)) == 75
        assert worker.poll() is None  # the readers got in while extract was working
    finally:
        worker.kill()
        worker.communicate()


@pytest.mark.slow
def test_a_dask_worker_that_dies_gets_its_error_row_and_the_others_are_analysed(
    store, numba_home, monkeypatch
):
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install 'musicwb[dask]'"
    )
    import dask

    monkeypatch.setenv(CRASH_HOOK_VARIABLE, "Track 1.wav")  # the worker processes inherit it
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        summary = extract_library(
            store, scheduler=cluster.scheduler_address, progress=False, data_dir=numba_home
        )
    assert (summary.analysed, summary.failed) == (2, 2) and summary.worker_crashes == 1
    reason = store.scalar("SELECT reason FROM sonic_errors WHERE path LIKE '%Track 1.wav'")
    assert reason.startswith("error:WorkerCrashed: Dask worker died on every try")


@pytest.mark.slow
def test_tracks_a_dask_worker_held_beside_the_crashing_one_are_not_blamed_for_its_death(
    store, numba_home, monkeypatch
):
    """One worker holds every task (saturation off) and a death is fatal to all it holds
    (allowed-failures 0): the scheduler charges the tracks queued beside the crashing one with
    its death. Run alone again, they are analysed (or fail for their own reason)."""
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install 'musicwb[dask]'"
    )
    import dask

    monkeypatch.setenv(CRASH_HOOK_VARIABLE, "Track 1.wav")
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": float("inf"),
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        summary = extract_library(
            store, scheduler=cluster.scheduler_address, progress=False, data_dir=numba_home
        )
    assert (summary.analysed, summary.failed, summary.worker_crashes) == (2, 2, 1)
    errors = store.df("SELECT path, reason FROM sonic_errors ORDER BY path")
    reasons = dict(zip(errors["path"].map(lambda p: Path(p).name), errors["reason"]))
    assert reasons["Artist 1 - Track 1.wav"].startswith("error:WorkerCrashed: Dask worker died")
    assert reasons["Artist 1 - Track 3.wav"].startswith("error:AudioError:")


@pytest.mark.slow
def test_the_command_isolates_even_one_worker_and_prints_the_failure_reasons(
    store, numba_home, monkeypatch
):
    monkeypatch.setenv(CRASH_HOOK_VARIABLE, "Track 2.wav")
    path = str(store.path)
    store.close()
    done = CliRunner().invoke(app, ["extract", "--store", path])
    assert done.exit_code == 0, done.output
    assert "2 track(s) analysed, 2 failed" in done.stdout and "(loky, 1 worker(s)" in done.stdout
    assert "top failure reasons:" in done.stderr
    assert "1 × error:WorkerCrashed: worker crashed (SIGSEGV)" in done.stderr
    assert "1 × error:AudioError:" in done.stderr and "<file>" in done.stderr
    with Store(path, read_only=True) as reader:
        assert reader.scalar("SELECT count(*) FROM sonic_errors WHERE reason LIKE "
                             "'error:WorkerCrashed%'") == 1


def test_each_live_process_gets_its_own_numba_cache_slot_and_a_crashed_ones_is_cleared(
    tmp_path,
):
    root = tmp_path / "lib.cache" / "numba"
    holder = (
        "import sys, time\n"
        "from musicwb.sonic.numba_cache import acquire_slot\n"
        f"print(acquire_slot({str(root)!r}), flush=True)\n"
        "sys.stdin.readline()\n"
    )
    crasher = (
        "import os, signal\n"
        "from musicwb.sonic.numba_cache import acquire_slot, busy\n"
        f"slot = acquire_slot({str(root)!r})\n"
        "(slot / 'index.nbi').write_text('half-written by a process that crashed')\n"
        "with busy(slot, what='a track'):\n"
        "    os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    first = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == str(root)  # slot 0: the folder itself
        # A second live process never shares the first one's folder.
        crashed = subprocess.run([sys.executable, "-c", crasher], capture_output=True)
        assert crashed.returncode == -signal.SIGSEGV
        second = root.with_name("numba.1")
        assert (second / "index.nbi").is_file() and (second / ".musicwb-busy").is_file()
    finally:
        first.communicate("\n")
    # The next process takes the free slot 0; slot 1, left busy by a crash, is emptied first.
    take = (
        "import sys; from musicwb.sonic.numba_cache import acquire_slot as a; print(a(sys.argv[1]))"
    )
    both = (
        "import subprocess, sys\n"
        f"exec({take!r})\n"
        f"print(subprocess.run([sys.executable, '-c', {take!r}, sys.argv[1]],"
        " capture_output=True, text=True).stdout.strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", both, str(root)], capture_output=True, text=True
    )
    assert done.stdout.split() == [str(root), str(second)], done.stderr
    assert list(second.iterdir()) == []
