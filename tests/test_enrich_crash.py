"""Crash safety for real: a worker process killed with SIGKILL at random moments, many times.

The parent builds a library and queues it; each child process (forked from the test, so that
it starts in milliseconds with everything imported) runs the worker with the real label hunter
over a local source (a few milliseconds per search) and is killed with SIGKILL at a random
moment. After the kills a fresh interpreter runs the queue to its end. Then every track must have
exactly one final outcome, the counters must agree with the queue, and every recorded finding
must come from the LAST search made for its track: a track hunted again after its outcome was
committed would have a later search in the source's log.

Run as a script (``python tests/test_enrich_crash.py STORE LOG``) it is that last child.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from test_enrich_queue import LocalSource, hunter_for, make_library

from musicwb.enrich.queue import enqueue_missing_labels, queue_progress
from musicwb.enrich.worker import Worker
from musicwb.store import Store

N_TRACKS = 400
KILLS = 18
SEARCH_DELAY_S = 0.02  # 400 tracks, 2 threads: about 4 s of work, more than the kills take


def labels_and_failures() -> tuple[dict[str, str], set[str]]:
    """Every third track is unknown (a decoy answer), one in fifty fails at the source."""
    labels = {f"Track {i}": f"Label {i % 5}" for i in range(1, N_TRACKS + 1) if i % 3}
    failing = {f"Track {i}" for i in range(1, N_TRACKS + 1) if i % 50 == 7}
    return labels, failing


def child(store_path: str, log_path: str, ready: Any = None) -> None:
    """Run the worker on the store until the queue is empty (or the process is killed)."""
    labels, failing = labels_and_failures()
    source = LocalSource(
        labels, failing=failing, delay_s=SEARCH_DELAY_S, log=Path(log_path), decoy=True
    )
    with Store(store_path) as store:
        worker = Worker(store, hunter_for(source), threads=2, rng=os.getpid())
        worker.start()
        if ready is not None:
            ready.set()
        worker.join()


def _spawn(store: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, str(store), str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_sigkill_at_random_moments_loses_nothing_and_does_nothing_twice(tmp_path: Path) -> None:
    store_path = make_library(tmp_path / "lib.duckdb", N_TRACKS)
    log = tmp_path / "searches.log"
    with Store(store_path) as store:
        assert enqueue_missing_labels(store) == N_TRACKS
    chooser = random.Random(20261122)
    kills = []
    progress_after_kill = []
    fork = multiprocessing.get_context("fork")
    for _ in range(KILLS):
        ready = fork.Event()
        process = fork.Process(target=child, args=(str(store_path), str(log), ready))
        process.start()
        assert ready.wait(60), f"the worker did not start (exit code {process.exitcode})"
        wait_s = chooser.uniform(0.0, 0.25)
        time.sleep(wait_s)
        if not process.is_alive():  # the queue ran out before the kill
            break
        os.kill(process.pid, signal.SIGKILL)
        process.join(60)
        assert process.exitcode == -signal.SIGKILL
        kills.append(wait_s)
        with Store(store_path, read_only=True) as store:
            progress_after_kill.append(queue_progress(store).processed)
    last = _spawn(store_path, log)
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err
    assert len(kills) >= 15, f"the queue ran out after {len(kills)} kills"
    assert progress_after_kill == sorted(progress_after_kill)  # committed work stays committed
    assert progress_after_kill[-1] < N_TRACKS  # the last child had work left

    with Store(store_path, read_only=True) as store:
        queue = store.df("SELECT track_id, state, attempts FROM enrich_queue")
        hunts = store.df("SELECT track_id, status FROM label_hunts")
        findings = store.df("SELECT track_id, catalog, accepted FROM label_findings")
        counters = store.df("SELECT * FROM enrich_worker").iloc[0]
        labelled = store.scalar("SELECT count(*) FROM tracks WHERE label IS NOT NULL")
        parked = store.scalar("SELECT count(*) FROM enrich_cooldown WHERE state = 'waiting'")
    labels, failing = labels_and_failures()
    failing_ids = {int(title.split()[1]) for title in failing}
    found_ids = {int(title.split()[1]) for title in labels} - failing_ids

    # every track finished exactly once, with the right answer
    assert len(queue) == N_TRACKS and "pending" not in set(queue["state"])
    final = hunts[hunts["status"] != "failed"].groupby("track_id").size()
    assert set(final.index) == set(range(1, N_TRACKS + 1)) - failing_ids
    assert set(final) == {1}
    attempts = hunts[hunts["status"] == "failed"].groupby("track_id").size()
    assert set(attempts.index) == failing_ids and set(attempts) == {3}
    states = queue.set_index("track_id")["state"]
    assert set(states[list(found_ids)]) == {"done"}
    assert set(states[list(failing_ids)]) == {"failed"}
    assert labelled == len(found_ids) and parked == N_TRACKS - len(found_ids)

    # the counters, written with each outcome, agree with the queue
    assert int(counters["processed"]) == N_TRACKS
    assert int(counters["enriched"]) == len(found_ids)
    assert int(counters["failed"]) == len(failing_ids)
    assert int(counters["attempt_errors"]) == 3 * len(failing_ids)

    # no track was hunted again after its outcome was recorded
    searches = collections.defaultdict(list)
    for line in log.read_text().splitlines():
        title, token = line.rsplit(" ", 1)
        searches[title.replace("_", " ")].append(token)
    recorded = findings.groupby("track_id")["catalog"].agg(list)
    assert len(recorded) == N_TRACKS - len(failing_ids)
    for track_id, tokens in recorded.items():
        assert len(tokens) == 1, f"track {track_id} has {len(tokens)} findings"
        assert tokens[0] == searches[f"Track {track_id}"][-1], f"track {track_id} hunted again"
    redone = sum(len(v) for v in searches.values()) - len(hunts)
    assert 0 <= redone <= len(kills) * 2 * 256  # hunts lost to a kill (not committed) were redone
    pd.testing.assert_series_equal(
        findings.groupby("accepted").size().sort_index(),
        pd.Series(
            {False: N_TRACKS - len(found_ids) - len(failing_ids), True: len(found_ids)}, name=None
        )
        .rename_axis("accepted")
        .sort_index(),
        check_names=False,
    )


if __name__ == "__main__":
    child(*sys.argv[1:3])
