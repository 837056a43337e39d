"""The demo batch meets its own notebooks' targets on the generated demo (issue 16).

What `make demo` shows, computed as the notebooks compute it (their defaults, the demo batch's
parameters): every seed of playlist_tuning fills its playlist with the artist rules kept, and
match_diagnostics lists proposals with evidence and meets (or explains) its targets. The demo's
features are extracted for real, once per module, on a copy of the session's demo store.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from musicwb.linkage import evaluate
from musicwb.linkage.proposals import propose
from musicwb.linkage.tracklists import entries_frame
from musicwb.notebook import playlist_tuning as tuning
from musicwb.playlist.build import make_playlist, playlist_context
from musicwb.playlist.params import PlaylistParams
from musicwb.sonic.extract import extract_library
from musicwb.store import Store

pytestmark = pytest.mark.slow

LENGTH = 30  # the notebook's default length
THRESHOLD = 0.7  # match_diagnostics' default threshold for a listed proposal


@pytest.fixture(scope="module")
def analysed_store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_batch") / "demo.duckdb"
    shutil.copy(demo_store, path)
    with Store(path) as store:
        summary = extract_library(store, workers=2, progress=False, data_dir=path.parent)
    assert summary.failed == 0
    return path


@pytest.fixture(scope="module")
def playlists(analysed_store: Path) -> list:
    params = PlaylistParams.for_mode("dynamic")
    with Store(analysed_store, read_only=True) as store:
        artifact, _ = tuning.tuning_artifact(store)
        context = playlist_context(artifact, store=store)
        seeds = tuning.pick_seeds(artifact, n=3)
        return [
            make_playlist(context, seed_track_id=seed, length=LENGTH, params=params)
            for seed in seeds
        ]


def test_the_seeds_come_from_the_three_sound_families(playlists: list) -> None:
    seed_artists = [playlist.tracks.artist.iloc[0] for playlist in playlists]
    assert seed_artists == ["Halden Ray", "Mira Solenne", "Quill & Vane"]


@pytest.mark.parametrize("which", [0, 1, 2])
def test_every_seeds_playlist_is_full_with_the_artist_rules_kept(
    playlists: list, which: int
) -> None:
    playlist = playlists[which]
    d = playlist.diagnostics
    print(
        f"\nseed {which}: {len(playlist)} tracks, {d['artists']} artists, at most "
        f"{d['max_per_artist']} per artist, transitions min {d['min_transition']:.3f} mean "
        f"{d['mean_transition']:.3f}, {len(d['relaxations'])} relaxations"
    )
    assert len(playlist) == LENGTH and not d.get("stopped")
    assert d["max_per_artist"] <= PlaylistParams().max_per_artist(LENGTH)
    assert d["artists"] >= 10
    assert d["min_transition"] >= PlaylistParams().transition_floor
    assert d["relaxations"] == []


@pytest.fixture(scope="module")
def entries(demo_store: Path):
    with Store(demo_store, read_only=True) as store:
        return entries_frame(store)


def test_match_diagnostics_masked_targets(entries) -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)
    summary = evaluate(entries, mask_fraction=0.2, seed=0, k=50).summary
    targets = {t["target"]: t for t in summary["targets"]}
    print("\n" + "\n".join(f"{name}: {t['value']} {t['met']} {t['note'] or ''}"
                            for name, t in targets.items()))
    assert summary["n_masked"] >= 150
    met = ("true artist among the candidates", "top-1", "top-1 against the strongest baseline",
           "top-3", "label top-1")
    for name in met:
        assert targets[name]["met"], targets[name]
    # met, or explained: no further from the goal than sampling noise takes a perfectly
    # calibrated model on this many answers
    calibration = targets["weighted calibration error"]
    assert calibration["met"] or calibration["note"].endswith("is within that noise"), calibration


def test_match_diagnostics_lists_five_proposals_with_evidence(entries) -> None:
    proposed = propose(entries, min_confidence=0.0, mask_fraction=0.2, seed=0, k=50)
    listed = proposed.proposals[proposed.proposals["probability"] >= THRESHOLD]
    assert len(listed) >= 5
    assert listed["evidence"].str.len().gt(0).all()
