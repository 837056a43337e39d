"""Run records in a real DuckDB store: ids, status changes, the last run of a kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import finish_run, last_run, runs_frame, start_run

RUN_ID = re.compile(r"^\d{8}-\d{6}-scan-[0-9a-f]{4}$")


def test_start_run_records_a_running_row_with_a_sortable_id(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        run_id = start_run(store, kind="scan", parameters={"root": Path("/music"), "n": 3})
        row = store.df("SELECT * FROM runs").iloc[0]
    assert RUN_ID.match(run_id)
    assert row["run_id"] == run_id
    assert (row["kind"], row["status"]) == ("scan", "running")
    assert row["finished_at"] is None or str(row["finished_at"]) == "NaT"
    assert row["started_at"].strftime("%Y%m%d-%H%M%S") == run_id[:15]


def test_finish_run_then_last_run_returns_decoded_json(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        run_id = start_run(store, kind="scan", parameters={"root": "/music"})
        finish_run(store, run_id, status="ok", summary={"scanned": 3, "errors": 0})
    with Store(tmp_path / "s.duckdb", read_only=True) as store:  # survives reopening
        run = last_run(store, kind="scan")
    assert run["run_id"] == run_id
    assert run["status"] == "ok"
    assert run["parameters"] == {"root": "/music"}
    assert run["summary"] == {"scanned": 3, "errors": 0}
    assert run["finished_at"] >= run["started_at"]


def test_last_run_is_the_newest_of_its_kind_and_can_filter_by_status(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert last_run(store, kind="scan") is None
        first = start_run(store, kind="scan", parameters={})
        finish_run(store, first, status="ok", summary={"n": 1})
        second = start_run(store, kind="scan", parameters={})
        finish_run(store, second, status="failed", summary={"error": "boom"})
        batch = start_run(store, kind="batch", parameters={})

        assert last_run(store, kind="scan")["run_id"] == second
        assert last_run(store, kind="scan", status="ok")["run_id"] == first
        assert last_run(store, kind="batch")["status"] == "running"
        assert runs_frame(store)["run_id"].tolist() == [batch, second, first]
        assert runs_frame(store, kind="scan")["run_id"].tolist() == [second, first]
    assert sorted([first, second]) == [first, second]


def test_many_runs_in_the_same_second_get_distinct_ids(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        ids = [start_run(store, kind="scan", parameters={}) for _ in range(20)]
    assert len(set(ids)) == 20
    assert sorted(ids) == ids


def test_bad_input_is_a_parameter_error_naming_it(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(ParameterError, match="run kind"):
            start_run(store, kind="Scan Now", parameters={})
        with pytest.raises(ParameterError, match="parameters must be a dict"):
            start_run(store, kind="scan", parameters=["x"])  # type: ignore[arg-type]
        with pytest.raises(ParameterError, match="no run with id 'nope'"):
            finish_run(store, "nope", status="ok", summary={})
        run_id = start_run(store, kind="scan", parameters={})
        with pytest.raises(ParameterError, match="run status"):
            finish_run(store, run_id, status="", summary={})
        assert last_run(store, kind="scan")["status"] == "running"
