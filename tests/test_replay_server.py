"""The replay server itself: mapping of requests to recorded answers, limits, faults."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from replay_server import ReplayServer


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.fixture
def server(shared_data: Path):
    with ReplayServer(
        shared_data,
        musicbrainz_rate_per_s=1e6,
        discogs_limit_with_token=1000,
        discogs_limit_without_token=1000,
        hang_s=3.0,
    ).running() as running:
        yield running


def test_musicbrainz_any_recording_search_gets_the_recorded_search(server, shared_data):
    status, body, headers = _get(f"{server.url}/ws/2/recording/?query=artist%3A%28nobody%29")
    assert status == 200
    assert body == (shared_data / "musicbrainz/ws2_xml/search-recording.xml").read_bytes()
    assert headers["Content-Type"].startswith("application/xml")


def test_musicbrainz_lookup_picks_the_file_with_the_requested_includes(server, shared_data):
    ident = "fbe4490e-e366-4da2-a37a-82162d2f41a9"
    status, body, _ = _get(f"{server.url}/ws/2/release/{ident}?inc=artist-credits+recordings")
    assert status == 200
    expected = shared_data / f"musicbrainz/ws2_xml/release/{ident}-recordings+artist-credits.xml"
    assert body == expected.read_bytes()


def test_musicbrainz_lookup_of_a_release_seen_only_in_a_search_serves_that_element(server):
    status, body, _ = _get(f"{server.url}/ws/2/release/e94757ff-2655-4690-b369-4012beba6114?inc=labels")
    assert status == 200
    assert b"<catalog-number>WS06</catalog-number>" in body
    assert body.count(b"<release ") == 1  # one release, not the whole search


def test_musicbrainz_unknown_id_is_404_with_the_services_error_document(server):
    status, body, _ = _get(f"{server.url}/ws/2/release/00000000-0000-0000-0000-000000000000")
    assert status == 404
    assert b"<error><text>Not Found</text>" in body


def test_musicbrainz_json_lookup_serves_the_picard_document(server):
    status, body, _ = _get(
        f"{server.url}/ws/2/release/b84ee12a-09ef-421b-82de-0441a926375b?fmt=json&inc=labels"
    )
    assert status == 200
    assert json.loads(body)["label-info"][0]["catalog-number"] == "SHVL 804"


def test_discogs_paths_and_parameters_in_any_order(server, shared_data):
    status, body, _ = _get(f"{server.discogs_base_url}/releases/1")
    assert status == 200 and json.loads(body)["labels"][0]["catno"] == "SK032"
    recorded = shared_data / "discogs/api_json/database/search_artist=trash80&title=icarus&per_page=50&page=1.json"
    status, body, _ = _get(
        f"{server.discogs_base_url}/database/search?page=1&title=icarus&per_page=50&artist=trash80&token=abc"
    )
    assert status == 200 and body == recorded.read_bytes()
    # A search that was never recorded gets the recorded search closest to it.
    status, body, _ = _get(f"{server.discogs_base_url}/database/search?artist=Someone&track=Else&type=release")
    assert status == 200 and json.loads(body)["results"]
    status, body, _ = _get(f"{server.discogs_base_url}/releases/424242")
    assert status == 404 and json.loads(body) == {"message": "Resource not found."}


def test_musicbrainz_answers_503_to_requests_closer_than_its_rate(shared_data):
    with ReplayServer(shared_data, musicbrainz_rate_per_s=2.0).running() as server:
        first, _, _ = _get(f"{server.url}/ws/2/label/?query=x")
        second, body, _ = _get(f"{server.url}/ws/2/label/?query=x")
        time.sleep(0.55)
        third, _, _ = _get(f"{server.url}/ws/2/label/?query=x")
    assert (first, second, third) == (200, 503, 200)
    assert b"exceeding the allowable rate limit" in body
    assert server.requests["musicbrainz"] == 3 and server.violations["musicbrainz"] == 1


def test_discogs_answers_429_with_rate_limit_headers_over_its_window(shared_data):
    with ReplayServer(
        shared_data, discogs_limit_with_token=3, discogs_limit_without_token=2, discogs_window_s=30
    ).running() as server:
        answers = [_get(f"{server.discogs_base_url}/releases/1?token=secret") for _ in range(4)]
        anonymous = _get(f"{server.discogs_base_url}/releases/1")
    assert [a[0] for a in answers] == [200, 200, 200, 429]
    assert [a[2]["X-Discogs-Ratelimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0][2]["X-Discogs-Ratelimit"] == "3"
    assert answers[2][2]["X-Discogs-Ratelimit-Used"] == "3"
    assert anonymous[0] == 429 and anonymous[2]["X-Discogs-Ratelimit"] == "2"
    assert server.violations["discogs"] == 2
    assert all("secret" not in hit.query for hit in server.log)
    assert [hit.authenticated for hit in server.log] == [True] * 4 + [False]


@pytest.mark.parametrize(
    ("service", "path"),
    [("musicbrainz", "/ws/2/recording/?query=x"), ("discogs", "/discogs/database/search?q=x")],
)
def test_injected_faults_are_served_in_order_then_normal_answers(server, service, path):
    for kind in ("500", "503", "429", "404", "truncated", "malformed", "empty"):
        server.inject(service, kind)
    answers = [_get(server.url + path) for _ in range(8)]
    statuses = [a[0] for a in answers]
    assert statuses == [500, 503, 429, 404, 200, 200, 200, 200]
    normal = answers[7][1]
    assert answers[4][1] == normal[: len(normal) // 2]  # truncated: the real body cut in half
    if service == "musicbrainz":
        assert b"<<broken" in answers[5][1]
        assert b'count="0"' in answers[6][1]
    else:
        with pytest.raises(ValueError):
            json.loads(answers[5][1])
        assert json.loads(answers[6][1])["results"] == []
    assert server.faults[service] == 7 and server.pending_faults(service) == 0
    assert [h.outcome for h in server.hits(service)][-1] == "ok"


def test_timeout_fault_keeps_the_client_waiting_and_stop_releases_it(shared_data):
    server = ReplayServer(shared_data, hang_s=30.0).start()
    server.inject("discogs", "timeout")
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(f"{server.discogs_base_url}/releases/1", timeout=0.3)
    started = time.monotonic()
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive() and time.monotonic() - started < 5


def test_unknown_fault_or_service_is_refused(server):
    with pytest.raises(ValueError, match="fault must be one of"):
        server.inject("musicbrainz", "explode")
    with pytest.raises(ValueError, match="service must be one of"):
        server.inject("beatport", "500")
