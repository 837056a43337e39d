"""The splink (Fellegi–Sunter) model linking unknown slots to candidate artists.

Each (slot, candidate) pair from :func:`musicwb.linkage.features.candidate_features` becomes one
slot record (left) and one candidate-profile record (right) sharing a ``pair_id``; blocking on
``pair_id`` makes exactly the candidate pairs the comparisons. The comparisons
(:mod:`.comparisons`) are SQL levels over the co-occurrence features, so the same settings run
on DuckDB (default) and Spark.
u probabilities come from random sampling (random slot × candidate records are almost always
non-matches), m probabilities from expectation maximisation, or from known answers when given
(``is_match``). Splink's term-frequency adjustment needs an exact-match level on a column
shared by both records, which a pair comparison does not have; the frequency of a candidate
(a regular of every DJ is weaker evidence than a rare artist) enters instead through the
``popularity`` comparison, whose m and u are estimated like the others.

Predictions keep splink's ``match_weight`` and ``match_probability`` per pair and add
``slot_probability``: the pair's probability normalised among the slot's candidates (they
compete: one slot, at most one artist), and ``rank`` within the slot. With Bayes factors
``BF_i = 2^(match_weight_i − logit2(prior))`` and the belief that the slot's artist is among its
``n`` candidates with probability ``in_candidates``, each candidate with prior
``q = in_candidates / n``: ``P_i = q·BF_i / ((1 − in_candidates) + Σ_j q·BF_j)``.

Examples
--------
>>> model = LinkageModel()            # doctest: +SKIP
>>> scored = model.fit_predict(pairs)  # doctest: +SKIP
>>> model.linker.visualisations.match_weights_chart()  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd
from splink import DuckDBAPI, Linker

from musicwb.errors import ParameterError
from musicwb.linkage.backends import is_duckdb
from musicwb.linkage.comparisons import COMPARISONS, splink_settings

if TYPE_CHECKING:
    from splink.internals.database_api import DatabaseAPISubClass
    from splink.internals.splink_dataframe import SplinkDataFrame

__all__ = ["LinkageModel", "ModelOptions", "weight_parts"]

_MODEL_COLUMNS = [
    "pair_id", "slot_id", "candidate", "co_neighbour_sets", "sandwich_sets", "artist_played_before",
    "artist_played_after", "same_set_plays", "label_match_before", "label_match_after",
    "dj_is_candidate", "dj_label_owner", "support_sets", "position_fraction", "dj_sets_with_candidate", "dj_other_sets",
    "dj_history_rank", "neighbours_rank", "cooccurrence_rank", "label_mates_rank",
]  # fmt: skip


class ModelOptions(TypedDict, total=False):
    """:class:`LinkageModel` parameters a caller may pass on (``model_options``)."""

    max_pairs: int
    u_max_pairs: float
    u_min_count: int | None
    duckdb_settings: dict[str, str]
    diagnostics: bool
    term_frequency: float
    m_prior_answers: float


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
    u_min_count : int or None, default 100
        splink stops sampling for u once every level has been seen this often (in chunks
        whose order depends on the backend's hashing). None: every sampled pair counts, so
        two backends that sample the same pairs (all of them, in a small library) agree.
    seed : int, default 7
        For the u sampling.
    in_candidates : float, default 0.8
        Belief that a slot's artist is among its candidates (see the module's ``slot_probability``);
        set from known answers when there are some.
    duckdb_settings : dict, optional
        Applied to the default DuckDB connection, e.g. ``{"memory_limit": "3GB",
        "temp_directory": "/tmp/spill", "threads": "2"}``.
    diagnostics : bool, default False
        Keep the compared columns in the predictions, for splink's waterfall and accuracy
        charts (:mod:`musicwb.notebook.match_diagnostics`).
    term_frequency : float, default 0
        splink's term-frequency adjustment on the candidate in the comparisons a popular
        artist gets by chance (see :func:`~musicwb.linkage.comparisons.splink_settings`).
    m_prior_answers : float, default 20
        m estimated from known answers is shrunk towards u as if this many answers had
        shown no difference: ``m' = (n·m + a·u) / (n + a)`` for ``n`` answers. With the
        thousands of answers of a real corpus it changes nothing; with a few dozen (a small
        library) a level seen once no longer decides a slot alone. 0: no shrinking.

    Attributes
    ----------
    linker : splink.Linker
        After :meth:`fit`; use ``linker.visualisations.match_weights_chart()``,
        ``m_u_parameters_chart()``, ``waterfall_chart(records)`` in a notebook.
    predictions : splink SplinkDataFrame
        After :meth:`predict`: every scored pair, splink's own table.
    """

    db_api: DatabaseAPISubClass | None = None
    max_pairs: int = 50_000_000
    u_max_pairs: float = 5e6
    u_min_count: int | None = 100
    seed: int = 7
    in_candidates: float = 0.8
    duckdb_settings: dict[str, str] = field(default_factory=dict)
    diagnostics: bool = False
    m_prior_answers: float = 20.0
    term_frequency: float = 0.0
    linker: Linker | None = field(default=None, init=False)
    predictions: SplinkDataFrame | None = field(default=None, init=False)
    _tables: tuple[SplinkDataFrame, SplinkDataFrame] | None = field(default=None, init=False)
    _prior: float = field(default=0.0, init=False)

    def _records(
        self, db_api: DatabaseAPISubClass, pairs: pd.DataFrame, label: pd.Series | None
    ) -> pd.DataFrame:
        records = pairs[_MODEL_COLUMNS[1:]].reset_index(drop=True)  # one copy of the pairs
        records.insert(0, "pair_id", np.arange(len(records), dtype=np.int64))
        if not is_duckdb(db_api):  # Spark takes no pandas categoricals
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
        if len(pairs) == 0:
            raise ParameterError("no candidate pairs to link: no unknown slot has a candidate")
        if len(pairs) > self.max_pairs:
            raise ParameterError(
                f"{len(pairs):,} candidate pairs to compare, more than max_pairs="
                f"{self.max_pairs:,}: raise min_support or lower the window"
            )
        if self.db_api is None:
            duckdb_api = DuckDBAPI()
            for name, value in self.duckdb_settings.items():
                duckdb_api.duckdb_con.execute(f"SET {name} = '{value}'")
            self.db_api = duckdb_api
        db_api = self.db_api
        records = self._records(db_api, pairs, is_match)
        n_slots = records["slot_id"].nunique()
        prior = float(min(0.5, max(1e-6, 0.9 * n_slots / len(records))))
        self._prior = prior
        settings = splink_settings(prior=prior, retain_matching_columns=self.diagnostics,
                                   term_frequency=self.term_frequency)
        suffix = uuid.uuid4().hex[:8]  # a Spark catalogue outlives one model
        slots = db_api.register(records, dataset_display_name="slots",
                                table_name=f"musicwb_slots_{suffix}")
        # the same physical table a second time: one copy in the backend, not two
        candidates = db_api.register(slots.physical_name,
                                     dataset_display_name="candidate_profiles",
                                     table_name=f"musicwb_candidates_{suffix}")
        del records
        self._tables = (slots, candidates)
        self.linker = Linker([slots, candidates], settings, log_level=None)
        training = self.linker.training
        training.estimate_u_using_random_sampling(
            max_pairs=self.u_max_pairs, seed=self.seed, min_count_per_level=self.u_min_count
        )
        if is_match is not None and bool(is_match.any()):
            training.estimate_m_from_label_column("truth_label")
            if self.m_prior_answers:
                self.linker = Linker([slots, candidates], _shrunk_m(
                    self.linker.misc.save_model_to_json(), answers=int(is_match.sum()),
                    prior_answers=self.m_prior_answers), log_level=None)
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

        The normalisation among a slot's candidates (``slot_probability``) and the ranking
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
        parts = [f"mw_{comparison.name}" for comparison in COMPARISONS]  # each one's match weight
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

    def release(self) -> None:
        """Drop the tables this model made in its backend (its records, splink's own tables);
        the model cannot predict or draw charts afterwards. Models sharing one DuckDB
        connection call this when done, so they do not pile up in its memory."""
        if self.linker is not None:
            self.linker.table_management.delete_tables_created_by_splink_from_db()
        for table in reversed(self._tables or ()):
            table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        self.linker, self.predictions, self._tables = None, None, None

    def fit_predict(
        self, pairs: pd.DataFrame, *, is_match: pd.Series | None = None, keep_top: int | None = 10
    ) -> pd.DataFrame:
        """:meth:`fit` then :meth:`predict`."""
        return self.fit(pairs, is_match=is_match).predict(keep_top=keep_top)


def _shrunk_m(settings: dict, *, answers: int, prior_answers: float) -> dict:
    """splink's saved model with every level's m shrunk towards its u (see ``m_prior_answers``)."""
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if u is not None and not level.get("is_null_level"):
                # a level no answer fell in has no m: none of n answers, plus the prior
                level["m_probability"] = (answers * (m or 0.0) + prior_answers * u) / (
                    answers + prior_answers)
    return settings


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
