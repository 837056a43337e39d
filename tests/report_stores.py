"""Shared test data for the overview, report and browser tests.

``build_library_store`` writes a small real store whose every count is known by construction;
its metadata holds HTML and ``</script>`` payloads, so every report built from it doubles as an
escaping test. ``library_batch`` runs the four notebooks on it once per session, with fake tokens
in the environment.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from musicwb.reports import BatchResult, run_batch
from musicwb.store import Store

MALICIOUS_TITLE = "<script>alert(1)</script>"
MALICIOUS_ARTIST = "</script><script>alert(1)</script>"
MALICIOUS_LABEL = "<img src=x onerror=alert(1)>"

# artist, title, album, label, label_source, format, sample_rate, duration, genres
TRACKS = [
    (
        "Aurora Drift",
        "Night Bus",
        "Low Tides",
        "Anjunabeats",
        "tags",
        "flac",
        44100,
        301.0,
        ["trance"],
    ),
    (
        "Aurora Drift",
        "Low Tide",
        "Low Tides",
        "Anjunabeats",
        "title",
        "flac",
        44100,
        255.0,
        ["trance", "progressive"],
    ),
    ("Aurora Drift", "Glass", "Low Tides", None, None, "mp3", 48000, 412.0, ["progressive"]),
    (MALICIOUS_ARTIST, MALICIOUS_TITLE, None, None, None, "mp3", 44100, 190.0, [MALICIOUS_TITLE]),
    (
        MALICIOUS_ARTIST,
        "Second & <b>bold</b>",
        "B-Sides",
        MALICIOUS_LABEL,
        "tags",
        "wav",
        96000,
        61.0,
        ["techno"],
    ),
    (None, "Untitled", None, "", None, None, None, None, None),
]


def build_library_store(path: Path) -> Path:
    """Write a small library (6 tracks, 2 sets, 4 entries, 1 truth row) into a new store."""
    now = dt.datetime(2026, 1, 1)
    tracks = pd.DataFrame(
        [
            {
                "id": number,
                "path": f"/music/{number:03d}.{fmt or 'bin'}",
                "size": 1000 * number,
                "mtime": 1.7e9 + number,
                "content_hash": f"hash{number}",
                "duration": duration,
                "sample_rate": sample_rate,
                "channels": 2,
                "format": fmt,
                "artist": artist,
                "title": title,
                "album": album,
                "label": label,
                "label_source": label_source,
                "genres": genres,
                "added_at": now,
                "updated_at": now,
            }
            for number, (
                artist,
                title,
                album,
                label,
                label_source,
                fmt,
                sample_rate,
                duration,
                genres,
            ) in enumerate(TRACKS, start=1)
        ]
    )
    sets = pd.DataFrame(
        [
            {"set_id": "set-a", "dj": "DJ One", "title": MALICIOUS_TITLE, "source": "test"},
            {"set_id": "set-b", "dj": "DJ Two", "title": "Warm-up", "source": "test"},
        ]
    )
    entries = pd.DataFrame(
        [
            {
                "set_id": "set-a",
                "position": 1,
                "raw": "Aurora Drift - Night Bus",
                "artist": "Aurora Drift",
                "title": "Night Bus",
                "is_unknown": False,
            },
            {"set_id": "set-a", "position": 2, "raw": "ID - ID", "is_unknown": True},
            {
                "set_id": "set-a",
                "position": 3,
                "raw": f"{MALICIOUS_ARTIST} - ID",
                "artist": MALICIOUS_ARTIST,
                "is_unknown": True,
            },
            {"set_id": "set-b", "position": 1, "raw": "?", "is_unknown": True},
        ]
    )
    truth = pd.DataFrame(
        [{"set_id": "set-a", "position": 2, "artist": "Aurora Drift", "title": "Glass"}]
    )
    with Store(path) as store, store.transaction():
        store.insert("tracks", tracks)
        store.insert("tracklist_sets", sets)
        store.insert("tracklist_entries", entries)
        store.insert("tracklist_truth", truth)
    return path


FAKE_TOKEN = "fake-discogs-token-Zq8Xw2Lr7Nv"
FAKE_KEY = "fake-llm-key-Pk3Hd9Ys4Tb"
SECRET_ENV = {
    "DISCOGS_USER_TOKEN": FAKE_TOKEN,
    "MUSICWB_DISCOGS_TOKEN": FAKE_TOKEN,
    "MUSICWB_LLM_API_KEY": FAKE_KEY,
}
BATCH_TOML = """\
[defaults]
top_n = 7

[notebooks.playlist_tuning]
top_n = 1

[notebooks.sonic_validation]
duration_bin_s = 60
"""

_SESSION: dict[str, tuple[Path, BatchResult]] = {}


def library_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchResult]:
    """Run the four notebooks once per session on the malicious library, tokens in the env.

    The store is given as a relative path (from the run's folder) to check it reaches the
    notebooks absolute.
    """
    if "library" not in _SESSION:
        root = tmp_path_factory.mktemp("library-batch")
        store_path = build_library_store(root / "lib.duckdb")
        (root / "batch.toml").write_text(BATCH_TOML, encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in SECRET_ENV.items():
                patch.setenv(name, value)
            patch.chdir(root)
            result = run_batch(
                store_path=Path("lib.duckdb"),
                out_dir=Path("reports"),
                config_path=Path("batch.toml"),
                progress=False,
            )
        _SESSION["library"] = (store_path, result)
    return _SESSION["library"]
