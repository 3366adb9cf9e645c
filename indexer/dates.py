"""Turn messy catalogue dates ("[ca. 1780]", "1850-60", "18--", "between 1700 and 1720") into a
``(year_start, year_end)`` pair; anything unreadable gives ``(None, None)`` and never raises."""

from __future__ import annotations

import re

MIN_YEAR = 1000
MAX_YEAR = 2100
# Catalogue strings are short; the cap keeps a hostile input from costing regex time.
MAX_INPUT_CHARS = 300

# One pass over the text; the alternatives are tried in order at each position.
_TOKEN = re.compile(
    r"""
    (?P<ordinal>(?<!\d)\d{1,2})(?:st|nd|rd|th)\s+cent            # "19th century"
    |(?P<century>(?<!\d)\d{2})(?:--|uu|\?\?|xx)(?!\d)             # "18--", "19uu" (MARC)
    |(?P<decade>(?<!\d)\d{3})(?:-|u|x)(?![\d-])                   # "179-", "197u"
    |(?P<plural>(?<!\d)\d{3}0)'?s\b                               # "1850s", "1800s"
    # "1850-60", "1934-8", "1895-08"
    |(?P<start>(?<!\d)\d{4})\s*[-\u2013\u2014/]\s*(?P<short>\d{1,2})(?!\d)
    |(?P<year>(?<!\d)\d{4})(?!\d)
    """,
    re.VERBOSE | re.IGNORECASE,
)
# "1862-1868 [i.e. 1877-1881]": the corrected date after "i.e." is the true one.
_CORRECTION = re.compile(r"\bi\.\s?e\.?,?\s*([^\]]*)", re.IGNORECASE)
# A whole ISO date ("1805-08", "2008-01-17T00:00:00Z") is one year even where "1805-08" could
# read as a range.
_ISO_DATE = re.compile(
    r"\s*(\d{4})-(0[1-9]|1[0-2])(?:-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)?\s*"
)


def _abbreviated_end(start: int, short: str) -> int:
    """Expand the end of "1850-60" / "1934-8"; a two-digit end below the start that can be a
    month ("1895-08") means a single year."""
    number = int(short)
    if len(short) == 1:
        end = start // 10 * 10 + number
        return end if end >= start else end + 10
    end = start // 100 * 100 + number
    if end >= start:
        return end
    return start if 1 <= number <= 12 else end + 100


def _spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        if match["ordinal"]:
            century = int(match["ordinal"])
            if 1 <= century <= 21:
                spans.append(((century - 1) * 100, (century - 1) * 100 + 99))
        elif match["century"]:
            first = int(match["century"]) * 100
            spans.append((first, first + 99))
        elif match["decade"]:
            first = int(match["decade"]) * 10
            spans.append((first, first + 9))
        elif match["plural"]:
            first = int(match["plural"])
            spans.append((first, first + (99 if first % 100 == 0 else 9)))
        elif match["start"]:
            start = int(match["start"])
            spans.append((start, _abbreviated_end(start, match["short"])))
        else:
            year = int(match["year"])
            spans.append((year, year))
    return [(s, e) for s, e in spans if MIN_YEAR <= s <= MAX_YEAR and MIN_YEAR <= e <= MAX_YEAR]


def parse_years(text: object) -> tuple[int | None, int | None]:
    """(year_start, year_end) of a catalogue date, or (None, None) when it names no year."""
    try:
        if isinstance(text, bool) or text is None:
            return (None, None)
        if isinstance(text, int):
            return (text, text) if MIN_YEAR <= text <= MAX_YEAR else (None, None)
        if not isinstance(text, str):
            return (None, None)
        cleaned = text[:MAX_INPUT_CHARS]
        iso = _ISO_DATE.fullmatch(cleaned)
        if iso:
            year = int(iso.group(1))
            return (year, year) if MIN_YEAR <= year <= MAX_YEAR else (None, None)
        correction = _CORRECTION.search(cleaned)
        if correction:
            corrected = _parse_clean(correction.group(1))
            if corrected[0] is not None:
                return corrected
        return _parse_clean(cleaned)
    except Exception:  # a date string must never break an import
        return (None, None)


def _parse_clean(text: str) -> tuple[int | None, int | None]:
    # Brackets and question marks mark uncertainty, not structure: "1963-[1978]", "179-?".
    cleaned = re.sub(r"[\[\]?()]", "", text).replace("\u00a9", " ")
    spans = _spans(cleaned)
    if not spans:
        return (None, None)
    return (min(s for s, _ in spans), max(e for _, e in spans))
