"""The cool-down: delays of each strategy, jitter, and months of retries on a fake clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_enrich_queue import T0, Clock, LocalSource, hunter_for, make_library

from musicwb.enrich import cooldown
from musicwb.enrich.queue import (
    COOLDOWN_PRIORITY,
    enqueue_last_scan,
    enqueue_missing_labels,
    enqueue_tracks,
)
from musicwb.enrich.worker import Worker
from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import start_run


def test_base_delays_follow_each_strategy() -> None:
    assert [cooldown.base_delay_days("fixed", retry_count=k) for k in range(6)] == [90.0] * 6
    assert [cooldown.base_delay_days("exponential", retry_count=k) for k in range(6)] == [
        30.0,
        60.0,
        120.0,
        240.0,
        240.0,
        240.0,
    ]
    adaptive = [cooldown.base_delay_days("adaptive", retry_count=k) for k in range(4)]
    assert adaptive == [90.0, 135.0, 180.0, 180.0]
    assert cooldown.base_delay_days("adaptive", retry_count=0, label_hint=True) == 60.0
    assert cooldown.base_delay_days("adaptive", retry_count=1, track_age_days=3) == 67.5
    assert cooldown.base_delay_days("adaptive", retry_count=0, track_age_days=31) == 90.0
    with pytest.raises(ParameterError, match="strategy must be one of"):
        cooldown.base_delay_days("weekly", retry_count=0)


def test_jitter_is_ten_percent_at_least_a_day_and_reproducible() -> None:
    entries = pd.DataFrame({"retry_count": [0] * 200})
    now = datetime(2026, 1, 1)
    one = cooldown.schedule(entries, strategy="exponential", now=now, rng=5)
    again = cooldown.schedule(entries, strategy="exponential", now=now, rng=5)
    other = cooldown.schedule(entries, strategy="exponential", now=now, rng=6)
    assert one["delay_days"].between(27.0, 33.0).all()
    assert one["delay_days"].tolist() == again["delay_days"].tolist()
    assert one["delay_days"].tolist() != other["delay_days"].tolist()
    # a one-day base cannot jitter below a day
    tiny = pd.DataFrame({"retry_count": [0] * 50})
    original = cooldown.EXPONENTIAL_DAYS
    try:
        cooldown.EXPONENTIAL_DAYS = (1.0,)
        floor = cooldown.schedule(tiny, strategy="exponential", now=now, rng=1)
    finally:
        cooldown.EXPONENTIAL_DAYS = original
    assert floor["delay_days"].min() == 1.0 and floor["delay_days"].max() > 1.0
    assert cooldown.schedule(pd.DataFrame({"retry_count": [5]}), strategy="fixed", now=now, rng=1)[
        "permanently_failed"
    ].item()


def test_a_thousand_parked_tracks_spread_over_the_jitter_window(tmp_path: Path) -> None:
    path = make_library(tmp_path / "lib.duckdb", 1000)
    with Store(path) as store:
        enqueue_missing_labels(store, now=T0)
        store.execute("UPDATE enrich_queue SET state = 'not_found'")
        assert cooldown.migrate(store, now=T0, strategy="fixed", rng=42) == 1000
        assert cooldown.migrate(store, now=T0, strategy="fixed", rng=42) == 0  # once
        due = cooldown.due_frame(store)
    delay = (due["next_retry_at"] - pd.Timestamp(T0)).dt.total_seconds() / 86400
    assert delay.between(81.0, 99.0).all()
    assert delay.min() < 81.5 and delay.max() > 98.5  # the whole ±10% window is used
    per_day = due["due_date"].value_counts(normalize=True)
    assert len(per_day) >= 18  # 81..99 days out
    assert per_day.max() < 0.085  # uniform would be 1/18 ≈ 5.6% a day; no day holds a pile
    assert due["next_retry_at"].nunique() == 1000


def test_months_of_retries_on_a_fake_clock(tmp_path: Path) -> None:
    """A promo nobody knows goes round the cool-down five times, is found on the way for
    some tracks, and gives up for the others; a manual re-queue still works."""
    path = make_library(tmp_path / "lib.duckdb", 6, added_at=T0 - timedelta(days=400))
    clock = Clock()
    source = LocalSource({})
    with Store(path) as store:
        enqueue_missing_labels(store, now=clock())

        def work() -> None:
            Worker(store, hunter_for(source), clock=clock, rng=3, strategy="adaptive").run()

        work()
        stats = cooldown.stats(store, now=clock())
        assert stats["total"] == 6 and stats["waiting"] == 6 and stats["ready"] == 0
        first_due = pd.Timestamp(stats["next_retry_at"])
        assert timedelta(days=81) <= first_due - clock() <= timedelta(days=99)
        delays = []
        for retry in range(1, 6):
            clock.advance(days=1)
            assert cooldown.process(store, now=clock()) == 0  # nothing due yet
            clock.now = store.scalar(
                "SELECT max(next_retry_at) FROM enrich_cooldown WHERE state = 'waiting'"
            )
            clock.advance(seconds=1)  # every jittered date has passed
            assert cooldown.process(store, now=clock()) == 6 - (retry >= 3)
            queued = store.df(
                "SELECT priority, reason, attempts FROM enrich_queue WHERE state = 'pending'"
            )
            assert set(queued["priority"]) == {COOLDOWN_PRIORITY}
            assert set(queued["reason"]) == {"cooldown"} and set(queued["attempts"]) == {0}
            if retry == 2:
                source.labels["Track 6"] = "Late Release"  # released in the meantime
            work()
            rows = store.df("SELECT * FROM enrich_cooldown WHERE track_id = 1")
            delays.append(
                float((rows["next_retry_at"][0] - pd.Timestamp(clock())) / pd.Timedelta(days=1))
                if rows["state"][0] == "waiting"
                else None
            )
        assert cooldown.process(store, now=clock() + timedelta(days=2000)) == 0
        final = store.df(
            "SELECT track_id, state, retry_count, permanently_failed, history "
            "FROM enrich_cooldown ORDER BY track_id"
        )
        stats = cooldown.stats(store, now=clock())
        assert store.scalar("SELECT label FROM tracks WHERE id = 6") == "Late Release"
        # a track given up on can still be re-queued by hand
        assert enqueue_tracks(store, [1], now=clock()) == 1
        back = store.df("SELECT state, permanently_failed FROM enrich_cooldown WHERE track_id = 1")
    # adaptive: 90 → ×1.5 → ×2.0 → ×2.0 ..., each ±10%
    assert 121.5 <= delays[0] <= 148.5 and all(162 <= d <= 198 for d in delays[1:4])
    assert delays[4] is None  # the fifth retry found nothing again: permanently failed
    assert final.set_index("track_id").loc[6, "state"] == "resolved"
    permanent = final[final["track_id"] != 6]
    assert set(permanent["state"]) == {"permanent"} and permanent["permanently_failed"].all()
    assert set(permanent["retry_count"]) == {cooldown.MAX_RETRIES}
    assert len(json.loads(permanent["history"].iloc[0])) == 6  # parked 6 times
    assert stats["permanently_failed"] == 5 and stats["resolved"] == 1 and stats["waiting"] == 0
    assert stats["average_retries"] == 5.0 and stats["next_retry_at"] is None
    assert back["state"][0] == "queued" and not back["permanently_failed"][0]
    assert source.calls.count("Track 1") == 6 and source.calls.count("Track 6") == 3


def test_adaptive_parks_new_and_hinted_tracks_for_less_time(tmp_path: Path) -> None:
    path = make_library(tmp_path / "lib.duckdb", 3)
    with Store(path) as store:
        store.execute("UPDATE tracks SET added_at = ? WHERE id = 1", [T0 - timedelta(days=5)])
        store.execute("UPDATE tracks SET label = 'Maybe', label_source = 'title' WHERE id = 2")
        entries = pd.DataFrame({"track_id": [1, 2, 3], "reason": "not_found", "last_error": None})
        assert cooldown.park(store, entries, now=T0, rng=np.random.default_rng(0)) == 3
        due = cooldown.due_frame(store).set_index("track_id")
        summary = cooldown.summary_frame(store, now=T0)
    delay = (due["next_retry_at"] - pd.Timestamp(T0)).dt.total_seconds() / 86400
    assert 40.5 <= delay[1] <= 49.5 and 54 <= delay[2] <= 66 and 81 <= delay[3] <= 99
    assert summary.to_dict(orient="records")[0] | {"next_retry_at": None} == {
        "strategy": "adaptive",
        "total": 3,
        "ready": 0,
        "waiting": 3,
        "permanently_failed": 0,
        "average_retries": 0.0,
        "next_retry_at": None,
    }


def test_migrate_parks_what_a_plain_label_hunt_left_without_a_label(tmp_path: Path) -> None:
    from musicwb.enrich.labels import record_outcomes, tracks_to_hunt

    path = make_library(tmp_path / "lib.duckdb", 6)
    source = LocalSource({"Track 2": "Found Label"}, failing={"Track 3"})
    with Store(path) as store:
        hunter = hunter_for(source)
        record_outcomes(store, [hunter.hunt(track) for track in tracks_to_hunt(store)])
        assert cooldown.migrate(store, now=T0, strategy="exponential", rng=1) == 5
        assert cooldown.migrate(store, now=T0, strategy="exponential", rng=1) == 0
        assert enqueue_missing_labels(store, now=T0) == 0  # parked ones wait for their time
        run_id = start_run(store, kind="scan", parameters={})
        store.execute("UPDATE tracks SET added_run = ?", [run_id])
        assert enqueue_last_scan(store, now=T0) == 0
        parked = store.df("SELECT track_id, reason, last_error, strategy FROM enrich_cooldown")
        assert cooldown.process(store, now=T0 + timedelta(days=40)) == 5
        queued = store.df("SELECT track_id FROM enrich_queue WHERE state = 'pending'")
    reasons = parked.set_index("track_id")["reason"]
    assert 2 not in reasons.index and reasons[3] == "failed" and reasons[1] == "not_found"
    assert "local source" in parked.set_index("track_id").loc[3, "last_error"]
    assert set(parked["strategy"]) == {"exponential"}
    assert sorted(queued["track_id"]) == [1, 3, 4, 5, 6]
