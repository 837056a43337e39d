"""Readers are not locked out while ``enrich run`` works, and a killed worker shows as stopped.

Two real processes: ``musicwb enrich run`` hunts labels through MusicBrainz (the local replay
server with the real recorded answers, at MusicBrainz' own one request per second), and while it
works ``enrich status --json`` and ``tracks --json`` run as separate processes and succeed.
Then the worker is killed with SIGKILL: its row in the store still says ``running``, and
``enrich status`` must say the worker is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from replay_server import ReplayServer, replay_server  # noqa: F401 (fixture)
from test_enrich_queue import make_library

from musicwb.store import Store

CLI = [sys.executable, "-c", "import musicwb.cli.enrich; from musicwb.cli import main; main()"]
N_TRACKS = 30


def service_env(server: ReplayServer) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MUSICWB_")}
    return env | {
        "MUSICWB_MUSICBRAINZ_HOST": server.musicbrainz_host,
        "MUSICWB_MUSICBRAINZ_HTTPS": "false",
        "MUSICWB_MUSICBRAINZ_RATE_PER_S": "1",
        "MUSICWB_DISCOGS_BASE_URL": server.discogs_base_url,
    }


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_readers_get_in_while_enrich_run_works_and_a_killed_worker_shows_as_stopped(
    tmp_path: Path,
    replay_server: ReplayServer,  # noqa: F811
) -> None:
    store = make_library(tmp_path / "lib.duckdb", N_TRACKS)
    env = service_env(replay_server)
    at = ["--store", str(store)]
    worker = subprocess.Popen(
        [*CLI, "enrich", "run", "--sources", "musicbrainz", "--threads", "1", *at],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(replay_server.hits("musicbrainz")) < 2 and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()[1]
            time.sleep(0.05)

        seen = []
        for _ in range(3):  # the worker commits between these reads
            status = cli("enrich", "status", "--json", *at, env=env, cwd=tmp_path)
            assert status.returncode == 0, status.stderr
            progress = json.loads(status.stdout)
            assert progress["state"] == "running" and progress["pid"] == worker.pid
            assert progress["detail"] is None
            seen.append(progress["processed"])
            tracks = cli("tracks", "--json", *at, env=env, cwd=tmp_path)
            assert tracks.returncode == 0, tracks.stderr
            assert len(json.loads(tracks.stdout)) == N_TRACKS

        one = ["enrich", "run", "--limit", "1", "--sources", "title", *at]
        second = cli(*one, env=env, cwd=tmp_path)
        assert second.returncode != 0
        assert f"PID {worker.pid}" in second.stderr and "already" in second.stderr, second.stderr
        assert worker.poll() is None, "the worker stopped before the kill"
        asked = len(replay_server.hits("musicbrainz"))
        assert asked >= 4  # it kept working while the others read
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=60)
    assert worker.returncode == -signal.SIGKILL

    with Store(store, read_only=True) as opened:
        recorded = opened.rows("SELECT state, pid FROM enrich_worker")[0]
        processed = opened.scalar("SELECT processed FROM enrich_worker")
    assert recorded == ("running", worker.pid)  # what a SIGKILL leaves behind
    assert seen == sorted(seen) and processed >= seen[-1]

    status = cli("enrich", "status", "--json", *at, env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    progress = json.loads(status.stdout)
    assert progress["state"] == "stopped"
    assert progress["detail"] == f"worker PID {worker.pid} is gone"
    text = cli("enrich", "status", *at, env=env, cwd=tmp_path).stdout
    assert text.startswith(f"stopped (worker PID {worker.pid} is gone): ")

    # the dead worker does not block the next run, which records its own process
    again = cli(*one, "--json", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["state"] == "stopped"
    with Store(store, read_only=True) as opened:
        state, pid = opened.rows("SELECT state, pid FROM enrich_worker")[0]
    assert state == "stopped" and pid not in (None, worker.pid)
