"""Genre similarity of tracks: ``0.6·cosine + 0.4·Jaccard`` over their genre vectors (pure).

With ``smoothing=s`` (0 < s < 1) each genre also counts ``s**d`` for its ancestor ``d`` steps up
the genre tree (:meth:`musicwb.genres.GenreVocabulary.ancestors`), so deep house and house (or
deep house and tech house, through house) share something; the Jaccard is then the weighted one
(sum of minima over sum of maxima). :func:`genre_matrix` builds the sparse vectors of a whole
library, and :func:`genre_similarity_to` compares a seed with all of them at once.

Examples
--------
>>> round(genre_similarity(["deep house"], ["house"], smoothing=0.5), 3)
0.413
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from musicwb.errors import ParameterError
from musicwb.genres.vocabulary import GenreVocabulary, load_vocabulary

__all__ = ["COSINE_WEIGHT", "genre_matrix", "genre_similarity", "genre_similarity_to", "genre_vector"]

COSINE_WEIGHT = 0.6
"""Weight of the cosine in the genre similarity; the Jaccard gets the rest (0.4)."""


def _check_smoothing(smoothing: float | None) -> float:
    """The smoothing weight as a float (None is 0, no smoothing)."""
    if smoothing is None:
        return 0.0
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not (
        0.0 <= smoothing < 1.0
    ):
        raise ParameterError(f"smoothing must be a number in [0, 1) or None, got {smoothing!r}")
    return float(smoothing)


def _expansion(
    genre: str, smoothing: float, vocab: GenreVocabulary | None
) -> dict[str, float]:
    weights = {genre: 1.0}
    if smoothing > 0 and vocab is not None:
        for ancestor, distance in vocab.ancestors(genre).items():
            weights[ancestor] = smoothing**distance
    return weights


def genre_matrix(
    track_genres: Sequence[Sequence[str]],
    *,
    genre_names: Sequence[str] | None = None,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
) -> tuple[sp.csr_matrix, list[str]]:
    """Sparse genre vectors of many tracks.

    Parameters
    ----------
    track_genres : sequence of sequence of str
        Canonical genres of each track (normalise them first); ``n_tracks`` rows.
    genre_names : sequence of str, optional
        The columns. Defaults to every genre of ``track_genres`` (and, when smoothing, their
        ancestors), sorted. Genres not among the columns are ignored.
    smoothing : float or None
        0 or None (the default) for plain 0/1 vectors. With ``0 < s < 1`` each genre also counts
        ``s**d`` for its ancestor ``d`` steps up the tree; a track's weights are summed over its
        genres and capped at 1 (two sub-genres of house make a track fully house).
    vocabulary : GenreVocabulary, optional
        The tree for smoothing; defaults to :func:`load_vocabulary`.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix, shape (n_tracks, n_genres), float32
        Weights in [0, 1].
    genre_names : list of str
        The column names, ``n_genres`` of them.

    Raises
    ------
    ParameterError
        ``smoothing`` is outside [0, 1), or a track's genres are a bare string.

    Examples
    --------
    >>> matrix, names = genre_matrix([["house"], ["deep house", "house"], []])
    >>> matrix.shape, names
    ((3, 2), ['deep house', 'house'])
    """
    smoothing = _check_smoothing(smoothing)
    vocab = (vocabulary if vocabulary is not None else load_vocabulary()) if smoothing else None
    # One 0/1 row per track over the distinct genres, times the (distinct genre × column)
    # expansion with the tree weights: the per-track work is only collecting indices.
    distinct: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for row, genres in enumerate(track_genres):
        if isinstance(genres, str):
            raise ParameterError(
                f"track_genres row {row} is a string ({genres!r}); give a list of genres per track"
            )
        for genre in dict.fromkeys(genres):
            indices.append(distinct.setdefault(genre, len(distinct)))
        indptr.append(len(indices))
    expansions = [_expansion(genre, smoothing, vocab) for genre in distinct]
    if genre_names is None:
        names = sorted({name for weights in expansions for name in weights})
    else:
        names = list(dict.fromkeys(genre_names))
    column = {name: index for index, name in enumerate(names)}
    e_rows, e_cols, e_data = [], [], []
    for genre_index, weights in enumerate(expansions):
        for name, weight in weights.items():
            if name in column:
                e_rows.append(genre_index)
                e_cols.append(column[name])
                e_data.append(weight)
    expansion = sp.csr_matrix(
        (np.asarray(e_data, dtype=np.float32), (np.asarray(e_rows, dtype=np.int64),
                                                 np.asarray(e_cols, dtype=np.int64))),
        shape=(len(distinct), len(names)),
    )
    membership = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, len(distinct)),
    )
    matrix = (membership @ expansion).tocsr().astype(np.float32)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    np.minimum(matrix.data, 1.0, out=matrix.data)
    return matrix, names


def genre_vector(
    genres: Sequence[str],
    genre_names: Sequence[str],
    *,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
) -> np.ndarray:
    """The genre vector of one track over given columns, as :func:`genre_matrix` builds it.

    Parameters
    ----------
    genres : sequence of str
        Canonical genres of the track.
    genre_names : sequence of str
        The columns (``n_genres``), e.g. those returned by :func:`genre_matrix`.
    smoothing, vocabulary
        As in :func:`genre_matrix` (use the same values as for the matrix).

    Returns
    -------
    numpy.ndarray, shape (n_genres,), float32

    Examples
    --------
    >>> genre_vector(["deep house"], ["house", "deep house", "techno"], smoothing=0.5)
    array([0.5, 1. , 0. ], dtype=float32)
    """
    matrix, _ = genre_matrix(
        [list(genres)], genre_names=genre_names, smoothing=smoothing, vocabulary=vocabulary
    )
    return matrix.toarray()[0]


def _row_sums(matrix: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Per-row sums of ``values`` laid out like ``matrix.data`` (shape (n_rows,), float64)."""
    sums = np.zeros(matrix.shape[0], dtype=np.float64)
    starts = matrix.indptr[:-1]
    nonempty = np.diff(matrix.indptr) > 0
    if values.size:
        sums[nonempty] = np.add.reduceat(values.astype(np.float64, copy=False), starts[nonempty])
    return sums


def genre_similarity_to(
    seed_vector: np.ndarray | sp.spmatrix,
    matrix: sp.spmatrix | np.ndarray,
    *,
    cosine_weight: float = COSINE_WEIGHT,
) -> np.ndarray:
    """Genre similarity of one seed to every track: ``w·cosine + (1−w)·Jaccard``.

    The Jaccard is the weighted one (sum of element-wise minima over sum of maxima), which is
    the usual set Jaccard for 0/1 vectors. Work is proportional to the number of non-zeros.

    Parameters
    ----------
    seed_vector : numpy.ndarray, shape (n_genres,), or a sparse row
        Non-negative weights of the seed (see :func:`genre_vector`).
    matrix : scipy.sparse matrix or numpy.ndarray, shape (n_tracks, n_genres)
        Non-negative weights of every track (see :func:`genre_matrix`).
    cosine_weight : float
        Weight ``w`` of the cosine, in [0, 1]; 0.6 by default.

    Returns
    -------
    numpy.ndarray, shape (n_tracks,), float64
        Similarities in [0, 1]; 0 for a track or seed without genres.

    Raises
    ------
    ParameterError
        Shapes disagree, weights are negative, or ``cosine_weight`` is outside [0, 1].

    Examples
    --------
    >>> matrix, names = genre_matrix([["house"], ["house", "techno"], ["jazz"]])
    >>> genre_similarity_to(genre_vector(["house"], names), matrix).round(3)
    array([1.   , 0.624, 0.   ])
    """
    if not 0.0 <= cosine_weight <= 1.0:
        raise ParameterError(f"cosine_weight must be in [0, 1], got {cosine_weight!r}")
    dense_seed = seed_vector.toarray() if sp.issparse(seed_vector) else seed_vector
    seed = np.asarray(dense_seed, dtype=np.float64).reshape(-1)
    tracks = sp.csr_matrix(matrix) if not sp.issparse(matrix) else matrix.tocsr()
    if tracks.shape[1] != seed.shape[0]:
        raise ParameterError(
            f"seed_vector has {seed.shape[0]} genres but matrix has {tracks.shape[1]} columns"
        )
    if (seed < 0).any() or (tracks.data < 0).any():
        raise ParameterError("genre weights must be non-negative")
    scores = np.zeros(tracks.shape[0], dtype=np.float64)
    dot = np.asarray(tracks @ seed, dtype=np.float64).reshape(-1)
    # With non-negative weights, a track that shares no genre with the seed (dot 0) has cosine
    # and Jaccard 0: only the tracks that share something need the rest of the work.
    hits = np.flatnonzero(dot > 0)
    if hits.size == 0:
        return scores
    if hits.size * 4 > tracks.shape[0]:  # slicing most rows costs more than it saves
        hits = np.arange(tracks.shape[0])
        shared = tracks
    else:
        shared = tracks[hits]
    data = shared.data.astype(np.float64, copy=False)
    norms = np.sqrt(_row_sums(shared, data * data)) * np.sqrt(seed @ seed)
    cosine = np.divide(dot[hits], norms, out=np.zeros(hits.size), where=norms > 0)
    overlap = _row_sums(shared, np.minimum(data, seed[shared.indices]))
    union = _row_sums(shared, data) + seed.sum() - overlap
    jaccard = np.divide(overlap, union, out=np.zeros(hits.size), where=union > 0)
    scores[hits] = np.clip(cosine_weight * cosine + (1.0 - cosine_weight) * jaccard, 0.0, 1.0)
    return scores


def genre_similarity(
    a: Sequence[str],
    b: Sequence[str],
    *,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
    cosine_weight: float = COSINE_WEIGHT,
) -> float:
    """Genre similarity of two tracks, ``0.6·cosine + 0.4·Jaccard`` of their genre vectors.

    Parameters
    ----------
    a, b : sequence of str
        Canonical genres of each track.
    smoothing : float or None
        0 or None for exact genres only; ``0 < s < 1`` lets a genre count ``s**d`` for its ancestor
        ``d`` steps up the tree (see :func:`genre_matrix`).
    vocabulary : GenreVocabulary, optional
        The tree for smoothing; defaults to :func:`load_vocabulary`.
    cosine_weight : float
        Weight of the cosine; 0.6 by default.

    Returns
    -------
    float
        In [0, 1]; symmetric; 1 for identical non-empty genre sets; 0 when either is empty.

    Examples
    --------
    >>> genre_similarity(["house", "techno"], ["house"])
    0.6242640687119285
    >>> genre_similarity(["deep house"], ["house"])
    0.0
    >>> round(genre_similarity(["deep house"], ["house"], smoothing=0.5), 3)
    0.413
    """
    if isinstance(a, str) or isinstance(b, str):
        raise ParameterError("a and b must be lists of genres, not strings")
    matrix, _ = genre_matrix([list(a), list(b)], smoothing=smoothing, vocabulary=vocabulary)
    seed = matrix[0].toarray()[0]
    return float(genre_similarity_to(seed, matrix[1], cosine_weight=cosine_weight)[0])
