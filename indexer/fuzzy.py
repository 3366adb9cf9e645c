"""Words within one edit, as map text is matched: spelling on old maps and OCR misreadings are
normal, so a map word of ``FUZZY_MIN_LENGTH``+ letters matches a query word one insertion,
deletion, substitution or transposition away (Elasticsearch's ``fuzziness: 1`` with
transpositions); shorter words match exactly, as catalogue text always does."""

from __future__ import annotations

FUZZY_MIN_LENGTH = 5


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are equal or one edit apart (Damerau: a swap of neighbours
    counts as one)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]


def fuzzy_match(query_word: str, word: str) -> bool:
    """Whether a (folded) map word matches a (folded) query word: exactly, or within one edit
    when the query word has ``FUZZY_MIN_LENGTH`` or more letters."""
    if len(query_word) < FUZZY_MIN_LENGTH:
        return query_word == word
    return within_one_edit(query_word, word)


def one_edit_variants(word: str, alphabet: str) -> set[str]:
    """Every string one edit from ``word`` over ``alphabet`` (plus ``word`` itself): the
    candidates a term dictionary is probed with."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    variants = {word}
    variants.update(left + right[1:] for left, right in splits if right)
    variants.update(
        left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1
    )
    variants.update(left + ch + right[1:] for left, right in splits if right for ch in alphabet)
    variants.update(left + ch + right for left, right in splits for ch in alphabet)
    return variants
