"""The candidate pool on small hand-made artifacts: every filter, cap and duplicate rule."""

from __future__ import annotations

import numpy as np
import pytest

from musicwb.errors import ParameterError
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import build_pool, library_of, title_key


def hand_made(
    cosines: list[float],
    artists: list[str],
    genres: list[list[str]] | None = None,
    *,
    copies: dict[int, int] | None = None,
) -> dict[str, np.ndarray]:
    """Track 0 is the seed; track i has cosine ``cosines[i]`` to it (``cosines[0]`` is ignored).

    Every other track gets a direction of its own, so two candidates have cosine
    ``c_i · c_j``; ``copies={j: i}`` makes track j's audio exactly track i's.
    """
    n = len(cosines)
    full = np.zeros((n, n), dtype=np.float32)
    full[0, 0] = 1.0
    for i in range(1, n):
        c = cosines[i]
        full[i, 0] = c
        full[i, i] = np.sqrt(1.0 - c * c)
    for j, i in (copies or {}).items():
        full[j] = full[i]
    genres = genres if genres is not None else [[] for _ in range(n)]
    vocab = sorted({g for track in genres for g in track})
    indptr = np.concatenate([[0], np.cumsum([len(g) for g in genres])]).astype(np.int64)
    indices = np.array([vocab.index(g) for track in genres for g in track], dtype=np.int32)
    return {
        "track_ids": np.arange(100, 100 + n, dtype=np.int64),
        "artist_keys": np.array(artists),
        "embedded_full": full,
        "genre_vocab": np.array(vocab, dtype=str),
        "genre_indptr": indptr,
        "genre_indices": indices,
    }


SONIC_ONLY = PlaylistParams(genre_weight=0.0, sonic_weight=1.0)


def test_similarity_floor_leaves_out_tracks_below_it_and_counts_them():
    artifact = hand_made([1, 0.9, 0.5, 0.2, 0.1, -0.3], ["s", "a", "b", "c", "d", "e"])
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY.replace(similarity_floor=0.15))
    assert pool.indices.tolist() == [1, 2, 3]
    assert pool.stats["below_floor"] == 2
    np.testing.assert_allclose(pool.sonic, [0.9, 0.5, 0.2], atol=1e-6)
    strict = build_pool(artifact, seed_index=0, params=SONIC_ONLY.replace(similarity_floor=0.6))
    assert strict.indices.tolist() == [1] and strict.stats["below_floor"] == 4
    no_floor = build_pool(artifact, seed_index=0, params=SONIC_ONLY.replace(similarity_floor=-1.0))
    assert no_floor.indices.tolist() == [1, 2, 3, 4, 5]  # -1 keeps even opposite sounds


def test_hybrid_similarity_weighs_sonic_and_genre():
    genres = [["house"], ["house"], ["techno"], ["house", "techno"], []]
    artifact = hand_made([1, 0.5, 0.5, 0.5, 0.5], ["s", "a", "b", "c", "d"], genres)
    params = PlaylistParams(similarity_floor=0.0, genre_gate=0.0)
    pool = build_pool(artifact, seed_index=0, params=params)
    by_row = dict(zip(pool.indices.tolist(), pool.similarity.tolist(), strict=True))
    house_and_techno = 0.6 / np.sqrt(2) + 0.4 * 0.5
    assert by_row[1] == pytest.approx(0.67 * 0.5 + 0.33 * 1.0)
    assert by_row[2] == pytest.approx(0.67 * 0.5)
    assert by_row[3] == pytest.approx(0.67 * 0.5 + 0.33 * house_and_techno)
    assert by_row[4] == pytest.approx(0.67 * 0.5)  # no genres: no genre credit
    assert pool.indices.tolist()[0] == 1 and pool.stats["genre_used"]


def test_a_seed_without_genres_is_judged_by_sound_alone():
    genres = [[], ["house"], ["techno"]]
    artifact = hand_made([1, 0.5, 0.4], ["s", "a", "b"], genres)
    pool = build_pool(artifact, seed_index=0, params=PlaylistParams())
    np.testing.assert_allclose(pool.similarity, [0.5, 0.4], atol=1e-6)
    assert not pool.stats["genre_used"] and pool.stats["genre_gated"] == 0


def test_genre_gate_drops_tagged_mismatches_but_not_untagged_tracks():
    genres = [["house"], ["jazz"], [], ["house"]]
    artifact = hand_made([1, 0.95, 0.6, 0.3], ["s", "a", "b", "c"], genres)
    pool = build_pool(artifact, seed_index=0, params=PlaylistParams(similarity_floor=0.1))
    # Track 1 sounds closest, but its genre (jazz) fails the 0.2 gate against house.
    assert 1 not in pool.indices and pool.stats["genre_gated"] == 1
    assert set(pool.indices.tolist()) == {2, 3}
    open_gate = build_pool(
        artifact, seed_index=0, params=PlaylistParams(similarity_floor=0.1, genre_gate=0.0)
    )
    assert 1 in open_gate.indices


def test_near_identical_audio_is_a_duplicate_of_the_seed_and_of_better_candidates():
    artists = ["s", "s", "a", "b", "c", "d"]
    artifact = hand_made([1, 0.9, 0.8, 0.7, 0.6, 0.5], artists, copies={1: 0, 4: 2})
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY)
    # 1 is the seed's audio again, 4 is the audio of 2 (the better of the two stays).
    assert pool.indices.tolist() == [2, 3, 5]
    assert pool.stats["duplicates"] == 2


def test_same_artist_same_title_versions_are_duplicates_but_other_artists_are_not():
    artists = ["s", "s", "a", "a", "b", "a"]
    titles = np.array(
        ["Strobe", "Strobe (Radio Edit)", "Ghosts", "Ghosts - 2019 Remaster", "Strobe", "Other"],
        dtype=object,
    )
    artifact = hand_made([1, 0.8, 0.7, 0.6, 0.5, 0.4], artists)
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY, titles=titles)
    assert pool.indices.tolist() == [2, 4, 5]  # 1 repeats the seed, 3 repeats 2
    assert pool.stats["duplicates"] == 2
    without_titles = build_pool(artifact, seed_index=0, params=SONIC_ONLY)
    assert without_titles.indices.tolist() == [1, 2, 3, 4, 5]


def test_title_key_drops_versions_and_folds_text():
    assert title_key("Café del Mar (Energy 52 Remix)") == title_key("CAFE DEL MAR")
    assert title_key("Song - Extended Mix") == "song"
    assert title_key(None) == ""
    assert title_key("Song 2") != title_key("Song")


def test_per_artist_cap_and_the_seed_artist_bonus():
    artists = ["s"] + ["s"] * 5 + ["a"] * 5 + ["b"] * 2
    cosines = [1.0] + list(np.linspace(0.9, 0.3, 12))
    artifact = hand_made(cosines, artists)
    params = SONIC_ONLY.replace(per_artist=2, seed_artist_bonus=1, duplicate_similarity=0.999)
    pool = build_pool(artifact, seed_index=0, params=params)
    kept = np.array(artists)[pool.indices]
    assert (kept == "s").sum() == 3  # per_artist + bonus
    assert (kept == "a").sum() == 2 and (kept == "b").sum() == 2
    assert pool.stats["seed_artist_tracks"] == 3
    # The best tracks of each artist are the ones kept.
    assert pool.indices.tolist() == [1, 2, 3, 6, 7, 11, 12]
    no_bonus = build_pool(artifact, seed_index=0, params=params.replace(seed_artist_bonus=0))
    assert (np.array(artists)[no_bonus.indices] == "s").sum() == 2


def test_target_artists_keeps_the_best_artists_and_the_seed_artist_first():
    # Ten artists with three tracks each; the seed's artist has the weakest matches.
    artists = ["s"] + [f"a{k}" for k in range(9) for _ in range(3)] + ["s"] * 3
    cosines = [1.0] + list(np.linspace(0.9, 0.4, 27)) + [0.35, 0.34, 0.33]
    artifact = hand_made(cosines, artists)
    params = SONIC_ONLY.replace(target_artists=3, per_artist=3, seed_artist_bonus=0)
    pool = build_pool(artifact, seed_index=0, params=params)
    kept = set(np.array(artists)[pool.indices])
    assert kept == {"s", "a0", "a1"}
    assert len(pool) == 9 and pool.stats["artists"] == 3 and pool.stats["eligible_artists"] == 10


def test_artists_with_few_tracks_bring_more_artists_in():
    # One track per artist: three artists cannot give target_artists * per_artist = 6 tracks.
    artists = ["s"] + [f"a{k}" for k in range(10)]
    artifact = hand_made([1.0, *np.linspace(0.9, 0.5, 10)], artists)
    pool = build_pool(
        artifact, seed_index=0, params=SONIC_ONLY.replace(target_artists=3, per_artist=2)
    )
    assert len(pool) == 6 and pool.stats["artists"] == 6
    assert pool.indices.tolist() == [1, 2, 3, 4, 5, 6]


def test_max_pool_keeps_the_best():
    artists = [f"a{k}" for k in range(21)]
    artifact = hand_made([1.0, *np.linspace(0.9, 0.3, 20)], artists)
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY.replace(max_pool=5))
    assert pool.indices.tolist() == [1, 2, 3, 4, 5]
    assert np.all(np.diff(pool.similarity) <= 0)


def test_excluded_tracks_are_left_out_as_rows_or_mask():
    artifact = hand_made([1, 0.9, 0.8, 0.7], ["s", "a", "b", "c"])
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY, exclude=np.array([1, 3]))
    assert pool.indices.tolist() == [2] and pool.stats["excluded"] == 2
    mask = np.array([False, False, True, False])
    assert build_pool(artifact, seed_index=0, params=SONIC_ONLY, exclude=mask).indices.tolist() == [
        1,
        3,
    ]
    with pytest.raises(ParameterError, match="exclude"):
        build_pool(artifact, seed_index=0, params=SONIC_ONLY, exclude=np.array([9]))


def test_tracks_without_an_artist_are_each_their_own_artist():
    artifact = hand_made([1, 0.9, 0.8, 0.7], ["s", "", "", ""])
    library = library_of(artifact)
    assert len(set(library.artist_codes[1:].tolist())) == 3
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY.replace(per_artist=1))
    assert len(pool) == 3


def test_unnormalised_embeddings_give_cosines():
    artifact = hand_made([1, 0.6, 0.3], ["s", "a", "b"])
    artifact["embedded_full"] = artifact["embedded_full"] * np.array(
        [[3.0], [0.5], [7.0]], np.float32
    )
    pool = build_pool(artifact, seed_index=0, params=SONIC_ONLY)
    np.testing.assert_allclose(pool.sonic, [0.6, 0.3], atol=1e-6)


def test_bad_inputs_are_parameter_errors_naming_the_problem():
    artifact = hand_made([1, 0.9], ["s", "a"])
    with pytest.raises(ParameterError, match="seed_index"):
        build_pool(artifact, seed_index=5, params=SONIC_ONLY)
    with pytest.raises(ParameterError, match="embedded_full"):
        build_pool(
            {"track_ids": np.arange(2), "artist_keys": np.array(["a", "b"])},
            seed_index=0,
            params=SONIC_ONLY,
        )
    with pytest.raises(ParameterError, match="track 999"):
        library_of(artifact).row_of(999)


def test_params_modes_overrides_and_validation():
    assert PlaylistParams().similarity_floor == 0.15 and PlaylistParams().max_pool == 1200
    narrow, dynamic, discover = (
        PlaylistParams.for_mode(m) for m in ("narrow", "dynamic", "discover")
    )
    assert narrow.similarity_floor > dynamic.similarity_floor > discover.similarity_floor
    assert narrow.target_artists < dynamic.target_artists < discover.target_artists
    assert discover.alpha_mid < dynamic.alpha_mid and discover.seed_artist_bonus == 0
    assert PlaylistParams.for_mode("narrow", min_gap=2, beta=None).min_gap == 2
    with pytest.raises(ParameterError, match="mode"):
        PlaylistParams.for_mode("chill")
    with pytest.raises(ParameterError, match="similarity_flor"):
        PlaylistParams.for_mode("dynamic", similarity_flor=0.2)
    with pytest.raises(ParameterError, match="similarity_floor"):
        PlaylistParams(similarity_floor=1.5)
    with pytest.raises(ParameterError, match="min_gap"):
        PlaylistParams(min_gap=-1)
    with pytest.raises(ParameterError, match="relaxation_levels"):
        PlaylistParams(relaxation_levels=5)


def test_genre_smoothing_lets_a_sub_genre_share_with_its_parent():
    from musicwb.genres import genre_similarity

    genres = [["house"], ["deep house"], ["jazz"]]
    artifact = hand_made([1, 0.5, 0.5], ["s", "a", "b"], genres)
    params = PlaylistParams(similarity_floor=0.0, genre_gate=0.0)
    plain = build_pool(artifact, seed_index=0, params=params)
    smooth = build_pool(artifact, seed_index=0, params=params.replace(genre_smoothing=0.5))
    assert plain.genre.tolist() == [0.0, 0.0]
    by_row = dict(zip(smooth.indices.tolist(), smooth.genre.tolist(), strict=True))
    expected = genre_similarity(["house"], ["deep house"], smoothing=0.5)
    assert expected > 0.3 and by_row[1] == pytest.approx(expected) and by_row[2] == 0.0
