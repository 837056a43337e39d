"""Playlist files: extended M3U in UTF-8 (``.m3u8``) and CSV.

:func:`m3u8_text` and :func:`csv_frame` are pure (a playlist's tracks in, text or a table out);
:func:`write_m3u8` and :func:`write_csv` write them atomically (a temporary file, then a rename).

An M3U8 file starts with ``#EXTM3U``; each track is an ``#EXTINF:<seconds>,<artist> - <title>``
line (``-1`` seconds when the duration is unknown) followed by its path. Paths are absolute, or
relative to ``relative_to`` (usually the playlist's own folder, so that the playlist and the music
can move together). File names keep every character (UTF-8, no escaping), as players expect;
a relative path that starts with ``#`` is written ``./#...`` so that it is not read as a comment.

Examples
--------
>>> import pandas as pd
>>> tracks = pd.DataFrame({"track_id": [1], "artist": ["Björk"], "title": ["Jóga"],
...                        "path": ["/music/Björk/Jóga.flac"], "duration": [305.4]})
>>> print(m3u8_text(tracks, relative_to="/music"), end="")
#EXTM3U
#EXTINF:305,Björk - Jóga
Björk/Jóga.flac
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePath

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.playlist.build import Playlist

__all__ = ["CSV_COLUMNS", "PlaylistTracks", "csv_frame", "m3u8_text", "write_csv", "write_m3u8"]

PlaylistTracks = pd.DataFrame | Playlist
"""A playlist, or its tracks table in order."""

Destination = str | os.PathLike
"""A file or folder path."""

CSV_COLUMNS = (
    "position",
    "track_id",
    "artist",
    "title",
    "path",
    "duration",
    "transition_in",
    "seed_similarity",
)
"""Columns of the CSV export, in order (those the playlist lacks are left out)."""


def _tracks_frame(playlist_tracks: PlaylistTracks) -> pd.DataFrame:
    """The tracks table of a Playlist, or the DataFrame itself; checked for a path column."""
    tracks = getattr(playlist_tracks, "tracks", playlist_tracks)
    if not isinstance(tracks, pd.DataFrame):
        raise ParameterError(
            f"expected a playlist or its tracks DataFrame, got {type(playlist_tracks).__name__}"
        )
    if "path" not in tracks.columns:
        raise ParameterError(
            f"the playlist's tracks have no 'path' column (columns: {list(tracks.columns)})"
        )
    return tracks.reset_index(drop=True)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _text(value: object) -> str:
    # A line break inside a tag would start a new M3U line: fold it into a space.
    return "" if _missing(value) else " ".join(str(value).split())


def _entry_paths(tracks: pd.DataFrame, *, relative_to: Destination | None) -> list[str]:
    """Each track's path as written: absolute, or relative to ``relative_to``."""
    no_path = [
        int(tracks.at[i, "track_id"]) if "track_id" in tracks.columns else i
        for i, value in enumerate(tracks["path"])
        if _missing(value) or not str(value).strip()
    ]
    if no_path:
        raise ParameterError(
            f"track(s) {no_path[:10]} have no file path: build the playlist with a store "
            "(its tracks table knows the paths)"
        )
    base = None if relative_to is None else os.path.abspath(os.fspath(relative_to))
    paths = []
    for value in tracks["path"]:
        path = os.path.abspath(os.fspath(value))
        if "\n" in path or "\r" in path:
            raise ParameterError(f"a path with a line break cannot go into a playlist: {path!r}")
        written = path if base is None else os.path.relpath(path, base)
        # A line starting with "#" is a comment to players: "#1 Hit.mp3" is "./#1 Hit.mp3".
        paths.append(os.path.join(os.curdir, written) if written.startswith("#") else written)
    return paths


def _duration_seconds(value: float | None) -> int:
    if _missing(value) or not math.isfinite(float(value)) or float(value) <= 0:
        return -1
    return round(float(value))


def _display_name(artist: object, title: object, path: str) -> str:
    artist, title = _text(artist), _text(title)
    if artist and title:
        return f"{artist} - {title}"
    return title or artist or PurePath(path).stem


def m3u8_text(playlist_tracks: PlaylistTracks, *, relative_to: Destination | None = None) -> str:
    """The extended M3U text of a playlist.

    Parameters
    ----------
    playlist_tracks : pandas.DataFrame, shape (n, k), or Playlist
        In playlist order, with ``path`` and, when known, ``artist``, ``title`` and
        ``duration`` (seconds).
    relative_to : str or PathLike, optional
        Write paths relative to this folder (``..`` where needed); default absolute.

    Returns
    -------
    str
        ``#EXTM3U``, then an ``#EXTINF`` line and a path line per track, ``\\n`` line ends.

    Raises
    ------
    ParameterError
        A track has no path, or a path holds a line break.

    Examples
    --------
    >>> tracks = pd.DataFrame({"artist": ["A"], "title": ["B"], "path": ["/m/a.mp3"]})
    >>> m3u8_text(tracks).splitlines()
    ['#EXTM3U', '#EXTINF:-1,A - B', '/m/a.mp3']
    """
    tracks = _tracks_frame(playlist_tracks)
    paths = _entry_paths(tracks, relative_to=relative_to)
    artists = tracks["artist"] if "artist" in tracks.columns else [None] * len(tracks)
    titles = tracks["title"] if "title" in tracks.columns else [None] * len(tracks)
    durations = tracks["duration"] if "duration" in tracks.columns else [None] * len(tracks)
    lines = ["#EXTM3U"]
    for path, artist, title, duration in zip(paths, artists, titles, durations, strict=True):
        lines.append(f"#EXTINF:{_duration_seconds(duration)},{_display_name(artist, title, path)}")
        lines.append(path)
    return "\n".join(lines) + "\n"


def csv_frame(
    playlist_tracks: PlaylistTracks, *, relative_to: Destination | None = None
) -> pd.DataFrame:
    """The playlist as the CSV export's table.

    Parameters
    ----------
    playlist_tracks : pandas.DataFrame, shape (n, k), or Playlist
    relative_to : str or PathLike, optional
        As in :func:`m3u8_text`.

    Returns
    -------
    pandas.DataFrame, shape (n, <= 8)
        :data:`CSV_COLUMNS` that the playlist has, ``position`` counted from 1.

    Examples
    --------
    >>> tracks = pd.DataFrame({"track_id": [4, 2], "path": ["/m/a.mp3", "/m/b.mp3"]})
    >>> csv_frame(tracks, relative_to="/m").to_dict("list")
    {'position': [1, 2], 'track_id': [4, 2], 'path': ['a.mp3', 'b.mp3']}
    """
    tracks = _tracks_frame(playlist_tracks).copy()
    tracks["path"] = _entry_paths(tracks, relative_to=relative_to)
    tracks.insert(0, "position", range(1, len(tracks) + 1))
    return tracks[[c for c in CSV_COLUMNS if c in tracks.columns]]


def _write_atomically(text: str, out: Destination) -> Path:
    out = Path(out)
    if out.is_dir():
        raise ParameterError(f"{out} is a folder; give a file name for the playlist")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    partial.replace(out)
    return out


def write_m3u8(
    playlist_tracks: PlaylistTracks, out: Destination, *, relative_to: Destination | None = None
) -> Path:
    """Write a playlist as an ``.m3u8`` file (UTF-8, no byte-order mark).

    Parameters
    ----------
    playlist_tracks : pandas.DataFrame, shape (n, k), or Playlist
        See :func:`m3u8_text`.
    out : str or PathLike
        The file; its folder is created.
    relative_to : str or PathLike, optional
        Paths relative to this folder (pass ``out``'s folder for a portable playlist);
        default absolute.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> tracks = pd.DataFrame({"path": [str(folder / "ä.mp3")], "title": ["ä"]})
    >>> path = write_m3u8(tracks, folder / "list.m3u8", relative_to=folder)
    >>> path.read_text(encoding="utf-8").splitlines()[-1]
    'ä.mp3'
    """
    return _write_atomically(m3u8_text(playlist_tracks, relative_to=relative_to), out)


def write_csv(
    playlist_tracks: PlaylistTracks, out: Destination, *, relative_to: Destination | None = None
) -> Path:
    """Write a playlist as CSV (UTF-8, a header row, one row per track in order).

    Parameters
    ----------
    playlist_tracks, out, relative_to
        As in :func:`write_m3u8`.

    Returns
    -------
    Path
        ``out``.
    """
    frame = csv_frame(playlist_tracks, relative_to=relative_to)
    return _write_atomically(frame.to_csv(index=False, lineterminator="\n"), out)
