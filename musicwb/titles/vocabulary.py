"""Vocabulary of title parsing: bracket terms, karaoke noise, unknown markers, confidence bands.

Everything here is a module constant (plain tuples and frozensets, readable and testable) and
the regular expressions built from them, compiled once at import.
"""

from __future__ import annotations

import re

__all__ = [
    "COMPILATION_TERMS",
    "CONFIDENCE_BANDS",
    "COPYRIGHT_PHRASES",
    "FEATURING_TERMS",
    "FINAL_MIX_TERMS",
    "GENERIC_MIX_PREFIXES",
    "KARAOKE_MARKERS",
    "KARAOKE_NOISE_TERMS",
    "LABEL_WORDS",
    "MEDIA_EXTENSIONS",
    "MIX_TERMS",
    "NON_LABEL_TERMS",
    "NOTE_TERMS",
    "STRONG_MIX_TERMS",
    "UNKNOWN_TOKENS",
]

#: Words that make a bracket group a mix or version name ("Adam Beyer Remix", "Original Mix",
#: "Ben Klock Process", "Radio Edit", "Dub"). Matched as whole words, case-insensitively;
#: any word ending in "mix" (Megamix, Hypermix) counts too.
MIX_TERMS: tuple[str, ...] = (
    "mix", "remix", "remixed", "rmx", "edit", "re-edit", "reedit", "dub", "rework", "reworked",
    "re-work", "version", "vip", "bootleg", "instrumental", "acapella", "a cappella",
    "accapella", "remaster", "remastered", "cut", "reprise", "interpretation", "process",
    "rendition", "rewerk", "reconstruction", "remake", "reshape", "refix", "flip", "treatment",
    "extended", "radio", "club", "live", "re-recorded", "re-recording", "variation", "revision",
    "clean", "explicit", "original",
)

#: Mix words that make a square-bracket group a mix on their own ("[Lemonade mix]"); square
#: brackets usually hold labels, so "[Process]" or "[Edit Select]" stay labels.
STRONG_MIX_TERMS: tuple[str, ...] = (
    "remix", "remixed", "rmx", "rework", "reworked", "re-work", "rewerk", "re-edit", "reedit",
    "rendition", "refix", "remaster", "remastered", "mix",
)

#: Mix words that make a square-bracket group a mix as its last word ("[Ben Klock Edit]").
FINAL_MIX_TERMS: tuple[str, ...] = (
    "edit", "version", "dub", "process", "treatment", "interpretation", "reprise",
    "instrumental", "bootleg", "vip",
)

#: Release-status and video notes: kept in ``notes``, never a label, never part of the title.
NOTE_TERMS: tuple[str, ...] = (
    "unreleased", "free download", "free dl", "premiere", "exclusive", "forthcoming",
    "out now", "promo", "dubplate", "white label", "white", "preview", "clip", "snippet",
    "teaser", "test press", "test pressing", "bonus track", "bonus", "demo", "official video",
    "official music video", "official audio", "official",
    "lyric video", "lyrics", "hd", "hq", "4k", "1080p", "720p", "visualizer", "audio",
    "video", "wip", "unfinished", "private", "n/a",
)

#: Words that mark "featuring" in an artist credit or a title.
FEATURING_TERMS: tuple[str, ...] = ("feat.", "feat", "ft.", "ft", "featuring")

#: Bracket terms that are never taken for a label ("[Original Mix]", "[Unreleased]", "[feat. X]").
NON_LABEL_TERMS: frozenset[str] = frozenset(MIX_TERMS + NOTE_TERMS + ("feat.", "feat", "ft.",
                                                                      "featuring", "karaoke"))

#: Words that make a round-bracket group a label: "(Ramp Recordings)", "(Armada Records)".
LABEL_WORDS: tuple[str, ...] = (
    "records", "recordings", "recording", "recs", "label", "productions", "music group",
    "publishing", "ltd", "limited",
)

#: Any of these (case-insensitive) makes a title a karaoke or lyric-video title. Words that are
#: also song titles or artists ("Sing Along", "Stingray") are noise, not markers.
KARAOKE_MARKERS: tuple[str, ...] = (
    "karaoke", "karafun", "sing king", "singking", "in the style of",
    "originally performed by", "as popularized by", "as popularised by", "made famous by",
    "as made famous by", "no lead vocal", "with lead vocal", "with lyrics", "vocal-star",
    "tj노래방", "노래방", "금영", "태진", "カラオケ", "オフボーカル",
    "伴奏", "伴唱", "卡拉ok", "ktv",
)

#: Words and phrases that carry no artist or title in karaoke and video titles. Longest first
#: so that "karaoke video with lyrics" is removed as one piece.
KARAOKE_NOISE_TERMS: tuple[str, ...] = (
    "karaoke video version with lyrics", "karaoke video with lyrics", "karaoke version with lyrics",
    "karaoke with lyrics", "karaoke video version", "karaoke version", "karaoke video",
    "karaoke lyrics", "karaoke sing along", "karaoke singalong", "karaoke by stingray",
    "karaoke from karafun", "karaoke by", "karaoke from", "karaoke", "zoom karaoke",
    "sing king karaoke", "sing king", "karafun", "stingray karaoke", "stingray", "vocal-star",
    "tj karaoke", "tj노래방", "tj", "ky", "mr", "inst", "instrumental", "no lead vocal",
    "with lead vocal", "lead vocal", "video with lyrics", "with lyrics", "lyrics", "lyric video",
    "official music video", "official video", "official audio", "music video", "hd", "hq", "4k",
    "sing along", "sing-along", "singalong", "video version", "version", "video", "presented by",
    "노래방", "금영", "태진", "カラオケ", "オフボーカル", "カバー", "ボカロ", "歌ってみた", "伴奏",
    "伴唱", "卡拉ok", "ktv", "off vocal", "backing track", "minus one",
)

#: Phrases that name the performer explicitly: "Title (Originally Performed By Artist)".
COPYRIGHT_PHRASES: tuple[str, ...] = (
    "originally performed by", "in the style of", "as popularized by", "as popularised by",
    "as made famous by", "made famous by", "as performed by",
)

#: Video titles that are compilations or channel promos, not one song.
COMPILATION_TERMS: tuple[str, ...] = (
    "non stop", "non-stop", "nonstop", "medley", "best of", "best karaoke", "greatest hits",
    "top 10", "top 20", "top 50", "top 100", "mega hits", "hits karaoke", "karaoke songs",
    "karaoke classics", "karaoke party", "karaoke mix", "karaoke channel", "kids' karaoke",
    "music from", "1 hour", "2 hours", "3 hours", "hours non",
)

#: Entries that stand for an unidentified track or artist (compared lower-case, trimmed).
UNKNOWN_TOKENS: frozenset[str] = frozenset({
    "?", "??", "???", "????", "? ?", "id", "i.d.", "unknown", "unknown artist", "unknown track",
    "unknown title", "unknown id", "tba", "tbc", "n/a", "-",
})

#: File extensions stripped by :func:`musicwb.titles.parse_filename` (lower case, no dot).
MEDIA_EXTENSIONS: frozenset[str] = frozenset({
    "mp3", "mp4", "m4a", "m4v", "flac", "wav", "aif", "aiff", "ogg", "oga", "opus", "wma",
    "aac", "alac", "webm", "mkv", "avi", "mov", "cdg", "kar", "mid", "midi", "zip", "dsf",
})

#: First words of a mix name that are not a remixer ("Original Mix", "Extended Mix").
GENERIC_MIX_PREFIXES: frozenset[str] = frozenset({
    "original", "extended", "radio", "club", "dub", "instrumental", "vocal", "album", "main",
    "short", "long", "clean", "dirty", "explicit", "edit", "remix", "mix", "version", "vip",
    "live", "acoustic", "reprise", "remastered", "remaster", "single", "12\"", "7\"", "12''",
    "the", "a", "alternative", "alternate", "alt", "special", "continuous", "dj", "full",
    "classic", "deep", "acid", "dark", "late night", "peak time", "unreleased", "bonus",
    "original club", "original dub", "original radio", "extended club", "re-edit",
})

#: Confidence bands of the design (lowest, highest) per kind of evidence.
CONFIDENCE_BANDS: dict[str, tuple[float, float]] = {
    "manual": (1.0, 1.0),
    "copyright_phrase": (0.85, 0.85),
    "standard": (0.60, 0.69),
    "weak_separator": (0.40, 0.59),
    "title_only": (0.20, 0.39),
    "nothing": (0.0, 0.0),
}


def _alternation(terms: tuple[str, ...] | frozenset[str]) -> str:
    return "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))


# A word boundary that also works next to CJK and punctuation-ending terms ("feat.", "노래방").
_L = r"(?<![\w])"
_R = r"(?![\w])"

MIX_RE = re.compile(rf"{_L}(?:{_alternation(MIX_TERMS)}|\w+mix(?:es)?){_R}", re.IGNORECASE)
_SQUARE_SINGLE_WORDS = tuple(
    t for t in MIX_TERMS if t not in {"process", "club", "cut", "flip", "treatment", "variation",
                                       "revision", "rendition", "interpretation"}
)
SQUARE_MIX_RE = re.compile(
    rf"{_L}(?:{_alternation(STRONG_MIX_TERMS)}|\w+mix(?:es)?){_R}"
    rf"|\s(?:{_alternation(FINAL_MIX_TERMS)})(?:\s+(?:\d+|[IVX]+))?$"
    rf"|^\s*(?:{_alternation(_SQUARE_SINGLE_WORDS)})\s*$",
    re.IGNORECASE,
)
NOTE_ONLY_RE = re.compile(
    rf"^\s*(?:{_alternation(NOTE_TERMS)})(?:\s*[,/&+]?\s*(?:{_alternation(NOTE_TERMS)}))*\s*$",
    re.IGNORECASE,
)
LABEL_WORD_RE = re.compile(rf"{_L}(?:{_alternation(LABEL_WORDS)}){_R}", re.IGNORECASE)
FEATURING_RE = re.compile(r"(?<![\w])(?:feat\.?|ft\.|ft(?=\s)|featuring)(?=\s)\s*", re.IGNORECASE)
KARAOKE_MARKER_RE = re.compile(rf"{_L}(?:{_alternation(KARAOKE_MARKERS)}){_R}", re.IGNORECASE)
KARAOKE_NOISE_RE = re.compile(rf"{_L}(?:{_alternation(KARAOKE_NOISE_TERMS)}){_R}", re.IGNORECASE)
COPYRIGHT_RE = re.compile(
    rf"^(?P<title>.*?)\s*(?P<phrase>{_alternation(COPYRIGHT_PHRASES)})\s+(?P<artist>.+)$",
    re.IGNORECASE,
)
COMPILATION_RE = re.compile(rf"{_L}(?:{_alternation(COMPILATION_TERMS)}){_R}|vol\.\s*\d",
                            re.IGNORECASE)
MEDIA_EXTENSION_RE = re.compile(rf"\.(?:{_alternation(MEDIA_EXTENSIONS)})$", re.IGNORECASE)
