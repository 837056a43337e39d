"""Benchmarks of the playlist core on synthetic artifacts, one JSON line each.

The artifacts are realistic in shape: artists with a skewed number of tracks (a few with
hundreds, most with a handful), 400 genres in 20 families (1-3 per track, 10% untagged), and
48-dimensional L2-normalised embeddings built from family, artist and track parts, with start
and end segments near the full track.

- ``pool_32k``: :func:`build_pool` per seed on 32,000 tracks (warm: the artifact's derived
  arrays are cached by the first call), against the per-candidate Python loop of
  ``bench/reference_pool.py`` measured in the same process. Target: ≤ 50 ms per seed.
- ``playlist_32k``: pool + 30-track playlist (:func:`make_playlist` on a prepared context).
  Target: ≤ 150 ms per seed.
- ``pool_1m``: :func:`build_pool` per seed on 1,000,000 tracks (the reference loop on one
  seed). Target: ≤ 1 s.

Usage: ``python bench/bench_playlist.py [--seeds 20] [--only pool_32k,playlist_32k,pool_1m]
[--no-reference-1m]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from reference_pool import reference_pool

from musicwb.playlist.build import make_playlist, playlist_context
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import build_pool, library_of

TARGETS = {"pool_32k_ms": 50.0, "playlist_32k_ms": 150.0, "pool_1m_ms": 1000.0}
DIM = 48
N_FAMILIES = 20
GENRES_PER_FAMILY = 20


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def synthetic_artifact(n: int, *, seed: int = 0, segments: bool = True) -> dict[str, np.ndarray]:
    """A synthetic artifact of ``n`` tracks (see the module); arrays as ``load_artifact`` gives."""
    rng = np.random.default_rng(seed)
    n_artists = max(n // 12, 10)
    # Skewed artist sizes: weight 1/rank**0.9.
    weights = 1.0 / np.arange(1, n_artists + 1) ** 0.9
    artist = rng.choice(n_artists, size=n, p=weights / weights.sum())
    family_of_artist = rng.integers(0, N_FAMILIES, n_artists)
    main_genre = family_of_artist * GENRES_PER_FAMILY + rng.integers(
        0, GENRES_PER_FAMILY, n_artists
    )

    family_centres = rng.normal(size=(N_FAMILIES, DIM)).astype(np.float32)
    artist_centres = (
        family_centres[family_of_artist] + 0.9 * rng.normal(size=(n_artists, DIM))
    ).astype(np.float32)
    full = artist_centres[artist] + 1.1 * rng.normal(size=(n, DIM)).astype(np.float32)
    full = _unit(full)
    if segments:
        start = _unit(full + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32))
        end = _unit(full + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32))
    else:  # 1M: the pool reads only the full track; keep memory at one matrix
        start = end = full

    # Genres: the artist's main genre, maybe one more of its family, rarely a random one.
    first = main_genre[artist]
    family = family_of_artist[artist]
    second = np.where(
        rng.random(n) < 0.5,
        family * GENRES_PER_FAMILY + rng.integers(0, GENRES_PER_FAMILY, n),
        -1,
    )
    third = np.where(rng.random(n) < 0.05, rng.integers(0, N_FAMILIES * GENRES_PER_FAMILY, n), -1)
    untagged = rng.random(n) < 0.10
    table = np.stack([first, second, third], axis=1)
    table[untagged] = -1
    table[table[:, 1] == table[:, 0], 1] = -1
    present = table >= 0
    counts = present.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = table[present].astype(np.int32)
    return {
        "track_ids": np.arange(1, n + 1, dtype=np.int64),
        "artist_keys": np.char.add("artist ", artist.astype(str)),
        "embedded_full": full,
        "embedded_start": start,
        "embedded_end": end,
        "genre_vocab": np.array([f"genre {g}" for g in range(N_FAMILIES * GENRES_PER_FAMILY)]),
        "genre_indptr": indptr,
        "genre_indices": indices,
    }


def _seeds(n: int, count: int, *, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).choice(n, size=count, replace=False)


def _timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000.0, result


def bench_pool(artifact: dict, *, name: str, seeds: np.ndarray, reference_seeds: int) -> None:
    params = PlaylistParams()
    n = len(artifact["track_ids"])
    derive_ms, _ = _timed(library_of, artifact)
    build_pool(artifact, seed_index=int(seeds[0]), params=params)  # warm-up, untimed
    times, sizes = [], []
    for seed in seeds:
        ms, pool = _timed(build_pool, artifact, seed_index=int(seed), params=params)
        times.append(ms)
        sizes.append(len(pool))
    ours = float(np.mean(times))
    record = {
        "bench": name,
        "tracks": n,
        "seeds": len(seeds),
        "derive_once_ms": round(derive_ms, 1),
        "pool_ms_mean": round(ours, 2),
        "pool_ms_p95": round(float(np.percentile(times, 95)), 2),
        "pool_size_mean": round(float(np.mean(sizes)), 1),
        "target_ms": TARGETS[f"{name}_ms"],
    }
    if reference_seeds:
        ref_times, same = [], []
        for seed in seeds[:reference_seeds]:
            ms, ref = _timed(reference_pool, artifact, seed_index=int(seed), params=params)
            ref_times.append(ms)
            pool = build_pool(artifact, seed_index=int(seed), params=params)
            same.append(ref == pool.indices.tolist())
        record["reference_ms_mean"] = round(float(np.mean(ref_times)), 1)
        record["reference_seeds"] = reference_seeds
        record["speedup_vs_reference"] = round(float(np.mean(ref_times)) / ours, 1)
        record["same_pool_as_reference"] = all(same)
    record["pass"] = ours <= TARGETS[f"{name}_ms"] and record.get("same_pool_as_reference", True)
    _emit(record)


def bench_playlist(artifact: dict, *, seeds: np.ndarray) -> None:
    context = playlist_context(artifact)
    make_playlist(context, seed_track_id=int(artifact["track_ids"][seeds[0]]))  # warm
    times, pool_times, lengths, relaxed = [], [], [], []
    params = PlaylistParams()
    for seed in seeds:
        ms, playlist = _timed(
            make_playlist,
            context,
            seed_track_id=int(artifact["track_ids"][seed]),
            length=30,
        )
        times.append(ms)
        pool_ms, _ = _timed(build_pool, context.library, seed_index=int(seed), params=params)
        pool_times.append(pool_ms)
        lengths.append(len(playlist))
        relaxed.append(len(playlist.diagnostics["relaxations"]))
    mean = float(np.mean(times))
    _emit(
        {
            "bench": "playlist_32k",
            "tracks": len(artifact["track_ids"]),
            "seeds": len(seeds),
            "length": 30,
            "playlist_ms_mean": round(mean, 2),
            "playlist_ms_p95": round(float(np.percentile(times, 95)), 2),
            "of_which_pool_ms_mean": round(float(np.mean(pool_times)), 2),
            "tracks_mean": round(float(np.mean(lengths)), 1),
            "relaxed_positions_mean": round(float(np.mean(relaxed)), 2),
            "target_ms": TARGETS["playlist_32k_ms"],
            "pass": mean <= TARGETS["playlist_32k_ms"] and min(lengths) == 30,
        }
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", default="pool_32k,playlist_32k,pool_1m")
    parser.add_argument("--no-reference-1m", action="store_true")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if parts & {"pool_32k", "playlist_32k"}:
        artifact = synthetic_artifact(32_000)
        seeds = _seeds(32_000, args.seeds)
        if "pool_32k" in parts:
            bench_pool(artifact, name="pool_32k", seeds=seeds, reference_seeds=3)
        if "playlist_32k" in parts:
            bench_playlist(artifact, seeds=seeds)
        del artifact
    if "pool_1m" in parts:
        artifact = synthetic_artifact(1_000_000, segments=False)
        bench_pool(
            artifact,
            name="pool_1m",
            seeds=_seeds(1_000_000, max(3, args.seeds // 4)),
            reference_seeds=0 if args.no_reference_1m else 1,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
