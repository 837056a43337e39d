"""A playlist from a seed track: artifact (+ store) in, ordered tracks with diagnostics out.

:func:`make_playlist` loads the artifact (or takes a loaded one), builds the pool
(:func:`musicwb.playlist.pool.build_pool`) and orders it
(:func:`musicwb.playlist.order.order_playlist`). With a store it also

- leaves out the tracks played within ``params.recent_days`` (the ``play_history`` table; a
  store without it has played nothing),
- reads artist, title and path of the tracks (titles also catch same-artist-same-title
  duplicates), and
- reads the tagged keys for the Camelot rule (tracks without a key tag get the key estimated
  from their chroma), and the tempo from its sonic features when the artifact has none;
- refuses an artifact of another store, or one whose tracks' features changed since it was
  built (:func:`musicwb.sonic.artifact.check_artifact`), saying how to rebuild it; tracks
  analysed since are counted in ``diagnostics["left_out"]["not_in_artifact"]``;
- leaves out the tracks whose file a scan found missing, and checks that the file of every
  track returned is still there (a track that vanished since the scan is replaced, and
  reported in ``diagnostics["left_out"]``).

Tracks flagged as silence, near-silence or a steady tone are left out unless
``include_flagged``; a seed that is flagged, missing or without features is a clear error.

The store is only read. Everything a sweep repeats (loading, store reads) is done once per
:class:`PlaylistContext` (:func:`playlist_context`); :func:`make_playlist` takes only the
context, the seed, the length and the parameters.

Examples
--------
Six tracks of three artists, without a store (the artist keys stand in for the labels):

>>> angles = np.linspace(0.0, 1.0, 6)
>>> artifact = {"track_ids": np.arange(1, 7), "artist_keys": np.array(list("abcabc")),
...             "embedded_full": np.c_[np.cos(angles), np.sin(angles)].astype(np.float32)}
>>> context = playlist_context(artifact)
>>> params = PlaylistParams.for_mode("dynamic").replace(min_gap=1, max_artist_fraction=0.5)
>>> playlist = make_playlist(context, seed_track_id=1, length=3, params=params)
>>> playlist.tracks[["track_id", "artist"]].to_dict("list")
{'track_id': [1, 3, 5], 'artist': ['a', 'c', 'b']}
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.playlist.history import recently_played
from musicwb.playlist.order import Ordering, order_playlist
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import Library, Pool, build_pool, library_of
from musicwb.sonic.artifact import check_artifact, load_artifact
from musicwb.store.database import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables.playlist import stored_tempo, track_labels, track_standing
from musicwb.text.camelot import camelot_code, estimate_camelot

__all__ = ["ArtifactSource", "Playlist", "PlaylistContext", "make_playlist", "playlist_context"]

ArtifactSource = Mapping[str, np.ndarray] | str | Path
"""A loaded artifact (:class:`musicwb.sonic.artifact.Artifact` or bare arrays) or its file."""

TRACK_COLUMNS = ("track_id", "artist", "title", "path", "transition_in", "seed_similarity")
MAX_REFILLS = 5
"""Times a playlist is rebuilt without tracks whose files vanished since the scan."""


@dataclass(frozen=True, eq=False)
class Playlist:
    """An ordered playlist.

    Attributes
    ----------
    tracks : pandas.DataFrame
        In playlist order, columns ``track_id``, ``artist``, ``title``, ``path``,
        ``transition_in`` (NaN for the first track), ``seed_similarity``.
    diagnostics : dict
        See :class:`musicwb.playlist.order.Ordering`; also ``seed_track_id``, ``mode`` and
        ``pool`` (the pool's step counts, :attr:`musicwb.playlist.pool.Pool.stats`).
    params : PlaylistParams
    pool : Pool
    ordering : Ordering
    """

    tracks: pd.DataFrame
    diagnostics: dict[str, Any]
    params: PlaylistParams
    pool: Pool
    ordering: Ordering

    def __len__(self) -> int:
        return len(self.tracks)

    def as_dict(self) -> dict[str, Any]:
        """``{"tracks": [{track_id, artist, title, path, transition_in}, ...], "diagnostics": {...}}``.

        JSON-safe: NaN and missing values are None, numbers are plain Python numbers.
        """
        tracks = [
            {
                "track_id": int(row.track_id),
                "artist": _plain(row.artist),
                "title": _plain(row.title),
                "path": _plain(row.path),
                "transition_in": _plain(row.transition_in),
            }
            for row in self.tracks.itertuples(index=False)
        ]
        return {"tracks": tracks, "diagnostics": _json_safe(self.diagnostics)}


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _json_safe(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return _plain(value)


@dataclass(eq=False)
class PlaylistContext:
    """Everything about one artifact (and store) that does not depend on the seed.

    Build it with :func:`playlist_context`; :func:`make_playlist` and
    :func:`musicwb.playlist.sweeps.sweep` accept it in place of an artifact.

    Attributes
    ----------
    artifact : Mapping of str to ndarray
    library : Library
    labels : pandas.DataFrame
        One row per artifact row: ``track_id``, ``artist``, ``title``, ``path``.
    keys : ndarray, shape (n,), int64 or None
        Camelot codes from the store's key tags (−1 untagged), None without a store.
    played : dict of (int, datetime or None) to ndarray
        Recently played artifact rows per lookback in days and "now" (filled on demand, so a
        context built once goes on excluding what was played when it was first asked).
    missing : ndarray, shape (n,), bool
        Rows whose file a scan found missing (``tracks.missing_since``; none without a store).
    flags : ndarray, shape (n,), object
        The content flag of rows left out as not music (``silence``, ``near_silence``,
        ``steady_tone``), None for the others (all None with ``include_flagged``).
    include_flagged : bool
    not_in_artifact : int
        Analysed tracks of the store the artifact lacks (analysed since it was built).
    """

    artifact: Mapping[str, np.ndarray]
    library: Library
    labels: pd.DataFrame
    keys: np.ndarray | None
    store: Store | None = None
    played: dict[tuple[int, datetime | None], np.ndarray] = field(default_factory=dict)
    missing: np.ndarray | None = None
    flags: np.ndarray | None = None
    include_flagged: bool = False
    not_in_artifact: int = 0

    def __post_init__(self) -> None:
        n = self.library.n
        if self.missing is None:
            self.missing = np.zeros(n, dtype=bool)
        if self.flags is None:
            self.flags = _flags_of(self.artifact, n, include_flagged=self.include_flagged)

    def unplayable_rows(self) -> np.ndarray:
        """Rows left out of every playlist: files missing, or flagged as not music."""
        return np.flatnonzero(self.missing | pd.notna(self.flags))

    def left_out_counts(self) -> dict[str, Any]:
        """``{"missing": n, "flagged": {flag: n}}`` of the rows left out (missing first)."""
        flagged = pd.Series(self.flags[~self.missing]).dropna().value_counts()
        return {
            "missing": int(self.missing.sum()),
            "flagged": {str(flag): int(n) for flag, n in sorted(flagged.items())},
        }

    @property
    def has_titles(self) -> bool:
        return bool(self.labels["title"].notna().any())

    def recently_played_rows(self, days: int, *, now: datetime | None = None) -> np.ndarray:
        """Artifact rows of the tracks played within ``days`` days (empty without history)."""
        if days <= 0 or self.store is None:
            return np.zeros(0, dtype=np.int64)
        if (days, now) not in self.played:
            ids = recently_played(self.store, days=days, now=now)
            mask = np.isin(self.library.track_ids, np.fromiter(ids, dtype=np.int64, count=len(ids)))
            self.played[days, now] = np.flatnonzero(mask)
        return self.played[days, now]

    def tempo(self) -> np.ndarray | None:
        """Tempo per row: the artifact's (rhythm features), else the store's sonic features.

        None when neither has it (the BPM rule then says so).
        """
        if self.library.bpm is not None or self.store is None:
            return self.library.bpm
        stored = stored_tempo(self.store)
        if stored is None:
            return None
        where = pd.Index(stored["track_id"]).get_indexer(self.library.track_ids)
        tempo = np.zeros(self.library.n, dtype=np.float64)  # 0: unknown
        tempo[where >= 0] = stored["bpm"].to_numpy(dtype=np.float64)[where[where >= 0]]
        return tempo

    def camelot_keys(self) -> np.ndarray:
        """Camelot codes per row: the tagged key where there is one, else the chroma estimate."""
        estimated = None
        if "raw_full_harmony" in self.artifact:
            estimated = estimate_camelot(np.asarray(self.artifact["raw_full_harmony"][:, :12]))
        if self.keys is None:
            if estimated is None:
                raise ParameterError(
                    "camelot needs keys: no store with key tags and no chroma in the artifact"
                )
            return estimated
        if estimated is None:
            return self.keys
        return np.where(self.keys >= 0, self.keys, estimated)


def _flags_of(artifact: Mapping[str, np.ndarray], n: int, *, include_flagged: bool) -> np.ndarray:
    flags = np.full(n, None, dtype=object)
    if include_flagged or "content_flags" not in artifact:
        return flags
    stored = np.asarray(artifact["content_flags"]).astype(object)
    flagged = stored != ""
    flags[flagged] = stored[flagged]
    return flags


def _load(artifact: ArtifactSource) -> Mapping[str, np.ndarray]:
    if isinstance(artifact, (str, Path)):
        return load_artifact(artifact)
    if not isinstance(artifact, Mapping):
        raise ParameterError(
            f"artifact must be a loaded artifact or a path, got {type(artifact).__name__}"
        )
    return artifact


def _store_artifact(store: Store) -> Path:
    """The store's own artifact file, which must exist."""
    paths = StorePaths.of(store.path)
    if not paths.artifact.is_file():
        raise ParameterError(
            f"no artifact at {paths.artifact}: build it with `musicwb artifact build --store "
            f"{paths.store}` (after `musicwb extract`)"
        )
    return paths.artifact


def playlist_context(
    artifact: ArtifactSource | None = None,
    *,
    store: Store | None = None,
    include_flagged: bool = False,
) -> PlaylistContext:
    """Load the artifact and read the store's labels once, for every playlist made from them.

    Parameters
    ----------
    artifact : Artifact, Mapping of str to ndarray, str or Path, optional
        A loaded artifact or a path to one. Default: the store's own artifact,
        ``<stem>.artifact.npz`` beside it (:attr:`musicwb.store.paths.StorePaths.artifact`).
    store : Store, optional
        Read for artist/title/path, missing files, key tags and the play history. An artifact
        with ``meta`` (every artifact :mod:`musicwb.sonic.artifact` makes) must have been built
        from this store's current features; bare arrays without ``meta`` are taken as they are.
    include_flagged : bool, default False
        Keep tracks flagged as silence, near-silence or a steady tone (the artifact must have
        been built with them: ``musicwb artifact build --include-flagged``).

    Returns
    -------
    PlaylistContext

    Raises
    ------
    ParameterError
        Neither an artifact nor a store, or no artifact beside the store (the message says how
        to build it).
    ArtifactMismatchError
        The artifact belongs to another store, or the store's features changed since it was
        built (the message says how to rebuild it).
    """
    if artifact is None:
        if store is None:
            raise ParameterError("give the artifact, or the store whose artifact to use")
        artifact = _store_artifact(store)
    arrays = _load(artifact)
    lacking = 0
    if store is not None and "meta" in arrays:
        lacking = check_artifact(arrays, store, include_flagged=include_flagged).not_in_artifact
    library = library_of(arrays)
    artists = np.asarray(arrays["artist_keys"], dtype=object)
    titles = paths = np.full(library.n, None, dtype=object)
    keys = None
    missing = np.zeros(library.n, dtype=bool)
    if store is not None:
        # The primary key makes ids unique; rows of the artifact's tracks, in artifact order.
        tagged = track_labels(store)
        where = pd.Index(tagged["track_id"]).get_indexer(library.track_ids)
        found = where >= 0

        def column(name: str, default: np.ndarray) -> np.ndarray:
            values = default.copy()
            taken = tagged[name].to_numpy(dtype=object)[where[found]]
            present = pd.notna(taken)
            values[np.flatnonzero(found)[present]] = taken[present]
            return values

        artists = column("artist", artists)
        titles = column("title", titles)
        paths = column("path", paths)
        codes = tagged["key"].map({k: camelot_code(k) for k in tagged["key"].dropna().unique()})
        keys = np.full(library.n, -1, dtype=np.int64)
        keys[found] = codes.fillna(-1).to_numpy(dtype=np.int64)[where[found]]
        missing[found] = tagged["missing_since"].notna().to_numpy()[where[found]]
    labels = pd.DataFrame(
        {"track_id": library.track_ids, "artist": artists, "title": titles, "path": paths}
    )
    return PlaylistContext(
        artifact=arrays,
        library=library,
        labels=labels,
        keys=keys,
        store=store,
        missing=missing,
        include_flagged=include_flagged,
        not_in_artifact=lacking,
    )


def _seed_refused(context: PlaylistContext, seed_track_id: int) -> ParameterError | None:
    """Why the seed cannot start a playlist (missing file, flagged, not in the artifact)."""
    try:
        seed_index = context.library.row_of(int(seed_track_id))
    except ParameterError as exc:
        return _why_not_in_artifact(context.store, int(seed_track_id)) or exc
    path = context.labels["path"].iat[seed_index]
    if context.missing[seed_index] or (isinstance(path, str) and not os.path.exists(path)):
        return _missing_file(seed_track_id, path=path)
    flag = context.flags[seed_index]
    if flag is not None:
        return _flagged(seed_track_id, flag=flag)
    return None


def _why_not_in_artifact(store: Store | None, track_id: int) -> ParameterError | None:
    """The store's reason why a track is not in the artifact, or None when it has none."""
    if store is None:
        return None
    standing = track_standing(store, track_id=track_id)
    if standing is None:
        return ParameterError(
            f"seed track {track_id} is not in the store {store.path} (see `musicwb tracks`)"
        )
    if standing.missing_since is not None:
        return _missing_file(track_id, path=standing.path, since=standing.missing_since)
    if not standing.analysed:
        return ParameterError(
            f"seed track {track_id} has no sonic features: run `musicwb extract`, then "
            "`musicwb artifact build`"
        )
    if standing.content_flag is not None:
        return _flagged(track_id, flag=standing.content_flag, reason=standing.content_reason)
    return None


def _missing_file(
    track_id: int, *, path: str | None, since: datetime | None = None
) -> ParameterError:
    when = f" since {since:%Y-%m-%d %H:%M}" if since is not None else ""
    return ParameterError(
        f"the file of seed track {track_id} is missing{when} ({path}): playlists leave out "
        "tracks whose files are gone; put the file back and run `musicwb scan`, or choose "
        "another seed"
    )


def _flagged(track_id: int, *, flag: str, reason: str | None = None) -> ParameterError:
    return ParameterError(
        f"seed track {track_id} is flagged {flag} ({reason or 'not music'}): playlists leave "
        "out such tracks; choose another seed, or pass --include-flagged (include_flagged=True) "
        "with an artifact built by `musicwb artifact build --include-flagged`"
    )


def _artifact_left_out(artifact: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """What the artifact itself left out when it was built (``meta["left_out"]``), if said."""
    meta = getattr(artifact, "meta", None)
    if meta is None and "meta" in artifact:
        meta = json.loads(str(artifact["meta"]))
    recorded = (meta or {}).get("left_out") or {}
    return {"missing": int(recorded.get("missing", 0)), "flagged": recorded.get("flagged") or {}}


def _vanished(paths: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The rows among ``rows`` whose path is known but no longer exists."""
    gone = [
        row
        for row in rows
        if isinstance(paths.iat[row], str) and not os.path.exists(paths.iat[row])
    ]
    return np.asarray(gone, dtype=np.int64)


def make_playlist(
    context: PlaylistContext,
    *,
    seed_track_id: int,
    length: int = 30,
    params: PlaylistParams | None = None,
    now: datetime | None = None,
) -> Playlist:
    """A playlist of ``length`` tracks starting from a seed track.

    Parameters
    ----------
    context : PlaylistContext
        The artifact and the store, read once (:func:`playlist_context`).
    seed_track_id : int
        The first track (a track id of the store, as in the artifact's ``track_ids``).
    length : int, default 30
        Tracks wanted, the seed included; fewer when the pool cannot fill it (see
        ``diagnostics["stopped"]``).
    params : PlaylistParams, optional
        Every parameter at once, e.g. ``PlaylistParams.for_mode("narrow").replace(min_gap=4)``;
        default ``PlaylistParams()`` (the ``dynamic`` mode).
    now : datetime, optional
        "Now" for the recently-played filter (default: the current time).

    Returns
    -------
    Playlist

    Raises
    ------
    ParameterError
        Unknown seed (the message names the track id), a seed whose file is missing or that
        is flagged as not music; a DJ rule asked for without the tempo or key data it needs.

    Notes
    -----
    ``diagnostics["left_out"]`` says what was left out before the pool was drawn:
    ``missing`` (files a scan found gone), ``flagged`` (per content flag), ``vanished``
    (track ids whose files were gone at playlist time though the scan had found them),
    ``played_recently``, ``by_artifact`` (``missing`` and ``flagged`` tracks the artifact
    itself left out when it was built) and ``not_in_artifact`` (tracks analysed since it was
    built: ``musicwb artifact build`` adds them).

    Examples
    --------
    >>> artifact = {"track_ids": np.arange(1, 5), "artist_keys": np.array(list("abcd")),
    ...             "embedded_full": np.eye(4, dtype=np.float32) + 1.0}
    >>> playlist = make_playlist(playlist_context(artifact), seed_track_id=3, length=3,
    ...                          params=PlaylistParams.for_mode("discover"))
    >>> playlist.tracks["track_id"].tolist(), playlist.diagnostics["mode"]
    ([3, 1, 2], 'discover')
    """
    if params is None:
        params = PlaylistParams()
    if isinstance(seed_track_id, bool) or not isinstance(seed_track_id, int | np.integer):
        try:
            seed_track_id = int(seed_track_id)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"seed_track_id must be a track id, got {seed_track_id!r}"
            ) from exc
    refused = _seed_refused(context, int(seed_track_id))
    if refused is not None:
        raise refused
    seed_index = context.library.row_of(int(seed_track_id))
    played = context.recently_played_rows(params.recent_days, now=now)
    unplayable = context.unplayable_rows()
    titles = context.labels["title"].to_numpy() if context.has_titles else None
    paths = context.labels["path"]
    vanished = np.zeros(0, dtype=np.int64)
    for _ in range(MAX_REFILLS + 1):
        exclude = np.union1d(np.union1d(played, unplayable), vanished).astype(np.int64)
        exclude = exclude[exclude != seed_index]
        pool = build_pool(
            context.library, seed_index=seed_index, params=params, exclude=exclude, titles=titles
        )
        ordering = order_playlist(
            context.library,
            pool,
            seed_index=seed_index,
            length=length,
            params=params,
            bpm=context.tempo() if params.bpm_window is not None else None,
            keys=context.camelot_keys() if params.camelot else None,
        )
        gone = _vanished(paths, np.asarray(ordering.indices, dtype=np.int64))
        if gone.size == 0:
            break
        vanished = np.union1d(vanished, gone)  # files deleted since the scan: draw again
    else:
        examples = ", ".join(str(paths.iat[row]) for row in vanished[:3])
        raise ParameterError(
            f"{vanished.size} track(s) of the artifact have lost their files since the last "
            f"scan (e.g. {examples}) and more keep turning up: run `musicwb scan` on the "
            "library so that missing files are marked, then build the playlist again"
        )
    rows = ordering.indices
    tracks = context.labels.iloc[rows].reset_index(drop=True).copy()
    tracks["transition_in"] = ordering.transitions
    tracks["seed_similarity"] = ordering.seed_similarity
    diagnostics = {
        **ordering.diagnostics,
        "seed_track_id": int(seed_track_id),
        "mode": params.mode,
        "pool": dict(pool.stats),
        "params": params.as_dict(),
        "left_out": {
            **context.left_out_counts(),
            "played_recently": int(np.setdiff1d(played, [seed_index]).size),
            "vanished": [int(context.library.track_ids[row]) for row in vanished],
            "by_artifact": _artifact_left_out(context.artifact),
            "not_in_artifact": context.not_in_artifact,
        },
    }
    return Playlist(
        tracks=tracks[list(TRACK_COLUMNS)],
        diagnostics=diagnostics,
        params=params,
        pool=pool,
        ordering=ordering,
    )
