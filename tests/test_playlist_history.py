"""Play history in a real DuckDB store: plays recorded once, the lookback window, time zones."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from musicwb.errors import ParameterError, StoreError
from musicwb.playlist.history import play_history, recently_played, record_plays
from musicwb.store import Store

NOW = datetime(2026, 11, 22, 12, 0)


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "lib.duckdb"
    plays = pd.DataFrame(
        {
            "track_id": [1, 2, 3, 4, 2],
            "played_at": [
                NOW - timedelta(days=1),
                NOW - timedelta(days=13, hours=23),
                NOW - timedelta(days=14, hours=1),
                NOW + timedelta(hours=2),  # after "now": does not count
                NOW - timedelta(days=30),
            ],
        }
    )
    with Store(path) as store:
        assert record_plays(store, plays, source="rekordbox") == 5
    return path


def test_recently_played_is_the_lookback_window(store_path):
    with Store(store_path, read_only=True) as store:
        assert recently_played(store, days=14, now=NOW) == {1, 2}
        assert recently_played(store, days=15, now=NOW) == {1, 2, 3}
        assert recently_played(store, days=2, now=NOW) == {1}
        assert recently_played(store, days=0, now=NOW) == set()
        assert recently_played(store, days=1, now=NOW + timedelta(days=1)) == {4}
        assert recently_played(store, days=14, now="2026-11-22T13:00:00+01:00") == {1, 2}


def test_the_same_play_twice_is_kept_once(store_path):
    again = pd.DataFrame(
        {
            "track_id": [1, 1, 9],
            "played_at": [NOW - timedelta(days=1)] * 2 + [NOW],
            "source": ["rekordbox", "rekordbox", "scrobble"],
        }
    )
    with Store(store_path) as store:
        assert record_plays(store, again) == 1
        history = play_history(store)
    assert len(history) == 6
    assert history["played_at"].is_monotonic_decreasing
    assert history.iloc[0].to_dict() == {"track_id": 4, "played_at": pd.Timestamp(NOW + timedelta(hours=2)), "source": "rekordbox"}  # fmt: skip
    assert set(history["source"]) == {"rekordbox", "scrobble"}


def test_aware_times_are_stored_in_utc(tmp_path):
    plays = pd.DataFrame({"track_id": [7], "played_at": ["2026-11-22T01:30:00+02:00"]})
    with Store(tmp_path / "lib.duckdb") as store:
        record_plays(store, plays, source="scrobble")
        stored = store.scalar("SELECT played_at FROM play_history")
        assert play_history(store, since="2026-11-21 23:30").track_id.tolist() == [7]
        assert play_history(store, since="2026-11-21 23:31").empty
    assert stored == datetime(2026, 11, 21, 23, 30)


def test_a_store_without_the_table_has_played_nothing(tmp_path):
    with Store(tmp_path / "lib.duckdb") as store:
        store.execute("DROP TABLE play_history")
        assert recently_played(store, days=14) == set()
        assert play_history(store).empty


def test_bad_plays_are_refused_with_the_reason(tmp_path):
    with Store(tmp_path / "lib.duckdb") as store:
        with pytest.raises(ParameterError, match=r"column\(s\) \['played_at'\]"):
            record_plays(store, pd.DataFrame({"track_id": [1]}), source="x")
        with pytest.raises(ParameterError, match="need a source"):
            record_plays(store, pd.DataFrame({"track_id": [1], "played_at": [NOW]}))
        with pytest.raises(ParameterError, match=r"rows \[1\] are not"):
            record_plays(
                store, pd.DataFrame({"track_id": [1, "x"], "played_at": [NOW, NOW]}), source="x"
            )
        with pytest.raises(ParameterError, match="played_at"):
            record_plays(
                store, pd.DataFrame({"track_id": [1], "played_at": ["yesterday-ish"]}), source="x"
            )
        with pytest.raises(ParameterError, match="days must be a number >= 0"):
            recently_played(store, days=-1)
        assert store.scalar("SELECT count(*) FROM play_history") == 0


def test_a_read_only_store_refuses_to_record(store_path):
    with Store(store_path, read_only=True) as store, pytest.raises(StoreError):
        record_plays(store, pd.DataFrame({"track_id": [1], "played_at": [NOW]}), source="x")
