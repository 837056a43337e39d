"""Slots named as a DJ would find them: whose set, when, where in it, and between which tracks.

``mixesdb:3b9aa404936664dd #18`` is a key, not a place anyone remembers; :func:`describe_slots`
turns it into "Halden Ray, 2024-06-11 @ Halle Nord, track 18, between Trevino – Sombre Tones and
Marcel Dettmann – Translation". Pure: the caller reads the sets and entries from the store.

Examples
--------
>>> import pandas as pd
>>> sets = pd.DataFrame({"set_id": ["s1"], "dj": ["Halden Ray"], "set_date": ["2024-06-11"],
...                      "venue": ["Halle Nord"]})
>>> entries = pd.DataFrame({
...     "set_id": ["s1"] * 3, "position": [17, 18, 19], "raw": ["", "ID - ID", ""],
...     "artist": ["Trevino", None, "Marcel Dettmann"],
...     "title": ["Sombre Tones", None, "Translation"], "is_unknown": [False, True, False]})
>>> slots = pd.DataFrame({"set_id": ["s1"], "position": [18]})
>>> describe_slots(slots=slots, sets=sets, entries=entries).loc[0, "slot"]
'Halden Ray, 2024-06-11 @ Halle Nord, track 18, between Trevino – Sombre Tones and Marcel Dettmann – Translation'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["SLOT_COLUMNS", "describe_slots", "entry_text", "set_names"]

SLOT_COLUMNS = ["dj", "set_date", "venue", "previous_entry", "next_entry", "slot"]
"""What :func:`describe_slots` adds to each slot, ``slot`` being the whole sentence."""


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def entry_text(*, artist: object, title: object, raw: object) -> str:
    """An entry as a DJ writes it: ``Artist – Title``, else the line as it was written.

    Examples
    --------
    >>> entry_text(artist="Trevino", title="Sombre Tones", raw="[12] Trevino - Sombre Tones")
    'Trevino – Sombre Tones'
    >>> entry_text(artist=None, title=None, raw="ID - ID")
    'ID - ID'
    """
    artist_text, title_text = _text(artist), _text(title)
    if artist_text and title_text:
        return f"{artist_text} – {title_text}"
    return artist_text or _text(raw) or title_text or "an unnamed entry"


def set_names(sets: pd.DataFrame) -> pd.Series:
    """Each set as ``DJ, date @ venue`` (whatever of it is known), indexed like ``sets``.

    Parameters
    ----------
    sets : pandas.DataFrame
        ``set_id, dj`` and, when known, ``set_date``, ``venue``, ``title``.

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> sets = pd.DataFrame({"set_id": ["a", "b"], "dj": ["Mira", "Nadia"],
    ...                      "set_date": ["2024-06-11", None], "venue": [None, None],
    ...                      "title": [None, "Warm-up mix"]})
    >>> set_names(sets).tolist()
    ['Mira, 2024-06-11', 'Nadia, Warm-up mix']
    """
    names = []
    for row in sets.itertuples(index=False):
        dj = _text(getattr(row, "dj", None)) or "unknown DJ"
        date, venue = _text(getattr(row, "set_date", None)), _text(getattr(row, "venue", None))
        if date:
            when = date + (f" @ {venue}" if venue else "")
        else:
            when = venue or _text(getattr(row, "title", None))
        names.append(f"{dj}, {when}" if when else dj)
    return pd.Series(names, index=sets.index, dtype=object)


def describe_slots(
    *, slots: pd.DataFrame, sets: pd.DataFrame, entries: pd.DataFrame
) -> pd.DataFrame:
    """Name every slot by its set, its place and its neighbours.

    Parameters
    ----------
    slots : pandas.DataFrame
        ``set_id, position`` of the slots to name.
    sets : pandas.DataFrame
        ``set_id, dj`` and, when known, ``set_date, venue, title``.
    entries : pandas.DataFrame
        Every entry of those sets: ``set_id, position, raw, artist, title``.

    Returns
    -------
    pandas.DataFrame
        ``set_id, position`` and :data:`SLOT_COLUMNS`, one row per slot in the given order;
        ``previous_entry`` / ``next_entry`` are empty at either end of a set.
    """
    frame = slots[["set_id", "position"]].reset_index(drop=True)
    named = sets.assign(set_name=set_names(sets)).set_index("set_id")
    texts = entries.assign(
        text=[
            entry_text(artist=a, title=t, raw=r)
            for a, t, r in zip(entries["artist"], entries["title"], entries["raw"], strict=True)
        ]
    ).sort_values(["set_id", "position"])
    previous, following = {}, {}
    for set_id, group in texts.groupby("set_id", sort=False):
        positions, lines = group["position"].tolist(), group["text"].tolist()
        for i, position in enumerate(positions):
            previous[(set_id, position)] = lines[i - 1] if i > 0 else ""
            following[(set_id, position)] = lines[i + 1] if i + 1 < len(lines) else ""
    rows = []
    for set_id, position in zip(frame["set_id"], frame["position"], strict=True):
        known = set_id in named.index
        before = previous.get((set_id, position), "")
        after = following.get((set_id, position), "")
        if before and after:
            around = f"between {before} and {after}"
        elif before:
            around = f"after {before}, closing the set"
        elif after:
            around = f"opening the set, before {after}"
        else:
            around = "alone in its set"
        name = named.at[set_id, "set_name"] if known else str(set_id)
        rows.append({
            "dj": named.at[set_id, "dj"] if known else None,
            "set_date": named.at[set_id, "set_date"] if known and "set_date" in named else None,
            "venue": named.at[set_id, "venue"] if known and "venue" in named else None,
            "previous_entry": before,
            "next_entry": after,
            "slot": f"{name}, track {position}, {around}",
        })  # fmt: skip
    return pd.concat([frame, pd.DataFrame(rows, columns=SLOT_COLUMNS)], axis=1)
