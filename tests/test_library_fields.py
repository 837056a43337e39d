"""Where fields come from when tags are missing: the file name."""

from __future__ import annotations

from pathlib import Path

from library_files import scan, tag_file, tracks, write_audio

from musicwb.library import guess_from_filename

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
