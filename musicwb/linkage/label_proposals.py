"""Label proposals for unknown tracklist slots: which label is this "ID - ID" probably on?

Every candidate label of a slot comes from the tracklists alone, with five kinds of evidence:

- the labels played within ``±window`` positions of the slot in its set (how often, how near);
- the DJ's label history: how many of the DJ's *other* sets play the label;
- the labels of the proposed artists: ``Σ P(artist) · P(label | artist)`` over the artist
  scores given (from the artist model, or :func:`dj_artist_scores` as a stand-in), with
  ``P(label | artist)`` the artist's share of plays on the label in the corpus;
- the labels of the most similar other sets (sharing artists and labels with the slot's set);
- the label's overall popularity.

A logistic regression fitted on the training slots' known labels combines the evidence; the
probabilities are divided by their sum within the slot and an isotonic map fitted on the same
training slots brings them to observed frequencies (cross-fitted: a slot is never scored by a
model that saw its answer). Masked entries have no artist or label key, so a slot's own label
never counts as evidence for itself.

Measured on the DJ Mix Dataset (4,031 mixes, 82k entries; ``mask_known(fraction=0.2)``, about
7,300 masked slots with a known label, 2 folds), top-1 for seeds 0/1/2: 0.129/0.133/0.135
without artist scores, 0.132/0.136/0.137 with the current artist model's (whose own artist
top-1 is 0.08); the DJ's label history alone 0.066/0.070/0.071, the most frequent neighbour
label 0.092/0.094/0.091. The true label is among the candidates for 56-60% of the slots; the
artist decides most of the rest: with the true artist given, top-1 is 0.44. 5-17 s and a process
peak of 0.7-0.8 GB (0.26 GB of it the entries) per evaluation on a shared 2-core machine.

Examples
--------
>>> import pandas as pd
>>> rows = [("s1", 1, "dj a", "x", "lab1"), ("s1", 2, "dj a", None, None),
...         ("s1", 3, "dj a", "y", "lab1"), ("s2", 1, "dj a", "x", "lab2")]
>>> entries = pd.DataFrame(rows, columns=["set_id", "position", "dj_key", "artist_key",
...                                       "label_key"]).assign(is_slot=lambda f: f.artist_key.isna())
>>> evidence = label_evidence(entries)
>>> evidence[["slot_id", "label_key", "near_count", "dj_sets"]].values.tolist()
[['s1#2', 'lab1', 2, 0], ['s1#2', 'lab2', 0, 1]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from musicwb.errors import ParameterError
from musicwb.linkage.calibration import TIER_MEDIUM, calibration_error, calibration_table
from musicwb.store import Store

__all__ = [
    "EVIDENCE_COLUMNS",
    "LabelOptions",
    "dj_artist_scores",
    "evaluate_labels",
    "label_evidence",
    "label_sentences",
    "score_labels",
]

EVIDENCE_COLUMNS = [
    "near_count", "near_distance", "near_offset", "set_plays", "dj_sets", "dj_other_sets",
    "artist_mass", "top_artist", "top_artist_plays", "top_artist_labelled", "similar_mass",
    "label_plays",
]  # fmt: skip
_MAX_ITEM_SETS = 400
_INPUT = ["set_id", "position", "dj_key", "artist_key", "label_key", "is_slot"]


@dataclass(frozen=True, kw_only=True)
class LabelOptions:
    """How label candidates are gathered.

    Attributes
    ----------
    window : int, default 3
        Labels within ``±window`` positions of the slot count as its neighbours.
    max_history : int, default 30
        The DJ's most played labels (in their other sets) that become candidates.
    max_artist_labels : int, default 20
        The labels with most artist mass that become candidates.
    similar_sets : int, default 30
        The other sets most alike the slot's (shared artists and labels) that are consulted.
    max_similar_labels : int, default 40
        The labels of those sets, by weighted share, that become candidates.

    Raises
    ------
    ParameterError
        A value below 1.
    """

    window: int = 3
    max_history: int = 30
    max_artist_labels: int = 20
    similar_sets: int = 30
    max_similar_labels: int = 40

    def __post_init__(self) -> None:
        for name in ("window", "max_history", "max_artist_labels", "similar_sets",
                     "max_similar_labels"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be at least 1, not {getattr(self, name)}")


def _slot_flags(entries: pd.DataFrame) -> pd.Series:
    if "is_slot" in entries:
        return entries["is_slot"].fillna(False).astype(bool)
    return entries["artist_key"].isna() & entries.get("is_unknown", True)


def _load(engine: Store, entries: pd.DataFrame, artist_scores: pd.DataFrame | None) -> None:
    missing = [c for c in _INPUT[:5] if c not in entries.columns]
    if missing:
        raise ParameterError(f"entries lack column(s) {missing}")
    frame = entries.assign(is_slot=_slot_flags(entries))[_INPUT]
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE lp_entries (set_id VARCHAR, position BIGINT, "
        "dj_key VARCHAR, artist_key VARCHAR, label_key VARCHAR, is_slot BOOLEAN);"
        "CREATE OR REPLACE TEMP TABLE lp_scores (slot_id VARCHAR, candidate VARCHAR, "
        "probability DOUBLE)"
    )
    engine.insert("lp_entries", frame.astype({"position": "int64", "is_slot": bool}))
    if artist_scores is not None and len(artist_scores):
        missing = [c for c in ("slot_id", "candidate", "probability") if c not in artist_scores]
        if missing:
            raise ParameterError(f"artist_scores lack column(s) {missing}")
        scores = artist_scores[["slot_id", "candidate", "probability"]]
        engine.insert("lp_scores", scores.astype({"slot_id": str, "candidate": str,
                                                  "probability": float}))


def _evidence_sql(options: LabelOptions) -> str:
    return f"""
    CREATE OR REPLACE TEMP TABLE lp_slots AS
        SELECT set_id || '#' || position AS slot_id, set_id, position, dj_key
        FROM lp_entries WHERE is_slot;
    CREATE OR REPLACE TEMP TABLE lp_labelled AS
        SELECT * FROM lp_entries WHERE label_key IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE lp_popularity AS
        SELECT label_key, count(*) AS label_plays FROM lp_labelled GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lp_set_labels AS
        SELECT set_id, label_key, count(*) AS plays FROM lp_labelled GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lp_dj_labels AS
        SELECT e.dj_key, s.label_key, count(*) AS n_sets
        FROM lp_set_labels s JOIN (SELECT DISTINCT set_id, dj_key FROM lp_entries) e
        USING (set_id) GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lp_dj_sets AS
        SELECT dj_key, count(DISTINCT set_id) AS n_sets FROM lp_entries GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lp_near AS
        SELECT s.slot_id, e.label_key, count(*) AS near_count,
               min(abs(e.position - s.position)) AS near_distance,
               arg_min(e.position - s.position,
                       abs(e.position - s.position) * 2 + (e.position > s.position)::INT)
                   AS near_offset
        FROM lp_slots s JOIN lp_labelled e
          ON e.set_id = s.set_id AND e.position <> s.position
         AND abs(e.position - s.position) <= {options.window}
        GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lp_in_set AS
        SELECT s.slot_id, l.label_key FROM lp_slots s JOIN lp_set_labels l USING (set_id);
    -- the DJ's labels in their other sets: the set of the slot does not count
    CREATE OR REPLACE TEMP TABLE lp_history AS
        SELECT slot_id, label_key FROM (
            SELECT s.slot_id, d.label_key,
                   row_number() OVER (PARTITION BY s.slot_id
                                      ORDER BY d.n_sets - coalesce(l.plays > 0, false)::INT DESC,
                                               d.label_key) AS r
            FROM lp_slots s JOIN lp_dj_labels d USING (dj_key)
            LEFT JOIN lp_set_labels l ON l.set_id = s.set_id AND l.label_key = d.label_key
            WHERE d.n_sets - coalesce(l.plays > 0, false)::INT > 0)
        WHERE r <= {options.max_history};
    CREATE OR REPLACE TEMP TABLE lp_artist_labels AS
        SELECT artist_key, label_key, count(*) AS plays,
               sum(count(*)) OVER (PARTITION BY artist_key) AS labelled
        FROM lp_labelled WHERE artist_key IS NOT NULL GROUP BY artist_key, label_key;
    CREATE OR REPLACE TEMP TABLE lp_artist AS
        SELECT slot_id, label_key, artist_mass, top_artist, top_artist_plays,
               top_artist_labelled FROM (
            SELECT c.slot_id, a.label_key,
                   sum(c.probability * a.plays / a.labelled) AS artist_mass,
                   arg_max(c.candidate, c.probability * a.plays / a.labelled) AS top_artist,
                   arg_max(a.plays, c.probability * a.plays / a.labelled) AS top_artist_plays,
                   arg_max(a.labelled, c.probability * a.plays / a.labelled)
                       AS top_artist_labelled,
                   row_number() OVER (PARTITION BY c.slot_id
                                      ORDER BY sum(c.probability * a.plays / a.labelled) DESC,
                                               a.label_key) AS r
            FROM lp_scores c JOIN lp_slots s USING (slot_id)
            JOIN lp_artist_labels a ON a.artist_key = c.candidate
            WHERE c.probability > 0 GROUP BY c.slot_id, a.label_key)
        WHERE r <= {options.max_artist_labels};
    -- sets alike in artists and labels (rarer ones weigh more); items in very many sets
    -- would make the self-join quadratic and say little, so they are left out
    CREATE OR REPLACE TEMP TABLE lp_items AS
        SELECT DISTINCT set_id, 'l:' || label_key AS item FROM lp_labelled UNION
        SELECT DISTINCT set_id, 'a:' || artist_key FROM lp_entries WHERE artist_key IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE lp_item_weights AS
        SELECT item, 1.0 / ln(1 + count(*)) AS weight FROM lp_items GROUP BY item
        HAVING count(*) BETWEEN 2 AND {_MAX_ITEM_SETS};
    CREATE OR REPLACE TEMP TABLE lp_similar_sets AS
        SELECT set_a, set_b, similarity FROM (
            SELECT a.set_id AS set_a, b.set_id AS set_b, sum(w.weight) AS similarity,
                   row_number() OVER (PARTITION BY a.set_id
                                      ORDER BY sum(w.weight) DESC, b.set_id) AS r
            FROM lp_items a JOIN lp_item_weights w USING (item) JOIN lp_items b USING (item)
            WHERE a.set_id <> b.set_id AND a.set_id IN (SELECT set_id FROM lp_slots)
            GROUP BY a.set_id, b.set_id)
        WHERE r <= {options.similar_sets};
    CREATE OR REPLACE TEMP TABLE lp_similar AS
        SELECT set_id, label_key, similar_mass FROM (
            SELECT k.set_a AS set_id, l.label_key,
                   sum(k.similarity) / any_value(t.total) AS similar_mass,
                   row_number() OVER (PARTITION BY k.set_a
                                      ORDER BY sum(k.similarity) DESC, l.label_key) AS r
            FROM lp_similar_sets k JOIN lp_set_labels l ON l.set_id = k.set_b
            JOIN (SELECT set_a, sum(similarity) AS total FROM lp_similar_sets GROUP BY set_a) t
              USING (set_a)
            GROUP BY k.set_a, l.label_key)
        WHERE r <= {options.max_similar_labels};
    CREATE OR REPLACE TEMP TABLE lp_candidates AS
        SELECT s.slot_id, m.label_key FROM lp_slots s JOIN lp_similar m USING (set_id) UNION
        SELECT slot_id, label_key FROM lp_near UNION
        SELECT slot_id, label_key FROM lp_in_set UNION
        SELECT slot_id, label_key FROM lp_history UNION
        SELECT slot_id, label_key FROM lp_artist;
    """


_FRAME_SQL = """
SELECT c.slot_id, c.label_key,
       coalesce(n.near_count, 0)::INTEGER AS near_count,
       n.near_distance::INTEGER AS near_distance, n.near_offset::INTEGER AS near_offset,
       coalesce(l.plays, 0)::INTEGER AS set_plays,
       -- a set without DJ key has no DJ history
       greatest(coalesce(d.n_sets, 0) - coalesce(l.plays > 0, false)::INT, 0)::INTEGER
           AS dj_sets,
       (j.n_sets - 1)::INTEGER AS dj_other_sets,
       coalesce(a.artist_mass, 0.0) AS artist_mass, a.top_artist,
       a.top_artist_plays::INTEGER AS top_artist_plays,
       a.top_artist_labelled::INTEGER AS top_artist_labelled,
       coalesce(m.similar_mass, 0.0) AS similar_mass,
       p.label_plays::INTEGER AS label_plays
FROM lp_candidates c JOIN lp_slots s USING (slot_id)
LEFT JOIN lp_near n USING (slot_id, label_key)
LEFT JOIN lp_set_labels l ON l.set_id = s.set_id AND l.label_key = c.label_key
LEFT JOIN lp_dj_labels d ON d.dj_key = s.dj_key AND d.label_key = c.label_key
LEFT JOIN lp_dj_sets j ON j.dj_key = s.dj_key
LEFT JOIN lp_artist a USING (slot_id, label_key)
LEFT JOIN lp_similar m ON m.set_id = s.set_id AND m.label_key = c.label_key
JOIN lp_popularity p ON p.label_key = c.label_key
ORDER BY c.slot_id, c.label_key
"""


def label_evidence(
    entries: pd.DataFrame,
    *,
    artist_scores: pd.DataFrame | None = None,
    options: LabelOptions | None = None,
    store: Store | None = None,
) -> pd.DataFrame:
    """Candidate labels of every slot, with their evidence from the tracklists.

    Parameters
    ----------
    entries : pandas.DataFrame
        ``set_id, position, dj_key, artist_key, label_key`` and ``is_slot`` (as from
        :func:`.masking.mask_known`; without it, entries without artist key flagged
        ``is_unknown`` are the slots). Only the keys are read: a masked entry's ``raw`` or
        ``label`` text is never looked at.
    artist_scores : pandas.DataFrame, optional
        ``slot_id, candidate, probability``: proposed artists (artist keys) per slot, from the
        artist model or a stand-in such as :func:`dj_artist_scores`.
    options : LabelOptions, optional
        Window and candidate limits; the defaults of :class:`LabelOptions`.
    store : Store, optional
        Where the SQL runs (temporary tables only); an in-memory store by default.

    Returns
    -------
    pandas.DataFrame
        ``slot_id, label_key`` and :data:`EVIDENCE_COLUMNS`, one row per candidate, sorted by
        slot and label. ``near_count`` counts the label within the window, ``set_plays`` in
        the whole set; ``near_distance``/``near_offset`` (signed: negative is before the
        slot) are missing when the label is not within the window; ``dj_sets`` counts the
        DJ's other sets playing the label, out of ``dj_other_sets``; ``artist_mass`` is
        ``Σ P(artist) · P(label | artist)`` and ``top_artist`` the proposed artist
        contributing most of it, with its plays on the label out of its labelled plays;
        ``similar_mass`` is the share of the most similar other sets (by shared artists and
        labels, weighted by similarity) that play the label; ``label_plays`` its plays in
        all the tracklists.

    Raises
    ------
    ParameterError
        Missing columns.
    """
    options = options or LabelOptions()
    engine_context = nullcontext(store) if store is not None else Store(":memory:")
    with engine_context as engine:
        _load(engine, entries, artist_scores)
        engine.execute(_evidence_sql(options))
        frame = engine.df(_FRAME_SQL)
    return frame.astype({c: "Int64" for c in ("near_distance", "near_offset",
                                              "top_artist_plays", "top_artist_labelled")})


def dj_artist_scores(entries: pd.DataFrame, *, top: int = 20) -> pd.DataFrame:
    """A stand-in for the artist model: each slot's DJ's most played artists, normalised.

    Parameters
    ----------
    entries : pandas.DataFrame
        As for :func:`label_evidence`.
    top : int, default 20
        Artists per slot: those played in most of the DJ's other sets.

    Returns
    -------
    pandas.DataFrame
        ``slot_id, candidate, probability`` (summing to 1 per slot with candidates).

    Examples
    --------
    >>> entries = pd.DataFrame({"set_id": ["s1", "s1", "s2", "s3"], "position": [1, 2, 1, 1],
    ...                         "dj_key": ["d"] * 4, "artist_key": [None, "a", "a", "b"],
    ...                         "label_key": [None] * 4, "is_slot": [True, False, False, False]})
    >>> dj_artist_scores(entries).values.tolist()
    [['s1#1', 'a', 0.5], ['s1#1', 'b', 0.5]]
    """
    if top < 1:
        raise ParameterError(f"top must be at least 1, not {top}")
    with Store(":memory:") as engine:
        _load(engine, entries, None)
        return engine.df(f"""
        WITH slots AS (SELECT set_id || '#' || position AS slot_id, set_id, dj_key
                       FROM lp_entries WHERE is_slot),
             plays AS (SELECT DISTINCT dj_key, set_id, artist_key FROM lp_entries
                       WHERE artist_key IS NOT NULL),
             ranked AS (
                SELECT s.slot_id, p.artist_key AS candidate, count(*) AS n,
                       row_number() OVER (PARTITION BY s.slot_id
                                          ORDER BY count(*) DESC, p.artist_key) AS r
                FROM slots s JOIN plays p ON p.dj_key = s.dj_key AND p.set_id <> s.set_id
                GROUP BY s.slot_id, p.artist_key)
        SELECT slot_id, candidate, n / sum(n) OVER (PARTITION BY slot_id) AS probability
        FROM ranked WHERE r <= {top} ORDER BY slot_id, probability DESC, candidate
        """)


def _design(evidence: pd.DataFrame) -> np.ndarray:
    """The per-pair numbers the regression weighs (log counts, shares, nearness)."""
    distance = evidence["near_distance"].to_numpy(dtype=float, na_value=np.inf)
    dj_sets = evidence["dj_sets"].to_numpy(float)
    other = np.maximum(evidence["dj_other_sets"].to_numpy(dtype=float, na_value=0.0), 1.0)
    near = evidence["near_count"].to_numpy(float)
    set_plays = evidence["set_plays"].to_numpy(float)
    return np.column_stack([
        np.log1p(near), 1.0 / distance, near > 0,
        np.log1p(set_plays - near), set_plays > near,
        np.log1p(dj_sets), dj_sets / other, dj_sets > 0,
        evidence["artist_mass"].to_numpy(float),
        np.sqrt(evidence["artist_mass"].to_numpy(float)),
        evidence["similar_mass"].to_numpy(float),
        np.sqrt(evidence["similar_mass"].to_numpy(float)),
        np.log(evidence["label_plays"].to_numpy(float)),
    ])  # fmt: skip


def _shares(probability: np.ndarray, slot_codes: np.ndarray) -> np.ndarray:
    """Each probability divided by the sum over its slot."""
    totals = np.bincount(slot_codes, weights=probability)
    return probability / np.where(totals[slot_codes] > 0, totals[slot_codes], 1.0)


def _rank(scored: pd.DataFrame, keep_top: int) -> pd.DataFrame:
    ordered = scored.sort_values(["slot_id", "probability", "share", "label_key"],
                                 ascending=[True, False, False, True])
    ordered = ordered.assign(rank=ordered.groupby("slot_id", sort=False).cumcount() + 1)
    return ordered[ordered["rank"] <= keep_top].reset_index(drop=True)


def score_labels(
    evidence: pd.DataFrame,
    truth: pd.Series,
    *,
    train_slots: Sequence[str],
    predict_slots: Sequence[str],
    keep_top: int = 5,
) -> pd.DataFrame:
    """Fit the evidence weights on the labels of ``train_slots``, calibrate on them, and rank
    the candidate labels of ``predict_slots``.

    Parameters
    ----------
    evidence : pandas.DataFrame
        From :func:`label_evidence`.
    truth : pandas.Series
        Index ``slot_id``, values the true ``label_key`` (None when unknown: such a training
        slot is left out). Only the ``train_slots`` answers are read.
    train_slots, predict_slots : sequence of str
    keep_top : int, default 5
        Candidates kept per predicted slot.

    Returns
    -------
    pandas.DataFrame
        ``slot_id, label_key, probability, rank, share`` (the slot-normalised regression
        probability before calibration) and :data:`EVIDENCE_COLUMNS`. Probabilities are in
        [0, 1] and sum to at most 1 per slot.

    Raises
    ------
    ParameterError
        ``keep_top`` below 1, or no training slot whose label is among its candidates.

    Examples
    --------
    >>> evidence = pd.DataFrame({"slot_id": ["a", "a", "b", "b", "c", "c"],
    ...     "label_key": ["x", "y", "x", "y", "x", "y"], "near_count": [2, 0, 0, 1, 1, 0],
    ...     "near_distance": [1, None, None, 2, 1, None], "near_offset": [1, None, None, 2, 1, None],
    ...     "set_plays": [2, 0, 0, 1, 1, 0], "dj_sets": [0] * 6, "dj_other_sets": [3] * 6,
    ...     "artist_mass": [0.0] * 6, "top_artist": [None] * 6, "top_artist_plays": [None] * 6,
    ...     "top_artist_labelled": [None] * 6, "similar_mass": [0.0] * 6,
    ...     "label_plays": [5, 5, 5, 5, 5, 5]})
    >>> truth = pd.Series({"a": "x", "b": "y", "c": "x"})
    >>> scores = score_labels(evidence, truth, train_slots=["a", "b"], predict_slots=["c"])
    >>> scores[["slot_id", "label_key", "rank"]].values.tolist()
    [['c', 'x', 1], ['c', 'y', 2]]
    """
    if keep_top < 1:
        raise ParameterError(f"keep_top must be at least 1, not {keep_top}")
    train = pd.Index(train_slots)
    slots = evidence["slot_id"].astype(str)
    is_train = slots.isin(train).to_numpy()
    answer = slots.map(truth.reindex(train).dropna())
    correct = (evidence["label_key"].to_numpy(dtype=object) == answer.to_numpy(dtype=object))
    fitting = is_train & answer.notna().to_numpy()
    if not correct[fitting].any() or correct[fitting].all():
        raise ParameterError("no training slot has its true label among its candidates (and "
                             "one without): nothing to learn the evidence weights from")
    features = _design(evidence)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model.fit(features[fitting], correct[fitting])
    codes = pd.factorize(slots)[0]
    share = _shares(model.predict_proba(features)[:, 1], codes)
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    calibrator.fit(share[fitting], correct[fitting].astype(float))
    probability = calibrator.predict(share)
    # a monotone map can push a slot's sum above 1; scale those slots back
    totals = np.bincount(codes, weights=probability)[codes]
    probability = np.where(totals > 1, probability / np.maximum(totals, 1e-12), probability)
    scored = evidence.assign(probability=probability, share=share)
    scored = _rank(scored[slots.isin(pd.Index(predict_slots)).to_numpy()], keep_top)
    return scored[["slot_id", "label_key", "probability", "rank", "share", *EVIDENCE_COLUMNS]]


def _top_by(evidence: pd.DataFrame, order: list[str], ascending: list[bool]) -> pd.Series:
    """The first label per slot under ``order`` (a baseline's pick)."""
    ordered = evidence.sort_values(["slot_id", *order], ascending=[True, *ascending])
    first = ordered.drop_duplicates("slot_id")
    return first.set_index("slot_id")["label_key"]


def _hit_share(picked: pd.Series, truth: pd.Series) -> float:
    return round(float((picked.reindex(truth.index) == truth).sum()) / max(len(truth), 1), 4)


def evaluate_labels(
    masked: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    folds: int = 2,
    seed: int = 0,
    artist_scores: pd.DataFrame | None = None,
    options: LabelOptions | None = None,
    keep_top: int = 5,
    accept: float = TIER_MEDIUM,
    store: Store | None = None,
) -> dict[str, Any]:
    """Label top-1/top-3 on masked known entries, cross-fitted, with two baselines.

    Parameters
    ----------
    masked, truth : pandas.DataFrame
        From :func:`.masking.mask_known` (``truth`` with ``slot_id, label_key``).
    folds : int, default 2
        The masked slots are split at random (``seed + 1``, as the artist evaluation does);
        each fold is scored by a model fitted on the other folds' answers.
    seed : int, default 0
    artist_scores : pandas.DataFrame, optional
        ``slot_id, candidate, probability`` (see :func:`label_evidence`); for an honest
        figure, each slot's scores must come from an artist model that did not see its
        answer.
    options : LabelOptions, optional
        See :func:`label_evidence`.
    keep_top : int, default 5
    accept : float, default 0.70
        A top-1 label at or above this probability counts as proposed (coverage).
    store : Store, optional
        Where the evidence SQL runs (its memory limit applies); in memory by default.

    Returns
    -------
    dict
        ``top1, top3, n_slots`` (masked slots whose true label is known: the denominator),
        ``coverage, precision`` (at ``accept``), ``calibration_error`` (unweighted, top-1),
        ``calibration`` (table rows), ``truth_in_candidates``, ``candidates_per_slot``,
        ``dj_label_history_top1`` (the DJ's most played label in their other sets),
        ``neighbour_labels_top1`` (the most frequent label within ±window), ``scores`` (the
        ranked frame, with ``correct`` and ``fold``).

    Raises
    ------
    ParameterError
        ``folds`` below 2, or ``truth`` without ``label_key``.
    """
    if folds < 2:
        raise ParameterError(f"folds must be at least 2, not {folds}")
    if "label_key" not in truth:
        raise ParameterError("truth lacks label_key (use the truth frame of mask_known)")
    evidence = label_evidence(masked, artist_scores=artist_scores, options=options, store=store)
    answers = truth.set_index("slot_id")["label_key"]
    fold_of = pd.Series(np.random.default_rng(seed + 1).integers(0, folds, len(answers)),
                        index=answers.index)
    parts = []
    for fold in range(folds):
        inside, outside = fold_of.index[fold_of == fold], fold_of.index[fold_of != fold]
        scores = score_labels(evidence, answers, train_slots=outside, predict_slots=inside,
                              keep_top=keep_top)
        parts.append(scores.assign(fold=fold))
    scores = pd.concat(parts, ignore_index=True)
    known = answers.dropna()
    scores["correct"] = scores["label_key"].to_numpy(dtype=object) == scores["slot_id"].map(
        answers).to_numpy(dtype=object)
    evaluated = scores[scores["slot_id"].isin(known.index)]
    hit_at = evaluated[evaluated["correct"]].groupby("slot_id")["rank"].min()
    top = evaluated[evaluated["rank"] == 1]
    accepted = top["probability"] >= accept
    table = calibration_table(top["probability"].to_numpy(), top["correct"].to_numpy())
    n = len(known)
    in_candidates = evidence.loc[evidence["slot_id"].isin(known.index)]
    reachable = (in_candidates["label_key"].to_numpy(dtype=object)
                 == in_candidates["slot_id"].map(known).to_numpy(dtype=object)).sum()
    history = _top_by(evidence[evidence["dj_sets"] > 0], ["dj_sets", "label_plays", "label_key"],
                      [False, False, True])
    neighbours = _top_by(evidence[evidence["near_count"] > 0],
                         ["near_count", "near_distance", "label_plays", "label_key"],
                         [False, True, False, True])
    return {
        "n_slots": n,
        "top1": round(float((hit_at == 1).sum()) / n, 4) if n else None,
        "top3": round(float((hit_at <= 3).sum()) / n, 4) if n else None,
        "coverage": round(float(accepted.sum()) / n, 4) if n else None,
        "precision": round(float(top.loc[accepted, "correct"].mean()), 4) if accepted.any()
        else None,
        "calibration_error": calibration_error(table),
        "calibration": table.to_dict("records"),
        "truth_in_candidates": round(float(reachable) / n, 4) if n else None,
        "candidates_per_slot": round(len(evidence) / max(evidence["slot_id"].nunique(), 1), 1),
        "dj_label_history_top1": _hit_share(history, known),
        "neighbour_labels_top1": _hit_share(neighbours, known),
        "scores": scores,
    }


def label_sentences(
    row: pd.Series | Mapping[str, Any],
    *,
    labels: Mapping[str, str],
    artists: Mapping[str, str],
    dj: str,
    window: int = 3,
) -> list[str]:
    """Plain sentences saying why a label was proposed for a slot.

    Parameters
    ----------
    row : pandas.Series or mapping
        One row of :func:`label_evidence` or :func:`score_labels`.
    labels, artists : mapping
        Display names by key (see :func:`musicwb.linkage.proposals.display_names`); a key
        without one is shown as it is.
    dj : str
        The DJ's display name.
    window : int, default 3
        The window the evidence was gathered with.

    Returns
    -------
    list of str

    Examples
    --------
    >>> row = {"label_key": "klockworks", "near_count": 1, "near_distance": 2,
    ...        "near_offset": -2, "dj_sets": 14, "dj_other_sets": 40, "artist_mass": 0.3,
    ...        "top_artist": "trevino", "top_artist_plays": 3, "top_artist_labelled": 4,
    ...        "set_plays": 1, "similar_mass": 0.25, "label_plays": 120}
    >>> for line in label_sentences(row, labels={"klockworks": "Klockworks"},
    ...                             artists={"trevino": "Trevino"}, dj="Ben Klock"):
    ...     print(line)
    Klockworks is played 2 tracks before the slot
    Ben Klock plays Klockworks in 14 other sets (of 40)
    the proposed artist Trevino releases on Klockworks (3 of 4 plays)
    the sets most like this one (sharing artists and labels) play Klockworks (25% of them, weighted by likeness)
    Klockworks is played 120 times in all the tracklists
    """
    def present(key: str) -> bool:
        value = row.get(key)
        return value is not None and not pd.isna(value)

    label = labels.get(row["label_key"], row["label_key"])
    lines = []
    if present("near_distance"):
        distance, offset = int(row["near_distance"]), int(row["near_offset"])
        where = "before" if offset < 0 else "after"
        line = f"{label} is played {distance} track{'s' if distance > 1 else ''} {where} the slot"
        if int(row["near_count"]) > 1:
            line += f" ({int(row['near_count'])} times within ±{window})"
        lines.append(line)
    if present("set_plays") and int(row["set_plays"]) > int(row.get("near_count") or 0):
        lines.append(f"{label} is played {int(row['set_plays'])} times in the same set")
    if present("dj_sets") and int(row["dj_sets"]) > 0:
        count = int(row["dj_sets"])
        line = f"{dj} plays {label} in {count} other set{'s' if count > 1 else ''}"
        if present("dj_other_sets"):
            line += f" (of {int(row['dj_other_sets'])})"
        lines.append(line)
    if present("top_artist") and float(row.get("artist_mass") or 0) > 0:
        artist = artists.get(row["top_artist"], row["top_artist"])
        lines.append(f"the proposed artist {artist} releases on {label} "
                     f"({int(row['top_artist_plays'])} of {int(row['top_artist_labelled'])} plays)")
    if present("similar_mass") and float(row["similar_mass"]) > 0:
        lines.append(f"the sets most like this one (sharing artists and labels) play {label} "
                     f"({float(row['similar_mass']):.0%} of them, weighted by likeness)")
    if present("label_plays"):
        lines.append(f"{label} is played {int(row['label_plays'])} times in all the tracklists")
    return lines
