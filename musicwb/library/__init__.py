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

The tunables :data:`BATCH_SIZE` and :data:`READ_THREADS` are read from
:mod:`musicwb.library.scan` (set them there, not on this package).

Examples
--------
>>> from pathlib import Path
>>> from musicwb.library import scan_library
>>> from musicwb.store import Store
>>> with Store("library.duckdb") as store:  # doctest: +SKIP
...     print(scan_library(store, Path("~/Music").expanduser(), progress=False).describe())
Scanned 12034 files under /home/me/Music in 41.2 s: 12030 added, 0 updated, ...
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
