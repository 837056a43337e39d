"""Writing accepted labels and catalogue numbers into the files (issue 15): `musicwb tags write`
and `musicwb tags undo` on real files of every supported format, and their bad input."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import mutagen
import pytest
from library_files import by_file_name, run_cli, scan, tag_file, tracks, write_audio
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.library import tag_files, tag_runs
from musicwb.library.integrity import audio_magic
from musicwb.library.tag_blocks import audio_digest, file_layout, tag_bytes
from musicwb.library.tag_runs import undo_tags, write_tags
from musicwb.store import Store, last_run

SUPPORTED = ["a.mp3", "a.flac", "a.ogg", "a.opus", "a.m4a", "id3.wav", "id3.aiff"]
UNSUPPORTED = {"plain.wav": "WAV without ID3", "plain.aiff": "AIFF without ID3", "a.wma": "ASF"}
LABEL, CATALOGUE = "Klockworks", "KW 20"


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real file per format, tagged with artist and title (the MP3 with an old label)."""
    folder = tmp_path_factory.mktemp("originals")
    for seed, name in enumerate([*SUPPORTED, *UNSUPPORTED]):
        path = write_audio(folder / name, seconds=1.0, seed=seed)
        if not name.startswith("plain"):
            tags = {"artist": f"Artist {seed}", "title": f"Title {seed}"}
            if name == "a.mp3":
                tags |= {"label": "Old Label", "catalog_number": "OLD 1"}
            tag_file(path, tags)
    return folder


@pytest.fixture
def music(tmp_path: Path, originals: Path) -> tuple[Path, Path]:
    """A copy of the files, scanned, with an accepted label (MusicBrainz, 0.95) and a manual
    catalogue number (1.0) on every track: ``(folder, store)``."""
    folder = tmp_path / "music"
    shutil.copytree(originals, folder)
    store = tmp_path / "lib.duckdb"
    scan(store, folder)
    with Store(store) as opened:
        opened.execute(
            "UPDATE tracks SET label = ?, label_source = 'musicbrainz', label_confidence = 0.95, "
            "catalog_number = ?, catalog_number_source = 'manual', catalog_number_confidence = 1.0",
            [LABEL, CATALOGUE],
        )
    return folder, store


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def decoded_pcm(path: Path) -> str:
    """The audio decoded by ffmpeg, as a checksum (independent of the tag block layout)."""
    pcm = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(path), "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert pcm
    return hashlib.sha256(pcm).hexdigest()


def blocks(path: Path) -> tuple[bytes, str]:
    """The file's tag blocks and the checksum of the bytes outside them (its audio frames)."""
    with open(path, "rb") as handle:
        layout = file_layout(handle, kind=audio_magic(handle.read(16)))
        return tag_bytes(handle, layout), audio_digest(handle, layout)


def by_name(files: list[dict]) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in files}


def test_dry_run_lists_the_changes_and_changes_nothing(music) -> None:
    folder, store = music
    before = snapshot(folder)
    code, out = cli("tags", "write", "--store", str(store))
    assert code == 0
    assert f"{folder / 'a.mp3'}\n  label: Old Label → {LABEL}" in out
    assert f"catalogue: OLD 1 → {CATALOGUE}" in out
    assert f"{folder / 'a.flac'}\n  label: (none) → {LABEL}" in out
    assert "unsupported: WAV without ID3 tags" in out and "nothing was written" in out
    code, out = cli("tags", "write", "--store", str(store), "--json")
    report = json.loads(out)
    files = by_name(report["files"])
    assert report["run_id"] is None and report["applied"] is False
    assert {name for name, f in files.items() if f["outcome"] == "would_write"} == set(SUPPORTED)
    for name, kind in UNSUPPORTED.items():
        assert files[name]["outcome"] == "skipped" and files[name]["reason"] == "unsupported"
        assert kind in files[name]["message"]
    assert snapshot(folder) == before
    with Store(store) as opened:
        assert last_run(opened, kind="tag_write") is None


def test_round_trip_every_format_then_undo_byte_for_byte(music, tmp_path: Path) -> None:
    folder, store = music
    before = snapshot(folder)
    audio_before = {name: blocks(folder / name)[1] for name in SUPPORTED}
    pcm_before = {name: decoded_pcm(folder / name) for name in SUPPORTED}

    code, out = cli("tags", "write", "--apply", "--json", "--store", str(store))
    assert code == 0
    report = json.loads(out)
    files = by_name(report["files"])
    assert {n for n, f in files.items() if f["outcome"] == "written"} == set(SUPPORTED)
    assert report["counts"] == {"written": len(SUPPORTED), "skipped": len(UNSUPPORTED)}
    for name in SUPPORTED:
        assert blocks(folder / name)[1] == audio_before[name], name  # bytes outside the tags
        assert decoded_pcm(folder / name) == pcm_before[name], name
        assert (folder / name).read_bytes() != before[name]
    for name in UNSUPPORTED:
        assert (folder / name).read_bytes() == before[name]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]

    # The fields other tools read.
    mp3 = mutagen.File(folder / "a.mp3")
    assert mp3.tags.version == (2, 4, 0)
    assert mp3["TPUB"].text == [LABEL] and mp3["TXXX:CATALOGNUMBER"].text == [CATALOGUE]
    for name in ("a.flac", "a.ogg", "a.opus"):
        vorbis = mutagen.File(folder / name)
        assert vorbis["LABEL"] == [LABEL] and vorbis["ORGANIZATION"] == [LABEL]
        assert vorbis["CATALOGNUMBER"] == [CATALOGUE]
    m4a = mutagen.File(folder / "a.m4a")
    assert m4a["----:com.apple.iTunes:LABEL"] == [LABEL.encode()]
    assert m4a["----:com.apple.iTunes:CATALOGNUMBER"] == [CATALOGUE.encode()]
    assert mutagen.File(folder / "id3.wav").tags["TPUB"].text == [LABEL]

    # A re-scan reads them back: the store and the tags agree; a new store reads them as the
    # user's own tags.
    scan(store, folder)
    rows = by_file_name(tracks(store))
    fresh = tmp_path / "fresh.duckdb"
    scan(fresh, folder)
    fresh_rows = by_file_name(tracks(fresh))
    for name in SUPPORTED:
        assert rows.loc[name, "label"] == LABEL and rows.loc[name, "catalog_number"] == CATALOGUE
        assert fresh_rows.loc[name, "label"] == LABEL, name
        assert fresh_rows.loc[name, "catalog_number"] == CATALOGUE, name
        assert fresh_rows.loc[name, "label_source"] == "tags"
    code, out = cli("tags", "write", "--json", "--store", str(store))
    assert json.loads(out)["counts"] == {"unchanged": len(SUPPORTED), "skipped": len(UNSUPPORTED)}

    code, out = cli("tags", "undo", report["run_id"], "--json", "--store", str(store))
    assert code == 0
    undone = json.loads(out)
    assert undone["counts"] == {"restored": len(SUPPORTED)}
    for name in SUPPORTED:
        assert blocks(folder / name)[0] == blocks_of(before[name], tmp_path)[0], name
    assert snapshot(folder) == before  # and so the whole file, byte for byte
    code, out = cli("tags", "undo", report["run_id"], "--json", "--store", str(store))
    assert json.loads(out)["reasons"] == {"already_restored": len(SUPPORTED)}
    code, out = cli("tags", "runs", "--json", "--store", str(store))
    assert [run["kind"] for run in json.loads(out)] == ["tag_undo", "tag_undo", "tag_write"]


def blocks_of(data: bytes, tmp_path: Path) -> tuple[bytes, str]:
    path = tmp_path / "copy.bin"
    path.write_bytes(data)
    return blocks(path)


def test_mp4_with_moov_before_mdat(tmp_path: Path, originals: Path) -> None:
    folder = tmp_path / "music"
    folder.mkdir()
    path = folder / "fast.m4a"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(originals / "a.m4a"), "-c", "copy",
         "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    store = tmp_path / "lib.duckdb"
    scan(store, folder)
    with Store(store) as opened:
        opened.execute("UPDATE tracks SET label = 'X' || repeat('y', 3000), label_source = "
                       "'manual', label_confidence = 1.0")  # fmt: skip
    before, pcm = path.read_bytes(), decoded_pcm(path)
    with Store(store) as opened:
        report = write_tags(opened, apply=True)
        assert report.counts() == {"written": 1}
        assert decoded_pcm(path) == pcm
        assert undo_tags(opened, report.run_id).counts() == {"restored": 1}
    assert path.read_bytes() == before


def test_values_of_the_files_own_tags_or_below_the_threshold_are_not_written(music) -> None:
    _folder, store = music
    with Store(store) as opened:
        opened.execute(
            "UPDATE tracks SET label_source = 'tags' WHERE path LIKE '%.flac'; "
            "UPDATE tracks SET label_confidence = 0.6 WHERE path LIKE '%.ogg'"
        )
        report = write_tags(opened, fields="label")
        changes = {Path(r.path).name: r.changes for r in report.results}
        assert "a.flac" not in changes and "a.ogg" not in changes
        assert [c.field for c in changes["a.opus"]] == ["label"]
        low = write_tags(opened, fields=["label"], min_confidence=0.5)
        assert [c.new for c in {Path(r.path).name: r for r in low.results}["a.ogg"].changes] == [
            LABEL
        ]
    result = run_cli("tags", "write", "--fields", "genre", "--store", str(store))
    assert result.returncode == 2 and "no field 'genre'" in result.stderr


def test_bad_files_are_skipped_with_a_reason_and_the_run_goes_on(music) -> None:
    folder, store = music
    (folder / "a.flac").chmod(0o444)
    (folder / "a.ogg").unlink()
    os.utime(folder / "a.opus", (1e9, 1e9))  # changed since the last scan
    before = snapshot(folder)
    code, out = cli("tags", "write", "--apply", "--json", "--store", str(store))
    assert code == 0  # skipped files are not failures
    report = json.loads(out)
    files = by_name(report["files"])
    assert (files["a.flac"]["outcome"], files["a.flac"]["reason"]) == ("skipped", "read_only")
    assert (files["a.ogg"]["outcome"], files["a.ogg"]["reason"]) == ("skipped", "gone")
    assert files["a.opus"]["reason"] == "changed_since_scan"
    assert "since the last scan" in files["a.opus"]["message"]
    assert files["a.mp3"]["outcome"] == files["a.m4a"]["outcome"] == "written"
    for name in ("a.flac", "a.opus", *UNSUPPORTED):
        assert (folder / name).read_bytes() == before[name]
    _code, out = cli("tags", "show", report["run_id"], "--json", "--store", str(store))
    recorded = {Path(r["path"]).name: r["reason"] for r in json.loads(out)}
    assert recorded["a.flac"] == "read_only" and recorded["a.ogg"] == "gone"
    assert recorded["plain.wav"] == "unsupported" and recorded["a.mp3"] is None


def test_a_full_disk_leaves_the_file_whole_and_the_run_goes_on(music, monkeypatch) -> None:
    folder, store = music
    before = snapshot(folder)
    real_save = tag_files._save

    def save_until_the_disk_is_full(audio, family):
        if Path(audio.filename).name.startswith(".a.flac"):
            with open(audio.filename, "r+b") as handle:  # half a write, then no space
                handle.write(b"\0" * 4096)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(audio, family)

    monkeypatch.setattr(tag_files, "_save", save_until_the_disk_is_full)
    code, out = cli("tags", "write", "--apply", "--json", "--store", str(store))
    assert code == 1
    files = by_name(json.loads(out)["files"])
    assert (files["a.flac"]["outcome"], files["a.flac"]["reason"]) == ("failed", "disk_full")
    assert "No space left on device" in files["a.flac"]["message"]
    assert (folder / "a.flac").read_bytes() == before["a.flac"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert {n for n, f in files.items() if f["outcome"] == "written"} == set(SUPPORTED) - {"a.flac"}


def test_ctrl_c_between_files_records_what_was_done_and_undo_restores_it(music, monkeypatch):
    folder, store = music
    before = snapshot(folder)
    real_prepare, calls = tag_runs.prepare_write, []

    def interrupted_at_the_third(state, *, changes):
        calls.append(state.path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_prepare(state, changes=changes)

    monkeypatch.setattr(tag_runs, "prepare_write", interrupted_at_the_third)
    with Store(store, hold_open=False) as opened, pytest.raises(KeyboardInterrupt):
        write_tags(opened, apply=True)
    with Store(store) as opened:
        run = last_run(opened, kind="tag_write")
        assert run["status"] == "interrupted"
        assert run["summary"]["counts"] == {"written": 2}
        written = {Path(p).name for p in calls[:2]}
        assert {n for n in before if (folder / n).read_bytes() != before[n]} == written
        assert undo_tags(opened, run["run_id"]).counts() == {"restored": 2}
    assert snapshot(folder) == before


def test_undo_skips_a_file_changed_since_the_write(music) -> None:
    folder, store = music
    with Store(store) as opened:
        run_id = write_tags(opened, apply=True).run_id
    retagged = mutagen.File(folder / "a.flac")
    retagged["COMMENT"] = "edited in another tagger"
    retagged.save()
    edited = (folder / "a.flac").read_bytes()
    _code, out = cli("tags", "undo", run_id, "--json", "--store", str(store))
    files = by_name(json.loads(out)["files"])
    assert files["a.flac"]["reason"] == "changed_since_write"
    assert (folder / "a.flac").read_bytes() == edited
    assert {n for n, f in files.items() if f["outcome"] == "restored"} == set(SUPPORTED) - {
        "a.flac"
    }
    result = run_cli("tags", "undo", "20200101-000000-scan-0000", "--store", str(store))
    assert result.returncode == 2 and "no tag write run" in result.stderr


def test_a_locked_store_stops_before_any_file_is_written(music) -> None:
    folder, store = music
    before = snapshot(folder)
    with Store(store):  # holds the write lock
        result = run_cli("tags", "write", "--apply", "--store", str(store))
    assert result.returncode == 1
    assert "lock" in result.stderr.lower()
    assert snapshot(folder) == before


def test_an_id3v23_tag_stays_v23_and_the_id3v1_block_is_kept(tmp_path: Path, originals) -> None:
    from mutagen.id3 import ID3, TIT2

    folder = tmp_path / "music"
    folder.mkdir()
    path = folder / "old.mp3"
    shutil.copy(originals / "a.mp3", path)
    id3 = ID3(path)
    id3.add(TIT2(encoding=1, text=["Sombre Tones"]))
    id3.save(path, v2_version=3, v1=2)  # v1=2: also write an ID3v1 block at the end
    store = tmp_path / "lib.duckdb"
    scan(store, folder)
    with Store(store) as opened:
        opened.execute("UPDATE tracks SET label = 'Kompakt', label_source = 'discogs', "
                       "label_confidence = 0.97")  # fmt: skip
    before = path.read_bytes()
    assert before[-128:].startswith(b"TAG")
    with Store(store) as opened:
        report = write_tags(opened, apply=True, fields="label")
        after = path.read_bytes()
        assert report.counts() == {"written": 1}
        assert ID3(path).version == (2, 3, 0) and ID3(path)["TPUB"].text == ["Kompakt"]
        assert after[-128:] == before[-128:]
        assert blocks(path)[1] == blocks_of(before, tmp_path)[1]
        assert undo_tags(opened, report.run_id).counts() == {"restored": 1}
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [["write"], ["undo"], ["runs"], ["show"]], ids=" ".join)
def test_help_pages_say_their_defaults(command: list[str]) -> None:
    result = CliRunner().invoke(app, ["tags", *command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0
    assert "The DuckDB store [default: $MUSICWB_STORE, else data/musicwb.duckdb]." in result.output
    assert "<bool>" not in result.output


def test_ctrl_c_in_the_command_exits_130_naming_the_run(music, monkeypatch) -> None:
    _, store = music

    def interrupted(state, *, changes):
        raise KeyboardInterrupt

    monkeypatch.setattr(tag_runs, "prepare_write", interrupted)
    result = CliRunner().invoke(app, ["tags", "write", "--apply", "--store", str(store)])
    assert result.exit_code == 130
    assert "interrupted; run " in result.stderr and "tag_write" in result.stderr


def test_a_store_locked_mid_run_stops_it_before_an_unrecorded_write(music, monkeypatch) -> None:
    from musicwb.errors import StoreLockedError
    from musicwb.store.tables import tags as tag_tables

    folder, store = music
    before = snapshot(folder)
    real_insert, inserted = tag_tables.insert_tag_write, []

    def locked_at_the_second(store, *, row):
        if len(inserted) == 1:
            raise StoreLockedError("the store is locked by another musicwb (PID 1)")
        inserted.append(row["path"])
        real_insert(store, row=row)

    monkeypatch.setattr(tag_tables, "insert_tag_write", locked_at_the_second)
    with Store(store, hold_open=False) as opened, pytest.raises(StoreLockedError):
        write_tags(opened, apply=True)
    changed = {n for n in before if (folder / n).read_bytes() != before[n]}
    assert changed == {Path(inserted[0]).name}  # only the recorded write was done
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()  # the lock is gone
    with Store(store) as opened:
        run = last_run(opened, kind="tag_write")
        assert run["status"] == "failed" and "locked" in run["summary"]["error"]
        assert undo_tags(opened, run["run_id"]).counts() == {"restored": 1}
    assert snapshot(folder) == before
