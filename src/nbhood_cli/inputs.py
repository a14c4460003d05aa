"""Reading the inputs the analytic commands share: small areas with their counts, and the
centroids or weight points a population method needs. I/O edge: reads files, checks joins,
returns frames and arrays for the pure modules."""

from __future__ import annotations

from dataclasses import dataclass

from nbhood_cli import console
from nbhood_cli.errors import NbhoodError
from nbhood_cli.io.read import ReadOptions, parse_source, read_layer


@dataclass
class SmallAreas:
    """Small areas in the working CRS with one count each, in frame order."""

    layer: object  # io.read.Layer
    frame: object  # GeoDataFrame with the count column
    counts: object  # numpy float array aligned with frame
    count: str


@dataclass
class MethodInputs:
    """What ``population.estimate`` needs beyond the small areas."""

    method: str = "areal"
    points: object = None
    weights: object = None


def read(spec: str, options: ReadOptions):
    """Read strictly and show every repair and warning."""
    layer = read_layer(spec, options)
    console.warn_findings(layer)
    return layer


def small_areas(source: str, counts: str | None, join: str | None, count: str,
                options: ReadOptions, option: str = "--source") -> SmallAreas:
    """Small-area polygons with their count: carried by the layer, or joined from a table;
    ``option`` names the layer in messages."""
    import dataclasses

    layer = read_polygons(source, dataclasses.replace(options, counts=() if counts else
                                                      (count,)), option)
    frame = join_counts(layer, counts, join, count) if counts else layer.frame
    _warn_repeated_shapes(layer)
    return SmallAreas(layer, frame, frame[count].to_numpy(float), count)


def _warn_repeated_shapes(layer) -> None:
    """Small areas tile the land: one shape under two codes counts its people twice (a row
    appended to the layer by hand). Exact repeats only: a check of every partial overlap would
    cost seconds at England scale."""
    import numpy as np
    import pandas as pd
    import shapely

    geoms = layer.frame.geometry.to_numpy()
    same_box = pd.DataFrame(shapely.bounds(geoms)).duplicated(keep=False).to_numpy()
    seen: dict = {}
    repeats = []
    for i in np.flatnonzero(same_box):  # only shapes with a twin box can be twins (≈ ms)
        wkb = shapely.to_wkb(shapely.normalize(geoms[i]))
        if wkb in seen:
            repeats.append(f"{layer.labels[i]} = {seen[wkb]}")
        seen.setdefault(wkb, layer.labels[i])
    if repeats:
        from nbhood_cli.io.read import first_few

        console.warn(f"{layer.path}: {len(repeats)} small area(s) repeat another's shape "
                     f"({first_few(repeats)}): their people are counted twice; remove the "
                     "copies")


def join_counts(layer, counts: str, join: str | None, count: str):
    """Attach the count column from a table by code; every small area must find its row."""
    from nbhood_cli.io.read import load_table

    join = join or layer.id_column
    if not join:
        raise NbhoodError(f"{layer.path}: say which column links it to {counts} "
                          "with --join COLUMN")
    if join not in layer.frame.columns:
        raise NbhoodError(f"{layer.path}: no column {join} to join counts on; columns are: "
                          f"{', '.join(c for c in layer.frame.columns if c != 'geometry')}")
    table = load_table(counts, ReadOptions(id_column=join, counts=(count,)))
    if table.errors:
        raise NbhoodError(table.errors[0].message)
    frame = layer.frame.drop(columns=[count], errors="ignore")
    codes = frame[join].astype(str)
    known = table.frame.assign(**{join: table.frame[join].astype(str)}).set_index(join)
    missing = sorted(set(codes) - set(known.index))
    if missing:
        raise NbhoodError(f"{counts}: no {count} for {len(missing)} small area(s) "
                          f"of {layer.path} ({', '.join(missing[:5])}); add their rows or "
                          "check the codes are the same vintage")
    extra = sorted(set(known.index) - set(codes))
    if extra:
        console.warn(f"{counts}: {len(extra)} row(s) match no small area and are "
                     f"ignored ({', '.join(extra[:5])})")
    frame[count] = codes.map(known[count]).to_numpy(float)
    return frame


def check_method(method: str, weights: str | None, centroids: str | None = None) -> None:
    """Refuse impossible option sets before any file is read; an input another method needs
    would be silently ignored, so it is refused too."""
    if method == "dasymetric" and not weights:
        raise NbhoodError("--method dasymetric needs --weights POINTS[:COLUMN]")
    if weights and method != "dasymetric":
        raise NbhoodError(f"--weights is for --method dasymetric, not {method}; add "
                          "--method dasymetric or leave out --weights")
    if centroids and method != "centroid":
        raise NbhoodError(f"--centroids is for --method centroid, not {method}; add "
                          "--method centroid or leave out --centroids")


def check_join(join: str | None, tables: dict) -> None:
    """--join names the code column that links the small areas to ``tables`` (option →
    value): with none of them given it would be ignored, so a table was forgotten."""
    if join and not any(tables.values()):
        raise NbhoodError(f"--join needs {' or '.join(tables)}: it names the code column that "
                          "links the small areas to that table; add it or leave out --join")


def check_shares(deprivation: str | None, deprived_share: float, fewest_share: float) -> None:
    """The double-disadvantage shares are used only with deprivation: changed without it,
    they would be ignored (shares typed equal to the defaults cannot be told apart)."""
    from nbhood_cli.assets import AssetThresholds

    if not deprivation and AssetThresholds(deprived_share, fewest_share) != AssetThresholds():
        raise NbhoodError("--deprived-share and --fewest-share find doubly disadvantaged areas, "
                          "which needs --deprivation; add it or leave them out")


def method_inputs(method: str, small: SmallAreas, centroids: str | None,
                  weights: str | None, options: ReadOptions) -> MethodInputs:
    """Centroid points (in small-area order) or weight points and values for a method."""
    check_method(method, weights, centroids)
    if method == "dasymetric":
        return MethodInputs(method, *weight_points(weights, options))
    if method == "centroid" and centroids:
        return MethodInputs(method, centroid_points(read(centroids, options), small))
    return MethodInputs(method)


def weight_points(spec: str, options: ReadOptions):
    """``POINTS[:COLUMN]``: points (or polygons' points on surface) and their weights."""
    import dataclasses

    import shapely

    source = parse_source(spec)
    path = f"{source.path}:{source.layer}" if source.layer else str(source.path)
    column = source.id_column
    layer = read(path, dataclasses.replace(options, counts=(column,) if column else ()))
    points = shapely.point_on_surface(layer.frame.geometry.values)
    values = layer.frame[column].to_numpy(float) if column else None
    return points, values


def centroid_points(layer, small: SmallAreas):
    """Centroids matched to the small areas by id, in small-area order."""
    _points(layer, "--centroids needs one point per small area (its population-weighted "
                   "centroid); leave it out to use each small area's point on surface")
    key = small.layer.id_column
    if not key or not layer.id_column:
        raise NbhoodError(f"{layer.path}: name the id columns (PATH:ID) of --source and "
                          "--centroids so each centroid finds its small area")
    by_code = layer.frame.set_index(layer.frame[layer.id_column].astype(str)).geometry
    codes = small.frame[key].astype(str)
    missing = sorted(set(codes) - set(by_code.index))
    if missing:
        raise NbhoodError(f"{layer.path}: no centroid for {len(missing)} small area(s) "
                          f"({', '.join(missing[:5])}); add them or leave out --centroids "
                          "to use each small area's point on surface")
    return by_code.reindex(codes).to_numpy()


def areas(spec: str, name: str, options: ReadOptions, option: str | None = None):
    """A layer of areas with the id of each feature (its id column, else 1, 2, 3…); ``option``
    names the layer in messages (default: ``--community`` or ``the NAME layer``)."""
    from nbhood_cli.analysis import Areas
    from nbhood_cli.io.read import detect_name_column

    option = option or ("--community" if name == "community" else f"the {name} layer")
    layer = read_polygons(spec, options, option)
    frame = layer.frame
    ids = frame[layer.id_column].tolist() if layer.id_column else list(range(1, len(frame) + 1))
    label = detect_name_column(frame)
    return Areas(frame, ids, name, frame[label].tolist() if label else None, layer)


def read_polygons(spec: str, options: ReadOptions, option: str):
    """Read a layer of areas: points or lines would silently hold nothing."""
    layer = read(spec, options)
    polygons(layer, f"{option} needs polygons")
    return layer


def polygons(layer, why: str) -> None:
    """Refuse points or lines where areas are needed; ``why`` ends the message."""
    kinds = set(layer.frame.geom_type) - {"Polygon", "MultiPolygon"}
    if kinds:
        raise NbhoodError(f"{layer.path}: holds {', '.join(sorted(kinds))} geometries; {why}")


def _points(layer, why: str) -> None:
    """Refuse anything but points, naming the first features that are not."""
    from nbhood_cli.io.read import first_few

    kinds = layer.frame.geom_type
    wrong = (kinds != "Point").to_numpy()
    if wrong.any():
        labels = [label for label, bad in zip(layer.labels, wrong, strict=True) if bad]
        raise NbhoodError(f"{layer.path}: holds {', '.join(sorted(set(kinds[wrong])))} "
                          f"geometries ({first_few(labels)}); {why}")


def warn_apart(totals: dict, path, layers=(), crosswalk=None) -> None:
    """Areas away from every small area (or a statutory layer away from the community areas)
    get nobody: true for the files given, but almost always a wrong file, place or CRS."""
    if totals["allocated"] == 0 < totals["source_total"]:
        console.warn(f"{path}: no area receives anyone although the small areas hold "
                     f"{totals['source_total']:,.0f} people; the layers do not overlap: check "
                     "they cover the same place (and their CRS)")
    for layer in layers:
        if crosswalk is not None and not (crosswalk["layer"] == layer.name).any():
            console.warn(f"{layer.layer.path}: no {layer.name} unit overlaps a community area; "
                         "check the layers cover the same place (and their CRS)")


def parse_statutory(spec: str, option: str = "--statutory") -> tuple[str, str]:
    """``NAME=PATH[:ID]`` → (name, ``PATH[:ID]``)."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not name or not rest:
        raise NbhoodError(f"{option} {spec}: write it as NAME=PATH[:ID], "
                          "e.g. ward=wards.geojson:wd23cd")
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise NbhoodError(f"{option} {spec}: the name {name!r} must be letters, digits or _ "
                          "(it becomes a file name and a column prefix)")
    return name, rest


def statutory_specs(specs: list[str]) -> list[tuple[str, str]]:
    """Parsed ``--statutory`` options, names unique (and not the reserved ``community``)."""
    parsed = [parse_statutory(s) for s in specs]
    names = [n for n, _ in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1 or n == "community"})
    if repeated:
        raise NbhoodError(f"--statutory: the name {repeated[0]} is used twice; "
                          "give each layer its own name")
    return parsed


def people(small: SmallAreas, extra: MethodInputs):
    from nbhood_cli.reconcile import People

    return People(small.frame, small.counts, extra.method, extra.points, extra.weights)


def deprivation(path: str, small: SmallAreas, join: str | None, score: str | None,
                decile: str | None):
    """Deprivation score and decile per small area (in small-area order), from an IMD-style
    table joined by code; every small area must find its row."""
    from nbhood_cli.io.read import load_table

    key = join or small.layer.id_column
    table = load_table(path, ReadOptions(id_column=key))
    if table.errors:
        raise NbhoodError(table.errors[0].message)
    frame = table.frame
    score = score or _column_like(frame, "score")
    decile = decile or _column_like(frame, "decile")
    if not score and not decile:
        raise NbhoodError(f"{path}: no deprivation score or decile column found; name them "
                          "with --score and --decile")
    for column in (score, decile):
        if column and column not in frame:
            raise NbhoodError(f"{path}: no column {column}; columns are: "
                              f"{', '.join(frame.columns)}")
    rows = frame.set_index(frame[key].astype(str))
    codes = small.frame[key].astype(str)
    missing = sorted(set(codes) - set(rows.index))
    if missing:
        raise NbhoodError(f"{path}: no row for {len(missing)} small area(s) "
                          f"({', '.join(missing[:5])}); check the codes are the same vintage")
    pick = rows.reindex(codes)
    return (_measure(path, pick[score], "--score", _SCORE) if score else None,
            _measure(path, pick[decile], "--decile", _DECILE) if decile else None)


# What each deprivation column must hold: (what a bad value is, is it bad?, the fix). Checked
# on the rows of the run's small areas only: a national table's other rows do not matter here.
_SCORE = ("is not a score of 0 or more", lambda v: v < 0,
         "give each small area its IMD score (0 or more)")
_DECILE = ("is not a whole number from 1 to 10", lambda v: (v < 1) | (v > 10) | (v % 1 != 0),
          "give each small area its IMD decile (1 = most deprived, 10 = least)")


def _measure(path: str, column, option: str, rule) -> object:
    """A deprivation column (indexed by code) as numbers, refusing blanks, text and values
    outside ``rule``: one would drop an area from the figures or turn its share negative."""
    import numpy as np
    import pandas as pd

    from nbhood_cli.io.read import first_few

    what, outside, fix = rule
    text = column.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype(float)
    for bad, problem in ((text.isna() | (text == ""), "is empty"),
                         (values.isna() | np.isinf(values), "is not a number"),
                         (outside(values), what)):
        bad = bad.fillna(False).to_numpy(bool)
        if bad.any():
            rows = [code if problem == "is empty" else f"{code}: {value}"
                    for code, value in zip(column.index[bad], text[bad], strict=True)]
            raise NbhoodError(f"{path}: column {column.name} {problem} for {int(bad.sum())} "
                              f"small area(s) ({first_few(rows)}); {fix}, or name the right "
                              f"column with {option}")
    return values.to_numpy(float)


def _column_like(frame, word: str) -> str | None:
    """``imd_score`` first, else the first column containing the word (IMD's overall
    measure comes before the domains in the published files)."""
    if f"imd_{word}" in frame:
        return f"imd_{word}"
    return next((c for c in frame.columns if word in c.lower()), None)
