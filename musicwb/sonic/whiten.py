"""Preprocessing of beat3tower vectors before cosine similarity: raw, zscore, robust_whiten, learned.

- ``raw``: the 137 numbers as extracted (cosine is dominated by the largest-valued features).
- ``zscore``: each feature centred and divided by its standard deviation (scikit-learn's
  :class:`~sklearn.preprocessing.StandardScaler`), then L2-normalised.
- ``robust_whiten``: per tower (rhythm, timbre, harmony) a median/IQR scaling, clipping at
  ±``clip``, group weights (each named feature group, e.g. the 20 MFCC medians or the centroid
  median alone, gets the same share of the tower's variance), a whitening, L2 normalisation and a
  tower weight; then the concatenation is L2-normalised again.

  The whitening is ``within_track`` when segment vectors are given: the axes along which
  tracks differ most from each other relative to how much a track's start, middle and end
  differ among themselves (the generalised eigenvectors of the between-track covariance
  against the regularised within-track covariance, as in linear discriminant analysis with
  each track as its own class; no artist or album labels). Each axis has unit within-track
  variance; the strongest axes holding ``variance`` of the total ratio are kept (the
  within-track covariance comes from at most :data:`MAX_WITHIN_TRACKS` evenly spread tracks,
  those of them longer than 60 s). Without segments (or with fewer than
  :data:`MIN_WITHIN_TRACKS` tracks longer than 60 s among them), it falls
  back to ``pca``: PCA keeping ``variance`` of the variance, each component divided by its
  standard deviation to the power ``whiten_power``.

- ``learned``: robust scaling, then a whitening against how tracks of one album (else artist)
  differ among themselves, learnt from the library's own tags; its shrinkage is chosen on
  artist folds of the fitting tracks (:mod:`musicwb.sonic.metric_learning`). The only variant
  that reads labels: validate it artist-disjoint (:mod:`musicwb.sonic.folds`).

Every variant is fitted on full-track vectors (plus, for ``within_track``, the segments of the
same tracks) and the same fitted transform is applied to the segments. The fitted parameters
are plain arrays (:meth:`Preprocessor.to_arrays`), stored with the artifact; transforming
needs only numpy.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> full = rng.normal(size=(200, 137)).astype(np.float32)
>>> prep = fit_preprocessor(full, variant="robust_whiten")
>>> embedded = prep.transform(full[:5])
>>> embedded.shape[0], bool(np.allclose(np.linalg.norm(embedded, axis=1), 1.0))
(5, True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from musicwb.errors import ParameterError
from musicwb.sonic.metric_learning import choose_reg, class_labels, fit_within_class
from musicwb.sonic.towers import feature_groups, tower_slices

__all__ = [
    "DEFAULT_SETTINGS",
    "MAX_WITHIN_TRACKS",
    "MIN_WITHIN_TRACKS",
    "VARIANTS",
    "WHITENINGS",
    "Preprocessor",
    "TowerTransform",
    "Variant",
    "Whitening",
    "fit_preprocessor",
    "l2_normalise",
]

Variant = Literal["raw", "zscore", "robust_whiten", "learned"]
"""A preprocessing variant: raw features, z-scored, robust and whitened, or learnt from tags."""
Whitening = Literal["within_track", "pca"]
"""How robust_whiten whitens a tower."""
VARIANTS: tuple[Variant, ...] = get_args(Variant)
WHITENINGS: tuple[Whitening, ...] = get_args(Whitening)
_TOWER_ARRAYS = ("columns", "center", "scale", "pca_mean", "components", "component_scale")
"""The array attributes of a :class:`TowerTransform`, saved as ``prep_<tower>_<attribute>``."""
MIN_WITHIN_TRACKS = 3  # tracks with distinct segments needed to estimate within-track spread
MAX_WITHIN_TRACKS = 4000  # tracks the within-track covariance is estimated from, at most
MAX_CHOOSE_TRACKS = 1500  # learned: tracks its shrinkage is chosen on (similarities are n x n)


def _size_weights() -> dict[str, float]:
    """Tower weights in proportion to the square root of their size, largest tower 1.

    After each tower's L2 normalisation, these give every one of the 137 features the same
    expected share of the combined similarity, as in the undivided vector (21:83:33).
    """
    sizes = {name: part.stop - part.start for name, part in tower_slices().items()}
    return {
        name: round(float(np.sqrt(size / max(sizes.values()))), 4) for name, size in sizes.items()
    }


# Measured on the 75 real tracks of shared/data/audio/realmusic (all seeds, same-artist
# precision@10 against a 0.155 random baseline). No labels go into any step; the steps were
# picked among several label-free ideas tried on that set (quantile scaling, per-feature
# reliability weights, key-rotated chroma, log-Hz spectral features, other beat aggregations:
# each within +-0.02 of 0.43), so the set is not an unseen test. The design's plain PCA
# whitening (95%, full whitening, equal towers, no group weights) gives 0.30; PCA at 70% with
# half-whitening and towers 0.5/1/0.5 gave 0.38; group weights with within-track whitening and
# size-proportional tower weights give 0.496 (3.2x; MAP 0.53, topk_gap 0.23), and 0.48-0.50
# for any variance in 0.5-1 and within_reg in 0.05-0.2. Higher variance lowers topk_gap (0.19
# at 0.95), hence 0.8.
DEFAULT_SETTINGS: dict[str, Any] = {
    "variance": 0.80,
    "clip": 3.0,
    "whitening": "within_track",
    "within_reg": 0.1,
    "whiten_power": 0.5,
    "group_weights": True,
    "tower_weights": _size_weights(),
}
_EPS = 1e-12


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows divided by their Euclidean norm (zero rows stay zero).

    >>> l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    matrix = np.asarray(matrix)
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]  # no squared temporary
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > _EPS)


@dataclass(frozen=True)
class TowerTransform:
    """The fitted transform of one tower (or of the whole vector for raw and zscore).

    Attributes
    ----------
    columns : ndarray of int, shape (d,)
        Which of the 137 features it reads.
    center, scale : ndarray, shape (d,)
        ``(x - center) / scale``; identity for raw.
    clip : float
        Clip after scaling at ±clip (``inf``: no clipping).
    pca_mean : ndarray, shape (d,)
    components : ndarray, shape (k, d)
        PCA axes (``k = 0``: no PCA).
    component_scale : ndarray, shape (k,)
        Each projection is divided by it (standard deviation ** whiten_power).
    weight : float
        The tower's weight in the concatenation (after its own L2).
    normalise : bool
        L2-normalise this tower's output.
    """

    columns: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    clip: float = float("inf")
    pca_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    component_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight: float = 1.0
    normalise: bool = False

    @property
    def n_out(self) -> int:
        """Output dimensions."""
        return int(self.components.shape[0]) if self.components.size else int(self.columns.size)

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        """Apply to rows of 137-vectors, shape (n, 137) -> (n, n_out), float32."""
        f32 = np.float32
        # fancy indexing copies: the arithmetic below works in place on that copy
        x = np.asarray(matrix)[:, self.columns].astype(f32, copy=False)
        x -= self.center.astype(f32)
        x /= self.scale.astype(f32)
        if np.isfinite(self.clip):
            np.clip(x, -self.clip, self.clip, out=x)
        if self.components.size:
            # (x - mean) @ W == x @ W - mean @ W: one pass over the rows fewer
            projection = (self.components.T / self.component_scale).astype(f32)
            x = x @ projection
            x -= self.pca_mean.astype(f32) @ projection
        if self.normalise:
            x = l2_normalise(x)
        x *= f32(self.weight)
        return x


@dataclass(frozen=True)
class Preprocessor:
    """A fitted preprocessing variant.

    Attributes
    ----------
    variant : str
        One of :data:`VARIANTS`.
    towers : dict of str to TowerTransform
        ``rhythm``, ``timbre``, ``harmony`` for robust_whiten; ``all`` for raw and zscore.
    settings : dict
        The fitting settings (variance, clip, whiten_power, tower_weights).
    n_fit : int
        Tracks it was fitted on.
    whitening_used : dict of str to str
        Per tower, ``within_track`` or ``pca`` (robust_whiten; see :func:`fit_preprocessor`);
        ``within_class`` (learned).
    """

    variant: Variant
    towers: dict[str, TowerTransform]
    settings: dict[str, Any]
    n_fit: int
    whitening_used: dict[str, str] = field(default_factory=dict)

    def transform(self, matrix: np.ndarray, *, tower: str | None = None) -> np.ndarray:
        """Embed rows of 137-vectors.

        Parameters
        ----------
        matrix : ndarray, shape (n, 137)
        tower : str, optional
            Only this tower's part (L2-normalised), for per-tower similarities; robust_whiten
            only.

        Returns
        -------
        ndarray, shape (n, n_out), float32
            L2-normalised rows (raw: unchanged values).
        """
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != 137:
            raise ParameterError(f"expected an (n, 137) matrix of features, got {matrix.shape}")
        if tower is not None:
            if tower not in self.towers:
                raise ParameterError(
                    f"variant {self.variant} has no tower {tower!r}: {list(self.towers)}"
                )
            return l2_normalise(self.towers[tower].transform(matrix))
        parts = np.hstack([t.transform(matrix) for t in self.towers.values()])
        return parts if self.variant == "raw" else l2_normalise(parts)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted parameters as named arrays (for ``numpy.savez``), see :meth:`from_arrays`."""
        arrays: dict[str, np.ndarray] = {
            "prep_meta": np.array(
                json.dumps(
                    {
                        "variant": self.variant,
                        "settings": self.settings,
                        "n_fit": self.n_fit,
                        "whitening_used": self.whitening_used,
                        "towers": {
                            name: {"clip": t.clip, "weight": t.weight, "normalise": t.normalise}
                            for name, t in self.towers.items()
                        },
                    }
                )
            )
        }
        for name, t in self.towers.items():
            for attribute in _TOWER_ARRAYS:
                arrays[f"prep_{name}_{attribute}"] = np.asarray(getattr(t, attribute))
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Preprocessor:
        """Rebuild from :meth:`to_arrays` output (a dict or a loaded ``.npz``)."""
        meta = json.loads(str(np.asarray(arrays["prep_meta"])))
        towers = {}
        for name, extra in meta["towers"].items():
            towers[name] = TowerTransform(
                **{
                    attribute: np.asarray(arrays[f"prep_{name}_{attribute}"])
                    for attribute in _TOWER_ARRAYS
                },
                clip=float(extra["clip"]),
                weight=float(extra["weight"]),
                normalise=bool(extra["normalise"]),
            )
        return cls(
            meta["variant"],
            towers,
            meta["settings"],
            int(meta["n_fit"]),
            whitening_used=meta.get("whitening_used", {}),
        )


def _robust_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and IQR of each column (IQR 1 where it is 0), as scikit-learn's RobustScaler.

    numpy's percentile over the rows of the transposed matrix, twice as fast as RobustScaler's
    column-by-column nanpercentile on tens of thousands of tracks.
    """
    q25, median, q75 = np.percentile(np.ascontiguousarray(x.T), [25, 50, 75], axis=1)
    iqr = q75 - q25
    return median, np.where(iqr > _EPS, iqr, 1.0)


def _distinct_segments(segments: list[np.ndarray]) -> np.ndarray:
    """Rows whose segments differ (tracks over 60 s; shorter ones repeat the full track)."""
    first = segments[0]
    return np.logical_or.reduce([np.any(seg != first, axis=1) for seg in segments[1:]])


def _within_track_axes(
    z: np.ndarray, segments: list[np.ndarray], *, variance: float, within_reg: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Discriminant axes of tracks against their own segments, or None when not estimable.

    Returns the axes, shape (d, k), scaled to unit within-track variance, and the ratio of
    between-track to within-track variance along each, shape (k,), strongest first.
    """
    from scipy.linalg import eigh

    stacked = np.stack(segments)  # (m, n, d)
    deviations = (stacked - stacked.mean(axis=0)).reshape(-1, z.shape[1])
    n_tracks = stacked.shape[1]
    within = deviations.T @ deviations / max(n_tracks * (stacked.shape[0] - 1), 1)
    spread = float(np.trace(within)) / z.shape[1]
    if spread <= _EPS:
        return None
    regularised = within + within_reg * spread * np.eye(z.shape[1])
    ratios, axes = eigh(np.cov(z, rowvar=False), regularised)
    order = np.argsort(ratios)[::-1]
    ratios, axes = np.clip(ratios[order], 0.0, None), axes[:, order]
    if ratios.sum() <= _EPS:
        return None
    k = int(np.searchsorted(np.cumsum(ratios) / ratios.sum(), variance - 1e-12)) + 1
    return axes[:, :k], ratios[:k]


def _robust_tower(
    x: np.ndarray,
    columns: np.ndarray,
    *,
    segments: list[np.ndarray] | None,
    group_weights: np.ndarray,
    variance: float,
    clip: float,
    whitening: Whitening,
    within_reg: float,
    whiten_power: float,
    weight: float,
) -> tuple[TowerTransform, str]:
    """Fit one tower; returns the transform and the whitening actually used."""
    from sklearn.decomposition import PCA

    center, scale = _robust_scale(x)
    scaled = np.clip((x - center) / scale, -clip, clip)
    # Group weights fold into the axes: ((s - mean) * w) @ A == (s - mean) @ (w[:, None] * A).
    weighted = scaled * group_weights
    found = None
    if whitening == "within_track" and segments is not None:
        found = _within_track_axes(
            weighted,
            [np.clip((seg - center) / scale, -clip, clip) * group_weights for seg in segments],
            variance=variance,
            within_reg=within_reg,
        )
    if found is not None:
        axes, _ = found
        components, component_scale, used = (
            (group_weights[:, None] * axes).T,
            np.ones(axes.shape[1]),
            "within_track",
        )
    else:
        n_max = min(weighted.shape)
        # covariance_eigh: eigendecomposition of the d x d covariance, fast for tall matrices
        pca = PCA(n_components=variance if variance < 1 else n_max, svd_solver="covariance_eigh")
        pca.fit(weighted)
        std = np.sqrt(np.maximum(pca.explained_variance_, _EPS))
        components, component_scale, used = (
            pca.components_ * group_weights,
            std**whiten_power,
            "pca",
        )
    transform = TowerTransform(
        columns=columns,
        center=center.astype(np.float64),
        scale=scale.astype(np.float64),
        clip=float(clip),
        pca_mean=scaled.mean(axis=0).astype(np.float64),
        components=np.asarray(components, dtype=np.float64),
        component_scale=np.asarray(component_scale, dtype=np.float64),
        weight=float(weight),
        normalise=True,
    )
    return transform, used


def fit_preprocessor(
    full: np.ndarray,
    *,
    variant: Variant = "robust_whiten",
    segments: Sequence[np.ndarray] | None = None,
    variance: float = DEFAULT_SETTINGS["variance"],
    clip: float = DEFAULT_SETTINGS["clip"],
    whitening: Whitening = DEFAULT_SETTINGS["whitening"],
    within_reg: float = DEFAULT_SETTINGS["within_reg"],
    whiten_power: float = DEFAULT_SETTINGS["whiten_power"],
    group_weights: bool = DEFAULT_SETTINGS["group_weights"],
    tower_weights: dict[str, float] | None = None,
    artists: Sequence[str | None] | np.ndarray | None = None,
    albums: Sequence[str | None] | np.ndarray | None = None,
    learn_reg: float | None = None,
) -> Preprocessor:
    """Fit a preprocessing variant on full-track vectors.

    Parameters
    ----------
    full : ndarray, shape (n_tracks, 137)
        Full-track feature vectors (at least 3 rows).
    variant : {"raw", "zscore", "robust_whiten", "learned"}
    segments : sequence of ndarray, each shape (n_tracks, 137), optional
        The same tracks' segment vectors (start, mid, end), for ``within_track`` whitening
        (robust_whiten) and as more samples of each class (learned); rows in the order of
        ``full``.
    variance : float, default 0.80
        Fraction kept (robust_whiten): of the summed between/within variance ratios for
        ``within_track``, of the variance for ``pca``; 1 keeps every axis.
    clip : float, default 3.0
        Clip the robust-scaled values at ±clip (robust_whiten).
    whitening : {"within_track", "pca"}, default "within_track"
        ``within_track`` needs ``segments`` and at least :data:`MIN_WITHIN_TRACKS` tracks whose
        segments differ; otherwise ``pca`` is used (the settings record which, per tower).
    within_reg : float, default 0.1
        Added to the within-track covariance, as a fraction of its mean variance.
    whiten_power : float, default 0.5
        ``pca`` only: components are divided by their standard deviation to this power (1 is
        full PCA whitening, 0 keeps the PCA scale).
    group_weights : bool, default True
        Give each named feature group (:func:`~musicwb.sonic.towers.feature_groups`) the same
        share of its tower's variance.
    tower_weights : dict, optional
        Weights of rhythm, timbre and harmony in the concatenation (default: square root of
        each tower's size relative to timbre's, 0.503, 1, 0.631).
    artists, albums : sequence of str or None, length n_tracks, optional
        Tags of the tracks (learned only, which needs ``artists``).
    learn_reg : float, optional
        learned: shrinkage of the within-class covariance (default: chosen among
        :data:`~musicwb.sonic.metric_learning.LEARN_REGS` on artist folds of these tracks).

    Returns
    -------
    Preprocessor

    Raises
    ------
    ParameterError
        Unknown variant or whitening, bad shapes, non-finite values or a setting out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> full = rng.normal(size=(50, 137))
    >>> parts = [full + 0.3 * rng.normal(size=full.shape) for _ in range(3)]
    >>> prep = fit_preprocessor(full, segments=parts)
    >>> prep.whitening_used
    {'rhythm': 'within_track', 'timbre': 'within_track', 'harmony': 'within_track'}
    """
    from sklearn.preprocessing import StandardScaler

    full = np.asarray(full, dtype=np.float64)
    if variant not in VARIANTS:
        raise ParameterError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if full.ndim != 2 or full.shape[1] != 137 or full.shape[0] < 3:
        raise ParameterError(
            f"fit needs an (n >= 3, 137) matrix of full-track features, got {full.shape}"
        )
    if not np.all(np.isfinite(full)):
        raise ParameterError("full-track features hold NaN or infinite values")
    if not 0 < variance <= 1 or clip <= 0 or whiten_power < 0 or within_reg <= 0:
        raise ParameterError(
            "need 0 < variance <= 1, clip > 0, whiten_power >= 0, within_reg > 0; got "
            f"{variance}, {clip}, {whiten_power}, {within_reg}"
        )
    if whitening not in WHITENINGS:
        raise ParameterError(f"whitening must be one of {WHITENINGS}, got {whitening!r}")
    learn_segments = None
    if segments is not None:
        segments = [np.asarray(seg) for seg in segments]
        learn_segments = segments
        if len(segments) < 2 or any(seg.shape != full.shape for seg in segments):
            raise ParameterError(
                f"segments: two or more matrices shaped like full {full.shape}, got "
                f"{[seg.shape for seg in segments]}"
            )
        n = full.shape[0]
        if n > MAX_WITHIN_TRACKS:  # evenly spread rows estimate a d x d covariance well
            rows = np.linspace(0, n - 1, MAX_WITHIN_TRACKS).astype(np.int64)
            segments = [seg[rows] for seg in segments]
        if not all(np.all(np.isfinite(seg)) for seg in segments):
            raise ParameterError("segment features hold NaN or infinite values")
        distinct = _distinct_segments(segments)
        segments = (
            [seg[distinct].astype(np.float64) for seg in segments]
            if distinct.sum() >= MIN_WITHIN_TRACKS
            else None
        )
    weights = {**DEFAULT_SETTINGS["tower_weights"], **(tower_weights or {})}
    unknown = set(weights) - set(DEFAULT_SETTINGS["tower_weights"])
    if unknown or any(w < 0 for w in weights.values()):
        raise ParameterError(f"tower_weights: rhythm, timbre, harmony, each >= 0; got {weights}")
    all_columns = np.arange(137)
    if variant == "learned":
        if artists is None:
            raise ParameterError("the learned variant needs the tracks' artists")
        albums = [None] * full.shape[0] if albums is None else albums
        artists, albums = (
            np.asarray(list(artists), dtype=object),
            np.asarray(list(albums), dtype=object),
        )
        if artists.shape != (full.shape[0],) or albums.shape != (full.shape[0],):
            raise ParameterError(f"artists and albums need one entry per track ({full.shape[0]})")
        if (
            learn_reg is None
        ):  # chosen on artist folds of (at most MAX_CHOOSE_TRACKS of) these tracks
            rows = np.linspace(0, full.shape[0] - 1, min(full.shape[0], MAX_CHOOSE_TRACKS))
            rows = np.unique(rows.astype(np.int64))
            learn_reg, _ = choose_reg(
                full[rows],
                artists=artists[rows],
                albums=albums[rows],
                segments=None if learn_segments is None else [seg[rows] for seg in learn_segments],
            )
        fitted = fit_within_class(
            full,
            classes=class_labels(artists, albums),
            segments=learn_segments,
            reg=learn_reg,
            clip=clip,
        )
        towers = {
            "all": TowerTransform(
                all_columns,
                fitted.center,
                fitted.scale,
                clip=fitted.clip,
                pca_mean=fitted.mean,
                components=fitted.components,
                component_scale=np.ones(fitted.components.shape[0]),
            )
        }
        settings = {"learn_reg": float(learn_reg), "clip": clip}
        used = {"all": "within_class"}
    elif variant == "raw":
        towers = {"all": TowerTransform(all_columns, np.zeros(137), np.ones(137))}
        settings: dict[str, Any] = {}
    elif variant == "zscore":
        scaler = StandardScaler().fit(full)
        towers = {
            "all": TowerTransform(
                all_columns, scaler.mean_, np.where(scaler.scale_ > _EPS, scaler.scale_, 1.0)
            )
        }
        settings = {}
    else:
        groups = np.array(feature_groups())
        towers, used = {}, {}
        for name, part in tower_slices().items():
            tower_groups = groups[part]
            if group_weights:
                sizes = {g: int(np.sum(tower_groups == g)) for g in set(tower_groups)}
                column_weights = np.array([1 / np.sqrt(sizes[g]) for g in tower_groups])
            else:
                column_weights = np.ones(tower_groups.size)
            towers[name], used[name] = _robust_tower(
                full[:, part],
                all_columns[part],
                segments=None if segments is None else [seg[:, part] for seg in segments],
                group_weights=column_weights,
                variance=variance,
                clip=clip,
                whitening=whitening,
                within_reg=within_reg,
                whiten_power=whiten_power,
                weight=weights[name],
            )
        settings = {
            "variance": variance,
            "clip": clip,
            "whitening": whitening,
            "within_reg": within_reg,
            "whiten_power": whiten_power,
            "group_weights": bool(group_weights),
            "tower_weights": weights,
        }
    return Preprocessor(
        variant,
        towers,
        settings,
        int(full.shape[0]),
        whitening_used=used if variant in ("robust_whiten", "learned") else {},
    )
