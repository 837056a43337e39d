"""The splink (Fellegi–Sunter) model linking unknown slots to candidate artists.

Each (slot, candidate) pair from :func:`musicwb.linkage.features.candidate_features` becomes one
slot record (left) and one candidate-profile record (right) sharing a ``pair_id``; blocking on
``pair_id`` makes exactly the candidate pairs the comparisons. The comparisons are custom SQL
levels over the co-occurrence features, so the same settings run on DuckDB (default) and Spark.
u probabilities come from random sampling (random slot × candidate records are almost always
non-matches), m probabilities from expectation maximisation, or from known answers when given
(``is_match``). Splink's term-frequency adjustment needs an exact-match level on a column
shared by both records, which a pair comparison does not have; the frequency of a candidate
(a regular of every DJ is weaker evidence than a rare artist) enters instead through the
``popularity`` comparison, whose m and u are estimated like the others.

Predictions keep splink's ``match_weight`` and ``match_probability`` per pair and add
``slot_probability``: the pair's probability normalised among the slot's candidates (they
compete: one slot, at most one artist), and ``rank`` within the slot.

Examples
--------
>>> model = LinkageModel()            # doctest: +SKIP
>>> scored = model.fit_predict(pairs)  # doctest: +SKIP
>>> model.linker.visualisations.match_weights_chart()  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError

__all__ = [
    "BACKENDS",
    "COMPARISONS",
    "LinkageModel",
    "db_api_factory",
    "rank_within_slots",
    "settings_dict",
    "slot_posterior",
]

# (name, [(sql over the slot record, label for charts), ...]); an ELSE level closes each one.
COMPARISONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("co_neighbours", [
        ("sandwich_sets_l >= 2", "between the same two neighbours in 2+ other sets"),
        ("sandwich_sets_l = 1", "between the same two neighbours in 1 other set"),
        ("co_neighbour_sets_l >= 3", "next to the same neighbours in 3+ other sets"),
        ("co_neighbour_sets_l = 2", "next to the same neighbours in 2 other sets"),
        ("co_neighbour_sets_l = 1", "next to the same neighbours in 1 other set"),
    ]),
    ("played_around", [
        ("artist_played_before_l AND artist_played_after_l", "played before and after the slot"),
        ("artist_played_before_l OR artist_played_after_l", "played before or after the slot"),
        ("same_set_plays_l > 0", "played elsewhere in the set"),
    ]),
    ("labels_around", [
        ("label_match_before_l AND label_match_after_l", "own labels played before and after"),
        ("label_match_before_l OR label_match_after_l", "own label played before or after"),
    ]),
    ("dj_relation", [
        ("dj_is_candidate_l", "the DJ is the artist"),
        ("dj_label_owner_l", "releases on a label of the DJ"),
    ]),
    ("dj_history", [
        ("dj_sets_with_candidate_l >= 5", "in 5+ of the DJ's other sets"),
        ("dj_sets_with_candidate_l >= 2", "in 2-4 of the DJ's other sets"),
        ("dj_sets_with_candidate_l = 1", "in 1 of the DJ's other sets"),
    ]),
    ("popularity", [
        ("support_sets_l >= 10", "played in 10+ sets"),
        ("support_sets_l >= 4", "played in 4-9 sets"),
    ]),
    ("set_position", [
        ("position_fraction_l <= 0.1 OR position_fraction_l >= 0.9", "first or last tenth"),
    ]),
]  # fmt: skip
_MODEL_COLUMNS = [
    "pair_id", "slot_id", "candidate", "co_neighbour_sets", "sandwich_sets", "artist_played_before",
    "artist_played_after", "same_set_plays", "label_match_before", "label_match_after",
    "dj_is_candidate", "dj_label_owner", "dj_sets_with_candidate", "support_sets",
    "position_fraction",
]  # fmt: skip


BACKENDS = ("duckdb", "spark")


def db_api_factory(
    backend: str, *, spark_master: str = "local[2]", checkpoint_dir: str | None = None
) -> Callable[[], Any] | None:
    """What makes a fresh splink DB API for ``backend``: None (DuckDB in memory) or Spark.

    Parameters
    ----------
    backend : {"duckdb", "spark"}
    spark_master : str, default "local[2]"
        For a new Spark session (an active one is reused).
    checkpoint_dir : str, optional
        Spark checkpoint directory (splink breaks long lineages with checkpoints); default a
        new temporary directory.

    Returns
    -------
    callable or None
        None for DuckDB (each :class:`LinkageModel` makes its own), else a function returning
        a ``SparkAPI``.

    Raises
    ------
    ParameterError
        An unknown backend, or "spark" without pyspark installed (the ``spark`` extra).

    Examples
    --------
    >>> db_api_factory("duckdb") is None
    True
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "duckdb":
        return None
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ParameterError(
            "backend 'spark' needs pyspark: install musicwb with the spark extra"
        ) from exc

    def make_spark_api() -> Any:
        import tempfile

        from splink import SparkAPI

        spark = (SparkSession.builder.master(spark_master)
                 .config("spark.sql.shuffle.partitions", "4")
                 .config("spark.ui.enabled", "false").getOrCreate())  # fmt: skip
        spark.sparkContext.setCheckpointDir(checkpoint_dir or tempfile.mkdtemp(prefix="musicwb-spark-"))
        return SparkAPI(spark_session=spark)

    return make_spark_api


def settings_dict(*, prior: float, retain_matching_columns: bool = False) -> dict[str, Any]:
    """The splink settings: link_only on ``pair_id`` with the :data:`COMPARISONS`.

    Parameters
    ----------
    prior : float
        ``probability_two_random_records_match`` among blocked pairs: about
        (slots with their artist among the candidates) / (candidate pairs).
    retain_matching_columns : bool, default False
        Keep the compared feature columns in the predictions: splink's waterfall and
        accuracy charts need them; a million-entry run does not.

    Returns
    -------
    dict
    """
    comparisons = []
    for name, levels in COMPARISONS:
        column = levels[0][0].split()[0]  # the features are never null; splink wants the level
        levels_out: list[dict[str, Any]] = [
            {"sql_condition": f"{column} IS NULL", "label_for_charts": "missing",
             "is_null_level": True}
        ]
        for sql, label in levels:
            levels_out.append({"sql_condition": sql, "label_for_charts": label})
        levels_out.append({"sql_condition": "ELSE", "label_for_charts": "none of these"})
        comparisons.append({"output_column_name": name, "comparison_levels": levels_out})
    return {
        "link_type": "link_only",
        "unique_id_column_name": "pair_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": "l.pair_id = r.pair_id"}],
        "comparisons": comparisons,
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": retain_matching_columns,
        "additional_columns_to_retain": ["slot_id", "candidate"],
    }


def slot_posterior(scored: pd.DataFrame, *, prior: float, in_candidates: float) -> np.ndarray:
    """The probability that each candidate is the slot's artist, the candidates competing.

    With Bayes factors ``BF_i = 2^(match_weight_i − logit2(prior))`` and the belief that the
    slot's artist is among its ``n`` candidates with probability ``in_candidates``, each
    candidate with prior ``in_candidates / n``:
    ``P_i = q·BF_i / ((1 − in_candidates) + Σ_j q·BF_j)``, ``q = in_candidates / n``.

    Parameters
    ----------
    scored : pandas.DataFrame
        ``slot_id, match_weight`` per pair.
    prior : float
        The ``probability_two_random_records_match`` behind ``match_weight``.
    in_candidates : float
        In (0, 1).

    Returns
    -------
    numpy.ndarray, shape (n_pairs,)
    """
    log_bf = scored["match_weight"].to_numpy(float) - np.log2(prior / (1 - prior))
    n = scored.groupby("slot_id", observed=True)["slot_id"].transform("size").to_numpy(float)
    log_q = np.log2(in_candidates) - np.log2(n)
    terms = pd.Series(log_q + log_bf, index=scored.index)
    top = np.maximum(terms.groupby(scored["slot_id"], observed=True).transform("max").to_numpy(), 0.0)
    exps = pd.Series(np.exp2(terms.to_numpy() - top), index=scored.index)
    total = exps.groupby(scored["slot_id"], observed=True).transform("sum").to_numpy()
    denominator = (1 - in_candidates) * np.exp2(-top) + total
    return np.exp2(terms.to_numpy() - top) / denominator


def rank_within_slots(scored: pd.DataFrame, *, column: str) -> pd.DataFrame:
    """Sort by slot then ``column`` (descending) and number the candidates 1, 2, ...

    Parameters
    ----------
    scored : pandas.DataFrame
        ``slot_id, candidate`` and ``column``.

    Returns
    -------
    pandas.DataFrame
        The same rows with ``rank``.
    """
    ordered = scored.sort_values(["slot_id", column, "candidate"], ascending=[True, False, True])
    return ordered.assign(rank=ordered.groupby("slot_id", observed=True).cumcount() + 1).reset_index(drop=True)


@dataclass
class LinkageModel:
    """Fit and apply the splink model on candidate pairs.

    Parameters
    ----------
    db_api : splink DuckDBAPI or SparkAPI, optional
        Default: a fresh in-memory ``DuckDBAPI()``.
    max_pairs : int, default 50,000,000
        Refuse to predict more candidate pairs than this.
    u_max_pairs : float, default 5e6
        Pairs sampled for the u estimate.
    seed : int, default 7
        For the u sampling.
    in_candidates : float, default 0.8
        Belief that a slot's artist is among its candidates (see :func:`slot_posterior`);
        set from known answers when there are some.
    duckdb_settings : dict, optional
        Applied to the default DuckDB connection, e.g. ``{"memory_limit": "3GB",
        "temp_directory": "/tmp/spill", "threads": "2"}``.
    diagnostics : bool, default False
        Keep the compared columns in the predictions, for splink's waterfall and accuracy
        charts (:mod:`musicwb.linkage.diagnostics`).

    Attributes
    ----------
    linker : splink.Linker
        After :meth:`fit`; use ``linker.visualisations.match_weights_chart()``,
        ``m_u_parameters_chart()``, ``waterfall_chart(records)`` in a notebook.
    predictions : splink SplinkDataFrame
        After :meth:`predict`: every scored pair, splink's own table.
    """

    db_api: Any = None
    max_pairs: int = 50_000_000
    u_max_pairs: float = 5e6
    seed: int = 7
    in_candidates: float = 0.8
    duckdb_settings: dict[str, str] = field(default_factory=dict)
    diagnostics: bool = False
    linker: Any = field(default=None, init=False)
    predictions: Any = field(default=None, init=False)
    _tables: Any = field(default=None, init=False)
    _prior: float = field(default=0.0, init=False)

    def _records(self, pairs: pd.DataFrame, label: pd.Series | None) -> pd.DataFrame:
        records = pairs[_MODEL_COLUMNS[1:]].reset_index(drop=True)  # one copy of the pairs
        records.insert(0, "pair_id", np.arange(len(records), dtype=np.int64))
        if type(self.db_api).__name__ != "DuckDBAPI":  # Spark takes no pandas categoricals
            records[["slot_id", "candidate"]] = records[["slot_id", "candidate"]].astype(str)
        for column in ("artist_played_before", "artist_played_after", "label_match_before",
                       "label_match_after", "dj_is_candidate", "dj_label_owner"):
            if records[column].dtype != bool:
                records[column] = records[column].astype(bool)
        if label is not None:
            # The known answer's pair is its own label; other pairs have none.
            known = label.to_numpy(bool)
            records["truth_label"] = pd.arrays.IntegerArray(records["pair_id"].to_numpy(), ~known)
        return records

    def fit(self, pairs: pd.DataFrame, *, is_match: pd.Series | None = None) -> LinkageModel:
        """Estimate u by random sampling and m by EM (or from ``is_match`` when given).

        Parameters
        ----------
        pairs : pandas.DataFrame
            Shape (n_pairs, ≥ len(FEATURE_COLUMNS)), from ``candidate_features``.
        is_match : pandas.Series of bool, optional
            Aligned with ``pairs``: True for the pairs known to be right (masked known
            entries); then m comes from these labels instead of EM.

        Returns
        -------
        LinkageModel
            self.
        """
        from splink import Linker

        if len(pairs) == 0:
            raise ParameterError("no candidate pairs to link: no unknown slot has a candidate")
        if len(pairs) > self.max_pairs:
            raise ParameterError(
                f"{len(pairs):,} candidate pairs to compare, more than max_pairs="
                f"{self.max_pairs:,}: raise min_support or lower the window"
            )
        if self.db_api is None:
            from splink import DuckDBAPI

            self.db_api = DuckDBAPI()
            for name, value in self.duckdb_settings.items():
                self.db_api.duckdb_con.execute(f"SET {name} = '{value}'")
        records = self._records(pairs, is_match)
        n_slots = records["slot_id"].nunique()
        prior = float(min(0.5, max(1e-6, 0.9 * n_slots / len(records))))
        self._prior = prior
        settings = settings_dict(prior=prior, retain_matching_columns=self.diagnostics)
        suffix = uuid.uuid4().hex[:8]  # a Spark catalogue outlives one model
        slots = self.db_api.register(records, dataset_display_name="slots",
                                     table_name=f"musicwb_slots_{suffix}")
        # the same physical table a second time: one copy in the backend, not two
        candidates = self.db_api.register(slots.physical_name,
                                          dataset_display_name="candidate_profiles",
                                          table_name=f"musicwb_candidates_{suffix}")
        del records
        self._tables = (slots, candidates)
        self.linker = Linker([slots, candidates], settings, log_level=None)
        training = self.linker.training
        training.estimate_u_using_random_sampling(max_pairs=self.u_max_pairs, seed=self.seed)
        if is_match is not None and bool(is_match.any()):
            training.estimate_m_from_label_column("truth_label")
        else:
            try:
                training.estimate_parameters_using_expectation_maximisation(
                    "l.pair_id = r.pair_id", estimate_without_term_frequencies=True
                )
            except ValueError as exc:  # splink refuses an m that underflowed to 0
                raise ParameterError(
                    f"EM could not estimate m from {len(pairs):,} unlabelled pairs ({exc}); "
                    "give known answers (is_match) or more tracklists"
                ) from exc
        return self

    def predict(self, *, keep_top: int | None = 10) -> pd.DataFrame:
        """Score every candidate pair; return the best ``keep_top`` candidates of each slot.

        The normalisation among a slot's candidates (:func:`slot_posterior`) and the ranking
        run in the backend's SQL, so only the kept rows come back to pandas.

        Parameters
        ----------
        keep_top : int or None, default 10
            None keeps every candidate.

        Returns
        -------
        pandas.DataFrame
            ``slot_id, candidate, match_weight, match_probability, slot_probability, rank``
            and ``mw_<comparison>``, each comparison's part of the match weight.
        """
        if self.linker is None:
            raise ParameterError("fit the model before predicting")
        predictions = self.linker.inference.predict()
        self.predictions = predictions
        parts = [f"mw_{name}" for name, _ in COMPARISONS]  # each comparison's match weight
        log_q_base = float(np.log2(self.in_candidates))
        logit_prior = float(np.log2(self._prior / (1 - self._prior)))
        limit = "" if keep_top is None else f"WHERE rank <= {int(keep_top)}"
        columns = ", ".join(parts)
        sql = f"""
        WITH p AS (
            SELECT slot_id_l AS slot_id, candidate_l AS candidate, match_weight,
                   match_probability, {columns},
                   {log_q_base} - log2(count(*) OVER (PARTITION BY slot_id_l))
                       + match_weight - ({logit_prior}) AS term
            FROM {predictions.physical_name}
        ), q AS (
            SELECT *, greatest(max(term) OVER (PARTITION BY slot_id), 0.0) AS top FROM p
        ), r AS (
            SELECT *, pow(2.0, term - top) / ((1 - {self.in_candidates}) * pow(2.0, -top)
                   + sum(pow(2.0, term - top)) OVER (PARTITION BY slot_id)) AS slot_probability
            FROM q
        ), ranked AS (
            SELECT slot_id, candidate, match_weight, match_probability, {columns},
                   slot_probability,
                   row_number() OVER (PARTITION BY slot_id
                                      ORDER BY slot_probability DESC, candidate) AS rank
            FROM r
        )
        SELECT * FROM ranked {limit}
        """
        scored = self.linker.misc.query_sql(sql, output_type="pandas")
        scored["rank"] = scored["rank"].astype("int64")
        return scored.sort_values(["slot_id", "rank"]).reset_index(drop=True)

    def fit_predict(
        self, pairs: pd.DataFrame, *, is_match: pd.Series | None = None, keep_top: int | None = 10
    ) -> pd.DataFrame:
        """:meth:`fit` then :meth:`predict`."""
        return self.fit(pairs, is_match=is_match).predict(keep_top=keep_top)


def weight_parts(scored: pd.DataFrame, slot_id: str) -> pd.DataFrame:
    """Each comparison's part of the match weight for one slot's candidates (long form).

    Parameters
    ----------
    scored : pandas.DataFrame
        From :meth:`LinkageModel.predict` (with its ``mw_*`` columns).
    slot_id : str
        ``"<set_id>#<position>"``.

    Returns
    -------
    pandas.DataFrame
        ``candidate, rank, comparison, weight``: a waterfall per candidate for a chart.
    """
    rows = scored[scored["slot_id"].astype(str) == slot_id]
    parts = [c for c in rows.columns if c.startswith("mw_")]
    long = rows.melt(id_vars=["candidate", "rank"], value_vars=parts,
                     var_name="comparison", value_name="weight")
    long["comparison"] = long["comparison"].str.removeprefix("mw_")
    return long.sort_values(["rank", "comparison"]).reset_index(drop=True)
