"""Pure parsing of track titles and file names, with an explainable confidence.

Tracklist lines (``Trevino - Sombre Tones [Klockworks - KW 20]``), store titles
(``Track (Original Mix) [Armada]``), karaoke and YouTube video titles
(``Demons in the Style of "Imagine Dragons" karaoke video``) and file names
(``01. Artist - Title.mp3``, ``Artist - Song---dQw4w9WgXcQ.mp4``) all go through
:func:`parse_title`; the result is a frozen :class:`ParsedTitle`. No I/O, no network.

What the fields mean, in short: ``artist`` is the credit as written (featured artists included,
as MixesDB and Beatport write it; ``main_artist`` without them); ``title`` is the title without
the mix group, label and notes; ``title_with_mix`` adds the mix group back as written, which is
what MixesDB's title column holds apart from the label bracket.

Examples
--------
>>> from musicwb.titles import parse_title
>>> p = parse_title("Ø [Phase] - Binary Opposition (Ben Klock Process) [Token - 20RD]")
>>> p.artist, p.title, p.mix, p.label, p.catalog
('Ø [Phase]', 'Binary Opposition', 'Ben Klock Process', 'Token', '20RD')
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
