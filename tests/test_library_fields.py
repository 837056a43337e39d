"""Where fields come from when tags are missing: the file name."""

from __future__ import annotations

from library_files import by_file_name, scan, tag_file, tracks, write_audio

from musicwb.library import guess_from_filename

# -- file names --------------------------------------------------------------------------


def test_untagged_files_fall_back_to_the_file_name(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "01 - Trevino - Sombre Tones.wav")
    write_audio(music / "field_recording.wav", seed=1)
    tagged = write_audio(music / "Wrong Artist - Wrong Title.flac", seed=2)
    tag_file(tagged, {"title": "Right Title"})

    scan(tmp_path / "s.duckdb", music)

    rows = by_file_name(tracks(tmp_path / "s.duckdb"))
    pair = rows.loc["01 - Trevino - Sombre Tones.wav"]
    assert (pair["artist"], pair["title"]) == ("Trevino", "Sombre Tones")
    assert pair["artist_source"] == pair["title_source"] == "filename"
    # The title parser's confidence for "Artist - Title": its "standard" band, 0.60-0.69.
    assert pair["artist_confidence"] == pair["title_confidence"]
    assert 0.60 <= pair["artist_confidence"] <= 0.69
    alone = rows.loc["field_recording.wav"]
    assert alone["title"] == "field recording" and alone["title_confidence"] < 0.5
    assert alone["artist"] is None
    mixed = rows.loc["Wrong Artist - Wrong Title.flac"]
    assert (mixed["title"], mixed["title_source"]) == ("Right Title", "tags")
    assert (mixed["artist"], mixed["artist_source"]) == ("Wrong Artist", "filename")


def test_guess_from_filename_keeps_numbers_that_belong_to_the_name():
    assert guess_from_filename("808 State - Pacific State")["artist"][0] == "808 State"
    assert guess_from_filename("") == {}


def test_guess_from_filename_reads_what_the_title_parser_reads():
    assert guess_from_filename("ID - ID") == {}  # an unidentified promo, not an artist "ID"
    assert guess_from_filename("Stef Mendesidis - ID") == {"artist": ("Stef Mendesidis", 0.25)}
    youtube = guess_from_filename("Trevino - Sombre Tones [dQw4w9WgXcQ]")
    assert (youtube["artist"][0], youtube["title"][0]) == ("Trevino", "Sombre Tones")
    spaced = guess_from_filename("Ben_Klock_-_Subzero")
    assert (spaced["artist"][0], spaced["title"][0]) == ("Ben Klock", "Subzero")


def test_label_and_catalogue_in_the_file_name_reach_the_store(tmp_path):
    music = tmp_path / "music"
    write_audio(music / "Trevino - Sombre Tones (Original Mix) [Klockworks - KW 20].wav")
    write_audio(music / "ID - ID.wav", seed=1)
    tagged = write_audio(music / "Other - Track [Name Label].flac", seed=2)
    tag_file(tagged, {"label": "Tag Label"})

    scan(tmp_path / "s.duckdb", music)

    rows = by_file_name(tracks(tmp_path / "s.duckdb"))
    named = rows.loc["Trevino - Sombre Tones (Original Mix) [Klockworks - KW 20].wav"]
    assert (named["artist"], named["title"]) == ("Trevino", "Sombre Tones (Original Mix)")
    assert (named["label"], named["catalog_number"]) == ("Klockworks", "KW 20")
    assert named["label_source"] == named["catalog_number_source"] == "filename"
    assert named["label_confidence"] == named["artist_confidence"] >= 0.60
    promo = rows.loc["ID - ID.wav"]
    assert promo["artist"] is None and promo["title"] is None
    kept = rows.loc["Other - Track [Name Label].flac"]
    assert (kept["label"], kept["label_source"]) == ("Tag Label", "tags")
    assert (kept["artist"], kept["title"]) == ("Other", "Track")
