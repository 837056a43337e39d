"""Metadata sources through the real client libraries against the local replay server.

No test touches the internet. Most run with limits scaled up (50 requests/s) so they stay
quick; one checks MusicBrainz' real 1 request/s against a server that enforces it.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from musicbrainzngs import musicbrainz as mbcore
from replay_server import ReplayServer, replay_server  # noqa: F401 (fixture)

from musicwb.enrich.sources import (
    DiscogsSource,
    HttpPolicy,
    MusicBrainzSource,
    RateLimit,
    ResponseCache,
    Source,
    make_sources,
    normalise_query,
    search_many,
)
from musicwb.enrich.sources.http import Failure
from musicwb.errors import AuthError, NotFound, ParameterError, RateLimited, SourceError
from musicwb.store import Store

FAST = RateLimit(1, 0.02)  # 50 requests/s, one at a time
FAST_WINDOW = RateLimit(50, 1.0)
TRIES = 3
EMPTY_RELEASE = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def server(shared_data: Path):
    """The replay server with limits scaled up to 50 requests/s."""
    with ReplayServer(
        shared_data,
        musicbrainz_rate_per_s=50.0,
        discogs_limit_with_token=50,
        discogs_limit_without_token=50,
        discogs_window_s=1.0,
        hang_s=3.0,
    ).running() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "sources.duckdb") as opened:
        yield opened


@pytest.fixture
def policy() -> HttpPolicy:
    return HttpPolicy(
        contact="tests@musicwb.invalid", timeout_s=0.5, max_tries=TRIES, backoff_initial_s=0.01
    )


def _musicbrainz(server, policy, cache=None, **options) -> MusicBrainzSource:
    return MusicBrainzSource(
        policy, cache=cache, host=server.musicbrainz_host, use_https=False, limit=FAST, **options
    )


def _discogs(server, policy, cache=None, token="t0ken-s3cret", **options) -> DiscogsSource:
    options = {"limit": FAST_WINDOW, "window_s": 1.0, **options}
    return DiscogsSource(policy, cache=cache, token=token, base_url=server.discogs_base_url, **options)


# -- answers from the recorded real responses ----------------------------------------------------


def test_musicbrainz_recording_search_gives_ranked_candidates(server, policy):
    musicbrainz = _musicbrainz(server, policy)
    assert isinstance(musicbrainz, Source)
    candidates = musicbrainz.search("Dynamo Go", "Thief of Hearts")
    best = candidates[0]
    assert (best.artist, best.title, best.release_title) == (
        "Dynamo Go", "Thief of Hearts", "Folly, Vice & Madness"
    )
    assert (best.year, best.country, best.score, best.duration_s) == (2006, "NZ", 100.0, 198.586)
    assert best.source_id == "5e3524ca-b4a1-4e51-9ba5-63ea2de8f49b"
    assert best.extra["release_type"] == "EP"
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    (hit,) = server.hits("musicbrainz")
    assert "tests@musicwb.invalid" in hit.user_agent and hit.user_agent.startswith("musicwb/")
    assert "artist%3A%28dynamo+go%29" in hit.query


def test_musicbrainz_release_lookup_has_labels_and_catalogue_numbers(server, policy):
    musicbrainz = _musicbrainz(server, policy)
    release = musicbrainz.lookup("e94757ff-2655-4690-b369-4012beba6114")
    assert (release.title, release.artist, release.labels) == (
        "Affordable Pop Music", "Dynamo Go", (("Waysafe", "WS06"),)
    )
    assert (release.year, release.country, release.formats) == (2008, "NZ", ("CD",))
    suzuki = musicbrainz.lookup("fbe4490e-e366-4da2-a37a-82162d2f41a9")
    assert suzuki.tracklist[0].title == "Ecossaise" and suzuki.tracklist[0].duration_s == 195.04
    assert suzuki.tracklist[0].artist == "J. A. Hummel"


def test_musicbrainz_json_lookup_has_genres_tags_and_credits(server, policy):
    musicbrainz = _musicbrainz(server, policy, ws_format="json")
    release = musicbrainz.lookup("b84ee12a-09ef-421b-82de-0441a926375b")
    assert release.labels == (("Harvest", "SHVL 804"),)
    assert (release.title, release.year, release.country) == ("The Dark Side of the Moon", 1973, "GB")
    assert release.genres[:2] == ("genre1", "genre2") and release.tags[:2] == ("tag1", "tag2")
    assert ("design/illustration", "Hipgnosis") in release.credits
    assert release.tracklist[0].position == "A1" and release.tracklist[0].title == "Speak to Me"
    assert mbcore.ws_format == "xml"  # the library's global format is put back


def test_musicbrainz_release_search_and_label_lookup(server, policy):
    musicbrainz = _musicbrainz(server, policy)
    releases = musicbrainz.search_releases("Dynamo Go", "Affordable Pop Music")
    assert (releases[0].label, releases[0].catalog) == ("Waysafe", "WS06")
    assert sum(1 for c in releases if c.label) >= 10
    label = musicbrainz.lookup_label("022fe361-596c-43a0-8e22-bad712bb9548")
    assert (label.name, label.label_code, label.country) == ("EMI Records", "542", "GB")
    assert "EMI" in label.aliases


def test_discogs_search_by_artist_and_track_and_release_details(server, policy):
    discogs = _discogs(server, policy)
    candidates = discogs.search("Trash80", "Icarus")
    assert all(c.source == "discogs" for c in candidates) and len(candidates) == 12  # no artists
    best = candidates[0]
    assert (best.artist, best.release_title, best.label, best.catalog, best.year) == (
        "Trash80", "Icarus", "8bitpeoples", "8BP086", 2008
    )
    assert best.styles == ("Electro", "Chiptune") and best.formats == ("CDr",)
    (hit,) = server.hits("discogs")
    assert "artist=Trash80" in hit.query and "track=Icarus" in hit.query and hit.authenticated
    release = discogs.lookup("1")
    assert release.labels == (("Svek", "SK032"),)
    assert (release.genres, release.styles, release.year, release.country) == (
        ("Electronic",), ("Deep House",), 1999, "Sweden"
    )
    assert release.formats == ('Vinyl 12"',)
    assert [t.position for t in release.tracklist] == ["A", "B1", "B2", "C1", "C2", "D"]
    assert release.tracklist[0].duration_s == 285.0
    assert ("Music By [All Tracks By]", "Jesper Dahlbäck") in release.credits


# -- the cache ---------------------------------------------------------------------------------


def test_rerun_is_served_from_the_cache_with_zero_requests(server, policy, store):
    cache = ResponseCache(store)
    musicbrainz, discogs = _musicbrainz(server, policy, cache), _discogs(server, policy, cache)

    def hunt():
        found = [musicbrainz.search("Dynamo Go", "Thief of Hearts"), discogs.search("Trash80", "Icarus")]
        details = [discogs.lookup("1"), musicbrainz.lookup("e94757ff-2655-4690-b369-4012beba6114")]
        missing = []
        for lookup in (lambda: musicbrainz.lookup(EMPTY_RELEASE), lambda: discogs.lookup("424242")):
            with pytest.raises(NotFound):
                lookup()
            missing.append("not found")
        return found, details, missing

    first = hunt()
    asked = sum(server.requests.values())
    assert asked == 6
    second = hunt()
    assert sum(server.requests.values()) == asked  # zero new requests, not-found included
    assert first == second
    statuses = cache.frame()["status"].value_counts().to_dict()
    assert statuses == {"ok": 4, "not_found": 2}
    # Trivially different spellings share the cache entry.
    musicbrainz.search("  DYNAMO   go", "thief of HEARTS")
    assert sum(server.requests.values()) == asked


def test_the_cache_survives_reopening_the_store(server, policy, tmp_path):
    path = tmp_path / "persist.duckdb"
    with Store(path) as first_store:
        _discogs(server, policy, ResponseCache(first_store)).lookup("1")
    with Store(path) as second_store:
        release = _discogs(server, policy, ResponseCache(second_store)).lookup("1")
    assert release.labels == (("Svek", "SK032"),)
    assert server.requests["discogs"] == 1


def test_expired_entries_are_fetched_again(server, policy, store):
    now = [dt.datetime(2026, 1, 1)]
    cache = ResponseCache(store, ttl_days=30, now=lambda: now[0])
    discogs = _discogs(server, policy, cache)
    discogs.lookup("1")
    now[0] += dt.timedelta(days=29)
    discogs.lookup("1")
    assert server.requests["discogs"] == 1
    now[0] += dt.timedelta(days=2)
    discogs.lookup("1")
    assert server.requests["discogs"] == 2


def test_failures_are_not_cached(server, policy, store):
    cache = ResponseCache(store)
    musicbrainz = _musicbrainz(server, policy, cache)
    server.inject("musicbrainz", "500", times=TRIES)
    with pytest.raises(SourceError, match=r"HTTP 500 after 3 tries"):
        musicbrainz.search("Dynamo Go", "Thief of Hearts")
    assert cache.frame().empty
    assert musicbrainz.search("Dynamo Go", "Thief of Hearts")[0].year == 2006
    assert server.requests["musicbrainz"] == TRIES + 1


def test_threads_asking_the_same_question_make_one_request(server, policy, store):
    from concurrent.futures import ThreadPoolExecutor

    discogs = _discogs(server, policy, ResponseCache(store))
    with ThreadPoolExecutor(max_workers=4) as pool:
        releases = list(pool.map(lambda _: discogs.lookup("1"), range(8)))
    assert all(r == releases[0] for r in releases) and server.requests["discogs"] == 1


def test_bulk_cache_writes_are_flushed_at_the_end_of_a_hunt(server, policy, store):
    cache = ResponseCache(store, flush_every=100)
    musicbrainz = _musicbrainz(server, policy, cache)
    frame = search_many(musicbrainz, [("A", "One"), ("B", "Two")], progress=False)
    assert list(frame["status"]) == ["ok", "ok"]
    assert store.scalar("SELECT count(*) FROM source_cache") == 2


# -- faults: retried, then a typed error; never a crash ----------------------------------------


@pytest.mark.parametrize("service", ["musicbrainz", "discogs"])
@pytest.mark.parametrize("fault", ["timeout", "500", "truncated", "malformed"])
def test_a_transient_fault_is_retried_and_the_answer_is_complete(server, policy, service, fault):
    source = _musicbrainz(server, policy) if service == "musicbrainz" else _discogs(server, policy)
    expected = source.search("Dynamo Go" if service == "musicbrainz" else "Trash80", "x")
    server.reset_counts()
    server.inject(service, fault)
    again = source.search("Dynamo Go" if service == "musicbrainz" else "Trash80", "x")
    assert again == expected
    assert server.requests[service] == 2 and server.faults[service] == 1
    assert server.violations[service] == 0


@pytest.mark.parametrize(
    ("service", "fault", "error", "reason"),
    [
        ("musicbrainz", "503", RateLimited, "HTTP 503"),
        ("musicbrainz", "timeout", SourceError, "timeout"),
        ("musicbrainz", "malformed", SourceError, "malformed"),
        ("discogs", "429", RateLimited, "HTTP 429"),
        ("discogs", "500", SourceError, "HTTP 500"),
        ("discogs", "truncated", SourceError, "malformed JSON"),
    ],
)
def test_a_fault_that_persists_ends_in_a_typed_error_naming_the_source(
    server, policy, service, fault, error, reason
):
    source = _musicbrainz(server, policy) if service == "musicbrainz" else _discogs(server, policy)
    server.inject(service, fault, times=TRIES)
    with pytest.raises(error) as raised:
        source.search("Someone", "Something")
    message = str(raised.value)
    assert message.startswith("MusicBrainz" if service == "musicbrainz" else "Discogs")
    assert reason in message and f"after {TRIES} tries" in message
    assert server.requests[service] == TRIES and server.violations[service] == 0
    assert "t0ken-s3cret" not in message


def test_not_found_and_empty_answers(server, policy):
    musicbrainz, discogs = _musicbrainz(server, policy), _discogs(server, policy)
    with pytest.raises(NotFound, match="MusicBrainz release .*HTTP 404"):
        musicbrainz.lookup(EMPTY_RELEASE)
    with pytest.raises(NotFound, match="Discogs release 424242"):
        discogs.lookup("424242")
    server.inject("musicbrainz", "empty")
    server.inject("discogs", "empty")
    assert musicbrainz.search("Nobody", "Nothing") == []
    assert discogs.search("Nobody", "Nothing") == []
    assert server.requests == {"musicbrainz": 2, "discogs": 2}  # not found is not retried


def test_auth_refusal_is_not_retried(server, policy):
    discogs = _discogs(server, policy)
    # the replay server has no 401 fault; classify the client's own error as it arrives
    from discogs_client.exceptions import HTTPError

    from musicwb.enrich.sources.discogs import classify_discogs_error

    assert classify_discogs_error(HTTPError("Unauthorized", 401)).error is AuthError
    assert discogs.has_token


def test_a_hunt_under_faults_records_every_query_and_loses_none(server, policy, store):
    cache = ResponseCache(store)
    musicbrainz = _musicbrainz(server, policy, cache)
    queries = [(f"Artist {i}", f"Title {i}") for i in range(6)]
    for fault in ("500", "ok", "timeout", "ok", "503", "503", "503", "truncated"):
        server.inject("musicbrainz", fault)  # query 2 meets 503 three times and fails for good
    frame = search_many(musicbrainz, queries, progress=False)
    assert list(frame["artist"]) == [a for a, _ in queries]
    statuses = list(frame["status"])
    assert statuses.count("ok") == 5
    assert statuses[2].startswith("error:RateLimited: MusicBrainz recording search 'Artist 2'")
    assert frame.loc[2, "n_candidates"] == 0 and frame.loc[0, "n_candidates"] > 0
    assert server.violations["musicbrainz"] == 0
    # The re-run asks again only for the failed query.
    server.reset_counts()
    rerun = search_many(musicbrainz, queries, progress=False)
    assert list(rerun["status"]) == ["ok"] * 6 and server.requests["musicbrainz"] == 1


# -- rate limits ---------------------------------------------------------------------------------


def test_musicbrainz_real_limit_of_one_request_per_second(replay_server):  # noqa: F811
    policy = HttpPolicy(contact="tests@musicwb.invalid", timeout_s=2.0, max_tries=2)
    musicbrainz = MusicBrainzSource(policy, host=replay_server.musicbrainz_host, use_https=False)
    started = time.monotonic()
    for title in ("One", "Two", "Three"):
        musicbrainz.search("Dynamo Go", title)
    elapsed = time.monotonic() - started
    assert replay_server.requests["musicbrainz"] == 3
    assert replay_server.violations["musicbrainz"] == 0
    assert elapsed >= 2.0
    arrivals = [hit.at for hit in replay_server.hits("musicbrainz")]
    assert min(b - a for a, b in zip(arrivals, arrivals[1:])) >= 1.0


def test_many_threads_never_push_musicbrainz_over_its_limit(server, policy):
    from concurrent.futures import ThreadPoolExecutor

    musicbrainz = _musicbrainz(server, policy)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: musicbrainz.search(f"Artist {i}", "x"), range(12)))
    assert all(results) and server.requests["musicbrainz"] == 12
    assert server.violations["musicbrainz"] == 0


def test_discogs_window_limit_is_kept_and_unauthenticated_clients_go_slower(shared_data, policy):
    with ReplayServer(
        shared_data, discogs_limit_with_token=6, discogs_limit_without_token=3, discogs_window_s=1.0
    ).running() as server:
        anonymous = DiscogsSource(policy, token=None, base_url=server.discogs_base_url)
        assert anonymous.limit == RateLimit(25, 60.0) and not anonymous.has_token
        limited = DiscogsSource(
            policy, token=None, base_url=server.discogs_base_url, limit=RateLimit(3, 1.0),
            window_s=1.0,
        )
        for i in range(7):
            limited.search(f"Artist {i}", "x")
    assert server.requests["discogs"] == 7 and server.violations["discogs"] == 0
    arrivals = [hit.at for hit in server.hits("discogs")]
    assert arrivals[3] - arrivals[0] >= 1.0 and arrivals[6] - arrivals[3] >= 1.0
    assert not any(hit.authenticated for hit in server.hits("discogs"))


def test_discogs_slows_down_when_others_use_up_the_budget(shared_data, policy):
    with ReplayServer(
        shared_data, discogs_limit_with_token=30, discogs_window_s=3.0
    ).running() as server:
        discogs = _discogs(server, policy, limit=RateLimit(30, 3.0), window_s=3.0)
        discogs.lookup("1")
        discogs.lookup("2")
        quick = server.hits("discogs")[1].at - server.hits("discogs")[0].at
        server.consume(25)  # other clients on the same token: 27 of 30 used
        discogs.lookup("3")  # the answer says 2 remaining: pause 3/30 × (6 − 2) = 0.4 s
        discogs.lookup("79")
    arrivals = [hit.at for hit in server.hits("discogs")]
    assert quick < 0.3
    assert arrivals[3] - arrivals[2] >= 0.38
    assert server.violations["discogs"] == 0


# -- the policy ----------------------------------------------------------------------------------


def test_backoff_is_exponential_with_jitter_and_stops_after_the_last_try():
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:  # a clock that moves as the policy sleeps
        waits.append(seconds)
        now[0] += seconds

    policy = HttpPolicy(
        contact="tests@musicwb.invalid", max_tries=5, backoff_initial_s=1.0, backoff_max_s=4.0,
        sleep=sleep, clock=lambda: now[0],
    )
    attempts = []

    def busy():
        attempts.append(1)
        raise ConnectionError("busy")

    with pytest.raises(RateLimited, match=r"^Test fetch: HTTP 503 after 5 tries$"):
        policy.call(
            "test@host", "Test fetch", busy,
            classify=lambda exc: Failure("HTTP 503", retry=True, error=RateLimited),
            default_limit=RateLimit(1_000_000, 1.0),
        )
    # Full jitter draws a backoff anywhere in [0, cap]: 1% of them fell below the 0.01 s this
    # filter once had. The limiter (a million a second, on a clock that the backoffs move)
    # waits only after a backoff shorter than its microsecond spacing.
    backoff = [w for w in waits if w >= 1e-5]
    assert len(attempts) == 5 and len(backoff) == 4
    assert all(0 <= w <= min(4.0, 2.0 ** (n + 1)) for n, w in enumerate(backoff))
    assert len(set(backoff)) > 1  # jittered


def test_errors_that_no_retry_can_fix_are_raised_at_once():
    policy = HttpPolicy(contact="tests@musicwb.invalid", limits={"h": RateLimit(1000, 1.0)})
    calls = []

    def missing():
        calls.append(1)
        raise KeyError("gone")

    with pytest.raises(NotFound, match="Thing 7: HTTP 404"):
        policy.call("t@h", "Thing 7", missing,
                    classify=lambda exc: Failure("HTTP 404", retry=False, error=NotFound))
    assert calls == [1]
    with pytest.raises(KeyError):  # not a service failure: not swallowed, not wrapped
        policy.call("t@h", "Thing 7", missing, classify=lambda exc: None)


def test_policy_and_sources_validate_their_settings(policy):
    with pytest.raises(ParameterError, match="contact is empty"):
        HttpPolicy(contact="  ")
    with pytest.raises(ParameterError, match="rate limit"):
        RateLimit(0, 1.0)
    with pytest.raises(ParameterError, match="base_url"):
        DiscogsSource(policy, base_url="api.discogs.com")
    with pytest.raises(ParameterError, match="not a Discogs release id"):
        DiscogsSource(policy).lookup("one")
    with pytest.raises(ParameterError, match="needs at least one"):
        MusicBrainzSource(policy).search("", " ")


def test_musicbrainzngs_is_left_as_it_was_found(server, policy):
    original = mbcore._safe_read
    _musicbrainz(server, policy).search("Dynamo Go", "x")
    assert mbcore._safe_read is original
    assert not mbcore.do_rate_limit  # its own limiter stays off: ours is in charge


def test_the_token_never_reaches_logs_cache_or_messages(server, policy, store):
    cache = ResponseCache(store)
    discogs = _discogs(server, policy, cache)
    discogs.search("Trash80", "Icarus")
    discogs.lookup("1")
    server.inject("discogs", "timeout", times=TRIES)
    with pytest.raises(SourceError) as raised:
        discogs.lookup("2")
    chain, error = [], raised.value
    while error is not None:
        chain.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    assert all("t0ken-s3cret" not in text for text in chain)
    stored = store.rows("SELECT query_key || coalesce(CAST(response AS VARCHAR), '') FROM source_cache")
    assert stored and all("t0ken-s3cret" not in row[0] for row in stored)
    assert all("t0ken-s3cret" not in hit.query for hit in server.log)
    assert "t0ken-s3cret" not in repr(discogs)
    assert normalise_query(id="1") == '{"id":"1"}'


def test_make_sources_from_settings(server, store, monkeypatch):
    from musicwb.config import get_settings

    monkeypatch.setenv("DISCOGS_USER_TOKEN", "abc")
    settings = get_settings(contact="settings@musicwb.invalid")
    musicbrainz, discogs = make_sources(
        settings, store=store, musicbrainz_host=server.musicbrainz_host, musicbrainz_https=False,
        discogs_base_url=server.discogs_base_url,
    )
    assert discogs.has_token and musicbrainz.cache is discogs.cache
    assert musicbrainz.policy.user_agent.endswith("( settings@musicwb.invalid )")
    assert discogs.lookup("1").label == "Svek"
    assert server.hits("discogs")[0].authenticated
    assert musicbrainz.search("Dynamo Go", "Thief of Hearts")
    assert server.requests == {"discogs": 1, "musicbrainz": 1}


def test_make_sources_takes_hosts_and_limits_from_the_settings(monkeypatch):
    from musicwb.config import get_settings
    from musicwb.enrich.sources import make_sources

    monkeypatch.setenv("MUSICWB_MUSICBRAINZ_HOST", "mb.mirror.example:5000")
    monkeypatch.setenv("MUSICWB_MUSICBRAINZ_HTTPS", "false")
    monkeypatch.setenv("MUSICWB_MUSICBRAINZ_RATE_PER_S", "20")
    monkeypatch.setenv("MUSICWB_DISCOGS_BASE_URL", "http://discogs.mirror.example:6000")
    monkeypatch.setenv("MUSICWB_DISCOGS_REQUESTS_PER_MIN", "10")
    monkeypatch.setenv("MUSICWB_HTTP_MAX_TRIES", "3")
    musicbrainz, discogs = make_sources(get_settings())
    assert (musicbrainz.host, musicbrainz.use_https) == ("mb.mirror.example:5000", False)
    assert discogs.host == "discogs.mirror.example:6000"
    assert musicbrainz.policy is discogs.policy and musicbrainz.policy.max_tries == 3
    limits = musicbrainz.policy._overrides
    assert limits[musicbrainz.rate_key].per_second == pytest.approx(20.0)
    assert limits[discogs.rate_key].per_second == pytest.approx(10 / 60)
