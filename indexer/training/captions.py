"""Rule-based captions for map–caption training pairs, in the spirit of the paper (format, title,
date, place, notes), optionally enriched with attribute words where the ground truth is known.

Each caption comes with its *claims*: the ``attribute=value`` facts it states. The multi-positive
loss uses them: an image whose attributes include every claim of a caption is a positive for it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indexer.records import MapRecord
from indexer.synthetic.vocabulary import ATTRIBUTE_WORDS, era_of

#: Attributes a caption may mention, with the probability that a rich caption mentions each.
_MENTION_PROBABILITY: dict[str, float] = {
    "colour_scheme": 0.8,
    "kind": 0.8,
    "ornaments": 0.6,
    "relief": 0.3,
    "text_density": 0.2,
    "wear": 0.25,
}

_LEADS = ("", "", "", "a ", "an old ", "antique ", "historical ", "a scanned ")


@dataclass(frozen=True)
class Caption:
    """A caption and the attribute facts it states (``"kind=city_plan"``, ``"ornaments=ship"``)."""

    text: str
    claims: frozenset[str]


def attribute_facts(attributes: Mapping[str, Any] | None) -> frozenset[str]:
    """All ``attribute=value`` facts of a ground-truth attribute dict (list values expand)."""
    facts: set[str] = set()
    for name, value in (attributes or {}).items():
        if name not in ATTRIBUTE_WORDS:
            continue
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        facts.update(f"{name}={v}" for v in values)
    return frozenset(facts)


def _format_word(record: MapRecord) -> str:
    return (record.formats[0] if record.formats else "map").lower()


def metadata_caption(record: MapRecord, rng: random.Random | None = None) -> str:
    """The paper's caption from catalogue fields only: format, title, date, place, notes."""
    rng = rng or random.Random(0)
    parts = [_format_word(record)]
    if record.title:
        parts.append(record.title.rstrip("."))
    if record.date:
        parts.append(record.date)
    if record.place_names and rng.random() < 0.7:
        parts.append(", ".join(record.place_names[:2]))
    notes = [*record.notes, record.description] if record.description else list(record.notes)
    notes = [n for n in notes if n]
    if notes and rng.random() < 0.5:
        parts.append(rng.choice(notes))
    return ". ".join(parts)


def _phrase(attribute: str, value: str, rng: random.Random) -> str:
    return rng.choice(ATTRIBUTE_WORDS[attribute][value])


def _ornament_phrase(ornaments: list[str], rng: random.Random) -> tuple[str, list[str]]:
    chosen = rng.sample(ornaments, k=rng.randint(1, len(ornaments)))
    words = [_phrase("ornaments", o, rng) for o in chosen]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return joined, chosen


def attribute_caption(
    record: MapRecord, attributes: Mapping[str, Any], rng: random.Random
) -> Caption:
    """A varied caption mixing attribute words with catalogue fields; claims list what it says."""
    claims: set[str] = set()
    mention = {name: rng.random() < p for name, p in _MENTION_PROBABILITY.items()}
    colour = kind = ""
    if mention["colour_scheme"] and attributes.get("colour_scheme"):
        colour = _phrase("colour_scheme", attributes["colour_scheme"], rng)
        claims.add(f"colour_scheme={attributes['colour_scheme']}")
    if mention["kind"] and attributes.get("kind"):
        kind = _phrase("kind", attributes["kind"], rng)
        claims.add(f"kind={attributes['kind']}")
    head = " ".join(w for w in (colour, kind or rng.choice(("map", "map", "print", "sheet"))) if w)
    if rng.random() < 0.3 and colour:
        head = f"{kind or 'map'} in {colour}"
    extras: list[str] = []
    ornaments = list(attributes.get("ornaments") or [])
    if mention["ornaments"] and ornaments:
        phrase, chosen = _ornament_phrase(ornaments, rng)
        extras.append(rng.choice(("with ", "showing ", "decorated with ", "featuring ")) + phrase)
        claims.update(f"ornaments={o}" for o in chosen)
    for name in ("relief", "text_density", "wear"):
        value = attributes.get(name)
        if mention[name] and value and value != "none":
            extras.append(_phrase(name, value, rng))
            claims.add(f"{name}={value}")
    meta: list[str] = []
    if record.place_names and rng.random() < 0.4:
        meta.append(rng.choice(("of ", "of ", "showing ")) + record.place_names[0])
    year = attributes.get("year") or record.year_start
    if year and rng.random() < 0.35:
        meta.append(rng.choice((str(year), era_of(int(year)), f"ca. {year}")))
    rng.shuffle(extras)
    text = rng.choice(_LEADS) + head
    if meta:
        text += " " + " ".join(meta)
    if extras:
        text += (", " if rng.random() < 0.5 else " ") + ", ".join(extras)
    if record.title and rng.random() < 0.15:
        text = (
            f"{record.title.rstrip('.')}. {text}"
            if rng.random() < 0.5
            else f"{text}. {record.title}"
        )
    return Caption(text=text.strip(), claims=frozenset(claims))


def build_caption(
    record: MapRecord, attributes: Mapping[str, Any] | None = None, rng: random.Random | None = None
) -> Caption:
    """One training caption for a record: attribute-rich when attributes are known (mostly),
    otherwise (and sometimes anyway) the catalogue-only caption, which claims nothing."""
    rng = rng or random.Random(0)
    if attributes and rng.random() < 0.9:
        caption = attribute_caption(record, attributes, rng)
        if "map" not in caption.text and rng.random() < 0.3:
            # queries arrive as "<text> map" (the prompt template): teach that form too
            caption = Caption(text=f"{caption.text} map", claims=caption.claims)
        return caption
    return Caption(text=metadata_caption(record, rng), claims=frozenset())


def canonical_caption(attributes: Mapping[str, Any]) -> str:
    """The deterministic, canonical-word caption ("grayscale nautical chart with sea monster")
    used for validation recall, so the metric does not depend on sampling."""
    words = [
        ATTRIBUTE_WORDS["colour_scheme"][attributes["colour_scheme"]][0],
        ATTRIBUTE_WORDS["kind"][attributes["kind"]][0],
    ]
    ornaments = list(attributes.get("ornaments") or [])
    text = " ".join(words)
    if ornaments:
        text += " with " + " and ".join(
            ATTRIBUTE_WORDS["ornaments"][o][0] for o in sorted(ornaments)
        )
    return text


def canonical_claims(attributes: Mapping[str, Any]) -> frozenset[str]:
    """Claims of :func:`canonical_caption`."""
    claims = {f"colour_scheme={attributes['colour_scheme']}", f"kind={attributes['kind']}"}
    claims.update(f"ornaments={o}" for o in attributes.get("ornaments") or [])
    return frozenset(claims)


_DETAIL_HEADS = ("", "", "detail of a ", "part of a ", "a corner of a ", "close-up of a ")


def region_caption(attributes: Mapping[str, Any], rng: random.Random) -> Caption:
    """A caption for a tile of a sheet: the ornaments inside it first (each usually named), else
    the sheet's colour scheme and kind, often as "detail of a …"; claims list what it says."""
    claims: set[str] = set()
    ornaments = list(attributes.get("ornaments") or [])
    colour = kind = ""
    if attributes.get("colour_scheme") and rng.random() < (0.4 if ornaments else 0.8):
        colour = _phrase("colour_scheme", attributes["colour_scheme"], rng)
        claims.add(f"colour_scheme={attributes['colour_scheme']}")
    if attributes.get("kind") and rng.random() < (0.3 if ornaments else 0.6):
        kind = _phrase("kind", attributes["kind"], rng)
        claims.add(f"kind={attributes['kind']}")
    if not ornaments and not claims and attributes.get("colour_scheme"):
        colour = _phrase("colour_scheme", attributes["colour_scheme"], rng)
        claims.add(f"colour_scheme={attributes['colour_scheme']}")
    head = " ".join(w for w in (colour, kind or "map") if w)
    if not ornaments:
        return Caption(text=(rng.choice(_DETAIL_HEADS) + head).strip(), claims=frozenset(claims))
    named = [o for o in ornaments if rng.random() < 0.9] or [rng.choice(ornaments)]
    words = [_phrase("ornaments", o, rng) for o in named]
    phrase = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    claims.update(f"ornaments={o}" for o in named)
    form = rng.random()
    if form < 0.3:
        text = phrase
    elif form < 0.45:
        text = f"a {phrase}"
    elif form < 0.6:
        text = f"{phrase} on a {head}"
    else:
        joiner = rng.choice(("with ", "showing ", "decorated with ", "featuring "))
        text = f"{rng.choice(_DETAIL_HEADS)}{head} {joiner}{phrase}"
    return Caption(text=text.strip(), claims=frozenset(claims))
