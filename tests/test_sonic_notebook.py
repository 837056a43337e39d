"""The sonic_validation notebook's tables: what a reader checks in each of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicwb.errors import ParameterError
from musicwb.sonic import notebook
from musicwb.sonic.charts import projection_scatter, similarity_histogram_bars
from musicwb.sonic.validation import compare_variants
from musicwb.sonic.whiten import fit_preprocessor
from musicwb.store import Store


@pytest.fixture(scope="module")
def library():
    """Four artists with two albums each; an artist's tracks share a sound centre."""
    rng = np.random.default_rng(3)
    artists = np.repeat(["Ann", "Bo", "Cy", "Di"], 10)
    albums = np.array([f"{a} album {i // 5}" for i, a in enumerate(artists)], dtype=object)
    full = np.repeat(rng.normal(size=(4, 137)), 10, axis=0) + 0.4 * rng.normal(size=(40, 137))
    labels = pd.DataFrame(
        {
            "track_id": np.arange(101, 141),
            "artist": artists,
            "title": [f"Track {i}" for i in range(40)],
            "album": albums,
        }
    )
    return full.astype(np.float32), labels


def test_a_store_without_features_has_no_analysed_tracks(demo_store):
    with Store(demo_store, read_only=True) as store:
        labels = notebook.analysed_labels(store)
        tracks = store.scalar("SELECT count(*) FROM tracks")
    assert tracks > 0
    assert labels.empty
    assert list(labels.columns) == ["track_id", "artist", "title", "album"]


def test_variants_to_compare_always_puts_raw_beside_the_choice():
    assert notebook.variants_to_compare("all") == ("raw", "zscore", "robust_whiten")
    assert notebook.variants_to_compare("robust_whiten") == ("raw", "robust_whiten")
    assert notebook.variants_to_compare("raw") == ("raw",)
    with pytest.raises(ParameterError, match="variant"):
        notebook.variants_to_compare("whitened")


def test_verdict_table_shows_pass_and_fail_side_by_side(library):
    full, labels = library
    table, _, _ = compare_variants(
        full,
        artists=labels["artist"],
        albums=labels["album"],
        track_ids=labels["track_id"],
        variants=("raw", "robust_whiten"),
    )
    verdicts = notebook.verdict_table(table)
    assert list(verdicts.columns) == ["metric", "target", "raw", "robust_whiten"]
    assert verdicts["metric"].tolist() == list(dict.fromkeys(table["metric"]))
    gap = verdicts.set_index("metric").loc["topk_gap"]
    assert gap["target"] == ">= 0.15"
    expected = table[(table.variant == "robust_whiten") & (table.metric == "topk_gap")].iloc[0]
    assert gap["robust_whiten"].startswith(f"{expected['mean']:.3f} ± {expected['std']:.3f}")
    assert gap["robust_whiten"].endswith("PASS" if expected["passes"] else "FAIL")
    assert "x random" in verdicts.set_index("metric").loc["precision_at_10", "target"]
    assert all(v.endswith(("PASS", "FAIL")) for v in verdicts[["raw", "robust_whiten"]].stack())


def test_seed_row_finds_the_track_or_names_it():
    assert notebook.seed_row(np.array([5, 8, 13]), 0) == 0
    assert notebook.seed_row(np.array([5, 8, 13]), 13) == 2
    with pytest.raises(ParameterError, match="seed_track 7"):
        notebook.seed_row(np.array([5, 8, 13]), 7)
    with pytest.raises(ParameterError, match="musicwb extract"):
        notebook.seed_row(np.array([], dtype=int), 0)


def test_seed_similarities_separate_the_seed_artist_from_the_rest(library):
    full, labels = library
    embedded = {"zscore": fit_preprocessor(full, variant="zscore").transform(full)}
    sims = notebook.seed_similarities(embedded, labels, seed=0)
    assert len(sims) == 39 and 101 not in set(sims["track_id"])  # the seed itself is left out
    counts = sims["group"].value_counts()
    assert counts["same album"] == 4 and counts["same artist, other album"] == 5
    assert counts["other"] == 30
    means = sims.groupby("group")["similarity"].mean()
    assert means["same artist, other album"] > means["other"] + 0.3
    histogram = notebook.similarity_histogram(sims, bins=20)
    shares = histogram.groupby("group")["share"].sum()
    assert np.allclose(shares, 1.0)
    assert histogram["tracks"].sum() == 39
    spec = similarity_histogram_bars(histogram).to_dict()
    assert spec["facet"]["field"] == "variant"


def test_projection_keeps_every_track_with_its_artist(library):
    full, labels = library
    embedded = fit_preprocessor(full, variant="robust_whiten").transform(full)
    frame = notebook.projection_frame(embedded, labels)
    assert len(frame) == 40 and set(frame["artist"]) == {"Ann", "Bo", "Cy", "Di"}
    # artists are separate clouds: each artist's centre is far from the others' spread
    centres = frame.groupby("artist")[["pc1", "pc2"]].mean()
    assert centres.std().max() > frame.groupby("artist")[["pc1", "pc2"]].std().mean().max()
    featured = labels.assign(
        artist=labels["artist"].where(labels["track_id"] != 103, "Ann feat. Zed")
    )
    coloured = notebook.projection_frame(embedded, featured).set_index("track_id")
    assert coloured.loc[103, "artist"] == "Ann" and coloured.loc[103, "credit"] == "Ann feat. Zed"
    sampled = notebook.projection_frame(embedded, labels, max_points=10)
    assert len(sampled) == 10 and set(sampled["track_id"]) <= set(labels["track_id"])
    spec = projection_scatter(frame).to_dict()
    assert spec["encoding"]["color"]["field"] == "artist"


def test_nearest_neighbours_rank_the_same_artist_first(library):
    full, labels = library
    embedded = fit_preprocessor(full, variant="robust_whiten").transform(full)
    seed = notebook.seed_row(labels["track_id"], 112)
    near = notebook.nearest_neighbours(embedded, labels, seed=seed, k=5)
    assert near["rank"].tolist() == [1, 2, 3, 4, 5]
    assert 112 not in set(near["track_id"])
    assert near["similarity"].is_monotonic_decreasing
    assert near["same_artist"].all() and set(near["artist"]) == {"Bo"}
    featured = labels.assign(
        artist=labels["artist"].where(labels["track_id"] != 113, "BO feat. Zed")
    )
    near = notebook.nearest_neighbours(embedded, featured, seed=seed, k=5)
    assert near["same_artist"].all()  # a featured guest does not make it another artist
    assert near["same_album"].tolist() == (near["album"] == "Bo album 2").tolist()
    with pytest.raises(ParameterError, match="k must"):
        notebook.nearest_neighbours(embedded, labels, seed=seed, k=0)


def test_embed_variants_reproduces_the_validated_fits(library):
    full, labels = library
    _, _, results = compare_variants(
        full, artists=labels["artist"], albums=labels["album"], variants=("raw", "robust_whiten")
    )
    embedded = notebook.embed_variants(full, results)
    assert list(embedded) == ["raw", "robust_whiten"]
    assert embedded["raw"].shape == (40, 137)
    expected = fit_preprocessor(
        full, variant="robust_whiten", **results["robust_whiten"]["settings"]
    )
    assert np.allclose(embedded["robust_whiten"], expected.transform(full))
    assert np.allclose(np.linalg.norm(embedded["robust_whiten"], axis=1), 1.0, atol=1e-5)
