"""The sonic artifact: everything playlists need, in one ``.npz`` file.

Contents (``n`` tracks, ``d`` the embedding width):

- ``track_ids`` (n,) int64, ``artist_keys`` (n,) str, ``album_ids`` (n,) int32 (−1: unknown)
  with ``album_names`` (n_albums,) str;
- genres as a ragged list: ``genre_vocab`` (g,) str, ``genre_indptr`` (n + 1,) int64 and
  ``genre_indices`` int32 (track ``i`` has ``genre_vocab[genre_indices[indptr[i]:indptr[i+1]]]``);
- raw features per segment and tower: ``raw_<segment>_<tower>``, e.g. ``raw_full_rhythm``
  (n, 21), ``raw_end_timbre`` (n, 83), ``raw_start_harmony`` (n, 33), float32;
- the embedding of the chosen variant per segment: ``embedded_<segment>`` (n, d) float32;
- the fitted preprocessing (``prep_*``, see :meth:`musicwb.sonic.whiten.Preprocessor.to_arrays`);
- tower calibration statistics ``calibration`` (towers × statistics) with
  ``calibration_towers`` and ``calibration_stats``: the distribution of the cosine similarity
  of random track pairs per tower, full track and end→start transitions, so that towers can be
  put on one scale;
- ``content_flags`` (n,) str: ``""`` for music, else the track's flag (``silence``,
  ``near_silence``, ``steady_tone``); only an artifact built with ``include_flagged`` has any;
- ``meta``: JSON with the variant playlists use, the extractor version, counts and time, the
  store it was built from (``store``: its ``store_id`` and path), the version of the features
  it was built from (``features``: rows, latest ``extracted_at`` and a digest of every
  ``(track_id, extracted_at, content_flag)`` of its tracks), whether flagged tracks are in it
  (``include_flagged``) and how many analysed tracks were left out and why (``left_out``).

By default the artifact lives beside its store (:attr:`musicwb.store.paths.StorePaths.artifact`,
``<stem>.artifact.npz``). :func:`check_artifact` refuses an artifact of another store, or one
whose tracks' features changed since it was built, with the command that rebuilds it; tracks
analysed since are only counted (``musicwb extract`` may add tracks while playlists are made).
Tracks whose file is missing (``tracks.missing_since``) are never in an artifact; tracks whose
features are flagged as silence, near-silence or a steady tone only with ``include_flagged``.

The file is written uncompressed, so each array is a contiguous stored member: ``load_artifact``
memory-maps them instead of reading them (``mmap=True``), which keeps a 1-million-track
artifact cheap to open.

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:                   # doctest: +SKIP
...     path = build_artifact(store)                # data/musicwb.artifact.npz
>>> artifact = load_artifact(path)                                # doctest: +SKIP
>>> artifact.variant, artifact["embedded_full"].shape             # doctest: +SKIP
('robust_whiten', (64, 41))
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.sonic.content import CONTENT_FLAGS
from musicwb.sonic.npz import NpzWriter
from musicwb.sonic.towers import EXTRACTOR_VERSION, SEGMENTS, feature_names, tower_slices
from musicwb.sonic.whiten import VARIANTS, Preprocessor, fit_preprocessor, l2_normalise
from musicwb.store import Store
from musicwb.store.paths import StorePaths

__all__ = [
    "ARTIFACT_FORMAT",
    "CONTENT_FLAGS",
    "Artifact",
    "ArtifactCheck",
    "ArtifactMismatchError",
    "FeatureSet",
    "FeatureSource",
    "FeaturesVersion",
    "LeftOut",
    "build_artifact",
    "build_artifact_arrays",
    "calibrate_towers",
    "check_artifact",
    "chosen_variant",
    "feature_filter",
    "features_version",
    "left_out_of",
    "load_artifact",
    "load_feature_set",
    "not_in_artifact",
    "store_id",
    "write_artifact",
]


ARTIFACT_FORMAT = "musicwb-sonic-artifact-1"
DEFAULT_VARIANT = "robust_whiten"
CALIBRATION_STATS = ("mean", "std", "p10", "p50", "p90", "transition_mean", "transition_std")
CALIBRATION_PAIRS = 20_000
CALIBRATION_TRACKS = 4_000


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


def _canonical_genres(values: np.ndarray, normalise: Any) -> list[list[str]]:
    """Canonical genres per row, normalising each distinct tag list once (libraries repeat a
    few thousand combinations over many rows)."""
    keys = [() if value is None else tuple(value.tolist()) for value in values]
    distinct = list(dict.fromkeys(keys))
    canonical = dict(zip(distinct, normalise([list(key) for key in distinct]), strict=True))
    return [list(canonical[key]) for key in keys]


def store_id(store: Store) -> str:
    """The store's random id (``store_info``, migration 008)."""
    found = store.scalar("SELECT value FROM store_info WHERE key = 'store_id'")
    if not found:
        raise ArtifactMismatchError(
            f"store {store.path} has no store_id: open it once for writing (e.g. `musicwb "
            "tracks --store ...` after upgrading) so that its migrations run"
        )
    return str(found)


_DIGEST = (
    "SELECT count(*), max(f.extracted_at), coalesce(bit_xor(md5_number(f.track_id::VARCHAR || "
    "'|' || f.extracted_at::VARCHAR || '|' || coalesce(f.content_flag, '')))::VARCHAR, '0') "
)


def features_version(
    store: Store,
    *,
    track_ids: np.ndarray | None = None,
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
    if track_ids is not None:
        ids = [int(track_id) for track_id in np.asarray(track_ids).tolist()]
        got = store.rows(
            _DIGEST + "FROM sonic_features f WHERE f.track_id IN (SELECT unnest(?::BIGINT[]))",
            [ids],
        )
    else:
        where = feature_filter(include_flagged=include_flagged, include_missing=include_missing)
        got = store.rows(
            _DIGEST + f"FROM sonic_features f JOIN tracks t ON t.id = f.track_id WHERE {where}"
        )
    rows, latest, digest = got[0]
    return FeaturesVersion(
        rows=int(rows),
        latest=None if latest is None else latest.isoformat(timespec="seconds"),
        digest=str(digest),
    )


def not_in_artifact(
    store: Store, track_ids: np.ndarray, *, include_flagged: bool = False
) -> int:
    """Analysed tracks an artifact of ``track_ids`` would hold if built now, but does not hold
    (analysed since it was built, or their file found again)."""
    where = feature_filter(include_flagged=include_flagged)
    ids = [int(track_id) for track_id in np.asarray(track_ids).tolist()]
    return int(
        store.scalar(
            "SELECT count(*) FROM sonic_features f JOIN tracks t ON t.id = f.track_id WHERE "
            f"{where} AND f.track_id NOT IN (SELECT unnest(?::BIGINT[]))",
            [ids],
        )
    )


def left_out_of(store: Store, *, include_flagged: bool, include_missing: bool) -> LeftOut:
    """How many analysed tracks :func:`load_feature_set` leaves out with these options, and why."""
    counts = store.rows(
        "SELECT t.missing_since IS NOT NULL, f.content_flag, count(*) FROM sonic_features f "
        "JOIN tracks t ON t.id = f.track_id GROUP BY ALL"
    )
    missing = 0 if include_missing else sum(n for gone, _, n in counts if gone)
    flagged: dict[str, int] = {}
    for gone, flag, n in counts:
        if flag is not None and not include_flagged and (include_missing or not gone):
            flagged[flag] = flagged.get(flag, 0) + int(n)
    return LeftOut(missing=int(missing), flagged=dict(sorted(flagged.items())))


def feature_filter(*, include_flagged: bool = False, include_missing: bool = False) -> str:
    """The SQL condition on ``sonic_features f JOIN tracks t`` that keeps the tracks wanted.

    Examples
    --------
    >>> feature_filter()
    't.missing_since IS NULL AND f.content_flag IS NULL'
    """
    parts = [] if include_missing else ["t.missing_since IS NULL"]
    parts += [] if include_flagged else ["f.content_flag IS NULL"]
    return " AND ".join(parts) or "TRUE"


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
    from musicwb.genres import normalise_genre_column
    from musicwb.text import artist_key, fold

    with store.transaction():
        # Arrow, not pandas: each FLOAT[137] column arrives as one (n, 137) matrix; with labels,
        # 32,000 rows took 0.16-0.5 s, against 0.35-1.4 s as 548 DataFrame columns (bench_sonic).
        got = store.arrays(
            "SELECT f.track_id, t.artist, t.album, t.genres, f.extractor_version, "
            "f.content_flag, "
            + ", ".join(f"f.vec_{segment}" for segment in SEGMENTS)
            + " FROM sonic_features f JOIN tracks t ON t.id = f.track_id WHERE "
            + feature_filter(include_flagged=include_flagged, include_missing=include_missing)
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


def chosen_variant(store: Store) -> tuple[str, dict[str, Any], str]:
    """The variant the last ``musicwb validate`` run named best, else :data:`DEFAULT_VARIANT`.

    Returns
    -------
    variant : str
    settings : dict
        Its fitting settings.
    source : str
        ``"validation run <id>"`` or ``"default"``.
    """
    from musicwb.store.runs import last_run

    run = last_run(store, kind="sonic_validation", status="ok")
    if run and run.get("summary", {}).get("best_variant") in VARIANTS:
        summary = run["summary"]
        return (
            summary["best_variant"],
            summary.get("best_settings") or {},
            f"validation run {run['run_id']}",
        )
    return DEFAULT_VARIANT, {}, "default"


def calibrate_towers(
    preprocessor: Preprocessor,
    full: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    random_state: int = 0,
) -> tuple[np.ndarray, list[str]]:
    """Per tower, the distribution of cosine similarity over random pairs of tracks.

    Pairs are drawn among at most :data:`CALIBRATION_TRACKS` randomly chosen tracks.

    Parameters
    ----------
    preprocessor : Preprocessor
        A fitted robust_whiten (per-tower statistics) or another variant (one row, ``all``).
    full, start, end : ndarray, shape (n, 137)
    random_state : int, default 0

    Returns
    -------
    stats : ndarray, shape (n_towers + 1, 7)
        Rows: the towers then ``combined``; columns: :data:`CALIBRATION_STATS` (full-track
        pairs; transitions are end of one track → start of another).
    towers : list of str
    """
    rng = np.random.default_rng(random_state)
    if full.shape[0] > CALIBRATION_TRACKS:  # a random sample of tracks is enough for the statistics
        sample = np.sort(rng.choice(full.shape[0], CALIBRATION_TRACKS, replace=False))
        full, start, end = full[sample], start[sample], end[sample]
    n = full.shape[0]
    a = rng.integers(0, n, CALIBRATION_PAIRS)
    b = (a + rng.integers(1, max(n, 2), CALIBRATION_PAIRS)) % n
    names = [*(t for t in preprocessor.towers if t != "all"), "combined"]
    rows = []
    for name in names:
        tower = None if name == "combined" else name

        def embed(matrix: np.ndarray, tower: str | None = tower) -> np.ndarray:
            return l2_normalise(preprocessor.transform(matrix, tower=tower))

        full_e = embed(full)
        pair = np.einsum("ij,ij->i", full_e[a], full_e[b])
        transition = np.einsum("ij,ij->i", embed(end)[a], embed(start)[b])
        p10, p50, p90 = np.percentile(pair, [10, 50, 90])
        rows.append([pair.mean(), pair.std(), p10, p50, p90, transition.mean(), transition.std()])
    return np.asarray(rows, dtype=np.float64), names


def _ragged(genres: list[list[str]]) -> dict[str, np.ndarray]:
    lengths = np.fromiter((len(t) for t in genres), dtype=np.int64, count=len(genres))
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # one hash pass over every genre of every track; vocabulary sorted
    codes, vocab = pd.factorize(
        pd.Series(list(chain.from_iterable(genres)), dtype=object), sort=True
    )
    return {
        "genre_vocab": np.array(list(vocab), dtype=str),
        "genre_indptr": indptr,
        "genre_indices": codes.astype(np.int32),
    }


def build_artifact_arrays(
    features: FeatureSet,
    *,
    variant: str = DEFAULT_VARIANT,
    settings: dict[str, Any] | None = None,
    variant_source: str = "default",
) -> dict[str, np.ndarray]:
    """All arrays of the artifact, from a feature set (pure).

    Parameters
    ----------
    features : FeatureSet
        At least 3 tracks.
    variant : {"raw", "zscore", "robust_whiten"}
    settings : dict, optional
        Fitting settings for the variant.
    variant_source : str
        Why this variant (kept in ``meta``).

    Returns
    -------
    dict of str to ndarray
    """
    return {
        **_plain_arrays(features),
        **_fitted_arrays(
            features, variant=variant, settings=settings, variant_source=variant_source
        ),
    }


def _plain_arrays(features: FeatureSet) -> dict[str, np.ndarray]:
    """Ids, labels, genres and raw per-tower matrices: everything that needs no fitting."""
    if len(features) < 3:
        raise ParameterError(
            f"an artifact needs at least 3 analysed tracks, the store has {len(features)}"
        )
    arrays: dict[str, np.ndarray] = {"track_ids": features.track_ids.astype(np.int64)}
    arrays["artist_keys"] = np.array([k or "" for k in features.artist_keys], dtype=str)
    codes, names = pd.factorize(pd.Series(features.albums, dtype=object), use_na_sentinel=True)
    arrays["album_ids"] = codes.astype(np.int32)
    arrays["album_names"] = np.array(list(names), dtype=str)
    arrays.update(_ragged(features.genres))
    for segment in SEGMENTS:
        matrix = features.matrices[segment]
        for tower, part in tower_slices().items():
            arrays[f"raw_{segment}_{tower}"] = np.ascontiguousarray(
                matrix[:, part], dtype=np.float32
            )
    arrays["feature_names"] = np.array(feature_names(), dtype=str)
    flags = features.content_flags
    arrays["content_flags"] = np.array(
        ["" if flags is None or flags[i] is None else str(flags[i]) for i in range(len(features))],
        dtype=str,
    )
    return arrays


def _fitted_arrays(
    features: FeatureSet, *, variant: str, settings: dict[str, Any] | None, variant_source: str
) -> dict[str, np.ndarray]:
    """The fitted preprocessing, the embedded segments, the calibration and ``meta``."""
    from threadpoolctl import threadpool_limits

    # The matrices are narrow (<= 137 columns): one BLAS thread is fastest, and several
    # threads on a busy machine are many times slower.
    with threadpool_limits(limits=1):
        preprocessor = fit_preprocessor(
            features.matrices["full"],
            variant=variant,
            segments=[features.matrices[segment] for segment in SEGMENTS if segment != "full"],
            **(settings or {}),
        )
        arrays = {
            f"embedded_{segment}": preprocessor.transform(features.matrices[segment]).astype(
                np.float32, copy=False
            )
            for segment in SEGMENTS
        }
        arrays.update(preprocessor.to_arrays())
        stats, towers = calibrate_towers(
            preprocessor,
            features.matrices["full"],
            features.matrices["start"],
            features.matrices["end"],
        )
    arrays["calibration"] = stats
    arrays["calibration_towers"] = np.array(towers, dtype=str)
    arrays["calibration_stats"] = np.array(CALIBRATION_STATS, dtype=str)
    arrays["meta"] = np.array(
        json.dumps(
            {
                "format": ARTIFACT_FORMAT,
                "variant": variant,
                "variant_source": variant_source,
                "settings": preprocessor.settings,
                "n_tracks": len(features),
                "extractor_versions": features.extractor_versions or [EXTRACTOR_VERSION],
                "segments": list(SEGMENTS),
                "towers": list(tower_slices()),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **_source_meta(features),
            }
        )
    )
    return arrays


def _source_meta(features: FeatureSet) -> dict[str, Any]:
    """What ``meta`` records of the store and features an artifact was built from."""
    source = features.source
    return {
        "store": None
        if source is None
        else {"id": source.store_id, "path": source.store_path},
        "features": None if source is None else source.features.as_dict(),
        "include_flagged": bool(source.include_flagged) if source is not None else None,
        "left_out": features.left_out.as_dict(),
    }


def write_artifact(arrays: Mapping[str, np.ndarray], out: str | Path) -> Path:
    """Write the arrays to ``out`` (uncompressed ``.npz``), atomically (temp file, then rename)."""
    with NpzWriter(out) as writer:
        for name, array in arrays.items():
            writer.add(name, array)
    return writer.path


def build_artifact(
    store: Store,
    *,
    out: str | Path | None = None,
    variant: str | None = None,
    settings: dict[str, Any] | None = None,
    include_flagged: bool = False,
) -> Path:
    """Build the artifact from the store's features and write it.

    Tracks whose file is missing are left out, and so are tracks flagged as silence,
    near-silence or a steady tone unless ``include_flagged``; ``meta["left_out"]`` counts them.

    Parameters
    ----------
    store : Store
    out : str or Path, optional
        Default: beside the store, ``<stem>.artifact.npz``
        (:attr:`musicwb.store.paths.StorePaths.artifact`).
    variant : str, optional
        Default: the best variant of the last ``musicwb validate`` (:func:`chosen_variant`).
    settings : dict, optional
        Fitting settings (default: those of that validation, if it chose the variant).
    include_flagged : bool, default False
        Keep the tracks whose features are flagged as not music.

    Returns
    -------
    Path
    """
    best, best_settings, source = chosen_variant(store)
    if variant is None:
        variant, settings = best, settings if settings is not None else best_settings
    elif variant not in VARIANTS:
        raise ParameterError(f"variant must be one of {VARIANTS}, got {variant!r}")
    else:
        source = "chosen by the caller"
    if out is None:
        out = StorePaths.of(store.path).artifact
    features = load_feature_set(store, include_flagged=include_flagged)
    if len(features) < 3:
        left = features.left_out.describe()
        raise ParameterError(
            f"an artifact needs at least 3 analysed tracks, the store has {len(features)}"
            + (f" ({left})" if left else "")
        )
    with NpzWriter(out) as writer:
        # the raw matrices are written in the background while the preprocessing is fitted
        for name, array in _plain_arrays(features).items():
            writer.add(name, array)
        fitted = _fitted_arrays(features, variant=variant, settings=settings, variant_source=source)
        for name, array in fitted.items():
            writer.add(name, array)
    return writer.path


def _meta(artifact: Mapping[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(artifact, Artifact):
        return artifact.meta
    return json.loads(str(artifact["meta"])) if "meta" in artifact else {}


@dataclass(frozen=True)
class ArtifactCheck:
    """An artifact found to belong to the store, with what it lacks.

    Attributes
    ----------
    not_in_artifact : int
        Analysed tracks the artifact would hold if built now (analysed since it was built, or
        their file found again): ``musicwb artifact build`` adds them.
    rebuild : str
        The command that rebuilds the artifact.
    """

    not_in_artifact: int
    rebuild: str


def check_artifact(
    artifact: Mapping[str, np.ndarray], store: Store, *, include_flagged: bool = False
) -> ArtifactCheck:
    """Refuse an artifact that was not built from this store's current features.

    The artifact's own tracks are compared: one analysed again, removed or flagged
    differently since makes it stale. Tracks analysed since (outside the artifact) do not:
    while ``musicwb extract`` adds tracks, playlists go on from the artifact (and say how many
    tracks it lacks).

    Parameters
    ----------
    artifact : Mapping of str to ndarray
        A loaded artifact (or the arrays of :func:`build_artifact_arrays`).
    store : Store
        The store the playlist reads labels and paths from. May be read-only.
    include_flagged : bool, default False
        The caller wants flagged tracks: the artifact must have been built with them.

    Returns
    -------
    ArtifactCheck

    Raises
    ------
    ArtifactMismatchError
        The artifact records no store, another store, features of its tracks older than the
        store's, or no flagged tracks when ``include_flagged``; the message names the
        artifact and the ``musicwb artifact build`` command that makes the right one.
    """
    meta = _meta(artifact)
    where = getattr(artifact, "path", None)
    name = f"the artifact {where}" if where else "the artifact"
    here = StorePaths.of(store.path)
    flagged = " --include-flagged" if include_flagged else ""
    command = f"musicwb artifact build --store {here.store}{flagged}"
    rebuild = f"rebuild it with `{command}`"
    if where is not None and Path(where).absolute() != here.artifact:
        rebuild += f" (it writes {here.artifact}, the default artifact of this store)"
    recorded = meta.get("store")
    if not recorded:
        raise ArtifactMismatchError(
            f"{name} records no store (built by an older musicwb, or by hand), so it may be "
            f"another library's: {rebuild}"
        )
    if recorded.get("id") != store_id(store):
        raise ArtifactMismatchError(
            f"{name} was built from another store ({recorded.get('path')}), not from "
            f"{here.store}: its track ids are not this library's. {rebuild[0].upper()}"
            f"{rebuild[1:]}, or pass --artifact with the artifact of {here.store}"
        )
    built = meta.get("features") or {}
    ids = np.asarray(artifact["track_ids"])
    now = features_version(store, track_ids=ids)
    if built.get("digest") != now.digest:
        then = FeaturesVersion(
            rows=int(built.get("rows") or 0), latest=built.get("latest"), digest=""
        )
        raise ArtifactMismatchError(
            f"{name} is stale: the sonic features of its tracks in {here.store} changed since "
            f"it was built (analysed again, removed or flagged: then {then.describe()}; now "
            f"{now.describe()}): {rebuild}"
        )
    if include_flagged and not meta.get("include_flagged"):
        raise ArtifactMismatchError(
            f"{name} was built without the tracks flagged as silence, near-silence or steady "
            f"tone: {rebuild}"
        )
    return ArtifactCheck(
        not_in_artifact=not_in_artifact(store, ids, include_flagged=include_flagged),
        rebuild=command,
    )


class Artifact(Mapping[str, np.ndarray]):
    """A loaded artifact: a read-only mapping of array names to arrays, plus helpers."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        self._arrays = arrays
        self.path = path
        self.meta: dict[str, Any] = json.loads(str(arrays["meta"]))

    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def variant(self) -> str:
        """The preprocessing variant playlists use."""
        return self.meta["variant"]

    def preprocessor(self) -> Preprocessor:
        """The fitted preprocessing, to embed new vectors the same way."""
        return Preprocessor.from_arrays(self._arrays)

    def raw(self, segment: str = "full") -> np.ndarray:
        """The raw 137-vectors of a segment, shape (n, 137)."""
        return np.hstack([self._arrays[f"raw_{segment}_{tower}"] for tower in tower_slices()])

    def genres(self, index: int) -> list[str]:
        """The genres of the track at row ``index``."""
        a, b = self._arrays["genre_indptr"][index : index + 2]
        return [str(g) for g in self._arrays["genre_vocab"][self._arrays["genre_indices"][a:b]]]


def _memmap_member(path: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """Memory-map one stored (uncompressed) ``.npy`` member of a zip, or None if impossible."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        name_len = int.from_bytes(local[26:28], "little")
        extra_len = int.from_bytes(local[28:30], "little")
        handle.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    if dtype.hasobject or 0 in shape:
        return None
    return np.memmap(
        path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C"
    )


def load_artifact(path: str | Path, *, mmap: bool = True) -> Artifact:
    """Load an artifact written by :func:`build_artifact`.

    Parameters
    ----------
    path : str or Path
    mmap : bool, default True
        Memory-map the numeric arrays (read-only) instead of reading them into memory.

    Returns
    -------
    Artifact

    Raises
    ------
    ParameterError
        Missing file, not an artifact, or another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"no artifact at {path}: build one with `musicwb artifact build`")
    try:
        with np.load(path, allow_pickle=False) as archive, zipfile.ZipFile(path) as zipped:
            arrays: dict[str, np.ndarray] = {}
            for info in zipped.infolist():
                key = info.filename.removesuffix(".npy")
                mapped = _memmap_member(path, info) if mmap else None
                arrays[key] = (
                    mapped if mapped is not None and mapped.dtype.kind in "biuf" else archive[key]
                )
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ParameterError(f"{path} is not a musicwb sonic artifact: {exc}") from exc
    if "meta" not in arrays or json.loads(str(arrays["meta"])).get("format") != ARTIFACT_FORMAT:
        raise ParameterError(f"{path} is not a {ARTIFACT_FORMAT} file")
    return Artifact(arrays, path)
