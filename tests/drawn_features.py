"""Drawn sonic features for test stores: extracting the demo's audio takes minutes, so tests
that need analysed tracks (but not real extraction) draw the 137-feature vectors instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from musicwb.store import Store


def add_drawn_features(path: Path, *, seed: int = 11) -> None:
    """Sonic feature rows for every track of the store at ``path``, drawn instead of extracted.

    Extracting the demo's features takes minutes, so the 137-feature vectors are drawn: two
    styles, one shade of a style per artist, per-track noise, segments close to the full track.
    Everything else (the store, its files, artist keys, albums, genres, the artifact built from
    the rows) is the real thing.
    """
    from musicwb.text import artist_key

    with Store(path) as store:
        tracks = store.df("SELECT id, artist, content_hash, duration FROM tracks ORDER BY id")
        rng = np.random.default_rng(seed)
        keys = [artist_key(a) or f"unknown {i}" for i, a in enumerate(tracks["artist"])]
        styles = rng.normal(size=(2, 137))
        centres = {
            key: styles[i % 2] + 0.6 * rng.normal(size=137)
            for i, key in enumerate(sorted(set(keys)))
        }
        full = np.stack([centres[key] for key in keys]) + 0.4 * rng.normal(size=(len(keys), 137))

        def vectors(matrix: np.ndarray) -> list[list[float]]:
            return [[float(v) for v in row] for row in matrix]

        rows = pd.DataFrame(
            {
                "track_id": tracks["id"],
                "content_hash": tracks["content_hash"],
                "extractor_version": "beat3tower-1.0",
                "duration_s": tracks["duration"].fillna(60.0),
                "n_beats": 100,
                "bpm": 124.0,
                "half_tempo_likely": False,
                "double_tempo_likely": False,
                "tempo_stability": 0.9,
                "pulse_clarity": 0.5,
                "grid_full": False,
                "grid_start": False,
                "grid_mid": False,
                "grid_end": False,
                "vec_full": vectors(full),
                **{
                    f"vec_{segment}": vectors(full + 0.2 * rng.normal(size=full.shape))
                    for segment in ("start", "mid", "end")
                },
                "extracted_at": dt.datetime(2026, 11, 1),
            }
        )
        store.insert("sonic_features", rows)
