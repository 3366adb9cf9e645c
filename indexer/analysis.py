"""Keyword analysis, done in Python so every backend matches the same words: word tokens,
case and accent folding, a light English plural stemmer, and the query stopwords.

The embedded backend indexes and queries these terms in FTS5 (no tokenizer stemming), and
Elasticsearch (mapping v2+) in fields with the built-in ``whitespace`` analyzer, which the
minimal distribution has (it lacks analysis-common's stemmers and folding filters)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# What ``index status`` reports as the analysis of indices made with these terms.
ANALYSIS = "mapsearch (folded, plural-stemmed)"

# Words dropped from keyword queries: they say nothing in a map catalogue ("maps with sea
# monsters" → sea, monster). Only dropped when something else is left.
KEYWORD_STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "without",
        "map",
        "maps",
        # "maps showing Elmouth": the place is the query
        "showing",
        "shows",
    ]
)

# Letters and digits only: "_" and punctuation separate words in every backend.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Letters NFKD does not decompose into a base letter and a mark.
_LIGATURES = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def fold(word: str) -> str:
    """Lower-case, without accents: "Académie" → "academie", "Straße" → "strasse"."""
    if word.isascii():  # nothing to fold but case (most catalogue words; analysis is per hit)
        return word.lower()
    return _fold_unicode(word)


# Catalogue words repeat (places, subjects, publishers): bulk loads analyse each distinct word once.
@lru_cache(maxsize=1 << 16)
def _fold_unicode(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Plural to singular, after Harman's S-stemmer ("cities" → "city", "monsters" → "monster"),
    with "-sses/-shes/-ches/-xes/-ases" → drop "es" ("atlases" → "atlas", "churches" → "church")
    and words in "-as/-is/-us/-ss" kept ("atlas", "analysis", "census", "glass"). Light on
    purpose: a catalogue's words keep their meaning ("survey" and "surveying" stay apart)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "ases")):
        return word[:-2]
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("as", "is", "us", "ss")):
        return word[:-1]
    return word


def words(text: str | None) -> list[str]:
    """The folded word tokens of ``text``, in order (no stemming)."""
    if (text or "").isascii():  # NFKC and folding leave ASCII as it is, bar the case
        return _WORD.findall((text or "").lower())
    normalized = unicodedata.normalize("NFKC", text or "")
    return [folded for word in _WORD.findall(normalized) if (folded := fold(word))]


def analyze(text: str | None) -> list[str]:
    """The terms a document field is indexed as: folded, stemmed words, repeats kept (BM25)."""
    return [_stemmed(word) for word in words(text)]


_stemmed = lru_cache(maxsize=1 << 16)(stem)  # same words, same stems: analysed once per process


def query_words(text: str | None) -> list[str]:
    """A query's words: folded, stopwords dropped unless nothing else is left, order kept,
    repeats removed. User syntax (quotes, AND/OR/NOT, ``*``, ``-``) is never interpreted."""
    tokens = words(text)
    kept = [t for t in tokens if t not in KEYWORD_STOPWORDS]
    return list(dict.fromkeys(kept or tokens))


def keyword_terms(text: str | None) -> list[str]:
    """The terms a keyword query requires (every one, in some field): ``query_words`` stemmed."""
    return list(dict.fromkeys(stem(word) for word in query_words(text)))
