"""Ordering on small hand-made artifacts: every hard rule, every relaxation level, the arc,
the DJ rules (BPM window with half/double tempo, Camelot keys), and make_playlist on a store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from musicwb.errors import ParameterError
from musicwb.playlist.build import make_playlist, playlist_context
from musicwb.playlist.order import order_playlist, rules_at, tempo_distance
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import build_pool
from musicwb.store import Store
from musicwb.text.camelot import camelot_code, camelot_compatible, camelot_name, estimate_camelot


def hand_made(
    seed_similarity: list[float], artists: list[str], transitions: np.ndarray | float
) -> dict[str, np.ndarray]:
    """Track 0 is the seed. Full-track cosine of track i to the seed is ``seed_similarity[i]``;
    the transition quality from i to j (end of i → start of j) is ``transitions[i, j]``.

    Full, start and end live in separate columns: start_j is the unit vector e_j and end_i puts
    ``transitions[i, j]`` on e_j (and the rest of its unit length on a spare column).
    """
    n = len(seed_similarity)
    table = (
        np.full((n, n), transitions, dtype=np.float64) if np.isscalar(transitions) else transitions
    )
    assert np.all((table**2).sum(axis=1) <= 1.0)
    d = 2 * n + 2
    full = np.zeros((n, d), np.float32)
    start = np.zeros((n, d), np.float32)
    end = np.zeros((n, d), np.float32)
    full[0, 0] = 1.0
    for i in range(1, n):
        c = seed_similarity[i]
        full[i, 0], full[i, i] = c, np.sqrt(1.0 - c * c)
    for j in range(n):
        start[j, n + j] = 1.0
    for i in range(n):
        end[i, n : 2 * n] = table[i]
        end[i, 2 * n] = np.sqrt(max(0.0, 1.0 - float((table[i] ** 2).sum())))
    return {
        "track_ids": np.arange(1, n + 1, dtype=np.int64),
        "artist_keys": np.array(artists),
        "embedded_full": full,
        "embedded_start": start,
        "embedded_end": end,
    }


def ordered(artifact, *, length, **params):
    p = PlaylistParams(genre_weight=0.0, similarity_floor=0.0, duplicate_similarity=1.0).replace(
        **params
    )
    pool = build_pool(artifact, seed_index=0, params=p)
    return order_playlist(artifact, pool, seed_index=0, length=length, params=p)


def artists_of(artifact, ordering):
    return artifact["artist_keys"][ordering.indices].tolist()


def test_a_playlist_starts_with_the_seed_and_reports_its_transitions():
    rng = np.random.default_rng(3)
    n = 12
    table = rng.uniform(0.16, 0.28, size=(n, n))
    artifact = hand_made([1.0, *np.linspace(0.9, 0.4, n - 1)], [f"a{i}" for i in range(n)], table)
    result = ordered(artifact, length=8)
    assert result.indices[0] == 0 and len(set(result.indices.tolist())) == 8
    assert np.isnan(result.transitions[0])
    expected = [table[a, b] for a, b in zip(result.indices[:-1], result.indices[1:], strict=True)]
    np.testing.assert_allclose(result.transitions[1:], expected, atol=1e-6)
    d = result.diagnostics
    assert d["mean_transition"] == pytest.approx(np.mean(expected))
    assert d["min_transition"] == pytest.approx(np.min(expected))
    assert d["pool_size"] == n - 1 and d["artists"] == 8 and d["max_per_artist"] == 1
    assert d["seed_artist_share"] == pytest.approx(1 / 8)
    assert d["relaxations"] == [] and d["stopped"] is None and d["length"] == 8


def test_transition_floor_skips_a_close_track_with_a_bad_start():
    table = np.full((3, 3), 0.3)
    table[0, 1] = 0.05  # track 1 is the closest to the seed but starts badly after it
    artifact = hand_made([1.0, 0.9, 0.5], ["s", "a", "b"], table)
    assert ordered(artifact, length=3).indices.tolist() == [0, 2, 1]
    assert ordered(artifact, length=3, transition_floor=0.0).indices.tolist() == [0, 1, 2]


def test_min_gap_keeps_an_artists_tracks_apart():
    artists = ["s", "s", "s", "a", "b", "c", "d", "e"]
    artifact = hand_made([1.0, 0.95, 0.9, 0.6, 0.55, 0.5, 0.45, 0.4], artists, 0.3)
    result = ordered(artifact, length=8, min_gap=2, max_artist_fraction=1.0)
    positions = [k for k, a in enumerate(artists_of(artifact, result)) if a == "s"]
    assert np.all(np.diff(positions) >= 3), positions  # at least 2 other tracks between
    assert result.diagnostics["relaxations"] == []


def test_max_artist_fraction_caps_each_artist():
    artists = ["s"] + ["a"] * 5 + ["b"] * 5 + ["c"] * 5
    artifact = hand_made([1.0, *np.linspace(0.95, 0.3, 15)], artists, 0.2)
    result = ordered(artifact, length=8, min_gap=0, max_artist_fraction=0.25)
    counts = pd.Series(artists_of(artifact, result)[:7]).value_counts()
    assert counts.max() <= 2 and len(result) == 8
    # 4 artists x 2 fill 7 places (the seed's artist has one track): the 8th needs level 4.
    assert [(r["position"], r["level"]) for r in result.diagnostics["relaxations"]] == [(7, 4)]
    assert result.diagnostics["max_per_artist"] == 3


def test_rules_at_each_level_relax_in_order():
    params = PlaylistParams(min_gap=6, transition_floor=0.2, bpm_window=4.0, camelot=True)
    levels = [rules_at(level, params, length=24) for level in range(5)]
    assert [r.transition_floor for r in levels] == [0.2, 0.1, 0.1, None, None]
    assert [r.min_gap for r in levels] == [6, 6, 3, 1, 0]
    assert [r.max_per_artist for r in levels] == [3, 3, 3, 3, None]
    assert [r.bpm_window for r in levels] == [4.0, 8.0, 8.0, None, None]
    assert [r.camelot for r in levels] == [True, False, False, False, False]


def test_level_1_halves_the_transition_floor_and_says_why():
    artifact = hand_made([1.0, 0.8, 0.7], ["s", "a", "b"], 0.1)
    result = ordered(artifact, length=3)
    relaxations = result.diagnostics["relaxations"]
    assert [(r["position"], r["level"]) for r in relaxations] == [(1, 1), (2, 1)]
    assert "transition floor halved" in relaxations[0]["rule"]
    assert "transition_floor blocks 2" in relaxations[0]["reason"]
    assert result.levels.tolist() == [0, 1, 1]


def test_level_2_halves_the_min_gap():
    artifact = hand_made([1.0, 0.9, 0.8, 0.7], ["s", "a", "b", "s"], 0.3)
    result = ordered(artifact, length=4, min_gap=4, max_artist_fraction=1.0)
    assert artists_of(artifact, result) == ["s", "a", "b", "s"]
    (relaxation,) = result.diagnostics["relaxations"]
    assert (relaxation["position"], relaxation["level"]) == (3, 2)
    assert "min_gap blocks 1" in relaxation["reason"] and "gap >= 2" in relaxation["in_force"]


def test_level_3_drops_the_transition_floor():
    artifact = hand_made([1.0, 0.8, 0.7], ["s", "a", "b"], 0.05)
    result = ordered(artifact, length=3)
    assert [r["level"] for r in result.diagnostics["relaxations"]] == [3, 3]
    assert result.diagnostics["min_transition"] == pytest.approx(0.05)


def test_level_4_lifts_the_artist_limit_when_one_artist_is_left():
    artifact = hand_made([1.0, 0.8, 0.7, 0.6], ["s", "s", "s", "s"], 0.3)
    result = ordered(artifact, length=4, min_gap=1)
    assert len(result) == 4
    assert [r["level"] for r in result.diagnostics["relaxations"]] == [4, 4, 4]
    assert "max_artist_fraction blocks" in result.diagnostics["relaxations"][0]["reason"]
    assert (
        result.diagnostics["max_per_artist"] == 4 and result.diagnostics["seed_artist_share"] == 1
    )


def test_without_relaxation_the_playlist_stops_short_and_says_why():
    artifact = hand_made([1.0, 0.8, 0.7, 0.6], ["s", "a", "s", "s"], 0.3)
    result = ordered(artifact, length=4, min_gap=1, max_artist_fraction=0.5, relaxation_levels=0)
    assert artists_of(artifact, result) == ["s", "a", "s"]  # then only "s" is left, at its cap
    assert result.diagnostics["length"] == 3 and result.diagnostics["requested_length"] == 4
    assert "level 0" in result.diagnostics["stopped"]
    assert result.diagnostics["relaxations"] == []


def test_a_pool_that_runs_out_stops_the_playlist():
    artifact = hand_made([1.0, 0.8, 0.7], ["s", "a", "b"], 0.3)
    result = ordered(artifact, length=10)
    assert len(result) == 3 and "used up" in result.diagnostics["stopped"]


def test_arc_schedule_values():
    params = PlaylistParams()
    assert params.alpha_at(0, 31) == pytest.approx(0.65)
    assert params.alpha_at(15, 31) == pytest.approx(0.45)
    assert params.alpha_at(30, 31) == pytest.approx(0.60)
    assert params.alpha_at(7, 31) == pytest.approx(0.65 - 0.2 * 7 / 15)  # linear in between
    assert params.alpha_at(0, 1) == pytest.approx(0.65)


def test_alpha_weighs_seed_similarity_against_transitions():
    table = np.full((3, 3), 0.2)
    table[0, 2] = 0.9  # track 2 follows the seed beautifully but sounds less like it
    artifact = hand_made([1.0, 0.9, 0.3], ["s", "a", "b"], table)
    seed_led = ordered(artifact, length=2, alpha_start=1.0, beta=0.1)
    transition_led = ordered(artifact, length=2, alpha_start=0.1, beta=1.0)
    assert seed_led.indices.tolist() == [0, 1] and transition_led.indices.tolist() == [0, 2]


def test_gamma_rewards_tracks_unlike_those_already_chosen():
    artifact = hand_made([1.0, 0.0, 0.0, 0.0], ["s", "a", "b", "c"], 0.3)
    full = np.zeros_like(artifact["embedded_full"])
    full[0, 0] = full[1, 1] = full[3, 3] = 1.0
    full[2, 1] = full[2, 2] = np.sqrt(0.5)  # track 2 resembles track 1
    artifact["embedded_full"] = full
    no_seed_pull = {"alpha_start": 0.0, "alpha_mid": 0.0, "alpha_end": 0.0, "beta": 0.0}
    result = ordered(artifact, length=3, gamma=1.0, **no_seed_pull)
    assert result.indices.tolist() == [0, 1, 3]


def test_tempo_distance_counts_half_and_double_tempo_as_the_same():
    distance = tempo_distance(128.0, np.array([128.0, 131.2, 64.0, 256.0, 100.0, 0.0, np.nan]))
    np.testing.assert_allclose(distance[:5], [0.0, 2.5, 0.0, 0.0, 21.875], atol=1e-9)
    assert np.isnan(distance[5]) and np.isnan(distance[6])
    assert np.all(np.isnan(tempo_distance(0.0, np.array([120.0]))))


def test_bpm_window_keeps_neighbours_within_the_tempo_window():
    artifact = hand_made([1.0, 0.95, 0.8, 0.7, 0.6], ["s", "a", "b", "c", "d"], 0.3)
    bpm = np.array([128.0, 100.0, 64.0, 130.0, 0.0])  # 100 clashes; 64 is half tempo; 0 unknown
    p = PlaylistParams(genre_weight=0.0, similarity_floor=0.0, bpm_window=5.0, min_gap=0)
    pool = build_pool(artifact, seed_index=0, params=p)
    result = order_playlist(artifact, pool, seed_index=0, length=5, params=p, bpm=bpm)
    order = result.indices.tolist()
    for a, b, level in zip(order[:-1], order[1:], result.levels[1:], strict=True):
        change = tempo_distance(bpm[a], bpm[b : b + 1])[0]
        if level == 0:
            assert np.isnan(change) or change <= 5.0, (a, b)
    # Track 1 (100 BPM) comes only after the unknown-tempo track 4 or at a relaxed step.
    position = order.index(1)
    assert order[position - 1] == 4 or result.levels[position] > 0
    assert order[1] == 2  # the best-matching track that keeps the tempo (half of 128)
    # The artifact's own tempo comes from its rhythm features.
    with pytest.raises(ParameterError, match="bpm_window"):
        order_playlist(artifact, pool, seed_index=0, length=5, params=p)
    from musicwb.sonic.towers import feature_names

    rhythm = np.zeros((5, 21), np.float32)
    rhythm[:, feature_names().index("bpm")] = bpm
    with_rhythm = {**artifact, "raw_full_rhythm": rhythm}
    again = order_playlist(with_rhythm, pool, seed_index=0, length=5, params=p)
    assert again.indices.tolist() == order


def test_camelot_codes_and_compatibility():
    assert [camelot_name(camelot_code(k)) for k in ("8A", "08b", "Am", "A minor", "C", "1m")] == [
        "8A",
        "8B",
        "8A",
        "8A",
        "8B",
        "8A",
    ]
    assert camelot_name(camelot_code("F#m")) == "11A" and camelot_name(camelot_code("Db")) == "3B"
    assert camelot_code("not a key") == -1 and camelot_code(None) == -1
    a8 = camelot_code("8A")
    others = np.array([camelot_code(k) for k in ("8A", "7A", "9A", "8B", "9B", "2A", "12A")])
    assert camelot_compatible(a8, others).tolist() == [True, True, True, True, False, False, False]
    assert camelot_compatible(camelot_code("12B"), camelot_code("1B"))  # the wheel wraps
    assert camelot_compatible(-1, camelot_code("3A"))  # unknown keys never clash


def test_keys_are_estimated_from_chroma():
    c_major = np.array([1.0, 0.1, 0.6, 0.1, 0.8, 0.7, 0.1, 0.9, 0.1, 0.6, 0.1, 0.4])
    a_minor = np.roll(np.array([1.0, 0.1, 0.6, 0.9, 0.1, 0.6, 0.1, 0.8, 0.6, 0.1, 0.5, 0.3]), 9)
    codes = estimate_camelot(np.stack([c_major, a_minor, np.ones(12)]))
    assert [camelot_name(int(c)) for c in codes] == ["8B", "8A", None]


def test_camelot_rule_keeps_neighbours_in_compatible_keys():
    artifact = hand_made([1.0, 0.95, 0.8, 0.7], ["s", "a", "b", "c"], 0.3)
    keys = np.array([camelot_code(k) for k in ("8A", "3A", "9A", "8B")])
    p = PlaylistParams(genre_weight=0.0, similarity_floor=0.0, camelot=True, min_gap=0)
    pool = build_pool(artifact, seed_index=0, params=p)
    result = order_playlist(artifact, pool, seed_index=0, length=4, params=p, keys=keys)
    order = result.indices.tolist()
    assert order[1] == 2  # 3A is the closest track but does not mix with 8A
    for a, b, level in zip(order[:-1], order[1:], result.levels[1:], strict=True):
        assert level > 0 or camelot_compatible(keys[a], keys[b])
    with pytest.raises(ParameterError, match="camelot"):
        order_playlist(artifact, pool, seed_index=0, length=4, params=p)


def test_bad_length_or_a_pool_of_another_seed_are_parameter_errors():
    artifact = hand_made([1.0, 0.8, 0.7], ["s", "a", "b"], 0.3)
    p = PlaylistParams(genre_weight=0.0)
    pool = build_pool(artifact, seed_index=0, params=p)
    with pytest.raises(ParameterError, match="length"):
        order_playlist(artifact, pool, seed_index=0, length=0, params=p)
    with pytest.raises(ParameterError, match="seed"):
        order_playlist(artifact, pool, seed_index=1, length=3, params=p)


# ---------------------------------------------------------------------------------------------
# make_playlist on a real store


def _store_with_tracks(path, artifact, *, keys=None):
    """A store of the artifact's tracks, each with a file (playlists check that it exists)."""
    n = len(artifact["track_ids"])
    now = pd.Timestamp("2026-01-01")
    music = path.parent / "music"
    music.mkdir(exist_ok=True)
    for i in range(n):
        (music / f"{i}.flac").write_bytes(b"fLaC")
    frame = pd.DataFrame(
        {
            "id": artifact["track_ids"],
            "path": [str(music / f"{i}.flac") for i in range(n)],
            "size": 1000,
            "mtime": 0.0,
            "content_hash": [f"h{i}" for i in range(n)],
            "artist": [f"Artist {a.upper()}" for a in artifact["artist_keys"]],
            "title": [f"Title {i}" for i in range(n)],
            "key": keys if keys is not None else [None] * n,
            "added_at": now,
            "updated_at": now,
        }
    )
    store = Store(path)
    store.insert("tracks", frame)
    return store


def test_make_playlist_with_a_store_labels_the_tracks_and_is_json_safe(tmp_path):
    artifact = hand_made([1.0, 0.9, 0.8, 0.7, 0.6], ["s", "a", "b", "c", "d"], 0.3)
    with _store_with_tracks(tmp_path / "s.duckdb", artifact) as store:
        playlist = make_playlist(
            playlist_context(artifact, store=store),
            seed_track_id=1,
            length=4,
            params=PlaylistParams(genre_weight=0.0),
        )
    assert list(playlist.tracks.columns) == [
        "track_id",
        "artist",
        "title",
        "path",
        "transition_in",
        "seed_similarity",
    ]
    assert playlist.tracks["track_id"].tolist()[0] == 1
    assert playlist.tracks["artist"].tolist()[0] == "Artist S"
    assert playlist.tracks["path"].tolist()[0] == str(tmp_path / "music" / "0.flac")
    out = playlist.as_dict()
    text = json.dumps(out, allow_nan=False)  # no NaN anywhere
    assert set(out) == {"tracks", "diagnostics"}
    assert set(out["tracks"][0]) == {"track_id", "artist", "title", "path", "transition_in"}
    assert out["tracks"][0]["transition_in"] is None and "NaN" not in text
    assert {
        "pool_size",
        "artists",
        "relaxations",
        "mean_transition",
        "min_transition",
        "max_per_artist",
    } <= set(out["diagnostics"])


def test_make_playlist_without_a_store_uses_the_artifact_and_names_an_unknown_seed(tmp_path):
    artifact = hand_made([1.0, 0.9, 0.8], ["s", "a", "b"], 0.3)
    playlist = make_playlist(
        playlist_context(artifact), seed_track_id=2, length=3, params=PlaylistParams(genre_weight=0.0)
    )
    assert playlist.tracks["artist"].tolist()[0] == "a" and playlist.tracks["path"].isna().all()
    with pytest.raises(ParameterError, match="track 4242"):
        make_playlist(playlist_context(artifact), seed_track_id=4242)
    with pytest.raises(ParameterError, match="mode"):
        make_playlist(
            playlist_context(artifact), seed_track_id=1, params=PlaylistParams.for_mode("loud")
        )


def test_make_playlist_loads_an_artifact_file_and_uses_the_store_keys(tmp_path):
    from musicwb.sonic.artifact import (
        ARTIFACT_FORMAT,
        ArtifactMismatchError,
        features_version,
        store_id,
        write_artifact,
    )

    artifact = hand_made([1.0, 0.95, 0.8, 0.7], ["s", "a", "b", "c"], 0.3)
    keys = ["8A", "3A", "9A", "8B"]
    with _store_with_tracks(tmp_path / "s.duckdb", artifact, keys=keys) as store:
        meta = {"format": ARTIFACT_FORMAT, "variant": "x"}
        unstamped = write_artifact(
            {**artifact, "meta": np.array(json.dumps(meta))}, tmp_path / "old.npz"
        )
        with pytest.raises(ArtifactMismatchError, match="records no store.*artifact build"):
            make_playlist(playlist_context(unstamped, store=store), seed_track_id=1)
        meta["store"] = {"id": store_id(store), "path": str(store.path)}
        meta["features"] = features_version(store).as_dict()
        path = write_artifact({**artifact, "meta": np.array(json.dumps(meta))}, tmp_path / "a.npz")
        playlist = make_playlist(
            playlist_context(path, store=store),
            seed_track_id=1,
            length=4,
            params=PlaylistParams(genre_weight=0.0, camelot=True, min_gap=0),
        )
    assert playlist.tracks["track_id"].tolist()[1] == 3  # 3A (track 2) does not mix with 8A


def test_make_playlist_leaves_out_recently_played_tracks(tmp_path):
    history = pytest.importorskip("musicwb.playlist.history")
    artifact = hand_made([1.0, 0.9, 0.8, 0.7], ["s", "a", "b", "c"], 0.3)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with _store_with_tracks(tmp_path / "s.duckdb", artifact) as store:
        plays = pd.DataFrame(
            {
                "track_id": [2, 3],
                "played_at": [now - timedelta(days=3), now - timedelta(days=40)],
                "source": "test",
            }
        )
        history.record_plays(store, plays)
        playlist = make_playlist(
            playlist_context(artifact, store=store),
            seed_track_id=1,
            length=4,
            params=PlaylistParams(genre_weight=0.0),
            now=now,
        )
        assert 2 not in playlist.tracks["track_id"].tolist()  # played 3 days ago
        assert 3 in playlist.tracks["track_id"].tolist()  # 40 days ago is long enough
        assert playlist.diagnostics["pool"]["excluded"] == 1
        everything = make_playlist(
            playlist_context(artifact, store=store),
            seed_track_id=1,
            length=4,
            params=PlaylistParams(genre_weight=0.0, recent_days=0),
            now=now,
        )
        assert 2 in everything.tracks["track_id"].tolist()


def test_level_4_lifts_the_cap_only_for_the_least_played_artists():
    artists = ["s", "a", "a", "a", "b", "b"]
    artifact = hand_made([1.0, 0.9, 0.85, 0.8, 0.5, 0.45], artists, 0.3)
    result = ordered(artifact, length=5, min_gap=0)  # at most 1 track per artist in 5
    # a3 sounds closer to the seed than b2, but "a" already has two tracks and "b" one.
    assert result.indices.tolist() == [0, 1, 4, 2, 5]
    assert [r["level"] for r in result.diagnostics["relaxations"]] == [4, 4]
    assert "with 1 track(s) so far" in result.diagnostics["relaxations"][1]["in_force"]


def test_sweep_gives_one_row_per_seed_and_value_and_shows_the_floor_cliff():
    from musicwb.playlist.sweeps import SWEEP_COLUMNS, sweep

    n = 30
    artifact = hand_made(
        [1.0, *np.linspace(0.9, 0.0, n - 1)], [f"a{i % 9}" for i in range(n)], 0.16
    )
    frame = sweep(
        playlist_context(artifact),
        seed_track_ids=[1, 2],
        parameter="similarity_floor",
        values=[0.0, 0.3, 0.6, 0.95],
        length=10,
        progress=False,
        params=PlaylistParams(genre_weight=0.0),
    )
    assert list(frame.columns) == list(SWEEP_COLUMNS) and len(frame) == 8
    seed_1 = frame[frame["seed_track_id"] == 1].set_index("value")
    assert seed_1["eligible"].is_monotonic_decreasing and seed_1.loc[0.95, "pool_size"] == 0
    assert seed_1.loc[0.95, "length"] == 1 and seed_1.loc[0.0, "length"] == 10
    lengths = sweep(
        playlist_context(artifact),
        seed_track_ids=[1],
        parameter="length",
        values=[3, 5],
        progress=False,
    )
    assert lengths["length"].tolist() == [3, 5]
    with pytest.raises(ParameterError, match="parameter"):
        sweep(playlist_context(artifact), seed_track_ids=[1], parameter="loudness", values=[1])
    with pytest.raises(ParameterError, match="similarity_floor"):
        sweep(
            playlist_context(artifact),
            seed_track_ids=[1],
            parameter="similarity_floor",
            values=[2.0],
            progress=False,
        )


def test_make_playlist_reads_the_tempo_from_the_store_when_the_artifact_has_none(tmp_path):
    artifact = hand_made([1.0, 0.95, 0.8, 0.7, 0.6], ["s", "a", "b", "c", "d"], 0.3)
    bpm = [128.0, 100.0, 64.0, 130.0, 0.0]
    now = pd.Timestamp("2026-01-01")
    vector = [0.0] * 137
    features = pd.DataFrame(
        {
            "track_id": artifact["track_ids"],
            "content_hash": [f"h{i}" for i in range(5)],
            "extractor_version": "test",
            "duration_s": 200.0,
            "n_beats": 400,
            "bpm": bpm,
            "half_tempo_likely": False,
            "double_tempo_likely": False,
            "tempo_stability": 1.0,
            "pulse_clarity": 0.5,
            "grid_full": False,
            "grid_start": False,
            "grid_mid": False,
            "grid_end": False,
            "vec_full": [vector] * 5,
            "vec_start": [vector] * 5,
            "vec_mid": [vector] * 5,
            "vec_end": [vector] * 5,
            "extracted_at": now,
        }
    )
    with _store_with_tracks(tmp_path / "s.duckdb", artifact) as store:
        store.insert("sonic_features", features)
        playlist = make_playlist(
            playlist_context(artifact, store=store),
            seed_track_id=1,
            length=5,
            params=PlaylistParams(
                genre_weight=0.0, similarity_floor=0.0, bpm_window=5.0, min_gap=0
            ),
        )
    order = playlist.tracks["track_id"].tolist()
    assert order[1] == 3  # 64 BPM: half of the seed's 128; 100 BPM (track 2) is out of reach
    position = order.index(2)
    assert order[position - 1] == 5 or playlist.ordering.levels[position] > 0
    with pytest.raises(ParameterError, match="bpm_window"):
        make_playlist(
            playlist_context(artifact),
            seed_track_id=1,
            length=5,
            params=PlaylistParams(bpm_window=5.0),
        )
