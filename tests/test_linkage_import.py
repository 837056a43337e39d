"""Importing tracklists: three formats, malformed rows reported, re-import changes nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from musicwb.errors import ParameterError, SourceError
from musicwb.linkage.tracklists import import_tracklists, read_tracklists
from musicwb.store import Store

MIXESDB = (
    "mix_title,mix_url,part,position,timestamp,artist,title,raw\n"
    'Mix A,https://m/a,,1,00,Trevino,Sombre Tones [Klockworks - KW 20],"Trevino - Sombre Tones [Klockworks - KW 20]"\n'
    "Mix A,https://m/a,,2,03,,?,?\n"
    "Mix A,https://m/a,,3,06,Stef Mendesidis,? [Unreleased],Stef Mendesidis - ? [Unreleased]\n"
    "Mix A,https://m/a,,four,09,X,Y,X - Y\n"
    "Mix A,https://m/a,,5,12,,,\n"
    "Mix B,https://m/b,Hour 1,1,00,ID,ID,ID - ID\n"
)


def _tables(store: Store) -> tuple:
    return (
        store.df("SELECT * FROM tracklist_sets ORDER BY set_id").to_dict("records"),
        store.df("SELECT * FROM tracklist_entries ORDER BY set_id, position").to_dict("records"),
        store.scalar("SELECT count(*) FROM tracklist_import_errors"),
    )


def test_mixesdb_rows_parsed_unknowns_flagged_malformed_reported(tmp_path):
    path = tmp_path / "Ben_Klock_tracklists.csv"
    path.write_text(MIXESDB)
    parsed = read_tracklists(path, fmt="mixesdb")
    assert set(parsed.sets.dj) == {"Ben Klock"}
    assert len(parsed.sets) == 2
    entries = parsed.entries.sort_values(["set_id", "position"])
    first = entries[entries.raw.str.startswith("Trevino")].iloc[0]
    assert (first.artist, first.label, bool(first.is_unknown)) == ("Trevino", "Klockworks", False)
    assert entries[entries.raw == "?"].is_unknown.all()
    assert entries[entries.raw == "ID - ID"].is_unknown.all()
    promo = entries[entries.raw.str.startswith("Stef")].iloc[0]
    assert promo.artist == "Stef Mendesidis" and promo.is_unknown
    errors = parsed.errors.set_index("location").reason.to_dict()
    assert set(errors) == {"line 5", "line 6"}
    assert "position" in errors["line 5"] and "raw" in errors["line 6"]
    assert (parsed.errors.file_path == str(path)).all()


def test_json_sets_in_play_order(tmp_path):
    path = tmp_path / "sets.json"
    path.write_text(json.dumps({"sets": [
        {"id": "abgt500", "dj": "Above & Beyond", "title": "ABGT 500", "entries": [
            {"time": "0:00", "raw": "Ilan Bluestone - Frozen Ground [Anjunabeats]"},
            {"time": "0:04", "raw": "ID - ID"},
            {"time": "0:08"},
        ]},
        {"title": "no dj", "entries": []},
    ]}))  # fmt: skip
    parsed = read_tracklists(path, fmt="json")
    assert parsed.entries.position.tolist() == [1, 2]
    assert parsed.entries.is_unknown.tolist() == [False, True]
    assert parsed.sets.dj.tolist() == ["Above & Beyond"]
    assert set(parsed.errors.location) == {"sets[0].entries[2]", "sets[1]"}


def test_generic_csv_with_raw_or_artist_title(tmp_path):
    raw = tmp_path / "raw.csv"
    raw.write_text("set_id,dj,position,raw\ns1,DJ A,1,A - B [L]\ns1,DJ A,2,?\ns1,,3,C - D\n")
    parsed = read_tracklists(raw, fmt="csv")
    assert parsed.entries.label.tolist() == ["L", None]
    assert parsed.errors.location.tolist() == ["line 4"]
    split = tmp_path / "split.csv"
    split.write_text("set_id,dj,position,artist,title,label\ns1,DJ A,1,Alpha,Song,Lab\n"
                     "s1,DJ A,2,ID,ID,\ns1,DJ A,2,Beta,Dup,\n")
    parsed = read_tracklists(split, fmt="csv")
    assert parsed.entries.artist.tolist() == ["Alpha", None]
    assert parsed.entries.is_unknown.tolist() == [False, True]
    assert parsed.errors.reason.tolist() == ["duplicate position within its set"]


def test_reimport_changes_nothing(tmp_path):
    path = tmp_path / "DJ_tracklists.csv"
    path.write_text(MIXESDB)
    with Store(tmp_path / "s.duckdb") as store:
        first = import_tracklists(store, [path], fmt="mixesdb", progress=False)
        before = _tables(store)
        again = import_tracklists(store, [path], fmt="mixesdb", progress=False)
        copy = tmp_path / "copy" / "DJ_tracklists.csv"
        copy.parent.mkdir()
        shutil.copy(path, copy)
        import_tracklists(store, [copy], fmt="mixesdb", progress=False)
        assert _tables(store) == before
    assert (first.entries, first.sets, len(first.errors)) == (4, 2, 2)
    assert again.skipped == [str(path)] and again.entries == 0


def test_unreadable_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(ParameterError, match="--format"):
        read_tracklists(tmp_path / "x.csv", fmt="xml")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="bad.csv.*missing column"):
        read_tracklists(bad, fmt="mixesdb")
    with pytest.raises(SourceError, match="missing.csv"):
        read_tracklists(tmp_path / "missing.csv", fmt="csv")


def test_real_mixesdb_files_import(shared_data, tmp_path):
    files = sorted((shared_data / "djsets" / "mixesdb").glob("*.csv"))
    with Store(tmp_path / "s.duckdb") as store:
        summary = import_tracklists(store, files, fmt="mixesdb", progress=False)
        n = store.scalar("SELECT count(*) FROM tracklist_entries")
        unknown = store.scalar("SELECT count(*) FROM tracklist_entries WHERE is_unknown")
    # the README's 3,049 rows, less two rows of DVS1 with an empty raw line (reported)
    assert n == summary.entries == 3047
    assert {e["location"] for e in summary.errors} == {"line 218", "line 222"}
    assert unknown >= 467  # the README's `?`/`ID` entries, plus "Artist - ?" ones
