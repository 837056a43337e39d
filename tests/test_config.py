"""Settings come from MUSICWB_* variables or .env, secrets stay secret, nothing runs at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from musicwb.config import DEFAULT_STORE, get_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "MUSICWB_STORE",
        "MUSICWB_REPORTS_DIR",
        "MUSICWB_DISCOGS_TOKEN",
        "DISCOGS_USER_TOKEN",
        "MUSICWB_CONTACT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = get_settings()
    assert settings.store == DEFAULT_STORE == Path("data/musicwb.duckdb")
    assert settings.reports_dir is None  # beside the store
    assert settings.discogs_token is None


def test_everything_derived_from_a_store_lives_beside_it(tmp_path: Path) -> None:
    from musicwb.store.paths import StorePaths

    one, two = StorePaths.of(tmp_path / "a" / "lib.duckdb"), StorePaths.of("b/lib.duckdb")
    for paths, folder in ((one, tmp_path / "a"), (two, tmp_path / "b")):  # cwd is tmp_path
        derived = [paths.artifact, paths.backups, paths.numba_cache.parent, paths.reports()]
        assert all(path.parent == folder and path.name.startswith("lib.") for path in derived)
    assert len({one.artifact, two.artifact}) == 2
    assert one.reports("/srv/reports") == Path("/srv/reports")


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICWB_STORE", "/music/lib.duckdb")
    assert get_settings().store == Path("/music/lib.duckdb")
    assert get_settings(store=Path("x.duckdb")).store == Path("x.duckdb")
    assert get_settings(store=None).store == Path("/music/lib.duckdb")


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MUSICWB_CONTACT=dj@example.org\nMUSICWB_STORE=from-dotenv.duckdb\n")
    settings = get_settings()
    assert settings.contact == "dj@example.org"
    assert settings.store == Path("from-dotenv.duckdb")
    assert "dj@example.org" in settings.user_agent and settings.user_agent.startswith("musicwb/")


@pytest.mark.parametrize("variable", ["DISCOGS_USER_TOKEN", "MUSICWB_DISCOGS_TOKEN"])
def test_tokens_are_secret(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "tok-very-secret-123")
    settings = get_settings()
    assert settings.discogs_token is not None
    assert settings.discogs_token.get_secret_value() == "tok-very-secret-123"
    assert "tok-very-secret-123" not in repr(settings)
    assert "tok-very-secret-123" not in str(settings.model_dump())
    assert "tok-very-secret-123" not in settings.model_dump_json()


def test_import_does_no_work(tmp_path: Path) -> None:
    code = (
        "import sys, musicwb, musicwb.cli, musicwb.store, musicwb.config; "
        "heavy = [m for m in ('duckdb', 'librosa', 'splink', 'papermill') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "librosa" not in done.stdout and "splink" not in done.stdout and "papermill" not in done.stdout
    assert list(tmp_path.iterdir()) == []  # no store, no folders created by importing
