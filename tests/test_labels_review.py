"""Reviewing findings: ``musicwb labels review|accept|reject|search``, manual values that no
hunt, worker, cool-down or re-scan overwrites, rejected labels never proposed again, and
catalogue numbers kept in every spelling (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.enrich import cooldown
from musicwb.enrich.dashboard import run_for_budget
from musicwb.enrich.hunt import hunt_labels
from musicwb.enrich.outcomes import HuntOutcome, LabelFinding
from musicwb.enrich.queue import enqueue_tracks
from musicwb.enrich.review import (
    accept_label,
    catalogue_numbers,
    reject_label,
    review_queue,
    search_catalogue,
)
from musicwb.library.fields import field_columns, keep_curated
from musicwb.store import Store

T0 = datetime(2026, 1, 1)
TRACKS = [
    # id, artist, title, label (the user's, from tags), album
    (1, "Trevino", "Sombre Tones [Klockworks]", None, None),  # title 0.60 + known label 0.05
    (2, "Trevino", "Backlash", "Klockworks", None),
    (3, "Lewis Fautzi", "Space [Soma - SOMA 012]", None, None),  # title 0.60 + catalogue 0.05
    (4, "Lewis Fautzi", "Dawn [Soma - SOMA 013]", None, None),
    (5, "Oscar Mulero", "Grey [Warm Up - WU 40]", None, None),
]


def make_store(path: Path) -> Path:
    rows = [
        {"id": i, "path": f"/music/{i}.mp3", "size": 1, "mtime": 0.0, "content_hash": f"h{i}",
         "artist": artist, "title": title, "album": album, "label": label,
         "label_source": "tags" if label else None, "label_confidence": 1.0 if label else None,
         "added_at": T0, "updated_at": T0}
        for i, artist, title, label, album in TRACKS
    ]  # fmt: skip
    with Store(path) as store:
        store.insert("tracks", pd.DataFrame(rows))
    return path


def label_of(store: Store, track_id: int) -> tuple:
    return store.rows(
        "SELECT label, label_source, label_confidence, catalog_number, catalog_number_source "
        "FROM tracks WHERE id = ?",
        [track_id],
    )[0]


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, Exception) and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def main_cli(*args: str) -> subprocess.CompletedProcess:
    """The console script as a user runs it (one-line errors and exit codes come from main)."""
    return subprocess.run(
        [sys.executable, "-c", "from musicwb.cli import main; main()", *args],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def hunted(tmp_path: Path) -> Path:
    path = make_store(tmp_path / "lib.duckdb")
    with Store(path) as store:
        hunt_labels(store, sources=["title"], progress=False)
    return path


def test_review_lists_the_findings_below_the_threshold_with_their_evidence(hunted: Path) -> None:
    code, out, _ = cli("labels", "review", "--json", "--store", str(hunted))
    assert code == 0
    rows = json.loads(out)
    assert [row["track_id"] for row in rows] == [1, 3, 4, 5]  # all 0.65, below 0.7
    by_track = {row["track_id"]: row for row in rows}
    assert by_track[1]["label"] == "Klockworks" and by_track[1]["confidence"] == 0.65
    assert "The title names the label" in by_track[1]["evidence"]
    assert "The library knows this label" in by_track[1]["evidence"]
    assert by_track[3]["catalog"] == "SOMA 012"
    code, text, _ = cli("labels", "review", "--store", str(hunted))
    assert code == 0 and "4 finding(s) waiting for a decision" in text
    # each finding in words, its evidence whole, nothing shown as None
    for row in rows:
        assert f"#{row['track_id']} " in text and row["evidence"] in text
    assert "None" not in text and "..." not in text
    assert "Klockworks (title, 0.65): The title names the label" in text
    with Store(hunted, read_only=True) as store:
        assert review_queue(store)["track_id"].tolist() == [1, 3, 4, 5]  # the CLI's function
        assert review_queue(store, below=0.5).empty


def test_accept_makes_the_finding_the_tracks_own_label_with_its_catalogue(hunted: Path) -> None:
    code, out, _ = cli("labels", "accept", "3", "--json", "--store", str(hunted))
    assert code == 0
    assert json.loads(out)["label"] == "Soma" and json.loads(out)["catalogues"] == ["SOMA 012"]
    with Store(hunted) as store:
        assert label_of(store, 3) == ("Soma", "manual", 1.0, "SOMA 012", "manual")
        assert 3 not in review_queue(store)["track_id"].tolist()
        numbers = catalogue_numbers(store, track_ids=[3])
        assert numbers[["catalogue", "catalogue_key", "source"]].values.tolist() == [
            ["SOMA 012", "SOMA012", "manual"]
        ]


def test_accept_with_a_label_of_ones_own_and_several_catalogue_numbers(hunted: Path) -> None:
    code, out, _ = cli(
        "labels", "accept", "5", "--label", "Warm Up Recordings", "--catalogue", "wu-40",
        "--catalogue", "WU 40 CD", "--store", str(hunted),
    )  # fmt: skip
    assert code == 0 and "accepted" in out
    with Store(hunted) as store:
        assert label_of(store, 5)[:4] == ("Warm Up Recordings", "manual", 1.0, "wu-40")
        for spelling in ("WU40", "wu 40", "Wu-40"):
            assert search_catalogue(store, spelling)["track_id"].tolist() == [5]
        assert search_catalogue(store, "wu 40 cd")["catalogue"].tolist() == ["WU 40 CD"]
        assert search_catalogue(store, "wu", prefix=True)["catalogue_key"].tolist() == [
            "WU40",
            "WU40CD",
        ]


def test_catalogue_spellings_are_one_number_and_searchable_from_the_command_line(
    hunted: Path,
) -> None:
    with Store(hunted) as store:
        accept_label(store, 3, catalogues=["cat 012"])
        accept_label(store, 4, catalogues=["CAT-012"])
        accept_label(store, 1, catalogues=["cat012"])
    for spelling in ("cat 012", "CAT-012", "cat012"):
        code, out, _ = cli("labels", "search", "--catalogue", spelling, "--json",
                           "--store", str(hunted))  # fmt: skip
        found = json.loads(out)
        assert code == 0 and sorted(row["track_id"] for row in found) == [1, 3, 4]
        assert {row["catalogue"] for row in found} == {"cat 012", "CAT-012", "cat012"}


def test_no_hunt_overwrites_a_manual_label_or_catalogue(hunted: Path) -> None:
    with Store(hunted) as store:
        accept_label(store, 1, label="My Own Label", catalogues=["MINE 1"])
        # the library and title tiers now agree on Klockworks for track 1 (accepted, 0.99+)
        summary = hunt_labels(store, sources=["library", "title"], min_confidence=0.3,
                              progress=False)  # fmt: skip
        assert summary.labels_found >= 1
        assert label_of(store, 1) == ("My Own Label", "manual", 1.0, "MINE 1", "manual")


class SureHunter:
    """A hunter that is sure of a label for every track (0.99, accepted)."""

    def hunt(self, track):
        finding = LabelFinding(
            track_id=int(track["id"]), label="Sure Label", catalog="SURE 1", source="stub",
            confidence=0.99, evidence="stub", accepted=True,
        )  # fmt: skip
        return HuntOutcome(track_id=int(track["id"]), status="found", finding=finding)


def test_the_worker_and_the_cooldown_never_overwrite_a_manual_label(hunted: Path) -> None:
    with Store(hunted) as store:
        accept_label(store, 1, label="My Own Label")
        enqueue_tracks(store, [1, 3])
        cooldown.migrate(store, now=cooldown.utc_now())
        cooldown.process(store, now=cooldown.utc_now())
        progress = run_for_budget(store, budget_s=30, hunter=SureHunter())
        assert progress.processed >= 2
        assert label_of(store, 1)[:3] == ("My Own Label", "manual", 1.0)
        assert label_of(store, 3)[:2] == ("Sure Label", "hunt:stub")  # the guard is narrow


def test_a_rescan_keeps_a_manual_value_even_against_a_metadata_csv() -> None:
    columns = field_columns()
    existing = pd.DataFrame([{c: None for c in columns} | {"id": 1}])
    existing.loc[0, ["label", "label_source", "label_confidence"]] = ["Mine", "manual", 1.0]
    for source in ("tags", "metadata_csv"):
        rows = pd.DataFrame([{c: None for c in columns} | {"id": 1}])
        rows.loc[0, ["label", "label_source", "label_confidence"]] = ["Other", source, 1.0]
        kept = keep_curated(rows, existing)
        assert kept.loc[0, ["label", "label_source"]].tolist() == ["Mine", "manual"], source


def test_a_rejected_label_is_never_proposed_again_for_that_track(hunted: Path) -> None:
    with Store(hunted) as store:
        stale = __import__("musicwb.enrich.labels", fromlist=["make_hunter"]).make_hunter(
            store, sources=["title"], llm=None
        )  # built before the decision, as a running worker's is
        decision = reject_label(store, 1)
        assert decision.label == "Klockworks"
        assert 1 not in review_queue(store)["track_id"].tolist()
        hunt_labels(store, sources=["title"], progress=False)
        hunt_labels(store, sources=["title"], progress=False, hunter=stale)
        found = store.rows("SELECT count(*) FROM label_findings WHERE track_id = 1 "
                           "AND found_at > (SELECT max(decided_at) FROM label_decisions)")  # fmt: skip
        assert found == [(0,)]
        assert 1 not in review_queue(store)["track_id"].tolist()
        assert review_queue(store)["track_id"].tolist() == [3, 4, 5]  # others still waiting


def test_rejecting_a_label_the_hunter_filled_empties_it(tmp_path: Path) -> None:
    path = make_store(tmp_path / "lib.duckdb")
    with Store(path) as store:
        hunt_labels(store, sources=["title"], min_confidence=0.6, progress=False)
        assert label_of(store, 3)[:2] == ("Soma", "hunt:title")
        found = search_catalogue(store, "soma-012")
        assert found[["track_id", "source"]].values.tolist() == [[3, "hunt:title"]]
        decision = reject_label(store, 3)
        assert decision.cleared
        assert label_of(store, 3) == (None, None, None, None, None)
        assert search_catalogue(store, "soma-012").empty
        hunt_labels(store, sources=["title"], min_confidence=0.6, progress=False)
        assert label_of(store, 3)[0] is None


def test_bad_input_gives_one_clear_line_and_the_clis_exit_codes(hunted: Path) -> None:
    store = ["--store", str(hunted)]
    unknown = main_cli("labels", "accept", "99", *store)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: TRACK_ID: no track 99 in the library"
    nothing = main_cli("labels", "accept", "2", *store)  # track 2 has no finding
    assert nothing.returncode == 2
    assert nothing.stderr.strip().splitlines() == [
        "error: track 2 has no finding to accept: give the label with --label"
    ]
    malformed = main_cli("labels", "accept", "1", "--catalogue", "<script>", *store)
    assert malformed.returncode == 2
    assert malformed.stderr.strip() == "error: --catalogue: not a catalogue number: '<script>'"
    search = main_cli("labels", "search", "--catalogue", "---", *store)
    assert search.returncode == 2 and search.stderr.count("\n") == 1
    with Store(hunted, read_only=True) as store_:
        assert label_of(store_, 1)[1] is None  # nothing was half-written


def test_a_locked_store_is_named_in_one_line(hunted: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys, time; from musicwb.store import Store; "
         f"s = Store({str(hunted)!r}); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        locked = main_cli("labels", "reject", "1", "--store", str(hunted))
    finally:
        holder.kill()
        holder.wait()
    assert locked.returncode == 1
    lines = locked.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "lock" in lines[0].lower()


@pytest.mark.parametrize("command", ["review", "accept", "reject", "search", "calibrate"])
def test_help_pages_of_the_labels_commands(command: str) -> None:
    result = CliRunner().invoke(app, ["labels", command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0
    assert "The DuckDB store [default: $MUSICWB_STORE, else data/musicwb.duckdb]." in result.output
    assert "<bool>" not in result.output


def test_a_real_rescan_of_a_retagged_file_with_a_csv_keeps_the_manual_label(
    tmp_path: Path,
) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from library_files import TAGS, scan, tag_file, write_audio

    music = tmp_path / "music"
    song = write_audio(music / "song.flac")
    tag_file(song, TAGS)
    store_path = tmp_path / "lib.duckdb"
    scan(store_path, music)
    with Store(store_path) as store:
        track_id = int(store.scalar("SELECT id FROM tracks"))
        accept_label(store, track_id, label="My Own Label", catalogues=["MINE 1"])
    csv = tmp_path / "meta.csv"
    csv.write_text("path,label\nsong.flac,CSV Label\n", encoding="utf-8")
    scan(store_path, music, metadata_csv=csv)  # the file unchanged: the CSV alone applies
    with Store(store_path, read_only=True) as store:
        assert label_of(store, track_id) == ("My Own Label", "manual", 1.0, "MINE 1", "manual")
    tag_file(song, {**TAGS, "label": "Other Label", "catalog_number": "OTHER 2"})
    summary = scan(store_path, music, metadata_csv=csv)
    assert summary.updated == 1  # the file was read again
    with Store(store_path, read_only=True) as store:
        assert label_of(store, track_id) == ("My Own Label", "manual", 1.0, "MINE 1", "manual")
        assert store.scalar("SELECT album FROM tracks") == TAGS["album"]  # the rest re-read
