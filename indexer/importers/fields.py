"""Lenient coercion of source values into record fields: a string where a list was expected is
wrapped, a list where a string was expected gives its first item, structures are refused."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from indexer.importers.report import BrokenRecord

# ISO 639-2/B codes that map catalogues use most; anything else is kept as given.
LANGUAGE_NAMES = {
    "eng": "English",
    "en": "English",
    "ger": "German",
    "deu": "German",
    "de": "German",
    "fre": "French",
    "fra": "French",
    "fr": "French",
    "spa": "Spanish",
    "es": "Spanish",
    "ita": "Italian",
    "it": "Italian",
    "dut": "Dutch",
    "nld": "Dutch",
    "nl": "Dutch",
    "lat": "Latin",
    "la": "Latin",
    "por": "Portuguese",
    "pt": "Portuguese",
    "rus": "Russian",
    "ru": "Russian",
    "chi": "Chinese",
    "zho": "Chinese",
    "zh": "Chinese",
    "jpn": "Japanese",
    "ja": "Japanese",
    "kor": "Korean",
    "ara": "Arabic",
    "tur": "Turkish",
    "ota": "Turkish, Ottoman",
    "swe": "Swedish",
    "dan": "Danish",
    "nor": "Norwegian",
    "pol": "Polish",
    "cze": "Czech",
    "hun": "Hungarian",
    "gre": "Greek",
    "heb": "Hebrew",
    "per": "Persian",
    "hin": "Hindi",
    "vie": "Vietnamese",
    "tha": "Thai",
    "ind": "Indonesian",
    "fin": "Finnish",
    "ice": "Icelandic",
    "wel": "Welsh",
    "gle": "Irish",
    "cat": "Catalan",
    "mlg": "Malagasy",
    "afr": "Afrikaans",
    "rum": "Romanian",
    "ron": "Romanian",
    "nob": "Norwegian Bokmål",
    "arm": "Armenian",
    "hye": "Armenian",
    "hrv": "Croatian",
    "grc": "Greek, Ancient",
    "mul": "Multiple languages",
    "und": "Undetermined",
    "zxx": "No linguistic content",
}


def text(value: Any, field: str) -> str | None:
    """One string from a string, number or list of them; None when empty."""
    if value is None:
        return None
    if isinstance(value, list):
        items = texts(value, field)
        return items[0] if items else None
    if isinstance(value, bool | dict):
        raise BrokenRecord(f"{field} must be text, got {type(value).__name__}")
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise BrokenRecord(f"{field} must be text, got {type(value).__name__}")
    stripped = value.strip()
    return stripped or None


def texts(value: Any, field: str) -> list[str]:
    """A list of non-empty strings from a string, a number or a list of them."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    result: list[str] = []
    for item in items:
        if isinstance(item, list):
            raise BrokenRecord(f"{field} must be a list of text, got a nested list")
        single = text(item, field)
        if single:
            result.append(single)
    return result


def unique(values: Iterable[str], strip_period: bool = True) -> list[str]:
    """Values in first-seen order without case/trailing-period duplicates ("Maps", "Maps.");
    names keep their final period (``strip_period=False``: "Lukesh, G. M.")."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        cleaned = re.sub(r"\s+", " ", value).strip()
        if strip_period:
            cleaned = cleaned.rstrip(".").strip()
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            result.append(cleaned)
    return result


def language_names(values: Iterable[str]) -> list[str]:
    """Language codes turned into English names; names are title-cased so sources agree. A value
    of one or two letters that is no known code ("A", "Sp": cut-off cataloguing) is dropped, so
    it never becomes a facet value."""
    names = []
    for value in values:
        key = value.strip().lower()
        if len(key) < 3 and key not in LANGUAGE_NAMES:
            continue
        names.append(
            LANGUAGE_NAMES.get(key, value.strip().title() if key.isalpha() else value.strip())
        )
    return unique(names)


def revision_from_timestamp(value: Any) -> int:
    """Seconds since the epoch of an ISO timestamp (a monotonic revision); 0 when unreadable."""
    stamp = value[0] if isinstance(value, list) and value else value
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        return max(stamp, 0)
    if not isinstance(stamp, str):
        return 0
    try:
        return max(int(datetime.fromisoformat(stamp.strip().replace("Z", "+00:00")).timestamp()), 0)
    except ValueError:
        return 0


def optional_int(value: Any, field: str) -> int | None:
    """An integer from an int or a numeric string; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BrokenRecord(f"{field} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise BrokenRecord(f"{field} must be an integer, got {value!r}"[:200])
