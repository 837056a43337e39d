"""Benchmark: metadata sources against the local replay server with scaled-up rate limits.

The replay server (``tests/replay_server.py``) runs in its own process. A hunt runs the label
hunter (fast mode) with MusicBrainz, then with Discogs, for N real tracks (artist and title from
the Beatport list in the shared data), two threads per service as a background worker would run
them, through the real client libraries, the HTTP policy and the store cache. The
replay server allows ``--rate`` requests/s on each service (MusicBrainz: minimum gap
``1/rate``; Discogs: ``rate`` requests per 1 s moving window) and counts every request arriving
above that. Then the same hunt runs again with a fresh cache object on the same store, which
must serve everything. The first run's cache writes in bulk when the hunt ends
(``flush_every=1000``): one commit per answer costs milliseconds of a 50 ms budget at 20
requests/s (at the real 1 request/s it does not matter).

Achieved rate per service is measured on the server's arrival times: ``n − 1`` requests divided
by the time the limit needed to grant them, ``t[n − burst] + window − t[0]``, where ``burst``
is what the limit lets through per ``window`` (1 per ``1/rate`` s for MusicBrainz, ``rate`` per
1 s for Discogs); a perfect client scores just under the allowed rate.

Prints one JSON line:

    {"bench": "sources", "allowed_rate_per_s": 20.0, "achieved_rate_per_s": {...},
     "achieved_fraction": {...}, "violations": {...}, "first_run_requests": {...},
     "second_run_requests": 0, "errors": 0, "pass": true}

Pass: achieved ≥ 90% of the allowed rate on both services, zero violations, zero requests in
the second run. Usage: ``python bench/bench_sources.py [--tracks N] [--rate R] [--workers W]``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from musicwb.enrich.labels import LabelHunter
from musicwb.enrich.sources import (
    DiscogsSource,
    HttpPolicy,
    MusicBrainzSource,
    RateLimit,
    ResponseCache,
)
from musicwb.enrich.tiers import SourceTier
from musicwb.store import Store

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    import os

    return Path(os.environ.get("MUSICWB_TEST_DATA") or REPO.parent / "shared" / "data")


def _tracks(data_dir: Path, n: int) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    with open(data_dir / "titles" / "beatport_metadata.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            pair = (row["ARTIST"].strip(), row["SONG TITLE"].strip())
            if all(pair) and pair not in pairs:
                pairs.append(pair)
            if len(pairs) == n:
                break
    return pairs


def _hunt(source, tracks, errors: list[str], workers: int) -> None:
    """The label hunter with this one source (fast mode: a search, then the release lookup or
    release search when the answer names no label) for every track, on ``workers`` threads
    (so that parsing one answer overlaps waiting for the next slot)."""
    hunter = LabelHunter(tiers=[SourceTier(source)], mode="fast")

    def one(item: tuple[int, tuple[str, str]]) -> None:
        track_id, (artist, title) = item
        outcome = hunter.hunt({"id": track_id, "artist": artist, "title": title})
        if outcome.status == "failed":
            errors.append(outcome.error or "failed")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, enumerate(tracks)))


def _run(sources, tracks, workers: int) -> list[str]:
    """One service after the other: each is measured on its own limit."""
    errors: list[str] = []
    for source in sources:
        _hunt(source, tracks, errors, workers)
    return errors


@contextlib.contextmanager
def _server(data_dir: Path, rate: float, burst: int) -> Iterator[str]:
    """The replay server in its own process (so it does not compete for our GIL); yields its
    base URL."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "replay_server.py"), str(data_dir),
         "--musicbrainz-rate", str(rate), "--discogs-limit", str(burst),
         "--discogs-limit-without-token", str(burst), "--discogs-window", str(burst / rate)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        port = json.loads(process.stdout.readline())["port"]
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _control(host: str, what: str) -> dict:
    with urllib.request.urlopen(f"http://{host}/_control/{what}", timeout=10) as response:
        return json.loads(response.read())


def _achieved(stats: dict, service: str, burst: int, window_s: float) -> float:
    """Requests made per second of the time the limit needed to grant them.

    With at most ``burst`` requests per ``window_s``, the ``n`` requests seen could not have
    been granted before ``t[n - burst] + window_s`` (the moment the window would take one
    more): that span is what a perfect client needs. Counting ``n − 1`` requests in it keeps
    the figure at or below the allowed rate for a perfect client, whatever the phase of its
    bursts.
    """
    times = sorted(at for name, at, _, _ in stats["hits"] if name == service)
    if len(times) <= burst:
        return 0.0
    return (len(times) - 1) / (times[len(times) - burst] + window_s - times[0])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=160)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="threads per service")
    args = parser.parse_args(argv)
    data_dir = _data_dir()
    tracks = _tracks(data_dir, args.tracks)
    rate = args.rate
    burst = {"musicbrainz": 1, "discogs": max(int(rate), 1)}
    with _server(data_dir, rate, burst["discogs"]) as host, tempfile.TemporaryDirectory() as folder:
        policy = HttpPolicy(contact="bench@musicwb.invalid", timeout_s=5.0, backoff_initial_s=0.05)
        with Store(Path(folder) / "bench.duckdb") as store:

            def sources(cache: ResponseCache) -> list:
                musicbrainz = MusicBrainzSource(
                    policy, cache=cache, host=host, use_https=False, limit=RateLimit(1, 1.0 / rate)
                )
                discogs = DiscogsSource(
                    policy,
                    cache=cache,
                    token="bench-token",
                    base_url=f"http://{host}/discogs",
                    limit=RateLimit(burst["discogs"], burst["discogs"] / rate),
                    window_s=burst["discogs"] / rate,
                )
                return [musicbrainz, discogs]

            with ResponseCache(store, flush_every=1000) as cache:
                started = time.perf_counter()
                errors = _run(sources(cache), tracks, args.workers)
                first_seconds = time.perf_counter() - started
            stats = _control(host, "stats")
            first = stats["requests"]
            achieved = {
                s: _achieved(stats, s, burst[s], burst[s] / rate) for s in ("musicbrainz", "discogs")
            }
            violations = {s: stats["violations"].get(s, 0) for s in ("musicbrainz", "discogs")}
            _control(host, "reset")
            # The second run reads a fresh cache object: everything must come from the store.
            errors += _run(sources(ResponseCache(store)), tracks, args.workers)
            second = sum(_control(host, "stats")["requests"].values())
    fraction = {s: round(v / rate, 3) for s, v in achieved.items()}
    result = {
        "bench": "sources",
        "tracks": len(tracks),
        "allowed_rate_per_s": rate,
        "achieved_rate_per_s": {s: round(v, 2) for s, v in achieved.items()},
        "achieved_fraction": fraction,
        "violations": violations,
        "first_run_requests": first,
        "first_run_s": round(first_seconds, 2),
        "second_run_requests": second,
        "errors": len(errors),
        "pass": all(f >= 0.9 for f in fraction.values())
        and not any(violations.values())
        and second == 0
        and not errors,
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["pass"] else 1)
