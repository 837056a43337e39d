"""Sonic analysis: reading audio and the beat3tower features.

- :mod:`musicwb.sonic.io` is the only module that reads audio samples (soundfile, or ffmpeg
  for formats libsndfile does not know).
- :mod:`musicwb.sonic.towers` turns a mono signal into 137 beat-synchronous features (rhythm 21,
  timbre 83, harmony 33) for the full track and its start, middle and end; pure, no I/O.
- :mod:`musicwb.sonic.frames` computes every frame-level representation once;
  :mod:`musicwb.sonic.tempo` estimates the tempo and tracks the beats.

Importing this package does no work and does not import librosa.
"""
