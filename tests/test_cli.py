"""The `musicwb` command as a user runs it: a real process, real store files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

MUSICWB = str(Path(sys.executable).parent / "musicwb")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MUSICWB_")}
    environment.update(env or {})
    return subprocess.run(
        [MUSICWB, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in ("scan", "tracks", "batch", "demo", "scan-errors"):
        assert command in done.stdout


def test_reading_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    done = run("tracks", cwd=tmp_path)
    assert done.returncode == 1
    assert "no store at data/musicwb.duckdb" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()


def test_scanning_a_missing_folder_names_it(tmp_path: Path) -> None:
    done = run("scan", str(tmp_path / "no-such-folder"), "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "no-such-folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_store_is_found_by_option_then_environment_then_default(tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    (music / "Artist - Title.wav").write_bytes(b"")  # zero bytes: an error row, still a scan
    assert run("scan", str(music), cwd=tmp_path).returncode == 0
    assert (tmp_path / "data" / "musicwb.duckdb").exists()
    assert run("scan", str(music), cwd=tmp_path, env={"MUSICWB_STORE": str(tmp_path / "env.duckdb")}).returncode == 0
    assert (tmp_path / "env.duckdb").exists()
    done = run(
        "scan", str(music), "--store", str(tmp_path / "opt.duckdb"), cwd=tmp_path,
        env={"MUSICWB_STORE": str(tmp_path / "env2.duckdb")},
    )
    assert done.returncode == 0
    assert (tmp_path / "opt.duckdb").exists() and not (tmp_path / "env2.duckdb").exists()


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    done = run("tracks", "--no-such-option", cwd=tmp_path)
    assert done.returncode == 2
    assert "no-such-option" in done.stderr


@pytest.mark.slow
def test_scan_tracks_and_batch_end_to_end_on_the_demo_library(tmp_path: Path, demo_store: Path) -> None:
    library = demo_store.parent / "demo" / "library"
    store = tmp_path / "mine.duckdb"

    scanned = run("scan", str(library), "--store", str(store), "--json", cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    summary = json.loads(scanned.stdout)
    assert summary["added"] >= 64 and summary["errors"] == 0
    assert summary["scanned"] == summary["added"]

    listed = run("tracks", "--store", str(store), "--json", cwd=tmp_path)
    tracks = json.loads(listed.stdout)
    assert len(tracks) == summary["added"]
    assert {"id", "path", "artist", "title", "album", "label", "duration", "format"} <= set(tracks[0])
    assert all(20 <= track["duration"] <= 34.5 for track in tracks)  # the demo plan's lengths
    assert sum(1 for track in tracks if track["artist"]) == len(tracks)

    again = json.loads(run("scan", str(library), "--store", str(store), "--json", cwd=tmp_path).stdout)
    assert again["unchanged"] == summary["added"] and again["added"] == 0

    reports = tmp_path / "reports"
    batch = run("batch", "--store", str(store), "--out", str(reports), "--json", cwd=tmp_path, timeout=900)
    assert batch.returncode == 0, batch.stdout + batch.stderr
    result = json.loads(batch.stdout)
    names = {notebook["name"] for notebook in result["notebooks"]}
    assert names == {"label_hunting", "match_diagnostics", "sonic_validation", "playlist_tuning"}
    assert all(notebook["status"] == "ok" for notebook in result["notebooks"])
    index = Path(result["index_path"])
    assert index.is_file() and index.parent.parent == reports
    page = index.read_text(encoding="utf-8")
    for name in names:
        assert f"{name}.html" in page
        assert (index.parent / f"{name}.html").is_file()
        assert (index.parent / f"{name}.ipynb").is_file()


HELP_PAGES = [
    [], ["scan"], ["scan-errors"], ["sonic-errors"], ["tracks"], ["demo"], ["batch"], ["extract"], ["validate"],
    ["artifact", "build"], ["features", "backup"], ["features", "list-backups"],
    ["features", "restore"], ["playlist"], ["genres", "migrate"], ["hunt-labels"],
    ["enrich", "queue"], ["enrich", "run"], ["enrich", "status"], ["cooldown", "process"],
    ["tracklists", "import"], ["identify"], ["identify", "evaluate"], ["titles", "parse"],
    ["cooldown", "migrate"], ["cooldown", "stats"], ["genres"], ["enrich"], ["cooldown"],
]  # fmt: skip
WITHOUT_STORE = [[], ["titles", "parse"], ["genres"], ["enrich"], ["cooldown"]]
"""The help pages of groups, and of the one command that reads no store."""
CHOICES = {
    ("playlist",): ("--mode", "musicwb.playlist.params", "MODES"),
    ("hunt-labels",): ("--mode", "musicwb.enrich.labels", "MODES"),
    ("enrich", "run"): ("--mode", "musicwb.enrich.labels", "MODES"),
    ("cooldown", "migrate"): ("--strategy", "musicwb.enrich.cooldown", "STRATEGIES"),
    ("tracklists", "import"): ("--format", "musicwb.linkage.tracklist_files", "FORMATS"),
    ("identify", "evaluate"): ("--backend", "musicwb.linkage.backends", "BACKENDS"),
    ("artifact", "build"): ("--variant", "musicwb.sonic.whiten", "VARIANTS"),
    ("validate",): ("--variant", "musicwb.sonic.whiten", "VARIANTS"),
    ("titles", "parse"): ("--source", "musicwb.titles.parse", "SOURCES"),
}
"""For each help page, an option with a fixed set of values and the constant that holds them."""


def _help_page(command: list[str]) -> str:
    from typer.testing import CliRunner

    from musicwb.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", HELP_PAGES, ids=" ".join)
def test_help_pages_keep_their_bracketed_defaults(command: list[str]) -> None:
    """Rich reads ``[default: ...]`` as a style tag and drops it ("The DuckDB store ."), unless
    the bracket is escaped: every page says its defaults and has no word-less full stop."""
    output = _help_page(command)
    assert not re.search(r"\w \.(?=\s)", output)
    if command == ["demo"]:  # the demo has its own store
        assert "[default: the demo's own <data_dir>/demo.duckdb;" in output
    elif command not in WITHOUT_STORE:
        assert "The DuckDB store [default: $MUSICWB_STORE, else data/musicwb.duckdb]." in output


def test_an_install_hint_keeps_its_extra() -> None:
    # Rich took "[peers]" for a style tag and printed "pip install 'musicwb'"
    assert "pip install 'musicwb[peers]'" in " ".join(_help_page(["validate"]).split())


@pytest.mark.parametrize("command", HELP_PAGES, ids=lambda command: " ".join(command) or "musicwb")
def test_help_pages_show_no_value_placeholder_for_flags(command: list[str]) -> None:
    output = _help_page(command)
    assert "<bool>" not in output
    assert re.search(r"--help\s+Show this message", output)


@pytest.mark.parametrize("command", CHOICES, ids=" ".join)
def test_help_pages_list_the_values_an_option_takes(command: tuple[str, ...]) -> None:
    import importlib

    option, module, name = CHOICES[command]
    values = getattr(importlib.import_module(module), name)
    rows = _help_page(list(command)).splitlines()
    line = next(row for row in rows if re.match(rf"│[ *]+{re.escape(option)} ", row))
    assert "<" + "|".join(values) in line


def test_a_bad_choice_still_names_the_valid_values(tmp_path: Path) -> None:
    done = run("tracklists", "import", str(tmp_path / "x.csv"), "--format", "xml", cwd=tmp_path)
    assert done.returncode == 2
    assert "--format must be one of mixesdb, json, csv, djmix, not 'xml'" in done.stderr


def test_importing_the_command_line_loads_no_choice_module() -> None:
    code = (
        "import sys, musicwb.cli; "
        "print([m for m in ('pandas', 'duckdb', 'musicwb.linkage.tracklist_files') "
        "if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("force", [False, True])
def test_an_interrupted_extract_says_how_to_go_on(
    force: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from musicwb.cli import app
    from musicwb.sonic import jobs

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "recorded_extract", interrupted)
    args = ["extract", "--store", str(tmp_path / "lib.duckdb"), *(["--force", "--yes"] * force)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130
    # after a --force, a plain run finds every track up to date: the hint says --force again
    expected = "run `extract --force` again to redo them all" if force else "run it again to resume"
    assert expected in result.output
