"""The candidate pool written the straightforward way: one Python step per candidate track.

This is the baseline of ``bench_playlist.py``: the same pool as
:func:`musicwb.playlist.pool.build_pool` (hybrid similarity, floor, genre gate, near-identical
audio, per-artist caps, artist target, max pool), computed track by track with Python sets and
dicts, as the original system did. Titles are not used (the benchmark's artifacts have none).
"""

from __future__ import annotations

import math

import numpy as np

from musicwb.playlist.params import PlaylistParams


def _genre_similarity(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    cosine = shared / math.sqrt(len(a) * len(b))
    jaccard = shared / len(a | b)
    return 0.6 * cosine + 0.4 * jaccard


def reference_pool(artifact: dict, *, seed_index: int, params: PlaylistParams) -> list[int]:
    """Artifact rows of the pool of ``seed_index``, best first (see the module)."""
    full = artifact["embedded_full"]
    artists = artifact["artist_keys"]
    indptr, indices = artifact["genre_indptr"], artifact["genre_indices"]
    n = len(artists)
    seed_vector = full[seed_index]
    seed_norm = math.sqrt(float(seed_vector @ seed_vector))
    seed_genres = set(indices[indptr[seed_index] : indptr[seed_index + 1]].tolist())
    use_genre = bool(seed_genres) and params.genre_weight > 0
    total = params.sonic_weight + params.genre_weight

    scored = []
    for i in range(n):
        if i == seed_index:
            continue
        vector = full[i]
        norm = math.sqrt(float(vector @ vector))
        sonic = float(vector @ seed_vector) / (norm * seed_norm) if norm and seed_norm else 0.0
        genres = set(indices[indptr[i] : indptr[i + 1]].tolist())
        genre = _genre_similarity(seed_genres, genres) if use_genre else 0.0
        similarity = (
            (params.sonic_weight * sonic + params.genre_weight * genre) / total
            if use_genre
            else sonic
        )
        if similarity < params.similarity_floor:
            continue
        if use_genre and genres and genre < params.genre_gate:
            continue
        if sonic >= params.duplicate_similarity:
            continue
        scored.append((similarity, i))
    scored.sort(key=lambda pair: -pair[0])

    seed_artist = artists[seed_index]
    taken: dict[str, list[int]] = {}
    artist_order: list[str] = []
    kept: list[int] = []
    units: dict[int, np.ndarray] = {}
    for _, i in scored:
        artist = artists[i] or f"unknown {i}"
        cap = params.per_artist + (params.seed_artist_bonus if artist == seed_artist else 0)
        chosen = taken.setdefault(artist, [])
        if not chosen:
            artist_order.append(artist)
        if len(chosen) >= cap:
            continue
        unit = full[i] / np.linalg.norm(full[i])
        if any(float(unit @ units[j]) >= params.duplicate_similarity for j in kept):
            continue
        units[i] = unit
        chosen.append(i)
        kept.append(i)
    if seed_artist in taken:
        artist_order.remove(seed_artist)
        artist_order.insert(0, seed_artist)
    selected: set[str] = set()
    count = 0
    for artist in artist_order:
        if (
            len(selected) >= params.target_artists
            and count >= params.target_artists * params.per_artist
        ):
            break
        selected.add(artist)
        count += len(taken[artist])
    kept_set = set(kept)
    pool = [i for _, i in scored if i in kept_set and (artists[i] or f"unknown {i}") in selected]
    return pool[: params.max_pool]
