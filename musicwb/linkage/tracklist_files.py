"""Reading DJ-set tracklist files (MixesDB CSV, JSON, generic CSV) into store-shaped frames.

Every raw line goes through :func:`musicwb.titles.parse_title` (``source="tracklist"``); unknown
slots ("ID - ID", "?", "Artist - ID") are flagged. A malformed row is reported with its file and
line (or JSON location) and skipped. A file that cannot be read as a whole (not in the given
encoding, a broken CSV quote or JSON document, missing columns) fails with an error that names
the file and the line or byte. Files are UTF-8 by default (a BOM is fine); ``encoding="cp1252"``
and the like read others. A file is identified by the SHA-256 of its bytes.

Formats
-------
``mixesdb``
    ``mix_title, mix_url, part, position, timestamp, artist, title, raw``; the DJ comes from the
    file name (``Ben_Klock_tracklists.csv`` → "Ben Klock"); a set is one ``(mix_url, part)``.
``json``
    ``{"sets": [{"id": ..., "dj": ..., "title": ..., "entries": [{"time": ..., "raw": ...}]}]}``
    (a bare list of sets also works); entries in play order.
``csv``
    ``set_id, dj, position`` and either ``raw`` or ``artist, title`` (optional ``label``,
    ``set_title``).
``djmix``
    The DJ Mix Dataset's JSON as it is: a list of mixes ``{"id", "title", "url", "tracklist":
    [{"id": YouTube id or null, "title": "[mm] Artist - Title (Mix) [Label - Cat]"}]}``; the
    DJ, date, venue and show come from the mix title (:func:`mix_title_parts`).

Sets of ``mixesdb`` and ``djmix`` carry the date, venue and show of their mix title
(``set_date``, ``venue``, ``show_name``); the other formats leave them empty.

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sets.csv"
>>> _ = path.write_text("set_id,dj,position,raw\\ns1,DJ A,1,A - B [L]\\ns1,DJ A,x,?\\n")
>>> parsed = read_tracklists(path, fmt="csv")
>>> len(parsed.entries), parsed.errors.location.tolist()
(1, ['line 3'])
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from musicwb.errors import ParameterError, SourceError
from musicwb.titles import parse_title

__all__ = [
    "ENTRY_COLUMNS",
    "FORMATS",
    "Format",
    "MixTitle",
    "ParsedTracklists",
    "check_encoding",
    "check_format",
    "mix_title_parts",
    "read_many",
    "read_tracklists",
]

Format = Literal["mixesdb", "json", "csv", "djmix"]
FORMATS: tuple[Format, ...] = get_args(Format)
SET_COLUMNS = ["set_id", "dj", "title", "source", "source_file", "set_date", "venue", "show_name"]
_DETAIL_COLUMNS = ["set_date", "venue", "show_name"]
ENTRY_COLUMNS = ["set_id", "position", "raw", "artist", "title", "label", "is_unknown"]
ERROR_COLUMNS = ["file_path", "location", "line", "reason"]
_MIXESDB_COLUMNS = ["mix_title", "mix_url", "part", "position", "timestamp", "artist", "title", "raw"]


@dataclass
class ParsedTracklists:
    """What one file holds: sets, entries (store columns) and the rows that could not be read."""

    path: Path
    file_hash: str
    fmt: Format
    sets: pd.DataFrame
    entries: pd.DataFrame
    errors: pd.DataFrame


# "1988-06", "2002-07-04", "200X", "2016-06-1X": MixesDB writes unknown digits as X.
_MIX_DATE = re.compile(r"^(?P<date>\d{3}[\dX](?:-[\dX]{2}){0,2})\s+-\s+(?P<rest>.*)$")
_TRAILING_ROUND = re.compile(r"^(?P<head>.*?)\s*\((?P<inner>[^()]*)\)$")


@dataclass(frozen=True, slots=True)
class MixTitle:
    """What a MixesDB mix title says: ``DATE - DJ @ Venue (Show)`` or ``DATE - DJ - Show``.

    Attributes
    ----------
    date : str or None
        As written: ``"2002-07-04"``, ``"1988-06"``, ``"1994"``, ``"200X"``.
    dj : str
        The DJ or DJs as written ("Luke Slater, Acid Kirk"); the whole title when nothing else
        can be told apart, never empty for a non-empty title.
    venue : str or None
        After ``" @ "``, without a trailing parenthesised show or date.
    show : str or None
        The show after the DJ ("A State Of Trance 054"), or the parenthesised one after the
        venue ("Test Pressing 354, 2014-06-13").
    """

    date: str | None
    dj: str
    venue: str | None
    show: str | None


def mix_title_parts(title: str) -> MixTitle:
    """Split a MixesDB mix title into date, DJ, venue and show.

    The DJ part runs from after ``"DATE - "`` to the first ``" @ "`` or ``" - "``, whichever
    comes first; a trailing parenthesised group of the DJ part is dropped ("Armin van Buuren
    (Godskitchen)" is Armin van Buuren).

    Parameters
    ----------
    title : str
        e.g. ``"2002-07-04 - Armin van Buuren - A State Of Trance 054"``.

    Returns
    -------
    MixTitle

    Examples
    --------
    >>> mix_title_parts("1988-06 - Paul Oakenfold @ Spectrum, London (Test Pressing 354, 2014-06-13)")
    MixTitle(date='1988-06', dj='Paul Oakenfold', venue='Spectrum, London', show='Test Pressing 354, 2014-06-13')
    >>> mix_title_parts("2002-07-04 - Armin van Buuren - A State Of Trance 054")
    MixTitle(date='2002-07-04', dj='Armin van Buuren', venue=None, show='A State Of Trance 054')
    >>> mix_title_parts("2003 - Armin van Buuren (Godskitchen) - Live").dj
    'Armin van Buuren'
    >>> mix_title_parts("Untitled mix")
    MixTitle(date=None, dj='Untitled mix', venue=None, show=None)
    """
    whole = " ".join(title.split())
    match = _MIX_DATE.match(whole)
    date, rest = (match["date"], match["rest"]) if match else (None, whole)
    at, dash = rest.find(" @ "), rest.find(" - ")
    venue = show = None
    if at >= 0 and (dash < 0 or at < dash):
        dj, place = rest[:at], rest[at + 3:].strip()
        found = _TRAILING_ROUND.match(place)
        if found and found["head"]:
            place, show = found["head"], found["inner"].strip() or None
        venue = place.strip() or None
    elif dash >= 0:
        dj, show = rest[:dash], rest[dash + 3:].strip() or None
    else:
        dj = rest
    found = _TRAILING_ROUND.match(dj.strip())
    if found and found["head"]:
        dj = found["head"]
    return MixTitle(date=date, dj=dj.strip() or whole, venue=venue, show=show)


def _title_details(title: str | None) -> dict[str, str | None]:
    """``set_date, venue, show_name`` of a mix title (all None without a title)."""
    if not title:
        return dict.fromkeys(_DETAIL_COLUMNS)
    parts = mix_title_parts(title)
    return {"set_date": parts.date, "venue": parts.venue, "show_name": parts.show}


def _file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _set_id(source: str, *parts: object) -> str:
    text = "\x1f".join("" if p is None or (isinstance(p, float) and pd.isna(p)) else str(p)
                       for p in parts)
    return f"{source}:{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _parsed_fields(raw: str, *, artist: str | None = None, title: str | None = None,
                   label: str | None = None) -> dict[str, Any]:
    """Store columns of one entry from its raw line (or from given artist/title/label)."""
    parsed = parse_title(raw, source="tracklist")
    return {
        "raw": raw,
        "artist": artist if artist is not None else parsed.artist,
        "title": title if title is not None else parsed.title,
        "label": label if label is not None else parsed.label,
        "is_unknown": bool(parsed.is_unknown),
    }


def _dj_from_file(path: Path) -> str:
    stem = path.stem
    for suffix in ("_tracklists", "-tracklists", "_tracklist"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem.replace("_", " ").strip() or path.stem


def _position(value: object) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"position {value!r} is not a number") from None
    if not number.is_integer() or number < 1:
        raise ValueError(f"position {value!r} is not a positive whole number")
    return int(number)


def check_encoding(encoding: str) -> str:
    """The codec name of ``encoding`` (UTF-8 read with an optional BOM), or a ParameterError."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ParameterError(
            f"--encoding {encoding!r} is not a known text encoding (try utf-8, cp1252 or latin-1)"
        ) from None
    return "utf-8-sig" if name == "utf-8" else name


def _likely_encoding(data: bytes) -> str:
    """A guess at the encoding of bytes that are not UTF-8, for the error's hint."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _decode(path: Path, data: bytes, *, encoding: str) -> str:
    """The text of a tracklist file, or a SourceError naming the byte that is not ``encoding``."""
    codec = check_encoding(encoding)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        name = "UTF-8" if codec == "utf-8-sig" else codec
        hint = _likely_encoding(data)
        advice = (f"save it as UTF-8 or pass --encoding {hint}" if hint != codec
                  else "save it as UTF-8 or pass the --encoding it was written in")
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}, line {line}"
        raise SourceError(f"{path}: not {name} ({where}); {advice}") from exc


def _read_csv(path: Path, text: str) -> tuple[list[str], list[tuple[int, dict]], list[dict]]:
    """The header, the rows with their first line, and the rows with a wrong number of fields.

    Raises
    ------
    SourceError
        Empty file, or broken quoting (names the line where the broken row starts).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError(f"{path}: the file is empty; a tracklist CSV starts with its header"
                          ) from None
    except csv.Error as exc:
        raise SourceError(f"{path}: not a readable CSV file: line 1: {exc}") from exc
    columns = [name.strip() for name in header]
    rows: list[tuple[int, dict]] = []
    errors: list[dict] = []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceError(
                f"{path}: not a readable CSV file: the row starting on line {line}: {exc} "
                "(a quote opened and not closed?)"
            ) from exc
        if len(values) != len(columns):
            if any(value.strip() for value in values):
                errors.append({"location": f"line {line}", "line": line,
                               "reason": f"{len(values)} fields where the header has "
                                         f"{len(columns)} (an unquoted comma?)"})
        else:
            rows.append((line, dict(zip(columns, values, strict=True))))
        line = reader.line_num + 1
    return columns, rows, errors


def _rows_mixesdb(path: Path, text: str) -> tuple[list[dict], list[dict], list[dict]]:
    columns, rows, errors = _read_csv(path, text)
    missing = [c for c in ("mix_title", "mix_url", "position", "raw") if c not in columns]
    if missing:
        raise SourceError(f"{path}: not a MixesDB tracklist CSV, missing column(s) {missing}")
    dj = _dj_from_file(path)
    sets: dict[str, dict] = {}
    entries = []
    for line, record in rows:
        raw = _clean(record.get("raw"))
        try:
            if raw is None:
                raise ValueError("empty raw line")
            position = _position(record["position"])
            url = _clean(record.get("mix_url")) or _clean(record.get("mix_title"))
            if url is None:
                raise ValueError("no mix_url or mix_title")
        except ValueError as exc:
            errors.append({"location": f"line {line}", "line": line, "reason": str(exc)})
            continue
        part = _clean(record.get("part"))
        set_id = _set_id("mixesdb", url, part)
        title = _clean(record.get("mix_title")) or url
        if set_id not in sets:
            sets[set_id] = {"set_id": set_id, "dj": dj,
                            "title": f"{title} / {part}" if part else title,
                            **_title_details(_clean(record.get("mix_title")))}
        entries.append({"set_id": set_id, "position": position, "_line": line,
                        **_parsed_fields(raw)})
    return list(sets.values()), entries, errors


def _rows_json(path: Path, text: str) -> tuple[list[dict], list[dict], list[dict]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not a readable JSON file: {exc}") from exc
    items = document.get("sets") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected {{'sets': [...]}} or a list of sets")
    sets, entries, errors = [], [], []
    first_of: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"sets[{i}]"
        if not isinstance(item, dict) or not _clean(item.get("dj")) or not isinstance(
            item.get("entries"), list
        ):
            errors.append({"location": where, "line": None,
                           "reason": "a set needs 'dj' and a list of 'entries'"})
            continue
        dj = _clean(item["dj"])
        title = _clean(item.get("title"))
        set_id = _set_id("json", _clean(item.get("id")) or f"{dj}\x1f{title}\x1f{i}")
        if set_id in first_of:
            errors.append({"location": where, "line": None,
                           "reason": f"the set id {item.get('id')!r} of {first_of[set_id]} again"})
            continue
        first_of[set_id] = where
        sets.append({"set_id": set_id, "dj": dj, "title": title})
        for j, entry in enumerate(item["entries"]):
            raw = _clean(entry.get("raw")) if isinstance(entry, dict) else _clean(entry)
            if raw is None:
                errors.append({"location": f"{where}.entries[{j}]", "line": None,
                               "reason": "entry without a 'raw' line"})
                continue
            entries.append({"set_id": set_id, "position": j + 1, "_line": None,
                            "_where": f"{where}.entries[{j}]", **_parsed_fields(raw)})
    return sets, entries, errors


def _mix_where(index: int, item: dict) -> str:
    """``mix0042 "2003-01-01 - X @ Y"``: how an error names a mix of a djmix file."""
    name = _clean(item.get("id")) or _clean(item.get("url")) or f"mixes[{index}]"
    title = _clean(item.get("title"))
    return f"{name} {json.dumps(title, ensure_ascii=False)}" if title else name


def _rows_djmix(path: Path, text: str) -> tuple[list[dict], list[dict], list[dict]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not a readable JSON file: {exc}") from exc
    if not isinstance(items, list):
        raise SourceError(f"{path}: not a DJ Mix Dataset file: expected a JSON list of mixes, "
                          f"found a {type(items).__name__}")
    sets, entries, errors = [], [], []
    first_of: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"location": f"mixes[{i}]", "line": None,
                           "reason": f"a mix is an object, not a {type(item).__name__}"})
            continue
        where = _mix_where(i, item)
        if not isinstance(item.get("tracklist"), list):
            errors.append({"location": where, "line": None,
                           "reason": "a mix needs a list 'tracklist'"})
            continue
        title = _clean(item.get("title"))
        key = _clean(item.get("id")) or _clean(item.get("url"))
        set_id = _set_id("djmix", key or f"{title}\x1f{i}")
        if set_id in first_of:
            errors.append({"location": where, "line": None,
                           "reason": f"the mix id of {first_of[set_id]} again"})
            continue
        first_of[set_id] = where
        parts = mix_title_parts(title) if title else None
        sets.append({"set_id": set_id, "dj": parts.dj if parts else key or f"mixes[{i}]",
                     "title": title or key,
                     "set_date": parts and parts.date, "venue": parts and parts.venue,
                     "show_name": parts and parts.show})
        for j, entry in enumerate(item["tracklist"]):
            raw = entry.get("title") if isinstance(entry, dict) else None
            raw = _clean(raw) if isinstance(raw, str) else None
            if raw is None:
                errors.append({"location": f"{where} entry {j + 1}", "line": None,
                               "reason": "entry without a string 'title'"})
                continue
            entries.append({"set_id": set_id, "position": j + 1, "_line": None,
                            "_where": f"{where} entry {j + 1}", **_parsed_fields(raw)})
    return sets, entries, errors


def _rows_generic(path: Path, text: str) -> tuple[list[dict], list[dict], list[dict]]:
    columns, rows, errors = _read_csv(path, text)
    has_raw = "raw" in columns
    missing = [c for c in ("set_id", "dj", "position") if c not in columns]
    if not has_raw and not {"artist", "title"} <= set(columns):
        missing.append("raw (or artist and title)")
    if missing:
        raise SourceError(f"{path}: generic tracklist CSV is missing column(s) {missing}")
    sets: dict[str, dict] = {}
    entries = []
    for line, row in rows:
        try:
            given_set, dj = _clean(row["set_id"]), _clean(row["dj"])
            if given_set is None or dj is None:
                raise ValueError("missing set_id or dj")
            position = _position(row["position"])
            artist, title, label = (_clean(row.get(c)) for c in ("artist", "title", "label"))
            raw = _clean(row.get("raw")) if has_raw else None
            if raw is None:
                if artist is None and title is None:
                    raise ValueError("neither raw nor artist/title")
                raw = f"{artist or 'ID'} - {title or 'ID'}" + (f" [{label}]" if label else "")
                fields = _parsed_fields(raw, label=label)
            else:
                fields = _parsed_fields(raw)
        except ValueError as exc:
            errors.append({"location": f"line {line}", "line": line, "reason": str(exc)})
            continue
        set_id = _set_id("csv", given_set)
        sets.setdefault(set_id, {"set_id": set_id, "dj": dj,
                                 "title": _clean(row.get("set_title")) or given_set})
        entries.append({"set_id": set_id, "position": position, "_line": line, **fields})
    return list(sets.values()), entries, errors


_READERS = {"mixesdb": _rows_mixesdb, "json": _rows_json, "csv": _rows_generic,
            "djmix": _rows_djmix}


def check_format(fmt: Format) -> None:
    if fmt not in _READERS:
        raise ParameterError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def read_tracklists(path: str | Path, *, fmt: Format, encoding: str = "utf-8") -> ParsedTracklists:
    """Read one tracklist file into store-shaped frames; malformed rows go to ``errors``.

    Parameters
    ----------
    path : str or Path
    fmt : {"mixesdb", "json", "csv", "djmix"}
    encoding : str, default "utf-8"
        The file's text encoding (``cp1252``, ``latin-1``...); a UTF-8 BOM is allowed.

    Returns
    -------
    ParsedTracklists
        ``sets`` (n_sets, 8: ``set_id, dj, title, source, source_file, set_date, venue,
        show_name``), ``entries`` (n_entries, 7), ``errors`` (n_errors, 4) with
        ``file_path, location, line, reason``.

    Raises
    ------
    ParameterError
        Unknown format or encoding.
    SourceError
        The file cannot be read at all: not in ``encoding`` (the message names the byte, its
        offset and line, and a likely encoding), broken CSV quoting or JSON (names the line),
        or it lacks the format's required columns.
    """
    check_format(fmt)
    codec = check_encoding(encoding)
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read tracklist file {path}: {exc}") from exc
    sets, entries, errors = _READERS[fmt](path, _decode(path, data, encoding=codec))
    entry_frame = pd.DataFrame(entries, columns=[*ENTRY_COLUMNS, "_line", "_where"])
    duplicated = entry_frame.duplicated(["set_id", "position"], keep="first")
    for line, where in entry_frame.loc[duplicated, ["_line", "_where"]].itertuples(index=False):
        location = f"line {int(line)}" if pd.notna(line) else where
        errors.append({"location": location, "line": line if pd.notna(line) else None,
                       "reason": "duplicate position within its set"})
    entry_frame = entry_frame.loc[~duplicated, ENTRY_COLUMNS].astype(
        {"position": "int32", "is_unknown": bool}
    )
    set_frame = pd.DataFrame(sets, columns=["set_id", "dj", "title", *_DETAIL_COLUMNS]).assign(
        source=fmt, source_file=str(path)
    )[SET_COLUMNS].astype({name: object for name in _DETAIL_COLUMNS})
    set_frame = set_frame[set_frame.set_id.isin(entry_frame.set_id)]
    error_frame = pd.DataFrame(errors, columns=ERROR_COLUMNS[1:]).assign(file_path=str(path))
    error_frame["line"] = error_frame["line"].astype("Int64")
    return ParsedTracklists(path, _file_hash(data), fmt, set_frame.reset_index(drop=True),
                            entry_frame.reset_index(drop=True), error_frame[ERROR_COLUMNS])


def read_many(
    paths: Iterable[str | Path], *, fmt: Format, encoding: str = "utf-8"
) -> list[ParsedTracklists]:
    """:func:`read_tracklists` for several files."""
    return [read_tracklists(path, fmt=fmt, encoding=encoding) for path in paths]
