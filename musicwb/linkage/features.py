"""Candidates and co-occurrence features for unknown tracklist slots (SQL over DataFrames).

Candidate artists for a slot come from several **sources**, each a function of the known
tracklist entries alone (a masked or unknown entry contributes nothing about itself):

==============  ==========================================================================
dj_history      the artists of the DJ's (or show's) other sets, by how many of them play
                the artist; the DJ as an artist too (DJs play their productions)
neighbours      the artists played within ``±window`` positions of the slot's neighbours
                in other sets ("played near the same tracks")
cooccurrence    whole-set co-occurrence: the artists of the sets most like this one (shared
                artists, weighted by rarity), each set counting by its likeness
label_mates     the artists released on the labels played within ``±window`` of the slot
sandwich        the artists played between the same two artists in other sets
same_set        the artists played elsewhere in the same set
==============  ==========================================================================

Each source keeps its best ``k`` candidates per slot (its ``<source>_rank``, 1 = best, 0 =
not proposed by it); their union is fused by reciprocal rank (``Σ 1 / (20 + rank)``) and capped
at ``k`` candidates per slot, and a candidate must be played in at least ``min_support`` sets.
Every intermediate table is capped too (the ``max_partners`` co-played artists of an artist,
the ``similar_sets`` most similar sets of a set), so the work grows with the entries, not with
their square.

The SQL runs in DuckDB through :class:`musicwb.store.Store` (an in-memory one by default);
the result is one row per (slot, candidate) with these features:

==========================  =====================================================================
dj_is_candidate             the DJ is (one of) the candidate artist(s): DJs play their productions
artist_played_before/after  the candidate is played within ``window`` before / after the slot
label_match_before/after    a label played within ``window`` before / after is one of the
                            candidate's labels
label_overlap               how many distinct labels around the slot are the candidate's
dj_label_owner              the candidate releases on a label the DJ releases on
co_neighbour_sets           other sets where the candidate is played right next to the slot's
                            neighbour, on the same side (before/after)
sandwich_sets               other sets where the candidate is played between the same two
                            tracks' artists as the slot (the same sequence played again)
dj_sets_with_candidate      the DJ's other sets that play the candidate
dj_other_sets               the DJ's other sets in all
same_set_plays              the candidate's other plays in this set
support_sets                sets that play the candidate at all
position_fraction           where the slot is in its set, 0 (start) to 1 (end)
<source>_rank               the candidate's rank in each source (0: not among its ``k``)
neighbour_score             Σ over the slot's neighbours of the sets playing both within window
cooccurrence_score          Σ of the likeness of the similar sets that play the candidate
label_mates_score           Σ over the labels around of the candidate's sets on that label
fused_rank                  the rank in the fused union (what the ``k`` cap keeps)
==========================  =====================================================================

Examples
--------
>>> import pandas as pd
>>> rows = [("s1", 1, "dj", "a", "l"), ("s1", 2, "dj", None, None), ("s1", 3, "dj", "b", "l"),
...         ("s2", 1, "dj", "a", "l"), ("s2", 2, "dj", "c", "l"), ("s2", 3, "dj", "b", "l"),
...         ("s3", 1, "x", "a", "l"), ("s3", 2, "x", "c", "l")]
>>> entries = pd.DataFrame(rows, columns=["set_id", "position", "dj_key", "artist_key", "label_key"])
>>> pairs = candidate_features(entries)
>>> best = pairs.loc[pairs.co_neighbour_sets.idxmax()]
>>> best.candidate, int(best.co_neighbour_sets), int(best.sandwich_rank)
('c', 2, 1)
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store

__all__ = [
    "FEATURE_COLUMNS",
    "PAIR_COLUMNS",
    "SOURCES",
    "CandidateOptions",
    "Source",
    "candidate_features",
    "count_candidate_pairs",
    "drop_candidate_tables",
    "slots_of",
]

Source = Literal["dj_history", "neighbours", "cooccurrence", "label_mates", "sandwich", "same_set"]
SOURCES: tuple[Source, ...] = get_args(Source)
RANK_COLUMNS = [f"{source}_rank" for source in SOURCES]
FEATURE_COLUMNS = [
    "dj_is_candidate",
    "artist_played_before",
    "artist_played_after",
    "label_match_before",
    "label_match_after",
    "label_overlap",
    "dj_label_owner",
    "co_neighbour_sets",
    "sandwich_sets",
    "dj_sets_with_candidate",
    "dj_other_sets",
    "same_set_plays",
    "support_sets",
    "position_fraction",
    *RANK_COLUMNS,
    "neighbour_score",
    "cooccurrence_score",
    "label_mates_score",
    "fused_rank",
]
PAIR_COLUMNS = [
    "slot_id",
    "set_id",
    "position",
    "candidate",
    *FEATURE_COLUMNS,
    "co_example_set",
    "co_example_neighbour",
    "co_example_side",
    "label_example",
]
_INPUT = ["set_id", "position", "dj_key", "artist_key", "label_key", "is_slot"]
# what source_recall and the decoding of the pairs read; the rest goes before the pairs are
# fetched, so that DuckDB's memory is free for the fetch
_RECALL_TABLES = ("lk_source", "lk_cand", "lk_slots", "lk_names", "lk_set_names",
                  "lk_label_names")
_FUSION_OFFSET = 20  # reciprocal-rank fusion's constant: chosen on seed 0 of the DJ Mix dev corpus


@dataclass(frozen=True, kw_only=True)
class CandidateOptions:
    """How candidates are generated (see the module's table of sources).

    Attributes
    ----------
    window : int, default 3
        Neighbours within ``±window`` positions count as "around" the slot.
    min_support : int, default 2
        A candidate must be played in at least this many sets.
    k : int, default 50
        Candidates kept per slot (each source's best ``k``, then the fused union's best ``k``).
        Chosen on seed 0 of the DJ Mix dev corpus: top-1 0.0862 / 0.0869 / 0.0839 / 0.0853 /
        0.0833 at k = 30 / 50 / 75 / 100 / 150 (differences within noise), while on MixesDB
        the model's 144 most confident top-1 proposals held 0.40 right at 50 and 0.32 at 150:
        a long tail of weak candidates makes the model less sure where it is right. The true
        artist is among the candidates for 36% of the dev slots at 50, 50% at 150.
    similar_sets : int, default 100
        The most similar sets of a set that vote in ``cooccurrence``.
    max_partners : int, default 50
        The artists most often played near an artist (``neighbours``) and the artists most
        often on a label (``label_mates``) that are kept. On seed 0 of the DJ Mix dev corpus
        50 and 200 gave the same figures (top-1 0.0866 and 0.0869), with a quarter of the
        rows.
    """

    window: int = 3
    min_support: int = 2
    k: int = 50
    similar_sets: int = 100
    max_partners: int = 50

    def check(self) -> None:
        """Raise ParameterError on values that cannot work."""
        for name in ("window", "min_support", "k", "similar_sets", "max_partners"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be at least 1, not {getattr(self, name)}")


def slots_of(entries: pd.DataFrame) -> pd.Series:
    """Which entries are unknown slots to identify: no artist key and flagged unknown.

    Parameters
    ----------
    entries : pandas.DataFrame
        With ``artist_key`` and ``is_unknown`` (as from :func:`.tracklists.with_keys`).

    Returns
    -------
    pandas.Series of bool
    """
    unknown = entries.get("is_unknown", True)
    return entries["artist_key"].isna() & unknown


def _load(store: Store, entries: pd.DataFrame) -> None:
    """The entries as integer codes (``lk_entries``), and the code tables to read them back:
    joins and windows over millions of rows run on integers, not strings."""
    frame = entries.copy()
    if "is_slot" not in frame:
        frame["is_slot"] = slots_of(frame) if "is_unknown" in frame else frame.artist_key.isna()
    # artists and DJs share one code space: a DJ is a candidate artist too
    names = pd.Index(pd.unique(pd.concat([frame["artist_key"], frame["dj_key"]]).dropna()))
    sets = pd.Index(pd.unique(frame["set_id"]))
    labels = pd.Index(pd.unique(frame["label_key"].dropna()))

    def codes(index: pd.Index, values: pd.Series) -> pd.Series:
        return pd.Series(index.get_indexer(values), index=values.index).where(values.notna())

    coded = pd.DataFrame({
        "set_id": sets.get_indexer(frame["set_id"]), "position": frame["position"],
        "dj_key": codes(names, frame["dj_key"]), "artist_key": codes(names, frame["artist_key"]),
        "label_key": codes(labels, frame["label_key"]), "is_slot": frame["is_slot"],
    }).astype({"position": "int64", "is_slot": bool, "dj_key": "Int32", "artist_key": "Int32",
               "label_key": "Int32"})  # fmt: skip
    store.execute(
        "CREATE OR REPLACE TEMP TABLE lk_entries (set_id INTEGER, position BIGINT, "
        "dj_key INTEGER, artist_key INTEGER, label_key INTEGER, is_slot BOOLEAN);"
        "CREATE OR REPLACE TEMP TABLE lk_names (code INTEGER, name VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE lk_set_names (code INTEGER, name VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE lk_label_names (code INTEGER, name VARCHAR);"
        "CREATE OR REPLACE TEMP TABLE lk_dj_members (dj_key INTEGER, artist_key INTEGER)"
    )
    store.insert("lk_entries", coded)
    for table, index in (("lk_names", names), ("lk_set_names", sets), ("lk_label_names", labels)):
        store.insert(table, pd.DataFrame({"code": range(len(index)), "name": index.astype(str)}))
    djs = set(frame["dj_key"].dropna())
    members = [(names.get_loc(member), names.get_loc(name)) for name in names if " & " in name
               for member in name.split(" & ") if member in djs]  # fmt: skip
    store.insert("lk_dj_members", pd.DataFrame(members, columns=["dj_key", "artist_key"]))


def _prepare(store: Store, *, options: CandidateOptions) -> None:
    window, min_support = options.window, options.min_support
    store.execute(f"""
    CREATE OR REPLACE TEMP TABLE lk_known AS
        SELECT set_id, position, dj_key, artist_key, label_key FROM lk_entries
        WHERE artist_key IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE lk_set_artists AS
        SELECT set_id, any_value(dj_key) AS dj_key, artist_key, count(*) AS plays
        FROM lk_known GROUP BY set_id, artist_key;
    CREATE OR REPLACE TEMP TABLE lk_support AS
        SELECT artist_key, count(*) AS support_sets FROM lk_set_artists GROUP BY ALL
        HAVING count(*) >= {min_support};
    CREATE OR REPLACE TEMP TABLE lk_artist_labels AS
        SELECT artist_key, label_key, count(DISTINCT set_id) AS n_sets FROM lk_known
        WHERE label_key IS NOT NULL GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_set_length AS
        SELECT set_id, any_value(dj_key) AS dj_key, max(position) AS length
        FROM lk_entries GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_dj_sets AS
        SELECT dj_key, count(*) AS n_sets FROM lk_set_length GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_slots AS
        SELECT e.set_id, e.position, e.dj_key,
               (e.position - 1) / greatest(l.length - 1, 1) AS position_fraction,
               (row_number() OVER (ORDER BY e.set_id, e.position) - 1)::INTEGER AS slot_id
        FROM lk_entries e JOIN lk_set_length l USING (set_id) WHERE e.is_slot;
    CREATE OR REPLACE TEMP TABLE lk_near AS
        SELECT s.slot_id, s.set_id, k.position - s.position AS offset, k.artist_key, k.label_key
        FROM lk_slots s JOIN lk_known k
          ON k.set_id = s.set_id AND k.position BETWEEN s.position - {window}
                                  AND s.position + {window} AND k.position <> s.position;
    CREATE OR REPLACE TEMP TABLE lk_adjacent AS
        SELECT a.set_id, a.artist_key AS neighbour, b.artist_key AS candidate,
               b.position - a.position AS side
        FROM lk_known a JOIN lk_known b
          ON a.set_id = b.set_id AND abs(b.position - a.position) = 1;
    -- every known entry with both neighbours known: "played between B and A"
    CREATE OR REPLACE TEMP TABLE lk_triples AS
        SELECT m.set_id, b.artist_key AS before, m.artist_key AS middle, a.artist_key AS after
        FROM lk_known m
        JOIN lk_known b ON b.set_id = m.set_id AND b.position = m.position - 1
        JOIN lk_known a ON a.set_id = m.set_id AND a.position = m.position + 1;
    -- computed apart from the feature query, so its join and aggregate never share memory
    -- with it; the triples are dropped once counted
    CREATE OR REPLACE TEMP TABLE lk_sandwich AS
        SELECT s.slot_id, t.middle AS candidate, count(DISTINCT t.set_id) AS sandwich_sets
        FROM lk_slots s
        JOIN lk_near b ON b.slot_id = s.slot_id AND b.offset = -1
        JOIN lk_near a ON a.slot_id = s.slot_id AND a.offset = 1
        JOIN lk_triples t ON t.before = b.artist_key AND t.after = a.artist_key
             AND t.set_id <> s.set_id
        JOIN lk_support p ON p.artist_key = t.middle
        GROUP BY ALL;
    DROP TABLE lk_triples;
    CREATE OR REPLACE TEMP TABLE lk_dj_artists AS
        SELECT dj_key, artist_key, count(*) AS n_sets FROM lk_set_artists GROUP BY ALL;
    -- artists played within the window of each other, by sets; each artist's best partners
    CREATE OR REPLACE TEMP TABLE lk_partners AS
        SELECT * FROM (
            SELECT a.artist_key AS artist, b.artist_key AS partner,
                   count(DISTINCT a.set_id) AS n_sets
            FROM lk_known a JOIN lk_known b
              ON a.set_id = b.set_id AND b.position BETWEEN a.position - {window}
                 AND a.position + {window} AND a.artist_key <> b.artist_key
            JOIN lk_support p ON p.artist_key = b.artist_key
            GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY artist ORDER BY n_sets DESC, partner)
                <= {options.max_partners};
    CREATE OR REPLACE TEMP TABLE lk_label_artists AS
        SELECT * FROM lk_artist_labels a JOIN lk_support p USING (artist_key)
        QUALIFY row_number() OVER (PARTITION BY label_key ORDER BY n_sets DESC, artist_key)
                <= {options.max_partners};
    -- sets alike by the artists they share, a shared rare artist counting more (1 / ln(1 + n))
    CREATE OR REPLACE TEMP TABLE lk_artist_weight AS
        SELECT artist_key, 1.0 / ln(1 + count(*)) AS weight FROM lk_set_artists GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_set_weight AS
        SELECT set_id, sum(w.weight) AS weight
        FROM lk_set_artists JOIN lk_artist_weight w USING (artist_key) GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_similar_sets AS
        SELECT * FROM (
            SELECT a.set_id, b.set_id AS other,
                   sum(w.weight) / sqrt(any_value(sa.weight) * any_value(sb.weight)) AS likeness
            FROM lk_set_artists a
            JOIN lk_set_artists b ON b.artist_key = a.artist_key AND b.set_id <> a.set_id
            JOIN lk_artist_weight w ON w.artist_key = a.artist_key
            JOIN lk_set_weight sa ON sa.set_id = a.set_id
            JOIN lk_set_weight sb ON sb.set_id = b.set_id
            WHERE a.set_id IN (SELECT set_id FROM lk_slots)
            GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY set_id ORDER BY likeness DESC, other)
                <= {options.similar_sets};
    """)


def _source_sql(options: CandidateOptions) -> dict[Source, str]:
    """Per source: ``slot_id, candidate, score`` rows (higher score, better candidate)."""
    return {
        "dj_history": """
            SELECT s.slot_id, d.artist_key AS candidate,
                   d.n_sets - (x.artist_key IS NOT NULL)::INTEGER + (d.artist_key = s.dj_key)::INTEGER
            FROM lk_slots s JOIN lk_dj_artists d USING (dj_key)
            LEFT JOIN lk_set_artists x ON x.set_id = s.set_id AND x.artist_key = d.artist_key
            UNION ALL SELECT slot_id, dj_key, 0.5 FROM lk_slots""",
        "neighbours": """
            SELECT n.slot_id, p.partner, sum(p.n_sets)::DOUBLE
            FROM lk_near n JOIN lk_partners p ON p.artist = n.artist_key GROUP BY ALL""",
        "cooccurrence": f"""
            SELECT s.slot_id, c.candidate, c.score FROM lk_slots s JOIN (
                SELECT * FROM (
                    SELECT m.set_id, x.artist_key AS candidate, sum(m.likeness) AS score
                    FROM lk_similar_sets m JOIN lk_set_artists x ON x.set_id = m.other
                    GROUP BY ALL)
                QUALIFY row_number() OVER (PARTITION BY set_id ORDER BY score DESC, candidate)
                        <= {options.k}) c USING (set_id)""",
        "label_mates": """
            SELECT n.slot_id, a.artist_key, sum(a.n_sets)::DOUBLE
            FROM lk_near n JOIN lk_label_artists a USING (label_key) GROUP BY ALL""",
        "sandwich": "SELECT slot_id, candidate, sandwich_sets::DOUBLE FROM lk_sandwich",
        "same_set": """
            SELECT s.slot_id, x.artist_key, x.plays::DOUBLE
            FROM lk_slots s JOIN lk_set_artists x USING (set_id)""",
    }


def count_candidate_pairs(store: Store, *, options: CandidateOptions | None = None
                          ) -> dict[str, int]:
    """Upper bounds of the rows each source's query produces before its cap, counted without
    producing them (after :func:`_prepare`), and their sum under ``"total"``."""
    counts = {
        "dj_history": "SELECT sum(n) FROM lk_slots s JOIN (SELECT dj_key, count(*) AS n "
                      "FROM lk_dj_artists GROUP BY ALL) USING (dj_key)",
        "neighbours": "SELECT sum(n) FROM lk_near JOIN (SELECT artist, count(*) AS n "
                      "FROM lk_partners GROUP BY ALL) p ON p.artist = lk_near.artist_key",
        "cooccurrence": "SELECT count(*) FROM lk_slots",
        "label_mates": "SELECT sum(n) FROM lk_near JOIN (SELECT label_key, count(*) AS n "
                       "FROM lk_label_artists GROUP BY ALL) USING (label_key)",
        "sandwich": "SELECT count(*) FROM lk_sandwich",
        "same_set": "SELECT sum(n) FROM lk_slots s JOIN (SELECT set_id, count(*) AS n "
                    "FROM lk_set_artists GROUP BY ALL) USING (set_id)",
    }
    k = (options or CandidateOptions()).k
    result = {name: int(store.scalar(sql) or 0) for name, sql in counts.items()}
    result["cooccurrence"] *= k
    result["total"] = sum(result.values())
    return result


def _rank_sources(store: Store, *, options: CandidateOptions) -> None:
    """``lk_source`` (slot, candidate, source, score, rank ≤ k) and ``lk_cand``: the fused
    union capped at ``k`` per slot."""
    k = options.k
    store.execute("CREATE OR REPLACE TEMP TABLE lk_source (slot_id INTEGER, candidate INTEGER, "
                  "source VARCHAR, score DOUBLE, rank BIGINT)")
    for name, sql in _source_sql(options).items():  # one at a time: less memory at once
        store.execute(f"""
        INSERT INTO lk_source
        SELECT * FROM (
            SELECT slot_id, candidate, '{name}', score,
                   row_number() OVER (PARTITION BY slot_id ORDER BY score DESC, candidate)
            FROM (SELECT c.slot_id, c.candidate, max(c.score) AS score
                  FROM ({sql}) AS c(slot_id, candidate, score)
                  JOIN lk_support p ON p.artist_key = c.candidate
                  WHERE c.score > 0 GROUP BY ALL)
            ) AS ranked(slot_id, candidate, source, score, rank)
        WHERE rank <= {k}
        """)
    store.execute(f"""
    CREATE OR REPLACE TEMP TABLE lk_cand AS
        SELECT * FROM (
            SELECT slot_id, candidate, fused,
                   row_number() OVER (PARTITION BY slot_id ORDER BY fused DESC, candidate)
                       AS fused_rank
            FROM (SELECT slot_id, candidate, sum(1.0 / ({_FUSION_OFFSET} + rank)) AS fused
                  FROM lk_source GROUP BY ALL))
        WHERE fused_rank <= {k};
    """)
    store.execute(f"""
    CREATE OR REPLACE TEMP TABLE lk_source_ranks AS
        SELECT slot_id, candidate, {_source_columns_sql()}
        FROM lk_source JOIN lk_cand USING (slot_id, candidate) GROUP BY ALL
    """)


def _source_columns_sql() -> str:
    ranks = [f"coalesce(max(rank) FILTER (WHERE source = '{s}'), 0)::SMALLINT AS {s}_rank"
             for s in SOURCES]
    scores = [f"coalesce(max(score) FILTER (WHERE source = '{s}'), 0)::FLOAT AS {name}"
              for s, name in (("neighbours", "neighbour_score"),
                              ("cooccurrence", "cooccurrence_score"),
                              ("label_mates", "label_mates_score"))]
    return ", ".join(ranks + scores)


def _features_sql() -> str:
    rank_columns = ", ".join(f"sr.{column}" for column in RANK_COLUMNS)
    return f"""
    WITH cand AS (SELECT slot_id, candidate, fused_rank FROM lk_cand),
    source_ranks AS (SELECT * FROM lk_source_ranks),
    around AS (
        SELECT c.slot_id, c.candidate,
               bool_or(n.artist_key = c.candidate AND n.offset < 0) AS artist_played_before,
               bool_or(n.artist_key = c.candidate AND n.offset > 0) AS artist_played_after,
               bool_or(al.label_key IS NOT NULL AND n.offset < 0) AS label_match_before,
               bool_or(al.label_key IS NOT NULL AND n.offset > 0) AS label_match_after,
               count(DISTINCT al.label_key) AS label_overlap,
               min(al.label_key) AS label_example
        FROM cand c JOIN lk_near n USING (slot_id)
        LEFT JOIN lk_artist_labels al ON al.artist_key = c.candidate AND al.label_key = n.label_key
        GROUP BY ALL
    ),
    co AS (
        SELECT c.slot_id, c.candidate, count(DISTINCT a.set_id) AS co_neighbour_sets,
               min(a.set_id) AS co_example_set,
               arg_min(a.neighbour, a.set_id) AS co_example_neighbour,
               arg_min(a.side, a.set_id) AS co_example_side
        FROM cand c JOIN lk_near n USING (slot_id)
        JOIN lk_adjacent a ON a.neighbour = n.artist_key AND a.side = -n.offset
             AND a.candidate = c.candidate AND a.set_id <> n.set_id
        WHERE abs(n.offset) = 1
        GROUP BY ALL
    ),
    same_set AS (
        SELECT c.slot_id, c.candidate, x.plays AS same_set_plays
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_set_artists x ON x.set_id = s.set_id AND x.artist_key = c.candidate
    ),
    dj_history AS (
        SELECT c.slot_id, c.candidate,
               d.n_sets - (x.artist_key IS NOT NULL)::INTEGER AS dj_sets_with_candidate
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_dj_artists d ON d.dj_key = s.dj_key AND d.artist_key = c.candidate
        LEFT JOIN lk_set_artists x ON x.set_id = s.set_id AND x.artist_key = c.candidate
    ),
    dj_labels AS (
        -- from the candidate's few labels to the DJ's: a big label's artists are never listed
        SELECT DISTINCT c.slot_id, c.candidate
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_artist_labels a ON a.artist_key = c.candidate
        JOIN lk_artist_labels d ON d.artist_key = s.dj_key AND d.label_key = a.label_key
        WHERE c.candidate <> s.dj_key
    )
    SELECT s.slot_id, s.set_id, s.position::INTEGER AS position, c.candidate,
           c.candidate = s.dj_key OR dm.artist_key IS NOT NULL AS dj_is_candidate,
           coalesce(ar.artist_played_before, false) AS artist_played_before,
           coalesce(ar.artist_played_after, false) AS artist_played_after,
           coalesce(ar.label_match_before, false) AS label_match_before,
           coalesce(ar.label_match_after, false) AS label_match_after,
           coalesce(ar.label_overlap, 0)::SMALLINT AS label_overlap,
           dl.slot_id IS NOT NULL AS dj_label_owner,
           coalesce(co.co_neighbour_sets, 0)::INTEGER AS co_neighbour_sets,
           coalesce(sw.sandwich_sets, 0)::INTEGER AS sandwich_sets,
           coalesce(dh.dj_sets_with_candidate, 0)::INTEGER AS dj_sets_with_candidate,
           (ds.n_sets - 1)::INTEGER AS dj_other_sets,
           coalesce(ss.same_set_plays, 0)::SMALLINT AS same_set_plays,
           p.support_sets::INTEGER AS support_sets,
           s.position_fraction::FLOAT AS position_fraction,
           {rank_columns},
           sr.neighbour_score, sr.cooccurrence_score, sr.label_mates_score,
           c.fused_rank::SMALLINT AS fused_rank,
           coalesce(co.co_example_set, -1) AS co_example_set,
           coalesce(co.co_example_neighbour, -1) AS co_example_neighbour,
           coalesce(co.co_example_side, 0)::TINYINT AS co_example_side,
           coalesce(ar.label_example, -1) AS label_example
    FROM cand c
    JOIN lk_slots s USING (slot_id)
    JOIN lk_dj_sets ds ON ds.dj_key = s.dj_key
    JOIN lk_support p ON p.artist_key = c.candidate
    JOIN source_ranks sr USING (slot_id, candidate)
    LEFT JOIN around ar USING (slot_id, candidate)
    LEFT JOIN co USING (slot_id, candidate)
    LEFT JOIN lk_sandwich sw USING (slot_id, candidate)
    LEFT JOIN same_set ss USING (slot_id, candidate)
    LEFT JOIN dj_history dh USING (slot_id, candidate)
    LEFT JOIN dj_labels dl USING (slot_id, candidate)
    LEFT JOIN lk_dj_members dm ON dm.dj_key = s.dj_key AND dm.artist_key = c.candidate
    ORDER BY s.slot_id, c.candidate
    """


def source_recall(store: Store, truth: pd.DataFrame) -> dict[str, float]:
    """Share of the slots whose true artist each source proposes, and the fused union (after
    :func:`candidate_features` ran on ``store`` with ``keep_tables=True``).

    Parameters
    ----------
    store : Store
        Holding the ``lk_`` tables.
    truth : pandas.DataFrame
        ``slot_id, artist_key`` of the slots to measure.

    Returns
    -------
    dict
        ``{source: share}`` for each of :data:`SOURCES`, and ``"union"``.
    """
    store.execute("CREATE OR REPLACE TEMP TABLE lk_truth (slot_id VARCHAR, artist_key VARCHAR)")
    store.insert("lk_truth", truth[["slot_id", "artist_key"]])
    store.execute("""
    CREATE OR REPLACE TEMP TABLE lk_truth_codes AS
        SELECT s.slot_id, a.code AS artist_key
        FROM lk_slots s JOIN lk_set_names n ON n.code = s.set_id
        JOIN lk_truth t ON t.slot_id = n.name || '#' || s.position
        JOIN lk_names a ON a.name = t.artist_key
    """)
    n = max(len(truth), 1)
    found = dict(store.rows(
        "SELECT source, count(*) FROM lk_source s JOIN lk_truth_codes t "
        "ON t.slot_id = s.slot_id AND t.artist_key = s.candidate GROUP BY ALL"
    ))
    union = store.scalar("SELECT count(*) FROM lk_cand c JOIN lk_truth_codes t "
                         "ON t.slot_id = c.slot_id AND t.artist_key = c.candidate")
    return {**{s: round(found.get(s, 0) / n, 4) for s in SOURCES}, "union": round(union / n, 4)}


def _fetch_columns(store: Store, table: str) -> pd.DataFrame:
    """A table as a DataFrame, one column at a time: millions of pairs never exist twice in
    memory at once, as they would in one conversion of the whole result."""
    names = store.df(f"SELECT * FROM {table} LIMIT 0").columns
    return pd.DataFrame({name: store.arrays(f"SELECT {name} FROM {table} ORDER BY rowid")[name]
                         for name in names})


def drop_candidate_tables(store: Store, *, keep: tuple[str, ...] = ()) -> None:
    """Drop the ``lk_`` temporary tables :func:`candidate_features` left (``keep_tables``),
    but those in ``keep``."""
    for table in store.df("SELECT table_name FROM duckdb_tables() WHERE temporary "
                          "AND table_name LIKE 'lk_%'").table_name:
        if table not in keep:
            store.execute(f"DROP TABLE {table}")


def candidate_features(
    entries: pd.DataFrame,
    *,
    window: int = 3,
    min_support: int = 2,
    k: int = 50,
    similar_sets: int = 100,
    max_partners: int = 50,
    max_pairs: int = 50_000_000,
    store: Store | None = None,
    keep_tables: bool = False,
) -> pd.DataFrame:
    """One row per (unknown slot, candidate artist) with the co-occurrence features.

    Parameters
    ----------
    entries : pandas.DataFrame
        Shape (n_entries, ≥5): ``set_id, position, dj_key, artist_key, label_key`` and either
        ``is_slot`` (which rows to identify) or ``is_unknown`` (see :func:`slots_of`).
    window, min_support, k, similar_sets, max_partners : int
        See :class:`CandidateOptions` (3, 2, 50, 100, 50).
    max_pairs : int, default 50,000,000
        Refuse (before producing them) when the sources' queries would produce more rows.
    store : Store, optional
        Where the SQL runs (its memory limit and temp directory apply); an in-memory store by
        default. Temporary tables only; nothing is written to the store's tables.
    keep_tables : bool, default False
        Leave the ``lk_`` temporary tables in ``store`` (for :func:`source_recall`).

    Returns
    -------
    pandas.DataFrame
        Shape (n_pairs, len(PAIR_COLUMNS)), at most ``k`` rows per slot, sorted by slot and
        candidate.

    Raises
    ------
    ParameterError
        A parameter below 1, or the sources would produce more than ``max_pairs`` rows.
    """
    options = CandidateOptions(window=window, min_support=min_support, k=k,
                               similar_sets=similar_sets, max_partners=max_partners)
    options.check()
    missing = [c for c in _INPUT[:5] if c not in entries.columns]
    if missing:
        raise ParameterError(f"entries lack column(s) {missing}")
    context = nullcontext(store) if store is not None else Store(":memory:")
    with context as engine:
        _load(engine, entries)
        _prepare(engine, options=options)
        counts = count_candidate_pairs(engine, options=options)
        if counts["total"] > max_pairs:
            detail = ", ".join(f"{name} {n:,}" for name, n in counts.items() if name != "total")
            raise ParameterError(
                f"candidate generation would rank {counts['total']:,} (slot, artist) rows before "
                f"keeping {k} per slot, more than max_pairs={max_pairs:,} ({detail}); use a "
                "smaller window "
                f"(now {window}) or k (now {k}), a larger min_support (now {min_support}), "
                "or raise max_pairs"
            )
        _rank_sources(engine, options=options)
        # materialised first: the joins spill within the memory limit, and only the finished
        # table is converted to pandas
        engine.execute(f"CREATE OR REPLACE TEMP TABLE lk_pairs AS {_features_sql()}")
        drop_candidate_tables(engine, keep=_RECALL_TABLES + ("lk_pairs",))
        pairs = _fetch_columns(engine, "lk_pairs")
        engine.execute("DROP TABLE lk_pairs")
        slots = engine.df("SELECT n.name || '#' || s.position AS slot FROM lk_slots s "
                          "JOIN lk_set_names n ON n.code = s.set_id ORDER BY s.slot_id")
        codes = {kind: engine.df(f"SELECT name FROM {table} ORDER BY code")["name"]
                 for kind, table in (("artist", "lk_names"), ("set", "lk_set_names"),
                                     ("label", "lk_label_names"))}
        codes["slot"] = slots["slot"]
        if not keep_tables:
            drop_candidate_tables(engine)
    for column, kind in (("slot_id", "slot"), ("set_id", "set"), ("candidate", "artist"),
                         ("co_example_set", "set"), ("co_example_neighbour", "artist"),
                         ("label_example", "label")):
        pairs[column] = pd.Categorical.from_codes(pairs[column].to_numpy(), codes[kind])
    return pairs[PAIR_COLUMNS]
