"""musicwb: a research workbench for large DJ and music libraries.

The package computes; the notebooks in ``notebooks/`` orchestrate. Importing it does no work:
every name below loads its module on first use (``lazy_loader``; the names are listed in
``__init__.pyi``, which type checkers and editors read).

Rooms, from the bottom up (a room imports only rooms below it):

- ``errors``, ``config``, ``text``, ``genres``, ``titles``, ``charts``, ``store`` (the only SQL
  naming the schema's tables, run records, derived paths);
- ``library``, then the jobs ``enrich``, ``linkage``, ``sonic``, then ``playlist``;
- ``demo`` and ``overview``; ``reports`` and ``cli`` on top.

Examples
--------
>>> import musicwb
>>> musicwb.normalise_tags(["D&B"])
['drum and bass']
"""

import lazy_loader as lazy

from musicwb._version import __version__ as __version__

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
