"""The synthetic world's attribute values and the words people use for them.

Ground-truth attributes (see ``attributes.py``) take their values from the tuples below; the
``*_WORDS`` dictionaries give, per value, the phrases a caption writer or a person typing a query
might use. The first phrase of each list is the canonical one. Training (captions) and evaluation
(gold queries) read these instead of hard-coding strings.
"""

from __future__ import annotations

from typing import Final

COLOUR_SCHEMES: Final = ("full_colour", "hand_coloured", "grayscale", "sepia", "blueprint")
KINDS: Final = ("world_map", "regional_map", "city_plan", "nautical_chart", "birds_eye_view")
ORNAMENTS: Final = ("sea_monster", "ship", "compass_rose", "cartouche", "coat_of_arms")
RELIEF: Final = ("none", "pictorial", "shaded")
TEXT_DENSITY: Final = ("sparse", "moderate", "dense")
WEAR: Final = ("clean", "worn", "stained")

#: Every categorical attribute and its values (``ornaments`` is a set-valued attribute).
ATTRIBUTE_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "colour_scheme": COLOUR_SCHEMES,
    "kind": KINDS,
    "ornaments": ORNAMENTS,
    "relief": RELIEF,
    "text_density": TEXT_DENSITY,
    "wear": WEAR,
}

COLOUR_SCHEME_WORDS: Final[dict[str, list[str]]] = {
    "full_colour": [
        "colour",
        "color",
        "full colour",
        "coloured",
        "colored",
        "colorful",
        "polychrome",
        "printed in colour",
    ],
    "hand_coloured": [
        "hand-coloured",
        "hand colored",
        "hand-colored outlines",
        "outline colour",
        "coloured outlines",
        "watercolour outlines",
    ],
    "grayscale": [
        "grayscale",
        "greyscale",
        "black and white",
        "black-and-white",
        "monochrome",
        "gray",
        "grey",
    ],
    "sepia": ["sepia", "brown", "brownish", "sepia-toned", "old brown ink", "yellowed"],
    "blueprint": ["blueprint", "blue print", "cyanotype", "white lines on blue", "blue-line print"],
}

KIND_WORDS: Final[dict[str, list[str]]] = {
    "world_map": [
        "world map",
        "map of the world",
        "mappa mundi",
        "world",
        "globe map",
        "hemispheres",
    ],
    "regional_map": [
        "regional map",
        "map of a region",
        "country map",
        "provincial map",
        "topographic map",
        "state map",
    ],
    "city_plan": [
        "city plan",
        "town plan",
        "street map",
        "plan of a city",
        "city map",
        "street plan",
    ],
    "nautical_chart": [
        "nautical chart",
        "sea chart",
        "marine chart",
        "coastal chart",
        "portolan chart",
        "chart",
    ],
    "birds_eye_view": [
        "bird's-eye view",
        "birds eye view",
        "panoramic map",
        "aerial view",
        "panorama",
        "view of a town",
    ],
}

ORNAMENT_WORDS: Final[dict[str, list[str]]] = {
    "sea_monster": [
        "sea monster",
        "sea serpent",
        "sea monsters",
        "sea creature",
        "leviathan",
        "kraken",
    ],
    "ship": ["ship", "ships", "sailing ship", "galleon", "vessel", "boat"],
    "compass_rose": ["compass rose", "compass", "wind rose", "compass star", "north arrow"],
    "cartouche": [
        "cartouche",
        "decorative cartouche",
        "ornate title",
        "title frame",
        "decorative title",
    ],
    "coat_of_arms": ["coat of arms", "heraldic shield", "arms", "crest", "heraldry", "shield"],
}

RELIEF_WORDS: Final[dict[str, list[str]]] = {
    "none": ["flat", "no relief"],
    "pictorial": [
        "pictorial relief",
        "relief shown pictorially",
        "drawn mountains",
        "molehill hills",
        "hills",
    ],
    "shaded": ["shaded relief", "relief shading", "hill shading", "terrain", "mountains"],
}

TEXT_DENSITY_WORDS: Final[dict[str, list[str]]] = {
    "sparse": ["sparse lettering", "few labels", "little text", "uncluttered"],
    "moderate": ["labelled", "some lettering"],
    "dense": [
        "dense lettering",
        "many place names",
        "lots of text",
        "crowded with names",
        "detailed",
    ],
}

WEAR_WORDS: Final[dict[str, list[str]]] = {
    "clean": ["clean", "well preserved", "crisp"],
    "worn": ["worn", "aged paper", "faded", "old paper", "foxed"],
    "stained": ["stained", "water-stained", "damaged", "with stains", "blotched"],
}

#: attribute name -> value -> phrases (ornaments included; each ornament is a value).
ATTRIBUTE_WORDS: Final[dict[str, dict[str, list[str]]]] = {
    "colour_scheme": COLOUR_SCHEME_WORDS,
    "kind": KIND_WORDS,
    "ornaments": ORNAMENT_WORDS,
    "relief": RELIEF_WORDS,
    "text_density": TEXT_DENSITY_WORDS,
    "wear": WEAR_WORDS,
}

#: Eras as (label, first year, last year); ``attributes["year"]`` falls in one of them.
ERAS: Final = (
    ("16th century", 1500, 1599),
    ("17th century", 1600, 1699),
    ("18th century", 1700, 1799),
    ("19th century", 1800, 1899),
    ("20th century", 1900, 1960),
)


def words_for(attribute: str, value: str) -> list[str]:
    """Phrases for one attribute value; the first is canonical. KeyError for unknown names."""
    return ATTRIBUTE_WORDS[attribute][value]


def era_of(year: int) -> str:
    """The era label ("18th century") for a year of the synthetic world."""
    for label, first, last in ERAS:
        if first <= year <= last:
            return label
    return ERAS[0][0] if year < ERAS[0][1] else ERAS[-1][0]
