"""``--format djmix``: the DJ Mix Dataset's JSON imported as it is (the real dev file, and small
hand-written files for what can go wrong), and the date, venue and show of a mix title."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musicwb.errors import SourceError
from musicwb.linkage import import_tracklists, read_tracklists
from musicwb.linkage.tracklist_files import MixTitle, mix_title_parts
from musicwb.linkage.tracklists import entries_frame
from musicwb.store import Store

# As the dev file holds them (djmix-dataset-dev.json, 2026 copy).
N_MIXES, N_ENTRIES = 4031, 82248


@pytest.fixture(scope="module")
def djmix_file(shared_data: Path) -> Path:
    path = shared_data / "djsets" / "djmix" / "djmix-dataset-dev.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def djmix_store(djmix_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("djmix") / "store.duckdb"
    with Store(path) as store:
        summary = import_tracklists(store, [djmix_file], fmt="djmix", progress=False)
    assert summary.ok and (summary.sets, summary.entries) == (N_MIXES, N_ENTRIES)
    assert summary.errors == []
    return path


def _set_id(mix_id: str) -> str:
    from musicwb.linkage.tracklist_files import _set_id as set_id_of

    return set_id_of("djmix", mix_id)


def _mix(store: Store, mix_id: str) -> dict:
    return store.df("SELECT dj, set_date, venue, show_name, source FROM tracklist_sets "
                    "WHERE set_id = ?", [_set_id(mix_id)]).iloc[0].to_dict()


def test_the_real_file_imports_every_mix_and_entry(djmix_store):
    with Store(djmix_store, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tracklist_sets") == N_MIXES
        assert store.scalar("SELECT count(*) FROM tracklist_entries") == N_ENTRIES
        assert store.scalar("SELECT count(*) FROM tracklist_sets WHERE dj = '' OR dj IS NULL") == 0
        # Play order: each mix's positions are 1..n.
        assert store.scalar(
            "SELECT count(*) FROM (SELECT set_id, max(position) AS top, count(*) AS n "
            "FROM tracklist_entries GROUP BY set_id) WHERE top <> n") == 0


@pytest.mark.parametrize(("mix_id", "dj", "date", "venue", "show"), [
    ("mix0000", "Paul Oakenfold", "1988-06", "Spectrum, London", "Test Pressing 354, 2014-06-13"),
    ("mix0124", "Armin van Buuren", "2002-07-04", None, "A State Of Trance 054"),
    ("mix0125", "Armin van Buuren", "2002-07-05", "Godskitchen, Code, Birmingham",
     "A State Of Trance 055"),
    ("mix0130", "Armin van Buuren", "2002-08-15", None, "A State Of Trance 059"),
])
def test_dj_date_venue_and_show_of_known_mixes(djmix_store, mix_id, dj, date, venue, show):
    with Store(djmix_store, read_only=True) as store:
        mix = _mix(store, mix_id)
    assert (mix["dj"], mix["set_date"], mix["venue"], mix["show_name"]) == (dj, date, venue, show)
    assert mix["source"] == "djmix"


def test_raw_kept_as_published_and_minute_prefix_not_in_the_artist(djmix_store):
    with Store(djmix_store, read_only=True) as store:
        second = store.df("SELECT raw, artist, label FROM tracklist_entries "
                          "WHERE set_id = ? AND position = 2", [_set_id("mix0000")]).iloc[0]
        prefixed = store.scalar(
            "SELECT count(*) FROM tracklist_entries WHERE regexp_matches(artist, '^\\[[0-9?:.]+\\]')")
        entries = entries_frame(store)
    assert second.raw == "[05] Code 61 - Drop The Deal [Limited Club Edition - LCE 003]"
    assert (second.artist, second.label) == ("Code 61", "Limited Club Edition")
    assert prefixed == 0
    assert entries.set_date.notna().all() and len(entries) == N_ENTRIES


def test_a_reimport_changes_nothing(djmix_store, djmix_file):
    query = "SELECT * FROM tracklist_entries ORDER BY set_id, position"
    with Store(djmix_store) as store:
        before = store.df(query)
        summary = import_tracklists(store, [djmix_file], fmt="djmix", progress=False)
        after = store.df(query)
        imports = store.scalar("SELECT count(*) FROM tracklist_imports")
    assert summary.skipped == [str(djmix_file)] and summary.entries == 0
    assert before.equals(after) and imports == 1


def _write(path: Path, mixes: object) -> Path:
    path.write_text(json.dumps(mixes))
    return path


GOOD = {"id": "mix0001", "title": "2003-01-01 - DJ A @ Club, City", "url": "https://m/a",
        "tracklist": [{"id": None, "title": "[00] A - B [CR2]"},
                      {"id": "x", "title": "[03] C - D"}]}
BROKEN = {"id": "mix0042", "title": "2003-01-01 - X @ Y", "url": "https://m/x",
          "tracklist": [{"id": None, "title": f"[{i:02d}] A{i} - T{i}"} for i in range(6)]
          + [{"id": None, "title": None}, {"id": None}, "not an entry"]}


def test_malformed_mixes_and_entries_are_reported_with_the_mix_and_the_rest_imported(tmp_path):
    path = _write(tmp_path / "mixes.json",
                  [GOOD, "a string", {"id": "mix0003", "title": "2003 - B"}, BROKEN])
    parsed = read_tracklists(path, fmt="djmix")
    errors = parsed.errors.set_index("location").reason.to_dict()
    assert set(errors) == {'mix0042 "2003-01-01 - X @ Y" entry 7',
                           'mix0042 "2003-01-01 - X @ Y" entry 8',
                           'mix0042 "2003-01-01 - X @ Y" entry 9',
                           'mix0003 "2003 - B"', "mixes[1]"}
    assert "title" in errors['mix0042 "2003-01-01 - X @ Y" entry 7']
    assert "tracklist" in errors['mix0003 "2003 - B"'] and "object" in errors["mixes[1]"]
    assert sorted(parsed.sets.dj) == ["DJ A", "X"]
    assert len(parsed.entries) == 2 + 6
    with Store(":memory:") as store:
        summary = import_tracklists(store, [path], fmt="djmix", progress=False)
        stored = store.scalar("SELECT count(*) FROM tracklist_entries")
    assert summary.ok and stored == 8 and len(summary.errors) == 5


def test_strict_refuses_the_whole_file(tmp_path):
    path = _write(tmp_path / "mixes.json", [GOOD, BROKEN])
    with Store(":memory:") as store:
        summary = import_tracklists(store, [path], fmt="djmix", strict=True, progress=False)
        stored = store.scalar("SELECT count(*) FROM tracklist_entries")
    assert not summary.ok and stored == 0
    assert 'mix0042 "2003-01-01 - X @ Y" entry 7' in summary.failed[0]["reason"]


@pytest.mark.parametrize(("text", "words"), [
    ('[{"id": "mix0001", "tracklist": [', "not a readable JSON file"),
    ('{"sets": []}', "expected a JSON list of mixes"),
])
def test_a_file_that_is_not_a_list_of_mixes_fails_naming_it(tmp_path, text, words):
    path = tmp_path / "mixes.json"
    path.write_text(text)
    with pytest.raises(SourceError, match=words) as caught:
        read_tracklists(path, fmt="djmix")
    assert str(path) in str(caught.value)


def test_mixesdb_sets_carry_the_date_venue_and_show_of_their_title(tmp_path):
    path = tmp_path / "DVS1_tracklists.csv"
    path.write_text(
        "mix_title,mix_url,part,position,timestamp,artist,title,raw\n"
        '"2012-09-21 - DVS1 @ Perron, Rotterdam (Pole Group Radio, Vicious Radio 2012-10-05)",'
        "https://m/a,,1,00,A,B,A - B\n"
    )
    sets = read_tracklists(path, fmt="mixesdb").sets
    assert sets[["dj", "set_date", "venue", "show_name"]].values.tolist() == [
        ["DVS1", "2012-09-21", "Perron, Rotterdam", "Pole Group Radio, Vicious Radio 2012-10-05"]]
    csv_sets = read_tracklists(_csv(tmp_path), fmt="csv").sets
    assert csv_sets[["set_date", "venue", "show_name"]].isna().all().all()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "sets.csv"
    path.write_text("set_id,dj,position,raw\ns1,DJ A,1,A - B\n")
    return path


@pytest.mark.parametrize(("title", "expected"), [
    ("2016-08-07 - Sadar Bahar @ Boiler Room - Dekmantel Festival Day 3, Amsterdam",
     MixTitle("2016-08-07", "Sadar Bahar", "Boiler Room - Dekmantel Festival Day 3, Amsterdam",
              None)),
    ("200X - Bailey - Return To Metalheadz At The Blue Note (Promo Mix)",
     MixTitle("200X", "Bailey", None, "Return To Metalheadz At The Blue Note (Promo Mix)")),
    ("1994 - Luke Slater @ Kiss 100 FM", MixTitle("1994", "Luke Slater", "Kiss 100 FM", None)),
    ("2010-11-01 - Silent Servant vs DVS1 - LWE Podcast 63",
     MixTitle("2010-11-01", "Silent Servant vs DVS1", None, "LWE Podcast 63")),
    ("  ", MixTitle(None, "", None, None)),
])
def test_mix_title_parts(title, expected):
    assert mix_title_parts(title) == expected


def test_a_store_from_before_migration_010_gets_the_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        import_tracklists(store, [_csv(tmp_path)], fmt="csv", progress=False)
        for column in ("set_date", "venue", "show_name"):
            store.execute(f"ALTER TABLE tracklist_sets DROP COLUMN {column}")
        store.execute("DELETE FROM schema_migrations WHERE version = 10")
    with Store(path) as store:
        assert 10 in store.applied_migrations()
        sets = store.df("SELECT dj, set_date, venue, show_name FROM tracklist_sets")
    assert sets.values.tolist() == [["DJ A", None, None, None]]
