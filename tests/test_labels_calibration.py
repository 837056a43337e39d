"""Calibrated tier confidences (issue 15): measured by masking known labels, on the DJ Mix
Dataset's dev corpus and on the user's store, stored with date and sample size, used by
``hunt-labels``, and shown in the label_hunting notebook beside the review table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.enrich.calibration import (
    DEFAULT_LIBRARY_CALIBRATION,
    check_calibration,
    djmix_tracks,
    latest_calibrations,
    measure_samples,
)
from musicwb.enrich.hunt import hunt_labels
from musicwb.enrich.labels import make_hunter
from musicwb.enrich.tiers import LibraryKnowledge, LibraryTier
from musicwb.store import Store

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1)
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def djmix_samples(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "djsets" / "djmix" / "djmix-dataset-dev.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return measure_samples(djmix_tracks(path), tier="library")


def test_on_the_dev_corpus_the_library_tier_states_its_held_out_precision_per_decile(
    djmix_samples: pd.DataFrame,
) -> None:
    # The figure: the artist's most frequent label in the rest is right ~37% of the time.
    assert len(djmix_samples) > 20_000
    assert 0.33 <= djmix_samples["correct"].mean() <= 0.42
    figures = {}
    for seed in (0, 1, 2):  # the method was chosen on seed 0; seeds 1 and 2 as they fall
        table = check_calibration(djmix_samples, tier="library", folds=5, seed=seed)
        pooled = table[table["fold"] == "all"]
        assert len(pooled) == 10 and pooled["n"].sum() == len(djmix_samples)
        figures[seed] = pooled[["decile", "n", "stated", "observed", "gap"]]
        per_fold = (
            table[table["fold"] != "all"]
            .groupby("fold")["gap"]
            .apply(lambda g: round(g.abs().max(), 3))
        )
        print(
            f"\nseed {seed}: held-out deciles (all folds)\n{figures[seed].to_string(index=False)}"
        )
        print(f"seed {seed}: max |gap| within each fold alone: {per_fold.to_dict()}")
    for seed, pooled in figures.items():
        worst = pooled["gap"].abs().max()
        assert worst <= TOLERANCE, f"seed {seed}: a decile misses by {worst:.3f}"


def test_the_raw_library_tier_overstates_and_the_default_calibration_is_the_corpus(
    djmix_samples: pd.DataFrame,
) -> None:
    raw_high = djmix_samples[djmix_samples["raw"] >= 0.7]
    assert raw_high["correct"].mean() > 0.5  # the surest raw findings are right more often
    raw_low = djmix_samples[djmix_samples["raw"] < 0.55]
    assert raw_low["correct"].mean() < 0.3  # ... and the weak ones far less than the raw 0.5
    stated = djmix_samples["raw"].map(DEFAULT_LIBRARY_CALIBRATION.confidence)
    assert abs(stated.mean() - djmix_samples["correct"].mean()) < 0.01


def _store(path: Path, n_artists: int = 60) -> Path:
    """A library where each artist's tracks carry mostly one label (from tags), some another."""
    rows, i = [], 0
    for a in range(n_artists):
        for t in range(6):
            i += 1
            label = f"Label {a}" if t < 4 + a % 2 else f"Other {a % 3}"
            title = f"Track {t} [Label {a} - CAT {a:03d}]" if t == 0 else f"Track {t}"
            rows.append({"id": i, "path": f"/m/{i}.mp3", "size": 1, "mtime": 0.0,
                         "content_hash": f"h{i}", "artist": f"Artist {a}", "title": title,
                         "label": label, "label_source": "tags", "added_at": T0,
                         "updated_at": T0})  # fmt: skip
    with Store(path) as store:
        store.insert("tracks", pd.DataFrame(rows))
    return path


def test_calibrate_on_the_store_is_stored_with_date_and_size_and_used_by_the_hunt(
    tmp_path: Path,
) -> None:
    path = _store(tmp_path / "lib.duckdb")
    runner = CliRunner()
    done = runner.invoke(app, ["labels", "calibrate", "--json", "--store", str(path)])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    by_tier = {c["tier"]: c for c in result["calibrations"]}
    assert by_tier["library"]["sample_size"] == 360 and by_tier["library"]["corpus"] == "store"
    assert by_tier["title"]["sample_size"] == 60 and by_tier["title"]["precision"] == 1.0
    with Store(path) as store:
        latest = latest_calibrations(store)
        assert latest["library"].corpus == "store" and latest["library"].sample_size == 360
        assert latest["library"].measured_at.date() == datetime.now().date()
        # the library tier states what was measured, not its raw score
        hunter = make_hunter(store, sources=["library"], llm=None)
        outcome = hunter.hunt({"id": 2, "artist": "Artist 0", "title": "Track 1"})
        raw = outcome.finding.parts["raw"]
        assert outcome.finding.confidence == latest["library"].confidence(raw)
        assert "calibrated on this store (360 findings" in outcome.finding.evidence
        summary = hunt_labels(store, sources=["library", "title"], limit=5, progress=False)
        assert summary.processed == 5
        recorded = json.loads(
            store.scalar("SELECT parameters FROM runs WHERE run_id = ?", [summary.run_id])
        )
        assert recorded["calibrations"]["library"].startswith("calibrated on this store (360")


def test_without_a_stored_calibration_the_hunt_uses_the_documented_default(
    tmp_path: Path,
) -> None:
    path = _store(tmp_path / "lib.duckdb", n_artists=2)
    with Store(path) as store:
        assert latest_calibrations(store)["library"] is DEFAULT_LIBRARY_CALIBRATION
        assert "title" not in latest_calibrations(store)  # the design's 0.60-0.70 stay
        done = CliRunner().invoke(app, ["labels", "calibrate", "--store", str(path)])
        assert done.exit_code == 0
        assert "not calibrated (12 finding(s) on masked labels, 50 needed)" in done.stdout
        assert latest_calibrations(store)["library"] is DEFAULT_LIBRARY_CALIBRATION
        hunter = make_hunter(store, sources=["library"], llm=None)
        finding = hunter.hunt({"id": 2, "artist": "Artist 0", "title": "x"}).finding
        assert finding.confidence == DEFAULT_LIBRARY_CALIBRATION.confidence(finding.parts["raw"])
    uncalibrated = LibraryTier(LibraryKnowledge.empty())
    assert uncalibrated.min_share == LibraryTier.MIN_SHARE  # raw tier as before, unless asked


def test_the_notebook_shows_calibration_and_a_review_table_a_static_report_keeps(
    tmp_path: Path,
) -> None:
    from nbclient import NotebookClient

    from musicwb.reports.html import drop_widget_views, export_html

    path = _store(tmp_path / "lib.duckdb", n_artists=3)
    with Store(path) as store:  # three tracks whose label only their title names: for review
        store.execute("UPDATE tracks SET label = NULL, label_source = NULL WHERE id IN (1, 7)")
    nb = nbformat.read(REPO / "notebooks" / "label_hunting.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        f"store_path = {str(path)!r}\nsources = ['title']\nmin_confidence = 0.9\nmode = 'fast'"
    ))  # fmt: skip
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    by_source = {c.source: c for c in nb.cells if c.cell_type == "code"}
    table = by_source["calibration = hunt_view.calibration_frame(store)\ncalibration"]
    assert "library" in table.outputs[0]["data"]["text/plain"]
    chart = by_source["hunt_view.calibration_chart(calibration)"].outputs[0]["data"]
    assert any("vega" in mime for mime in chart)
    board = by_source[
        "review = hunt_view.ReviewBoard(store, limit=review_limit, buttons=interactive)\nreview"
    ]
    html_out = board.outputs[0]["data"]["text/html"]
    assert 'class="musicwb-review"' in html_out and "Label 1" in html_out
    assert any("widget-view" in mime for out in board.outputs for mime in out.get("data", {}))
    static, dropped = drop_widget_views(nb)
    assert dropped >= 1
    page = export_html(static, name="label_hunting")
    assert 'class="musicwb-review"' in page and "Label 1" in page
