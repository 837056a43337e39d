"""Normalise the genres already in a store (``musicwb genres migrate``); a dry run by default.

Tags scanned before :mod:`musicwb.genres` existed are as messy as their files:
``["Rock; Alt Rock", "seen live"]``, ``["Alternatif et indé"]``. The migration reads every
distinct tag of the ``tracks.genres`` column once (a library repeats a few thousand tags over
millions of tracks), turns each into canonical genres with
:func:`~musicwb.genres.normalise_tag` (unknown tags kept in a tidy form, meta tags
dropped) and rebuilds each track's list in order without repeats.

- :func:`read_tags` (pure): what each distinct tag becomes and why;
- :func:`genre_changes` (pure): the tracks whose genres change, before and after;
- :func:`migrate_genres`: both over a store; with ``apply=True`` it writes the new genres in one
  transaction, logs every change in ``genre_changes`` under a run id (so a migrated tag stays
  traceable) and records the run. Running it again changes nothing.

Examples
--------
>>> import pandas as pd
>>> tracks = pd.DataFrame({"id": [1, 2], "genres": [["Rock; Alt Rock", "seen live"], ["techno"]]})
>>> changes = genre_changes(tracks, read_tags(["Rock; Alt Rock", "seen live", "techno"]))
>>> changes[["track_id", "genres_after"]].to_dict("records")
[{'track_id': 1, 'genres_after': ['rock', 'alternative rock']}]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.genres.normalisation import explain_tag, normalise_tag
from musicwb.genres.vocabulary import GenreVocabulary, load_vocabulary
from musicwb.store.database import Store
from musicwb.store.runs import recorded_run
from musicwb.store.tables.genres import (
    genre_tag_counts,
    log_genre_changes,
    track_genres,
    write_track_genres,
)

__all__ = ["GenreMigration", "genre_changes", "migrate_genres", "read_tags"]

WRITE_BATCH = 10_000
"""Tracks updated per statement when applying (one progress step)."""

SHOWN_TAGS = 20
"""How many tags the summary lists (most frequent changed tags, most frequent unknown tags)."""


def _tag_outcome(tag: str, vocabulary: GenreVocabulary) -> str:
    mappings = explain_tag(tag, vocabulary=vocabulary)
    if any(mapping.mapped for mapping in mappings):
        return "mapped"
    if mappings and all(mapping.method == "meta" for mapping in mappings):
        return "meta"
    if any(mapping.method == "unknown" for mapping in mappings):
        return "unknown"
    return "dropped"


def read_tags(
    tags: Iterable[str], *, vocabulary: GenreVocabulary | None = None, progress: bool = False
) -> pd.DataFrame:
    """What each distinct raw tag becomes (pure).

    Parameters
    ----------
    tags : iterable of str
        Raw tags; repeats are read once.
    vocabulary : GenreVocabulary, optional
        Defaults to :func:`~musicwb.genres.load_vocabulary`.
    progress : bool, default False
        Show a progress bar on stderr.

    Returns
    -------
    pandas.DataFrame, shape (n_distinct, 3)
        ``tag``; ``genres`` (list of str: canonical genres, or the tidied tag when it matches
        nothing but looks like a genre); ``outcome``: ``mapped`` (at least one canonical genre),
        ``meta`` (a listening/ownership/decade tag, dropped), ``unknown`` (kept tidied) or
        ``dropped`` (not a genre).

    Examples
    --------
    >>> read_tags(["D&B", "seen live"]).to_dict("records")
    [{'tag': 'D&B', 'genres': ['drum and bass'], 'outcome': 'mapped'}, {'tag': 'seen live', 'genres': [], 'outcome': 'meta'}]
    """
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    distinct = list(dict.fromkeys(tags))
    bad = [tag for tag in distinct if not isinstance(tag, str)]
    if bad:
        raise ParameterError(f"tags must be strings; got {type(bad[0]).__name__}: {bad[0]!r}")
    genres, outcomes = [], []
    for tag in tqdm(distinct, desc="genre tags", unit="tag", disable=not progress):
        genres.append(normalise_tag(tag, vocabulary=vocab))
        outcomes.append(_tag_outcome(tag, vocab))
    return pd.DataFrame({"tag": distinct, "genres": genres, "outcome": outcomes})


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [value]
    return [tag for tag in value if isinstance(tag, str)]


def genre_changes(tracks: pd.DataFrame, readings: pd.DataFrame) -> pd.DataFrame:
    """The tracks whose genre list changes when every tag is read as in ``readings`` (pure).

    Parameters
    ----------
    tracks : pandas.DataFrame, shape (n, >= 2)
        ``id`` and ``genres`` (list of raw tags, a single string, or missing) per track.
    readings : pandas.DataFrame
        From :func:`read_tags`, covering every tag of ``tracks``.

    Returns
    -------
    pandas.DataFrame, shape (m, 3), m <= n
        ``track_id``, ``genres_before`` and ``genres_after`` (lists of str) for the tracks
        that change, in the order of ``tracks``. A track left without a genre gets an empty list.

    Raises
    ------
    ParameterError
        A tag of ``tracks`` is not in ``readings``.
    """
    mapping = dict(zip(readings["tag"], readings["genres"], strict=True))
    ids, before, after = [], [], []
    for track_id, value in zip(tracks["id"], tracks["genres"], strict=True):
        tags = _as_list(value)
        try:
            new = list(dict.fromkeys(genre for tag in tags for genre in mapping[tag]))
        except KeyError as exc:
            raise ParameterError(f"track {track_id}: tag {exc.args[0]!r} was not read") from exc
        if new != tags:
            ids.append(int(track_id))
            before.append(tags)
            after.append(new)
    return pd.DataFrame(
        {"track_id": pd.Series(ids, dtype="int64"), "genres_before": before, "genres_after": after}
    )


@dataclass(frozen=True)
class GenreMigration:
    """What a genre migration found and (with ``applied``) did.

    Attributes
    ----------
    applied : bool
        Whether the store was changed (False: a dry run).
    run_id : str or None
        The run that applied it (its changes are in ``genre_changes``).
    tracks_with_genres : int
    changed : int
        Tracks whose genre list changes (or changed).
    emptied : int
        Of those, tracks left without any genre (only meta tags).
    distinct_tags_before, distinct_genres_after : int
    tags : pandas.DataFrame
        :func:`read_tags` with a ``tracks`` column (how many tracks carry the tag), most
        frequent first.
    changes : pandas.DataFrame
        :func:`genre_changes`.
    """

    applied: bool
    run_id: str | None
    tracks_with_genres: int
    changed: int
    emptied: int
    distinct_tags_before: int
    distinct_genres_after: int
    tags: pd.DataFrame = field(repr=False)
    changes: pd.DataFrame = field(repr=False)

    def tags_by_outcome(self) -> dict[str, int]:
        """Distinct tags per outcome (``mapped``, ``meta``, ``unknown``, ``dropped``)."""
        counts = self.tags["outcome"].value_counts()
        return {name: int(counts.get(name, 0)) for name in ("mapped", "meta", "unknown", "dropped")}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, with the most frequent changed and unknown tags."""
        changed_tags = self.tags[
            [
                genres != [tag]
                for tag, genres in zip(self.tags["tag"], self.tags["genres"], strict=True)
            ]
        ]
        unknown = self.tags[self.tags["outcome"] == "unknown"]
        return {
            "applied": self.applied,
            "run_id": self.run_id,
            "tracks_with_genres": self.tracks_with_genres,
            "changed": self.changed,
            "unchanged": self.tracks_with_genres - self.changed,
            "emptied": self.emptied,
            "distinct_tags_before": self.distinct_tags_before,
            "distinct_genres_after": self.distinct_genres_after,
            "tags_by_outcome": self.tags_by_outcome(),
            "top_changed_tags": [
                {"tag": row.tag, "genres": list(row.genres), "tracks": int(row.tracks)}
                for row in changed_tags.head(SHOWN_TAGS).itertuples()
            ],
            "top_unknown_tags": [
                {"tag": row.tag, "tracks": int(row.tracks)}
                for row in unknown.head(SHOWN_TAGS).itertuples()
            ],
        }

    def describe(self) -> str:
        """A few lines for a person."""
        outcome = self.tags_by_outcome()
        verb = "changed" if self.applied else "would change"
        lines = [
            (
                f"{verb} the genres of {self.changed} of {self.tracks_with_genres} track(s) with "
                f"genres ({self.emptied} left without a genre: only meta tags)"
            ),
            (
                f"{self.distinct_tags_before} distinct tag(s) -> {self.distinct_genres_after} "
                f"genre(s): {outcome['mapped']} mapped, {outcome['meta']} meta (dropped), "
                f"{outcome['unknown']} unknown (kept tidied), {outcome['dropped']} dropped"
            ),
        ]
        for row in self.as_dict()["top_changed_tags"][:10]:
            lines.append(f"  {row['tag']!r} -> {row['genres']} ({row['tracks']} track(s))")
        if self.applied:
            lines.append(f"run {self.run_id}: before and after of each track in genre_changes")
        else:
            lines.append("dry run: add --apply to write the new genres")
        return "\n".join(lines)


def _write_changes(store: Store, *, changes: pd.DataFrame, run_id: str, progress: bool) -> None:
    """The new genres and their log, in one transaction (an interruption leaves the tracks)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    new_genres = pd.DataFrame({"id": changes["track_id"], "genres": changes["genres_after"]})
    with store.transaction():
        # DuckDB rewrites a row to update a list column (~4,000 rows/s here): written in
        # batches under a progress bar, still in the one transaction.
        with tqdm(
            total=len(new_genres), desc="writing genres", unit="track", disable=not progress
        ) as bar:
            for start in range(0, len(new_genres), WRITE_BATCH):
                batch = new_genres.iloc[start : start + WRITE_BATCH]
                write_track_genres(store, genres=batch, updated_at=now)
                bar.update(len(batch))
        log_genre_changes(store, changes=changes, run_id=run_id, changed_at=now)


def migrate_genres(
    store: Store,
    *,
    apply: bool = False,
    vocabulary: GenreVocabulary | None = None,
    progress: bool = True,
) -> GenreMigration:
    """Normalise the genres of every track of a store; a dry run unless ``apply``.

    Parameters
    ----------
    store : Store
        Read-only is enough for a dry run.
    apply : bool, default False
        Write the new genres (one transaction: an interruption leaves the tracks as they
        were), log each change in ``genre_changes`` and record a ``genres_migrate`` run (its
        status says whether it ended ``ok``, ``failed`` or ``interrupted``).
        On 100,000 tracks with real tags (55,000 changed) a dry run took 2 s, applying 21 s
        on a busy 2-core machine (DuckDB rewrites each updated row).
    vocabulary : GenreVocabulary, optional
    progress : bool, default True
        Progress bars (reading the distinct tags, writing the tracks) on stderr.

    Returns
    -------
    GenreMigration

    Raises
    ------
    StoreError
        ``apply`` on a read-only store.

    Examples
    --------
    >>> from musicwb.store import Store
    >>> with Store("data/musicwb.duckdb") as store:              # doctest: +SKIP
    ...     print(migrate_genres(store).describe())
    """
    tag_counts = genre_tag_counts(store)
    readings = read_tags(tag_counts["tag"], vocabulary=vocabulary, progress=progress)
    readings["tracks"] = tag_counts["tracks"].to_numpy()
    tracks = track_genres(store)
    changes = genre_changes(tracks, readings)
    after = {genre for genres in readings["genres"] for genre in genres}
    run_id = None
    if apply and not changes.empty:
        with recorded_run(store, kind="genres_migrate", parameters={"apply": True}) as run:
            run.summary = lambda: {"changed": len(changes), "tracks_with_genres": len(tracks)}
            _write_changes(store, changes=changes, run_id=run.run_id, progress=progress)
        run_id = run.run_id
    return GenreMigration(
        applied=bool(apply),
        run_id=run_id,
        tracks_with_genres=len(tracks),
        changed=len(changes),
        emptied=int(sum(len(genres) == 0 for genres in changes["genres_after"])),
        distinct_tags_before=len(readings),
        distinct_genres_after=len(after),
        tags=readings,
        changes=changes,
    )
