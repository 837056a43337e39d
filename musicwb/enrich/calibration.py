"""Calibrated confidences for the label hunter's offline tiers, measured by masking known labels.

A tier's raw score (its sum of named parts, see :mod:`musicwb.enrich.tiers`) orders findings
but is no probability: on the DJ Mix Dataset's dev corpus, the artist's most frequent label in
the rest of the corpus is right 38% of the time, and the raw score (0.50-0.75) says little of
which 38%. Here each known label is hidden in turn, the tier is asked for it from
the rest of the library (or corpus), and an isotonic map from raw score to observed precision
is fitted (scikit-learn). The hunter then states the mapped value as the finding's confidence.

- :func:`measure_samples`: one row per masked track a tier made a finding for (``raw``,
  ``correct``, ``group`` = the artist, so folds never split an artist).
- :func:`check_calibration`: held-out check: folds by artist, the map fitted on the others,
  the held-out findings cut into deciles of stated confidence, stated against observed.
- :func:`calibrate`: measure, check, fit on all and store (table ``label_calibrations``, with
  the date and sample size); :func:`latest_calibrations` is what ``hunt-labels`` uses.

Without a stored calibration the library tier uses :data:`DEFAULT_LIBRARY_CALIBRATION`, fitted
on the dev corpus (44,510 distinct labelled tracks, 23,843 library-tier findings); the title tier
keeps the design's 0.60-0.70 until the user's store has been measured (the dev corpus's titles
carry their label in the bracket it is measured against, so they cannot test that tier). The
corpus has no albums: the library tier's album findings (raw 0.75-0.90) take the map's top
value until the user's store, where albums are measured with the rest, has been calibrated.

Examples
--------
>>> import pandas as pd
>>> tracks = pd.DataFrame({"id": range(6), "artist": ["A"] * 6, "album": [None] * 6,
...                        "title": ["t"] * 6, "path": [None] * 6,
...                        "label": ["Kompakt"] * 5 + ["Ostgut Ton"]})
>>> samples = measure_samples(tracks, tier="library")
>>> len(samples), int(samples["correct"].sum())  # the Ostgut Ton track is told Kompakt
(6, 5)
>>> DEFAULT_LIBRARY_CALIBRATION.confidence(0.75) > DEFAULT_LIBRARY_CALIBRATION.confidence(0.55)
True
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from musicwb.enrich.tiers import LibraryKnowledge, LibraryTier, TitleTier, same_label
from musicwb.errors import ParameterError, SourceError
from musicwb.store import Store
from musicwb.store.tables import labels as tables
from musicwb.text import artist_key, fold, label_key
from musicwb.titles import parse_title

__all__ = [
    "CALIBRATED_TIERS",
    "DEFAULT_LIBRARY_CALIBRATION",
    "MIN_SAMPLE",
    "CalibrationResult",
    "Corpus",
    "TierCalibration",
    "calibrate",
    "calibration_table",
    "check_calibration",
    "djmix_tracks",
    "fit_calibration",
    "latest_calibrations",
    "measure_samples",
]

CalibratedTier = Literal["library", "title"]
CALIBRATED_TIERS: tuple[CalibratedTier, ...] = get_args(CalibratedTier)
Corpus = Literal["store", "djmix"]
MIN_SAMPLE = 50
"""Fewer findings than this measure nothing reliable: no calibration is stored for the tier."""
MAX_CONFIDENCE = 0.99
DECILES = 10
_CORPUS_NAMES = {
    "store": "this store",
    "djmix": "the DJ Mix Dataset",
    "default": "the DJ Mix Dataset (built-in default)",
}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class TierCalibration:
    """A tier's map from raw score to observed precision (piecewise linear between points).

    Attributes
    ----------
    tier : str
    corpus : {"store", "djmix", "default"}
    measured_at : datetime
    sample_size : int
        Findings measured.
    precision : float
        Their overall observed precision.
    x, y : tuple of float
        Raw scores and the precision mapped to them (increasing; isotonic).
    heldout : dict
        The held-out check (``max_gap``, ``deciles``), when measured.

    Examples
    --------
    >>> cal = TierCalibration(tier="title", corpus="store", measured_at=datetime(2026, 1, 1),
    ...                       sample_size=80, precision=0.8, x=(0.6, 0.7), y=(0.7, 0.9))
    >>> cal.confidence(0.65), cal.confidence(0.9)
    (0.8, 0.9)
    """

    tier: str
    corpus: str
    measured_at: datetime
    sample_size: int
    precision: float
    x: tuple[float, ...]
    y: tuple[float, ...]
    heldout: dict = field(default_factory=dict, compare=False)

    def confidence(self, raw: float) -> float:
        """The calibrated confidence of a raw score (at most 0.99)."""
        return round(min(float(np.interp(raw, self.x, self.y)), MAX_CONFIDENCE), 4)

    def describe(self) -> str:
        """``calibrated on this store (360 findings, 2026-12-06)``."""
        where = _CORPUS_NAMES.get(self.corpus, self.corpus)
        return f"calibrated on {where} ({self.sample_size} findings, {self.measured_at:%Y-%m-%d})"


# Fitted by `calibrate(corpus="djmix")` on djmix-dataset-dev.json (all 23,843 findings; the
# held-out check is seed 0's, re-measured by tests/test_labels_calibration.py); x = the raw
# score, y = the precision observed for it.
_DEFAULT_X = (
    0.5032, 0.5042, 0.5046, 0.5052, 0.506, 0.5088, 0.5093, 0.5128, 0.5139, 0.5197, 0.5208,
    0.525, 0.5256, 0.5303, 0.5312, 0.5401, 0.5417, 0.553, 0.5536, 0.5694, 0.57, 0.5811,
    0.5833, 0.6176, 0.6184, 0.6204, 0.6216, 0.6447, 0.6452, 0.65, 0.6522, 0.6597, 0.66,
    0.67, 0.6711, 0.6944, 0.6964, 0.7, 0.7031, 0.7188, 0.7212, 0.7333, 0.7344, 0.75,
)  # fmt: skip
_DEFAULT_Y = (
    0.0, 0.052632, 0.059701, 0.059701, 0.108108, 0.108108, 0.116864, 0.116864, 0.140011,
    0.140011, 0.207482, 0.207482, 0.226308, 0.226308, 0.264531, 0.264531, 0.292494,
    0.292494, 0.32965, 0.32965, 0.343425, 0.343425, 0.482494, 0.482494, 0.561905, 0.561905,
    0.56868, 0.56868, 0.579251, 0.579251, 0.631206, 0.631206, 0.671072, 0.671072, 0.692308,
    0.692308, 0.72973, 0.72973, 0.799443, 0.799443, 0.873913, 0.873913, 0.898004, 0.898004,
)  # fmt: skip
DEFAULT_LIBRARY_CALIBRATION = TierCalibration(
    tier="library",
    corpus="default",
    measured_at=datetime(2026, 12, 6),
    sample_size=23843,
    precision=0.3815,
    x=_DEFAULT_X,
    y=_DEFAULT_Y,
    heldout={
        "folds": 5,
        "seed": 0,
        "max_gap": 0.0398,
        "deciles": [
            {"decile": 1, "n": 2385, "stated": 0.1223, "observed": 0.1346},
            {"decile": 2, "n": 2385, "stated": 0.1886, "observed": 0.1904},
            {"decile": 3, "n": 2385, "stated": 0.2211, "observed": 0.213},
            {"decile": 4, "n": 2384, "stated": 0.2761, "observed": 0.2907},
            {"decile": 5, "n": 2384, "stated": 0.3174, "observed": 0.3284},
            {"decile": 6, "n": 2384, "stated": 0.3529, "observed": 0.3213},
            {"decile": 7, "n": 2384, "stated": 0.4795, "observed": 0.5193},
            {"decile": 8, "n": 2384, "stated": 0.5009, "observed": 0.487},
            {"decile": 9, "n": 2384, "stated": 0.5928, "observed": 0.578},
            {"decile": 10, "n": 2384, "stated": 0.7636, "observed": 0.7521},
        ],
    },
)


# -- measuring -------------------------------------------------------------------------------


def measure_samples(tracks: pd.DataFrame, *, tier: CalibratedTier) -> pd.DataFrame:
    """Hide each known label in turn and ask the tier for it from the rest.

    Parameters
    ----------
    tracks : pandas.DataFrame
        The labelled tracks: ``id``, ``artist``, ``album``, ``title``, ``path``, ``label``
        (shape ``(n, 6)``; rows without a label are ignored).
    tier : {"library", "title"}

    Returns
    -------
    pandas.DataFrame
        One row per track the tier made a finding for: ``track_id``, ``tier``, ``raw`` (the
        uncalibrated confidence), ``correct`` (bool: the hidden label), ``group`` (artist key).
    """
    if tier not in CALIBRATED_TIERS:
        raise ParameterError(f"tier must be one of {', '.join(CALIBRATED_TIERS)}, got {tier!r}")
    tracks = tracks[tracks["label"].notna()].reset_index(drop=True)
    knowledge = LibraryKnowledge.from_frame(tracks[["id", "artist", "album", "label"]])
    label_counts = Counter(label_key(label) for label in tracks["label"])
    finder = (
        LibraryTier(knowledge, min_share=LibraryTier.CALIBRATED_MIN_SHARE)
        if tier == "library"
        else TitleTier(knowledge)
    )
    rows = []
    for track in tracks.astype(object).where(tracks.notna(), None).to_dict("records"):
        # LibraryTier leaves the track itself out; the title tier's "known label" bonus must
        # not come from the hidden label alone.
        finding = finder.find(track, query=None, mode="fast", assist=None)
        if finding is None:
            continue
        raw = finding.confidence
        own = label_key(finding.label) == label_key(track["label"])
        if "known_label" in finding.parts and own and label_counts[label_key(track["label"])] < 2:
            raw = round(raw - finding.parts["known_label"], 4)
        rows.append({
            "track_id": int(track["id"]), "tier": tier, "raw": float(raw),
            "correct": bool(same_label(finding.label, track["label"])),
            "group": artist_key(track["artist"]) or f"#{track['id']}",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["track_id", "tier", "raw", "correct", "group"])


def djmix_tracks(path: str | Path) -> pd.DataFrame:
    """The DJ Mix Dataset's labelled entries as a library: one row per distinct track.

    An entry ``[mm] Artist - Title (Mix) [Label - Cat]`` gives artist, title and label; entries
    of one artist and title (played in several mixes) are one track, with its most written
    label.

    Parameters
    ----------
    path : str or Path
        ``djmix-dataset-dev.json``.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``artist``, ``album`` (None), ``title``, ``path`` (None), ``label``.

    Raises
    ------
    SourceError
        The file cannot be read as the dataset.
    """
    path = Path(path)
    try:
        mixes = json.loads(path.read_text("utf-8"))
        entries = [e["title"] for mix in mixes for e in mix["tracklist"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{path}: not a readable DJ Mix Dataset file: {exc}") from exc
    rows = []
    for raw in entries:
        if not isinstance(raw, str):
            continue
        parsed = parse_title(raw, source="tracklist")
        if parsed.artist and parsed.title and parsed.label:
            rows.append((parsed.artist, parsed.title, parsed.label))
    frame = pd.DataFrame(rows, columns=["artist", "title", "label"])
    frame["artist_key"] = frame["artist"].map(artist_key)
    frame["title_key"] = frame["title"].map(fold)
    frame = frame[frame["artist_key"].notna()]
    tracks = (
        frame.groupby(["artist_key", "title_key"], sort=True)
        .agg(artist=("artist", "first"), title=("title", "first"),
             label=("label", lambda s: s.mode().iloc[0]))
        .reset_index(drop=True)
    )  # fmt: skip
    tracks.insert(0, "id", np.arange(len(tracks), dtype=np.int64))
    tracks["album"] = None
    tracks["path"] = None
    return tracks[["id", "artist", "album", "title", "path", "label"]]


# -- fitting and checking --------------------------------------------------------------------


def _isotonic(raw: np.ndarray, correct: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, correct)
    x = tuple(round(float(v), 6) for v in model.X_thresholds_)
    y = tuple(round(float(v), 6) for v in model.y_thresholds_)
    return x, y


def fit_calibration(
    samples: pd.DataFrame, *, tier: str, corpus: str, measured_at: datetime | None = None
) -> TierCalibration:
    """The isotonic map of one tier's samples (see :func:`measure_samples`).

    Raises
    ------
    ParameterError
        Fewer than :data:`MIN_SAMPLE` samples.
    """
    samples = samples[samples["tier"] == tier]
    if len(samples) < MIN_SAMPLE:
        raise ParameterError(
            f"{tier}: {len(samples)} finding(s) on masked labels, at least {MIN_SAMPLE} needed"
        )
    x, y = _isotonic(samples["raw"].to_numpy(float), samples["correct"].to_numpy(float))
    return TierCalibration(
        tier=tier, corpus=corpus, measured_at=measured_at or _now(), sample_size=len(samples),
        precision=round(float(samples["correct"].mean()), 4), x=x, y=y,
    )  # fmt: skip


def _deciles(stated: np.ndarray, correct: np.ndarray, *, rng: np.random.Generator) -> list[dict]:
    # Ties of an isotonic step are cut at random, not in the corpus's order (which groups
    # artists and would put their hits and misses in different deciles).
    order = np.lexsort((rng.random(len(stated)), stated))
    return [
        {"decile": i + 1, "n": len(chunk), "stated": round(float(stated[chunk].mean()), 4),
         "observed": round(float(correct[chunk].mean()), 4)}
        for i, chunk in enumerate(np.array_split(order, DECILES)) if len(chunk)
    ]  # fmt: skip


def check_calibration(
    samples: pd.DataFrame, *, tier: str, folds: int = 5, seed: int = 0
) -> pd.DataFrame:
    """Stated against observed precision on held-out artists, per decile.

    The artists are dealt into ``folds`` folds at random (``seed``); each fold's findings get
    the map fitted on the other folds. The deciles of stated confidence are cut over all
    held-out findings together (``fold`` = ``"all"``) and within each fold.

    Parameters
    ----------
    samples : pandas.DataFrame
        From :func:`measure_samples`.
    tier : str
    folds : int, default 5
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``seed``, ``fold``, ``decile``, ``n``, ``stated``, ``observed``, ``gap``
        (stated − observed).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> raw = rng.uniform(0.5, 0.75, 2000)
    >>> samples = pd.DataFrame({"tier": "library", "raw": raw,
    ...                         "correct": rng.random(2000) < 2 * raw - 0.6,
    ...                         "group": rng.integers(0, 400, 2000).astype(str)})
    >>> table = check_calibration(samples, tier="library")
    >>> bool(table.loc[table["fold"] == "all", "gap"].abs().max() < 0.1)
    True
    """
    if folds < 2:
        raise ParameterError(f"folds must be at least 2, got {folds}")
    samples = samples[samples["tier"] == tier].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    groups = samples["group"].astype(str)
    names = groups.unique()
    fold_of = dict(zip(names, rng.permutation(len(names)) % folds, strict=True))
    fold = groups.map(fold_of).to_numpy()
    raw = samples["raw"].to_numpy(float)
    correct = samples["correct"].to_numpy(float)
    stated = np.full(len(samples), np.nan)
    for k in range(folds):
        held = fold == k
        if held.all() or not held.any():
            continue
        x, y = _isotonic(raw[~held], correct[~held])
        stated[held] = np.minimum(np.interp(raw[held], x, y), MAX_CONFIDENCE)
    known = ~np.isnan(stated)
    rows = [{"fold": "all", **row} for row in _deciles(stated[known], correct[known], rng=rng)]
    for k in range(folds):
        held = (fold == k) & known
        rows += [{"fold": str(k + 1), **row}
                 for row in _deciles(stated[held], correct[held], rng=rng)]  # fmt: skip
    table = pd.DataFrame(rows, columns=["fold", "decile", "n", "stated", "observed"])
    table.insert(0, "seed", seed)
    table.insert(0, "tier", tier)
    table["gap"] = (table["stated"] - table["observed"]).round(4)
    return table


# -- storing and using -----------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` measured.

    Attributes
    ----------
    calibrations : tuple of TierCalibration
        Fitted (and stored, unless ``save=False``).
    deciles : pandas.DataFrame
        The held-out check of each tier (:func:`check_calibration`).
    skipped : dict of str to str
        Tiers not calibrated, with the reason.
    """

    calibrations: tuple[TierCalibration, ...]
    deciles: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line per tier."""
        lines = []
        for cal in self.calibrations:
            gap = cal.heldout.get("max_gap")
            lines.append(
                f"{cal.tier}: {cal.sample_size} findings on masked labels, precision "
                f"{cal.precision:.1%}; held-out max |stated − observed| per decile "
                f"{gap:.3f}; {cal.describe()}"
            )
        lines += [f"{tier}: not calibrated ({reason})" for tier, reason in self.skipped.items()]
        return "\n".join(lines) or "nothing measured"

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly values (the ``--json`` output)."""
        return {
            "calibrations": [
                {"tier": c.tier, "corpus": c.corpus, "measured_at": c.measured_at.isoformat(),
                 "sample_size": c.sample_size, "precision": c.precision,
                 "max_gap": c.heldout.get("max_gap"), "x": list(c.x), "y": list(c.y)}
                for c in self.calibrations
            ],
            "deciles": self.deciles.to_dict("records"),
            "skipped": dict(self.skipped),
        }  # fmt: skip


def calibrate(
    store: Store,
    *,
    corpus: Corpus = "store",
    djmix_path: str | Path | None = None,
    tiers: Sequence[str] = CALIBRATED_TIERS,
    folds: int = 5,
    seed: int = 0,
    save: bool = True,
) -> CalibrationResult:
    """Measure the offline tiers on masked labels, check on held-out artists, store the maps.

    Parameters
    ----------
    store : Store
        Its user's labels are measured (``corpus="store"``); the calibrations are stored in it.
    corpus : {"store", "djmix"}
    djmix_path : str or Path, optional
        The dataset file, for ``corpus="djmix"``.
    tiers : sequence of str, default ("library", "title")
    folds, seed : int
        Of the held-out check (:func:`check_calibration`).
    save : bool, default True
        Store the fitted maps (``hunt-labels`` uses each tier's latest).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ParameterError
        An unknown corpus or tier, or ``djmix`` without a path.
    """
    if corpus not in get_args(Corpus):
        raise ParameterError(f"corpus must be store or djmix, got {corpus!r}")
    wrong = [t for t in tiers if t not in CALIBRATED_TIERS]
    if wrong:
        raise ParameterError(
            f"unknown tier(s) {', '.join(wrong)}; calibrated: {', '.join(CALIBRATED_TIERS)}"
        )
    if corpus == "djmix":
        if djmix_path is None:
            raise ParameterError("--djmix PATH is needed to calibrate on the DJ Mix Dataset")
        tracks = djmix_tracks(djmix_path)
    else:
        tracks = tables.user_labelled_tracks(store=store)
    measured_at = _now()
    calibrations, tables_, skipped = [], [], {}
    for tier in tiers:
        samples = measure_samples(tracks, tier=tier)
        if len(samples) < MIN_SAMPLE:
            skipped[tier] = f"{len(samples)} finding(s) on masked labels, {MIN_SAMPLE} needed"
            continue
        check = check_calibration(samples, tier=tier, folds=folds, seed=seed)
        tables_.append(check)
        pooled = check[check["fold"] == "all"]
        cal = fit_calibration(samples, tier=tier, corpus=corpus, measured_at=measured_at)
        heldout = {
            "folds": folds, "seed": seed,
            "max_gap": round(float(pooled["gap"].abs().max()), 4),
            "deciles": pooled[["decile", "n", "stated", "observed"]].to_dict("records"),
        }  # fmt: skip
        calibrations.append(
            TierCalibration(**{**cal.__dict__, "heldout": heldout})  # frozen: rebuilt
        )
    if save and calibrations:
        tables.insert_calibrations(store=store, rows=_calibration_rows(calibrations))
    deciles = pd.concat(tables_, ignore_index=True) if tables_ else pd.DataFrame()
    return CalibrationResult(calibrations=tuple(calibrations), deciles=deciles, skipped=skipped)


def _calibration_rows(calibrations: Sequence[TierCalibration]) -> pd.DataFrame:
    return pd.DataFrame([
        {"calibration_id": f"{c.measured_at:%Y%m%dT%H%M%S%f}-{c.corpus}-{c.tier}",
         "tier": c.tier, "corpus": c.corpus, "measured_at": c.measured_at,
         "sample_size": c.sample_size, "precision": c.precision,
         "mapping": json.dumps({"x": list(c.x), "y": list(c.y)}),
         "heldout": json.dumps(c.heldout)}
        for c in calibrations
    ])  # fmt: skip


def latest_calibrations(store: Store, *, defaults: bool = True) -> dict[str, TierCalibration]:
    """Each tier's latest stored calibration; the library tier's default when none is stored.

    Examples
    --------
    >>> import tempfile
    >>> with Store(f"{tempfile.mkdtemp()}/cal.duckdb") as store:
    ...     {tier: cal.corpus for tier, cal in latest_calibrations(store).items()}
    {'library': 'default'}
    """
    found: dict[str, TierCalibration] = {"library": DEFAULT_LIBRARY_CALIBRATION} if defaults else {}
    for row in tables.calibration_rows(store=store, latest=True).itertuples(index=False):
        mapping = json.loads(row.mapping)
        found[row.tier] = TierCalibration(
            tier=row.tier, corpus=row.corpus, measured_at=row.measured_at,
            sample_size=int(row.sample_size), precision=float(row.precision),
            x=tuple(mapping["x"]), y=tuple(mapping["y"]),
            heldout=json.loads(row.heldout) if row.heldout else {},
        )  # fmt: skip
    return found


def calibration_table(calibrations: dict[str, TierCalibration]) -> pd.DataFrame:
    """Predicted against observed precision per tier and decile, from the held-out checks.

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``corpus``, ``measured_at``, ``sample_size``, ``decile``, ``n``, ``stated``,
        ``observed``, ``gap``; no rows for a calibration without a held-out check.

    Examples
    --------
    >>> table = calibration_table({"library": DEFAULT_LIBRARY_CALIBRATION})
    >>> len(table), bool(table["gap"].abs().max() <= 0.05)
    (10, True)
    """
    rows = [
        {"tier": cal.tier, "corpus": cal.corpus, "measured_at": cal.measured_at,
         "sample_size": cal.sample_size, **decile,
         "gap": round(decile["stated"] - decile["observed"], 4)}
        for cal in calibrations.values() for decile in cal.heldout.get("deciles", [])
    ]  # fmt: skip
    columns = ["tier", "corpus", "measured_at", "sample_size", "decile", "n", "stated",
               "observed", "gap"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
