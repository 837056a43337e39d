"""The enrichment queue and its worker, against the real label hunter and a real store.

The hunter's only tier is :class:`LocalSource`, a zero-latency source following the sources'
protocol: it knows the labels of some titles, knows nothing of others, fails on some, and can
be slowed down. The other test modules of the enrichment import it from here.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from musicwb.enrich.labels import LabelHunter
from musicwb.enrich.queue import (
    LAST_SCAN_PRIORITY,
    MANUAL_PRIORITY,
    MISSING_LABEL_PRIORITY,
    enqueue_last_scan,
    enqueue_missing_labels,
    enqueue_tracks,
    queue_progress,
)
from musicwb.enrich.sources.base import Candidate
from musicwb.enrich.worker import Worker
from musicwb.errors import NotFound, ParameterError, SourceError
from musicwb.store import Store
from musicwb.store.runs import start_run

T0 = datetime(2026, 3, 1, 12, 0, 0)


class LocalSource:
    """A metadata source in memory: ``labels`` maps a title to its label.

    Titles in ``failing`` raise :class:`SourceError` (as a source does after its retries);
    other titles are unknown (an empty answer). ``delay_s`` makes every search take that long;
    a ``gate`` (threading.Event) holds every search until it is set. With ``decoy``, an unknown
    title gets a candidate of another track (a finding kept for review, not accepted).
    When ``log`` names a file, every search appends ``"<track title> <token>"`` to it with one
    ``write`` (an O_APPEND write survives a SIGKILL of the process right after it); the token
    is also the candidate's catalogue number, so a recorded finding names the search it came
    from.
    """

    name = "local"
    max_confidence = 0.95

    def __init__(
        self,
        labels: dict[str, str],
        *,
        failing: set[str] | frozenset[str] = frozenset(),
        delay_s: float = 0.0,
        log: Path | None = None,
        gate: threading.Event | None = None,
        decoy: bool = False,
    ) -> None:
        self.labels = labels
        self.failing = set(failing)
        self.delay_s = delay_s
        self.gate = gate
        self.decoy = decoy
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._tokens = itertools.count()
        self._log = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND) if log else None

    def search(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        with self._lock:
            self.calls.append(title)
            token = f"{os.getpid()}-{next(self._tokens)}"
        if self._log is not None:
            os.write(self._log, f"{title.replace(' ', '_')} {token}\n".encode())
        if self.gate is not None:
            self.gate.wait()
        if self.delay_s:
            time.sleep(self.delay_s)
        if title in self.failing:
            raise SourceError(f"local source: {title!r} failed after its retries")
        label = self.labels.get(title)
        if label is None and self.decoy:
            return [
                Candidate(
                    source="local",
                    source_id="decoy",
                    artist="Someone Else",
                    title="Another Tune",
                    label="Wrong Label",
                    catalog=token,
                )
            ]
        if label is None:
            return []
        return [
            Candidate(
                source="local",
                source_id=title,
                artist=artist,
                title=title,
                label=label,
                catalog=token,
            )
        ]

    def lookup(self, source_id: str):
        raise NotFound(f"local source: no release {source_id}")


def make_library(
    path: Path, n: int, *, added_at: datetime = T0 - timedelta(days=60), labelled: int = 0
) -> Path:
    """A store with ``n`` tracks (ids 1..n, "Track i" by "Artist i%7"); the first ``labelled``
    carry a label from their tags."""
    ids = list(range(1, n + 1))
    with Store(path) as store:
        store.insert(
            "tracks",
            pd.DataFrame(
                {
                    "id": ids,
                    "path": [f"/music/{i:05d}.mp3" for i in ids],
                    "size": 1000,
                    "mtime": 0.0,
                    "content_hash": [f"h{i}" for i in ids],
                    "duration": 300.0,
                    "artist": [f"Artist {i % 7}" for i in ids],
                    "title": [f"Track {i}" for i in ids],
                    "label": [("Tag Label" if i <= labelled else None) for i in ids],
                    "label_source": [("tags" if i <= labelled else None) for i in ids],
                    "added_at": added_at,
                    "updated_at": added_at,
                }
            ),
        )
    return path


def hunter_for(source: LocalSource) -> LabelHunter:
    """The real label hunter with the local source as its only tier."""
    return LabelHunter(tiers=[source], mode="fast")


class Clock:
    """A settable clock for the worker and the cool-down."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return make_library(tmp_path / "lib.duckdb", 30, labelled=3)


# -- enqueue policies ----------------------------------------------------------------------


def test_missing_labels_queues_each_unlabelled_track_once(library: Path) -> None:
    with Store(library) as store:
        assert enqueue_missing_labels(store, now=T0) == 27
        assert enqueue_missing_labels(store, now=T0) == 0  # one row per track
        queued = store.df("SELECT track_id, priority, reason, state FROM enrich_queue")
    assert sorted(queued["track_id"]) == list(range(4, 31))
    assert set(queued["priority"]) == {MISSING_LABEL_PRIORITY}
    assert set(queued["state"]) == {"pending"}


def test_last_scan_and_manual_requeues_come_first(library: Path) -> None:
    with Store(library) as store:
        older = start_run(store, kind="scan", parameters={})
        time.sleep(0.01)
        newer = start_run(store, kind="scan", parameters={})
        store.execute("UPDATE tracks SET added_run = ? WHERE id <= 20", [older])
        store.execute("UPDATE tracks SET added_run = ? WHERE id > 25", [newer])
        enqueue_missing_labels(store, now=T0)
        assert enqueue_last_scan(store, now=T0) == 5  # 26..30 raised to the scan priority
        assert enqueue_tracks(store, [10], now=T0) == 1
        with pytest.raises(ParameterError, match="no track with id 999"):
            enqueue_tracks(store, [999], now=T0)
        rows = dict(store.rows("SELECT track_id, priority FROM enrich_queue"))
        source = LocalSource({})
        Worker(
            store, hunter_for(source), threads=1, batch_size=1, park=False, clock=lambda: T0
        ).run()
    assert rows[10] == MANUAL_PRIORITY and rows[26] == LAST_SCAN_PRIORITY
    assert rows[4] == MISSING_LABEL_PRIORITY
    # the worker took the manual one, then the last scan's, then the rest in queue order
    assert source.calls[:6] == [
        "Track 10",
        "Track 26",
        "Track 27",
        "Track 28",
        "Track 29",
        "Track 30",
    ]
    assert len(source.calls) == 27


# -- the worker ----------------------------------------------------------------------------


def test_worker_records_found_not_found_and_failed(library: Path) -> None:
    labels = {f"Track {i}": f"Label {i % 4}" for i in range(4, 31) if i % 3 == 0}
    failing = {"Track 5", "Track 8"}
    source = LocalSource(labels, failing=failing)
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        progress = Worker(store, hunter_for(source), clock=lambda: T0, rng=1).run()
        states = dict(store.rows("SELECT track_id, state FROM enrich_queue"))
        attempts = dict(store.rows("SELECT track_id, attempts FROM enrich_queue"))
        track_labels = dict(store.rows("SELECT id, label FROM tracks"))
        parked = store.df("SELECT track_id, reason, state FROM enrich_cooldown ORDER BY 1")
        hunts = store.df("SELECT track_id, status FROM label_hunts")
    found = {int(t.split()[1]) for t in labels}
    assert progress.state == "finished" and progress.remaining == 0
    assert progress.enriched == len(found) == 9
    assert progress.failed == 2 and progress.attempt_errors == 6  # 3 attempts each
    assert progress.not_found == 27 - 9 - 2 and progress.processed == 27
    assert all(states[i] == "done" and track_labels[i] == f"Label {i % 4}" for i in found)
    assert states[5] == "failed" and attempts[5] == 3 and source.calls.count("Track 5") == 3
    assert track_labels[1] == "Tag Label"  # never hunted, never touched
    # not found is an answer: once asked, parked in the cool-down at once
    assert source.calls.count("Track 4") == 1 and states[4] == "not_found"
    assert set(parked["track_id"]) == set(range(4, 31)) - found
    assert set(parked.loc[parked["track_id"].isin([5, 8]), "reason"]) == {"failed"}
    assert set(parked["state"]) == {"waiting"}
    assert len(hunts) == 27 + 4  # every hunt, failed attempts too


def test_pause_keeps_the_thread_and_stop_finishes_the_items_in_hand(library: Path) -> None:
    source = LocalSource({f"Track {i}": "Slow Label" for i in range(31)}, delay_s=0.05)
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        worker = Worker(store, hunter_for(source), threads=2).start()
        time.sleep(0.3)
        worker.pause()
        deadline = time.monotonic() + 5
        while worker.state != "paused" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.state == "paused" and worker.is_alive
        paused_at = worker.progress().processed
        calls = len(source.calls)
        time.sleep(0.3)
        assert worker.progress().processed == paused_at == calls  # nothing in hand, nothing lost
        assert 0 < paused_at < 27
        worker.resume()
        time.sleep(0.2)
        worker.stop()
        assert not worker.is_alive and worker.state == "stopped"
        final = worker.progress()
        recorded = store.scalar("SELECT count(*) FROM label_hunts")
        assert final.processed == recorded == len(source.calls) > paused_at
        assert final.remaining == 27 - final.processed
        assert store.scalar("SELECT state FROM enrich_worker") == "stopped"


def test_a_restart_resumes_the_queue_and_the_counters(library: Path) -> None:
    source = LocalSource({f"Track {i}": "L" for i in range(31) if i % 2})
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        first = Worker(store, hunter_for(source), limit=10).run()
    assert first.processed == 10 and first.remaining == 17 and first.state == "stopped"
    with Store(library) as store:  # a new process would see the same
        assert queue_progress(store).processed == 10
        second = Worker(store, hunter_for(source)).run()
        per_track = store.df("SELECT track_id, count(*) AS n FROM label_hunts GROUP BY 1")
    assert second.processed == 27 and second.remaining == 0
    assert second.enriched == len([i for i in range(4, 31) if i % 2])
    assert set(per_track["n"]) == {1} and len(per_track) == 27  # none done twice


def test_the_notebook_reads_while_the_worker_writes_and_a_second_writer_is_refused(
    library: Path,
) -> None:
    gate = threading.Event()
    source = LocalSource({f"Track {i}": "L" for i in range(31)}, delay_s=0.03, gate=gate)
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        worker = Worker(store, hunter_for(source), threads=1).start()
        # another process that wants to write while the worker writes
        other = subprocess.run(
            [sys.executable, "-c", f"from musicwb.store import Store; Store({str(library)!r})"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert worker.is_alive
        gate.set()
        seen = []
        while worker.is_alive:
            seen.append(store.scalar("SELECT count(*) FROM enrich_queue WHERE state <> 'pending'"))
            time.sleep(0.05)
        worker.join()
        assert store.scalar("SELECT count(*) FROM enrich_queue WHERE state = 'pending'") == 0
    assert seen == sorted(seen) and len(set(seen)) > 3 and seen[-1] <= 27
    assert other.returncode != 0
    assert "StoreLockedError" in other.stderr and "is locked" in other.stderr


def test_a_bug_in_the_hunter_stops_the_worker_instead_of_failing_every_item(library: Path) -> None:
    class Broken:
        def hunt(self, track):
            raise KeyError("oops")

    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        worker = Worker(store, Broken(), record=lambda store, outcomes: 0).start()
        with pytest.raises(KeyError):
            worker.join(30)
        assert worker.state == "error"
        assert store.scalar("SELECT count(*) FROM enrich_queue WHERE state = 'pending'") == 27


# -- the dashboard and the report helpers ---------------------------------------------------


def test_dashboard_updates_while_the_worker_runs_and_its_buttons_control_it(
    library: Path,
) -> None:
    from musicwb.enrich.dashboard import Dashboard

    source = LocalSource({f"Track {i}": "L" for i in range(31) if i % 2}, delay_s=0.03)
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        board = Dashboard(Worker(store, hunter_for(source), threads=1), refresh_s=0.05)
        assert board.bar.value == 0.0 and "remaining 27" in board.counts.value
        assert not board.buttons["start"].disabled and board.buttons["pause"].disabled
        board.buttons["start"].click()
        time.sleep(0.4)  # the notebook runs other cells meanwhile; the refresh thread works
        assert 0.0 < board.bar.value < 1.0 and "<b>running</b>" in board.counts.value
        assert board.buttons["start"].disabled and not board.buttons["pause"].disabled
        board.buttons["pause"].click()
        deadline = time.monotonic() + 5
        while "<b>paused</b>" not in board.counts.value and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "<b>paused</b>" in board.counts.value and not board.buttons["resume"].disabled
        board.buttons["resume"].click()
        board.worker.join(30)
        time.sleep(0.15)
        assert board.bar.value == 1.0 and "remaining 0" in board.counts.value
        assert "<b>finished</b>" in board.counts.value and board.bar.bar_style == "success"
    reads = board.worker.progress
    board.worker.progress = lambda: (_ for _ in ()).throw(AssertionError("read while idle"))
    time.sleep(0.2)  # the worker has ended: an idle dashboard leaves the store alone
    assert "<b>finished</b>" in board.counts.value and board._thread.is_alive()
    board.worker.progress = reads
    board.close()  # a last refresh: the store is closed now, and the dashboard says so
    assert "no longer updated" in board.counts.value and not board._thread.is_alive()


def test_report_helpers_run_for_a_budget_and_chart_the_retries(library: Path) -> None:
    from musicwb.enrich.dashboard import (
        cooldown_summary,
        progress_table,
        retry_due_chart,
        run_for_budget,
    )

    source = LocalSource({f"Track {i}": "L" for i in range(31) if i % 3 == 0}, delay_s=0.02)
    with Store(library) as store:
        enqueue_missing_labels(store, now=T0)
        untouched = run_for_budget(store, budget_s=0, hunter=hunter_for(source))
        assert untouched.processed == 0 and untouched.remaining == 27 and source.calls == []
        empty_chart = retry_due_chart(store).to_dict()
        assert "No track is waiting" in str(empty_chart["title"])
        worker = Worker(store, hunter_for(source), threads=1)  # as the dashboard's
        assert run_for_budget(worker, budget_s=0).processed == 0 and source.calls == []
        with pytest.raises(ParameterError, match="not both"):
            run_for_budget(worker, budget_s=1, threads=2)
        partial = run_for_budget(worker, budget_s=0.2)
        assert partial.state == "stopped" and 0 < partial.processed < 27
        assert partial.processed + partial.remaining == 27
        final = run_for_budget(store, budget_s=60, hunter=hunter_for(source), rng=2)
        table = progress_table(final).set_index("measure")["value"]
        summary = cooldown_summary(store)
        chart = retry_due_chart(store).to_dict()
    assert final.state == "finished" and table["remaining"] == "0"
    parked = 27 - 9
    assert summary.loc[0, "total"] == parked and summary.loc[0, "strategy"] == "adaptive"
    data = chart["datasets"][next(iter(chart["datasets"]))]
    assert sum(row["tracks"] for row in data) == parked
    assert len({row["due_date"] for row in data}) > 3  # the jitter spreads the due days


def test_the_default_hunter_is_the_configured_label_hunter(
    library: Path, shared_data: Path
) -> None:
    # conftest points MusicBrainz and Discogs at a local replay server of recorded answers
    assert os.environ["MUSICWB_MUSICBRAINZ_HOST"].startswith("127.0.0.1:")
    with Store(library) as store:
        enqueue_tracks(store, [4, 5], now=T0)
        progress = Worker(store, limit=2).run()
        tried = store.df("SELECT track_id, status, tried FROM label_hunts ORDER BY track_id")
    assert progress.processed == 2 and progress.remaining == 0
    assert tried["track_id"].tolist() == [4, 5]
    assert all(list(t) == ["library", "title", "musicbrainz", "discogs"] for t in tried["tried"])
