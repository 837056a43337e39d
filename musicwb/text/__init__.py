"""Text shared by every room: folding, artist and label keys, musical keys.

- :mod:`musicwb.text.folding`: the one fold, in three strengths (:func:`fold`, :func:`fold_words`,
  :func:`fold_spaces`);
- :mod:`musicwb.text.keys`: :func:`artist_key`, :func:`artist_members`, :func:`label_key`;
- :mod:`musicwb.text.camelot`: Camelot codes, their compatibility, key estimation from chroma.

Examples
--------
>>> from musicwb.text import artist_key, camelot_code, camelot_name
>>> artist_key("Âme and Dixon feat. Jo"), camelot_name(camelot_code("Am"))
('ame & dixon', '8A')
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
