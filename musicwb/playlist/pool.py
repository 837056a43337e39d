"""The candidate pool of a seed track: hybrid sonic + genre similarity over the whole library.

Steps (all vectorised over the ``n`` tracks of the artifact with numpy):

1. ``sonic``: cosine of the full-track embeddings (``embedded_full``) to the seed's;
   ``genre``: :func:`musicwb.genres.genre_similarity_to` over the artifact's genres;
   ``similarity = (ws·sonic + wg·genre) / (ws + wg)``. When the seed has no genres the genre
   term says nothing and the similarity is the sonic one (``stats["genre_used"]`` is False).
2. Left out: the seed, the ``exclude`` tracks (e.g. recently played), tracks below the
   similarity floor, and tracks whose genres are known but fail the genre gate.
3. Duplicates and versions: a track whose audio is near-identical to the seed or to a better
   candidate (full-track cosine ≥ ``duplicate_similarity``), or that has the same artist and
   normalised title (brackets and " - ..." suffixes dropped: "Song (Radio Edit)" is "Song") as
   the seed or a better candidate.
4. Each artist keeps its best ``per_artist`` candidates (the seed's artist
   ``per_artist + seed_artist_bonus``). Artists are taken by their best candidate (the seed's
   artist first) until the pool has ``target_artists`` artists and ``target_artists ·
   per_artist`` tracks (artists with few candidates bring more artists in), or none are left;
   at most ``max_pool`` tracks, best first.

Pairwise duplicate checks are made on the shortlist only, then the shortlist is refilled, so the
work stays proportional to ``n`` (no n × n matrix).

Examples
--------
>>> import numpy as np
>>> from musicwb.playlist.params import PlaylistParams
>>> artifact = {
...     "track_ids": np.array([10, 11, 12, 13]),
...     "artist_keys": np.array(["a", "b", "c", "a"]),
...     "embedded_full": np.array([[1, 0], [0.9, 0.44], [0, 1], [0.6, -0.8]], dtype=np.float32),
...     "genre_vocab": np.array(["house"]), "genre_indptr": np.array([0, 1, 2, 2, 3]),
...     "genre_indices": np.array([0, 0, 0], dtype=np.int32),
... }
>>> pool = build_pool(artifact, seed_index=0, params=PlaylistParams())
>>> pool.indices.tolist(), pool.stats["below_floor"]
([1, 3], 1)
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from musicwb.errors import ParameterError
from musicwb.genres.similarity import genre_matrix, genre_similarity_to
from musicwb.playlist.params import PlaylistParams
from musicwb.sonic.towers import feature_names
from musicwb.text.folding import fold

__all__ = ["Library", "Pool", "build_pool", "library_of", "one_blas_thread", "title_key"]

_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]?")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+.*$")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_UNIT_NORM_TOLERANCE = 1e-3
_REQUIRED = ("track_ids", "artist_keys", "embedded_full")


_CONTROLLER: list[ThreadpoolController] = []


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread.

    The products here are narrow (d <= 137 columns): one thread is fastest, and two threads on a
    busy machine are many times slower (a 32,000 × 48 product: 2.5 ms on one thread, 15 ms on
    two competing with other processes). The thread-pool controller is found once per process.
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


def title_key(title: str | None) -> str:
    """The version-free key of a title: folded, brackets and " - ..." suffixes dropped.

    Parameters
    ----------
    title : str or None

    Returns
    -------
    str
        ``""`` for a missing title (which never matches anything).

    Examples
    --------
    >>> title_key("Strobe (Radio Edit)"), title_key("Strobe - 2019 Remaster"), title_key("STROBE!")
    ('strobe', 'strobe', 'strobe')
    """
    if not isinstance(title, str):
        return ""
    core = _DASH_SUFFIX.sub("", _BRACKETS.sub(" ", title))
    return _NOT_WORD.sub(" ", fold(core)).strip() or fold(title)


@dataclass(frozen=True, eq=False)
class Library:
    """What every pool and ordering of one artifact needs, derived once per artifact.

    Attributes
    ----------
    n : int
        Number of tracks.
    track_ids : ndarray, shape (n,), int64
    artist_codes : ndarray, shape (n,), int64
        One code per artist key; every track without an artist gets a code of its own.
    artist_names : ndarray, shape (n_artists,), object
        The artist key of each code below ``len(artist_names)``.
    full, start, end : ndarray, shape (n, d), float32
        Embeddings per segment (``start``/``end`` fall back to ``full`` when absent).
    full_unit, start_unit, end_unit : bool
        Whether the rows are L2-normalised already (else cosines divide by the norms).
    norms : dict of str to ndarray, shape (n,)
        Row norms of the segments that are not unit length.
    genres : scipy.sparse.csr_matrix, shape (n, n_genres), float32
    genre_names : ndarray, shape (n_genres,), str
    bpm : ndarray, shape (n,), float64 or None
        Tempo from the artifact's rhythm features (0 or NaN: unknown); None when absent.
    """

    n: int
    track_ids: np.ndarray
    artist_codes: np.ndarray
    artist_names: np.ndarray
    full: np.ndarray
    start: np.ndarray
    end: np.ndarray
    genres: sp.csr_matrix
    genre_names: np.ndarray
    bpm: np.ndarray | None
    norms: dict[str, np.ndarray] = field(default_factory=dict)
    _row_of: dict[int, int] | None = field(default=None, repr=False)

    def row_of(self, track_id: int) -> int:
        """The artifact row of a track id.

        Raises
        ------
        ParameterError
            The track is not in the artifact.
        """
        if self._row_of is not None:
            if int(track_id) in self._row_of:
                return self._row_of[int(track_id)]
        else:
            index = int(np.searchsorted(self.track_ids, track_id))
            if index < self.n and self.track_ids[index] == track_id:
                return index
        raise ParameterError(
            f"track {track_id} is not in the sonic artifact ({self.n} tracks): "
            "analyse it (`musicwb extract`) and rebuild the artifact"
        )

    def cosine_to(
        self, segment: str, vector: np.ndarray, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Cosine of ``vector`` to the rows of one segment's embeddings.

        Parameters
        ----------
        segment : {"full", "start", "end"}
        vector : ndarray, shape (d,)
        rows : ndarray of int, optional
            Only these rows (default: all).

        Returns
        -------
        ndarray, shape (len(rows),) or (n,), float64
        """
        matrix = getattr(self, segment)
        block = matrix if rows is None else matrix[rows]
        vector = np.asarray(vector, dtype=np.float32)
        dots = (block @ vector).astype(np.float64)
        vnorm = float(np.linalg.norm(vector))
        norms = self.norms.get(segment)
        if norms is not None:
            denominator = (norms if rows is None else norms[rows]) * vnorm
            return np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator > 0)
        return dots / vnorm if vnorm > 0 else np.zeros_like(dots)


@dataclass(frozen=True, eq=False)
class Pool:
    """The candidates for a seed, best first.

    Attributes
    ----------
    seed_index : int
        Artifact row of the seed.
    indices : ndarray, shape (m,), int64
        Artifact rows of the candidates (the seed is not among them), by falling similarity.
    similarity, sonic, genre : ndarray, shape (m,), float64
        Hybrid, sonic (cosine) and genre similarity of each candidate to the seed.
    stats : dict
        Counts of every step: ``n_tracks``, ``excluded``, ``below_floor``, ``genre_gated``,
        ``duplicates`` (same audio or same artist and title), ``eligible``,
        ``eligible_artists``, ``pool_size``, ``artists``, ``seed_artist_tracks``,
        ``genre_used``.
    """

    seed_index: int
    indices: np.ndarray
    similarity: np.ndarray
    sonic: np.ndarray
    genre: np.ndarray
    stats: dict[str, Any]

    def __len__(self) -> int:
        return int(self.indices.shape[0])


_CACHE: dict[tuple[int, ...], tuple[list[weakref.ref | None], Library]] = {}
_DERIVED_FROM = (
    "track_ids",
    "artist_keys",
    "embedded_full",
    "embedded_start",
    "embedded_end",
    "genre_vocab",
    "genre_indptr",
    "genre_indices",
    "raw_full_rhythm",
)


def library_of(artifact: Mapping[str, np.ndarray] | Library) -> Library:
    """The :class:`Library` of an artifact, derived once and cached while the artifact lives.

    Parameters
    ----------
    artifact : Mapping of str to ndarray or Library
        A loaded :class:`musicwb.sonic.artifact.Artifact` or any mapping with at least
        ``track_ids`` (n,), ``artist_keys`` (n,) and ``embedded_full`` (n, d); optionally
        ``embedded_start``/``embedded_end`` (n, d), the ragged genres (``genre_vocab``,
        ``genre_indptr``, ``genre_indices``) and ``raw_full_rhythm`` (n, 21) for the tempo.

    Returns
    -------
    Library

    Raises
    ------
    ParameterError
        A required array is missing or the shapes disagree.
    """
    if isinstance(artifact, Library):
        return artifact
    missing = [key for key in _REQUIRED if key not in artifact]
    if missing:
        raise ParameterError(f"the artifact lacks {', '.join(missing)}")
    # Cached by the identity of the arrays used, kept while they live.
    arrays = [artifact.get(key) for key in _DERIVED_FROM]
    key = tuple(id(a) for a in arrays)
    cached = _CACHE.get(key)
    if cached is not None and all(
        (ref() if ref is not None else None) is a for ref, a in zip(cached[0], arrays, strict=True)
    ):
        return cached[1]
    library = _derive(artifact)
    try:
        refs = [weakref.ref(a) if a is not None else None for a in arrays]
    except TypeError:  # plain lists and the like: no caching
        return library
    for stale in [
        k for k, (rs, _) in _CACHE.items() if any(r is not None and r() is None for r in rs)
    ]:
        del _CACHE[stale]
    _CACHE[key] = (refs, library)
    return library


def _derive(artifact: Mapping[str, np.ndarray]) -> Library:
    track_ids = np.asarray(artifact["track_ids"], dtype=np.int64)
    n = track_ids.shape[0]
    full = np.asarray(artifact["embedded_full"])
    if full.ndim != 2 or full.shape[0] != n:
        raise ParameterError(f"embedded_full must have shape ({n}, d), got {full.shape}")
    start = np.asarray(artifact["embedded_start"]) if "embedded_start" in artifact else full
    end = np.asarray(artifact["embedded_end"]) if "embedded_end" in artifact else full
    for name, matrix in (("embedded_start", start), ("embedded_end", end)):
        if matrix.shape != full.shape:
            raise ParameterError(f"{name} has shape {matrix.shape}, embedded_full {full.shape}")
    keys = np.asarray(artifact["artist_keys"])
    if keys.shape != (n,):
        raise ParameterError(f"artist_keys must have shape ({n},), got {keys.shape}")
    codes, names = pd.factorize(
        pd.Series(keys, dtype=object).replace("", None), use_na_sentinel=True
    )
    codes = codes.astype(np.int64)
    unknown = codes < 0
    codes[unknown] = len(names) + np.arange(int(unknown.sum()))
    norms = {}
    for segment, matrix in (("full", full), ("start", start), ("end", end)):
        row_norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
        if not np.all(np.abs(row_norms - 1.0) <= _UNIT_NORM_TOLERANCE):
            norms[segment] = row_norms
    if "genre_indptr" in artifact:
        indptr = np.asarray(artifact["genre_indptr"], dtype=np.int64)
        indices = np.asarray(artifact["genre_indices"], dtype=np.int32)
        vocab = np.asarray(artifact["genre_vocab"])
        genres = sp.csr_matrix(
            (np.ones(indices.shape[0], dtype=np.float32), indices, indptr), shape=(n, len(vocab))
        )
    else:
        vocab = np.zeros(0, dtype=str)
        genres = sp.csr_matrix((n, 0), dtype=np.float32)
    bpm = None
    if "raw_full_rhythm" in artifact:
        bpm = np.asarray(
            artifact["raw_full_rhythm"][:, feature_names().index("bpm")], dtype=np.float64
        )
    row_of = None
    if n > 1 and np.any(track_ids[1:] <= track_ids[:-1]):
        row_of = {int(t): i for i, t in enumerate(track_ids)}
    return Library(
        n=n,
        track_ids=track_ids,
        artist_codes=codes,
        artist_names=np.asarray(names, dtype=object),
        full=full,
        start=start,
        end=end,
        genres=genres,
        genre_names=vocab,
        bpm=bpm,
        norms=norms,
        _row_of=row_of,
    )


def _genre_similarity(library: Library, seed_index: int, smoothing: float) -> np.ndarray:
    matrix = library.genres
    if smoothing > 0 and len(library.genre_names):
        # Smoothing maps every genre to itself and its ancestors: one (g × columns) matrix.
        expansion, _ = genre_matrix([[str(g)] for g in library.genre_names], smoothing=smoothing)
        matrix = (matrix @ expansion).tocsr()
        np.minimum(matrix.data, 1.0, out=matrix.data)
    start, stop = matrix.indptr[seed_index : seed_index + 2]
    seed = np.zeros(matrix.shape[1], dtype=np.float64)
    seed[matrix.indices[start:stop]] = matrix.data[start:stop]
    return genre_similarity_to(seed, matrix)


def build_pool(
    artifact: Mapping[str, np.ndarray] | Library,
    *,
    seed_index: int,
    params: PlaylistParams,
    exclude: np.ndarray | None = None,
    titles: np.ndarray | None = None,
) -> Pool:
    """The candidate pool of a seed.

    Parameters
    ----------
    artifact : Artifact, Mapping of str to ndarray, or Library
        See :func:`library_of` for the arrays used.
    seed_index : int
        Artifact row of the seed track.
    params : PlaylistParams
    exclude : ndarray of int or bool, optional
        Artifact rows (or a boolean mask of shape (n,)) to leave out, e.g. recently played.
    titles : ndarray of str, shape (n,), optional
        Track titles, for the same-artist-same-title duplicate rule (without them only
        near-identical audio counts as a duplicate).

    Returns
    -------
    Pool

    Raises
    ------
    ParameterError
        ``seed_index`` out of range, or ``exclude``/``titles`` of the wrong shape.
    """
    with one_blas_thread():
        return _build_pool(library_of(artifact), artifact, int(seed_index), params, exclude, titles)


def _build_pool(
    library: Library,
    artifact: Mapping[str, np.ndarray] | Library,
    seed_index: int,
    params: PlaylistParams,
    exclude: np.ndarray | None,
    titles: np.ndarray | None,
) -> Pool:
    n = library.n
    if not 0 <= int(seed_index) < n:
        raise ParameterError(f"seed_index must be in [0, {n}), got {seed_index}")
    seed_index = int(seed_index)
    if titles is not None and len(titles) != n:
        raise ParameterError(f"titles must have {n} entries, got {len(titles)}")

    sonic = library.cosine_to("full", library.full[seed_index])
    seed_has_genres = bool(
        library.genres.indptr[seed_index + 1] > library.genres.indptr[seed_index]
    )
    if seed_has_genres and params.genre_weight > 0:
        genre = _genre_similarity(library, seed_index, params.genre_smoothing)
        total = params.sonic_weight + params.genre_weight
        similarity = (params.sonic_weight * sonic + params.genre_weight * genre) / total
    else:
        genre = np.zeros(n, dtype=np.float64)
        similarity = sonic

    allowed = np.ones(n, dtype=bool)
    allowed[seed_index] = False
    excluded = _exclusion_mask(exclude, n)
    excluded[seed_index] = False
    allowed &= ~excluded
    below_floor = allowed & (similarity < params.similarity_floor)
    allowed &= ~below_floor
    gated = np.zeros(n, dtype=bool)
    if seed_has_genres and params.genre_gate > 0:
        has_genres = np.diff(library.genres.indptr) > 0
        gated = allowed & has_genres & (genre < params.genre_gate)
        allowed &= ~gated
    seed_copies = allowed & (sonic >= params.duplicate_similarity)
    allowed &= ~seed_copies

    candidates = np.flatnonzero(allowed)
    candidates = candidates[np.argsort(-similarity[candidates], kind="stable")]
    if titles is not None:
        seed_title = title_key(titles[seed_index])
        same_as_seed = [
            i
            for i in candidates[
                library.artist_codes[candidates] == library.artist_codes[seed_index]
            ]
            if seed_title and title_key(titles[i]) == seed_title
        ]
        if same_as_seed:
            candidates = candidates[~np.isin(candidates, same_as_seed)]
            seed_copies[same_as_seed] = True

    seed_artist = library.artist_codes[seed_index]
    duplicates = np.zeros(0, dtype=np.int64)
    while True:
        shortlist = _select(
            candidates, library.artist_codes, seed_artist=seed_artist, params=params
        )
        found = _duplicates(shortlist, library, params=params, titles=titles)
        if found.size == 0:
            break
        duplicates = np.concatenate([duplicates, found])
        candidates = candidates[~np.isin(candidates, found)]

    chosen_codes = library.artist_codes[shortlist]
    stats = {
        "n_tracks": n,
        "excluded": int(excluded.sum()),
        "below_floor": int(below_floor.sum()),
        "genre_gated": int(gated.sum()),
        "duplicates": int(seed_copies.sum() + duplicates.size),
        "eligible": int(candidates.size),
        "eligible_artists": int(np.unique(library.artist_codes[candidates]).size),
        "pool_size": int(shortlist.size),
        "artists": int(np.unique(chosen_codes).size),
        "seed_artist_tracks": int((chosen_codes == seed_artist).sum()),
        "genre_used": bool(seed_has_genres and params.genre_weight > 0),
    }
    return Pool(
        seed_index=seed_index,
        indices=shortlist.astype(np.int64),
        similarity=similarity[shortlist].astype(np.float64),
        sonic=sonic[shortlist].astype(np.float64),
        genre=genre[shortlist].astype(np.float64),
        stats=stats,
    )


def _exclusion_mask(exclude: np.ndarray | None, n: int) -> np.ndarray:
    if exclude is None:
        return np.zeros(n, dtype=bool)
    exclude = np.asarray(exclude)
    if exclude.dtype == bool:
        if exclude.shape != (n,):
            raise ParameterError(f"exclude as a mask must have shape ({n},), got {exclude.shape}")
        return exclude.copy()
    mask = np.zeros(n, dtype=bool)
    rows = exclude.astype(np.int64).reshape(-1)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ParameterError(f"exclude holds rows outside [0, {n})")
    mask[rows] = True
    return mask


def _select(
    ranked: np.ndarray, artist_codes: np.ndarray, *, seed_artist: int, params: PlaylistParams
) -> np.ndarray:
    """Per-artist caps, the best ``target_artists`` artists, ``max_pool`` tracks (ranked order)."""
    if ranked.size == 0:
        return ranked
    codes = artist_codes[ranked]
    # Rank of each candidate within its artist (0 for the artist's best), in ranked order.
    by_artist = np.argsort(codes, kind="stable")
    sorted_codes = codes[by_artist]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    group_sizes = np.diff(np.r_[starts, sorted_codes.size])
    within = np.arange(sorted_codes.size) - np.repeat(starts, group_sizes)
    rank = np.empty_like(within)
    rank[by_artist] = within
    cap = np.where(
        codes == seed_artist, params.per_artist + params.seed_artist_bonus, params.per_artist
    )
    keep = rank < cap
    # Artists by their best candidate, the seed's artist first; as many as it takes to reach
    # both target_artists artists and target_artists * per_artist tracks.
    first = rank == 0
    artist_order = codes[first]
    if seed_artist in artist_order:
        artist_order = np.r_[seed_artist, artist_order[artist_order != seed_artist]]
    kept_codes, kept_counts = np.unique(codes[keep], return_counts=True)
    tracks_per_artist = kept_counts[np.searchsorted(kept_codes, artist_order)]
    enough = np.flatnonzero(
        np.cumsum(tracks_per_artist) >= params.target_artists * params.per_artist
    )
    n_artists = max(params.target_artists, int(enough[0]) + 1 if enough.size else artist_order.size)
    keep &= np.isin(codes, artist_order[:n_artists])
    return ranked[keep][: params.max_pool]


def _duplicates(
    shortlist: np.ndarray, library: Library, *, params: PlaylistParams, titles: np.ndarray | None
) -> np.ndarray:
    """Shortlisted rows that repeat a better one: near-identical audio or same artist + title."""
    if shortlist.size < 2:
        return np.zeros(0, dtype=np.int64)
    vectors = np.asarray(library.full[shortlist], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    vectors = vectors / np.where(norms > 0, norms, 1.0)[:, None]
    close = np.triu(vectors @ vectors.T >= params.duplicate_similarity, k=1)
    if titles is not None:
        codes = library.artist_codes[shortlist]
        title_codes, _ = pd.factorize(
            pd.Series([title_key(titles[i]) for i in shortlist]).replace("", None)
        )
        same_title = (codes[:, None] == codes[None, :]) & (
            title_codes[:, None] == title_codes[None, :]
        )
        close |= np.triu(same_title & (title_codes >= 0)[:, None], k=1)
    suspects = np.flatnonzero(close.any(axis=0))
    dropped = np.zeros(shortlist.size, dtype=bool)
    # Exact greedy: a track is a duplicate only of a better track that is itself kept.
    for j in suspects:
        dropped[j] = bool(np.any(close[:j, j] & ~dropped[:j]))
    return shortlist[dropped]
