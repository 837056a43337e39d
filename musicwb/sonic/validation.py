"""Does "sonically similar" mean anything? The four metrics and two retrieval scores.

For a seed track, the cosine similarity to every other track gives:

- ``flatness`` = (p90 − p10) / median: how spread the similarities are. Undefined (NaN, never
  a pass) where the median is ≤ 0, which is usual after whitening;
- ``topk_gap`` = mean of the 30 most similar − mean of 100 random others;
- ``intra_artist`` = mean over the seed's other tracks by the same artist − mean of the random;
- ``intra_album`` = the same for its album;
- ``precision_at_10``: the fraction of the 10 nearest tracks by the seed's artist;
- ``map``: average precision of the seed artist's tracks in the ranking (mean over seeds).

The last two are compared with a random ranking (``baseline``): the expected precision@10 is
the share of same-artist tracks among the others; the random average precision is measured
over shuffled rankings. Over all seeds each metric is reported with its mean and spread.
Pass thresholds: flatness ≥ 0.5, topk_gap ≥ 0.15, intra_artist ≥ 0.05, intra_album ≥ 0.08,
precision@10 and MAP at least :data:`RETRIEVAL_LIFT` times their random baseline. A variant
``passes`` when topk_gap, intra_artist, intra_album and precision@10 pass.

Everything here is pure: arrays and DataFrames in, DataFrames and dicts out.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> artists = np.repeat(["a", "b", "c", "d"], 10)
>>> centres = rng.normal(size=(4, 137))
>>> full = np.repeat(centres, 10, axis=0) + 0.3 * rng.normal(size=(40, 137))
>>> result = validate_variant(full, variant="zscore", artists=artists, albums=artists)
>>> result["summary"]["precision_at_10"]["mean"] > 0.85  # 9 same-artist tracks: at most 0.9
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.sonic.feature_set import FeatureSet, LeftOut, load_feature_set
from musicwb.sonic.folds import (
    N_BOOT,
    N_FOLDS,
    artist_folds,
    average_precision,
    cross_fitted_similarities,
    retrieval_table,
    summarise_retrieval,
)
from musicwb.sonic.peers import Peer, PeerRun, bliss_similarities, musly_similarities, run_peer
from musicwb.sonic.whiten import VARIANTS, Variant, fit_preprocessor, l2_normalise
from musicwb.store import Store
from musicwb.store.paths import StorePaths
from musicwb.store.runs import recorded_run
from musicwb.store.tables import sonic as sonic_tables

__all__ = [
    "EVALUATIONS",
    "METRICS",
    "MIN_TRACKS",
    "RETRIEVAL_COLUMNS",
    "RETRIEVAL_LIFT",
    "THRESHOLDS",
    "best_variant",
    "compare_variants",
    "report_frame",
    "retrieval_comparison",
    "retrieval_report_frame",
    "retrieval_verdict",
    "seed_metrics",
    "seed_table",
    "similarity_matrix",
    "summarise",
    "validate_store",
    "validate_variant",
]

METRICS = ("flatness", "topk_gap", "intra_artist", "intra_album", "precision_at_10", "map")
THRESHOLDS = {"flatness": 0.5, "topk_gap": 0.15, "intra_artist": 0.05, "intra_album": 0.08}
RETRIEVAL_LIFT = 3.0
REQUIRED = ("topk_gap", "intra_artist", "intra_album", "precision_at_10")
N_TOP = 30
N_RANDOM = 100
N_SHUFFLES = 20
MIN_TRACKS = 12
MAX_RETRIEVAL_TRACKS = 3000
"""validate_store scores retrieval on at most this many tracks (evenly spread), with a note."""
"""Validation needs this many analysed tracks: a seed's 10 nearest must leave others to rank."""

Labels = np.ndarray | pd.Series | Sequence[str | None]
"""One label (artist key, album) per track, None when unknown."""
TrackIds = np.ndarray | Sequence[int]


def similarity_matrix(embedded: np.ndarray) -> np.ndarray:
    """Cosine similarity between all rows, shape (n, d) -> (n, n)."""
    unit = l2_normalise(embedded)
    return unit @ unit.T


def _labels(values: Labels, n: int, name: str) -> np.ndarray:
    array = np.asarray(pd.Series(list(values), dtype=object).where(lambda s: s.notna(), None))
    if array.shape != (n,):
        raise ParameterError(f"{name} must have one entry per track ({n}), got {array.shape}")
    return array


def seed_metrics(
    similarities: np.ndarray,
    *,
    seed: int,
    artists: Labels,
    albums: Labels,
    rng: np.random.Generator,
    n_top: int = N_TOP,
    n_random: int = N_RANDOM,
) -> dict[str, float]:
    """The metrics of one seed track.

    Parameters
    ----------
    similarities : ndarray, shape (n,)
        Cosine similarity of the seed to every track (its own entry is ignored).
    seed : int
        The seed's row index.
    artists, albums : sequence, length n
        Artist and album keys (None for unknown: never a match).
    rng : numpy.random.Generator
        Draws the random comparison tracks and the shuffled rankings.
    n_top, n_random : int

    Returns
    -------
    dict
        The :data:`METRICS`, ``baseline_p10``, ``baseline_map``, ``n_same_artist``,
        ``n_same_album``, ``median_similarity``; NaN where a metric is undefined for this seed.
    """
    n = similarities.shape[0]
    artists = _labels(artists, n, "artists")
    albums = _labels(albums, n, "albums")
    others = np.delete(np.arange(n), seed)
    sims = np.asarray(similarities, dtype=np.float64)[others]
    random_mean = float(
        sims[rng.choice(len(others), size=min(n_random, len(others)), replace=False)].mean()
    )
    p10, median, p90 = np.percentile(sims, [10, 50, 90])
    order = np.argsort(-sims, kind="stable")
    same_artist = (
        (artists[others] == artists[seed])
        if artists[seed] is not None
        else np.zeros(len(others), bool)
    )
    same_album = (
        (albums[others] == albums[seed])
        if albums[seed] is not None
        else np.zeros(len(others), bool)
    )
    n_artist, n_album = int(same_artist.sum()), int(same_album.sum())
    ranked = same_artist[order]
    shuffled = np.stack([same_artist[rng.permutation(len(others))] for _ in range(N_SHUFFLES)])
    return {
        "flatness": float((p90 - p10) / median) if median > 0 else float("nan"),
        "topk_gap": float(sims[order[:n_top]].mean() - random_mean),
        "intra_artist": float(sims[same_artist].mean() - random_mean) if n_artist else float("nan"),
        "intra_album": float(sims[same_album].mean() - random_mean) if n_album else float("nan"),
        "precision_at_10": float(ranked[:10].mean()) if n_artist else float("nan"),
        "map": float(average_precision(ranked[None, :])[0]) if n_artist else float("nan"),
        "baseline_p10": n_artist / len(others) if n_artist else float("nan"),
        "baseline_map": float(np.nanmean(average_precision(shuffled)))
        if n_artist
        else float("nan"),
        "n_same_artist": n_artist,
        "n_same_album": n_album,
        "median_similarity": float(median),
    }


def seed_table(
    embedded: np.ndarray,
    *,
    artists: Labels,
    albums: Labels,
    track_ids: TrackIds | None = None,
    seeds: TrackIds | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """The metrics of every seed (or of the given seeds), one row each.

    Parameters
    ----------
    embedded : ndarray, shape (n, d)
        Preprocessed vectors (cosine similarity is taken between rows).
    artists, albums : sequence, length n
    track_ids : sequence, length n, optional
        Default: row numbers.
    seeds : sequence of int, optional
        Row indices to use as seeds (default: all).
    random_state : int, default 0

    Returns
    -------
    pandas.DataFrame
        ``track_id`` and the columns of :func:`seed_metrics`.
    """
    n = embedded.shape[0]
    if n < MIN_TRACKS:
        raise ParameterError(
            f"validation needs at least {MIN_TRACKS} tracks with features, got {n}"
        )
    track_ids = np.arange(n) if track_ids is None else np.asarray(track_ids)
    similarities = similarity_matrix(embedded)
    rng = np.random.default_rng(random_state)
    rows = []
    for seed in range(n) if seeds is None else seeds:
        metrics = seed_metrics(
            similarities[seed], seed=int(seed), artists=artists, albums=albums, rng=rng
        )
        rows.append({"track_id": track_ids[seed], **metrics})
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> dict[str, Any]:
    """Mean and spread of each metric over the seeds, with thresholds and pass flags.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`seed_table` returns it.

    Returns
    -------
    dict
        For each of :data:`METRICS`: ``mean``, ``std``, ``n`` (seeds where it is defined),
        ``passes``, and ``threshold`` (the four similarity metrics) or ``baseline`` and
        ``lift`` (precision_at_10, map). ``flatness`` also has ``undefined`` (seeds whose
        median similarity is ≤ 0); its ``mean`` is None and it does not pass when any seed is
        undefined. Top level: ``passes`` (all of topk_gap, intra_artist, intra_album,
        precision_at_10) and ``n_seeds``.
    """
    summary: dict[str, Any] = {}
    for metric in METRICS:
        values = table[metric].astype(float)
        defined = values.dropna()
        entry: dict[str, Any] = {
            "mean": float(defined.mean()) if len(defined) else None,
            "std": float(defined.std(ddof=0)) if len(defined) else None,
            "n": len(defined),
        }
        if metric == "flatness":
            entry["undefined"] = int(values.isna().sum())
            if entry["undefined"]:
                entry["mean_where_defined"] = entry["mean"]
                entry["mean"] = None
        if metric in THRESHOLDS:
            entry["threshold"] = THRESHOLDS[metric]
            entry["passes"] = entry["mean"] is not None and entry["mean"] >= THRESHOLDS[metric]
        else:
            column = "baseline_p10" if metric == "precision_at_10" else "baseline_map"
            baseline = float(table.loc[values.notna(), column].mean()) if len(defined) else None
            entry["baseline"] = baseline
            entry["lift"] = entry["mean"] / baseline if baseline else None
            entry["passes"] = bool(entry["lift"] is not None and entry["lift"] >= RETRIEVAL_LIFT)
        summary[metric] = entry
    summary["passes"] = all(summary[m]["passes"] for m in REQUIRED)
    summary["n_seeds"] = len(table)
    return summary


def validate_variant(
    full: np.ndarray,
    *,
    variant: Variant,
    artists: Labels,
    albums: Labels,
    track_ids: TrackIds | None = None,
    seed_track: int | None = None,
    segments: Sequence[np.ndarray] | None = None,
    random_state: int = 0,
    **settings: Any,
) -> dict[str, Any]:
    """Fit a preprocessing variant on the full-track vectors and validate it over all seeds.

    Parameters
    ----------
    full : ndarray, shape (n, 137)
    variant : {"raw", "zscore", "robust_whiten"}
    artists, albums : sequence, length n
    track_ids : sequence, length n, optional
    seed_track : optional
        A track id: its own metrics are returned under ``"seed"`` too.
    segments : sequence of ndarray, each shape (n, 137), optional
        The tracks' start, mid and end vectors, for robust_whiten's within-track whitening
        (without them it falls back to PCA whitening).
    random_state : int, default 0
    **settings
        Passed to :func:`~musicwb.sonic.whiten.fit_preprocessor` (variance, whiten_power, ...).

    Returns
    -------
    dict
        ``variant``, ``settings``, ``summary`` (see :func:`summarise`), ``seeds`` (the
        DataFrame of :func:`seed_table`) and, with ``seed_track``, ``seed`` (one row as a dict).
    """
    preprocessor = fit_preprocessor(
        full, variant=variant, segments=segments, artists=artists, albums=albums, **settings
    )
    table = seed_table(
        preprocessor.transform(full),
        artists=artists,
        albums=albums,
        track_ids=track_ids,
        random_state=random_state,
    )
    result: dict[str, Any] = {
        "variant": variant,
        "settings": preprocessor.settings,
        "whitening_used": preprocessor.whitening_used,
        "summary": summarise(table),
        "seeds": table,
    }
    if seed_track is not None:
        match = table[table["track_id"] == seed_track]
        if match.empty:
            raise ParameterError(
                f"seed track {seed_track!r} has no features (or is not in the store)"
            )
        row = match.iloc[0].to_dict()
        row["passes"] = {
            metric: bool(row[metric] >= THRESHOLDS[metric]) if np.isfinite(row[metric]) else False
            for metric in THRESHOLDS
        }
        result["seed"] = row
    return result


def best_variant(results: dict[str, dict[str, Any]]) -> str:
    """The variant passing most required checks; ties go to the higher precision@10 lift, then MAP.

    Parameters
    ----------
    results : dict of str to dict
        Variant name to the output of :func:`validate_variant`.
    """

    def rank(name: str) -> tuple:
        summary = results[name]["summary"]
        passed = sum(bool(summary[m]["passes"]) for m in REQUIRED)
        return (passed, summary["precision_at_10"]["lift"] or 0.0, summary["map"]["mean"] or 0.0)

    return max(results, key=rank)


def compare_variants(
    full: np.ndarray,
    *,
    artists: Labels,
    albums: Labels,
    track_ids: TrackIds | None = None,
    variants: tuple[Variant, ...] = VARIANTS,
    segments: Sequence[np.ndarray] | None = None,
    random_state: int = 0,
    settings: dict[str, dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, str, dict[str, dict[str, Any]]]:
    """All metrics for several variants side by side, averaged over all seeds.

    Parameters
    ----------
    full : ndarray, shape (n, 137)
    artists, albums, track_ids : sequence, length n
    variants : tuple of str, default all of :data:`~musicwb.sonic.whiten.VARIANTS`
    segments : sequence of ndarray, each shape (n, 137), optional
        Start, mid and end vectors (see :func:`validate_variant`).
    random_state : int, default 0
    settings : dict, optional
        Per variant, settings for :func:`~musicwb.sonic.whiten.fit_preprocessor`.

    Returns
    -------
    table : pandas.DataFrame
        One row per (variant, metric): ``mean``, ``std``, ``threshold``, ``baseline``,
        ``lift``, ``passes``, ``undefined``.
    best : str
        :func:`best_variant` of them.
    results : dict
        Variant to :func:`validate_variant` output.
    """
    results = {
        variant: validate_variant(
            full,
            variant=variant,
            artists=artists,
            albums=albums,
            track_ids=track_ids,
            segments=segments,
            random_state=random_state,
            **(settings or {}).get(variant, {}),
        )
        for variant in variants
    }
    rows = [
        {
            "variant": variant,
            "metric": metric,
            **{
                k: result["summary"][metric].get(k)
                for k in ("mean", "std", "threshold", "baseline", "lift", "passes", "undefined")
            },
        }
        for variant, result in results.items()
        for metric in METRICS
    ]
    return pd.DataFrame(rows), best_variant(results), results


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def too_few_tracks(store: Store, *, usable: int, left_out: LeftOut) -> str:
    """Why the store cannot be validated yet, for a person: the rule, the counts and what to do.

    Parameters
    ----------
    store : musicwb.store.Store
    usable : int
        Analysed tracks validation can use (fewer than :data:`MIN_TRACKS`).
    left_out : musicwb.sonic.artifact.LeftOut
        The analysed tracks left out, and why.

    Returns
    -------
    str
    """
    coverage = sonic_tables.track_coverage(store)
    tracks, waiting, failed = coverage.tracks, coverage.waiting, coverage.failed
    text = (
        f"validation needs at least {MIN_TRACKS} analysed tracks (each track is compared with "
        f"its 10 nearest, with random others and with its artist's and album's other tracks); "
        f"this store has {usable} usable of {tracks} track(s)"
    )
    left = left_out.describe()
    if left:
        text += f"; {left}"
    if waiting:
        return text + f"; {waiting} track(s) are not analysed yet: run `musicwb extract`"
    if failed:
        return text + (
            f"; {failed} track(s) failed extraction (see `musicwb sonic-errors`; `musicwb "
            "extract --retry-errors` tries them again)"
        )
    return text + (
        "; every track is analysed already: add more music to the library (`musicwb scan "
        "FOLDER`) to validate"
    )


def _notes(features: FeatureSet) -> list[str]:
    """What limits the metrics on this library (e.g. no artist with two tracks)."""
    keys = pd.Series(features.artist_keys, dtype=object).dropna()
    counts = keys.value_counts()
    notes = []
    if not (counts >= 2).any():
        notes.append(
            "no artist has two analysed tracks: intra_artist, precision_at_10 and map are "
            "undefined, so no variant can pass; analyse more tracks per artist"
        )
    elif (counts >= 2).sum() < 2:
        notes.append(
            f"only one artist ({counts.index[0]}) has two or more analysed tracks: the "
            "artist metrics rest on it alone"
        )
    return notes


def validate_store(
    store: Store,
    *,
    variant: Variant | Literal["all"] = "all",
    seed_track: int | None = None,
    random_state: int = 0,
    include_flagged: bool = False,
    peers: Sequence[Peer] = (),
    n_folds: int = N_FOLDS,
) -> dict[str, Any]:
    """Validate the store's features: one variant, or all side by side (naming the best).

    Besides the in-sample metrics (each variant fitted on every track), the retrieval scores
    are computed artist-disjoint (:func:`retrieval_comparison`: fitted on other artists'
    tracks, ``n_folds`` folds over artists), with the ``peers`` run on the same files. With
    ``variant="all"`` the best variant is the one with the highest artist-disjoint same-artist
    precision@10 (MAP breaks ties): a variant that wins only in-sample (the learned one always
    flatters itself there) is not chosen; ``best_variant_in_sample`` keeps the former rule's
    choice.

    With ``variant="all"`` the result is recorded as a ``sonic_validation`` run, which
    :func:`musicwb.sonic.artifact.build_artifact` reads to pick the variant playlists use.
    Tracks flagged as silence, near-silence or a steady tone are left out (they are not music
    and would flatter or spoil every metric) unless ``include_flagged``; tracks whose file is
    missing keep their features and stay in.

    Parameters
    ----------
    store : musicwb.store.Store
        Writable for ``variant="all"`` (the run record).
    variant : {"all", "raw", "zscore", "robust_whiten"}
    seed_track : int, optional
        A track id whose own metrics are added under ``seed``.
    random_state : int, default 0
    include_flagged : bool, default False
    peers : sequence of {"musly", "bliss"}
        Peers to run beside (their per-file results are cached beside the store); a missing
        package or ffmpeg becomes a note.
    n_folds : int, default 5

    Returns
    -------
    dict
        One variant: ``variant``, ``n_tracks``, ``settings``, the :data:`METRICS` (each with
        ``mean``, ``std``, ``passes``, ...), ``passes`` and, with a seed, ``seed``. All:
        ``variants`` (name to that dict), ``best_variant``, ``best_settings``, ``run_id``,
        ``best_variant_in_sample``. Both: ``retrieval`` (the rows of
        :func:`retrieval_comparison`), ``retrieval_verdict`` (:func:`retrieval_verdict`),
        ``peers`` (per peer: ``ran``, ``note``, ``seconds_per_file``, ``analysed_now``) and
        ``n_folds``.
        Both: ``left_out`` (``missing``, ``flagged`` per flag, ``total``) and ``notes``
        (what limits the metrics on this library).

    Raises
    ------
    ParameterError
        Fewer than :data:`MIN_TRACKS` usable tracks: the message gives the counts and the real
        reason (not analysed yet, failed, flagged, or a library too small).
    """
    if variant != "all" and variant not in VARIANTS:
        raise ParameterError(f"variant must be 'all' or one of {VARIANTS}, got {variant!r}")
    features = load_feature_set(store, include_flagged=include_flagged, include_missing=True)
    if len(features) < MIN_TRACKS:
        raise ParameterError(
            too_few_tracks(store, usable=len(features), left_out=features.left_out)
        )
    if seed_track is not None and seed_track not in set(features.track_ids.tolist()):
        flag = sonic_tables.content_flag_of(store, track_id=seed_track)
        if flag:
            raise ParameterError(
                f"seed track {seed_track} is flagged {flag} (not music), so it is left "
                "out of validation: choose another seed, or pass --include-flagged"
            )
    left_out = features.left_out.as_dict()
    notes = _notes(features)
    chosen = VARIANTS if variant == "all" else (variant,)
    reports = {}
    for name in chosen:
        result = validate_variant(
            features.matrices["full"],
            variant=name,
            artists=features.artist_keys,
            albums=features.albums,
            track_ids=features.track_ids,
            seed_track=seed_track,
            segments=[features.matrices[segment] for segment in ("start", "mid", "end")],
            random_state=random_state,
        )
        report = {
            "variant": name,
            "n_tracks": len(features),
            "settings": result["settings"],
            "whitening_used": result["whitening_used"],
            **result["summary"],
        }
        if "seed" in result:
            report["seed"] = result["seed"]
        reports[name] = _plain(report)
    retrieval = _store_retrieval(
        store, features, variants=chosen, peers=peers, n_folds=n_folds, random_state=random_state
    )
    notes += retrieval.pop("notes")
    if variant != "all":
        return {**reports[variant], "left_out": left_out, "notes": notes, **retrieval}
    in_sample = best_variant({name: {"summary": r} for name, r in reports.items()})
    best = retrieval["retrieval_verdict"].get("best_variant_artist_disjoint") or in_sample
    combined = {
        "variants": reports,
        "best_variant": best,
        "best_variant_in_sample": in_sample,
        **retrieval,
        "best_settings": reports[best]["settings"],
        "n_tracks": len(features),
        "left_out": left_out,
        "notes": notes,
    }
    with recorded_run(
        store, kind="sonic_validation", parameters={"random_state": random_state}
    ) as run:
        run.summary = lambda: combined
    return {**combined, "run_id": run.run_id}


def _store_retrieval(
    store: Store,
    features: FeatureSet,
    *,
    variants: tuple[Variant, ...],
    peers: Sequence[Peer],
    n_folds: int,
    random_state: int,
) -> dict[str, Any]:
    """validate_store's artist-disjoint part: rows, verdict, peers and notes."""
    notes = []
    rows_used = np.arange(len(features))
    if len(features) > MAX_RETRIEVAL_TRACKS:  # n x n similarities, several fits per method
        rows_used = np.unique(
            np.linspace(0, len(features) - 1, MAX_RETRIEVAL_TRACKS).astype(np.int64)
        )
        notes.append(
            f"retrieval scores (in-sample and artist-disjoint) on {len(rows_used)} of "
            f"{len(features)} tracks, evenly spread by id"
        )
    track_ids = features.track_ids[rows_used]
    artists, albums = features.artist_keys[rows_used], features.albums[rows_used]
    runs = []
    if peers:
        files = sonic_tables.track_files(store, track_ids=track_ids.tolist())
        cache = StorePaths.of(store.path).cache
        runs = [
            run_peer(
                peer,
                paths=files["path"].tolist(),
                content_hashes=files["content_hash"].astype(str).tolist(),
                cache_dir=cache,
            )
            for peer in dict.fromkeys(peers)
        ]
    notes += [run.note for run in runs if run.note]
    peer_info = {
        run.peer: {
            "ran": run.ran,
            "note": run.note,
            "seconds_per_file": run.seconds_per_file,
            "analysed_now": run.analysed_now,
        }
        for run in runs
    }
    named = {a for a in artists.tolist() if isinstance(a, str)}
    if len(named) < 2:
        notes.append("fewer than two artists: no artist-disjoint validation")
        rows, verdict = [], {}
    else:
        frame = retrieval_comparison(
            features.matrices["full"][rows_used],
            artists=artists,
            albums=albums,
            segments=[features.matrices[segment][rows_used] for segment in ("start", "mid", "end")],
            variants=variants,
            peers=runs,
            n_folds=n_folds,
            random_state=random_state,
        )
        verdict = retrieval_verdict(frame)
        rows = [_plain(row) for row in frame.to_dict(orient="records")]
    return {
        "retrieval": rows,
        "retrieval_verdict": verdict,
        "peers": _plain(peer_info),
        "n_folds": n_folds,
        "notes": notes,
    }


def retrieval_report_frame(report: dict[str, Any]) -> pd.DataFrame:
    """The retrieval rows of a validation report as a table for a person.

    Parameters
    ----------
    report : dict
        Output of :func:`validate_store` (its ``retrieval`` rows), or a dict with them.

    Returns
    -------
    pandas.DataFrame
        One row per (method, evaluation): ``method``, ``evaluation``, then per score
        ``"micro [low, high]"`` and ``"macro [low, high]"`` texts, and ``s/file`` for peers.
    """
    frame = pd.DataFrame(report.get("retrieval") or [], columns=list(RETRIEVAL_COLUMNS))
    rows = []
    for (method, evaluation), group in frame.groupby(["method", "evaluation"], sort=False):
        row: dict[str, Any] = {"method": method, "evaluation": evaluation}
        for entry in group.to_dict(orient="records"):
            for average in ("micro", "macro"):
                value = entry[average]
                low, high = entry[f"{average}_low"], entry[f"{average}_high"]
                text = "" if value is None or pd.isna(value) else f"{value:.3f}"
                if text and low is not None and pd.notna(low):
                    text += f" [{low:.3f}, {high:.3f}]"
                row[f"{entry['metric']} {average}"] = text
        seconds = group["seconds_per_file"].iloc[0]
        row["s/file"] = "" if seconds is None or pd.isna(seconds) else f"{seconds:.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def report_frame(report: dict[str, Any]) -> pd.DataFrame:
    """A validation report (one variant or all) as a table: metric rows, variant columns.

    Parameters
    ----------
    report : dict
        Output of :func:`validate_store`.

    Returns
    -------
    pandas.DataFrame
        ``metric`` then, per variant, ``"<variant>"`` formatted as ``mean ± std`` with
        ``✓``/``✗`` for its pass, plus the random ``baseline`` of the retrieval metrics.
    """
    reports = report.get("variants") or {report["variant"]: report}
    rows = []
    for metric in METRICS:
        row: dict[str, Any] = {"metric": metric}
        for name, r in reports.items():
            entry = r[metric]
            mean = entry["mean"]
            if mean is None:
                text = f"undefined ({entry.get('undefined', 0)} seeds)"
            else:
                text = f"{mean:.3f} ± {entry['std']:.3f}"
            if entry.get("lift") is not None:
                text += f" ({entry['lift']:.1f}x)"
            row[name] = f"{text} {'✓' if entry['passes'] else '✗'}"
        first = next(iter(reports.values()))[metric]
        row["target"] = (
            f">= {first['threshold']}"
            if "threshold" in first
            else f">= {RETRIEVAL_LIFT:g} x {first['baseline']:.3f}"
            if first.get("baseline")
            else ""
        )
        rows.append(row)
    return pd.DataFrame(rows)


Evaluation = Literal["in_sample", "artist_disjoint"]
"""How a method is scored: fitted on every track, or on other artists' tracks only."""
EVALUATIONS: tuple[Evaluation, ...] = ("in_sample", "artist_disjoint")
RETRIEVAL_COLUMNS = (
    "method",
    "kind",
    "evaluation",
    "metric",
    "micro",
    "micro_low",
    "micro_high",
    "macro",
    "macro_low",
    "macro_high",
    "baseline_micro",
    "baseline_macro",
    "lift",
    "n_seeds",
    "n_artists",
    "seconds_per_file",
)


def _variant_similarities(
    full: np.ndarray,
    *,
    variant: Variant,
    artists: np.ndarray,
    albums: np.ndarray,
    segments: Sequence[np.ndarray] | None,
    settings: dict[str, Any],
) -> Callable[[np.ndarray], np.ndarray]:
    """Given training rows, the cosine similarities of all tracks under the variant fitted on them."""

    def similarities(train: np.ndarray) -> np.ndarray:
        preprocessor = fit_preprocessor(
            full[train],
            variant=variant,
            segments=None if segments is None else [np.asarray(s)[train] for s in segments],
            artists=artists[train],
            albums=albums[train],
            **settings,
        )
        return similarity_matrix(preprocessor.transform(full))

    return similarities


def retrieval_comparison(
    full: np.ndarray,
    *,
    artists: Labels,
    albums: Labels,
    segments: Sequence[np.ndarray] | None = None,
    variants: tuple[Variant, ...] = VARIANTS,
    peers: Sequence[PeerRun] = (),
    n_folds: int = N_FOLDS,
    n_boot: int = N_BOOT,
    random_state: int = 0,
    settings: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Retrieval scores of variants and peers, in-sample and artist-disjoint, side by side.

    In-sample: each method is fitted on every track. Artist-disjoint: on
    :func:`~musicwb.sonic.folds.artist_folds`, fitted on the other folds' artists and scored
    on the fold's tracks (ranked against the whole library); every track is scored once. The
    learned variant chooses its shrinkage inside each training fold (nested), never on the
    scored artists.

    Parameters
    ----------
    full : ndarray, shape (n, 137)
    artists, albums : sequence, length n
    segments : sequence of ndarray, each shape (n, 137), optional
    variants : tuple of str, default every variant
    peers : sequence of PeerRun
        :func:`~musicwb.sonic.peers.run_peer` outputs for the same tracks; those that did not
        run are skipped (their note belongs in the report).
    n_folds : int, default 5
    n_boot : int, default 1000
    random_state : int, default 0
    settings : dict, optional
        Per variant, settings for :func:`~musicwb.sonic.whiten.fit_preprocessor`.

    Returns
    -------
    pandas.DataFrame
        One row per (method, evaluation, metric) with the columns :data:`RETRIEVAL_COLUMNS`
        (``kind``: ``variant``, ``peer`` or ``random``; see
        :func:`~musicwb.sonic.folds.summarise_retrieval`).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> artists = np.repeat(list("abcdef"), 6)
    >>> full = np.repeat(rng.normal(size=(6, 137)), 6, axis=0) + rng.normal(size=(36, 137))
    >>> frame = retrieval_comparison(full, artists=artists, albums=artists,
    ...                              variants=("zscore",), n_folds=3, n_boot=100)
    >>> sorted(set(frame["method"])), sorted(set(frame["evaluation"]))
    (['random', 'zscore'], ['artist_disjoint', 'in_sample'])
    """
    full = np.asarray(full, dtype=np.float64)
    n = full.shape[0]
    artists = _labels(artists, n, "artists")
    albums = _labels(albums, n, "albums")
    folds = artist_folds(artists, n_folds=n_folds)
    everything = np.arange(n)
    methods: list[tuple[str, str, Callable[[np.ndarray], np.ndarray], float | None, tuple]] = []
    for variant in variants:
        similarities = _variant_similarities(
            full,
            variant=variant,
            artists=artists,
            albums=albums,
            segments=segments,
            settings=(settings or {}).get(variant, {}),
        )
        methods.append((variant, "variant", similarities, None, ()))
    for run in peers:
        if not run.ran:
            continue
        compute = bliss_similarities if run.peer == "bliss" else musly_similarities
        ok = np.setdiff1d(everything, np.asarray(run.failed, dtype=np.int64))

        def peer_similarities(train: np.ndarray, compute=compute, vectors=run.vectors, ok=ok):
            sims = np.full((n, n), -np.inf)
            fitted = compute(vectors[ok], train=np.searchsorted(ok, np.intersect1d(train, ok)))
            sims[np.ix_(ok, ok)] = fitted
            return sims

        methods.append((run.peer, "peer", peer_similarities, run.seconds_per_file, run.failed))
    rows = []
    for name, kind, similarities, seconds, failed in methods:
        for evaluation in EVALUATIONS:
            sims = (
                similarities(everything)
                if evaluation == "in_sample"
                else cross_fitted_similarities(folds, similarities)
            )
            table = retrieval_table(sims, artists=artists, albums=albums, random_state=random_state)
            table = table[~table["row"].isin(failed)]
            summary = summarise_retrieval(table, n_boot=n_boot, random_state=random_state)
            for metric, entry in summary.items():
                rows.append(
                    {
                        "method": name,
                        "kind": kind,
                        "evaluation": evaluation,
                        "metric": metric,
                        **entry,
                        "seconds_per_file": seconds,
                    }
                )
                if name == variants[0] if variants else False:
                    rows.append(
                        {
                            "method": "random",
                            "kind": "random",
                            "evaluation": evaluation,
                            "metric": metric,
                            "micro": entry["baseline_micro"],
                            "macro": entry["baseline_macro"],
                            "baseline_micro": entry["baseline_micro"],
                            "baseline_macro": entry["baseline_macro"],
                            "lift": 1.0,
                            "n_seeds": entry["n_seeds"],
                            "n_artists": entry["n_artists"],
                        }
                    )
    return pd.DataFrame(rows).reindex(columns=list(RETRIEVAL_COLUMNS))


def retrieval_verdict(frame: pd.DataFrame, *, metric: str = "precision_at_10") -> dict[str, Any]:
    """Which method wins where, and the variant to use by default (the artist-disjoint winner).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`retrieval_comparison` output.
    metric : str, default "precision_at_10"
        The score that decides (micro; MAP breaks ties).

    Returns
    -------
    dict
        ``best_in_sample`` and ``best_artist_disjoint`` (any method, peers included),
        ``best_variant_in_sample`` and ``best_variant_artist_disjoint`` (variants only),
        ``best_artist_disjoint_macro`` (by the mean over artists),
        ``wins_only_in_sample`` (variants best in-sample that are not best artist-disjoint),
        ``sentence`` (for a person).
    """

    def best(evaluation: str, kinds: tuple[str, ...], average: str = "micro") -> str | None:
        chosen = frame[(frame["evaluation"] == evaluation) & frame["kind"].isin(kinds)]
        if average not in chosen or chosen[average].isna().all():
            return None
        rows = chosen.pivot_table(index="method", columns="metric", values=average, aggfunc="first")
        if rows.empty or metric not in rows:
            return None
        ranked = rows.sort_values([metric, "map"], ascending=False)
        return str(ranked.index[0])

    verdict = {
        "best_in_sample": best("in_sample", ("variant", "peer")),
        "best_artist_disjoint": best("artist_disjoint", ("variant", "peer")),
        "best_variant_in_sample": best("in_sample", ("variant",)),
        "best_artist_disjoint_macro": best("artist_disjoint", ("variant", "peer"), "macro"),
        "best_variant_artist_disjoint": best("artist_disjoint", ("variant",)),
    }
    only = [
        m
        for m in {verdict["best_in_sample"], verdict["best_variant_in_sample"]}
        if m is not None
        and m not in {verdict["best_artist_disjoint"], verdict["best_variant_artist_disjoint"]}
    ]
    verdict["wins_only_in_sample"] = sorted(only)

    def value(method: str | None, evaluation: str) -> str:
        row = frame[
            (frame["method"] == method)
            & (frame["evaluation"] == evaluation)
            & (frame["metric"] == metric)
        ]
        return f"{row['micro'].iloc[0]:.3f}" if len(row) else "?"

    sentence = (
        f"Artist-disjoint (fitted on other artists), {verdict['best_artist_disjoint']} wins "
        f"with same-artist precision@10 {value(verdict['best_artist_disjoint'], 'artist_disjoint')}"
        f"; in-sample, {verdict['best_in_sample']} wins with "
        f"{value(verdict['best_in_sample'], 'in_sample')}."
    )
    if only:
        sentence += (
            f" {', '.join(only)} wins only in-sample: that lead does not carry to unseen artists."
        )
    macro = verdict["best_artist_disjoint_macro"]
    if macro is not None and macro != verdict["best_artist_disjoint"]:
        sentence += (
            f" Averaged over artists (macro) rather than tracks, {macro} wins artist-disjoint."
        )
    if verdict["best_variant_artist_disjoint"] != verdict["best_artist_disjoint"]:
        sentence += (
            f" Best musicwb variant artist-disjoint: {verdict['best_variant_artist_disjoint']} "
            f"({value(verdict['best_variant_artist_disjoint'], 'artist_disjoint')})."
        )
    verdict["sentence"] = sentence
    return verdict
