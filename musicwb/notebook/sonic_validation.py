"""Ready tables for the sonic_validation notebook: features and fits in, DataFrames out.

The notebook only orchestrates; what it shows is computed here. Only
:func:`analysed_labels` reads the store (one read-only query); everything else is pure.

- :func:`analysed_labels`: the tracks with features, with artist, title and album as tagged;
- :func:`variants_to_compare`: the ``variant`` parameter as the variants to fit (raw always
  side by side with the one asked for);
- :func:`verdict_table`: the metric table of
  :func:`~musicwb.sonic.validation.compare_variants` with PASS/FAIL, variants side by side;
- :func:`embed_variants`: the tracks embedded by each fitted variant;
- :func:`seed_row`: the ``seed_track`` parameter as a row of the feature set;
- :func:`seed_similarities` and :func:`similarity_histogram`: how similar the seed is to
  every other track, split into same artist, same album and the rest;
- :func:`projection_frame`: a 2-D PCA projection of the embedded tracks;
- :func:`nearest_neighbours`: the ``k`` tracks most similar to the seed;
- :func:`peer_runs`: the ``peers`` parameter as Musly and bliss runs on the same files (read
  from the store, cached beside it);
- :func:`retrieval_table`: in-sample beside artist-disjoint retrieval, variants and peers.

Examples
--------
>>> import numpy as np, pandas as pd
>>> embedded = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
>>> labels = pd.DataFrame({"track_id": [7, 8, 9], "artist": ["A", "A", "B"],
...                        "title": ["x", "y", "z"], "album": ["P", "P", "Q"]})
>>> nearest_neighbours(embedded, labels, seed=0, k=1)["track_id"].tolist()
[8]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.sonic.peers import PEERS, PeerRun, run_peer
from musicwb.sonic.validation import (
    MIN_TRACKS,
    RETRIEVAL_LIFT,
    TrackIds,
    retrieval_report_frame,
)
from musicwb.sonic.whiten import VARIANTS, Variant, fit_preprocessor, l2_normalise
from musicwb.store import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables import sonic as sonic_tables
from musicwb.text import artist_key, fold

__all__ = [
    "MIN_TRACKS",
    "analysed_labels",
    "embed_variants",
    "nearest_neighbours",
    "peer_runs",
    "projection_frame",
    "retrieval_table",
    "seed_row",
    "seed_similarities",
    "similarity_histogram",
    "variant_in_use_text",
    "variants_to_compare",
    "verdict_table",
]

GROUPS = ("same album", "same artist, other album", "other")


def variant_in_use_text(*, best: str | None, in_use: str, source: str) -> str:
    """What the store's playlists use beside what this validation found best, and how to
    switch.

    Parameters
    ----------
    best : str or None
        The artist-disjoint winner among the variants (None: not measured).
    in_use, source : str
        :func:`musicwb.sonic.artifact.chosen_variant`: the variant an artifact built now
        uses, and why (``"default"`` or the validation run that chose it).

    Examples
    --------
    >>> variant_in_use_text(best="zscore", in_use="learned", source="default")
    'A playlist artifact built now uses learned (default); to use zscore, the artist-disjoint winner here, run `musicwb validate`, then `musicwb artifact build`.'
    >>> variant_in_use_text(best="learned", in_use="learned", source="default")
    'A playlist artifact built now uses learned (default), the artist-disjoint winner here.'
    """
    said = f"A playlist artifact built now uses {in_use} ({source})"
    if best is None or best == in_use:
        return said + (", the artist-disjoint winner here." if best else ".")
    return (f"{said}; to use {best}, the artist-disjoint winner here, run `musicwb validate`, "
            "then `musicwb artifact build`.")


def analysed_labels(store: Store, *, include_flagged: bool = False) -> pd.DataFrame:
    """The tracks validation uses, ordered by id (the row order of ``load_feature_set`` with
    ``include_missing=True``, as ``musicwb validate`` reads it).

    Parameters
    ----------
    store : Store
        May be read-only.
    include_flagged : bool, default False
        Keep the tracks flagged as silence, near-silence or a steady tone (left out otherwise,
        as in ``musicwb validate``).

    Returns
    -------
    pandas.DataFrame
        Columns ``track_id``, ``artist``, ``title``, ``album`` (as tagged, may be missing);
        no rows when nothing has been analysed yet.
    """
    return sonic_tables.analysed_labels(
        store, include_flagged=include_flagged, include_missing=True
    )


def peer_runs(store: Store, *, track_ids: TrackIds, peers: bool) -> list[PeerRun]:
    """Musly and bliss on the files of ``track_ids`` (none when ``peers`` is False).

    Parameters
    ----------
    store : Store
        May be read-only; the peers' per-file results are cached in its cache folder.
    track_ids : sequence of int
        The validated tracks, in their row order.
    peers : bool

    Returns
    -------
    list of PeerRun
        A peer whose package or ffmpeg is missing comes back with a note and no vectors.
    """
    if not peers:
        return []
    files = sonic_tables.track_files(store, track_ids=list(np.asarray(track_ids).tolist()))
    return [
        run_peer(
            peer,
            paths=files["path"].tolist(),
            content_hashes=files["content_hash"].astype(str).tolist(),
            cache_dir=StorePaths.of(store.path).cache,
        )
        for peer in PEERS
    ]


def retrieval_table(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`~musicwb.sonic.validation.retrieval_comparison` output as a table to read.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        One row per (method, evaluation): micro and macro means with their 95% intervals per
        score, and the peers' seconds per file.

    Examples
    --------
    >>> f = pd.DataFrame({"method": ["zscore"], "kind": ["variant"], "evaluation": ["in_sample"],
    ...                   "metric": ["map"], "micro": [0.4], "micro_low": [0.3],
    ...                   "micro_high": [0.5], "macro": [0.3], "macro_low": [0.2],
    ...                   "macro_high": [0.4], "seconds_per_file": [None]})
    >>> retrieval_table(f).loc[0, "map micro"]
    '0.400 [0.300, 0.500]'
    """
    return retrieval_report_frame({"retrieval": frame.to_dict(orient="records")})


def variants_to_compare(variant: Variant | Literal["all"]) -> tuple[Variant, ...]:
    """The variants to fit for the notebook's ``variant`` parameter.

    Parameters
    ----------
    variant : {"all", "raw", "zscore", "robust_whiten", "learned"}

    Returns
    -------
    tuple of str
        Every variant for ``"all"``; otherwise ``raw`` and the one asked for, so that the
        table always shows the raw features beside it.

    Examples
    --------
    >>> variants_to_compare("robust_whiten")
    ('raw', 'robust_whiten')
    """
    if variant == "all":
        return VARIANTS
    if variant not in VARIANTS:
        raise ParameterError(f"variant must be 'all' or one of {VARIANTS}, got {variant!r}")
    return tuple(dict.fromkeys(("raw", variant)))


def _verdict(row: pd.Series) -> str:
    if row["mean"] is None or pd.isna(row["mean"]):
        undefined = row.get("undefined")
        text = f"undefined ({int(undefined)} seeds)" if pd.notna(undefined) else "undefined"
    else:
        text = f"{row['mean']:.3f} ± {row['std']:.3f}"
        if pd.notna(row.get("lift")):
            text += f" ({row['lift']:.1f}x random)"
    return f"{text} {'PASS' if bool(row['passes']) else 'FAIL'}"


def verdict_table(table: pd.DataFrame) -> pd.DataFrame:
    """The metric table with a PASS/FAIL verdict per variant, variants side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        The first output of :func:`~musicwb.sonic.validation.compare_variants`: one row per
        (variant, metric) with ``mean``, ``std``, ``threshold``, ``baseline``, ``lift``,
        ``passes``, ``undefined``.

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``metric``, ``target``, then one column per variant holding
        ``"mean ± std PASS"`` (or ``FAIL``; retrieval metrics also show their lift over random).

    Examples
    --------
    >>> t = pd.DataFrame({"variant": ["raw"], "metric": ["topk_gap"], "mean": [0.2],
    ...                   "std": [0.05], "threshold": [0.15], "baseline": [None],
    ...                   "lift": [None], "passes": [True], "undefined": [None]})
    >>> verdict_table(t).loc[0, "raw"]
    '0.200 ± 0.050 PASS'
    """
    missing = [c for c in ("variant", "metric", "mean", "std", "passes") if c not in table]
    if missing:
        raise ParameterError(f"verdict_table: the table lacks columns {missing}")
    data = table.copy()
    data["verdict"] = data.apply(_verdict, axis=1)
    metrics = list(dict.fromkeys(data["metric"]))
    wide = data.pivot(index="metric", columns="variant", values="verdict")
    wide = wide.reindex(index=metrics, columns=list(dict.fromkeys(data["variant"])))
    first = data.drop_duplicates("metric").set_index("metric")
    targets = []
    for metric in metrics:
        threshold = first.loc[metric].get("threshold")
        baseline = first.loc[metric].get("baseline")
        if pd.notna(threshold):
            targets.append(f">= {threshold:g}")
        elif pd.notna(baseline):
            targets.append(f">= {RETRIEVAL_LIFT:g} x random ({baseline:.3f})")
        else:
            targets.append("")
    wide.insert(0, "target", targets)
    wide.columns.name = None
    return wide.reset_index()


def embed_variants(
    full: np.ndarray,
    results: dict[str, dict[str, Any]],
    *,
    segments: Sequence[np.ndarray] | None = None,
    artists: Sequence[str | None] | np.ndarray | None = None,
    albums: Sequence[str | None] | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Embed the tracks with each variant, refitted with the settings its validation used.

    Parameters
    ----------
    full : ndarray, shape (n, 137)
        The full-track vectors the variants were validated on.
    results : dict of str to dict
        The third output of :func:`~musicwb.sonic.validation.compare_variants` (``settings``
        per variant).
    segments : sequence of ndarray, each shape (n, 137), optional
        The start, mid and end vectors the validation was given (robust_whiten's within-track
        whitening).
    artists, albums : sequence, length n, optional
        The tags the learned variant is fitted on (needed for it).

    Returns
    -------
    dict of str to ndarray, shape (n, d_variant)
        In the order of ``results``.
    """
    return {
        name: fit_preprocessor(
            full,
            variant=name,
            segments=segments,
            artists=artists,
            albums=albums,
            **result["settings"],
        ).transform(full)
        for name, result in results.items()
    }


def seed_row(track_ids: TrackIds, seed_track: int) -> int:
    """The row of ``seed_track`` among the analysed tracks (0: the first one).

    Parameters
    ----------
    track_ids : sequence of int, length n
        The analysed track ids (``FeatureSet.track_ids``).
    seed_track : int
        A track id, or 0 for the first analysed track.

    Returns
    -------
    int

    Examples
    --------
    >>> seed_row([4, 9, 12], 9), seed_row([4, 9, 12], 0)
    (1, 0)
    """
    ids = np.asarray(track_ids)
    if ids.size == 0:
        raise ParameterError("no analysed tracks: run `musicwb extract` first")
    if isinstance(seed_track, bool) or not isinstance(seed_track, int | np.integer):
        raise ParameterError(f"seed_track must be a track id (int), got {seed_track!r}")
    if seed_track == 0:
        return 0
    rows = np.flatnonzero(ids == seed_track)
    if rows.size == 0:
        raise ParameterError(f"seed_track {seed_track} has no features (or is not in the store)")
    return int(rows[0])


def _check_rows(embedded: np.ndarray, labels: pd.DataFrame, seed: int | None = None) -> None:
    if embedded.ndim != 2 or embedded.shape[0] != len(labels):
        raise ParameterError(
            f"embedded has shape {embedded.shape}, expected one row per label ({len(labels)})"
        )
    if seed is not None and not 0 <= seed < len(labels):
        raise ParameterError(f"seed row {seed} is outside 0..{len(labels) - 1}")


def _same_as_seed(labels: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Same artist / same album as the seed, by the keys validation uses (never for unknowns)."""
    artists = [artist_key(a) if isinstance(a, str) else None for a in labels["artist"]]
    albums = [fold(a) or None if isinstance(a, str) else None for a in labels["album"]]
    same = []
    for keys in (artists, albums):
        own = keys[seed]
        same.append(np.array([own is not None and key == own for key in keys], dtype=bool))
    return same[0], same[1]


def _cosine_to_seed(embedded: np.ndarray, seed: int) -> np.ndarray:
    unit = l2_normalise(np.asarray(embedded, dtype=np.float64))
    return unit @ unit[seed]


def seed_similarities(
    embedded: dict[str, np.ndarray], labels: pd.DataFrame, *, seed: int
) -> pd.DataFrame:
    """Cosine similarity of the seed to every other track, per variant and relation.

    Parameters
    ----------
    embedded : dict of str to ndarray, shape (n, d)
        Per variant, the embedded tracks (rows in the order of ``labels``).
    labels : pandas.DataFrame
        ``artist`` and ``album`` per track (:func:`analysed_labels`).
    seed : int
        The seed's row.

    Returns
    -------
    pandas.DataFrame
        One row per (variant, other track): ``variant``, ``track_id``, ``similarity`` and
        ``group``: ``same album`` (the seed's album), ``same artist, other album`` or
        ``other``. Artists and albums are compared by the keys the validation metrics use
        (:func:`~musicwb.text.artist_key`, folded album names).
    """
    _check_rows(np.empty((len(labels), 0)), labels, seed)
    same_artist, same_album = _same_as_seed(labels, seed)
    group = np.where(same_album, GROUPS[0], np.where(same_artist, GROUPS[1], GROUPS[2]))
    others = np.arange(len(labels)) != seed
    frames = []
    for variant, matrix in embedded.items():
        _check_rows(matrix, labels, seed)
        frames.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "track_id": labels["track_id"].to_numpy()[others],
                    "similarity": _cosine_to_seed(matrix, seed)[others],
                    "group": group[others],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def similarity_histogram(similarities: pd.DataFrame, *, bins: int = 40) -> pd.DataFrame:
    """Histogram of :func:`seed_similarities` per variant and group, as shares of the group.

    Parameters
    ----------
    similarities : pandas.DataFrame
        ``variant``, ``group``, ``similarity``.
    bins : int, default 40
        Bins over [-1, 1].

    Returns
    -------
    pandas.DataFrame
        ``variant``, ``group``, ``bin_start``, ``bin_end``, ``tracks`` and ``share`` (tracks of
        the group in the bin / tracks of the group), empty bins left out.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ParameterError(f"bins must be a whole number of at least 2, got {bins!r}")
    edges = np.linspace(-1.0, 1.0, bins + 1)
    rows = []
    for (variant, group), part in similarities.groupby(["variant", "group"], sort=False):
        counts, _ = np.histogram(np.clip(part["similarity"], -1.0, 1.0), bins=edges)
        for i in np.flatnonzero(counts):
            rows.append(
                {
                    "variant": variant,
                    "group": group,
                    "bin_start": float(edges[i]),
                    "bin_end": float(edges[i + 1]),
                    "tracks": int(counts[i]),
                    "share": float(counts[i] / len(part)),
                }
            )
    columns = ["variant", "group", "bin_start", "bin_end", "tracks", "share"]
    return pd.DataFrame(rows, columns=columns)


def _artist_names(credits: pd.Series) -> pd.Series:
    """Each credit's main-artist name: the most frequent credit sharing its artist key."""
    keys = pd.Series([artist_key(c) if isinstance(c, str) else None for c in credits])
    named = pd.DataFrame({"key": keys, "credit": credits.to_numpy()}).dropna()
    most_frequent = (
        named.groupby(["key", "credit"]).size().sort_values(ascending=False, kind="stable")
    )
    name_of = most_frequent.reset_index().drop_duplicates("key").set_index("key")["credit"]
    return keys.map(name_of).fillna("(no artist)").set_axis(credits.index)


def projection_frame(
    embedded: np.ndarray, labels: pd.DataFrame, *, max_points: int = 3000, random_state: int = 0
) -> pd.DataFrame:
    """The embedded tracks on their first two principal components.

    Parameters
    ----------
    embedded : ndarray, shape (n, d)
        Rows in the order of ``labels``; rows are L2-normalised first (cosine geometry).
    labels : pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``album``.
    max_points : int, default 3000
        At most this many tracks are returned (a random sample; the PCA uses all).
    random_state : int, default 0

    Returns
    -------
    pandas.DataFrame
        ``pc1``, ``pc2`` and the label columns, one row per shown track; ``artist`` is the
        main artist (tracks whose credits share an
        :func:`~musicwb.text.artist_key` get the most frequent credit among them,
        so "A feat. B" is coloured as A; ``(no artist)`` when unknown) and ``credit`` the
        artist as tagged.
    """
    from sklearn.decomposition import PCA  # scikit-learn takes a second to import: only here

    _check_rows(embedded, labels)
    if len(labels) < 3:
        raise ParameterError(f"a projection needs at least 3 tracks, got {len(labels)}")
    unit = l2_normalise(np.asarray(embedded, dtype=np.float64))
    points = PCA(n_components=2, random_state=random_state).fit_transform(unit)
    frame = labels.reset_index(drop=True).copy()
    frame.insert(0, "pc2", points[:, 1])
    frame.insert(0, "pc1", points[:, 0])
    frame.insert(2, "credit", frame["artist"])
    frame["artist"] = _artist_names(frame["credit"])
    if len(frame) > max_points:
        frame = frame.sample(n=max_points, random_state=random_state).sort_index()
    return frame.reset_index(drop=True)


def nearest_neighbours(
    embedded: np.ndarray, labels: pd.DataFrame, *, seed: int, k: int = 10
) -> pd.DataFrame:
    """The ``k`` tracks most similar to the seed (cosine), with artist, title and album.

    Parameters
    ----------
    embedded : ndarray, shape (n, d)
    labels : pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``album`` in the row order of ``embedded``.
    seed : int
        The seed's row.
    k : int, default 10

    Returns
    -------
    pandas.DataFrame
        ``rank`` (1 = most similar), ``similarity``, the label columns, and ``same_artist`` /
        ``same_album`` (by the keys the validation metrics use: a featured artist
        does not make another artist).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError(f"k must be a whole number of at least 1, got {k!r}")
    _check_rows(embedded, labels, seed)
    similarity = _cosine_to_seed(embedded, seed)
    order = [i for i in np.argsort(-similarity, kind="stable") if i != seed][:k]
    frame = labels.iloc[order].reset_index(drop=True).copy()
    frame.insert(0, "similarity", similarity[order])
    frame.insert(0, "rank", np.arange(1, len(order) + 1))
    same_artist, same_album = _same_as_seed(labels, seed)
    frame["same_artist"] = same_artist[order]
    frame["same_album"] = same_album[order]
    return frame
