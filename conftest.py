"""Test-wide fixtures and rules, for ``tests/`` and the notebooks run by nbval.

- ``shared_data``: the real third-party data (``$MUSICWB_TEST_DATA``, else ``../shared/data``);
  tests that need it skip with the reason when it is absent.
- ``browser``: headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright, one per
  test module; tests that need it skip with the reason when either is absent.
- ``MUSICWB_STRICT_SKIPS=1`` (set by ``.ci/run``) turns every such skip into a failure.
- The demo library is built once per session, lazily, into a temporary folder; notebooks run by
  nbval read it through ``MUSICWB_STORE``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def shared_data_dir() -> Path | None:
    """The real test data folder, or None when it is not there."""
    candidate = Path(os.environ.get("MUSICWB_TEST_DATA") or REPO.parent / "shared" / "data")
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("real test data not found: set MUSICWB_TEST_DATA or put shared/ beside the repo")
    return path


def _demo_store(config: pytest.Config) -> Path:
    cached = getattr(config, "_musicwb_demo_store", None)
    if cached is not None:
        return cached
    from musicwb.demo import build_demo
    from musicwb.store import Store

    root = config._tmp_path_factory.mktemp("demo")  # type: ignore[attr-defined]
    store_path = root / "musicwb.duckdb"
    with Store(store_path) as store:
        build_demo(store=store, out_dir=root / "demo", seed=7)
    config._musicwb_demo_store = store_path  # type: ignore[attr-defined]
    return store_path


@pytest.fixture(scope="session")
def realmusic_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """The 75 real tracks of ``audio/realmusic`` scanned with their metadata and analysed, once
    per session (several test modules share the costly extraction): (store path, summary)."""
    from musicwb.library import scan_library
    from musicwb.sonic.extract import extract_library
    from musicwb.store import Store

    folder = shared_data / "audio" / "realmusic"
    if not (folder / "tracks.csv").is_file():
        pytest.skip(f"{folder}/tracks.csv not found")
    root = tmp_path_factory.mktemp("realmusic")
    path = root / "realmusic.duckdb"
    with Store(path) as store:
        scan_library(store, folder, metadata_csv=folder / "tracks.csv", progress=False)
        summary = extract_library(store, workers=2, progress=False, data_dir=root)
    print(f"\nrealmusic extraction: {summary.describe()}")
    return path, summary


@pytest.fixture(scope="session")
def demo_store(pytestconfig: pytest.Config) -> Path:
    """Path of a store holding the demo library (built once per session; do not write to it)."""
    return _demo_store(pytestconfig)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (Debian package `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


SERVICE_ENVIRONMENT = ("MUSICWB_MUSICBRAINZ_HOST", "MUSICWB_DISCOGS_BASE_URL")


@pytest.fixture
def quiet_splink():
    """splink logs errors only while the test runs (its training chatter is not the test's)."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def pytest_configure(config: pytest.Config) -> None:
    # Notebooks and batches run by the tests hunt labels with the default tiers, MusicBrainz and
    # Discogs among them: point every kernel and subprocess at a local replay server (real
    # recorded answers, limits scaled up), never at the internet. Without the shared data the
    # services point at a closed local port and fail at once, as a recorded failure.
    if any(name in os.environ for name in SERVICE_ENVIRONMENT):
        return
    fast = {
        "MUSICWB_MUSICBRAINZ_HTTPS": "false",
        "MUSICWB_MUSICBRAINZ_RATE_PER_S": "20",
        "MUSICWB_DISCOGS_REQUESTS_PER_MIN": "1200",
        "MUSICWB_HTTP_TIMEOUT_S": "2",
        "MUSICWB_HTTP_MAX_TRIES": "2",
        "MUSICWB_HTTP_BACKOFF_INITIAL_S": "0.01",
        "MUSICWB_HTTP_BACKOFF_MAX_S": "0.05",
    }
    data = shared_data_dir()
    if data is None:
        services = {
            "MUSICWB_MUSICBRAINZ_HOST": "127.0.0.1:9",
            "MUSICWB_DISCOGS_BASE_URL": "http://127.0.0.1:9/discogs",
        }
    else:
        import sys

        sys.path.insert(0, str(REPO / "tests"))
        from replay_server import ReplayServer

        server = ReplayServer(
            data, musicbrainz_rate_per_s=50.0, discogs_limit_with_token=1000,
            discogs_limit_without_token=1000, discogs_window_s=1.0, hang_s=2.0,
        ).start()
        config._musicwb_replay_server = server  # type: ignore[attr-defined]
        services = {
            "MUSICWB_MUSICBRAINZ_HOST": server.musicbrainz_host,
            "MUSICWB_DISCOGS_BASE_URL": server.discogs_base_url,
        }
    for name, value in {**fast, **services}.items():
        os.environ.setdefault(name, value)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = getattr(config, "_musicwb_replay_server", None)
    if server is not None:
        server.stop()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # nbval starts each notebook's kernel with the environment as it is then; point it at the
    # demo store before any kernel starts, unless the caller chose a store.
    if "MUSICWB_STORE" not in os.environ and any(str(item.fspath).endswith(".ipynb") for item in items):
        os.environ["MUSICWB_STORE"] = str(_demo_store(config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("MUSICWB_STRICT_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        if isinstance(item, pytest.DoctestItem) and "+SKIP" in str(reason):
            # A docstring example marked +SKIP illustrates a call that needs the network, a
            # kernel or a large real data set; the tests exercise those calls. It is not a
            # test that lost its data.
            return
        report.outcome = "failed"
        report.longrepr = f"skipped, which CI does not allow (MUSICWB_STRICT_SKIPS=1): {reason}"
