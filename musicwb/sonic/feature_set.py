"""The analysed tracks of a store as one feature set, and the version of its features.

:func:`load_feature_set` reads the features with the labels playlists and validation need
(artist key, folded album, canonical genres), says which analysed tracks it left out and why
(:class:`LeftOut`: missing files, tracks flagged as not music) and which store and features
version it was read from (:class:`FeatureSource`), so that an artifact built from it can later
be checked against the store.

Examples
--------
>>> LeftOut(missing=1, flagged={"silence": 2}).describe()
'left out 3 analysed track(s): 1 missing file(s), 2 silence (--include-flagged keeps the flagged ones)'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.genres import normalise_genre_column
from musicwb.sonic.towers import SEGMENTS
from musicwb.store import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables import sonic as sonic_tables
from musicwb.store.tables.sonic import feature_filter
from musicwb.text import artist_key, fold

__all__ = [
    "ArtifactMismatchError",
    "FeatureSet",
    "FeatureSource",
    "FeaturesVersion",
    "LeftOut",
    "feature_filter",
    "features_version",
    "left_out_of",
    "load_feature_set",
    "not_in_artifact",
    "store_id",
]


class ArtifactMismatchError(ParameterError):
    """The artifact does not belong to the store, or its store's features changed since it was
    built: the message says how to rebuild it (``musicwb artifact build --store ...``)."""


@dataclass(frozen=True)
class FeaturesVersion:
    """What a store's sonic features are at one moment, to tell whether they changed since.

    Attributes
    ----------
    rows : int
        ``sonic_features`` rows.
    latest : str or None
        The latest ``extracted_at`` (ISO), None without rows.
    digest : str
        XOR of the MD5 of every ``track_id|extracted_at|content_flag``: any track extracted
        again, added, removed or flagged differently changes it.
    """

    rows: int
    latest: str | None
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "latest": self.latest, "digest": self.digest}

    def describe(self) -> str:
        """``"75 feature rows, the latest extracted 2026-12-05T17:00:00"``."""
        latest = f", the latest extracted {self.latest}" if self.latest else ""
        return f"{self.rows} feature row(s){latest}"


@dataclass(frozen=True)
class FeatureSource:
    """The store a feature set (and so an artifact) was read from.

    Attributes
    ----------
    store_id : str
        The store's random id (``store_info``): a copy of a store keeps it, another store never
        has it.
    store_path : str
        The store's absolute path when it was read (for messages).
    features : FeaturesVersion
    include_flagged : bool
        Whether tracks flagged as silence, near-silence or a steady tone were kept.
    """

    store_id: str
    store_path: str
    features: FeaturesVersion
    include_flagged: bool = False


@dataclass(frozen=True)
class LeftOut:
    """The analysed tracks a feature set left out, and why.

    Attributes
    ----------
    missing : int
        Tracks whose file a scan found gone (``tracks.missing_since`` set).
    flagged : dict of str to int
        Per content flag (``silence``, ``near_silence``, ``steady_tone``), the tracks left out
        (files present); empty when flagged tracks were kept.
    """

    missing: int = 0
    flagged: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.missing + sum(self.flagged.values())

    def as_dict(self) -> dict[str, Any]:
        return {"missing": self.missing, "flagged": dict(self.flagged), "total": self.total}

    @classmethod
    def from_dict(cls, recorded: Mapping[str, Any]) -> LeftOut:
        """Back from :meth:`as_dict` (as an artifact's ``meta`` or a report records it)."""
        return cls(missing=recorded.get("missing", 0), flagged=recorded.get("flagged", {}))

    def describe(self) -> str:
        """``"left out 3 analysed track(s): 1 missing file, 2 silence"``, or ``""``."""
        if not self.total:
            return ""
        parts = [f"{self.missing} missing file(s)"] if self.missing else []
        parts += [f"{n} {flag.replace('_', '-')}" for flag, n in sorted(self.flagged.items())]
        hint = " (--include-flagged keeps the flagged ones)" if self.flagged else ""
        return f"left out {self.total} analysed track(s): {', '.join(parts)}{hint}"


@dataclass(frozen=True)
class FeatureSet:
    """The analysed tracks of a store with their labels.

    Attributes
    ----------
    track_ids : ndarray, shape (n,), int64
    matrices : dict of str to ndarray, shape (n, 137), float32
        One per segment (``full``, ``start``, ``mid``, ``end``).
    artists : ndarray, shape (n,), object
        Artist as tagged (None when unknown).
    artist_keys : ndarray, shape (n,), object
        :func:`musicwb.text.artist_key` of the artist.
    albums : ndarray, shape (n,), object
        Folded album name (None when unknown): the album identity.
    genres : list of list of str
    extractor_versions : list of str
    content_flags : ndarray, shape (n,), object, optional
        The content flag of each track (None for music); None: all music.
    left_out : LeftOut
        The analysed tracks not in the set, and why.
    source : FeatureSource, optional
        The store it was read from (None for a set made by hand).
    """

    track_ids: np.ndarray
    matrices: dict[str, np.ndarray]
    artists: np.ndarray
    artist_keys: np.ndarray
    albums: np.ndarray
    genres: list[list[str]]
    extractor_versions: list[str]
    content_flags: np.ndarray | None = None
    left_out: LeftOut = field(default_factory=LeftOut)
    source: FeatureSource | None = None

    def __len__(self) -> int:
        return int(self.track_ids.shape[0])

    def labels(self) -> pd.DataFrame:
        """``track_id``, ``artist``, ``artist_key``, ``album`` as a DataFrame."""
        return pd.DataFrame(
            {
                "track_id": self.track_ids,
                "artist": self.artists,
                "artist_key": self.artist_keys,
                "album": self.albums,
            }
        )


def _per_distinct(values: np.ndarray, function: Callable[[str], Any]) -> np.ndarray:
    """``function`` of each string, called once per distinct value (None for missing ones)."""
    codes, distinct = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    mapped = np.array(
        [None, *(function(v) if isinstance(v, str) else None for v in distinct)], dtype=object
    )
    return mapped[codes + 1]


def _canonical_genres(
    values: np.ndarray, normalise: Callable[[list[list[str]]], list[list[str]]]
) -> list[list[str]]:
    """Canonical genres per row, normalising each distinct tag list once (libraries repeat a
    few thousand combinations over many rows)."""
    keys = [() if value is None else tuple(value.tolist()) for value in values]
    distinct = list(dict.fromkeys(keys))
    canonical = dict(zip(distinct, normalise([list(key) for key in distinct]), strict=True))
    return [list(canonical[key]) for key in keys]


def store_id(store: Store) -> str:
    """The store's random id (``store_info``, migration 008).

    Raises
    ------
    ArtifactMismatchError
        The store has none yet (its migrations have not run).
    """
    found = sonic_tables.read_store_id(store)
    if not found:
        raise ArtifactMismatchError(
            f"store {store.path} has no store_id: open it once for writing (e.g. `musicwb "
            "tracks --store ...` after upgrading) so that its migrations run"
        )
    return found


def features_version(
    store: Store,
    *,
    track_ids: Sequence[int] | np.ndarray | None = None,
    include_flagged: bool = False,
    include_missing: bool = False,
) -> FeaturesVersion:
    """The version of some of the store's sonic features now (see :class:`FeaturesVersion`).

    Parameters
    ----------
    store : Store
        May be read-only.
    track_ids : ndarray of int, optional
        The feature rows of these tracks (an artifact's); without them, the rows
        :func:`load_feature_set` reads with the same options.
    include_flagged, include_missing : bool, default False
        As in :func:`load_feature_set` (ignored with ``track_ids``).

    Returns
    -------
    FeaturesVersion
        The same for the same rows: an artifact's tracks re-analysed, removed or flagged
        differently change it; tracks analysed since, outside the artifact, do not.
    """
    got = sonic_tables.features_digest(
        store,
        track_ids=track_ids,
        include_flagged=include_flagged,
        include_missing=include_missing,
    )
    return FeaturesVersion(
        rows=got.rows,
        latest=None if got.latest is None else got.latest.isoformat(timespec="seconds"),
        digest=got.digest,
    )


def not_in_artifact(
    store: Store, track_ids: Sequence[int] | np.ndarray, *, include_flagged: bool = False
) -> int:
    """Analysed tracks an artifact of ``track_ids`` would hold if built now, but does not hold
    (analysed since it was built, or their file found again)."""
    return sonic_tables.count_not_in(store, track_ids=track_ids, include_flagged=include_flagged)


def left_out_of(store: Store, *, include_flagged: bool, include_missing: bool) -> LeftOut:
    """How many analysed tracks :func:`load_feature_set` leaves out with these options, and why."""
    counts = sonic_tables.left_out_counts(store)
    missing = 0 if include_missing else sum(n for gone, _, n in counts if gone)
    flagged: dict[str, int] = {}
    for gone, flag, n in counts:
        if flag is not None and not include_flagged and (include_missing or not gone):
            flagged[flag] = flagged.get(flag, 0) + n
    return LeftOut(missing=missing, flagged=dict(sorted(flagged.items())))


def load_feature_set(
    store: Store, *, include_flagged: bool = False, include_missing: bool = False
) -> FeatureSet:
    """Read the analysed tracks with their artist, album and genres (tracks with features only).

    Tracks whose file is missing (``tracks.missing_since`` set) and tracks whose features are
    flagged as silence, near-silence or a steady tone are left out unless asked for; the set
    says how many (:attr:`FeatureSet.left_out`) and which store and features version it was
    read from (:attr:`FeatureSet.source`). Everything is read in one transaction, so a writer
    committing meanwhile cannot make the version disagree with the rows.

    Parameters
    ----------
    store : Store
    include_flagged : bool, default False
        Keep the flagged tracks.
    include_missing : bool, default False
        Keep the tracks whose file is missing.

    Returns
    -------
    FeatureSet
    """
    with store.transaction():
        got = sonic_tables.feature_arrays(
            store,
            segments=SEGMENTS,
            include_flagged=include_flagged,
            include_missing=include_missing,
        )
        source = FeatureSource(
            store_id=store_id(store),
            store_path=str(StorePaths.of(store.path).store),
            features=features_version(
                store, include_flagged=include_flagged, include_missing=include_missing
            ),
            include_flagged=include_flagged,
        )
        left_out = left_out_of(
            store, include_flagged=include_flagged, include_missing=include_missing
        )
    # Unsorted in SQL (sorting wide rows there costs more than an argsort here).
    ids = got["track_id"].astype(np.int64)
    order = np.argsort(ids, kind="stable") if np.any(ids[1:] < ids[:-1]) else slice(None)
    got = {name: values[order] for name, values in got.items()}
    matrices = {
        segment: np.asarray(got[f"vec_{segment}"], dtype=np.float32) for segment in SEGMENTS
    }
    artists = got["artist"].astype(object)  # NULL is None already
    albums = _per_distinct(got["album"], lambda album: fold(album) or None)
    # Canonical genres ("Techno", "techno", "Techno; Minimal" → techno, minimal), so that genre
    # similarity in playlists compares like with like whether or not `genres migrate` ran.
    genres = _canonical_genres(got["genres"], normalise_genre_column)
    return FeatureSet(
        track_ids=got["track_id"].astype(np.int64),
        matrices=matrices,
        artists=artists,
        artist_keys=_per_distinct(artists, lambda artist: artist_key(artist) if artist else None),
        albums=albums,
        genres=genres,
        extractor_versions=sorted(set(got["extractor_version"])),
        content_flags=got["content_flag"].astype(object),
        left_out=left_out,
        source=source,
    )
