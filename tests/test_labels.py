"""The label hunter: matching, tiers, the hunt over a store, its CLI.

Network tiers talk to the local replay server (real recorded MusicBrainz and Discogs answers
through the real client libraries) with limits scaled up; nothing touches the internet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from llm_server import LlmServer
from pydantic import SecretStr
from replay_server import ReplayServer
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.config import get_settings
from musicwb.enrich.findings import findings_frame, hunts_frame, record_outcomes, tracks_to_hunt
from musicwb.enrich.hunt import hunt_labels
from musicwb.enrich.labels import LabelHunter, make_hunter
from musicwb.enrich.llm import LlmAssist
from musicwb.enrich.match import (
    TrackQuery,
    query_from_track,
    query_variants,
    score_candidate,
)
from musicwb.enrich.outcomes import HuntOutcome, LabelFinding
from musicwb.enrich.sources import HttpPolicy
from musicwb.enrich.sources.base import Candidate, ReleaseDetails
from musicwb.errors import ParameterError
from musicwb.store import Store

# -- matching ------------------------------------------------------------------------------------


def _candidate(**fields) -> Candidate:
    base = {"source": "discogs", "source_id": "1", "artist": "Trevino", "title": "Sombre Tones"}
    return Candidate(**{**base, **fields})


QUERY = TrackQuery(
    artist="Trevino", title="Sombre Tones", duration_s=402.0, label_hint="Klockworks"
)


def test_an_exact_match_is_confident_and_says_why():
    score = score_candidate(QUERY, _candidate(label="Klockworks", duration_s=401.0))
    assert score.confidence >= 0.95
    assert score.parts["artist"] == 1.0 and score.parts["title"] == 1.0
    assert score.parts["duration"] == 1.0 and score.parts["label_hint"] > 0


def test_the_same_title_by_another_artist_is_never_accepted():
    score = score_candidate(QUERY, _candidate(artist="Marcus Intalex", duration_s=402.0))
    assert score.confidence <= 0.6 and not score.accepted(0.7)
    assert "gate" in score.parts


def test_compilations_a_wrong_length_and_another_mix_lower_the_confidence():
    exact = score_candidate(QUERY, _candidate(duration_s=402.0)).confidence
    compiled = score_candidate(QUERY, _candidate(duration_s=402.0, formats=("CD", "Compilation")))
    assert compiled.parts["compilation"] < 0 and compiled.confidence < exact
    radio = score_candidate(QUERY, _candidate(title="Sombre Tones (Radio Edit)", duration_s=190.0))
    assert radio.parts["duration"] == 0.0 and radio.parts["mix"] < 1.0 and radio.confidence < exact
    other_label = score_candidate(QUERY, _candidate(label="Drumcode", duration_s=402.0))
    assert other_label.parts["label_hint"] < 0


def test_queries_come_from_the_title_parser_and_modes_make_more_of_them():
    query = query_from_track(
        {
            "artist": "Faithless ft. Dido",
            "title": "We Come 1 (Adam Beyer Remix) [CHEEKY - 123]",
            "duration": 410.0,
        }
    )
    assert (query.title, query.mix, query.label_hint, query.catalog_hint) == (
        "We Come 1",
        "Adam Beyer Remix",
        "CHEEKY",
        "123",
    )
    assert len(query_variants(query, mode="fast")) == 1
    assert query_variants(query, mode="balanced")[1] == ("Faithless", "We Come 1")
    assert len(query_variants(query, mode="accurate")) >= 2
    assert query_from_track({"artist": "ID", "title": "ID"}) is None
    assert query_from_track({"artist": None, "title": None}) is None


# -- the hunt on the demo library (library knowledge and titles, no network) ----------------------


@pytest.fixture
def demo_copy(demo_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, copy)
    return copy


def _truth(demo_store: Path) -> pd.DataFrame:
    out_dir = demo_store.parent / "demo"
    truth = pd.read_csv(out_dir / "truth.csv")
    truth["path"] = [str(out_dir / path) for path in truth["path"]]
    return truth


def test_offline_tiers_find_demo_labels_and_never_touch_user_tags(demo_copy, demo_store, capsys):
    with Store(demo_copy) as store:
        before = store.df("SELECT id, label, label_source FROM tracks WHERE label IS NOT NULL")
        summary = hunt_labels(store, sources=["library", "title"], progress=False)
        after = store.df("SELECT id, path, label, label_source, label_confidence FROM tracks")
        findings = store.df(
            "SELECT f.*, t.path FROM label_findings f JOIN tracks t ON t.id = f.track_id"
        )
        hunts = hunts_frame(store)
    truth = _truth(demo_store)
    checked = findings.merge(truth[["path", "label"]], on="path", suffixes=("", "_true"))
    accepted = checked[checked["accepted"]]
    precision = float((accepted["label"] == accepted["label_true"]).mean())
    missing = int(before.shape[0])
    print(
        f"\ndemo: {summary.labels_found}/{summary.processed} found, accepted precision "
        f"{precision:.3f} over {len(accepted)}, {summary.applied} labels filled"
    )
    assert precision >= 0.95 and len(accepted) >= 40
    assert summary.processed == 150 and summary.labels_found == len(accepted)
    assert set(summary.by_source) <= {"library", "title", "library+title", "title+library"}
    # the user's labels are untouched; filled ones name the hunter as their source
    kept = after.set_index("id").loc[before["id"]]
    assert (kept["label"].to_numpy() == before["label"].to_numpy()).all()
    assert (kept["label_source"] == "tags").all()
    filled = after[after["label_source"].fillna("").str.startswith("hunt:")]
    assert len(filled) == summary.applied > 0 and missing + len(filled) <= 150
    assert filled["label_confidence"].min() >= 0.7
    # every finding carries source, confidence, evidence and time; every track one outcome
    assert findings[["source", "confidence", "evidence", "found_at"]].notna().all().all()
    assert hunts["track_id"].is_unique and len(hunts) == 150


def test_record_outcomes_improves_only_the_hunters_own_labels(tmp_path):
    with Store(tmp_path / "lib.duckdb") as store:
        now = pd.Timestamp.now()
        store.insert(
            "tracks",
            pd.DataFrame(
                {
                    "id": [1, 2],
                    "path": ["/a.mp3", "/b.mp3"],
                    "size": [1, 1],
                    "mtime": [0.0, 0.0],
                    "content_hash": ["a", "b"],
                    "artist": ["A", "B"],
                    "title": ["x", "y"],
                    "label": ["Mine", None],
                    "label_source": ["tags", None],
                    "label_confidence": [1.0, None],
                    "added_at": [now, now],
                    "updated_at": [now, now],
                }
            ),
        )

        def outcome(track_id: int, label: str, confidence: float) -> HuntOutcome:
            finding = LabelFinding(
                track_id=track_id,
                label=label,
                catalog="CAT 1",
                source="discogs",
                confidence=confidence,
                evidence="test",
                accepted=confidence >= 0.7,
            )
            return HuntOutcome(track_id=track_id, status="found", finding=finding)

        assert record_outcomes(store, [outcome(1, "Theirs", 0.99), outcome(2, "First", 0.75)]) == 1
        assert record_outcomes(store, [outcome(2, "Better", 0.9)]) == 1
        assert record_outcomes(store, [outcome(2, "Worse", 0.8)]) == 0
        rows = dict(store.rows("SELECT id, label FROM tracks ORDER BY id"))
        assert rows == {1: "Mine", 2: "Better"}
        assert store.scalar("SELECT catalog_number FROM tracks WHERE id = 2") == "CAT 1"
        assert store.scalar("SELECT count(*) FROM label_findings") == 4


# -- the network tiers against the replay server -------------------------------------------------


@pytest.fixture
def server(shared_data: Path):
    with ReplayServer(
        shared_data,
        musicbrainz_rate_per_s=40.0,
        discogs_limit_with_token=40,
        discogs_limit_without_token=40,
        discogs_window_s=1.0,
        hang_s=2.0,
    ).running() as running:
        yield running


@pytest.fixture
def settings(server, monkeypatch):
    for variable in ("MUSICWB_LLM_BASE_URL", "MUSICWB_LLM_MODEL", "DISCOGS_USER_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    values = {
        "MUSICWB_MUSICBRAINZ_HOST": server.musicbrainz_host,
        "MUSICWB_MUSICBRAINZ_HTTPS": "false",
        "MUSICWB_MUSICBRAINZ_RATE_PER_S": "20",
        "MUSICWB_DISCOGS_BASE_URL": server.discogs_base_url,
        "MUSICWB_DISCOGS_REQUESTS_PER_MIN": "1200",
        "MUSICWB_HTTP_TIMEOUT_S": "1",
        "MUSICWB_HTTP_MAX_TRIES": "3",
        "MUSICWB_HTTP_BACKOFF_INITIAL_S": "0.01",
        "MUSICWB_HTTP_BACKOFF_MAX_S": "0.05",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return get_settings()


TRACKS = [
    ("Trash80", "Icarus"),  # Discogs: 8bitpeoples, 8BP086
    ("Dynamo Go", "Affordable Pop Music"),  # MusicBrainz release search: Waysafe, WS06
    ("ID", "ID"),  # an unknown promo: nothing to search
    ("Nobody Known", "Nothing Recorded"),  # every answer is about someone else
]


@pytest.fixture
def library(tmp_path) -> Path:
    path = tmp_path / "hunt.duckdb"
    now = pd.Timestamp.now()
    with Store(path) as store:
        store.insert(
            "tracks",
            pd.DataFrame(
                {
                    "id": range(1, len(TRACKS) + 1),
                    "path": [f"/music/{a} - {t}.flac" for a, t in TRACKS],
                    "size": 1,
                    "mtime": 0.0,
                    "content_hash": [str(i) for i in range(len(TRACKS))],
                    "artist": [a for a, _ in TRACKS],
                    "title": [t for _, t in TRACKS],
                    "added_at": now,
                    "updated_at": now,
                }
            ),
        )
    return path


def _labels(store: Store) -> dict[str, tuple]:
    return {
        artist: (label, catalog, source)
        for artist, label, catalog, source in store.rows(
            "SELECT artist, label, catalog_number, label_source FROM tracks ORDER BY id"
        )
    }


def test_musicbrainz_and_discogs_find_labels_and_a_second_hunt_asks_nothing(
    library, server, settings
):
    with Store(library) as store:
        summary = hunt_labels(
            store, sources=["musicbrainz", "discogs"], settings=settings, progress=False
        )
        labels = _labels(store)
        findings = findings_frame(store)
    assert labels["Trash80"] == ("8bitpeoples", "8BP086", "hunt:discogs")
    assert labels["Dynamo Go"] == ("Waysafe", "WS06", "hunt:musicbrainz")
    assert labels["ID"] == (None, None, None) and labels["Nobody Known"][0] is None
    assert summary.as_dict()["by_source"] == {"discogs": 1, "musicbrainz": 1}
    assert (summary.processed, summary.labels_found, summary.failed) == (4, 2, 0)
    assert summary.success_rate == 0.5
    evidence = findings.set_index("artist").loc["Trash80", "evidence"]
    assert "8bitpeoples" in evidence and "artist 1.00" in evidence
    parts = json.loads(findings.set_index("artist").loc["Dynamo Go", "parts"])
    assert parts["artist"] == 1.0 and parts["release_title"] < 0
    assert sum(server.violations.values()) == 0
    asked = dict(server.requests)
    with Store(library) as store:
        again = hunt_labels(
            store, sources=["musicbrainz", "discogs"], settings=settings, progress=False
        )
    assert dict(server.requests) == asked, "a second run of the same hunt must ask nothing"
    assert again.labels_found == 2


def test_a_failing_service_is_recorded_and_the_others_still_answer(library, server, settings):
    server.inject("musicbrainz", "503", times=200)
    server.inject("discogs", "malformed", times=1)
    with Store(library) as store:
        summary = hunt_labels(
            store,
            sources=["musicbrainz", "discogs"],
            settings=settings,
            progress=False,
            mode="fast",
        )
        failed = hunts_frame(store, status="failed")
        labels = _labels(store)
    assert labels["Trash80"][0] == "8bitpeoples", "Discogs still answers while MusicBrainz fails"
    assert summary.failed >= 2 and len(failed) == summary.failed
    assert failed["error"].str.contains("musicbrainz: ").all()
    assert sum(server.violations.values()) == 0
    with server._lock:  # the service comes back
        server._injected["musicbrainz"].clear()
    with Store(library) as store:
        retried = hunt_labels(
            store,
            sources=["musicbrainz", "discogs"],
            settings=settings,
            progress=False,
            track_ids=failed["track_id"].tolist(),
        )
        labels = _labels(store)
    assert retried.failed == 0 and labels["Dynamo Go"][0] == "Waysafe"


def test_plugins_llm_assist_and_bad_names(library, server, settings, tmp_path):
    class ShopSource:
        """A plug-in shop source: knows one release, capped like Beatport."""

        name = "shop"
        max_confidence = 0.95

        def search(self, artist, title, *, limit=25):
            return [
                Candidate(
                    source="shop",
                    source_id="s1",
                    artist="Nobody Known",
                    title="Nothing Recorded",
                    label="Shop Label",
                    catalog="SHOP 1",
                )
            ]

        def lookup(self, source_id):
            return ReleaseDetails(
                source="shop",
                source_id=source_id,
                title="x",
                artist="y",
                labels=(("Shop Label", "SHOP 1"),),
            )

    with Store(library) as store:
        hunter = LabelHunter(tiers=[ShopSource()], mode="fast")
        track = tracks_to_hunt(store, track_ids=[4])[0]
        outcome = hunter.hunt(track)
        assert outcome.status == "found" and outcome.finding.confidence == 0.95
        assert outcome.finding.source == "shop"
        with pytest.raises(ParameterError, match="unknown label source"):
            make_hunter(store, settings=settings, sources=["library", "beatport-nope"])
        with pytest.raises(ParameterError, match="mode"):
            make_hunter(store, settings=settings, mode="thorough")
    result = CliRunner().invoke(app, ["hunt-labels", "--store", str(library), "--sources", "nope"])
    assert result.exit_code != 0

    with LlmServer(hang_s=1.0).running() as llm:
        policy = HttpPolicy(
            contact="t@example.org",
            timeout_s=1.0,
            max_tries=1,
            backoff_initial_s=0.01,
            backoff_max_s=0.02,
        )
        assist = LlmAssist(
            base_url=llm.base_url, model="m", api_key=SecretStr("k-secret-9"), policy=policy
        )
        with Store(library) as store:
            track = tracks_to_hunt(store, track_ids=[1])[0]
            hunter = make_hunter(store, settings=settings, sources=["discogs"], llm=assist)
            llm.fault("500", times=5)
            outcome = hunter.hunt(track)
        assert outcome.status == "found" and outcome.finding.label == "8bitpeoples"
        assert outcome.llm_fallbacks == 1, "the assist failed, the deterministic path answered"
        assert "k-secret-9" not in repr(outcome)


def test_cli_prints_the_summary_keys(library, server, settings):
    result = CliRunner().invoke(
        app,
        [
            "hunt-labels",
            "--store",
            str(library),
            "--sources",
            "discogs",
            "--mode",
            "fast",
            "--limit",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("processed", "labels_found", "by_source", "failed", "success_rate"):
        assert key in summary
    assert summary["processed"] == 2 and summary["by_source"] == {"discogs": 1}
    skipped = CliRunner().invoke(
        app,
        [
            "hunt-labels",
            "--store",
            str(library),
            "--sources",
            "title",
            "--skip-with-labels",
            "--json",
        ],
    )
    assert json.loads(skipped.stdout.strip().splitlines()[-1])["processed"] == 3
