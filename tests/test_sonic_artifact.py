"""Artifact, backups, validation and their commands on a store of synthetic feature rows.

The rows are written the way the batch writes them (:func:`results_to_tables`), with vectors
clustered by artist, so that the pipeline after extraction can be checked without audio.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.errors import ParameterError
from musicwb.sonic.analysis import Analysed
from musicwb.sonic.artifact import build_artifact, load_artifact, load_feature_set
from musicwb.sonic.backups import backup_features, list_backups, restore_features
from musicwb.sonic.extract import features_frame, pending_tracks, results_to_tables
from musicwb.sonic.towers import SEGMENTS, feature_names, tower_slices
from musicwb.store import Store

GENRES = ["Techno", "House", "Ambient", "Electro"]


def synthetic_results(n: int, *, n_artists: int = 8, seed: int = 0) -> list[dict]:
    """Worker-like results: per-artist centres plus noise, segments near their track."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_artists, 137)) * np.exp(rng.uniform(-2, 4, size=137))
    results = []
    for i in range(n):
        full = centres[i % n_artists] * (1 + 0.2 * rng.normal(size=137))
        matrix = np.stack([full * (1 + 0.05 * rng.normal(size=137)) for _ in SEGMENTS]).astype(
            np.float32
        )
        matrix[0] = full
        results.append(
            Analysed(
                track_id=i + 1,
                path=f"/music/{i + 1}.ogg",
                content_hash=f"h{i + 1}",
                matrix=matrix,
                version="beat3tower-1.0",
                duration_s=180.0,
                n_beats=300,
                bpm_info={
                    "bpm": 120.0,
                    "half_tempo_likely": False,
                    "double_tempo_likely": i % 5 == 0,
                    "tempo_stability": 0.9,
                    "pulse_clarity": 0.5,
                },
                fixed_grid={s: i % 7 == 0 for s in SEGMENTS},
            )
        )
    return results


def make_store(path: Path, n: int, *, n_artists: int = 8, seed: int = 0) -> Path:
    now = datetime(2026, 1, 1)
    tracks = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "path": [f"/music/{i}.ogg" for i in range(1, n + 1)],
            "size": 1000,
            "mtime": 0.0,
            "content_hash": [f"h{i}" for i in range(1, n + 1)],
            "artist": [f"Artist {(i - 1) % n_artists}" for i in range(1, n + 1)],
            "album": [f"Album {(i - 1) % n_artists}-{(i - 1) % 2}" for i in range(1, n + 1)],
            "genres": [[GENRES[i % 4]] if i % 3 else [] for i in range(1, n + 1)],
            "added_at": now,
            "updated_at": now,
        }
    )
    features, errors = results_to_tables(synthetic_results(n, n_artists=n_artists, seed=seed))
    with Store(path) as store:
        store.insert("tracks", tracks)
        store.insert("sonic_features", features)
        store.insert("sonic_errors", errors)
    return path


@pytest.fixture
def store_path(tmp_path):
    return make_store(tmp_path / "lib.duckdb", 96)


def test_rows_written_like_the_batch_read_back_exactly(store_path):
    expected = synthetic_results(96)
    with Store(store_path) as store:
        frame = features_frame(store, segment="end")
        assert list(frame.columns[1:]) == feature_names()
        np.testing.assert_array_equal(
            frame.iloc[5, 1:].to_numpy(np.float32), expected[5].matrix[3]
        )
        assert pending_tracks(store).empty  # every track has features for its content
        store.execute("UPDATE tracks SET content_hash = 'changed' WHERE id = 7")
        assert pending_tracks(store)["id"].tolist() == [7]
        fs = load_feature_set(store)
    assert len(fs) == 96 and fs.matrices["full"].shape == (96, 137)
    assert fs.artist_keys[0] == "artist 0" and fs.albums[1] == "album 1 1"


def test_artifact_holds_towers_labels_preprocessing_and_calibration(store_path, tmp_path):
    with Store(store_path) as store:
        path = build_artifact(store, out=tmp_path / "a.npz", variant="robust_whiten")
        fs = load_feature_set(store)
    for mmap in (True, False):
        artifact = load_artifact(path, mmap=mmap)
        assert artifact.variant == "robust_whiten" and artifact.meta["n_tracks"] == 96
        np.testing.assert_array_equal(artifact["track_ids"], fs.track_ids)
        for segment in SEGMENTS:
            for tower, part in tower_slices().items():
                np.testing.assert_array_equal(
                    artifact[f"raw_{segment}_{tower}"], fs.matrices[segment][:, part]
                )
            np.testing.assert_array_equal(artifact.raw(segment), fs.matrices[segment])
        # The stored preprocessing reproduces the stored embeddings.
        again = artifact.preprocessor().transform(artifact.raw("start")).astype(np.float32)
        np.testing.assert_allclose(again, artifact["embedded_start"], atol=1e-6)
        assert artifact["artist_keys"][0] == "artist 0"
        assert artifact["album_names"][artifact["album_ids"][1]] == "album 1 1"
        # genres are canonical (as playlists compare them), whatever the tags' spelling
        assert artifact.genres(0) == ["house"] and artifact.genres(2) == []
        assert sorted(artifact["genre_vocab"]) == ["ambient", "electro", "house", "techno"]
        calibration = artifact["calibration"]
        assert calibration.shape == (4, 7)
        assert list(artifact["calibration_towers"]) == ["rhythm", "timbre", "harmony", "combined"]
        assert np.all(np.abs(calibration[:, :5]) <= 1.0)
    assert isinstance(load_artifact(path)["raw_full_timbre"], np.memmap)


def test_artifact_uses_the_variant_the_last_validation_named(store_path, tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["validate", "--store", str(store_path), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert set(report["variants"]) == {"raw", "zscore", "robust_whiten", "learned"}
    best = report["best_variant"]
    done = runner.invoke(
        app,
        [
            "artifact",
            "build",
            "--store",
            str(store_path),
            "--out",
            str(tmp_path / "b.npz"),
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    meta = json.loads(done.stdout)
    assert meta["variant"] == best and meta["variant_source"].startswith("validation run")


def test_validate_one_variant_reports_every_metric_and_a_seed(store_path):
    done = CliRunner().invoke(
        app,
        [
            "validate",
            "--store",
            str(store_path),
            "--variant",
            "zscore",
            "--seed-track",
            "3",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    for key in ("flatness", "topk_gap", "intra_artist", "intra_album", "precision_at_10", "map"):
        assert {"mean", "std", "passes"} <= set(report[key])
    assert report["passes"] is True  # clustered by artist: similarity means something
    assert report["seed"]["track_id"] == 3 and set(report["seed"]["passes"]) >= {"topk_gap"}
    done = CliRunner().invoke(app, ["validate", "--store", str(store_path), "--variant", "zscore"])
    assert "precision_at_10" in done.stdout and "✓" in done.stdout


def test_backup_list_and_restore_dry_run_then_apply(store_path, tmp_path):
    backups = tmp_path / "backups"
    with Store(store_path) as store:
        info = backup_features(store, name="first", backup_dir=backups)
        assert info["count"] == 96 and info["extractor_versions"] == {"beat3tower-1.0": 96}
        meta = json.loads((backups / "first" / "meta.json").read_text())
        assert meta["count"] == 96 and "created_at" in meta
        with pytest.raises(ParameterError, match="exists already"):
            backup_features(store, name="first", backup_dir=backups)
        before = features_frame(store)
        store.execute("DELETE FROM sonic_features WHERE track_id > 90")
        store.execute("UPDATE sonic_features SET vec_full = vec_start WHERE track_id = 1")
        plan = restore_features(store, "first", backup_dir=backups)
        assert plan == {**plan, "applied": False, "current": 90, "would_restore": 96, "changed": 1}
        assert store.scalar("SELECT count(*) FROM sonic_features") == 90  # dry run changed nothing
        done = restore_features(store, "first", apply=True, backup_dir=backups)
        assert done["applied"]
        pd.testing.assert_frame_equal(features_frame(store), before)
        with pytest.raises(ParameterError, match="no complete backup"):
            restore_features(store, "nope", backup_dir=backups)
    listed = list_backups(backup_dir=backups)
    # the restore backed up what it replaced first (the 90 rows), so it can be undone
    assert listed["name"].tolist()[1:] == ["first"] and listed["count"].tolist() == [90, 96]
    assert listed["reason"].iloc[0] == "before restore of first"
    assert (backups / "first" / "features.parquet").stat().st_size < 96 * 4 * 137 * 4


def test_backup_commands(store_path, tmp_path):
    runner, backups = CliRunner(), str(tmp_path / "b")
    common = ["--store", str(store_path), "--dir", backups]
    done = runner.invoke(app, ["features", "backup", "--name", "snap", *common, "--json"])
    assert done.exit_code == 0, done.output and json.loads(done.stdout)["count"] == 96
    listed = json.loads(
        runner.invoke(app, ["features", "list-backups", "--dir", backups, "--json"]).stdout
    )
    assert [row["name"] for row in listed] == ["snap"]
    done = runner.invoke(app, ["features", "restore", "snap", *common])
    assert done.exit_code == 0 and "would restore 96" in done.stdout and "--apply" in done.stdout
    done = runner.invoke(app, ["features", "restore", "snap", *common, "--apply", "--json"])
    assert json.loads(done.stdout)["applied"] is True


def test_artifact_needs_features(tmp_path):
    with (
        Store(tmp_path / "empty.duckdb") as store,
        pytest.raises(ParameterError, match="at least 3"),
    ):
        build_artifact(store, out=tmp_path / "x.npz", variant="raw")
    with pytest.raises(ParameterError, match="no artifact"):
        load_artifact(tmp_path / "missing.npz")


def test_feature_set_is_in_track_order_whatever_the_write_order(tmp_path):
    results = synthetic_results(30)
    path = make_store(tmp_path / "a.duckdb", 30)
    with Store(path) as store:
        store.execute("DELETE FROM sonic_features")
        features, _ = results_to_tables(results[::-1])  # as workers finish: any order
        store.insert("sonic_features", features)
        fs = load_feature_set(store)
    assert fs.track_ids.tolist() == list(range(1, 31))
    np.testing.assert_array_equal(fs.matrices["mid"][4], results[4].matrix[2])
    assert fs.artists[4] == "Artist 4"


def test_npz_writer_writes_what_savez_writes_and_nothing_when_interrupted(tmp_path):
    from musicwb.sonic.npz import NpzWriter

    arrays = {
        "matrix": np.arange(12, dtype=np.float32).reshape(3, 4),
        "names": np.array(["a", "bb"]),
        "meta": np.array(json.dumps({"n": 3})),
    }
    out = tmp_path / "nested" / "a.npz"
    with NpzWriter(out) as writer:
        for name, array in arrays.items():
            writer.add(name, array)
    np.savez(tmp_path / "reference.npz", **arrays)
    with np.load(out, allow_pickle=False) as ours, np.load(tmp_path / "reference.npz") as theirs:
        assert sorted(ours) == sorted(theirs)
        for name in arrays:
            np.testing.assert_array_equal(ours[name], theirs[name])
    before = out.read_bytes()
    with pytest.raises(KeyboardInterrupt), NpzWriter(out) as writer:
        writer.add("matrix", np.zeros((1000, 137), np.float32))
        raise KeyboardInterrupt  # e.g. Ctrl-C while the preprocessing is fitted
    assert out.read_bytes() == before  # the previous artifact is kept whole
    assert not any(p.name.endswith(".partial") for p in out.parent.iterdir())
    with pytest.raises(ParameterError, match="added twice"):
        with NpzWriter(tmp_path / "b.npz") as writer:
            writer.add("x", np.zeros(2))
            writer.add("x", np.ones(2))
    assert not (tmp_path / "b.npz").exists()
    with pytest.raises(ValueError, match="[Oo]bject arrays"):
        with NpzWriter(tmp_path / "c.npz") as writer:
            writer.add("objects", np.array([{"a": 1}], dtype=object))
    assert not (tmp_path / "c.npz").exists()


# -- the artifact belongs to its store; missing and flagged tracks ------------------------------


def _flag(path: Path, flags: dict[int, str]) -> None:
    with Store(path) as store:
        for track_id, flag in flags.items():
            store.execute(
                "UPDATE sonic_features SET content_flag = ?, content_reason = 'test' "
                "WHERE track_id = ?",
                [flag, track_id],
            )


def test_artifact_lives_beside_its_store_and_records_it(store_path, tmp_path, monkeypatch):
    from musicwb.sonic.artifact import ArtifactMismatchError, check_artifact

    monkeypatch.chdir(tmp_path)  # the current folder plays no part
    done = CliRunner().invoke(app, ["artifact", "build", "--store", str(store_path), "--json"])
    assert done.exit_code == 0, done.output
    meta = json.loads(done.stdout)
    assert meta["path"] == str(store_path.with_name("lib.artifact.npz"))
    assert not (tmp_path / "data").exists()
    with Store(store_path) as store:
        store_id = store.scalar("SELECT value FROM store_info WHERE key = 'store_id'")
        assert meta["store"] == {"id": store_id, "path": str(store_path)}
        assert meta["features"]["rows"] == 96 and meta["features"]["latest"]
        artifact = load_artifact(meta["path"])
        check_artifact(artifact, store)  # its own, current: accepted
        # extracted again since: stale
        store.execute("UPDATE sonic_features SET extracted_at = now() WHERE track_id = 5")
        with pytest.raises(ArtifactMismatchError, match=r"stale.*musicwb artifact build --store"):
            check_artifact(artifact, store)
    other = make_store(tmp_path / "other.duckdb", 96)  # same ids, another library
    with Store(other, read_only=True) as store:
        with pytest.raises(ArtifactMismatchError, match="another store") as refused:
            check_artifact(artifact, store)
    assert str(store_path) in str(refused.value) and f"--store {other}" in str(refused.value)


def test_artifact_leaves_out_missing_files_and_flagged_tracks(store_path, tmp_path):
    with Store(store_path) as store:
        store.execute("UPDATE tracks SET missing_since = now() WHERE id IN (3, 4)")
    _flag(store_path, {4: "silence", 10: "silence", 11: "near_silence", 12: "steady_tone"})
    runner = CliRunner()
    done = runner.invoke(app, ["artifact", "build", "--store", str(store_path)])
    assert done.exit_code == 0, done.output
    assert "left out 5 analysed track(s): 2 missing file(s), 1 near-silence, 1 silence, " \
        "1 steady-tone (--include-flagged keeps the flagged ones)" in done.stdout  # fmt: skip
    artifact = load_artifact(store_path.with_name("lib.artifact.npz"))
    ids = set(artifact["track_ids"].tolist())
    assert len(ids) == 91 and not ids & {3, 4, 10, 11, 12}
    assert artifact.meta["left_out"] == {
        "missing": 2,
        "flagged": {"silence": 1, "near_silence": 1, "steady_tone": 1},
        "total": 5,
    }
    done = runner.invoke(
        app, ["artifact", "build", "--store", str(store_path), "--include-flagged", "--json"]
    )
    meta = json.loads(done.stdout)
    assert meta["n_tracks"] == 94 and meta["include_flagged"] is True
    kept = load_artifact(meta["path"])
    flags = dict(zip(kept["track_ids"].tolist(), kept["content_flags"].tolist(), strict=True))
    assert flags[10] == "silence" and flags[12] == "steady_tone" and flags[1] == ""
    assert 3 not in flags and 4 not in flags  # a missing file stays out, flagged or not


def test_validate_on_a_small_store_gives_the_real_reason(tmp_path):
    small = make_store(tmp_path / "small.duckdb", 7, n_artists=3)
    done = CliRunner().invoke(app, ["validate", "--store", str(small)])
    assert isinstance(done.exception, ParameterError)
    message = str(done.exception)
    assert "at least 12 analysed tracks" in message and "7 usable of 7 track(s)" in message
    assert "every track is analysed already" in message and "musicwb extract" not in message
    with Store(small) as store:  # one more track, not analysed yet
        store.execute(
            "INSERT INTO tracks (id, path, size, mtime, content_hash, added_at, updated_at) "
            "VALUES (8, '/music/8.ogg', 1, 0, 'h8', now(), now())"
        )
    message = str(CliRunner().invoke(app, ["validate", "--store", str(small)]).exception)
    assert "1 track(s) are not analysed yet: run `musicwb extract`" in message


def test_validate_leaves_out_flagged_tracks_and_says_so(store_path):
    _flag(store_path, {1: "silence", 2: "silence", 3: "steady_tone"})
    runner = CliRunner()
    done = runner.invoke(app, ["validate", "--store", str(store_path), "--variant", "zscore",
                               "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["n_tracks"] == 93
    assert report["left_out"] == {
        "missing": 0,
        "flagged": {"silence": 2, "steady_tone": 1},
        "total": 3,
    }
    text = runner.invoke(app, ["validate", "--store", str(store_path), "--variant", "zscore"])
    assert "left out 3 analysed track(s): 2 silence, 1 steady-tone" in text.stdout
    everything = runner.invoke(app, ["validate", "--store", str(store_path), "--variant",
                                     "zscore", "--include-flagged", "--json"])  # fmt: skip
    assert json.loads(everything.stdout)["n_tracks"] == 96
    with pytest.raises(ParameterError, match="seed track 1 is flagged silence.*include-flagged"):
        from musicwb.sonic.validation import validate_store

        with Store(store_path, read_only=True) as store:
            validate_store(store, variant="zscore", seed_track=1)


def test_validate_notes_when_no_artist_has_two_tracks(tmp_path):
    lonely = make_store(tmp_path / "lonely.duckdb", 14, n_artists=14)
    done = CliRunner().invoke(app, ["validate", "--store", str(lonely), "--variant", "zscore"])
    assert done.exit_code == 0, done.output
    assert "note: no artist has two analysed tracks" in done.stdout
    report = json.loads(
        CliRunner().invoke(app, ["validate", "--store", str(lonely), "--json"]).stdout
    )
    assert report["notes"] and report["left_out"]["total"] == 0


def _feature_set(artists: list[str | None]):
    from musicwb.sonic.feature_set import FeatureSet

    rng = np.random.default_rng(4)
    n = len(artists)
    full = rng.normal(size=(n, 137)).astype(np.float32)
    return FeatureSet(
        track_ids=np.arange(1, n + 1),
        matrices={s: full + 0.1 * rng.normal(size=full.shape).astype(np.float32) if s != "full"
                  else full for s in ("full", "start", "mid", "end")},
        artists=np.array(artists, dtype=object),
        artist_keys=np.array(artists, dtype=object),
        albums=np.array([None] * n, dtype=object),
        genres=[[] for _ in range(n)],
        extractor_versions=["beat3tower-1.0"] * n,
    )  # fmt: skip


def test_the_default_variant_is_learned_unless_the_tags_cannot_teach_it():
    from musicwb.sonic.artifact import DEFAULT_VARIANT, build_artifact_arrays

    # chosen artist-disjoint on the 75 real tracks (see artifact.DEFAULT_VARIANT)
    assert DEFAULT_VARIANT == "learned"
    tagged = build_artifact_arrays(_feature_set([f"a{i % 5}" for i in range(30)]))
    meta = json.loads(str(tagged["meta"]))
    assert (meta["variant"], meta["variant_source"]) == ("learned", "default")
    untagged = build_artifact_arrays(_feature_set([None] * 28 + ["a", "a"]))
    meta = json.loads(str(untagged["meta"]))
    assert meta["variant"] == "robust_whiten"
    assert "learned needs 3 artists with two analysed tracks, the library has 1" in (
        meta["variant_source"]
    )
    # a caller that asks for learned gets it
    asked = build_artifact_arrays(
        _feature_set([f"a{i % 2}" for i in range(30)]),
        variant="learned",
        variant_source="chosen by the caller",
    )
    assert json.loads(str(asked["meta"]))["variant"] == "learned"


def test_validate_reports_artist_disjoint_retrieval_beside_in_sample(store_path):
    done = CliRunner().invoke(
        app, ["validate", "--store", str(store_path), "--variant", "zscore", "--json"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert {"precision_at_10", "map", "passes", "left_out", "notes"} <= set(report)  # as before
    rows = {(r["method"], r["evaluation"], r["metric"]) for r in report["retrieval"]}
    for evaluation in ("in_sample", "artist_disjoint"):
        for metric in ("precision_at_10", "map", "other_album_p10"):
            assert ("zscore", evaluation, metric) in rows
            assert ("random", evaluation, metric) in rows
    row = next(
        r
        for r in report["retrieval"]
        if r["method"] == "zscore" and r["evaluation"] == "artist_disjoint"
        and r["metric"] == "precision_at_10"
    )  # fmt: skip
    assert row["micro_low"] <= row["micro"] <= row["micro_high"] and row["macro"] is not None
    assert report["n_folds"] == 5 and report["peers"] == {}
    assert "zscore wins" in report["retrieval_verdict"]["sentence"]


def test_a_large_library_scores_retrieval_on_an_even_sample_and_says_so(store_path, monkeypatch):
    from musicwb.sonic import validation

    monkeypatch.setattr(validation, "MAX_RETRIEVAL_TRACKS", 40)
    with Store(store_path, read_only=True) as store:
        report = validation.validate_store(store, variant="zscore")
    assert report["n_seeds"] == 96  # the in-sample metrics keep every track
    assert "retrieval scores (in-sample and artist-disjoint) on 40 of 96 tracks" in " ".join(
        report["notes"]
    )
    assert max(r["n_seeds"] for r in report["retrieval"]) <= 40
