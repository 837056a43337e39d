"""Property tests over random libraries: the ordering never breaks a rule unless the diagnostics
report the relaxation that allowed it, and relaxes only when nothing passes the stricter level;
no track appears twice; the length is honoured whenever the pool allows.

The rules are checked here by a plain re-implementation, track by track, not by the code under
test.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicwb.playlist.order import order_playlist, rules_at
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import build_pool


@st.composite
def libraries(draw):
    n = draw(st.integers(3, 40))
    n_artists = draw(st.integers(1, 10))
    dim = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    centre = rng.normal(size=(1, dim))
    full = centre + draw(st.sampled_from([0.3, 1.0, 3.0])) * rng.normal(size=(n, dim))
    start = full + 0.5 * rng.normal(size=(n, dim))
    end = full + 0.5 * rng.normal(size=(n, dim))
    genre_counts = rng.integers(0, 3, n)
    indptr = np.concatenate([[0], np.cumsum(genre_counts)]).astype(np.int64)
    artifact = {
        "track_ids": np.arange(10, 10 + n, dtype=np.int64),
        "artist_keys": np.array([f"artist {k}" for k in rng.integers(0, n_artists, n)]),
        "embedded_full": full.astype(np.float32),
        "embedded_start": start.astype(np.float32),
        "embedded_end": end.astype(np.float32),
        "genre_vocab": np.array(["house", "techno", "jazz", "ambient"]),
        "genre_indptr": indptr,
        "genre_indices": rng.integers(0, 4, int(indptr[-1])).astype(np.int32),
    }
    bpm = np.where(
        rng.random(n) < 0.15, 0.0, rng.choice([64.0, 100.0, 124.0, 126.0, 128.0, 140.0, 256.0], n)
    )
    keys = np.where(rng.random(n) < 0.15, -1, rng.integers(0, 24, n))
    params = PlaylistParams(
        similarity_floor=draw(st.sampled_from([0.0, 0.1, 0.15, 0.3])),
        genre_gate=draw(st.sampled_from([0.0, 0.2])),
        per_artist=draw(st.integers(1, 8)),
        target_artists=draw(st.integers(1, 12)),
        min_gap=draw(st.integers(0, 6)),
        max_artist_fraction=draw(st.sampled_from([0.05, 0.125, 0.25, 0.5, 1.0])),
        relaxation_levels=draw(st.integers(0, 4)),
        transition_floor=draw(st.sampled_from([0.0, 0.1, 0.15, 0.4])),
        transition_gamma=draw(st.sampled_from([0.5, 1.0, 2.0])),
        bpm_window=draw(st.sampled_from([None, 3.0, 8.0])),
        camelot=draw(st.booleans()),
    )
    seed = draw(st.integers(0, n - 1))
    length = draw(st.integers(1, 25))
    return artifact, params, seed, length, bpm, keys


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _transition(artifact, a: int, b: int, gamma: float) -> float:
    x = float(
        np.clip(_unit(artifact["embedded_end"][a]) @ _unit(artifact["embedded_start"][b]), -1, 1)
    )
    return math.copysign(abs(x) ** gamma, x)


def _tempo_ok(before: float, after: float, window: float | None) -> bool:
    if window is None or not before > 0 or not after > 0:
        return True
    change = min(
        abs(after / before - 1), abs(2 * after / before - 1), abs(after / (2 * before) - 1)
    )
    return change * 100 <= window + 1e-9


def _keys_ok(a: int, b: int, on: bool) -> bool:
    if not on or a < 0 or b < 0:
        return True
    na, nb = a // 2, b // 2
    step = (na - nb) % 12
    return a == b or na == nb or (a % 2 == b % 2 and step in (1, 11))


def _passes(rules, artifact, chosen: list[int], candidate: int, params, bpm, keys) -> bool:
    """Whether ``candidate`` may follow ``chosen`` under ``rules`` (plain re-implementation)."""
    previous = chosen[-1]
    position = len(chosen)
    artists = artifact["artist_keys"]
    same = [k for k, row in enumerate(chosen) if artists[row] == artists[candidate]]
    if same and position - same[-1] - 1 < rules.min_gap:
        return False
    if rules.max_per_artist is not None and len(same) >= rules.max_per_artist:
        return False
    quality = _transition(artifact, previous, candidate, params.transition_gamma)
    if rules.transition_floor is not None and quality < rules.transition_floor - 1e-6:
        return False
    if not _tempo_ok(bpm[previous], bpm[candidate], rules.bpm_window):
        return False
    return _keys_ok(int(keys[previous]), int(keys[candidate]), rules.camelot)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(libraries())
def test_no_rule_is_broken_unless_a_reported_relaxation_allowed_it(library):
    artifact, params, seed, length, bpm, keys = library
    pool = build_pool(artifact, seed_index=seed, params=params)
    ordering = order_playlist(
        artifact, pool, seed_index=seed, length=length, params=params, bpm=bpm, keys=keys
    )
    chosen = ordering.indices.tolist()
    assert chosen[0] == seed
    assert len(set(chosen)) == len(chosen)  # no track twice
    assert set(chosen[1:]) <= set(pool.indices.tolist())
    reported = {r["position"]: r["level"] for r in ordering.diagnostics["relaxations"]}
    level_zero = rules_at(0, params, length=length)
    assert level_zero.min_gap == params.min_gap
    assert level_zero.max_per_artist == max(
        1, math.floor(params.max_artist_fraction * length + 1e-9)
    )
    for position in range(1, len(chosen)):
        level = int(ordering.levels[position])
        assert reported.get(position, 0) == level  # every relaxed step is reported
        assert level <= params.relaxation_levels
        rules = rules_at(level, params, length=length)
        before, track = chosen[:position], chosen[position]
        assert _passes(rules, artifact, before, track, params, bpm, keys), (position, rules)
        expected = _transition(artifact, before[-1], track, params.transition_gamma)
        assert abs(ordering.transitions[position] - expected) < 1e-5
        if level > 0:  # relaxed only when no remaining track passed the stricter level
            stricter = rules_at(level - 1, params, length=length)
            remaining = [row for row in pool.indices.tolist() if row not in before]
            assert not any(
                _passes(stricter, artifact, before, row, params, bpm, keys) for row in remaining
            ), (position, level)

    possible = min(length, len(pool) + 1)
    if ordering.diagnostics["stopped"] is None:
        assert len(chosen) == length
    else:
        assert len(chosen) < length
    if params.relaxation_levels == 4:  # the last level always has a candidate
        assert len(chosen) == possible
    assert ordering.diagnostics["length"] == len(chosen)


@settings(max_examples=120, deadline=None)
@given(libraries())
def test_the_pool_keeps_its_caps_and_never_holds_the_seed(library):
    artifact, params, seed, _, _, _ = library
    pool = build_pool(artifact, seed_index=seed, params=params)
    rows = pool.indices
    assert seed not in rows.tolist() and len(set(rows.tolist())) == len(rows)
    assert len(rows) <= params.max_pool
    assert np.all(np.diff(pool.similarity) <= 1e-12)  # best first
    assert np.all(pool.similarity >= params.similarity_floor)
    artists = artifact["artist_keys"]
    for artist in set(artists[rows]):
        cap = params.per_artist + (params.seed_artist_bonus if artist == artists[seed] else 0)
        assert (artists[rows] == artist).sum() <= cap
