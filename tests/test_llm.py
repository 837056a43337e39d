"""The optional LLM assist against a local scripted OpenAI-compatible server.

What a user relies on: the assist is off unless configured; when on, it sends the model name,
the key as a Bearer header and a strict JSON schema; its answers come back validated; and every
way the endpoint can fail ends in one :class:`LlmError` (never a crash, never the key in a
message), so the label hunter falls back to string matching.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from llm_server import LlmServer
from pydantic import SecretStr

from musicwb.config import Settings
from musicwb.enrich.llm import (
    LabelMapping,
    LlmAssist,
    LlmError,
    QueryVariant,
    Selection,
    response_format,
)
from musicwb.enrich.sources.base import Candidate, ReleaseDetails, Track
from musicwb.enrich.sources.discogs import (
    candidates_from_discogs_search,
    release_details_from_discogs,
)
from musicwb.enrich.sources.http import HttpPolicy
from musicwb.errors import MusicwbError, ParameterError, SourceError

KEY = "sk-test-0123456789abcdefSECRET"
MODEL = "label-helper-7b"


@pytest.fixture
def server() -> Iterator[LlmServer]:
    with LlmServer(api_key=KEY, hang_s=5.0).running() as running:
        yield running


def make_assist(server: LlmServer, *, timeout_s: float = 5.0, max_tries: int = 2, **options):
    policy = HttpPolicy(
        contact="tests@example.org",
        timeout_s=timeout_s,
        max_tries=max_tries,
        backoff_initial_s=0.01,
        backoff_max_s=0.02,
    )
    return LlmAssist(
        base_url=server.base_url, model=MODEL, api_key=SecretStr(KEY), policy=policy, **options
    )


TRACK = {"artist": "Trevino", "title": "Sombre Tones", "duration_s": 402.0, "mix": None}
CANDIDATES = [
    Candidate(source="discogs", source_id="11", artist="Trevino", title="Sombre Tones (Edit)",
              label="Klockworks", catalog="KW 20", year=2017, duration_s=190.0),
    Candidate(source="discogs", source_id="12", artist="Trevino", title="Sombre Tones",
              label="Klockworks", catalog="KW 20", year=2017, duration_s=401.0),
    Candidate(source="discogs", source_id="13", artist="Various", title="Techno Essentials 2018",
              label="Nothing Else", catalog="NE-CD1", year=2018),
]  # fmt: skip
RELEASE = ReleaseDetails(
    source="discogs",
    source_id="99",
    title="Sombre Tones",
    artist="Trevino",
    labels=(("Rush Hour Distribution", None), ("Klockworks", "KW 20")),
    year=2017,
    tracklist=(Track("A", "Sombre Tones", 401.0), Track("B", "Pan Pot", 377.0)),
)


def call(assist: LlmAssist, name: str):
    """Run one of the three questions on the fixtures above."""
    if name == "query_variants":
        return assist.query_variants(artist="Faithless", title="We Come 1 (Adam Beyer Remix)")
    if name == "select_candidate":
        return assist.select_candidate(track=TRACK, candidates=CANDIDATES)
    return assist.map_release(track=TRACK, release=RELEASE)


def assert_no_key(exc: BaseException) -> None:
    """The key is in no message, repr or formatted traceback of the error and its chain."""
    text = "".join(traceback.format_exception(exc))
    assert KEY not in text
    seen: BaseException | None = exc
    while seen is not None:
        assert KEY not in str(seen) and KEY not in repr(seen)
        assert not hasattr(seen, "request"), "a chained error still carries the HTTP request"
        seen = seen.__cause__ or seen.__context__


def sent(server: LlmServer, index: int = -1) -> dict:
    return server.requests[index].body


# -- configuration ---------------------------------------------------------------------------


def test_off_by_default(monkeypatch):
    for name in ("MUSICWB_LLM_BASE_URL", "MUSICWB_LLM_MODEL", "MUSICWB_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert LlmAssist.from_settings(Settings(_env_file=None)) is None


def test_half_a_configuration_stays_off_with_a_warning(monkeypatch, caplog):
    monkeypatch.delenv("MUSICWB_LLM_MODEL", raising=False)
    monkeypatch.setenv("MUSICWB_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    with caplog.at_level(logging.WARNING, logger="musicwb.enrich.llm"):
        assert LlmAssist.from_settings(Settings(_env_file=None)) is None
    assert "MUSICWB_LLM_MODEL" in caplog.text


def test_from_environment_and_the_key_never_shows(monkeypatch, caplog, server):
    monkeypatch.setenv("MUSICWB_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("MUSICWB_LLM_MODEL", MODEL)
    monkeypatch.setenv("MUSICWB_LLM_API_KEY", KEY)
    assist = LlmAssist.from_settings(Settings(_env_file=None), timeout_s=5.0)
    assert isinstance(assist, LlmAssist)
    assert assist.endpoint == f"{server.base_url}/chat/completions"
    assert assist.has_key
    assert KEY not in repr(assist) and KEY not in str(assist)
    assert KEY not in json.dumps(assist.stats)
    assert KEY not in repr(vars(assist))
    server.reply({"index": 1, "confidence": 0.9, "reason": "same title, full length"})
    with caplog.at_level(logging.DEBUG):
        assert assist.select_candidate(track=TRACK, candidates=CANDIDATES).index == 1
    assert KEY not in caplog.text
    assert server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"
    assert server.requests[-1].headers["User-Agent"].startswith("musicwb/")


def test_bad_configuration_names_the_setting():
    with pytest.raises(ParameterError, match="llm_base_url"):
        LlmAssist(base_url="localhost:8080", model=MODEL)
    with pytest.raises(ParameterError, match="llm_model"):
        LlmAssist(base_url="http://127.0.0.1:8080/v1", model=" ")


# -- the three questions ---------------------------------------------------------------------


def test_query_variants(server):
    assist = make_assist(server)
    server.reply(
        {
            "variants": [
                {"artist": "Faithless", "title": "We Come 1", "reason": "remix words stripped"},
                {"artist": "faithless", "title": "we come 1", "reason": "duplicate"},
                {"artist": "Faithless", "title": "We Come 1 (Adam Beyer Remix)", "reason": "same"},
                {"artist": "Faithless", "title": "We Come One", "reason": "number spelt out"},
            ]
        }
    )
    variants = assist.query_variants(
        artist="Faithless", title="We Come 1 (Adam Beyer Remix)", raw="Faithless – We Come 1"
    )
    assert variants == [
        QueryVariant(artist="Faithless", title="We Come 1", reason="remix words stripped"),
        QueryVariant(artist="Faithless", title="We Come One", reason="number spelt out"),
    ]
    body = sent(server)
    assert body["model"] == MODEL
    assert body["temperature"] == 0
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "query_variants"
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert "(at most 3)" in schema["properties"]["variants"]["description"]
    variant_schema = schema["$defs"]["QueryVariant"]
    assert variant_schema["additionalProperties"] is False
    assert sorted(variant_schema["required"]) == ["artist", "reason", "title"]
    question = json.loads(body["messages"][-1]["content"])
    assert question == {
        "artist": "Faithless",
        "title": "We Come 1 (Adam Beyer Remix)",
        "raw": "Faithless – We Come 1",
    }
    assert assist.stats["calls"] == 1 and assist.stats["fallbacks"] == 0
    assert assist.stats["prompt_tokens"] == 120


def test_select_candidate(server):
    assist = make_assist(server)
    server.reply({"index": 1, "confidence": 0.93, "reason": "same artist, title and length"})
    pick = assist.select_candidate(track=TRACK, candidates=CANDIDATES)
    assert pick == Selection(index=1, confidence=0.93, reason="same artist, title and length")
    body = sent(server)
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert sorted(schema["required"]) == ["confidence", "index", "reason"]
    assert schema["properties"]["index"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert "(from 0 to 2)" in schema["properties"]["index"]["description"]
    question = json.loads(body["messages"][-1]["content"])
    assert question["track"] == {"artist": "Trevino", "title": "Sombre Tones", "duration_s": 402.0}
    assert [c["index"] for c in question["candidates"]] == [0, 1, 2]
    assert question["candidates"][1]["duration_s"] == 401.0
    assert question["candidates"][2]["label"] == "Nothing Else"

    server.reply({"index": None, "confidence": 0.8, "reason": "no candidate is this recording"})
    assert assist.select_candidate(track=TRACK, candidates=CANDIDATES).index is None


def test_map_release_copies_the_label_from_the_release(server):
    assist = make_assist(server)
    server.reply({"index": 1, "confidence": 0.88, "reason": "the first entry is a distributor"})
    mapping = assist.map_release(track=TRACK, release=RELEASE)
    assert mapping == LabelMapping(
        label="Klockworks",
        catalog="KW 20",
        index=1,
        confidence=0.88,
        reason="the first entry is a distributor",
    )
    question = json.loads(sent(server)["messages"][-1]["content"])
    assert question["release"]["labels"] == [
        {"index": 0, "label": "Rush Hour Distribution", "catalog": None},
        {"index": 1, "label": "Klockworks", "catalog": "KW 20"},
    ]
    assert question["release"]["tracklist"][0] == {"position": "A", "title": "Sombre Tones"}

    server.reply({"index": None, "confidence": 0.6, "reason": "no label fits"})
    nothing = assist.map_release(track=TRACK, release=RELEASE)
    assert (nothing.label, nothing.catalog, nothing.index) == (None, None, None)


def test_real_discogs_search_and_release(server, shared_data: Path):
    """Candidates and a release built from recorded real Discogs answers go through intact."""
    api = shared_data / "discogs" / "api_json"
    search = json.loads(
        (
            api / "database" / "search_artist=trash80&title=icarus&per_page=50&page=1.json"
        ).read_text()
    )
    candidates = candidates_from_discogs_search(search["results"], searched_track="Icarus")
    assert len(candidates) >= 2
    release = release_details_from_discogs(json.loads((api / "releases" / "2.json").read_text()))
    assert len(release.labels) == 2

    assist = make_assist(server)
    last = len(candidates) - 1
    server.reply({"index": last, "confidence": 0.7, "reason": "title matches"})
    pick = assist.select_candidate(
        track={"artist": "Trash80", "title": "Icarus"}, candidates=candidates
    )
    assert candidates[pick.index] is candidates[last]
    shown = json.loads(sent(server)["messages"][-1]["content"])["candidates"]
    assert [c["title"] for c in shown] == [c.title for c in candidates]

    server.reply({"index": 1, "confidence": 0.75, "reason": "catalogue number without a space"})
    mapping = assist.map_release(track={"artist": release.artist, "title": "x"}, release=release)
    assert (mapping.label, mapping.catalog) == release.labels[1]


def test_track_from_a_dataframe_row(server):
    """A row of the store: NumPy scalars and missing values become JSON; only the fields that
    help are sent, and of the path only the file name."""
    frame = pd.DataFrame(
        {
            "artist": ["Trevino"],
            "title": ["Sombre Tones"],
            "year": np.array([2017], dtype="int64"),
            "duration_s": [np.nan],
            "label": pd.array([pd.NA], dtype="string"),
            "genres": [["Techno", "Minimal"]],
            "added_at": [pd.Timestamp("2024-03-01")],
            "content_hash": ["9f2c"],
            "path": ["/home/dj/Private Stuff/Trevino - Sombre Tones.flac"],
        }
    )
    server.reply({"index": 1, "confidence": 0.9, "reason": "ok"})
    with make_assist(server) as assist:
        assist.select_candidate(track=frame.iloc[0].to_dict(), candidates=CANDIDATES)
    question = json.loads(sent(server)["messages"][-1]["content"])
    assert question["track"] == {
        "artist": "Trevino",
        "title": "Sombre Tones",
        "year": 2017,
        "genres": ["Techno", "Minimal"],
        "file_name": "Trevino - Sombre Tones.flac",
    }
    assert "Private Stuff" not in sent(server)["messages"][-1]["content"]


def test_fenced_answer_is_accepted_and_still_validated(server):
    assist = make_assist(server)
    server.reply('```json\n{"index": 0, "confidence": 0.5, "reason": "edit"}\n```')
    assert assist.select_candidate(track=TRACK, candidates=CANDIDATES).index == 0
    server.reply('```json\n{"index": 0, "confidence": 5, "reason": "edit"}\n```')
    with pytest.raises(LlmError, match="confidence"):
        assist.select_candidate(track=TRACK, candidates=CANDIDATES)


def test_inputs_are_checked_before_asking(server):
    assist = make_assist(server)
    with pytest.raises(ParameterError, match="candidate"):
        assist.select_candidate(track=TRACK, candidates=[])
    with pytest.raises(ParameterError, match="labels"):
        assist.map_release(track=TRACK, release=ReleaseDetails("discogs", "1", "t", "a"))
    assert server.requests == []


# -- faults ----------------------------------------------------------------------------------

CALLS = ["query_variants", "select_candidate", "map_release"]


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize(
    ("fault", "tries", "says"),
    [
        ("500", 2, "HTTP 500"),
        ("429", 2, "HTTP 429"),
        ("malformed", 1, "not JSON"),
        ("truncated", 1, "not JSON"),
        ("invalid", 1, "schema"),
    ],
)
def test_every_fault_is_an_llm_error(server, name, fault, tries, says):
    assist = make_assist(server, max_tries=2)
    server.fault(fault, times=2)
    with pytest.raises(LlmError, match=says) as caught:
        call(assist, name)
    assert isinstance(caught.value, SourceError) and isinstance(caught.value, MusicwbError)
    assert name in str(caught.value) and MODEL in str(caught.value)
    assert_no_key(caught.value)
    assert len(server.requests) == tries
    assert assist.stats["fallbacks"] == 1 and assist.stats["failures"] == {name: 1}
    assert assist.last_error == str(caught.value)


@pytest.mark.parametrize("name", CALLS)
def test_timeout_is_an_llm_error(name):
    with LlmServer(api_key=KEY, hang_s=3.0).running() as server:
        assist = make_assist(server, timeout_s=0.3, max_tries=2)
        server.fault("timeout", times=2)
        started = time.monotonic()
        with pytest.raises(LlmError, match="timeout after 2 tries") as caught:
            call(assist, name)
        assert time.monotonic() - started < 2.5
        assert_no_key(caught.value)
        assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        ("The best match is the second one.", "schema"),
        ({"index": 1, "confidence": 0.9}, "reason"),
        ({"index": 1, "confidence": 0.9, "reason": "x", "label": "Klockworks"}, "label"),
        ({"index": "1", "confidence": 0.9, "reason": "x"}, "index"),
        ({"index": 3, "confidence": 0.9, "reason": "x"}, "index 3"),
        ({"index": -1, "confidence": 0.9, "reason": "x"}, "index"),
    ],
)
def test_answers_outside_the_schema_or_range(server, reply, says):
    assist = make_assist(server)
    server.reply(reply)
    with pytest.raises(LlmError, match=says) as caught:
        assist.select_candidate(track=TRACK, candidates=CANDIDATES)
    assert_no_key(caught.value)


def test_label_index_out_of_range(server):
    assist = make_assist(server)
    server.reply({"index": 2, "confidence": 0.9, "reason": "x"})
    with pytest.raises(LlmError, match="label index 2"):
        assist.map_release(track=TRACK, release=RELEASE)


def test_refusal_and_cut_off_answers(server):
    assist = make_assist(server)
    server.reply(None, refusal="I can't help with that.")
    with pytest.raises(LlmError, match="refused"):
        assist.map_release(track=TRACK, release=RELEASE)
    server.reply('{"index": 1, "confid', finish_reason="length")
    with pytest.raises(LlmError, match="cut off"):
        assist.map_release(track=TRACK, release=RELEASE)


def test_a_document_that_is_no_chat_completion(server):
    assist = make_assist(server)
    server.reply(None)  # a message without content
    with pytest.raises(LlmError, match="no content"):
        assist.map_release(track=TRACK, release=RELEASE)
    assert assist.stats["fallbacks"] == 1


def test_wrong_key_is_refused_once_and_not_echoed(server):
    policy = HttpPolicy(contact="tests@example.org", timeout_s=5.0, max_tries=3)
    wrong = "sk-wrong-key-9876543210"
    assist = LlmAssist(base_url=server.base_url, model=MODEL, api_key=wrong, policy=policy)
    with pytest.raises(LlmError, match="HTTP 401") as caught:
        call(assist, "select_candidate")
    assert len(server.requests) == 1  # not retried
    message = "".join(traceback.format_exception(caught.value))
    assert wrong not in message and wrong[:6] not in message
    assert "Incorrect API key" in message


def test_no_server_listening():
    with LlmServer().running() as server:
        base_url = server.base_url
    policy = HttpPolicy(contact="tests@example.org", timeout_s=2.0, max_tries=2,
                        backoff_initial_s=0.01, backoff_max_s=0.02)  # fmt: skip
    assist = LlmAssist(base_url=base_url, model=MODEL, api_key=KEY, policy=policy)
    with pytest.raises(LlmError, match="connection failed") as caught:
        call(assist, "query_variants")
    assert_no_key(caught.value)


def test_a_retry_recovers(server):
    assist = make_assist(server, max_tries=2)
    server.fault("500")
    server.reply({"index": 1, "confidence": 0.9, "reason": "full length"})
    assert call(assist, "select_candidate").index == 1
    assert len(server.requests) == 2
    assert assist.stats["fallbacks"] == 0


def test_threads_share_one_assist(server):
    """The hunter's worker may ask from several threads: every answer and count arrives."""
    assist = make_assist(server)
    for index in range(8):
        server.reply({"index": index % 3, "confidence": 0.5, "reason": "r"})
    with ThreadPoolExecutor(max_workers=4) as pool:
        picks = list(pool.map(lambda _: call(assist, "select_candidate").index, range(8)))
    assert sorted(picks) == sorted(i % 3 for i in range(8))
    stats = assist.stats
    assert (stats["calls"], stats["fallbacks"], stats["prompt_tokens"]) == (8, 0, 8 * 120)


def test_switches_itself_off_after_failures_in_a_row(server, caplog):
    caplog.set_level(logging.INFO, logger="musicwb.enrich.llm")
    assist = make_assist(server, max_tries=1, max_consecutive_failures=2)
    server.fault("500")
    server.reply({"index": 1, "confidence": 0.9, "reason": "ok"})  # success resets the count
    server.fault("500", times=2)
    for expected in (LlmError, None, LlmError, LlmError):
        if expected is None:
            assert call(assist, "select_candidate").index == 1
        else:
            with pytest.raises(LlmError):
                call(assist, "select_candidate")
    assert len(server.requests) == 4
    with pytest.raises(LlmError, match="switched off after 2 failures in a row") as caught:
        call(assist, "map_release")
    assert len(server.requests) == 4  # no request once switched off
    assert "HTTP 500" in str(caught.value)  # names the last real failure
    stats = assist.stats
    assert stats["switched_off"] is True
    assert (stats["calls"], stats["fallbacks"]) == (5, 4)
    assert stats["failures"] == {"select_candidate": 3, "map_release": 1}
    assert "HTTP 500" in stats["last_error"]  # the last real failure, not the refusal to ask
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "switched off" in warnings[0].getMessage()


def test_response_format_is_strict_for_every_answer():
    """Every object closed and fully required; no bound keywords strict mode may refuse."""
    from musicwb.enrich.llm.answers import _LabelChoice, _QueryVariants

    refused = {"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern"}
    for model in (_QueryVariants, Selection, _LabelChoice):
        schema = response_format(model)["json_schema"]["schema"]
        for node in (schema, *schema.get("$defs", {}).values()):
            assert node["additionalProperties"] is False
            assert sorted(node["required"]) == sorted(node["properties"])
        assert not refused & set(re.findall(r'"(\w+)":', json.dumps(schema)))
