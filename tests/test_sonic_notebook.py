"""The sonic_validation notebook's tables: what a reader checks in each of them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from live_notebook import run_cells_then_write

from musicwb.errors import ParameterError
from musicwb.notebook import sonic_validation as notebook
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
    assert notebook.variants_to_compare("all") == ("raw", "zscore", "robust_whiten", "learned")
    assert notebook.variants_to_compare("learned") == ("raw", "learned")
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


def test_retrieval_table_and_chart_show_in_sample_beside_artist_disjoint(library):
    from musicwb.sonic.charts import retrieval_bars, retrieval_chart
    from musicwb.sonic.validation import retrieval_comparison

    full, labels = library
    frame = retrieval_comparison(
        full,
        artists=labels["artist"],
        albums=labels["album"],
        variants=("zscore", "learned"),
        n_folds=4,
        n_boot=100,
    )
    table = notebook.retrieval_table(frame)
    assert set(zip(table["method"], table["evaluation"])) >= {
        ("zscore", "in_sample"),
        ("zscore", "artist_disjoint"),
        ("learned", "artist_disjoint"),
        ("random", "artist_disjoint"),
    }
    assert {"precision_at_10 micro", "precision_at_10 macro", "map micro", "map macro"} <= set(
        table.columns
    )
    assert " [" in table.loc[0, "precision_at_10 micro"]  # with its interval
    spec = retrieval_bars(frame).to_dict()
    assert len(spec["layer"]) == 2
    both = retrieval_chart(frame).to_dict()["hconcat"]
    assert [panel["title"] for panel in both] == [
        "Same-artist precision@10",
        "Mean average precision (same artist)",
    ]
    assert notebook.peer_runs(None, track_ids=[1, 2], peers=False) == []


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
    assert spec["encoding"]["color"]["field"] == "colour"  # the artist, or "other artists"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Ann", "Bo", "Cy", "Di"]


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


# -- the notebook on a store: flagged tracks, and a store it does not lock ----------------------

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def feature_store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo library (real audio files) with drawn sonic features: an artist's
    tracks share a sound centre (extracting the demo takes minutes)."""
    from musicwb.text import artist_key

    path = tmp_path_factory.mktemp("features") / "lib.duckdb"
    shutil.copy(demo_store, path)
    with Store(path) as store:
        tracks = store.df("SELECT id, artist, content_hash FROM tracks ORDER BY id")
        rng = np.random.default_rng(8)
        keys = [artist_key(a) or f"unknown {i}" for i, a in enumerate(tracks["artist"])]
        centres = {key: rng.normal(size=137) for key in sorted(set(keys))}
        full = np.stack([centres[key] for key in keys]) + 0.4 * rng.normal(size=(len(keys), 137))
        segments = {f"vec_{s}": full + 0.2 * rng.normal(size=full.shape) for s in ("start", "mid", "end")}  # fmt: skip
        rows = pd.DataFrame(
            {
                "track_id": tracks["id"], "content_hash": tracks["content_hash"],
                "extractor_version": "beat3tower-1.0", "duration_s": 60.0, "n_beats": 100,
                "bpm": 124.0, "half_tempo_likely": False, "double_tempo_likely": False,
                "tempo_stability": 0.9, "pulse_clarity": 0.5, "grid_full": False,
                "grid_start": False, "grid_mid": False, "grid_end": False,
                "extracted_at": dt.datetime(2026, 11, 1),
                **{name: [[float(v) for v in row] for row in matrix]
                   for name, matrix in {"vec_full": full, **segments}.items()},
            }
        )  # fmt: skip
        store.insert("sonic_features", rows)
    return path


def test_flagged_tracks_are_left_out_of_the_notebook_s_tracks(feature_store, tmp_path):
    path = tmp_path / "lib.duckdb"
    shutil.copy(feature_store, path)
    with Store(path) as store:
        every = notebook.analysed_labels(store)
        flagged = every["track_id"].tolist()[:2]
        store.execute(
            "UPDATE sonic_features SET content_flag = 'silence' WHERE list_contains(?, track_id)",
            [flagged],
        )
        store.execute("UPDATE tracks SET missing_since = now() WHERE id = ?", [flagged[0] + 5])
        music = notebook.analysed_labels(store)
        kept = notebook.analysed_labels(store, include_flagged=True)
    assert len(music) == len(every) - 2 and not set(flagged) & set(music["track_id"])
    assert kept["track_id"].tolist() == every["track_id"].tolist()  # missing files stay in


def test_extract_writes_while_the_notebook_is_open(feature_store, tmp_path):
    store = tmp_path / "lib.duckdb"
    shutil.copy(feature_store, store)
    with Store(store) as opened:  # one track not analysed yet: extract has something to write
        pending = int(opened.scalar("SELECT max(track_id) FROM sonic_features"))
        opened.execute("DELETE FROM sonic_features WHERE track_id = ?", [pending])
        opened.execute(
            "UPDATE sonic_features SET content_flag = 'silence' WHERE track_id = "
            "(SELECT min(track_id) FROM sonic_features)"
        )
    nb, extract = run_cells_then_write(
        REPO / "notebooks" / "sonic_validation.ipynb", store=store, parameters="k = 5", cwd=tmp_path
    )
    assert extract.returncode == 0, extract.stderr  # not locked out by the open notebook
    assert json.loads(extract.stdout.splitlines()[-1])["analysed"] == 1
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "left out 1 analysed track(s): 1 silence" in text
    assert "best variant:" in text
    # in-sample beside artist-disjoint, every variant, with the verdict in one sentence
    assert "Artist-disjoint (fitted on other artists)" in text and "in-sample," in text
    # and what the store's playlists would use beside it (no validate run here: the default)
    assert "A playlist artifact built now uses learned (default)" in text
    html = "".join(
        o.get("data", {}).get("text/html", "") for o in outputs if o.output_type != "stream"
    )
    assert "artist_disjoint" in html and "learned" in html and "precision_at_10 macro" in html
