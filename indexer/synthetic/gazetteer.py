"""A small gazetteer of real places for the synthetic catalogue: cities, regions and coasts with
approximate extents, so place facets and bounding-box filters have something real to bite on."""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    state: str | None
    country: str
    lat: float
    lon: float


class Region(NamedTuple):
    name: str
    country: str
    west: float
    south: float
    east: float
    north: float


CITIES: tuple[City, ...] = (
    City("Boston", "Massachusetts", "United States", 42.36, -71.06),
    City("New York", "New York", "United States", 40.71, -74.0),
    City("Philadelphia", "Pennsylvania", "United States", 39.95, -75.16),
    City("Baltimore", "Maryland", "United States", 39.29, -76.61),
    City("Chicago", "Illinois", "United States", 41.88, -87.63),
    City("San Francisco", "California", "United States", 37.77, -122.42),
    City("New Orleans", "Louisiana", "United States", 29.95, -90.07),
    City("Savannah", "Georgia", "United States", 32.08, -81.09),
    City("Charleston", "South Carolina", "United States", 32.78, -79.93),
    City("Richmond", "Virginia", "United States", 37.54, -77.44),
    City("London", None, "United Kingdom", 51.51, -0.13),
    City("Paris", None, "France", 48.86, 2.35),
    City("Amsterdam", None, "Netherlands", 52.37, 4.9),
    City("Venice", None, "Italy", 45.44, 12.33),
    City("Lisbon", None, "Portugal", 38.72, -9.14),
    City("Seville", None, "Spain", 37.39, -5.98),
    City("Vienna", None, "Austria", 48.21, 16.37),
    City("Quebec", "Quebec", "Canada", 46.81, -71.21),
    City("Mexico City", None, "Mexico", 19.43, -99.13),
    City("Havana", None, "Cuba", 23.11, -82.37),
)

REGIONS: tuple[Region, ...] = (
    Region("Virginia", "United States", -83.7, 36.5, -75.2, 39.5),
    Region("Pennsylvania", "United States", -80.5, 39.7, -74.7, 42.3),
    Region("New England", "United States", -73.7, 41.0, -66.9, 47.5),
    Region("Ohio", "United States", -84.8, 38.4, -80.5, 42.0),
    Region("California", "United States", -124.4, 32.5, -114.1, 42.0),
    Region("Texas", "United States", -106.6, 25.8, -93.5, 36.5),
    Region("Louisiana", "United States", -94.0, 28.9, -88.8, 33.0),
    Region("France", "France", -4.8, 42.3, 8.2, 51.1),
    Region("England", "United Kingdom", -5.7, 49.9, 1.8, 55.8),
    Region("Holland", "Netherlands", 3.3, 50.8, 7.2, 53.5),
    Region("Italy", "Italy", 6.6, 36.6, 18.5, 47.1),
    Region("Spain", "Spain", -9.3, 36.0, 3.3, 43.8),
    Region("Bohemia", "Czech Republic", 12.1, 48.6, 18.9, 51.1),
    Region("Mexico", "Mexico", -117.1, 14.5, -86.7, 32.7),
    Region("Japan", "Japan", 129.4, 31.0, 145.5, 45.5),
)

COASTS: tuple[Region, ...] = (
    Region("Chesapeake Bay", "United States", -77.3, 36.8, -75.6, 39.6),
    Region("Massachusetts Bay", "United States", -71.1, 41.9, -69.9, 42.7),
    Region("Gulf of Mexico", "United States", -97.9, 18.1, -80.4, 30.7),
    Region("English Channel", "United Kingdom", -5.7, 48.6, 1.9, 51.1),
    Region("North Sea", "Netherlands", -4.0, 51.0, 9.0, 61.0),
    Region("Caribbean Sea", "Cuba", -88.0, 9.0, -60.0, 22.0),
    Region("Mediterranean Sea", "Italy", -5.6, 30.0, 36.2, 45.8),
    Region("Bay of Biscay", "France", -8.0, 43.4, -1.2, 48.5),
    Region("Strait of Magellan", "Chile", -75.5, -54.9, -68.3, -52.3),
    Region("Coast of Guinea", "Ghana", -15.0, 0.0, 10.0, 11.0),
)
