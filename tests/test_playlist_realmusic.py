"""Playlists on 75 real tracks by 11 composers (shared/data/audio/realmusic), via the artifact.

The library is scanned with its ``tracks.csv`` as metadata, extracted (two worker processes; a
few minutes) and turned into an artifact once per test session, as in
``test_sonic_realmusic.py``. A 20-track playlist is built from every seed; the measured figures
are printed (``pytest -s``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicwb.playlist.build import make_playlist, playlist_context
from musicwb.playlist.order import rules_at
from musicwb.playlist.params import PlaylistParams
from musicwb.sonic.artifact import build_artifact, load_artifact
from musicwb.store import Store

pytestmark = pytest.mark.slow

LENGTH = 20
RANDOM_ORDERS = 200
# A 75-track library has too few neighbours above the default floor of 0.15 for 20 tracks
# (pools of 9-25 tracks measured; 10-28 even with a floor of 0): no floor, every composer in
# the pool, each with up to 8 candidates (three of the eleven have 16-17 tracks here).
SMALL_LIBRARY = {"similarity_floor": -1.0, "per_artist": 8, "target_artists": 11}


@pytest.fixture(scope="session")
def realmusic_playlist_store(realmusic_store, tmp_path_factory):
    """The shared real-music store (conftest) and an artifact built from it."""
    path, _ = realmusic_store
    root = tmp_path_factory.mktemp("realmusic_playlists")
    with Store(path, read_only=True) as store:
        artifact_path = build_artifact(store, out=root / "sonic_artifact.npz")
    return path, artifact_path


@pytest.fixture(scope="session")
def realmusic_playlists(realmusic_playlist_store):
    path, artifact_path = realmusic_playlist_store
    artifact = load_artifact(artifact_path)
    with Store(path, read_only=True) as store:
        context = playlist_context(artifact, store=store)
        playlists = every_seeds_playlist(context)
    return artifact, context, playlists


def every_seeds_playlist(context) -> dict:
    """A LENGTH-track playlist (SMALL_LIBRARY parameters) from every track of the artifact."""
    seeds = context.library.track_ids.tolist()
    return {
        s: make_playlist(
            context, seed_track_id=s, length=LENGTH, params=PlaylistParams(**SMALL_LIBRARY)
        )
        for s in seeds
    }


def _random_mean_transition(context, rows: np.ndarray, rng: np.random.Generator) -> float:
    """Mean end→start transition of random orders of the same tracks (seed first)."""
    library = context.library
    ends = library.end[rows] / np.linalg.norm(library.end[rows], axis=1, keepdims=True)
    starts = library.start[rows] / np.linalg.norm(library.start[rows], axis=1, keepdims=True)
    cosines = ends @ starts.T
    means = []
    for _ in range(RANDOM_ORDERS):
        order = np.r_[0, 1 + rng.permutation(rows.size - 1)]
        means.append(cosines[order[:-1], order[1:]].mean())
    return float(np.mean(means))


def test_every_seed_gets_a_full_playlist_that_keeps_the_artist_rules(realmusic_playlists):
    _, context, playlists = realmusic_playlists
    params = PlaylistParams(**SMALL_LIBRARY)
    cap = params.max_per_artist(LENGTH)
    assert len(playlists) == 75
    rows = []
    for seed, playlist in playlists.items():
        d = playlist.diagnostics
        levels = playlist.ordering.levels
        artists = context.library.artist_codes[playlist.ordering.indices]
        relaxed_at = {r["position"]: r["level"] for r in d["relaxations"]}
        assert len(playlist) == LENGTH, (seed, d["stopped"], d["pool"])
        pool_artists = context.library.artist_codes[playlist.pool.indices]
        for position in range(1, len(artists)):
            rules = rules_at(int(levels[position]), params, length=LENGTH)
            assert relaxed_at.get(position, 0) == levels[position]
            earlier = np.flatnonzero(artists[:position] == artists[position])
            if earlier.size:  # min gap: other tracks between this one and the artist's last
                assert position - earlier[-1] - 1 >= rules.min_gap, (seed, position, rules)
            if rules.max_per_artist is not None:  # max artist fraction
                assert earlier.size + 1 <= rules.max_per_artist, (seed, position, rules)
            if levels[position] == 4:  # the cap was lifted only when no artist could follow
                placed = set(playlist.ordering.indices[:position].tolist())
                waiting = [
                    code
                    for row, code in zip(playlist.pool.indices, pool_artists, strict=True)
                    if row not in placed
                ]
                level_3 = rules_at(3, params, length=LENGTH)
                for code in set(waiting):
                    same = np.flatnonzero(artists[:position] == code)
                    fits_cap = same.size < level_3.max_per_artist
                    fits_gap = same.size == 0 or position - same[-1] - 1 >= level_3.min_gap
                    assert not (fits_cap and fits_gap), (seed, position, code)
        counts = pd.Series(artists).value_counts()
        gap_relaxed = any(r["level"] >= 2 for r in d["relaxations"])
        cap_relaxed = any(r["level"] >= 4 for r in d["relaxations"])
        assert counts.max() <= cap or cap_relaxed
        rows.append(
            {
                "seed": seed,
                "pool": d["pool_size"],
                "artists": d["artists"],
                "max_per_artist": d["max_per_artist"],
                "relaxed_positions": len(d["relaxations"]),
                "gap_relaxed": gap_relaxed,
                "cap_relaxed": cap_relaxed,
                "mean_transition": d["mean_transition"],
            }
        )
    frame = pd.DataFrame(rows)
    print(
        f"\n{len(frame)} playlists of {LENGTH}: pool {frame['pool'].mean():.1f} tracks "
        f"(min {frame['pool'].min()}), artists per playlist {frame['artists'].mean():.1f} "
        f"(min {frame['artists'].min()}), max per artist {frame['max_per_artist'].max()}, "
        f"playlists with relaxations {(frame['relaxed_positions'] > 0).sum()} "
        f"(min gap relaxed {frame['gap_relaxed'].sum()}, artist cap lifted "
        f"{frame['cap_relaxed'].sum()})"
    )
    # 20 places at most 2 per composer need 10 of the 11 composers, five of whom have only two
    # tracks: the min gap of 6 has to give way for most seeds, and every time it is reported.
    assert frame["relaxed_positions"].sum() > 0


def test_playlist_transitions_beat_a_random_order_of_the_same_tracks(realmusic_playlists):
    _, context, playlists = realmusic_playlists
    rng = np.random.default_rng(0)
    ours, random = [], []
    for playlist in playlists.values():
        rows = playlist.ordering.indices
        ours.append(playlist.diagnostics["mean_transition"])
        random.append(_random_mean_transition(context, rows, rng))
    ours, random = np.asarray(ours), np.asarray(random)
    wins = float(np.mean(ours > random))
    print(
        f"\nmean transition: playlists {ours.mean():.3f} vs random orders of the same tracks "
        f"{random.mean():.3f} (lift {ours.mean() - random.mean():+.3f}); playlist better for "
        f"{wins:.0%} of {len(ours)} seeds"
    )
    assert ours.mean() > random.mean() + 0.05
    assert wins >= 0.8
