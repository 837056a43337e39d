"""The demo library: synthetic music with messy tags, DJ-set tracklists, and the truth for both.

``build_demo`` writes, under ``out_dir``:

- ``library/<Artist>/<Album>/...``: 150 tracks of deterministic synthetic music, 20-34 s each:
  three sound families (techno, deep house, drum & bass) of twelve artists, each artist its own
  twist of the family's style on two albums of two tracks (three for one artist per family),
  so that a seed's playlist of 30 fills from a dozen related artists; spread over OGG, MP3
  (constant bitrate, which libmpg123 decodes without complaint), FLAC and WAV, tagged with mutagen the way real
  libraries are: labels in the label tag, or only in the title (``Title [Label]``,
  ``Title [Label - CAT 001]``), or nowhere; ``feat.`` artists, remixes, karaoke versions, genres
  in messy forms (``Techno; Minimal``, ``deep house``), BPM and key on some, and a few files
  with no tags at all (artist and title only in ``Artist - Title.ext``);
- ``truth.csv``: the clean truth per file (``path`` relative to ``out_dir``, artist, featuring,
  album, title, version, label, catalog, genre, bpm, key, format, duration_s, tag_case);
- ``tracklists/<DJ>_tracklists.csv``: 99 sets of 12 DJs in the MixesDB CSV format, built
  from the DJs' label taste, promo blocks and runs of label tracks mixed in the same order set
  after set (the context that identifies an unknown entry), about 15% of the entries unknown (``ID - ID``, ``?``, ``Artist - ID``, ``Artist - ? [Unreleased]``, ...);
  ``tracklist_truth.csv`` says what each unknown entry really was;
- ``demo.json``: seed, generator version and file list, so a second build reuses the audio.

It then scans the library into the store with :func:`musicwb.library.scan_library` and writes
the sets into ``tracklist_sets``, ``tracklist_entries`` and ``tracklist_truth``.

The same seed gives byte-identical audio and identical tags (on one machine and library
versions: floating point and encoders may differ elsewhere).

The parts, from pure to I/O: :mod:`~musicwb.demo.catalogue` (labels, artists, DJs),
:mod:`~musicwb.demo.styles` (how each artist sounds), :mod:`~musicwb.demo.audio` (synthesis),
:mod:`~musicwb.demo.plan` (the files, their truth and messy tags),
:mod:`~musicwb.demo.tracklists` (DJ sets), :mod:`~musicwb.demo.files` (encoding and tagging
one file) and :mod:`~musicwb.demo.build` (the folder, its marker, the store).

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:  # doctest: +SKIP
...     print(build_demo(store=store, out_dir=Path("data/demo")).describe())
Demo library (seed 7) built in data/demo in 40.0 s: 150 tracks by 36 artists on 72 albums; ...
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
