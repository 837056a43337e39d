"""`musicwb tracklists import` and `musicwb identify [evaluate]`: JSON keys as documented."""

from __future__ import annotations

import json
import logging

from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.linkage import evaluations_frame
from musicwb.store import Store

MODEL_KEYS = {"top1", "top3", "coverage", "precision_high", "n_high", "calibration"}


def _demo_csvs(demo_store) -> list[str]:
    with Store(demo_store, read_only=True) as store:
        return sorted(store.df("SELECT DISTINCT source_file FROM tracklist_sets").source_file)


def test_import_then_identify_json(demo_store, tmp_path):
    files = _demo_csvs(demo_store)
    store = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    first = runner.invoke(app, ["tracklists", "import", *files, "--format", "mixesdb",
                                "--store", store, "--json"])
    assert first.exit_code == 0, first.output
    imported = json.loads(first.stdout)
    assert imported["entries"] > 200 and imported["errors"] == []
    again = json.loads(runner.invoke(app, ["tracklists", "import", *files, "--format", "mixesdb",
                                           "--store", store, "--json"]).stdout)
    assert again["entries"] == 0 and len(again["skipped"]) == len(files)
    logging.getLogger("splink").setLevel(logging.ERROR)
    answer = runner.invoke(app, ["identify", "--min-confidence", "0.3", "--store", store,
                                 "--json"])
    assert answer.exit_code == 0, answer.output
    result = json.loads(answer.stdout)
    assert result["summary"]["slots"] > 0
    assert all(p["probability"] >= 0.3 and p["evidence"] for p in result["proposals"])
    # every slot is named by its DJ, date, place in the set and neighbours, not by its key
    with Store(store, read_only=True) as opened:
        sets = opened.df("SELECT set_id, dj, set_date FROM tracklist_sets").set_index("set_id")
        entries = opened.df("SELECT set_id, position, artist, title FROM tracklist_entries")
    lines = entries.set_index(["set_id", "position"])
    for named in [*result["proposals"], *result["labels"]]:
        set_id, position = named["set_id"], named["position"]
        assert named["dj"] == sets.at[set_id, "dj"]
        assert named["set_date"] == sets.at[set_id, "set_date"]
        assert named["slot"].startswith(f"{named['dj']}, {named['set_date']}")
        assert f"track {position}," in named["slot"] and set_id not in named["slot"]
        if (set_id, position - 1) in lines.index:
            before = lines.loc[(set_id, position - 1)]
            if isinstance(before["artist"], str) and isinstance(before["title"], str):
                assert named["previous_entry"] == f"{before['artist']} – {before['title']}"
            assert f"between {named['previous_entry']} and" in named["slot"] or (
                "closing the set" in named["slot"]
            )
    text = runner.invoke(app, ["identify", "--min-confidence", "0.3", "--store", store])
    assert text.exit_code == 0, text.output
    shown = [line for line in text.stdout.splitlines() if ": " in line and "track " in line]
    assert len(shown) == len(result["proposals"]) > 0
    assert all(", between " in line or "the set" in line for line in shown)


def test_evaluate_json_keys_and_the_run_is_stored(demo_store, tmp_path):
    files = _demo_csvs(demo_store)
    store = str(tmp_path / "evaluations.duckdb")
    runner = CliRunner()
    answer = runner.invoke(app, ["identify", "evaluate", "--tracklists", *files, "--format",
                                 "mixesdb", "--mask-fraction", "0.2", "--seed", "1",
                                 "--store", store, "--json"])
    assert answer.exit_code == 0, answer.output
    summary = json.loads(answer.stdout)
    with Store(store, read_only=True) as opened:
        stored = evaluations_frame(opened)
        saved = json.loads(opened.scalar("SELECT summary FROM linkage_evaluations"))
    assert stored["run_id"].tolist() == [summary["run_id"]]
    assert stored["seed"].tolist() == [1] and stored["mask_fraction"].tolist() == [0.2]
    assert stored["model_top1"].iloc[0] == summary["model"]["top1"]
    assert saved["baseline"]["calibration"] == summary["baseline"]["calibration"]
    assert files[0] in stored["source"].iloc[0]
    assert {"model", "baseline"} <= set(summary)
    for method in ("model", "baseline"):
        assert MODEL_KEYS <= set(summary[method])
        assert 0 <= summary[method]["top1"] <= summary[method]["top3"] <= 1
        assert all({"bin", "predicted", "observed"} <= set(row)
                   for row in summary[method]["calibration"])


def test_bad_format_is_a_parameter_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n")
    answer = CliRunner().invoke(app, ["tracklists", "import", str(path), "--format", "xml",
                                      "--store", str(tmp_path / "s.duckdb")])
    assert answer.exit_code != 0
    assert "--format" in str(answer.exception)


def test_format_help_lists_every_format_and_a_bad_one_names_them(tmp_path):
    from musicwb.linkage import FORMATS

    runner = CliRunner()
    for command in (["tracklists", "import"], ["identify", "evaluate"]):
        output = runner.invoke(app, [*command, "--help"]).output
        text = " ".join(output.replace("\u2502", " ").split())  # rich wraps inside a box
        assert all(f"{name} (" in text for name in FORMATS), text
        answer = runner.invoke(app, [*command, str(tmp_path / "x.csv"), "--format", "xml",
                                     "--store", str(tmp_path / "s.duckdb")])
        assert answer.exit_code != 0
        assert str(answer.exception) == (
            "--format must be one of mixesdb, json, csv, djmix, not 'xml'")
    assert not (tmp_path / "s.duckdb").exists()  # refused before any store was made
