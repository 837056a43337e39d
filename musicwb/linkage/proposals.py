"""Proposals for the real unknown slots of the store, each with its evidence in words.

The model is fitted on the store's own tracklists: a share of the known entries is masked so
that m and the calibration come from answers we know; the real unknown slots ("ID - ID", "?")
then get up to ``top_k`` proposals at or above ``min_confidence``. Proposals go into
``linkage_proposals`` (replacing earlier proposals for the same slots); ``tracklist_entries``
is never written.

Examples
--------
>>> with Store(path) as store:                    # doctest: +SKIP
...     result = identify(store, min_confidence=0.7)
>>> result.proposals[["set_id", "position", "artist", "probability", "tier", "evidence"]]  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Unpack

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.linkage.backends import shared_duckdb
from musicwb.linkage.features import candidate_features, slots_of
from musicwb.linkage.label_proposals import label_evidence, label_sentences, score_labels
from musicwb.linkage.masking import mask_known
from musicwb.linkage.model import LinkageModel
from musicwb.linkage.scoring import FitKeywords, FitOptions, fit_and_score, spill_directory
from musicwb.linkage.slot_names import SLOT_COLUMNS, describe_slots
from musicwb.linkage.tracklists import entries_frame
from musicwb.store import Store
from musicwb.store.tables import linkage as tables
from musicwb.store.tables.linkage import proposals_frame

__all__ = [
    "ProposalResult",
    "display_names",
    "evidence_sentences",
    "identify",
    "proposals_frame",
    "propose",
]

PROPOSAL_COLUMNS = ["set_id", "position", "rank", "artist", "artist_key", "probability", "tier",
                    "method", "evidence", "run_id", "created_at"]
#: The slot's most probable label, on every proposal of the slot (and in ``slot_labels``).
LABEL_COLUMNS = ["label", "label_probability", "label_evidence"]
SLOT_LABEL_COLUMNS = ["slot_id", "set_id", "position", "label_key", *LABEL_COLUMNS]


@dataclass
class ProposalResult:
    """Proposals made by :func:`identify`, the candidate features and the fitted model, and
    each unknown slot's most probable label (``slot_labels``: :data:`SLOT_LABEL_COLUMNS`)."""

    proposals: pd.DataFrame
    scores: pd.DataFrame
    pairs: pd.DataFrame
    model: LinkageModel | None
    summary: dict[str, Any]
    slot_labels: pd.DataFrame


def display_names(entries: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """The most frequent spelling of each artist key and label key.

    Parameters
    ----------
    entries : pandas.DataFrame
        With ``artist, artist_key, label, label_key``.

    Returns
    -------
    artists, labels : dict
    """
    def most_common(frame: pd.DataFrame, key: str, name: str) -> dict[str, str]:
        known = frame.dropna(subset=[key, name])
        counts = known.groupby([key, name]).size().reset_index(name="n")
        best = counts.sort_values(["n", name], ascending=[False, True]).drop_duplicates(key)
        return dict(zip(best[key], best[name], strict=True))

    return most_common(entries, "artist_key", "artist"), most_common(entries, "label_key", "label")


def evidence_sentences(
    pair: pd.Series | dict,
    *,
    artists: dict[str, str],
    labels: dict[str, str],
    sets: pd.DataFrame,
    dj: str,
    window: int = 3,
) -> list[str]:
    """Plain sentences that say why a candidate was proposed for a slot.

    Parameters
    ----------
    pair : pandas.Series or dict
        One row of the candidate features.
    artists, labels : dict
        Display names (see :func:`display_names`).
    sets : pandas.DataFrame
        Index ``set_id``; columns ``dj, set_title``.
    dj : str
        The DJ of the slot's set.
    window : int, default 3

    Returns
    -------
    list of str
        E.g. ``"played after Ilan Bluestone in Above & Beyond's set ABGT 500 (and 2 more
        sets)"``.
    """
    name = artists.get(pair["candidate"], pair["candidate"])
    said = []
    if pair["co_neighbour_sets"] > 0 and isinstance(pair.get("co_example_set"), str):
        example = sets.loc[pair["co_example_set"]] if pair["co_example_set"] in sets.index else None
        neighbour = artists.get(pair["co_example_neighbour"], pair["co_example_neighbour"])
        side = "after" if pair["co_example_side"] > 0 else "before"
        where = _in_set(example) if example is not None else ""
        more = int(pair["co_neighbour_sets"]) - 1
        said.append(f"played {side} {neighbour} {where}".strip()
                    + (f" (and {more} more set{'s' if more > 1 else ''})" if more else ""))
    if pair.get("sandwich_sets", 0) > 0:
        count = int(pair["sandwich_sets"])
        said.append(f"{name} is played between the same two artists in {count} other "
                    f"set{'s' if count > 1 else ''}")
    if pair["dj_is_candidate"]:
        said.append(f"{dj} is the artist: DJs play their own productions")
    if pair["artist_played_before"] or pair["artist_played_after"]:
        sides = [s for s, flag in (("before", pair["artist_played_before"]),
                                   ("after", pair["artist_played_after"])) if flag]
        said.append(f"{name} is played within {window} tracks {' and '.join(sides)} the slot")
    if pair["label_match_before"] or pair["label_match_after"]:
        label = labels.get(pair.get("label_example"), pair.get("label_example"))
        said.append(f"{name} releases on {label}, played around the slot")
    if pair["dj_label_owner"]:
        said.append(f"{name} releases on a label {dj} releases on")
    if pair["dj_sets_with_candidate"] > 0:
        count = int(pair["dj_sets_with_candidate"])
        whose = "their own tracks" if pair["dj_is_candidate"] else name
        said.append(f"{dj} plays {whose} in {count} other set{'s' if count > 1 else ''}")
    said.append(f"{name} is played in {int(pair['support_sets'])} sets in all")
    return said


def _in_set(example: pd.Series) -> str:
    """``in Jonah Vale's set Warm-up``, or ``in the set 2024-07-25 - Jonah Vale @ …`` when the
    set's title names its DJ already."""
    title, dj = str(example["set_title"]), str(example["dj"])
    return f"in the set {title}" if dj and dj in title else f"in {dj}'s set {title}"


def propose(
    entries: pd.DataFrame,
    *,
    min_confidence: float = 0.7,
    top_k: int = 3,
    **options: Unpack[FitKeywords],
) -> ProposalResult:
    """Propose artists for the unknown slots of tracklist entries (nothing is stored).

    Parameters
    ----------
    entries : pandas.DataFrame
        Shape (n_entries, ≥11), from :func:`musicwb.linkage.tracklists.entries_frame` or
        :func:`musicwb.linkage.tracklists.with_keys`.
    min_confidence : float, default 0.7
        Calibrated probability a proposal needs (0.70 = the medium tier).
    top_k : int, default 3
        At most this many proposals per slot.
    **options
        ``mask_fraction`` (0.2: the share of eligible known entries masked to learn m and the
        calibration from), ``seed`` (0), ``window`` (3), ``min_support`` (2),
        ``db_api_factory`` and ``model_options``: see
        :class:`~musicwb.linkage.scoring.FitOptions`.

    Returns
    -------
    ProposalResult
        ``proposals`` with :data:`PROPOSAL_COLUMNS` (``evidence`` a list of sentences) and
        the slot's label (:data:`LABEL_COLUMNS`: ``label``, ``label_probability`` calibrated
        on the masked answers' labels, ``label_evidence``); ``slot_labels``, one row per
        unknown slot, with or without an artist proposal.

    Examples
    --------
    >>> result = propose(entries, min_confidence=0.5)   # doctest: +SKIP
    >>> result.proposals[["set_id", "position", "artist", "probability"]]  # doctest: +SKIP
    """
    if not 0 <= min_confidence <= 1:
        raise ParameterError(f"--min-confidence must be in [0, 1], not {min_confidence}")
    fit = FitOptions(**options)
    real_slots = slots_of(entries)
    run_id = f"identify-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    empty = pd.DataFrame(columns=[*PROPOSAL_COLUMNS, *LABEL_COLUMNS])
    if not real_slots.any():
        return ProposalResult(empty, pd.DataFrame(), pd.DataFrame(), None,
                              {"run_id": run_id, "slots": 0, "proposals": 0},
                              pd.DataFrame(columns=SLOT_LABEL_COLUMNS))
    masked, truth_frame = mask_known(entries, fraction=fit.mask_fraction, seed=fit.seed)
    masked["is_slot"] = masked["is_slot"] | real_slots
    truth = truth_frame.set_index("slot_id")["artist_key"]
    slot_ids = (entries.loc[real_slots, "set_id"] + "#"
                + entries.loc[real_slots, "position"].astype(str))
    # one DuckDB for candidates, splink and labels; it stays open with the model, whose
    # linker draws splink's charts (the waterfalls of match_diagnostics)
    engine = Store(":memory:", temp_directory=spill_directory(),
                   memory_limit=fit.duckdb_memory_limit(entries=len(entries)))
    pairs = candidate_features(masked, window=fit.window, min_support=fit.min_support, k=fit.k,
                               store=engine)
    scores, model = fit_and_score(pairs, truth, train_slots=truth.index,
                                  predict_slots=slot_ids, seed=fit.seed,
                                  db_api_factory=fit.db_api_factory or shared_duckdb(engine),
                                  model_options=fit.model_options)
    artists, labels = display_names(entries)
    sets = entries.drop_duplicates("set_id").set_index("set_id")[["dj", "set_title"]]
    slot_labels = _slot_labels(masked, truth_frame, scores, slot_ids=slot_ids, engine=engine,
                               fit=fit, artists=artists, labels=labels, sets=sets)
    chosen = scores[(scores["rank"] <= top_k) & (scores["probability"] >= min_confidence)]
    chosen = chosen.merge(pairs, on=["slot_id", "candidate"])
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    proposals = pd.DataFrame({
        "set_id": chosen["set_id"], "position": chosen["position"].astype("int32"),
        "rank": chosen.groupby("slot_id", observed=True).cumcount().astype("int32") + 1,
        "artist": [artists.get(k, k) for k in chosen["candidate"]],
        "artist_key": chosen["candidate"], "probability": chosen["probability"].round(4),
        "tier": chosen["tier"], "method": "splink",
        "evidence": [evidence_sentences(row, artists=artists, labels=labels, sets=sets,
                                        dj=sets.loc[row["set_id"], "dj"], window=fit.window)
                     for _, row in chosen.iterrows()],
        "run_id": run_id, "created_at": now,
    })[PROPOSAL_COLUMNS]  # fmt: skip
    proposals = proposals.merge(slot_labels[["set_id", "position", *LABEL_COLUMNS]],
                                on=["set_id", "position"], how="left")
    summary = {"run_id": run_id, "slots": int(real_slots.sum()),
               "slots_with_proposal": int(proposals[["set_id", "position"]].drop_duplicates().shape[0]),
               "proposals": len(proposals), "high": int((proposals["tier"] == "high").sum()),
               "medium": int((proposals["tier"] == "medium").sum()),
               "slots_with_label": int(slot_labels["label"].notna().sum()),
               "masked_for_training": len(truth)}  # fmt: skip
    return ProposalResult(proposals.reset_index(drop=True), scores, pairs, model, summary,
                          slot_labels)


def _slot_labels(masked: pd.DataFrame, truth_frame: pd.DataFrame, scores: pd.DataFrame, *,
                 slot_ids: pd.Series, engine: Store, fit: FitOptions,
                 artists: dict[str, str], labels: dict[str, str],
                 sets: pd.DataFrame) -> pd.DataFrame:
    """The most probable label of every real unknown slot, learnt from the masked answers'
    labels and the slots' artist scores (:mod:`.label_proposals`)."""
    artist_scores = scores[["slot_id", "candidate", "probability"]].astype(
        {"slot_id": str, "candidate": str})
    evidence = label_evidence(masked, artist_scores=artist_scores, store=engine)
    answers = truth_frame.set_index("slot_id")["label_key"]
    ranked = score_labels(evidence, answers, train_slots=answers.dropna().index,
                          predict_slots=slot_ids, keep_top=1)
    top = ranked[ranked["rank"] == 1].set_index("slot_id")
    frame = pd.DataFrame({"slot_id": slot_ids.to_numpy()})
    frame[["set_id", "position"]] = frame["slot_id"].str.rsplit("#", n=1, expand=True)
    frame["position"] = frame["position"].astype("int32")
    found = top.reindex(frame["slot_id"])
    frame["label_key"] = found["label_key"].to_numpy()
    frame["label"] = [labels.get(k, k) if isinstance(k, str) else None for k in frame["label_key"]]
    frame["label_probability"] = found["probability"].round(4).to_numpy()
    frame["label_evidence"] = [
        label_sentences(found.loc[slot], labels=labels, artists=artists,
                        dj=sets.loc[set_id, "dj"], window=fit.window)
        if isinstance(found.loc[slot, "label_key"], str) else []
        for slot, set_id in zip(frame["slot_id"], frame["set_id"], strict=True)
    ]
    return frame[SLOT_LABEL_COLUMNS]


def identify(
    store: Store,
    *,
    min_confidence: float = 0.7,
    top_k: int = 3,
    write: bool = True,
    **options: Unpack[FitKeywords],
) -> ProposalResult:
    """Propose artists for the store's unknown tracklist slots and store them with evidence.

    :func:`propose` on the store's entries; with ``write``, the proposals replace earlier
    ones for the same slots in ``linkage_proposals`` (``tracklist_entries`` is never written).

    Parameters
    ----------
    store : Store
        Open for writing when ``write`` (else read-only is fine).
    min_confidence, top_k, **options
        As for :func:`propose`.
    write : bool, default True
        Replace this run's slots' rows in ``linkage_proposals``.

    Returns
    -------
    ProposalResult
    """
    entries = entries_frame(store)
    result = propose(entries, min_confidence=min_confidence, top_k=top_k, **options)
    real_slots = slots_of(entries)
    if write and real_slots.any():
        tables.replace_proposals(store, slots=entries.loc[real_slots, ["set_id", "position"]],
                                 proposals=result.proposals[PROPOSAL_COLUMNS])
    return replace(
        result,
        proposals=_with_slot_names(store, result.proposals),
        slot_labels=_with_slot_names(store, result.slot_labels),
    )


def _with_slot_names(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`~musicwb.linkage.slot_names.SLOT_COLUMNS` (DJ, date, neighbours,
    and the sentence naming the slot) beside its ``set_id, position``."""
    slots = frame[["set_id", "position"]].drop_duplicates()
    if slots.empty:
        return frame.assign(**dict.fromkeys(SLOT_COLUMNS))
    names = describe_slots(slots=slots, sets=tables.tracklist_sets(store),
                           entries=tables.tracklist_entries(store))  # fmt: skip
    return frame.merge(names, on=["set_id", "position"], how="left")
