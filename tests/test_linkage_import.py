"""Importing tracklists: three formats, malformed rows reported, re-import changes nothing;
several files with bad ones among them, encodings, and files broken as a whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from musicwb.errors import ParameterError, SourceError
from musicwb.linkage import import_tracklists, read_tracklists
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


# -- several files, some bad: per-file outcome, the good ones imported, nothing of a bad one --

CP1252 = ("set_id,dj,position,raw\n"
          "s9,Caf\xe9 DJ,1,Ren\xe9 - Ol\xe9 [Label]\n"
          "s9,Caf\xe9 DJ,2,ID - ID\n").encode("cp1252")  # fmt: skip


def _import_cli(*args: str, store) -> object:
    from typer.testing import CliRunner

    from musicwb.cli import app

    return CliRunner().invoke(app, ["tracklists", "import", *args, "--store", str(store)])


def _sources(store_path) -> dict[str, int]:
    with Store(store_path, read_only=True) as store:
        return dict(store.rows(
            "SELECT s.source_file, count(*) FROM tracklist_entries AS e "
            "JOIN tracklist_sets AS s USING (set_id) GROUP BY 1"
        ))  # fmt: skip


def test_good_and_bad_files_each_get_a_line_and_the_good_one_is_imported(tmp_path):
    good = tmp_path / "Ben_Klock_tracklists.csv"
    good.write_text(MIXESDB, encoding="utf-8")
    bad = tmp_path / "Latin_tracklists.csv"
    other = MIXESDB.replace("https://m/", "https://n/")  # other sets
    bad.write_bytes(other.replace("Trevino", "Trevi\u00f1o").encode("cp1252"))
    store = tmp_path / "s.duckdb"

    done = _import_cli(str(good), str(bad), store=store)

    assert done.exit_code == 1
    offset = other.encode().index(b"Trevino") + 5
    imported = f"{good}: imported 4 entries in 2 set(s) (3 unknown); 2 malformed row(s) skipped"
    assert imported in done.stdout
    assert (f"{bad}: FAILED, nothing imported: not UTF-8 (byte 0xf1 at offset {offset}, line 2); "
            "save it as UTF-8 or pass --encoding cp1252") in done.stdout  # fmt: skip
    assert "1 of 2 file(s) failed and were not imported" in done.stderr
    assert "top failure reasons:" in done.stderr
    assert _sources(store) == {str(good): 4}
    with Store(store, read_only=True) as opened:
        assert opened.rows("SELECT file_path FROM tracklist_imports") == [(str(good),)]

    as_json = _import_cli(str(good), str(bad), "--json", store=store)
    assert as_json.exit_code == 1
    summary = json.loads(as_json.stdout)
    assert [(f["file"], f["status"]) for f in summary["per_file"]] == [
        (str(good), "skipped"), (str(bad), "failed"),
    ]  # fmt: skip
    assert summary["ok"] is False and summary["failed"][0]["file"] == str(bad)

    fixed = _import_cli(str(bad), "--encoding", "cp1252", store=store)
    assert fixed.exit_code == 0, fixed.stdout
    assert _sources(store) == {str(good): 4, str(bad): 4}


def test_non_utf8_files_name_the_byte_and_hint_at_the_encoding(tmp_path):
    path = tmp_path / "sets.csv"
    path.write_bytes(CP1252)
    offset = CP1252.index(b"\xe9")
    with pytest.raises(SourceError) as caught:
        read_tracklists(path, fmt="csv")
    assert str(caught.value) == (
        f"{path}: not UTF-8 (byte 0xe9 at offset {offset}, line 2); "
        "save it as UTF-8 or pass --encoding cp1252"
    )
    parsed = read_tracklists(path, fmt="csv", encoding="cp1252")
    assert parsed.sets.dj.tolist() == ["Caf\u00e9 DJ"]
    assert parsed.entries.artist.tolist() == ["Ren\u00e9", None]

    undefined_in_cp1252 = tmp_path / "latin.csv"  # 0x81 has no cp1252 character
    undefined_in_cp1252.write_bytes(b"set_id,dj,position,raw\ns1,A\x81,1,X - Y\n")
    with pytest.raises(SourceError, match=r"byte 0x81 .*--encoding latin-1"):
        read_tracklists(undefined_in_cp1252, fmt="csv")
    utf16 = tmp_path / "utf16.json"
    utf16.write_text('{"sets": []}', encoding="utf-16")
    with pytest.raises(SourceError, match=r"utf16\.json: not UTF-8 .*--encoding utf-16"):
        read_tracklists(utf16, fmt="json")
    bom = tmp_path / "DJ_tracklists.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + MIXESDB.encode())
    assert len(read_tracklists(bom, fmt="mixesdb").entries) == 4
    with pytest.raises(ParameterError, match="--encoding 'klingon'"):
        read_tracklists(bom, fmt="mixesdb", encoding="klingon")


def test_broken_files_fail_whole_naming_the_line(tmp_path):
    quote = tmp_path / "quote.csv"  # a quote opened on line 3 and never closed
    quote.write_text('set_id,dj,position,raw\ns1,DJ,1,A - B\ns1,DJ,2,"C - D\ns1,DJ,3,E - F\n')
    broken_json = tmp_path / "sets.json"
    broken_json.write_text('{"sets": [\n  {"dj": "A", "entries": ["X - Y",]}\n]}\n')
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("set_id,dj,position,raw\ns1,DJ,x,A - B\n")
    store = tmp_path / "s.duckdb"

    with Store(store) as opened:
        csv_summary = import_tracklists(opened, [quote, nothing], fmt="csv", progress=False)
        json_summary = import_tracklists(opened, [broken_json], fmt="json", progress=False)
        assert opened.scalar("SELECT count(*) FROM tracklist_entries") == 0
        assert opened.scalar("SELECT count(*) FROM tracklist_imports") == 0

    reasons = {Path(f["file"]).name: f["reason"] for f in csv_summary.failed + json_summary.failed}
    assert "the row starting on line 3" in reasons["quote.csv"]
    assert reasons["nothing.csv"].startswith(f"{nothing}: no tracklist entry could be read")
    assert "line 2: position 'x' is not a number" in reasons["nothing.csv"]
    assert "line 2 column" in reasons["sets.json"]
    assert not csv_summary.ok and csv_summary.files == []


def test_rows_with_extra_fields_are_malformed_rows_with_their_physical_line(tmp_path):
    path = tmp_path / "sets.csv"
    path.write_text('set_id,dj,position,raw\ns1,DJ,1,"A - B\n(part two)"\n'
                    "s1,DJ,2,C, D - E\n\ns1,DJ,3,F - G\n")  # fmt: skip
    parsed = read_tracklists(path, fmt="csv")
    assert parsed.entries.position.tolist() == [1, 3]
    assert parsed.errors[["location", "reason"]].values.tolist() == [
        ["line 4", "5 fields where the header has 4 (an unquoted comma?)"],
    ]


def test_strict_refuses_a_file_with_malformed_rows(tmp_path):
    path = tmp_path / "Ben_Klock_tracklists.csv"
    path.write_text(MIXESDB)
    store = tmp_path / "s.duckdb"
    done = _import_cli(str(path), "--strict", store=store)
    assert done.exit_code == 1
    assert "FAILED, nothing imported: 2 malformed row(s); first: line 5" in done.stdout
    assert _sources(store) == {}
    assert _import_cli(str(path), store=store).exit_code == 0
    assert _sources(store) == {str(path): 4}


def test_a_json_set_id_given_twice_is_a_malformed_set_not_a_crash(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(json.dumps({"sets": [
        {"id": "x", "dj": "A", "entries": ["A - B", "C - D"]},
        {"id": "x", "dj": "A", "entries": ["E - F", "G - H"]},
    ]}))  # fmt: skip
    with Store(tmp_path / "s.duckdb") as store:
        summary = import_tracklists(store, [path], fmt="json", progress=False)
        assert store.scalar("SELECT count(*) FROM tracklist_entries") == 2
    assert summary.ok and summary.entries == 2
    assert [(e["location"], e["reason"]) for e in summary.errors] == [
        ("sets[1]", "the set id 'x' of sets[0] again")
    ]


def test_a_file_the_store_refuses_fails_on_its_own(tmp_path):
    path = tmp_path / "DJ_tracklists.csv"
    path.write_text(MIXESDB)
    Store(tmp_path / "s.duckdb").close()
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        summary = import_tracklists(store, [path, tmp_path / "absent.csv"], fmt="mixesdb",
                                    progress=False)  # fmt: skip
    assert summary.files == [] and [item["status"] for item in summary.per_file] == [
        "failed", "failed"
    ]  # fmt: skip
    assert "could not be written to the store" in summary.failed[0]["reason"]
    assert "cannot read tracklist file" in summary.failed[1]["reason"]
