"""Sources that cannot be reached fail fast and say why (issue 11, point 6).

Offline, a DNS failure or a refused connection used to be retried five times with backoff for
every track (46 s for three tracks) and the summary said only "3 failed". Now the HTTP policy
retries such an answer once, marks the host down for the rest of the run, and every later
request fails at once with the same reason; every summary prints the reasons with counts.

The hosts are really unreachable: ``musicbrainz.invalid`` (a reserved name that never resolves)
and a local port nobody listens on. The commands run as real subprocesses with the default
retry settings (5 tries, backoff from 1 s), so a wall-time bound catches a return of the
retries.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from test_enrich_queue import make_library

from musicwb.enrich.sources import HttpPolicy, MusicBrainzSource, RateLimit
from musicwb.enrich.sources.discogs import DiscogsSource
from musicwb.enrich.sources.http import Failure, SourceUnreachable
from musicwb.errors import RateLimited, SourceError
from musicwb.store import Store

REPO = Path(__file__).resolve().parent.parent
MB_HOST = "musicbrainz.invalid"
CLI = [sys.executable, "-c", "import musicwb.cli.enrich; from musicwb.cli import main; main()"]


def closed_port() -> int:
    """A local TCP port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def offline_env(port: int) -> dict[str, str]:
    """The user's environment without the tests' fast retry settings, the services unreachable."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MUSICWB_")}
    return env | {
        "MUSICWB_MUSICBRAINZ_HOST": MB_HOST,
        "MUSICWB_MUSICBRAINZ_HTTPS": "false",
        "MUSICWB_DISCOGS_BASE_URL": f"http://127.0.0.1:{port}/discogs",
    }


def run_cli(
    *args: str, env: dict[str, str], cwd: Path
) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done, time.monotonic() - started


def reason_lines(stderr: str) -> dict[str, int]:
    """The ``echo_failure_reasons`` lines of a command's stderr: reason -> count."""
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"^\s+(\d+) × (.+)$", line)
        if match:
            found[match[2]] = int(match[1])
    return found


def test_hunt_labels_offline_fails_fast_and_prints_the_reasons(tmp_path: Path) -> None:
    store = make_library(tmp_path / "lib.duckdb", 5)
    port = closed_port()
    done, took = run_cli(
        "hunt-labels", "--limit", "3", "--mode", "fast", "--store", str(store), "--json",
        env=offline_env(port), cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert took < 15, f"3 tracks offline took {took:.1f} s (retries with backoff are back?)"

    summary = json.loads(done.stdout)
    assert {"processed", "labels_found", "by_source", "failed", "success_rate"} <= set(summary)
    assert summary["processed"] == 3 and summary["failed"] == 3 and summary["not_found"] == 0
    reasons = reason_lines(done.stderr)
    mb = [r for r in reasons if r.startswith(f"MusicBrainz: cannot reach {MB_HOST} (")]
    assert len(mb) == 1 and reasons[mb[0]] == 3, done.stderr
    assert reasons[f"Discogs: cannot reach 127.0.0.1:{port} (Connection refused)"] == 3
    assert summary["failure_reasons"] == reasons
    assert "top failure reasons" in done.stderr

    with Store(store, read_only=True) as opened:
        hunts = opened.df("SELECT status, reasons, error FROM label_hunts ORDER BY track_id")
    # unreachable is a failure to retry later, never "not found"
    assert hunts["status"].tolist() == ["failed"] * 3
    assert [sorted(r) for r in hunts["reasons"]] == [sorted(reasons)] * 3
    assert all("marked down" in e or "not asked again" in e for e in hunts["error"])


def test_an_unreachable_host_is_asked_once_more_then_not_again_in_the_run() -> None:
    port = closed_port()
    pauses: list[float] = []
    fast = RateLimit(1000, 1.0)  # the limiter does not wait: every pause is the policy's own
    policy = HttpPolicy(
        contact="tests@musicwb.invalid", max_tries=5, backoff_initial_s=10.0,
        limits={f"musicbrainz@127.0.0.1:{port}": fast, f"discogs@{MB_HOST}": fast},
        sleep=pauses.append,  # no real waiting; the pauses asked for are recorded
    )
    musicbrainz = MusicBrainzSource(policy, host=f"127.0.0.1:{port}", use_https=False)
    discogs = DiscogsSource(policy, base_url=f"http://{MB_HOST}/api")

    with pytest.raises(SourceUnreachable) as first:
        musicbrainz.search("Dynamo Go", "Thief of Hearts")
    key = musicbrainz.rate_key
    assert policy.attempts[key] == 2  # the first answer and one quick retry, no backoff
    assert pauses == [policy.quick_retry_s]
    assert first.value.reason == f"MusicBrainz: cannot reach 127.0.0.1:{port} (Connection refused)"
    assert "Dynamo Go" in str(first.value)  # the message names the request, the reason does not

    started = time.monotonic()
    for title in ("One", "Two", "Three"):
        with pytest.raises(SourceUnreachable) as later:
            musicbrainz.search("Someone", title)
        assert later.value.reason == first.value.reason and title in str(later.value)
    assert time.monotonic() - started < 0.5 and policy.attempts[key] == 2  # asked nothing
    assert isinstance(later.value, SourceError)

    with pytest.raises(SourceUnreachable) as dns:  # another host of the policy: its own verdict
        discogs.search("The Persuader", "Östermalm")
    assert dns.value.reason.startswith(f"Discogs: cannot reach {MB_HOST} (")
    assert policy.attempts[discogs.rate_key] == 2
    assert set(policy.unreachable) == {key, discogs.rate_key}

    policy.reset_unreachable()  # a new run asks again
    with pytest.raises(SourceUnreachable):
        musicbrainz.search("Dynamo Go", "Thief of Hearts")
    assert policy.attempts[key] == 4


def test_enrich_run_offline_fails_fast_keeps_the_queue_and_prints_the_reasons(
    tmp_path: Path,
) -> None:
    store = make_library(tmp_path / "lib.duckdb", 3)
    port = closed_port()
    env = offline_env(port)
    refused = f"Discogs: cannot reach 127.0.0.1:{port} (Connection refused)"
    run = ["enrich", "run", "--sources", "musicbrainz,discogs", "--mode", "fast", "--store",
           str(store), "--json"]  # fmt: skip
    for attempt in (1, 2, 3):  # three runs while offline (each item gets three attempts)
        done, took = run_cli(*run, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert took < 15, f"enrich run offline took {took:.1f} s"
        ran = json.loads(done.stdout)
        reasons = reason_lines(done.stderr)
        assert reasons[refused] == 3 and ran["failure_reasons"] == reasons
        assert [n for r, n in reasons.items() if r.startswith("MusicBrainz: cannot reach")] == [3]
        assert ran["attempt_errors"] == 3 * attempt and ran["not_found"] == 0
        if attempt < 3:
            # one attempt per item and run: the rest of the run would find the hosts down too
            assert ran["processed"] == 0 and ran["remaining"] == 3 and ran["deferred"] == 3
            assert ran["state"] == "stopped" and "left pending for the next run" in done.stderr
    assert ran["processed"] == ran["failed"] == 3 and ran["remaining"] == 0

    with Store(store) as opened:
        queue = opened.df("SELECT state, attempts FROM enrich_queue")
        hunts = opened.df("SELECT status FROM label_hunts")
        parked = opened.df("SELECT reason FROM enrich_cooldown")
        assert set(queue["state"]) == {"failed"} and set(queue["attempts"]) == {3}
        assert hunts["status"].tolist() == ["failed"] * 9
        assert parked["reason"].tolist() == ["failed"] * 3  # to be retried, not "not found"
        opened.execute("UPDATE enrich_cooldown SET next_retry_at = ?", [datetime(2000, 1, 1)])

    done, _ = run_cli("cooldown", "process", "--store", str(store), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "re-queued 3 track(s)" in done.stdout
    assert reason_lines(done.stderr)[refused] == 3


def test_load_and_faults_are_still_retried_and_never_mark_a_host_down() -> None:
    pauses: list[float] = []
    policy = HttpPolicy(
        contact="tests@musicwb.invalid", max_tries=5, backoff_initial_s=0.5,
        limits={"svc@host": RateLimit(1000, 1.0)}, sleep=pauses.append,
    )  # fmt: skip

    class Busy(Exception):
        pass

    class Refused(Exception):
        pass

    def classify(exc: BaseException) -> Failure | None:
        if isinstance(exc, Busy):
            return Failure("HTTP 503", retry=True, error=RateLimited)
        if isinstance(exc, Refused):
            return Failure("Connection refused", retry=True, unreachable=True)
        return None

    def busy() -> str:
        raise Busy

    for _ in range(2):  # 503 until the last try, twice: five tries each time, with backoff
        with pytest.raises(RateLimited) as exc:
            policy.call("svc@host", "Test fetch", busy, classify=classify, service="Svc")
        assert exc.value.reason == "Svc: HTTP 503 after 5 tries"
    assert policy.attempts["svc@host"] == 10 and policy.unreachable == {}
    assert policy.quick_retry_s not in pauses  # backoff, not the quick retry

    answers = iter([Refused(), "pong"])  # refused once, then the quick retry gets through

    def flaky() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    pauses.clear()
    assert policy.call("svc@host", "Test fetch", flaky, classify=classify) == "pong"
    assert pauses == [policy.quick_retry_s] and policy.unreachable == {}
