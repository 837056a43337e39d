"""Reading a metadata CSV whose values override the tags, and matching it to scanned files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.library.tags import GENRE_SPLIT

__all__ = ["match_csv", "read_metadata_csv"]

_CSV_FIELDS = {
    "artist": "artist",
    "album": "album",
    "title": "title",
    "label": "label",
    "genre": "genres",
}


def read_metadata_csv(csv_path: Path, *, root: Path) -> pd.DataFrame:
    """Read a metadata CSV whose values override the tags.

    Columns ``path`` (required), ``artist``, ``album``, ``title``, ``label``, ``genre``
    (several separated by ``;``); other columns are ignored, empty cells override nothing.
    A relative path is taken from the CSV's folder; where that file is not found, from the
    scanned root.

    Parameters
    ----------
    csv_path : Path
    root : Path
        The scanned folder, absolute.

    Returns
    -------
    pandas.DataFrame
        ``csv_path_1`` (from the CSV's folder), ``csv_path_2`` (from the root) and the
        field columns present (``artist``, ``album``, ``title``, ``label``, ``genres``).

    Raises
    ------
    ParameterError
        The file is missing or unreadable, or has no ``path`` column.

    Examples
    --------
    >>> from tempfile import mkdtemp
    >>> folder = Path(mkdtemp())
    >>> _ = (folder / "meta.csv").write_text("path,label\\na.flac,Innervisions\\n")
    >>> read_metadata_csv(folder / "meta.csv", root=folder).columns.tolist()
    ['csv_path_1', 'csv_path_2', 'label']
    """
    if not csv_path.is_file():
        raise ParameterError(f"metadata CSV {csv_path} does not exist or is not a file")
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ParameterError(f"metadata CSV {csv_path} cannot be read: {exc}") from exc
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    if "path" not in frame.columns:
        raise ParameterError(
            f"metadata CSV {csv_path} has no 'path' column (columns: {', '.join(frame.columns)})"
        )
    base = csv_path.resolve().parent
    relative = frame["path"].str.strip()
    result = pd.DataFrame(
        {
            "csv_path_1": [os.path.normpath(os.path.join(base, p)) for p in relative],
            "csv_path_2": [
                os.path.normpath(os.path.join(root if root.is_dir() else root.parent, p))
                for p in relative
            ],
        }
    )
    for column, name in _CSV_FIELDS.items():
        if column not in frame.columns:
            continue
        values = frame[column].str.strip()
        if name == "genres":
            result[name] = [
                [g for g in GENRE_SPLIT.split(v) if g] or None if v else None for v in values
            ]
        else:
            result[name] = values.where(values != "", None)
    return result[relative != ""].reset_index(drop=True)


def match_csv(metadata: pd.DataFrame, paths: set[str]) -> tuple[pd.DataFrame, int]:
    """Index the CSV by the scanned path it names; count rows that match nothing.

    Parameters
    ----------
    metadata : pandas.DataFrame
        From :func:`read_metadata_csv`.
    paths : set of str
        The paths of the files found by the scan.

    Returns
    -------
    matched : pandas.DataFrame
        The field columns, indexed by ``path`` (the first candidate path that was found; the
        last CSV row wins when several name the same file).
    unmatched : int
        CSV rows that name no scanned file.

    Examples
    --------
    >>> metadata = pd.DataFrame(
    ...     {"csv_path_1": ["/m/a.mp3", "/x/b.mp3"], "csv_path_2": ["/r/a.mp3", "/r/b.mp3"],
    ...      "label": ["Klockworks", "Token"]}
    ... )
    >>> matched, unmatched = match_csv(metadata, {"/m/a.mp3"})
    >>> matched.to_dict("index"), unmatched
    ({'/m/a.mp3': {'label': 'Klockworks'}}, 1)
    """
    first = metadata["csv_path_1"].isin(paths)
    second = metadata["csv_path_2"].isin(paths)
    matched = metadata[first | second].copy()
    matched["path"] = np.where(first[first | second], matched["csv_path_1"], matched["csv_path_2"])
    matched = matched.drop(columns=["csv_path_1", "csv_path_2"]).drop_duplicates(
        "path", keep="last"
    )
    return matched.set_index("path"), int((~(first | second)).sum())
