"""Linkage at scale: synthetic tracklists end to end (features, training, prediction).

Synthetic structure: labels with a handful of artists each (a few prolific), DJs who favour a
few labels and play their own productions, promos always mixed between the same two label
tracks, ~15% unknown entries. A share of the known entries is masked to train m and the
calibration, as ``musicwb identify`` does. DuckDB gets a memory limit and a temp directory;
candidate pairs are counted before they are generated and refused above ``--max-pairs``.

Usage: ``python bench/bench_linkage.py [--entries 1000000] [--memory-limit 2GB]``; prints one
JSON line with the timings, the pair count, the peak memory (``ru_maxrss``) and whether the
targets (≤ 600 s, ≤ 4 GB) were met.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicwb.linkage import fit_and_score, mask_known
from musicwb.linkage.features import candidate_features
from musicwb.store import Store


def _pick(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One column index per row of ``rows`` drawn from ``weights[rows]`` (rows sum to 1)."""
    cumulative = np.cumsum(weights, axis=1)[rows]
    return (rng.random(len(rows))[:, None] > cumulative).sum(axis=1)


def synthetic_entries(n_entries: int, *, seed: int = 0, set_length: int = 20) -> pd.DataFrame:
    """Tracklists with label/artist structure: ``set_id, position, dj_key, artist_key,
    label_key, is_unknown`` (artist and label None where unknown)."""
    rng = np.random.default_rng(seed)
    n_sets = max(4, n_entries // set_length)
    n_labels = max(8, n_entries // 2000)
    per_label = 8
    n_djs = max(3, n_sets // 12)
    taste = 6
    artist_weights = 1 / np.arange(1, per_label + 1)  # a few prolific artists per label
    artist_weights = np.tile(artist_weights / artist_weights.sum(), (n_labels, 1))
    dj_labels = rng.integers(0, n_labels, (n_djs, taste))
    dj_weights = rng.dirichlet(np.ones(taste), n_djs)
    dj_artist = np.where(rng.random(n_djs) < 0.3,
                         dj_labels[:, 0] * per_label + rng.integers(0, per_label, n_djs), -1)
    set_dj = rng.integers(0, n_djs, n_sets)
    entry_set = np.repeat(np.arange(n_sets), set_length)
    position = np.tile(np.arange(1, set_length + 1), n_sets)
    dj = set_dj[entry_set]
    label = dj_labels[dj, _pick(rng, dj_weights, dj)]
    artist = label * per_label + _pick(rng, artist_weights, label)
    own = (dj_artist[dj] >= 0) & (rng.random(len(dj)) < 0.1)
    artist = np.where(own, dj_artist[dj], artist)
    label = artist // per_label
    # promo blocks: (before, promo, after) of one label, always together
    has_block = rng.random(n_sets) < 0.6
    block_label = dj_labels[set_dj, _pick(rng, dj_weights, set_dj)]
    block_kind = rng.integers(0, 2, n_sets)
    start = rng.integers(0, set_length - 2, n_sets)
    promo_unknown = np.zeros(len(artist), bool)
    for offset, member in enumerate((1, 7, 2)):  # fixed artists per (label, kind) block
        rows = np.flatnonzero(has_block) * set_length + start[has_block] + offset
        block_artist = block_label[has_block] * per_label + (member + block_kind[has_block]) % per_label
        artist[rows] = block_artist
        label[rows] = block_label[has_block]
        if offset == 1:
            promo_unknown[rows] = rng.random(len(rows)) < 0.85
    unknown = promo_unknown | (rng.random(len(artist)) < 0.12)
    shows_label = rng.random(len(artist)) < 0.7
    return pd.DataFrame({
        "set_id": pd.Series(entry_set).map("set{}".format),
        "position": position.astype("int32"),
        "dj_key": pd.Series(dj).map("dj {}".format),
        "artist_key": pd.Series(np.where(unknown, None, pd.Series(artist).map("artist {}".format))),
        "label_key": pd.Series(np.where(unknown | ~shows_label, None,
                                        pd.Series(label).map("label {}".format))),
        "is_unknown": unknown,
    })  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--model-memory-limit", default="1500MB",
                        help="DuckDB memory limit of the splink model's connection")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-pairs", type=int, default=30_000_000)
    parser.add_argument("--train-fraction", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    temp = Path(tempfile.mkdtemp(prefix="bench_linkage_"))
    settings = {"memory_limit": args.model_memory_limit, "temp_directory": str(temp / "spill"),
                "threads": str(args.threads), "preserve_insertion_order": "false"}  # fmt: skip
    timings = {}
    started = time.perf_counter()
    entries = synthetic_entries(args.entries, seed=args.seed)
    timings["generate_s"] = time.perf_counter() - started

    step = time.perf_counter()
    n_entries, n_sets = len(entries), int(entries.set_id.nunique())
    real = entries.index[entries.artist_key.isna()]
    predict_slots = entries.loc[real, "set_id"] + "#" + entries.loc[real, "position"].astype(str)
    masked, truth_frame = mask_known(entries, fraction=args.train_fraction, seed=args.seed)
    masked["is_slot"] = masked["is_slot"] | (entries.artist_key.isna() & entries.is_unknown)
    del entries
    with Store(":memory:", memory_limit=args.memory_limit, temp_directory=temp / "spill") as engine:
        engine.execute(f"SET threads = {args.threads}")
        engine.execute("SET preserve_insertion_order = false")
        pairs = candidate_features(masked, max_pairs=args.max_pairs, store=engine)
    timings["features_s"] = time.perf_counter() - step
    del masked

    step = time.perf_counter()
    truth = truth_frame.set_index("slot_id")["artist_key"]
    scores, _ = fit_and_score(
        pairs, truth, train_slots=truth.index, predict_slots=predict_slots, seed=args.seed,
        model_options={"duckdb_settings": settings, "max_pairs": args.max_pairs},
    )
    timings["train_predict_s"] = time.perf_counter() - step
    total = time.perf_counter() - started
    # synthetic truth of the real slots is not kept; report the masked-answer calibration set
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "bench": "linkage",
        "entries": n_entries,
        "sets": n_sets,
        "slots": len(predict_slots),
        "trained_on": len(truth),
        "pairs": len(pairs),
        "proposals_ge_0_7": int(((scores["rank"] == 1) & (scores.probability >= 0.7)).sum()),
        **{k: round(v, 1) for k, v in timings.items()},
        "total_s": round(total, 1),
        "peak_rss_mb": round(peak_mb),
        "memory_limit": args.memory_limit,
        "model_memory_limit": args.model_memory_limit,
        "pass": bool(total <= 600 and peak_mb <= 4096),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
