"""The demo's DJ sets in the tracklist tables: replaced as a whole, by their ``source``.

Examples
--------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> sets = pd.DataFrame({"set_id": ["s1"], "dj": ["DJ"], "title": ["Set"], "source": ["demo"],
...                      "source_file": ["/demo/s1.csv"]})
>>> entries = pd.DataFrame({"set_id": ["s1"], "position": [1], "raw": ["ID - ID"],
...                         "artist": [None], "title": [None], "label": [None],
...                         "is_unknown": [True]})
>>> truth = pd.DataFrame({"set_id": ["s1"], "position": [1], "artist": ["A"], "title": ["T"],
...                       "label": ["L"]})
>>> with Store(path) as store:
...     replace_tracklist_source(store, source="demo", sets=sets, entries=entries, truth=truth)
...     replace_tracklist_source(store, source="demo", sets=sets, entries=entries, truth=truth)
...     int(store.scalar("SELECT count(*) FROM tracklist_entries"))
1
"""

from __future__ import annotations

import pandas as pd

from musicwb.store.database import Store

__all__ = ["replace_tracklist_source"]


def replace_tracklist_source(
    store: Store,
    *,
    source: str,
    sets: pd.DataFrame,
    entries: pd.DataFrame,
    truth: pd.DataFrame,
) -> None:
    """Replace every set of one ``source`` (with its entries and truth) by these, all or nothing.

    Parameters
    ----------
    store : Store
        Open for writing.
    source : str
        The ``tracklist_sets.source`` whose sets are replaced, e.g. ``"demo"``.
    sets : pandas.DataFrame
        ``set_id, dj, title, source, source_file``.
    entries : pandas.DataFrame
        ``set_id, position, raw, artist, title, label, is_unknown``.
    truth : pandas.DataFrame
        ``set_id, position, artist, title, label``.
    """
    of_source = "SELECT set_id FROM tracklist_sets WHERE source = ?"
    with store.transaction():
        store.execute(f"DELETE FROM tracklist_truth WHERE set_id IN ({of_source})", [source])
        store.execute(f"DELETE FROM tracklist_entries WHERE set_id IN ({of_source})", [source])
        store.execute("DELETE FROM tracklist_sets WHERE source = ?", [source])
        store.insert("tracklist_sets", sets)
        store.insert("tracklist_entries", entries)
        store.insert("tracklist_truth", truth)
