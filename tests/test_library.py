"""The library scan on real audio files written into a temporary folder (and the real
``realmusic`` set): tags of every format, file-name fallback, metadata CSV, incremental
re-scans, moves, broken files, interrupts, and the ``musicwb scan``/``tracks`` commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TALB, TBPM, TCON, TIT2, TKEY, TPE1, TPUB, TSRC, TXXX
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from musicwb import library
from musicwb.library import scan as library_scan
from musicwb.errors import ParameterError
from musicwb.library import (
    guess_from_filename,
    plan_scan,
    read_track_file,
    scan_errors_frame,
    scan_library,
    tags_to_fields,
    tracks_frame,
)
from musicwb.runs import last_run
from musicwb.store import Store

MUSICWB = Path(sys.executable).parent / "musicwb"

TAGS = {
    "artist": "Trevino",
    "title": "Sombre Tones",
    "album": "Sombre Tones EP",
    "label": "Klockworks",
    "catalog_number": "KW 20",
    "genre": "Techno",
    "bpm": "132",
    "key": "8A",
    "isrc": "GBKWT1200020",
}


# -- writing real files ------------------------------------------------------------------


def write_audio(path: Path, *, seconds: float = 1.0, sr: int = 22050, seed: int = 0) -> Path:
    """A real audio file (format from the extension): a tone with a little noise."""
    rng = np.random.default_rng(seed)
    if path.suffix.lower() == ".opus":
        sr = 48000  # Opus encodes at 48 kHz only
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * (220 + 20 * seed) * t) + 0.01 * rng.standard_normal(t.size)
    y = np.stack([y, y], axis=1).astype("float32")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".m4a", ".wma"):
        wav = path.with_suffix(".tmp.wav")
        sf.write(wav, y, sr)
        codec = "aac" if suffix == ".m4a" else "wmav2"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", codec, str(path)],
            check=True,
        )
        wav.unlink()
    elif suffix == ".opus":
        sf.write(path, y, sr, format="OGG", subtype="OPUS")
    else:
        sf.write(path, y, sr)
    return path


def tag_file(path: Path, tags: dict[str, str], *, vorbis_label_key: str = "LABEL") -> None:
    """Write tags the way common taggers do for the file's format."""
    suffix = path.suffix.lower()
    if suffix in (".mp3", ".wav", ".aiff"):
        frames = {
            "artist": TPE1,
            "title": TIT2,
            "album": TALB,
            "label": TPUB,
            "genre": TCON,
            "bpm": TBPM,
            "key": TKEY,
            "isrc": TSRC,
        }
        if suffix == ".mp3":
            id3 = ID3()
        else:
            import mutagen

            audio = mutagen.File(path)
            audio.add_tags()
            id3 = audio.tags
        for name, value in tags.items():
            if name == "catalog_number":
                id3.add(TXXX(encoding=3, desc="CATALOGNUMBER", text=value))
            else:
                id3.add(frames[name](encoding=3, text=value))
        if suffix == ".mp3":
            id3.save(path)
        else:
            audio.save()
    elif suffix in (".flac", ".ogg", ".opus"):
        audio = {".flac": FLAC, ".ogg": OggVorbis, ".opus": OggOpus}[suffix](path)
        keys = {"label": vorbis_label_key, "catalog_number": "CATALOGNUMBER", "key": "INITIALKEY"}
        for name, value in tags.items():
            audio[keys.get(name, name.upper())] = value
        audio.save()
    elif suffix == ".m4a":
        audio = MP4(path)
        atoms = {"artist": "\xa9ART", "title": "\xa9nam", "album": "\xa9alb", "genre": "\xa9gen"}
        freeform = {
            "label": "LABEL",
            "catalog_number": "CATALOGNUMBER",
            "isrc": "ISRC",
            "key": "initialkey",
        }
        for name, value in tags.items():
            if name == "bpm":
                audio["tmpo"] = [int(value)]
            elif name in atoms:
                audio[atoms[name]] = [value]
            else:
                atom = f"----:com.apple.iTunes:{freeform[name]}"
                audio[atom] = [MP4FreeForm(value.encode("utf-8"))]
        audio.save()
    elif suffix == ".wma":
        audio = ASF(path)
        names = {
            "artist": "Author",
            "title": "Title",
            "album": "WM/AlbumTitle",
            "label": "WM/Publisher",
            "catalog_number": "WM/CatalogNo",
            "genre": "WM/Genre",
            "bpm": "WM/BeatsPerMinute",
            "key": "WM/InitialKey",
            "isrc": "WM/ISRC",
        }
        for name, value in tags.items():
            audio[names[name]] = [value]
        audio.save()
    else:
        raise AssertionError(f"no tagger for {suffix}")


def scan(store_path: Path, root: Path, **options) -> library.ScanSummary:
    with Store(store_path) as store:
        return scan_library(store, root, progress=False, **options)


def tracks(store_path: Path) -> pd.DataFrame:
    with Store(store_path, read_only=True) as store:
        return store.df("SELECT * FROM tracks ORDER BY id")


def errors(store_path: Path) -> pd.DataFrame:
    with Store(store_path, read_only=True) as store:
        return scan_errors_frame(store)


# -- tags --------------------------------------------------------------------------------

FORMAT_CASES = [
    (".mp3", "mp3"),
    (".flac", "flac"),
    (".ogg", "vorbis"),
    (".opus", "opus"),
    (".wav", "wav"),
    (".aiff", "aiff"),
    (".m4a", "aac"),
    (".wma", "wma"),
]


@pytest.mark.parametrize(("suffix", "fmt"), FORMAT_CASES, ids=[c[1] for c in FORMAT_CASES])
def test_tags_of_every_format_are_read_with_their_source(tmp_path, suffix, fmt):
    if suffix in (".m4a", ".wma") and shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to write M4A/WMA test files")
    music = tmp_path / "music"
    path = write_audio(music / f"whatever{suffix}", seconds=2.0)
    tag_file(path, TAGS)

    summary = scan(tmp_path / "s.duckdb", music)

    assert (summary.added, summary.errors) == (1, 0)
    row = tracks(tmp_path / "s.duckdb").iloc[0]
    assert row["format"] == fmt
    assert row["duration"] == pytest.approx(2.0, abs=0.1)
    assert row["channels"] == 2
    assert row["sample_rate"] in (22050, 44100, 48000)
    for name in ("artist", "title", "album", "label", "catalog_number", "key", "isrc"):
        assert row[name] == TAGS[name], name
        assert row[f"{name}_source"] == "tags"
        assert row[f"{name}_confidence"] == 1.0
    assert list(row["genres"]) == ["Techno"]
    assert row["bpm"] == 132.0
    assert row["added_run"] == summary.run_id
    assert len(row["content_hash"]) == 32


@pytest.mark.parametrize("label_key", ["LABEL", "ORGANIZATION", "PUBLISHER"])
def test_vorbis_label_is_found_under_each_common_name(tmp_path, label_key):
    path = write_audio(tmp_path / "music" / "a.flac")
    tag_file(path, {"artist": "Surgeon", "label": "Dynamic Tension"}, vorbis_label_key=label_key)
    scan(tmp_path / "s.duckdb", tmp_path / "music")
    assert tracks(tmp_path / "s.duckdb").loc[0, "label"] == "Dynamic Tension"


@pytest.mark.parametrize("suffix", [".wav", ".aiff"])
def test_wav_and_aiff_text_chunks_are_read_and_id3_wins_over_them(tmp_path, suffix):
    music = tmp_path / "music"
    music.mkdir()
    y = np.zeros((11025, 2), dtype="float32")
    for name in ("plain", "both"):
        # libsndfile writes RIFF LIST/INFO (WAV) or NAME/AUTH chunks (AIFF), as many tools do
        with sf.SoundFile(music / f"{name}{suffix}", "w", 22050, 2) as out:
            out.title, out.artist = "Chunk Title", "Chunk Artist"
            out.write(y)
    tag_file(music / f"both{suffix}", {"artist": "ID3 Artist"})

    scan(tmp_path / "s.duckdb", music)

    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    plain, both = rows.loc[str(music / f"plain{suffix}")], rows.loc[str(music / f"both{suffix}")]
    assert (plain["artist"], plain["title"], plain["title_source"]) == (
        "Chunk Artist",
        "Chunk Title",
        "tags",
    )
    assert (both["artist"], both["title"]) == ("ID3 Artist", "Chunk Title")


def test_tags_to_fields_splits_genres_and_reads_numbers():
    fields = tags_to_fields({"genre": ["Techno; Dub Techno", "Techno"], "bpm": ["128.5 BPM"]})
    assert fields == {"genres": ["Techno", "Dub Techno"], "bpm": 128.5}


# -- file names --------------------------------------------------------------------------


def test_untagged_files_fall_back_to_the_file_name(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "01 - Trevino - Sombre Tones.wav")
    write_audio(music / "field_recording.wav", seed=1)
    tagged = write_audio(music / "Wrong Artist - Wrong Title.flac", seed=2)
    tag_file(tagged, {"title": "Right Title"})

    scan(tmp_path / "s.duckdb", music)

    rows = tracks(tmp_path / "s.duckdb").set_index(
        tracks(tmp_path / "s.duckdb")["path"].map(lambda p: Path(p).name)
    )
    pair = rows.loc["01 - Trevino - Sombre Tones.wav"]
    assert (pair["artist"], pair["title"]) == ("Trevino", "Sombre Tones")
    assert (pair["artist_source"], pair["artist_confidence"]) == ("filename", 0.5)
    alone = rows.loc["field_recording.wav"]
    assert alone["title"] == "field recording" and alone["title_confidence"] < 0.5
    assert alone["artist"] is None
    mixed = rows.loc["Wrong Artist - Wrong Title.flac"]
    assert (mixed["title"], mixed["title_source"]) == ("Right Title", "tags")
    assert (mixed["artist"], mixed["artist_source"]) == ("Wrong Artist", "filename")


def test_guess_from_filename_keeps_numbers_that_belong_to_the_name():
    assert guess_from_filename("808 State - Pacific State")["artist"][0] == "808 State"
    assert guess_from_filename("") == {}


# -- metadata CSV ------------------------------------------------------------------------


def test_metadata_csv_overrides_tags_and_ignores_extra_columns(tmp_path):
    music = tmp_path / "music"
    first = write_audio(music / "a" / "one.flac")
    tag_file(first, {"artist": "Tag Artist", "title": "Tag Title", "label": "Tag Label"})
    write_audio(music / "b" / "two.ogg", seed=1)
    csv = tmp_path / "meta" / "metadata.csv"
    csv.parent.mkdir()
    # one.flac relative to the scanned root, two.ogg relative to the CSV's folder
    pd.DataFrame(
        {
            "path": ["a/one.flac", "../music/b/two.ogg", "nowhere.mp3"],
            "artist": ["CSV Artist", "Other", "X"],
            "title": ["", "CSV Two", ""],
            "label": ["CSV Label", "", ""],
            "genre": ["Techno; Dub Techno", "", ""],
            "comment": ["ignored", "ignored", ""],
        }
    ).to_csv(csv, index=False)

    summary = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)

    assert summary.metadata_unmatched == 1
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    one = rows.loc[str(first)]
    assert (one["artist"], one["artist_source"]) == ("CSV Artist", "metadata_csv")
    assert (one["title"], one["title_source"]) == ("Tag Title", "tags")  # empty cell: no override
    assert (one["label"], one["label_source"]) == ("CSV Label", "metadata_csv")
    assert list(one["genres"]) == ["Techno", "Dub Techno"]
    two = rows.loc[str(music / "b" / "two.ogg")]
    assert (two["artist"], two["title"]) == ("Other", "CSV Two")


def test_metadata_csv_applies_to_unchanged_files_on_a_rescan(tmp_path):
    music = tmp_path / "music"
    path = write_audio(music / "one.wav")
    scan(tmp_path / "s.duckdb", music)
    csv = tmp_path / "meta.csv"
    csv.write_text(f"path,artist\n{path},Fixed Artist\n", encoding="utf-8")

    summary = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)
    again = scan(tmp_path / "s.duckdb", music, metadata_csv=csv)

    assert (summary.updated, summary.unchanged) == (1, 0)
    assert (again.updated, again.unchanged) == (0, 1)
    assert tracks(tmp_path / "s.duckdb").loc[0, "artist"] == "Fixed Artist"


def test_metadata_csv_without_path_column_is_a_clear_error(tmp_path):
    write_audio(tmp_path / "music" / "one.wav")
    csv = tmp_path / "meta.csv"
    csv.write_text("file,artist\none.wav,X\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"meta\.csv has no 'path' column"):
        scan(tmp_path / "s.duckdb", tmp_path / "music", metadata_csv=csv)
    with pytest.raises(ParameterError, match="missing.csv does not exist"):
        scan(tmp_path / "s.duckdb", tmp_path / "music", metadata_csv=tmp_path / "missing.csv")
    assert tracks(tmp_path / "s.duckdb").empty


def test_real_library_with_its_metadata_csv(tmp_path, shared_data):
    root = shared_data / "audio" / "realmusic"
    expected = pd.read_csv(root / "tracks.csv")

    summary = scan(tmp_path / "s.duckdb", root, metadata_csv=root / "tracks.csv")

    assert (summary.scanned, summary.added, summary.errors) == (75, 75, 0)
    rows = tracks(tmp_path / "s.duckdb")
    rows["relative"] = rows["path"].map(lambda p: Path(p).relative_to(root.resolve()).as_posix())
    merged = expected.merge(rows, left_on="path", right_on="relative", suffixes=("_csv", ""))
    assert len(merged) == 75
    assert (merged["artist"] == merged["artist_csv"]).all()
    assert (merged["album"] == merged["album_csv"]).all()
    assert (merged["title"] == merged["title_csv"]).all()
    assert set(merged["artist_source"]) == {"metadata_csv"}
    rescan = scan(tmp_path / "s.duckdb", root, metadata_csv=root / "tracks.csv")
    assert (rescan.unchanged, rescan.updated, rescan.added) == (75, 0, 0)
    assert merged["duration"].to_numpy() == pytest.approx(merged["duration_s"].to_numpy(), rel=0.01)
    assert rows["label"].isna().all()  # the CSV has no label column and the files no label tag


# -- incremental re-scans and moves ------------------------------------------------------


def test_rescan_skips_unchanged_files_without_opening_them(tmp_path, monkeypatch):
    music = tmp_path / "music"
    paths = [write_audio(music / f"Artist {i} - Track {i}.flac", seed=i) for i in range(4)]
    first = scan(tmp_path / "s.duckdb", music)
    ids_before = tracks(tmp_path / "s.duckdb").set_index("path")["id"]

    tag_file(paths[0], {"title": "Retagged"})
    os.utime(paths[0], (1_700_000_000, 1_700_000_000))
    new = write_audio(music / "Artist 9 - Track 9.flac", seed=9)
    opened: list[str] = []
    real_read = library.read_track_file
    monkeypatch.setattr(
        library_scan,
        "read_track_file",
        lambda path, **kw: opened.append(path) or real_read(path, **kw),
    )
    second = scan(tmp_path / "s.duckdb", music)

    assert (first.added, first.unchanged) == (4, 0)
    assert (second.scanned, second.added, second.updated, second.unchanged) == (5, 1, 1, 3)
    assert sorted(opened) == sorted([str(paths[0]), str(new)])
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    assert rows.loc[str(paths[0]), "title"] == "Retagged"
    assert rows["id"].drop(str(new)).equals(ids_before.loc[rows.index.drop(str(new))])
    assert rows.loc[str(new), "id"] == 5
    assert rows.loc[str(new), "added_run"] == second.run_id
    assert rows.loc[str(paths[1]), "added_run"] == first.run_id


def test_rereading_a_changed_file_keeps_curated_fields(tmp_path):
    music = tmp_path / "music"
    path = write_audio(music / "a.flac")
    tag_file(path, {"artist": "A", "label": "Tag Label"})
    scan(tmp_path / "s.duckdb", music)
    with Store(tmp_path / "s.duckdb") as store:
        store.update(
            "tracks",
            pd.DataFrame(
                {
                    "id": [1],
                    "label": ["Found Label"],
                    "label_source": ["musicbrainz"],
                    "label_confidence": [0.95],
                }
            ),
            key=["id"],
        )
    tag_file(path, {"artist": "B", "label": "New Tag Label"})

    summary = scan(tmp_path / "s.duckdb", music)

    row = tracks(tmp_path / "s.duckdb").iloc[0]
    assert summary.updated == 1
    assert (row["artist"], row["artist_source"]) == ("B", "tags")
    assert (row["label"], row["label_source"]) == ("Found Label", "musicbrainz")


def test_moved_file_keeps_its_id_and_deleted_file_keeps_its_row(tmp_path):
    music = tmp_path / "music"
    keep = write_audio(music / "old" / "Artist - Moved.ogg", seed=1)
    gone = write_audio(music / "old" / "Artist - Deleted.ogg", seed=2)
    stays = write_audio(music / "old" / "Artist - Stays.ogg", seed=3)
    scan(tmp_path / "s.duckdb", music)
    moved_id = tracks(tmp_path / "s.duckdb").set_index("path").loc[str(keep), "id"]

    target = music / "new" / "Renamed.ogg"
    target.parent.mkdir()
    keep.rename(target)
    gone.unlink()
    copy = shutil.copy2(stays, music / "new" / "Copy.ogg")  # same content, original still there
    summary = scan(tmp_path / "s.duckdb", music)

    assert (summary.moved, summary.added, summary.missing, summary.unchanged) == (1, 1, 1, 1)
    rows = tracks(tmp_path / "s.duckdb").set_index("path")
    assert rows.loc[str(target), "id"] == moved_id
    assert str(keep) not in rows.index
    assert str(gone) in rows.index  # kept, reported as missing
    assert rows.loc[str(copy), "id"] == 4
    assert len(rows) == 4


def test_scanning_a_subfolder_leaves_the_rest_of_the_library_alone(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "a" / "A - One.wav", seconds=0.2, seed=1)
    write_audio(music / "b" / "B - Two.wav", seconds=0.2, seed=2)
    scan(tmp_path / "s.duckdb", music)
    (music / "a" / "A - One.wav").unlink()

    part = scan(tmp_path / "s.duckdb", music / "b")

    assert (part.scanned, part.unchanged, part.missing) == (1, 1, 0)
    assert scan(tmp_path / "s.duckdb", music).missing == 1
    assert len(tracks(tmp_path / "s.duckdb")) == 2


def test_plan_scan_compares_size_and_mtime():
    files = pd.DataFrame({"path": ["/a", "/b", "/c"], "size": [1, 2, 3], "mtime": [1.0, 2.0, 3.0]})
    known = pd.DataFrame({"id": [4, 5], "path": ["/a", "/b"], "size": [1, 2], "mtime": [1.0, 2.5]})
    plan = plan_scan(files, known)
    assert plan["action"].tolist() == ["unchanged", "changed", "new"]
    assert plan["id"].tolist()[:2] == [4, 5] and pd.isna(plan["id"].iloc[2])


# -- broken files and bad input ----------------------------------------------------------


def test_broken_files_get_error_rows_and_the_rest_is_scanned(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "good.flac")
    write_audio(music / "good.mp3", seed=1)
    (music / "empty.mp3").write_bytes(b"")
    (music / "notes.mp3").write_text("this is a text file, not audio\n" * 20, encoding="utf-8")
    for suffix in (".flac", ".ogg", ".wav", ".mp3"):
        source = write_audio(tmp_path / f"full{suffix}", seconds=3.0, seed=4)
        data = source.read_bytes()
        (music / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    (music / "cover.jpg").write_bytes(b"\xff\xd8\xff")  # not a candidate: ignored
    os.symlink(music / "nowhere.flac", music / "dangling.flac")

    summary = scan(tmp_path / "s.duckdb", music)

    assert (summary.scanned, summary.added) == (8, 2)
    assert summary.errors == 7
    found = errors(tmp_path / "s.duckdb").set_index(
        errors(tmp_path / "s.duckdb")["path"].map(lambda p: Path(p).name)
    )["reason"]
    assert found.to_dict() == {
        "cut.flac": "truncated",
        "cut.mp3": "truncated",
        "cut.ogg": "truncated",
        "cut.wav": "truncated",
        "dangling.flac": "unreadable",
        "empty.mp3": "zero_byte",
        "notes.mp3": "not_audio",
    }
    assert sorted(Path(p).name for p in tracks(tmp_path / "s.duckdb")["path"]) == [
        "good.flac",
        "good.mp3",
    ]


def test_corrupted_files_give_a_reason_and_never_stop_the_reader(tmp_path):
    # Seeded random damage (overwritten bytes, cut ends) to real files of every format.
    rng = np.random.default_rng(11)
    originals = [
        write_audio(tmp_path / f"src{suffix}", seconds=1.0)
        for suffix in (".mp3", ".flac", ".ogg", ".opus", ".wav", ".aiff", ".m4a", ".wma")
    ]
    reasons = set()
    for case in range(1200):
        data = bytearray(originals[case % len(originals)].read_bytes())
        for _ in range(int(rng.integers(1, 9))):
            data[int(rng.integers(0, min(len(data), int(rng.choice([64, 512, 4096])))))] = int(
                rng.integers(0, 256)
            )
        if rng.random() < 0.3:
            data = data[: int(rng.integers(1, len(data)))]
        damaged = tmp_path / f"damaged{case}{originals[case % len(originals)].suffix}"
        damaged.write_bytes(bytes(data))
        reading = read_track_file(str(damaged))
        reasons.add(reading.reason)
        assert reading.ok or reading.message, damaged
    assert reasons <= {None, "truncated", "unreadable", "not_audio"}
    assert {"truncated", "unreadable"} <= reasons


def test_real_audio_is_not_mistaken_for_truncated(shared_data):
    files = [
        p
        for p in (shared_data / "audio").rglob("*")
        if p.suffix.lower() in library.AUDIO_EXTENSIONS and p.stat().st_size > 1000
    ]
    assert len(files) > 90
    problems = {str(p): read_track_file(str(p)).message for p in files}
    assert {p: m for p, m in problems.items() if m} == {}


def test_scan_errors_frame_shows_the_last_scan_unless_asked(tmp_path):
    music = tmp_path / "music"
    (music).mkdir()
    (music / "empty.flac").write_bytes(b"")
    scan(tmp_path / "s.duckdb", music)
    (music / "empty.flac").unlink()
    write_audio(music / "fine.flac")
    scan(tmp_path / "s.duckdb", music)
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert scan_errors_frame(store).empty
        every = scan_errors_frame(store, last_run_only=False)
    assert every.columns.tolist() == ["path", "reason", "message", "run_id", "recorded_at"]
    assert every["reason"].tolist() == ["zero_byte"]


def _unprivileged(command: list[str]) -> list[str]:
    """Run a command so that file permissions apply to it, also when tests run as root."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without util-linux setpriv: permissions cannot be enforced")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", *command]


def _scan_locked(music: Path, store: Path, locked: list[Path]) -> subprocess.CompletedProcess:
    """``musicwb scan --json`` by a process to which ``locked`` paths are unreadable."""
    for path in locked:
        path.chmod(0)
    try:
        return subprocess.run(
            _unprivileged([str(MUSICWB), "scan", str(music), "--json", "--store", str(store)]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        for path in locked:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_unreadable_file_and_folder_give_permission_errors(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "ok.flac")
    locked_file = write_audio(music / "locked.flac", seed=1)
    locked_folder = music / "private"
    inside = write_audio(locked_folder / "inside.flac", seed=2)
    store = tmp_path / "s.duckdb"

    done = _scan_locked(music, store, [locked_file, locked_folder])

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["scanned"], summary["added"], summary["errors"]) == (2, 1, 2)
    reasons = errors(store).set_index("path")["reason"].to_dict()
    assert reasons == {
        str(locked_file): "permission_denied",
        str(locked_folder): "permission_denied",
    }
    assert "see `musicwb scan-errors`" in done.stderr

    # Once readable, everything is scanned; locked again, the folder's tracks are not "missing".
    assert scan(store, music).added == 2
    again = json.loads(_scan_locked(music, store, [locked_folder]).stdout)
    assert (again["unchanged"], again["errors"], again["missing"]) == (2, 1, 0)
    assert str(inside) in set(tracks(store)["path"])


def test_missing_or_odd_roots_are_parameter_errors_naming_the_path(tmp_path):
    with pytest.raises(ParameterError, match=r"scan path .*nowhere does not exist"):
        scan(tmp_path / "s.duckdb", tmp_path / "nowhere")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ParameterError, match=r"pipe is neither a folder nor a regular file"):
        scan(tmp_path / "s.duckdb", fifo)
    text = tmp_path / "notes.txt"
    text.write_text("x", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"notes\.txt is a file without an audio extension"):
        scan(tmp_path / "s.duckdb", text)


def test_a_single_file_can_be_scanned(tmp_path):
    path = write_audio(tmp_path / "Solo - Track.wav")
    summary = scan(tmp_path / "s.duckdb", path)
    assert (summary.scanned, summary.added, summary.root) == (1, 1, str(path))


# -- interrupts and run records ----------------------------------------------------------


def test_interrupted_scan_keeps_finished_batches_and_resumes(tmp_path, monkeypatch):
    music = tmp_path / "music"
    for i in range(7):
        write_audio(music / f"A - T{i}.wav", seconds=0.2, seed=i)
    monkeypatch.setattr(library_scan, "BATCH_SIZE", 3)
    real_read = library.read_track_file
    calls = {"n": 0}

    def read_then_interrupt(path, **kw):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_read(path, **kw)

    monkeypatch.setattr(library_scan, "read_track_file", read_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        scan(tmp_path / "s.duckdb", music)
    assert len(tracks(tmp_path / "s.duckdb")) == 3  # the first batch; the second was in hand
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        run = last_run(store, kind="scan")
    assert run["status"] == "interrupted" and run["summary"]["added"] == 3

    monkeypatch.setattr(library_scan, "read_track_file", real_read)
    resumed = scan(tmp_path / "s.duckdb", music)
    assert (resumed.added, resumed.unchanged) == (4, 3)
    assert tracks(tmp_path / "s.duckdb")["id"].tolist() == list(range(1, 8))


def test_scan_is_recorded_as_a_run(tmp_path):
    write_audio(tmp_path / "music" / "a.wav")
    summary = scan(tmp_path / "s.duckdb", tmp_path / "music")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        run = last_run(store, kind="scan")
    assert run["run_id"] == summary.run_id
    assert run["status"] == "ok"
    assert run["summary"] == summary.as_dict()
    assert run["parameters"]["root"] == str((tmp_path / "music").resolve())


# -- the command line --------------------------------------------------------------------


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MUSICWB), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_cli_scan_and_tracks_json_with_store_option_and_environment(tmp_path):
    music = tmp_path / "music"
    tag_file(write_audio(music / "x.flac"), {"artist": "Surgeon", "title": "Klonk", "label": "DT"})
    write_audio(music / "Regis - Blood Witness.ogg", seed=1)
    store = tmp_path / "cli.duckdb"

    done = run_cli("scan", str(music), "--json", "--store", str(store))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {"scanned", "added", "updated", "unchanged", "errors", "moved", "run_id"} <= set(summary)
    assert (summary["scanned"], summary["added"]) == (2, 2)

    again = run_cli("scan", str(music), "--json", env={"MUSICWB_STORE": str(store)})
    assert json.loads(again.stdout)["unchanged"] == 2

    listed = run_cli("tracks", "--json", env={"MUSICWB_STORE": str(store)})
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["artist"], r["title"], r["label"]) for r in rows] == [
        ("Regis", "Blood Witness", None),
        ("Surgeon", "Klonk", "DT"),
    ]
    assert set(rows[0]) == {"id", "path", "artist", "title", "album", "label", "duration", "format"}

    human = run_cli("scan", str(music), "--store", str(store))
    assert human.returncode == 0 and "2 unchanged" in human.stdout

    (music / "empty.mp3").write_bytes(b"")
    assert run_cli("scan", str(music), "--store", str(store)).returncode == 0
    listed_errors = run_cli("scan-errors", "--json", "--store", str(store))
    assert [(e["path"], e["reason"]) for e in json.loads(listed_errors.stdout)] == [
        (str(music / "empty.mp3"), "zero_byte")
    ]


def test_cli_scan_of_a_missing_folder_exits_2_naming_it(tmp_path):
    done = run_cli("scan", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s.duckdb"))
    assert done.returncode == 2
    assert "nowhere does not exist" in done.stderr


def test_cli_scan_while_another_process_holds_the_store_is_refused(tmp_path):
    write_audio(tmp_path / "music" / "a.wav")
    store_path = tmp_path / "held.duckdb"
    with Store(store_path):
        done = run_cli("scan", str(tmp_path / "music"), "--store", str(store_path))
    assert done.returncode == 1
    assert "is locked" in done.stderr and str(os.getpid()) in done.stderr
    assert "Traceback" not in done.stderr


def test_tracks_frame_limit(tmp_path):
    for i in range(3):
        write_audio(tmp_path / "music" / f"A - {i}.wav", seconds=0.2, seed=i)
    scan(tmp_path / "s.duckdb", tmp_path / "music")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert tracks_frame(store, limit=2)["id"].tolist() == [1, 2]
        assert len(tracks_frame(store)) == 3
