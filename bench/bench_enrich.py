"""Benchmark of the enrichment queue's bookkeeping, one JSON line per measurement.

- ``bookkeeping``: the :class:`~musicwb.enrich.queue.Worker` over a queue of tracks with an
  instant hunter (real :class:`HuntOutcome` values, 70% found with a finding, 30% not found),
  so what is timed is the queue: fetching items, the thread pool, and writing outcome, log,
  queue update, cool-down parking and counters in one transaction per batch. Baseline, in the
  same process: the naive loop that commits each item on its own. Target: >= 2,000 items/s.
- ``hunting``: the same with the real label hunter over a zero-latency source (matching with
  rapidfuzz included), for scale; no target.

Each line also gives the process CPU seconds of the measured part: on a shared machine the wall
rate drops with the others' load, the CPU time much less.

Usage: ``python bench/bench_enrich.py [--items 10000] [--naive-items 400]`` (10,000 tracks: the
size of library the issue speaks of).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from musicwb.enrich.labels import HuntOutcome, LabelFinding, LabelHunter, record_outcomes
from musicwb.enrich.queue import Worker, enqueue_missing_labels
from musicwb.enrich.sources.base import Candidate
from musicwb.errors import NotFound
from musicwb.store import Store

TARGET_ITEMS_PER_S = 2000.0
NOW = datetime(2026, 3, 1)


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _library(path: Path, n: int) -> Path:
    ids = list(range(1, n + 1))
    with Store(path) as store:
        store.insert(
            "tracks",
            pd.DataFrame(
                {
                    "id": ids,
                    "path": [f"/music/{i:06d}.mp3" for i in ids],
                    "size": 1000,
                    "mtime": 0.0,
                    "content_hash": [f"h{i}" for i in ids],
                    "duration": 300.0,
                    "artist": [f"Artist {i % 97}" for i in ids],
                    "title": [f"Track {i}" for i in ids],
                    "added_at": NOW - timedelta(days=90),
                    "updated_at": NOW - timedelta(days=90),
                }
            ),
        )
        enqueue_missing_labels(store, now=NOW)
    return path


def _found(track_id: int) -> bool:
    return track_id % 10 < 7


class InstantHunter:
    """Answers at once with the outcome a hunt would give (a finding for 70% of tracks)."""

    def hunt(self, track: dict) -> HuntOutcome:
        track_id = int(track["id"])
        finding = None
        if _found(track_id):
            finding = LabelFinding(
                track_id=track_id,
                label=f"Label {track_id % 13}",
                catalog=f"CAT {track_id}",
                source="bench",
                confidence=0.9,
                evidence="bench: exact artist and title",
                accepted=True,
                parts={"artist": 1.0, "title": 1.0},
                source_id=str(track_id),
                found_at=NOW,
            )
        return HuntOutcome(
            track_id=track_id,
            status="found" if finding else "not_found",
            finding=finding,
            error=None,
            tried=("bench",),
            elapsed_s=0.0,
        )


class ZeroLatencySource:
    """A source in memory that knows 70% of the titles."""

    name = "bench"
    max_confidence = 0.95

    def search(self, artist: str, title: str, *, limit: int = 25) -> list[Candidate]:
        track_id = int(title.split()[-1])
        if not _found(track_id):
            return []
        return [
            Candidate(
                source="bench",
                source_id=title,
                artist=artist,
                title=title,
                label=f"Label {track_id % 13}",
                catalog=f"CAT {track_id}",
            )
        ]

    def lookup(self, source_id: str):
        raise NotFound(f"bench: no release {source_id}")


def _worker_rate(path: Path, hunter: object) -> tuple[float, int, float]:
    with Store(path) as store:
        worker = Worker(store, hunter, threads=2, clock=lambda: NOW, rng=1)
        started, cpu = time.perf_counter(), time.process_time()
        progress = worker.run()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return progress.processed / elapsed, progress.processed, cpu


def _naive_rate(path: Path, hunter: object, n: int) -> float:
    """One transaction per item: hunt, record, update the queue, count; no batching."""
    with Store(path) as store:
        ids = [
            row[0]
            for row in store.rows(
                "SELECT track_id FROM enrich_queue WHERE state = 'pending' ORDER BY track_id LIMIT ?",
                [n],
            )
        ]
        started = time.perf_counter()
        for track_id in ids:
            track = (
                store.df(
                    "SELECT id, path, artist, title, album, label, label_source, duration, added_at "
                    "FROM tracks WHERE id = ?",
                    [track_id],
                )
                .iloc[0]
                .to_dict()
            )
            outcome = hunter.hunt(track)
            state = "done" if outcome.status == "found" else outcome.status
            with store.transaction():
                record_outcomes(store, [outcome])
                store.update(
                    "enrich_queue",
                    pd.DataFrame(
                        {
                            "track_id": [track_id],
                            "state": [state],
                            "attempts": [0],
                            "finished_at": [NOW],
                            "updated_at": [NOW],
                        }
                    ),
                    key=["track_id"],
                )
                store.execute("UPDATE enrich_worker SET processed = processed + 1 WHERE id = 1")
        elapsed = time.perf_counter() - started
    return len(ids) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--naive-items", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        instant = InstantHunter()
        naive = _naive_rate(
            _library(folder / "naive.duckdb", args.naive_items), instant, args.naive_items
        )
        rate, processed, cpu = _worker_rate(_library(folder / "queue.duckdb", args.items), instant)
        _emit(
            {
                "bench": "enrich",
                "measure": "bookkeeping",
                "items": processed,
                "items_per_s": round(rate, 1),
                "cpu_s": round(cpu, 2),
                "baseline": "naive loop, one commit per item (same process)",
                "baseline_items_per_s": round(naive, 1),
                "ratio": round(rate / naive, 2),
                "target_items_per_s": TARGET_ITEMS_PER_S,
                "pass": rate >= TARGET_ITEMS_PER_S,
            }
        )
        hunter = LabelHunter(tiers=[ZeroLatencySource()], mode="fast")
        hunting, processed, cpu = _worker_rate(
            _library(folder / "hunting.duckdb", args.items // 4), hunter
        )
        _emit(
            {
                "bench": "enrich",
                "measure": "hunting",
                "items": processed,
                "items_per_s": round(hunting, 1),
                "cpu_s": round(cpu, 2),
                "baseline": "bookkeeping with an instant hunter (same process)",
                "ratio": round(hunting / rate, 2),
            }
        )


if __name__ == "__main__":
    main()
