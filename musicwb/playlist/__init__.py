"""Playlists: genre normalisation and similarity, candidate pools, ordering and export.

- :mod:`musicwb.playlist.genres`: messy genre tags to canonical genres (our own vocabulary in
  ``musicwb/playlist/vocab/``) and the genre similarity 0.6·cosine + 0.4·Jaccard.

Everything here is pure: values and arrays in, values and arrays out.
"""
