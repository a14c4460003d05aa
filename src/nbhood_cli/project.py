"""A ``nbhood map`` project: every input and threshold, from a TOML file and the command line.

Paths in the file are relative to the file; options given on the command line override it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from itertools import pairwise
from pathlib import Path

from nbhood_cli.errors import NbhoodError

INPUT_KEYS = ("community", "population", "counts", "join", "count", "method", "centroids",
              "weights", "assets", "postcodes", "deprivation", "taxonomy", "practices",
              "registrations", "footprint_method")
PATH_KEYS = ("community", "population", "counts", "centroids", "weights", "assets",
             "postcodes", "deprivation", "taxonomy", "practices", "registrations")
FOOTPRINT_METHODS = ("majority", "nearest")  # one footprint per PCN: a statutory layer
THRESHOLD_KEYS = ("min_share", "sliver_area", "sliver_pop", "severity", "bands",
                  "deprived_share", "fewest_share", "dedupe_distance")
OUTPUT_KEYS = ("out", "suppress_below", "attribution", "title")


@dataclass
class Project:
    """Everything a run needs; defaults are the documented ones."""

    community: str | None = None
    statutory: dict = field(default_factory=dict)  # name → PATH[:ID]
    population: str | None = None
    counts: str | None = None
    join: str | None = None
    count: str = "population"
    method: str = "areal"
    centroids: str | None = None
    weights: str | None = None
    assets: str | None = None
    postcodes: str | None = None
    deprivation: str | None = None
    taxonomy: str | None = None
    practices: str | None = None
    registrations: str | None = None  # GP registrations by LSOA: derive the pcn layer
    footprint_method: str | None = None  # majority (with registrations) or nearest
    min_share: float = 0.05
    sliver_area: float = 10_000.0
    sliver_pop: float = 50.0
    severity: tuple = (0.05, 0.2, 0.4)
    bands: tuple = (10_000, 30_000, 50_000, 250_000)
    deprived_share: float = 0.2
    fewest_share: float = 0.2
    dedupe_distance: float = 25.0
    out: str = "nbhood-out"
    suppress_below: int = 0
    attribution: list = field(default_factory=list)
    title: str = "Neighbourhoods"
    config: str | None = None  # the file it came from, if any
    sample_town: bool = False

    def empty(self) -> bool:
        """No data given: the sample town runs. A lone --deprivation (say) is not empty: it
        must not be dropped for the sample town's own file."""
        return not any([self.community, self.statutory, self.population, self.counts,
                        self.centroids, self.weights, self.assets, self.deprivation,
                        self.practices, self.registrations, self.footprint_method])


def read_toml(path: Path, hint: str) -> dict:
    """A TOML file's tables, or one line saying why not (``hint``: what to do if missing)."""
    from nbhood_cli.io.read import note_read

    if not path.exists():
        raise NbhoodError(f"{path}: no such file; {hint}")
    note_read(path)  # --overwrite must spare it
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NbhoodError(f"{path}: not valid TOML ({exc}); fix the file") from None


def load(path: Path) -> dict:
    """Settings from a project file, paths made relative to the working folder."""
    data = read_toml(path, "create one with nbhood init")
    known = {"inputs": INPUT_KEYS + ("statutory",), "thresholds": THRESHOLD_KEYS,
             "output": OUTPUT_KEYS}
    settings = {}
    for table, values in data.items():
        if table not in known or not isinstance(values, dict):
            raise NbhoodError(f"{path}: unknown table [{table}]; use [inputs], [thresholds] "
                              "and [output]")
        for key, value in values.items():
            if key not in known[table]:
                raise NbhoodError(f"{path}: [{table}] has no setting {key!r}; settings are: "
                                  f"{', '.join(known[table])}")
            settings[key] = value
    base = path.parent
    for key in PATH_KEYS:
        if key in settings:
            settings[key] = _relative(base, settings[key])
    if "statutory" in settings:
        if not isinstance(settings["statutory"], dict):
            raise NbhoodError(f"{path}: statutory must be a table: statutory = "
                              '{ ward = "wards.geojson:wd23cd" }')
        settings["statutory"] = {k: _relative(base, v) for k, v in settings["statutory"].items()}
    if "out" in settings:
        settings["out"] = _relative(base, settings["out"])
    settings["config"] = str(path)
    return settings


def _relative(base: Path, spec) -> str:
    """A path (maybe with :LAYER/:ID) in the file is relative to the file's folder."""
    spec = str(spec)
    return spec if Path(spec).is_absolute() or base == Path(".") else str(base / spec)


def build(config: dict, cli: dict) -> Project:
    """Project defaults, then the file, then every option the user actually typed."""
    names = {f.name for f in fields(Project)}
    merged = {k: v for k, v in config.items() if k in names}
    merged.update({k: v for k, v in cli.items() if k in names and v not in (None, [], {})})
    source = config.get("config") or "the command line"
    for key, n in (("severity", 3), ("bands", 4)):
        if key in merged:
            merged[key] = _increasing(merged[key], n, key, source)
    project = Project(**merged)
    _check(project, source)
    return project


def increasing(value, n: int) -> tuple | None:
    """``"0.05,0.2,0.4"`` or a list → n finite, non-negative, strictly increasing numbers (an
    edge equal to the next would leave a label or band empty); None if it is not that."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        numbers = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None
    ok = len(numbers) == n and all(math.isfinite(v) and v >= 0 for v in numbers) and \
        all(a < b for a, b in pairwise(numbers))
    return numbers if ok else None


def _increasing(value, n: int, key: str, source: str) -> tuple:
    numbers = increasing(value, n)
    if numbers is None:
        raise NbhoodError(f"{source}: {key} must be {n} increasing numbers, e.g. "
                          f"{', '.join(str(v) for v in getattr(Project(), key))}")
    return numbers


def _check(project: Project, source: str) -> None:
    """Types and ranges of the settings a file could get wrong."""
    from nbhood_cli.population import METHODS

    if project.method not in METHODS:
        raise NbhoodError(f"{source}: method {project.method!r} is not one of "
                          f"{', '.join(METHODS)}")
    if project.footprint_method not in (None, *FOOTPRINT_METHODS):
        raise NbhoodError(f"{source}: footprint_method {project.footprint_method!r} is not one "
                          f"of {', '.join(FOOTPRINT_METHODS)}")
    for key, low, high in (("min_share", 0, 1), ("deprived_share", 0, 1),
                           ("fewest_share", 0, 1), ("sliver_area", 0, None),
                           ("sliver_pop", 0, None), ("dedupe_distance", 0, None),
                           ("suppress_below", 0, None)):
        value = getattr(project, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low \
                or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise NbhoodError(f"{source}: {key} must be a number {limit}, not {value!r}")


EXAMPLE = '''# nbhood project file: `nbhood map --config nbhood.toml`.
# Paths are relative to this file. Options on the command line override these settings.

[inputs]
# Community-drawn areas, PATH[:ID column].
community = "community_areas.geojson:id"
# Statutory layers to reconcile against: name = "PATH[:ID column]".
statutory = { ward = "wards.geojson:wd23cd", pcn = "pcn_footprints.geojson:pcn_code" }
# Small areas (LSOA/OA polygons) and their population, joined by code.
population = "lsoa.geojson:lsoa21cd"
counts = "lsoa_population.csv"
join = "lsoa21cd"
count = "population"
# areal (default), centroid or dasymetric (needs weights = "POINTS[:COLUMN]").
method = "areal"
# Or derive the pcn layer from where GP patients live (NHS "Patients Registered at a GP
# Practice" LSOA file, LSOA codes as in population) with practices as PCN membership;
# footprint_method = "nearest" uses practice locations instead (an approximation).
# registrations = "gp-reg-pat-prac-lsoa-all.csv"
# practices = "gp_practices.csv:practice_code"
# Asset register (CSV/XLSX/GeoJSON/GPKG) and, optionally, a postcode lookup for rows
# without coordinates, an IMD-style deprivation table and your own taxonomy.
assets = "assets.csv"
# postcodes = "onspd.csv"
deprivation = "imd.csv"
# taxonomy = "my_taxonomy.toml"

[thresholds]
min_share = 0.05          # a unit holds part of an area from this share of its people
sliver_area = 10000       # m²: pieces smaller than this …
sliver_pop = 50           # … and with fewer people are digitising differences
severity = [0.05, 0.2, 0.4]                 # tension from which low / medium / high
bands = [10000, 30000, 50000, 250000]       # size band edges in people
deprived_share = 0.2      # double disadvantage: the most deprived fifth of areas …
fewest_share = 0.2        # … and the fifth with fewest assets per 1,000
dedupe_distance = 25      # metres; 0 turns de-duplication off

[output]
out = "nbhood-out"
suppress_below = 0        # publish counts below N as "<N" (disclosure control); 0 = off
title = "Neighbourhoods"
attribution = [
  "Contains public sector information licensed under the Open Government Licence v3.0.",
]
'''
