"""Sonic analysis: reading audio, the beat3tower features, their extraction and the artifact.

- :mod:`musicwb.sonic.io` is the only module that reads audio samples (soundfile, or ffmpeg
  for formats libsndfile does not know).
- :mod:`musicwb.sonic.towers` turns a mono signal into 137 beat-synchronous features (rhythm 21,
  timbre 83, harmony 33) for the full track and its start, middle and end; pure, no I/O.
- :mod:`musicwb.sonic.frames` computes every frame-level representation once;
  :mod:`musicwb.sonic.tempo` estimates the tempo and tracks the beats.
- :mod:`musicwb.sonic.extract` analyses a library in batches (:mod:`musicwb.sonic.analysis`
  per file, in the runners of :mod:`musicwb.sonic.executors`); :mod:`musicwb.sonic.backups`
  snapshots and restores the features.
- :mod:`musicwb.sonic.feature_set` reads the analysed tracks; :mod:`musicwb.sonic.artifact`
  builds the playlists' artifact from them (written and loaded by
  :mod:`musicwb.sonic.artifact_file`, checked against the store by
  :mod:`musicwb.sonic.artifact_check`); :mod:`musicwb.sonic.validation` measures the
  preprocessing variants.

Importing this package does no work and does not import librosa.

Examples
--------
>>> from musicwb.sonic import SEGMENTS, VARIANTS
>>> SEGMENTS, VARIANTS
(('full', 'start', 'mid', 'end'), ('raw', 'zscore', 'robust_whiten', 'learned'))
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
