"""Scanning music folders into the store: files, tags, a metadata CSV, and incremental re-scans.

The public API of the scan, one responsibility per module:

- :mod:`~musicwb.library.walk`: listing the audio files under a folder, :func:`plan_scan`;
- :mod:`~musicwb.library.integrity`: magic bytes and format-specific truncation checks;
- :mod:`~musicwb.library.tags`: mutagen tags and WAV/AIFF text chunks to fields;
- :mod:`~musicwb.library.reading`: reading one file (hash, technical data, tags);
- :mod:`~musicwb.library.fields`: where each field comes from (tags, file name, CSV);
- :mod:`~musicwb.library.metadata_csv`: the metadata CSV;
- :mod:`~musicwb.library.write`: batched writes into ``tracks`` and ``scan_errors``;
- :mod:`~musicwb.library.scan`: :func:`scan_library` and :class:`ScanSummary`;
- :mod:`~musicwb.library.listing`: :func:`tracks_frame`, :func:`track_counts`,
  :func:`scan_errors_frame`.

Writing the store's labels and catalogue numbers back into the files' tags:

- :mod:`~musicwb.library.tag_writing`: what would change (pure);
- :mod:`~musicwb.library.tag_blocks`: a file's tag blocks and audio spans;
- :mod:`~musicwb.library.tag_files`: reading and writing one file's tags with mutagen;
- :mod:`~musicwb.library.tag_runs`: :func:`write_tags`, :func:`undo_tags` and
  :class:`TagRunReport`.

The tunables :data:`BATCH_SIZE` and :data:`READ_THREADS` are read from
:mod:`musicwb.library.scan` (set them there, not on this package).

Examples
--------
A folder with one WAV file (one second of silence), scanned into a new store:

>>> import wave
>>> from pathlib import Path
>>> from tempfile import mkdtemp
>>> from musicwb.library import scan_library, track_counts
>>> from musicwb.store import Store
>>> music = Path(mkdtemp())
>>> with wave.open(str(music / "Tessa Vire - Glass.wav"), "wb") as wav:
...     wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
...     wav.writeframes(bytes(16000))
>>> with Store(music / "library.duckdb") as store:
...     print(scan_library(store, music, progress=False).added, track_counts(store))
1 {'tracks': 1, 'missing': 0}
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
