"""Genres shared by every room: our own vocabulary, tag normalisation, similarity, migration.

- :mod:`musicwb.genres.vocabulary`: :class:`GenreVocabulary` (``musicwb/genres/vocab/``),
  :func:`load_vocabulary` and the matching key :func:`genre_key`;
- :mod:`musicwb.genres.normalisation`: :func:`normalise_tag` / :func:`normalise_tags`, with
  the reasons (:func:`explain_tag`), a whole column, and :func:`coverage_report`;
- :mod:`musicwb.genres.similarity`: :func:`genre_similarity` and the sparse genre matrix of a
  library (:func:`genre_matrix`, :func:`genre_similarity_to`);
- :mod:`musicwb.genres.migrate`: ``musicwb genres migrate``, re-normalising a store's genres
  after the vocabulary changed.

Examples
--------
>>> from musicwb.genres import normalise_tag
>>> normalise_tag("D&B")
['drum and bass']
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
