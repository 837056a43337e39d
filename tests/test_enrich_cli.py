"""``musicwb enrich queue|run|status`` and ``musicwb cooldown migrate|process|stats``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from replay_server import ReplayServer, replay_server  # noqa: F401 (fixture)
from test_enrich_queue import make_library
from typer.testing import CliRunner

import musicwb.cli.enrich  # noqa: F401  (registers the commands until cli/__init__ imports it)
from musicwb.cli import app
from musicwb.store import Store

STATUS_KEYS = {
    "state",
    "processed",
    "enriched",
    "not_found",
    "failed",
    "attempt_errors",
    "remaining",
    "rate_per_s",
    "eta_s",
    "pid",
    "host",
    "detail",
}


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = make_library(tmp_path / "lib.duckdb", 30, labelled=3)
    with Store(path) as store:
        # tracks 1..10 share an artist and an album; 1..3 carry the user's label
        store.execute(
            "UPDATE tracks SET artist = 'Shared Artist', album = 'Shared Album' WHERE id <= 10"
        )
    return path


def test_queue_run_status_and_the_cooldown_from_the_command_line(library: Path) -> None:
    store = ["--store", str(library)]
    queued = json.loads(
        invoke("enrich", "queue", "--missing-labels", "--track", "2", *store, "--json").stdout
    )
    assert queued == {"queued": {"manual": 1, "missing_labels": 27}, "remaining": 28}

    ran = json.loads(
        invoke(
            "enrich",
            "run",
            "--sources",
            "library,title",
            "--limit",
            "12",
            "--no-enqueue",
            *store,
            "--json",
        ).stdout
    )
    assert STATUS_KEYS <= set(ran) and ran["run_id"]
    assert ran["processed"] == 12 and ran["remaining"] == 16 and ran["state"] == "stopped"
    assert ran["enriched"] >= 7  # the shared album's tracks 4..10 (and 2, asked by hand)

    status = json.loads(invoke("enrich", "status", *store, "--json").stdout)
    assert set(status) == STATUS_KEYS
    assert {k: status[k] for k in ("processed", "enriched", "remaining")} == {
        k: ran[k] for k in ("processed", "enriched", "remaining")
    }
    text = invoke("enrich", "status", *store).stdout
    assert "12 processed" in text and "16 remaining" in text

    ran = json.loads(invoke("enrich", "run", "--sources", "library,title", *store, "--json").stdout)
    assert ran["processed"] == 28 and ran["remaining"] == 0 and ran["state"] == "finished"

    stats = json.loads(invoke("cooldown", "stats", *store, "--json").stdout)
    parked = ran["not_found"] + ran["failed"]
    assert stats["total"] == stats["waiting"] == parked > 0 and stats["ready"] == 0
    assert stats["strategies"][0]["strategy"] == "adaptive"
    assert {"next_retry_at", "average_retries", "permanently_failed"} <= set(stats)
    assert json.loads(invoke("cooldown", "migrate", *store, "--json").stdout) == {"parked": 0}
    assert json.loads(invoke("cooldown", "process", *store, "--json").stdout) == {
        "requeued": 0,
        "failure_reasons": {},
    }

    with Store(library) as opened:  # as if the retries were due, and one entry was lost
        opened.execute("UPDATE enrich_cooldown SET next_retry_at = TIMESTAMP '2000-01-01'")
        opened.execute(
            "DELETE FROM enrich_cooldown WHERE track_id = (SELECT min(track_id) "
            "FROM enrich_cooldown)"
        )
    migrated = json.loads(
        invoke("cooldown", "migrate", "--strategy", "fixed", *store, "--json").stdout
    )
    assert migrated == {"parked": 1}
    requeued = json.loads(invoke("cooldown", "process", *store, "--json").stdout)
    assert requeued == {"requeued": parked - 1, "failure_reasons": {}}  # none failed
    text = invoke("cooldown", "stats", *store).stdout
    assert "fixed" in text and "adaptive" in text


def test_bad_options_are_clear_errors(library: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["enrich", "queue", "--store", str(library)])
    assert result.exit_code != 0 and "say what to queue" in str(result.exception)
    result = runner.invoke(app, ["enrich", "run", "--sources", "nowhere", "--store", str(library)])
    assert result.exit_code != 0 and "unknown label source" in str(result.exception)
    result = runner.invoke(
        app, ["cooldown", "migrate", "--strategy", "weekly", "--store", str(library)]
    )
    assert result.exit_code != 0 and "strategy must be one of" in str(result.exception)


def test_ctrl_c_finishes_the_item_in_hand_and_saves_the_state(
    library: Path,
    replay_server: ReplayServer,  # noqa: F811
) -> None:
    # MusicBrainz as it is: one request a second (the session's fast test settings left out)
    env = {name: value for name, value in os.environ.items() if not name.startswith("MUSICWB_")}
    env |= {
        "MUSICWB_MUSICBRAINZ_HOST": replay_server.musicbrainz_host,
        "MUSICWB_MUSICBRAINZ_HTTPS": "false",
        "MUSICWB_MUSICBRAINZ_RATE_PER_S": "1",
    }
    command = [
        sys.executable,
        "-c",
        "import musicwb.cli.enrich; from musicwb.cli import main; main()",
        "enrich",
        "run",
        "--sources",
        "musicbrainz",
        "--threads",
        "1",
        "--store",
        str(library),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while len(replay_server.hits("musicbrainz")) < 3 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err
    asked = len(replay_server.hits("musicbrainz"))
    with Store(library, read_only=True) as store:
        state = store.scalar("SELECT state FROM enrich_worker")
        processed = store.scalar("SELECT processed FROM enrich_worker")
        hunts = store.scalar("SELECT count(*) FROM label_hunts")
        pending = store.scalar("SELECT count(*) FROM enrich_queue WHERE state = 'pending'")
        run = store.df("SELECT status, summary FROM runs WHERE kind = 'enrich'")
    assert state == "stopped" and processed >= 1
    assert hunts == processed and pending == 27 - processed  # the item in hand was written
    assert run["status"].tolist() == ["interrupted"]
    assert json.loads(run["summary"][0])["processed"] == processed
    assert replay_server.hits("musicbrainz", outcome="violation") == []  # 1 request/s kept
    assert asked <= 2 * processed + 4
