"""Tags of every format (real files written by common taggers), WAV/AIFF text chunks, and
:func:`musicwb.library.tags_to_fields`."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
from library_files import TAGS, scan, tag_file, tracks, write_audio

from musicwb.library import tags_to_fields

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
