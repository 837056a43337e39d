"""Playlists: genre normalisation and similarity, candidate pools, ordering and export.

The pure core (values and arrays in, values and arrays out):

- :mod:`musicwb.genres`: messy genre tags to canonical genres (our own vocabulary in
  ``musicwb/genres/vocab/``) and the genre similarity 0.6·cosine + 0.4·Jaccard;
- :mod:`musicwb.playlist.params`: :class:`PlaylistParams`, every parameter with the original
  system's defaults, and the modes ``dynamic``, ``narrow`` and ``discover``;
- :mod:`musicwb.playlist.pool`: :func:`build_pool`, the candidates by hybrid sonic+genre
  similarity, vectorised over the whole artifact;
- :mod:`musicwb.playlist.order`: :func:`order_playlist`, the ordering under artist and
  transition rules with reported relaxations;
- :mod:`musicwb.playlist.build` and :mod:`musicwb.playlist.sweep`: :func:`make_playlist` from a
  seed track, and :func:`sweep` over one parameter's values.

At the edges (files and the store):

- :mod:`musicwb.playlist.export`: :func:`write_m3u8` and :func:`write_csv`;
- :mod:`musicwb.playlist.history`: the ``play_history`` table (:func:`record_plays`,
  :func:`recently_played`) behind the recently-played filter;
- :mod:`musicwb.genres.migrate`: :func:`migrate_genres`, normalising the genres already in a
  store (``musicwb genres migrate``);
- :mod:`musicwb.playlist.notebook`: ready tables, charts and the live sliders panel of the
  ``playlist_tuning`` notebook.

Importing this package does no work: the names below load their module on first use.

Examples
--------
>>> from musicwb.playlist import PlaylistParams
>>> PlaylistParams.for_mode("discover").similarity_floor < PlaylistParams().similarity_floor
True
"""

from __future__ import annotations

import importlib

_LAZY = {
    "PlaylistParams": "musicwb.playlist.params",
    "build_pool": "musicwb.playlist.pool",
    "order_playlist": "musicwb.playlist.order",
    "Playlist": "musicwb.playlist.build",
    "make_playlist": "musicwb.playlist.build",
    "playlist_context": "musicwb.playlist.build",
    "sweep": "musicwb.playlist.sweep",
    "write_m3u8": "musicwb.playlist.export",
    "write_csv": "musicwb.playlist.export",
    "record_plays": "musicwb.playlist.history",
    "recently_played": "musicwb.playlist.history",
    "migrate_genres": "musicwb.genres.migrate",
}

__all__ = [
    "Playlist",
    "PlaylistParams",
    "build_pool",
    "make_playlist",
    "migrate_genres",
    "order_playlist",
    "playlist_context",
    "recently_played",
    "record_plays",
    "sweep",
    "write_csv",
    "write_m3u8",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'musicwb.playlist' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
