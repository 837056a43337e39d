"""Candidates and co-occurrence features for unknown tracklist slots (SQL over DataFrames).

For each unknown slot, candidate artists come from its context: the artists played within
``±window`` positions, the rest of the same set, the DJ, the DJ's regulars (the
``max_regulars`` most played of those in at least ``min_support`` of the DJ's sets), the
artists of the labels played around the slot, and the artists played right next to the slot's
neighbours, on the same side, in at least ``min_support`` other sets ("the same promo is played
next to the same tracks"). A candidate must be played in at least ``min_support`` sets.

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
same_set_plays              the candidate's other plays in this set
support_sets                sets that play the candidate at all
position_fraction           where the slot is in its set, 0 (start) to 1 (end)
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
>>> best.candidate, int(best.co_neighbour_sets)
('c', 2)
"""

from __future__ import annotations

from contextlib import nullcontext

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store

__all__ = [
    "FEATURE_COLUMNS",
    "PAIR_COLUMNS",
    "candidate_features",
    "count_candidate_pairs",
    "slots_of",
]

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
    "same_set_plays",
    "support_sets",
    "position_fraction",
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
    frame = entries.copy()
    if "is_slot" not in frame:
        frame["is_slot"] = slots_of(frame) if "is_unknown" in frame else frame.artist_key.isna()
    frame = frame[_INPUT].astype({"position": "int64", "is_slot": bool})
    store.execute(
        "CREATE OR REPLACE TEMP TABLE lk_entries (set_id VARCHAR, position BIGINT, "
        "dj_key VARCHAR, artist_key VARCHAR, label_key VARCHAR, is_slot BOOLEAN)"
    )
    store.insert("lk_entries", frame)


def _prepare(store: Store, *, window: int, min_support: int, max_regulars: int) -> None:
    store.execute(f"""
    CREATE OR REPLACE TEMP TABLE lk_known AS
        SELECT set_id, position, dj_key, artist_key, label_key FROM lk_entries
        WHERE artist_key IS NOT NULL;
    CREATE OR REPLACE TEMP TABLE lk_support AS
        SELECT artist_key, count(DISTINCT set_id) AS support_sets FROM lk_known GROUP BY ALL
        HAVING count(DISTINCT set_id) >= {min_support};
    CREATE OR REPLACE TEMP TABLE lk_artist_labels AS
        SELECT artist_key, label_key, count(DISTINCT set_id) AS n_sets FROM lk_known
        WHERE label_key IS NOT NULL GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_set_length AS
        SELECT set_id, max(position) AS length FROM lk_entries GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_slots AS
        SELECT e.set_id, e.position, e.dj_key, e.set_id || '#' || e.position AS slot_id,
               (e.position - 1) / greatest(l.length - 1, 1) AS position_fraction,
               (row_number() OVER (ORDER BY e.set_id, e.position) - 1)::INTEGER AS slot_no
        FROM lk_entries e JOIN lk_set_length l USING (set_id) WHERE e.is_slot;
    -- integer codes: 20 million pairs come back as categoricals, not Python strings
    CREATE OR REPLACE TEMP TABLE lk_artist_codes AS
        SELECT artist_key, (row_number() OVER (ORDER BY artist_key) - 1)::INTEGER AS code
        FROM (SELECT DISTINCT artist_key FROM lk_known);
    CREATE OR REPLACE TEMP TABLE lk_set_codes AS
        SELECT set_id, (row_number() OVER (ORDER BY set_id) - 1)::INTEGER AS code
        FROM (SELECT DISTINCT set_id FROM lk_entries);
    CREATE OR REPLACE TEMP TABLE lk_label_codes AS
        SELECT label_key, (row_number() OVER (ORDER BY label_key) - 1)::INTEGER AS code
        FROM (SELECT DISTINCT label_key FROM lk_known WHERE label_key IS NOT NULL);
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
    CREATE OR REPLACE TEMP TABLE lk_adjacent_support AS
        SELECT neighbour, side, candidate FROM lk_adjacent GROUP BY ALL
        HAVING count(DISTINCT set_id) >= {min_support};
    CREATE OR REPLACE TEMP TABLE lk_dj_artists AS
        SELECT dj_key, artist_key, count(DISTINCT set_id) AS n_sets FROM lk_known GROUP BY ALL;
    CREATE OR REPLACE TEMP TABLE lk_dj_regulars AS
        SELECT dj_key, artist_key FROM lk_dj_artists WHERE n_sets >= {min_support}
        QUALIFY row_number() OVER (PARTITION BY dj_key ORDER BY n_sets DESC, artist_key)
                <= {max_regulars};
    """)


_PAIR_SOURCES = {
    "around": "SELECT slot_id, artist_key AS candidate FROM lk_near",
    "same_set": "SELECT s.slot_id, k.artist_key FROM lk_slots s JOIN lk_known k USING (set_id)",
    "dj": "SELECT slot_id, dj_key FROM lk_slots",
    "dj_regulars": (
        "SELECT s.slot_id, d.artist_key FROM lk_slots s JOIN lk_dj_regulars d USING (dj_key)"
    ),
    "label_mates": (
        "SELECT n.slot_id, a.artist_key FROM lk_near n JOIN lk_artist_labels a USING (label_key) "
        "WHERE a.n_sets >= {min_support}"
    ),
    "co_neighbours": (
        "SELECT n.slot_id, a.candidate FROM lk_near n JOIN lk_adjacent_support a "
        "ON a.neighbour = n.artist_key AND a.side = -n.offset WHERE abs(n.offset) = 1"
    ),
}


def count_candidate_pairs(store: Store, *, min_support: int = 2) -> dict[str, int]:
    """Upper bounds of the candidate pairs each source would generate, counted without
    generating them (after :func:`_prepare`), and their sum under ``"total"``."""
    counts = {
        "around": "SELECT count(*) FROM lk_near",
        "same_set": "SELECT sum(n) FROM lk_slots s JOIN (SELECT set_id, count(*) AS n "
                    "FROM lk_known GROUP BY ALL) USING (set_id)",
        "dj": "SELECT count(*) FROM lk_slots",
        "dj_regulars": "SELECT sum(n) FROM lk_slots s JOIN (SELECT dj_key, count(*) AS n "
                       "FROM lk_dj_regulars GROUP BY ALL) USING (dj_key)",
        "label_mates": "SELECT sum(n) FROM lk_near JOIN (SELECT label_key, count(*) AS n "
                       f"FROM lk_artist_labels WHERE n_sets >= {min_support} GROUP BY ALL) "
                       "USING (label_key)",
        "co_neighbours": "SELECT sum(n) FROM lk_near JOIN (SELECT neighbour, side, count(*) AS n "
                         "FROM lk_adjacent_support GROUP BY ALL) a "
                         "ON a.neighbour = lk_near.artist_key "
                         "AND a.side = -lk_near.offset WHERE abs(lk_near.offset) = 1",
    }
    result = {name: int(store.scalar(sql) or 0) for name, sql in counts.items()}
    result["total"] = sum(result.values())
    return result


def _features_sql(min_support: int) -> str:
    sources = "\n UNION ".join(sql.format(min_support=min_support) for sql in _PAIR_SOURCES.values())
    return f"""
    WITH cand AS (
        SELECT DISTINCT c.slot_id, c.candidate FROM ({sources}) AS c(slot_id, candidate)
        JOIN lk_support p ON p.artist_key = c.candidate
    ),
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
        SELECT c.slot_id, c.candidate, count(*) AS same_set_plays
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_known k ON k.set_id = s.set_id AND k.artist_key = c.candidate
        GROUP BY ALL
    ),
    dj_history AS (
        SELECT c.slot_id, c.candidate, count(DISTINCT k.set_id) AS dj_sets_with_candidate
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_known k ON k.dj_key = s.dj_key AND k.artist_key = c.candidate
             AND k.set_id <> s.set_id
        GROUP BY ALL
    ),
    dj_labels AS (
        SELECT DISTINCT c.slot_id, c.candidate
        FROM cand c JOIN lk_slots s USING (slot_id)
        JOIN lk_artist_labels d ON d.artist_key = s.dj_key
        JOIN lk_artist_labels a ON a.label_key = d.label_key AND a.artist_key = c.candidate
        WHERE c.candidate <> s.dj_key
    )
    SELECT s.slot_no AS slot_id, sc.code AS set_id, s.position::INTEGER AS position,
           ac.code AS candidate,
           coalesce(c.candidate = s.dj_key
                    OR list_contains(string_split(c.candidate, ' & '), s.dj_key), false)
               AS dj_is_candidate,
           coalesce(ar.artist_played_before, false) AS artist_played_before,
           coalesce(ar.artist_played_after, false) AS artist_played_after,
           coalesce(ar.label_match_before, false) AS label_match_before,
           coalesce(ar.label_match_after, false) AS label_match_after,
           coalesce(ar.label_overlap, 0)::SMALLINT AS label_overlap,
           dl.slot_id IS NOT NULL AS dj_label_owner,
           coalesce(co.co_neighbour_sets, 0)::INTEGER AS co_neighbour_sets,
           coalesce(sw.sandwich_sets, 0)::INTEGER AS sandwich_sets,
           coalesce(dh.dj_sets_with_candidate, 0)::INTEGER AS dj_sets_with_candidate,
           coalesce(ss.same_set_plays, 0)::SMALLINT AS same_set_plays,
           p.support_sets::INTEGER AS support_sets,
           s.position_fraction::FLOAT AS position_fraction,
           coalesce(xs.code, -1) AS co_example_set, coalesce(xa.code, -1) AS co_example_neighbour,
           coalesce(co.co_example_side, 0)::TINYINT AS co_example_side,
           coalesce(xl.code, -1) AS label_example
    FROM cand c
    JOIN lk_slots s USING (slot_id)
    JOIN lk_support p ON p.artist_key = c.candidate
    LEFT JOIN around ar USING (slot_id, candidate)
    LEFT JOIN co USING (slot_id, candidate)
    LEFT JOIN lk_sandwich sw USING (slot_id, candidate)
    LEFT JOIN same_set ss USING (slot_id, candidate)
    LEFT JOIN dj_history dh USING (slot_id, candidate)
    LEFT JOIN dj_labels dl USING (slot_id, candidate)
    JOIN lk_set_codes sc ON sc.set_id = s.set_id
    JOIN lk_artist_codes ac ON ac.artist_key = c.candidate
    LEFT JOIN lk_set_codes xs ON xs.set_id = co.co_example_set
    LEFT JOIN lk_artist_codes xa ON xa.artist_key = co.co_example_neighbour
    LEFT JOIN lk_label_codes xl ON xl.label_key = ar.label_example
    ORDER BY s.slot_no, ac.code
    """


def candidate_features(
    entries: pd.DataFrame,
    *,
    window: int = 3,
    min_support: int = 2,
    max_regulars: int = 50,
    max_pairs: int = 50_000_000,
    store: Store | None = None,
) -> pd.DataFrame:
    """One row per (unknown slot, candidate artist) with the co-occurrence features.

    Parameters
    ----------
    entries : pandas.DataFrame
        Shape (n_entries, ≥5): ``set_id, position, dj_key, artist_key, label_key`` and either
        ``is_slot`` (which rows to identify) or ``is_unknown`` (see :func:`slots_of`).
    window : int, default 3
        Neighbours within ``±window`` positions count as "around" the slot.
    min_support : int, default 2
        A candidate must be played in at least this many sets.
    max_regulars : int, default 50
        The DJ's regulars (artists in at least ``min_support`` of the DJ's sets) that become
        candidates: the most played ones.
    max_pairs : int, default 50,000,000
        Refuse (before generating them) when the candidate sources would produce more pairs.
    store : Store, optional
        Where the SQL runs (its memory limit and temp directory apply); an in-memory store by
        default. Temporary tables only; nothing is written to the store's tables.

    Returns
    -------
    pandas.DataFrame
        Shape (n_pairs, len(PAIR_COLUMNS)), sorted by slot and candidate.

    Raises
    ------
    ParameterError
        Bad ``window``/``min_support``, or the candidate pairs would exceed ``max_pairs``.
    """
    if window < 1:
        raise ParameterError(f"window must be at least 1, not {window}")
    if min_support < 1:
        raise ParameterError(f"min_support must be at least 1, not {min_support}")
    missing = [c for c in _INPUT[:5] if c not in entries.columns]
    if missing:
        raise ParameterError(f"entries lack column(s) {missing}")
    context = nullcontext(store) if store is not None else Store(":memory:")
    with context as engine:
        _load(engine, entries)
        _prepare(engine, window=window, min_support=min_support, max_regulars=max_regulars)
        counts = count_candidate_pairs(engine, min_support=min_support)
        if counts["total"] > max_pairs:
            detail = ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "total")
            raise ParameterError(
                f"candidate generation would compare {counts['total']:,} (slot, artist) pairs, "
                f"more than max_pairs={max_pairs:,} ({detail}); use a smaller window "
                f"(now {window}) or a larger min_support (now {min_support}), or raise max_pairs"
            )
        pairs = engine.df(_features_sql(min_support))
        codes = {
            "slot": engine.df("SELECT slot_id FROM lk_slots ORDER BY slot_no").slot_id,
            "artist": engine.df("SELECT artist_key FROM lk_artist_codes ORDER BY code").artist_key,
            "set": engine.df("SELECT set_id FROM lk_set_codes ORDER BY code").set_id,
            "label": engine.df("SELECT label_key FROM lk_label_codes ORDER BY code").label_key,
        }
    for column, kind in (("slot_id", "slot"), ("set_id", "set"), ("candidate", "artist"),
                         ("co_example_set", "set"), ("co_example_neighbour", "artist"),
                         ("label_example", "label")):
        pairs[column] = pd.Categorical.from_codes(pairs[column].to_numpy(), codes[kind])
    return pairs[PAIR_COLUMNS]
