"""The playlist_tuning notebook and its helpers, as a reader checks them: which artifact it tunes
on and why, the seeds, the playlist tables, the sweep chart, the live panel rebuilding the
playlist when a slider moves, and the whole notebook run by the batch runner (papermill, then
the offline HTML report) on a real store with features."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from html import escape
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from drawn_features import add_drawn_features
from live_notebook import run_cells_then_write

from musicwb.errors import ParameterError
from musicwb.notebook import playlist_tuning as tuning
from musicwb.playlist.build import make_playlist, playlist_context
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.sweeps import sweep
from musicwb.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def feature_store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo store (real tracks and files) with sonic features for every track.

    Extracting the demo's features takes minutes, so the vectors are drawn: two styles, one
    shade of a style per artist, per-track noise; start and end close to the full track.
    """
    path = tmp_path_factory.mktemp("features") / "lib.duckdb"
    shutil.copy(demo_store, path)
    add_drawn_features(path, seed=5)
    return path


@pytest.fixture(scope="module")
def context(feature_store: Path, tmp_path_factory: pytest.TempPathFactory):
    with Store(feature_store, read_only=True) as store:
        artifact, _ = tuning.tuning_artifact(store)
        yield playlist_context(artifact, store=store)


# -- which artifact, which seeds --------------------------------------------------------------


def test_without_features_the_notebook_says_what_to_run(demo_store):
    with Store(demo_store, read_only=True) as store:
        artifact, source = tuning.tuning_artifact(store)
    assert artifact is None
    assert "0 track(s) have sonic features" in source and "musicwb extract" in source


def test_the_store_s_artifact_is_used_only_when_built_from_its_current_features(
    feature_store, tmp_path, monkeypatch
):
    from musicwb.sonic.artifact import ArtifactMismatchError, build_artifact

    monkeypatch.chdir(tmp_path)  # an artifact in the current folder plays no part
    path = tmp_path / "lib.duckdb"
    shutil.copy(feature_store, path)
    own = tmp_path / "lib.artifact.npz"
    with Store(path, read_only=True) as store:
        ids = store.df("SELECT track_id FROM sonic_features ORDER BY track_id")["track_id"]
        built, source = tuning.tuning_artifact(store)
        assert f"no artifact at {own}" in source and "built in memory" in source
        assert f"musicwb artifact build --store {path}" in source
        assert np.array_equal(built["track_ids"], ids.to_numpy())
    with Store(path) as store:
        build_artifact(store)
        used, source = tuning.tuning_artifact(store)
        assert source == f"artifact {own}: {len(ids)} tracks"
        assert used.path == own
        # analysed again since: stale, so built in memory from the features as they are now
        store.execute(
            "UPDATE sonic_features SET extracted_at = now() WHERE track_id = ?", [int(ids[0])]
        )
        rebuilt, source = tuning.tuning_artifact(store)
        assert "is stale" in source and "built in memory" in source
        assert not hasattr(rebuilt, "path")
        with pytest.raises(ArtifactMismatchError, match="stale"):
            tuning.tuning_artifact(store, path=own)  # asked for by name: refused, not replaced
    other = tmp_path / "other" / "lib.duckdb"  # another library whose artifact has the same name
    other.parent.mkdir()
    with Store(other) as store:
        store.insert("tracks", pd.DataFrame({"id": [1], "path": ["/x.ogg"], "size": 1,
                                             "mtime": 0.0, "content_hash": "x",
                                             "added_at": dt.datetime(2026, 1, 1),
                                             "updated_at": dt.datetime(2026, 1, 1)}))  # fmt: skip
    with Store(path) as store:
        build_artifact(store)
    shutil.copy(own, other.with_name("lib.artifact.npz"))
    with Store(other, read_only=True) as store, pytest.raises(ArtifactMismatchError) as refused:
        tuning.tuning_artifact(store, path=other.with_name("lib.artifact.npz"))
    assert "another store" in str(refused.value) and str(path) in str(refused.value)
    with Store(path, read_only=True) as store:
        with pytest.raises(ParameterError, match="no artifact at"):
            tuning.tuning_artifact(store, path=tmp_path / "missing.npz")
    with Store(path) as store:  # a track analysed after the build: used, and said
        last = int(ids.iloc[-1])
        saved = store.df("SELECT * FROM sonic_features WHERE track_id = ?", [last])
        store.execute("DELETE FROM sonic_features WHERE track_id = ?", [last])
        build_artifact(store)
        store.insert("sonic_features", saved)
        used, source = tuning.tuning_artifact(store)
    assert used.path == own and len(used["track_ids"]) == len(ids) - 1
    assert "1 track(s) analysed since are not in it (`musicwb artifact build --store" in source


def test_seeds_are_checked_or_picked_from_different_artists(context):
    artifact = context.artifact
    seeds = tuning.pick_seeds(artifact, n=3)
    rows = [context.library.row_of(seed) for seed in seeds]
    assert len(set(np.asarray(artifact["artist_keys"])[rows])) == 3
    assert tuning.pick_seeds(artifact, n=3) == seeds  # the same seeds every run
    assert tuning.pick_seeds(artifact, seed_tracks=[seeds[1]]) == [seeds[1]]
    with pytest.raises(ParameterError, match=r"seed_tracks \[999999\]"):
        tuning.pick_seeds(artifact, seed_tracks=[seeds[0], 999999])
    with pytest.raises(ParameterError, match="n_seeds"):
        tuning.pick_seeds(artifact, n=0)


# -- a playlist as a reader checks it ---------------------------------------------------------


def test_tables_tell_what_the_playlist_is(context):
    seed = tuning.pick_seeds(context.artifact, n=1)[0]
    playlist = make_playlist(context, seed_track_id=seed, length=12)
    table = tuning.playlist_table(playlist)
    assert table["position"].tolist() == list(range(1, len(playlist.tracks) + 1))
    assert table["track_id"].iloc[0] == seed and np.isnan(table["transition_in"].iloc[0])
    assert table["title"].notna().all()

    measures = tuning.diagnostics_table(playlist).set_index("measure")["value"]
    d = playlist.diagnostics
    assert measures["length"] == f"{len(playlist.tracks)} of 12"
    assert measures["pool size"] == str(d["pool_size"])
    assert measures["distinct artists"] == str(d["artists"])
    assert measures["min transition"] == f"{d['min_transition']:.3f}"
    assert measures["relaxed positions"] == str(len(d["relaxations"]))

    relaxed = tuning.relaxations_table(playlist)
    assert list(relaxed.columns) == ["position", "level", "rule", "reason"]
    assert len(relaxed) == len(d["relaxations"])


def test_sweep_summary_and_chart(context):
    seeds = tuning.pick_seeds(context.artifact, n=2)
    frame = sweep(
        context,
        seed_track_ids=seeds,
        parameter="similarity_floor",
        values=[0.05, 0.2, 0.4],
        length=12,
        progress=False,
    )
    for _, per_seed in frame.groupby("seed_track_id"):
        assert per_seed["eligible"].is_monotonic_decreasing  # a higher floor lets fewer in
    summary = tuning.sweep_summary(frame)
    pools = summary[summary.measure == "pool size"].set_index("value")
    assert pools["mean"].to_dict() == frame.groupby("value")["pool_size"].mean().to_dict()
    assert pools["low"].to_dict() == frame.groupby("value")["pool_size"].min().to_dict()
    assert set(summary["measure"]) == set(tuning.SWEEP_MEASURES.values())

    spec = tuning.sweep_chart(summary, current=0.15).to_dict()
    panels = spec["vconcat"]
    assert len(panels) == 5
    assert [panel["layer"][1]["encoding"]["y"]["title"] for panel in panels] == list(
        tuning.SWEEP_MEASURES.values()
    )
    assert all(panel["layer"][2]["mark"]["type"] == "rule" for panel in panels)
    assert "similarity_floor" in spec["title"]
    with pytest.raises(ParameterError, match="measure"):
        tuning.sweep_chart(summary.drop(columns=["measure"]))


def test_panel_rebuilds_the_playlist_when_a_control_moves(context, capsys):
    seeds = tuning.pick_seeds(context.artifact, n=2)
    panel = tuning.tuning_panel(
        context, seed_tracks=seeds, length=10, params=PlaylistParams.for_mode("dynamic")
    )
    first = panel.playlist
    assert first is not None and first.tracks["track_id"].iloc[0] == seeds[0]
    assert first.params.similarity_floor == PlaylistParams().similarity_floor

    panel.controls["similarity_floor"].value = 0.4
    assert panel.playlist is not first
    assert panel.playlist.params.similarity_floor == pytest.approx(0.4)
    assert panel.playlist.diagnostics["pool"]["eligible"] <= first.diagnostics["pool"]["eligible"]

    panel.controls["seed"].value = seeds[1]
    assert panel.playlist.tracks["track_id"].iloc[0] == seeds[1]

    panel.controls["mode"].value = "narrow"
    narrow = PlaylistParams.for_mode("narrow")
    assert panel.controls["similarity_floor"].value == pytest.approx(narrow.similarity_floor)
    assert panel.playlist.params.similarity_floor == pytest.approx(narrow.similarity_floor)
    assert panel.playlist.diagnostics["mode"] == "narrow"

    panel.controls["genre_weight"].value = 0.0
    shown = panel.playlist
    assert shown.params.genre_weight == 0.0 and shown.params.sonic_weight > 0
    capsys.readouterr()
    panel.controls["sonic_weight"].value = 0.0  # both 0: refused and said; the playlist stays
    assert "not a valid combination" in capsys.readouterr().out
    assert panel.playlist is shown


# -- the whole notebook ------------------------------------------------------------------------


def test_notebook_runs_in_a_batch_on_a_store_with_features(feature_store, context, tmp_path):
    from musicwb.reports import run_batch

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(REPO / "notebooks" / "playlist_tuning.ipynb", notebooks)
    config = tmp_path / "batch.toml"
    config.write_text(
        "[notebooks.playlist_tuning]\nlength = 12\nsweep_values = [0.05, 0.2, 0.4]\n",
        encoding="utf-8",
    )
    store = tmp_path / "lib.duckdb"  # its own copy: the batch records its run in the store
    shutil.copy(feature_store, store)
    result = run_batch(
        store_path=store,
        out_dir=tmp_path / "reports",
        config_path=config,
        notebooks=["playlist_tuning"],
        progress=False,
        notebooks_dir=notebooks,
    )
    assert result.ok, result.describe()
    (report,) = result.notebooks
    executed = nbformat.read(report.ipynb_path, as_version=4)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "built in memory from the store's features" in text
    assert "would change the genres of" in text

    sweep_cell = next(c for c in executed.cells if "tuning.sweep_chart(" in c.source)
    spec = sweep_cell.outputs[0]["data"]["application/vnd.vegalite.v5+json"]
    assert len(spec["vconcat"]) == 5
    swept = {row["value"] for rows in spec["datasets"].values() for row in rows if "measure" in row}
    assert sorted(swept) == [0.05, 0.2, 0.4]
    # a batch is not interactive: no live panel, whose widget messages can stall the kernel
    # client until the cell times out (jupyter/nbclient#312)
    assert report.parameters["interactive"] is False
    panel_cell = next(c for c in executed.cells if "tuning.tuning_panel(" in c.source)
    assert panel_cell.outputs == []
    playlist_cell = next(c for c in executed.cells if "make_playlist(" in c.source)
    assert len(playlist_cell.outputs) == 2  # diagnostics, then the tracks

    html = report.html_path.read_text(encoding="utf-8")
    assert html.count('id="musicwb-chart-') >= 3  # genres, artists, the sweep
    assert "jupyter-widgets" not in html and "unpkg.com" not in html
    seed = tuning.pick_seeds(context.artifact, n=3)[0]  # the notebook's default first seed
    title = context.labels.set_index("track_id").loc[seed, "title"]
    assert html.count(escape(title)) >= 2  # the seeds table and the playlist


# -- an open notebook does not lock the store ---------------------------------------------------


def test_extract_writes_while_the_notebook_is_open(feature_store, tmp_path):
    store = tmp_path / "lib.duckdb"
    shutil.copy(feature_store, store)
    with Store(store) as opened:  # one track not analysed yet: extract has something to write
        pending = int(opened.scalar("SELECT max(track_id) FROM sonic_features"))
        opened.execute("DELETE FROM sonic_features WHERE track_id = ?", [pending])
    nb, extract = run_cells_then_write(
        REPO / "notebooks" / "playlist_tuning.ipynb",
        store=store,
        parameters="length = 8\nsweep_values = [0.1, 0.3]",
        cwd=tmp_path,
    )
    assert extract.returncode == 0, extract.stderr  # not locked out by the open notebook
    assert json.loads(extract.stdout.splitlines()[-1])["analysed"] == 1
    with Store(store, read_only=True) as opened:
        assert opened.scalar("SELECT count(*) FROM sonic_features WHERE track_id = ?", [pending])
