"""Playlists: candidate pools, ordering and export (genres come from :mod:`musicwb.genres`).

The pure core (values and arrays in, values and arrays out):

- :mod:`musicwb.playlist.params`: :class:`PlaylistParams`, every parameter with the original
  system's defaults, and the modes ``dynamic``, ``narrow`` and ``discover``;
- :mod:`musicwb.playlist.pool`: :func:`build_pool`, the candidates by hybrid sonic+genre
  similarity, vectorised over the whole artifact;
- :mod:`musicwb.playlist.order`: :func:`order_playlist`, the ordering under artist and
  transition rules with reported relaxations;
- :mod:`musicwb.playlist.build` and :mod:`musicwb.playlist.sweeps`: :func:`playlist_context`
  (the artifact and the store, read once), :func:`make_playlist` from a seed track, and
  :func:`sweep` over one parameter's values.

At the edges (files and the store):

- :mod:`musicwb.playlist.export`: :func:`write_m3u8` and :func:`write_csv`;
- :mod:`musicwb.playlist.history`: the ``play_history`` table (:func:`record_plays`,
  :func:`recently_played`) behind the recently-played filter;
- :mod:`musicwb.notebook.playlist_tuning`: ready tables, charts and the live sliders panel of the
  ``playlist_tuning`` notebook.

Importing this package does no work: the names below load their module on first use.

Examples
--------
>>> from musicwb.playlist import PlaylistParams
>>> PlaylistParams.for_mode("discover").similarity_floor < PlaylistParams().similarity_floor
True
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
