"""From the trailing bracket groups of a title to label, catalogue, mix, remixer and notes.

Pure functions on the output of :func:`musicwb.titles.text.peel_trailing_groups`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from musicwb.titles.text import BracketGroup, is_youtube_id
from musicwb.titles.vocabulary import (
    FEATURING_RE,
    GENERIC_MIX_PREFIXES,
    KARAOKE_MARKER_RE,
    LABEL_WORD_RE,
    MIX_RE,
    MIX_TERMS,
    NOTE_ONLY_RE,
    SQUARE_MIX_RE,
)

__all__ = ["TailFields", "classify_tail", "remixer_of", "split_featured", "split_label_catalog"]

# A catalogue number carries a digit: "KW 20", "OSTGUTLP03", "F 086, 1998", "COR12\"020".
_HAS_DIGIT = re.compile(r"\d")
# A bare catalogue number without a label: "[MUTED002]", "[HARDGROOVEDIGI018]".
_CATALOG_ONLY = re.compile(r"^[A-Z]{2,}[A-Z0-9.\-]*\d[A-Z0-9.\-]*$")
# A short all-caps name with a small number is a label, not a catalogue number: "[CR2]",
# "[LOT49]", "[UVB-76]", "[DSCI4]"; catalogue numbers run longer or are zero-padded ("RDL01").
_SHORT_LABEL = re.compile(r"^(?=.{2,6}$)[A-Z]{2,5}-?[1-9]\d?$")
# "Media -MR 519", "Diynamic -021", "Figure- 07-6": a dash with a space on one side only.
_LOOSE_DASH = re.compile(r"^(?P<left>.*\S)(?:\s+-(?=\S)|(?<=\S)-\s+)(?P<right>\S.*)$")
_REMIXED_BY = re.compile(
    r"^(?:remixed|remix|mixed|edited|edit|reworked|rework)\s+by\s+(?P<name>.+)$", re.IGNORECASE
)
_POSSESSIVE = re.compile(r"^(?P<name>[^'’]+?)['’]s?\s+\S")
_REMIX_WORD = re.compile(
    r"^(?P<name>.+?)\s+(?:re-?mix|rmx|re-?work|re-?edit|edit|dub|mix|version|process|rendition|"
    r"rewerk|reshape|treatment|interpretation|reinterpretation|bootleg|vip|refix|flip|remake|"
    r"reconstruction|cut|remodel)\b",
    re.IGNORECASE,
)
_NAME_SEPARATORS = re.compile(
    r"\s*(?:,|&|\band\b|(?<=\s)x(?=\s)|\bvs\.?(?=\s))\s*", re.IGNORECASE
)
_MIX_WORDS = frozenset(term.lower() for term in MIX_TERMS)


@dataclass(frozen=True, slots=True)
class TailFields:
    """What the trailing groups of a title say besides the title itself."""

    title_groups: tuple[BracketGroup, ...] = ()
    mix_group: BracketGroup | None = None
    label: str | None = None
    catalog: str | None = None
    notes: tuple[str, ...] = ()
    youtube_id: str | None = None
    label_from: str | None = None  # "square" or "round": where the label was found


def split_label_catalog(content: str) -> tuple[str | None, str | None]:
    """Split ``"Klockworks - KW 20"`` into label and catalogue number.

    The split is at the last ``" - "`` (or, failing that, a dash with a space on one side
    only, "Media -MR 519") and only when the right part carries a digit, so a label that
    holds a dash ("Critical Presents - Modulations", "UVB-76") stays whole. A short all-caps
    name with a small number ("CR2", "LOT49") is a label; longer or zero-padded ones
    ("MUTED002") are catalogue numbers.

    Returns
    -------
    label, catalog : str or None
        ``(None, "MUTED002")`` for a bare catalogue number.

    Examples
    --------
    >>> split_label_catalog("Klockworks - KW 20")
    ('Klockworks', 'KW 20')
    >>> split_label_catalog("Armada")
    ('Armada', None)
    >>> split_label_catalog("Media -MR 519"), split_label_catalog("LOT49")
    (('Media', 'MR 519'), ('LOT49', None))
    """
    left, dash, right = content.rpartition(" - ")
    if dash and left.strip() and _HAS_DIGIT.search(right):
        return left.strip(), right.strip()
    loose = _LOOSE_DASH.match(content)
    if loose and _HAS_DIGIT.search(loose["right"]):
        return loose["left"].strip(), loose["right"].strip()
    if _SHORT_LABEL.match(content):
        return content, None
    if _CATALOG_ONLY.match(content) and not content.isdigit():
        return None, content
    return content, None


def _square_label(content: str) -> tuple[str | None, str | None] | None:
    left, dash, right = content.rpartition(" - ")
    if dash and left.strip() and _HAS_DIGIT.search(right):
        return left.strip(), right.strip()
    if FEATURING_RE.search(content) or KARAOKE_MARKER_RE.search(content):
        return None
    if SQUARE_MIX_RE.search(content) and not LABEL_WORD_RE.search(content):
        return None
    if content.startswith(("+", "?")) or content.endswith("?") or ":" in content:
        return None  # "[3:44 bis]", "[? maybe X]": a note of the tracklist, not a label
    return split_label_catalog(content)


def _round_label(content: str) -> tuple[str | None, str | None] | None:
    left, dash, right = content.rpartition(" - ")
    if dash and left.strip() and _HAS_DIGIT.search(right) and not MIX_RE.search(left):
        return left.strip(), right.strip()
    if LABEL_WORD_RE.search(content) and not MIX_RE.search(content):
        return content, None
    return None


def classify_tail(
    groups: list[BracketGroup], *, store_listing: bool = False, letters_only_ids: bool = False
) -> TailFields:
    """Decide which trailing groups are label, mix, notes or YouTube ID; the rest stay title.

    Parameters
    ----------
    groups : list of BracketGroup
        Trailing groups in reading order (from :func:`peel_trailing_groups`).
    store_listing : bool
        Read the store convention "Artist - Title (Mix) [Label]": the last square group is the
        label (or "Label - CAT"), the round group before it the mix, whatever their words.
    letters_only_ids : bool
        Accept an all-letter ``[ID]`` as a YouTube ID (file names only).

    Returns
    -------
    TailFields
        Only the last label-like group is a label; only the last remaining group can be the mix
        (in "Transport (Carl Craig Remix) (DJ Deep Rework)" the title is "Transport (Carl Craig
        Remix)" and the mix the rework).
    """
    if store_listing:
        return _classify_store_tail(groups)
    remaining: list[BracketGroup] = []
    notes: list[str] = []
    youtube_id = None
    for position, group in enumerate(groups):
        last = position == len(groups) - 1
        is_id = group.opener == "[" and is_youtube_id(group.content, letters_only=letters_only_ids)
        if last and is_id:
            youtube_id = group.content
        elif NOTE_ONLY_RE.match(group.content):
            notes.append(group.content)
        else:
            remaining.append(group)

    label = catalog = label_from = None
    if remaining:
        last = remaining[-1]
        found = _square_label(last.content) if last.opener == "[" else (
            _round_label(last.content) if last.opener == "(" else None)
        if found is not None:
            label, catalog = found
            label_from = "square" if last.opener == "[" else "round"
            remaining.pop()

    mix_group = None
    if remaining:
        last = remaining[-1]
        mix_re = SQUARE_MIX_RE if last.opener == "[" else MIX_RE
        if mix_re.search(last.content) and not FEATURING_RE.match(last.content):
            mix_group = remaining.pop()
    return TailFields(
        title_groups=tuple(remaining), mix_group=mix_group, label=label, catalog=catalog,
        notes=tuple(notes), youtube_id=youtube_id, label_from=label_from,
    )


def _classify_store_tail(groups: list[BracketGroup]) -> TailFields:
    remaining = list(groups)
    label = catalog = label_from = None
    if remaining and remaining[-1].opener == "[":
        content = remaining.pop().content
        left, dash, right = content.rpartition(" - ")
        if dash and _HAS_DIGIT.search(right):
            label, catalog = left.strip(), right.strip()
        else:
            label, catalog = content, None
        label_from = "square"
    mix_group = None
    if remaining and remaining[-1].opener == "(" and not FEATURING_RE.match(remaining[-1].content):
        mix_group = remaining.pop()
    return TailFields(title_groups=tuple(remaining), mix_group=mix_group, label=label,
                      catalog=catalog, label_from=label_from)


def remixer_of(mix: str | None) -> str | None:
    """The remixer named in a mix name, or None for generic names.

    Examples
    --------
    >>> remixer_of("Adam Beyer Remix"), remixer_of("Original Mix")
    ('Adam Beyer', None)
    >>> remixer_of("Ben Klock’s Glowing Clap Mix")
    'Ben Klock'
    """
    if not mix:
        return None
    match = _REMIXED_BY.match(mix)
    if match:
        return match["name"].strip() or None
    match = _POSSESSIVE.match(mix)
    name = match["name"] if match and match["name"] != mix else None
    if name is None:
        match = _REMIX_WORD.match(mix)
        name = match["name"] if match else None
    if not name:
        return None
    name = name.strip(" -,")
    words = name.lower().replace("'", " ").split()
    if not words or all(w in GENERIC_MIX_PREFIXES or w in _MIX_WORDS or w.isdigit() for w in words):
        return None
    return name


def split_featured(text: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Split an artist credit or a title into its main part and the featured names.

    Examples
    --------
    >>> split_featured("KASIA & Charles D (USA) ft. Sarah de Warren")
    ('KASIA & Charles D (USA)', ('Sarah de Warren',))
    >>> split_featured("Game Over (feat. Jay Dee and Phat Kat)")
    ('Game Over', ('Jay Dee', 'Phat Kat'))
    """
    if not text:
        return text, ()
    match = FEATURING_RE.search(text)
    if not match:
        return text, ()
    main = text[: match.start()].rstrip(" ,([{").strip()
    rest = text[match.end():]
    cut = len(rest)
    for stopper in (")", "]", "}", " (", " [", " - "):
        position = rest.find(stopper)
        if 0 <= position < cut:
            cut = position
    names = tuple(
        name.strip(" .") for name in _NAME_SEPARATORS.split(rest[:cut]) if name.strip(" .")
    )
    tail = rest[cut:].lstrip(")]} ")
    if tail and main:
        main = f"{main} {tail}".strip()
    return (main or None), names
