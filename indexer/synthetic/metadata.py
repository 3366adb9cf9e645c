"""Catalogue metadata for a synthetic map, correlated with its ground truth the way real
catalogues are: partly and imperfectly (a title names the place and kind, a note may say "Hand
colored.", almost nothing mentions sea monsters)."""

from __future__ import annotations

from typing import Any

import numpy as np

from indexer.records import Extent, ImageRef, MapRecord, Place
from indexer.synthetic.gazetteer import CITIES, COASTS, REGIONS, City, Region

TITLE_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "english": {
        "world_map": ["A new map of the world", "The world", "A general map of the world"],
        "regional_map": [
            "A new and accurate map of {place}",
            "Map of {place}",
            "{place}",
            "Topographical map of {place}",
            "A map of the province of {place}",
        ],
        "city_plan": [
            "Plan of the city of {place}",
            "Map of the city of {place}",
            "Street map of {place}",
            "{place}",
            "Plan of {place} and its environs",
        ],
        "nautical_chart": [
            "A chart of the {place}",
            "{place}",
            "Chart of the {place} with the soundings",
            "A new chart of the {place}",
            "Sea chart of the {place}",
        ],
        "birds_eye_view": [
            "Bird's eye view of {place}",
            "View of {place}",
            "Panoramic view of the city of {place}",
            "{place} from the air",
            "Perspective map of {place}",
        ],
    },
    "french": {
        "world_map": ["Mappe-monde", "Carte du monde", "Nouvelle mappemonde"],
        "regional_map": ["Carte de {place}", "Nouvelle carte de {place}", "{place}"],
        "city_plan": ["Plan de la ville de {place}", "Plan de {place}"],
        "nautical_chart": ["Carte marine de {place}", "Carte réduite de {place}"],
        "birds_eye_view": ["Vue de {place}", "Vue cavalière de {place}"],
    },
    "german": {
        "world_map": ["Weltkarte", "Karte der Welt"],
        "regional_map": ["Karte von {place}", "Neue Karte von {place}"],
        "city_plan": ["Plan der Stadt {place}", "Stadtplan von {place}"],
        "nautical_chart": ["Seekarte von {place}"],
        "birds_eye_view": ["Ansicht von {place}", "Vogelschau von {place}"],
    },
    "dutch": {
        "world_map": ["Nieuwe wereldkaart", "Wereldkaart"],
        "regional_map": ["Kaart van {place}", "Nieuwe kaart van {place}"],
        "city_plan": ["Plattegrond van {place}"],
        "nautical_chart": ["Paskaart van {place}", "Zeekaart van {place}"],
        "birds_eye_view": ["Gezicht op {place}"],
    },
    "latin": {
        "world_map": [
            "Nova totius terrarum orbis tabula",
            "Typus orbis terrarum",
            "Orbis terrarum nova descriptio",
        ],
        "regional_map": ["{place} nova descriptio", "Tabula {place}"],
        "city_plan": ["{place} urbs", "Ichnographia urbis {place}"],
        "nautical_chart": ["Tabula nautica {place}"],
        "birds_eye_view": ["Prospectus {place}"],
    },
    "spanish": {
        "world_map": ["Mapa del mundo", "Mapamundi"],
        "regional_map": ["Mapa de {place}"],
        "city_plan": ["Plano de la ciudad de {place}"],
        "nautical_chart": ["Carta náutica de {place}"],
        "birds_eye_view": ["Vista de {place}"],
    },
}

#: Cartographers per language with the years they worked, so a 1959 plan is not by Homann.
CARTOGRAPHERS: dict[str, list[tuple[str, int, int]]] = {
    "english": [
        ("Speed, John", 1500, 1660),
        ("Seller, John", 1650, 1700),
        ("Jefferys, Thomas", 1700, 1775),
        ("Faden, William", 1760, 1830),
        ("Mitchell, S. Augustus", 1820, 1870),
        ("Colton, J. H.", 1830, 1890),
        ("Fowler, T. M.", 1860, 1925),
        ("Bailey, O. H.", 1860, 1930),
        ("Rand McNally and Company", 1870, 1960),
        ("Sanborn Map Company", 1880, 1960),
        ("U.S. Coast Survey", 1830, 1960),
    ],
    "french": [
        ("Sanson, Nicolas", 1500, 1680),
        ("Delisle, Guillaume", 1680, 1730),
        ("Bellin, Jacques Nicolas", 1730, 1775),
        ("Bonne, Rigobert", 1760, 1800),
        ("Service hydrographique de la Marine", 1800, 1960),
    ],
    "german": [
        ("Münster, Sebastian", 1500, 1600),
        ("Homann, Johann Baptist", 1650, 1750),
        ("Seutter, Matthäus", 1700, 1760),
        ("Stieler, Adolf", 1800, 1900),
        ("Justus Perthes", 1850, 1960),
    ],
    "dutch": [
        ("Hondius, Jodocus", 1500, 1630),
        ("Blaeu, Willem Janszoon", 1600, 1670),
        ("Jansson, Jan", 1600, 1670),
        ("Visscher, Nicolaes", 1640, 1710),
        ("Van Keulen, Johannes", 1670, 1800),
        ("Topografische Dienst", 1800, 1960),
    ],
    "latin": [
        ("Ortelius, Abraham", 1500, 1600),
        ("Mercator, Gerard", 1500, 1620),
        ("Hondius, Jodocus", 1580, 1640),
        ("Homann, Johann Baptist", 1680, 1760),
    ],
    "spanish": [
        ("Casa de Contratación", 1500, 1700),
        ("López, Tomás", 1700, 1810),
        ("Dirección de Hidrografía", 1800, 1960),
    ],
}

COLLECTIONS = {
    "birds_eye_view": "Panoramic Maps",
    "nautical_chart": "Nautical Charts",
    "city_plan": "Cities and Towns",
    "world_map": "World Maps",
    "regional_map": "General Maps",
}

LANGUAGE_NAMES = {
    "english": "English",
    "french": "French",
    "german": "German",
    "dutch": "Dutch",
    "latin": "Latin",
    "spanish": "Spanish",
}

SCALES: dict[str, tuple[int, int] | None] = {
    "world_map": (60_000_000, 150_000_000),
    "regional_map": (250_000, 2_500_000),
    "city_plan": (5_000, 30_000),
    "nautical_chart": (40_000, 1_000_000),
    "birds_eye_view": None,
}

WORLD = Region("World", "", -180.0, -90.0, 180.0, 90.0)


HEMISPHERE_TITLES = {
    "english": "The eastern and western hemispheres",
    "french": "Mappe-monde en deux hémisphères",
    "latin": "Orbis terrarum in duobus hemisphaeriis",
    "dutch": "Wereldkaart in twee halfronden",
}
MERCATOR_TITLES = {
    "english": "A map of the world on Mercator's projection",
    "french": "Carte du monde sur la projection de Mercator",
}


def _pick(rng: np.random.Generator, options: list[str] | tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


def _display_date(rng: np.random.Generator, year: int) -> tuple[str, int, int]:
    """A messy catalogue date and the year range it honestly supports."""
    roll = rng.random()
    if roll < 0.55:
        return str(year), year, year
    if roll < 0.7:
        decade = round(year, -1)
        return f"[ca. {decade}]", decade, decade
    if roll < 0.8:
        return f"[{year}?]", year, year
    if roll < 0.88 and year >= 1800:
        return f"{year}-{int(rng.integers(1, 13)):02d}", year, year
    if roll < 0.94:
        start = year - year % 10
        return f"between {start} and {start + 10}", start, start + 10
    century = year // 100
    return f"{century}--", century * 100, century * 100 + 99


def _place(rng: np.random.Generator, kind: str) -> tuple[Place, City | Region]:
    if kind in ("city_plan", "birds_eye_view"):
        city: City = _pick(rng, CITIES)
        return Place(name=city.name, city=city.name, state=city.state, country=city.country), city
    if kind == "nautical_chart":
        coast: Region = _pick(rng, COASTS)
        return Place(name=coast.name, country=coast.country or None), coast
    if kind == "regional_map":
        region: Region = _pick(rng, REGIONS)
        return Place(
            name=region.name,
            state=region.name if region.country == "United States" else None,
            country=region.country,
        ), region
    return Place(name="World"), WORLD


def _extent(where: City | Region) -> Extent:
    if isinstance(where, City):
        return Extent(
            west=round(where.lon - 0.08, 4),
            south=round(where.lat - 0.06, 4),
            east=round(where.lon + 0.08, 4),
            north=round(where.lat + 0.06, 4),
        )
    return Extent(west=where.west, south=where.south, east=where.east, north=where.north)


def _notes(rng: np.random.Generator, attributes: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    scheme = attributes["colour_scheme"]
    if scheme == "hand_coloured" and rng.random() < 0.6:
        notes.append("Hand colored.")
    if scheme == "full_colour" and rng.random() < 0.3:
        notes.append("Printed in colors.")
    if scheme == "blueprint" and rng.random() < 0.6:
        notes.append("Blueprint.")
    relief = attributes["relief"]
    if relief == "pictorial" and rng.random() < 0.5:
        notes.append("Relief shown pictorially.")
    if relief == "shaded" and rng.random() < 0.5:
        notes.append(
            str(_pick(rng, ["Relief shown by shading.", "Relief shown by hachures and shading."]))
        )
    scale_range = SCALES[attributes["kind"]]
    if scale_range and rng.random() < 0.7:
        denominator = int(rng.integers(*scale_range)) // 1000 * 1000
        notes.insert(
            0,
            f"Scale [ca. 1:{denominator:,}]."
            if rng.random() < 0.5
            else f"Scale 1:{denominator:,}.",
        )
    elif rng.random() < 0.3:
        notes.insert(0, "Scale not given.")
    if attributes["kind"] == "nautical_chart" and rng.random() < 0.6:
        notes.append("Depths shown by soundings.")
    if attributes["kind"] == "world_map" and attributes["year"] < 1800 and rng.random() < 0.4:
        notes.append("Prime meridian: Ferro.")
    mentions = {
        "cartouche": (0.3, "decorative cartouche"),
        "coat_of_arms": (0.3, "coat of arms"),
        "compass_rose": (0.25, "compass rose"),
        "ship": (0.15, "ill. of ships"),
        "sea_monster": (0.08, "ill. of sea monsters"),
    }
    included = [
        phrase
        for name, (chance, phrase) in mentions.items()
        if name in attributes["ornaments"] and rng.random() < chance
    ]
    if included:
        notes.append("Includes " + ", ".join(included) + ".")
    if attributes["wear"] == "stained" and rng.random() < 0.2:
        notes.append("Stained.")
    return notes


def _subjects(rng: np.random.Generator, attributes: dict[str, Any], place: Place) -> list[str]:
    kind, year = attributes["kind"], attributes["year"]
    subjects: list[str] = []
    if kind == "world_map":
        if rng.random() < 0.8:
            subjects.append("World maps")
        if year < 1800 and rng.random() < 0.6:
            subjects.append("World maps--Early works to 1800")
    elif kind == "nautical_chart":
        if rng.random() < 0.8:
            subjects.append("Nautical charts")
        if rng.random() < 0.5:
            subjects.append(f"{place.name}--Maps")
        if rng.random() < 0.3:
            subjects.append("Hydrography")
    elif kind == "birds_eye_view":
        if rng.random() < 0.8:
            subjects.append(f"{place.name}--Aerial views")
        if rng.random() < 0.3:
            subjects.append("Cities and towns")
    else:
        if rng.random() < 0.9:
            subjects.append(f"{place.name}--Maps")
        if kind == "city_plan" and rng.random() < 0.3:
            subjects.append(f"Streets--{place.name}")
        if attributes["relief"] != "none" and rng.random() < 0.2:
            subjects.append("Topography")
    if "sea_monster" in attributes["ornaments"] and rng.random() < 0.1:
        subjects.append("Sea monsters")
    if "ship" in attributes["ornaments"] and rng.random() < 0.05:
        subjects.append("Ships")
    return subjects


def _formats(rng: np.random.Generator, attributes: dict[str, Any]) -> list[str]:
    kind = attributes["kind"]
    formats = ["map"]
    if kind == "nautical_chart" and rng.random() < 0.7:
        formats.append("nautical chart")
    if kind == "birds_eye_view":
        formats = ["view"] if rng.random() < 0.5 else ["map", "view"]
    if kind == "city_plan" and rng.random() < 0.4:
        formats.append("city plan")
    if attributes["colour_scheme"] == "blueprint" and rng.random() < 0.5:
        formats.append("blueprint")
    return formats


def build_record(index: int, attributes: dict[str, Any], rng: np.random.Generator) -> MapRecord:
    """The catalogue record of synthetic map number ``index`` (1-based) with these attributes."""
    kind, language = attributes["kind"], attributes["language"]
    place, where = _place(rng, kind)
    templates = list(TITLE_TEMPLATES[language][kind])
    special = (
        HEMISPHERE_TITLES if attributes.get("projection") == "hemispheres" else MERCATOR_TITLES
    )
    if kind == "world_map" and language in special:
        templates += [special[language]] * 2
    title = str(_pick(rng, templates)).format(place=place.name)
    date, year_start, year_end = _display_date(rng, attributes["year"])
    year = attributes["year"]
    active = [name for name, first, last in CARTOGRAPHERS[language] if first <= year <= last]
    contributor = str(_pick(rng, active or [name for name, _, _ in CARTOGRAPHERS[language]]))
    collections = [COLLECTIONS[kind]]
    if attributes["year"] < 1800 and rng.random() < 0.5:
        collections.append("Early Maps")
    description = (
        f"{str(_pick(rng, ['Shows', 'Depicts', 'Covers']))} "
        f"{place.name if place.name != 'World' else 'the world'}"
    )
    if kind == "city_plan" and rng.random() < 0.5:
        description += " with streets, wards and public buildings"
    if kind == "nautical_chart" and rng.random() < 0.4:
        description += " with harbours, shoals and anchorages"
    slug = f"{index:05d}"
    return MapRecord(
        id=f"demo:{slug}",
        source="demo",
        title=title,
        description=description + ".",
        notes=_notes(rng, attributes),
        subjects=_subjects(rng, attributes, place),
        formats=_formats(rng, attributes),
        places=[place],
        contributors=[contributor],
        publisher=contributor if rng.random() < 0.5 else None,
        languages=[LANGUAGE_NAMES[language]],
        call_number=(
            f"G{3200 + 10 * (index % 97)} {attributes['year']} .{contributor[0]}{index % 9 + 1}"
        ),
        collections=collections,
        date=date,
        year_start=year_start,
        year_end=year_end,
        extent=_extent(where),
        image=ImageRef(
            url=f"images/demo-{slug}.png", width=attributes["width"], height=attributes["height"]
        ),
        rights="No known restrictions (synthetic demo map).",
        raw={"generator": "indexer.synthetic", "index": index},
    )
