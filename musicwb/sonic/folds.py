"""Artist-disjoint folds and retrieval scores with intervals: "similar" measured honestly.

In-sample figures fit the preprocessing on every track, the seed's artist included; a variant
tuned (or learnt) on a library then flatters itself. Here the tracks are split into ``k`` folds
over artists (:func:`artist_folds`, scikit-learn's ``GroupKFold``: no artist in two folds);
for each fold the method is fitted on the other folds' tracks only and the fold's tracks are
scored as seeds, ranked against the whole library. Every track is scored once.

Retrieval scores per seed (:func:`retrieval_table`): same-artist precision@10, average
precision, and "same artist, other album" precision@10 (the seed's own album left out of the
ranking; only seeds whose artist has another album). :func:`summarise_retrieval` reports each
micro (mean over seeds) and macro (mean over artists), with the random baseline and a 95%
bootstrap interval that resamples artists (tracks of one artist are not independent).

Everything here is pure: arrays in, DataFrames and dicts out.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> artists = np.repeat(list("abcdef"), 5)
>>> x = np.repeat(rng.normal(size=(6, 8)), 5, axis=0) + 0.5 * rng.normal(size=(30, 8))
>>> folds = artist_folds(artists, n_folds=3)
>>> sorted(set(folds.tolist()))
[0, 1, 2]
>>> sims = cross_fitted_similarities(folds, lambda train: x @ x.T)
>>> table = retrieval_table(sims, artists=artists, albums=artists)
>>> summary = summarise_retrieval(table, n_boot=200)
>>> summary["precision_at_10"]["micro"] > 2 * summary["precision_at_10"]["baseline_micro"]
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError

__all__ = [
    "N_FOLDS",
    "RETRIEVAL_METRICS",
    "artist_folds",
    "average_precision",
    "cross_fitted_similarities",
    "retrieval_table",
    "summarise_retrieval",
]

N_FOLDS = 5
RETRIEVAL_METRICS = ("precision_at_10", "map", "other_album_p10")
"""Scores per seed; ``other_album_p10`` is undefined (NaN) unless the artist has two albums."""
N_BOOT = 1000
N_SHUFFLES = 20


def _groups(artists: Sequence[str | None] | np.ndarray) -> np.ndarray:
    """Artist keys as group labels; a track without an artist is a group of its own."""
    return np.array(
        [a if isinstance(a, str) and a else f"\0track{i}" for i, a in enumerate(artists)],
        dtype=object,
    )


def artist_folds(
    artists: Sequence[str | None] | np.ndarray, *, n_folds: int = N_FOLDS
) -> np.ndarray:
    """Fold number of each track, no artist in two folds (balanced by track count).

    Parameters
    ----------
    artists : sequence of str or None, length n
        Artist keys; a track without one is a group of its own.
    n_folds : int, default 5
        At most the number of artists (fewer artists: one fold each).

    Returns
    -------
    ndarray of int, shape (n,)

    Examples
    --------
    >>> artist_folds(["a", "a", "b", "c"], n_folds=3).tolist()
    [0, 0, 1, 2]
    """
    from sklearn.model_selection import GroupKFold

    groups = _groups(artists)
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise ParameterError(f"artist-disjoint folds need two or more artists, got {n_groups}")
    k = min(int(n_folds), n_groups)
    if k < 2:
        raise ParameterError(f"n_folds must be at least 2, got {n_folds}")
    folds = np.zeros(len(groups), dtype=np.int64)
    for fold, (_, test) in enumerate(GroupKFold(n_splits=k).split(groups, groups=groups)):
        folds[test] = fold
    # number folds by their first track, for a stable, readable order
    order = {f: i for i, f in enumerate(dict.fromkeys(folds.tolist()))}
    return np.array([order[f] for f in folds.tolist()], dtype=np.int64)


def cross_fitted_similarities(
    folds: np.ndarray, similarities_of: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Row ``i`` from a method fitted without the fold of track ``i``.

    Parameters
    ----------
    folds : ndarray of int, shape (n,)
        As :func:`artist_folds` returns them.
    similarities_of : callable
        Given the training rows (indices), fits the method on them and returns the similarity
        of every track to every track, shape (n, n), larger meaning more similar.

    Returns
    -------
    ndarray, shape (n, n)
        Not symmetric: each row comes from the fit that never saw its artist.
    """
    folds = np.asarray(folds)
    n = folds.shape[0]
    out = np.empty((n, n), dtype=np.float64)
    for fold in np.unique(folds):
        test = np.flatnonzero(folds == fold)
        sims = np.asarray(similarities_of(np.flatnonzero(folds != fold)), dtype=np.float64)
        if sims.shape != (n, n):
            raise ParameterError(f"similarities_of must return ({n}, {n}), got {sims.shape}")
        out[test] = sims[test]
    return out


def average_precision(relevant_in_order: np.ndarray) -> np.ndarray:
    """Average precision of each ranking, NaN for a ranking without a relevant item.

    Parameters
    ----------
    relevant_in_order : ndarray of bool, shape (..., n)
        Each row a ranking, best first: whether the item at that rank is relevant.

    Returns
    -------
    ndarray of float, shape (...)

    Examples
    --------
    >>> average_precision(np.array([[True, False, True], [False, False, False]])).round(3).tolist()
    [0.833, nan]
    """
    hits = np.cumsum(relevant_in_order, axis=-1)
    ranks = np.arange(1, relevant_in_order.shape[-1] + 1)
    total = hits[..., -1]
    precision_sum = np.sum(np.where(relevant_in_order, hits / ranks, 0.0), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, precision_sum / np.maximum(total, 1), np.nan)


def retrieval_table(
    similarities: np.ndarray,
    *,
    artists: Sequence[str | None] | np.ndarray,
    albums: Sequence[str | None] | np.ndarray,
    random_state: int = 0,
) -> pd.DataFrame:
    """Same-artist retrieval scores of every seed, with their random baselines.

    Parameters
    ----------
    similarities : ndarray, shape (n, n)
        Row ``i``: how similar each track is to seed ``i`` (the diagonal is ignored).
    artists, albums : sequence of str or None, length n
        None never matches.
    random_state : int, default 0
        For the shuffled rankings of the random MAP baseline.

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``row``, ``artist``, :data:`RETRIEVAL_METRICS` and ``baseline_`` of
        each (NaN where the seed's artist has no other track, or no other album).

    Examples
    --------
    >>> sims = np.array([[1, .9, .1, .2], [.9, 1, .2, .1], [.1, .2, 1, .8], [.2, .1, .8, 1]])
    >>> retrieval_table(sims, artists=list("aabb"), albums=list("xyzz"))["map"].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    sims = np.asarray(similarities, dtype=np.float64)
    n = sims.shape[0]
    artists = np.asarray(list(artists), dtype=object)
    albums = np.asarray(list(albums), dtype=object)
    if sims.shape != (n, n) or artists.shape != (n,) or albums.shape != (n,):
        raise ParameterError(
            f"need an (n, n) similarity matrix and n artists and albums; got {sims.shape}, "
            f"{artists.shape}, {albums.shape}"
        )
    rng = np.random.default_rng(random_state)
    rows = []
    nan = float("nan")
    for seed in range(n):
        others = np.delete(np.arange(n), seed)
        artist = artists[seed]
        same = (
            np.array([a == artist for a in artists[others]])
            if isinstance(artist, str)
            else np.zeros(n - 1, bool)
        )
        order = np.argsort(-sims[seed, others], kind="stable")
        row: dict[str, Any] = {"row": seed, "artist": artist if isinstance(artist, str) else None}
        n_same = int(same.sum())
        if n_same:
            ranked = same[order]
            shuffled = np.stack([same[rng.permutation(n - 1)] for _ in range(N_SHUFFLES)])
            row |= {
                "precision_at_10": float(ranked[:10].mean()),
                "map": float(average_precision(ranked[None, :])[0]),
                "baseline_precision_at_10": n_same / (n - 1),
                "baseline_map": float(np.nanmean(average_precision(shuffled))),
            }
        else:
            row |= {
                "precision_at_10": nan,
                "map": nan,
                "baseline_precision_at_10": nan,
                "baseline_map": nan,
            }
        album = albums[seed]
        same_album = (
            np.array([a == album for a in albums[others]])
            if isinstance(album, str)
            else np.zeros(n - 1, bool)
        )
        other_album = same & ~same_album & np.array([isinstance(a, str) for a in albums[others]])
        if isinstance(album, str) and other_album.any():
            keep = ~(same_album | (same & ~other_album))  # rank other albums' tracks only
            kept = order[keep[order]]
            row["other_album_p10"] = float(other_album[kept][:10].mean())
            row["baseline_other_album_p10"] = float(other_album.sum() / keep.sum())
        else:
            row["other_album_p10"] = row["baseline_other_album_p10"] = nan
        rows.append(row)
    return pd.DataFrame(rows)


def _interval(values: np.ndarray) -> tuple[float | None, float | None]:
    values = values[np.isfinite(values)]
    if not len(values):
        return None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def summarise_retrieval(
    table: pd.DataFrame, *, n_boot: int = N_BOOT, random_state: int = 0
) -> dict[str, dict[str, Any]]:
    """Micro and macro means of each retrieval score, baselines and artist-bootstrap intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`retrieval_table` returns it.
    n_boot : int, default 1000
        Bootstrap resamples of the artists (with replacement).
    random_state : int, default 0

    Returns
    -------
    dict
        Per score of :data:`RETRIEVAL_METRICS`: ``micro`` (mean over seeds where defined),
        ``micro_low``/``micro_high`` (95% interval), ``macro`` (mean of the artists' means),
        ``macro_low``/``macro_high``, ``baseline_micro``, ``baseline_macro``, ``lift`` (micro
        over its baseline), ``n_seeds``, ``n_artists``. None where undefined.
    """
    rng = np.random.default_rng(random_state)
    summary: dict[str, dict[str, Any]] = {}
    for metric in RETRIEVAL_METRICS:
        data = table[["artist", metric, f"baseline_{metric}"]].dropna()
        if data.empty:
            summary[metric] = {
                k: None
                for k in (
                    "micro",
                    "micro_low",
                    "micro_high",
                    "macro",
                    "macro_low",
                    "macro_high",
                    "baseline_micro",
                    "baseline_macro",
                    "lift",
                )
            } | {"n_seeds": 0, "n_artists": 0}
            continue
        per_artist = data.groupby("artist")[[metric, f"baseline_{metric}"]].agg(["sum", "count"])
        sums = per_artist[(metric, "sum")].to_numpy()
        counts = per_artist[(metric, "count")].to_numpy()
        means = sums / counts
        k = len(means)
        draws = rng.integers(0, k, size=(n_boot, k))
        micro_boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
        macro_boot = means[draws].mean(axis=1)
        micro = float(data[metric].mean())
        baseline = float(data[f"baseline_{metric}"].mean())
        baseline_means = per_artist[(f"baseline_{metric}", "sum")].to_numpy() / counts
        micro_low, micro_high = _interval(micro_boot)
        macro_low, macro_high = _interval(macro_boot)
        summary[metric] = {
            "micro": micro,
            "micro_low": micro_low,
            "micro_high": micro_high,
            "macro": float(means.mean()),
            "macro_low": macro_low,
            "macro_high": macro_high,
            "baseline_micro": baseline,
            "baseline_macro": float(baseline_means.mean()),
            "lift": micro / baseline if baseline > 0 else None,
            "n_seeds": len(data),
            "n_artists": k,
        }
    return summary
