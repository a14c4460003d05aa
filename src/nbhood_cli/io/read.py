"""One reader for every command: any OGR vector file or a coordinate table, validated and
normalised into the working CRS.

``load_layer`` collects findings (repairs, warnings, errors) instead of stopping at the first,
so ``nbhood validate`` can list them all; ``read_layer`` is the strict form the other commands
use, raising on the first error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbhood_cli.errors import NbhoodError
from nbhood_cli.io.tables import TABLE_SUFFIXES, read_table

WORKING_CRS = "EPSG:27700"
BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
# England in British National Grid metres, padded 10 km: Scilly to Lowestoft, Lizard to Berwick.
ENGLAND_BNG = (70_000.0, 0.0, 665_000.0, 670_000.0)
# Lon/lat a swapped file would show for England: latitudes in x, longitudes in y.
_SWAPPED_X, _SWAPPED_Y = (49.0, 61.0), (-9.0, 3.0)

_LON = ("lon", "long", "longitude", "lng")
_LAT = ("lat", "latitude")
_EAST = ("easting", "eastings", "oseast1m", "x_coord")
_NORTH = ("northing", "northings", "osnrth1m", "y_coord")
_WKT = ("wkt", "geometry", "geom", "the_geom", "wkt_geom")
_ID_ONS = re.compile(r"^[a-z]{2,6}\d{2}cd$")  # lsoa21cd, wd23cd, lad24cd …
_ID_ONS_NAME = re.compile(r"^[a-z]{2,6}\d{2}nm$")  # lsoa21nm, wd23nm …
_WKT_START = re.compile(
    r"^\s*(SRID=\d+;)?\s*(MULTI)?(POINT|LINESTRING|POLYGON)|^\s*GEOMETRYCOLLECTION", re.I
)
_FAMILIES = {
    "Point": "point", "MultiPoint": "point",
    "LineString": "line", "MultiLineString": "line", "LinearRing": "line",
    "Polygon": "polygon", "MultiPolygon": "polygon",
    "GeometryCollection": "collection",
}


@dataclass
class Finding:
    """One thing the reader noticed: ``error`` stops a run, ``warning`` and ``repair`` do not."""

    level: str
    code: str
    message: str
    feature: str | None = None

    def as_dict(self) -> dict:
        return {"level": self.level, "code": self.code, "feature": self.feature,
                "message": self.message}


@dataclass
class Layer:
    """A layer read, checked and reprojected, with everything the reader decided about it."""

    frame: object  # geopandas.GeoDataFrame in the working CRS
    path: Path
    layer: str | None = None
    id_column: str | None = None
    source_crs: str | None = None
    encoding: str | None = None
    geometry_source: str | None = None  # e.g. "lon/lat columns lon, lat"
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level != "error"]

    labels: list[str] = field(default_factory=list)  # each feature's id, line or position


@dataclass
class ReadOptions:
    """The reading choices a user can make on the command line."""

    id_column: str | None = None
    counts: tuple[str, ...] = ()
    assume_crs: str | None = None
    crs: str = WORKING_CRS
    engine: str = "pyogrio"
    coords: tuple[str, str] | None = None  # (x column, y column)
    wkt: str | None = None
    postcodes: object = None  # a Postcodes lookup: fills coordinates a table lacks

    def __post_init__(self):
        """A wrong CRS name or a contradiction fails before any file is read, even when no
        file would have needed the option."""
        if self.assume_crs:
            _parse_crs(self.assume_crs, "--assume-crs")
        if self.crs != WORKING_CRS:
            working_crs(self.crs)
        if self.coords and self.wkt:
            raise NbhoodError("give one of --coords and --wkt: both say where a table's "
                              "geometry is")


class NoGeometry(NbhoodError):
    """A readable table with no coordinate or WKT columns: fine for counts, not for maps."""


CONTAINERS = {".gpkg", ".sqlite", ".xlsx", ".xlsm"}  # files holding several layers/sheets


@dataclass
class Source:
    """A spec as typed: ``PATH``, ``PATH:ID``, or for containers (and files holding several
    layers, such as a zip of shapefiles) ``PATH:LAYER[:ID]``."""

    path: Path
    layer: str | None = None
    id_column: str | None = None


def parse_source(spec: str | Path) -> Source:
    """Split a spec at the first prefix that is an existing file; the rest names a layer
    (GeoPackage, XLSX, or one of the layers of a multi-layer file) and/or the id column.
    A missing file keeps the whole spec as its path."""
    spec = str(spec)
    parts = spec.split(":")
    for i in range(1, len(parts) + 1):
        path = Path(":".join(parts[:i]))
        if path.is_file():  # not a folder: "d:v2/wards.geojson" is a path with a ':' in it
            given = [p for p in parts[i:] if p]
            rest = given + [None, None]
            if path.suffix.lower() in CONTAINERS or _names_a_layer(path, rest[0]):
                _at_most(spec, given, 2, "PATH:LAYER:ID")
                return Source(path, rest[0], rest[1])
            _at_most(spec, given, 1, "PATH:ID")
            return Source(path, None, rest[0])
    return Source(Path(spec))


def _at_most(spec: str, given: list, n: int, form: str) -> None:
    """``areas.gpkg:ca:id:x`` would drop ``:x`` unread: say so instead."""
    if len(given) > n:
        raise NbhoodError(f"{spec}: too many ':' parts after the file ({':'.join(given)}); "
                          f"write {form}")


def _names_a_layer(path: Path, name: str | None) -> bool:
    """``two_shp.zip:b_ca`` picks a layer, ``areas.zip:id`` an id column: only a file that
    holds several layers, one of them ``name``, is read as a container (no single-layer
    spec changes meaning)."""
    if name is None or path.suffix.lower() in _ONE_LAYER or path.is_dir():
        return False
    names = _layer_names(path) or []
    return len(names) > 1 and name in names


def _resolve(spec, options: ReadOptions | None):
    """The file, its layer, and options carrying the spec's id column unless --id overrides."""
    import dataclasses

    options = options or ReadOptions()
    source = parse_source(spec)
    if source.id_column and not options.id_column:
        options = dataclasses.replace(options, id_column=source.id_column)
    return options, source.path, source.layer


def read_layer(spec: str | Path, options: ReadOptions | None = None) -> Layer:
    """Read strictly: any error-level finding raises, naming the file and the feature."""
    layer = load_layer(spec, options)
    errors = layer.errors
    if errors:
        more = f" (and {len(errors) - 1} more: run nbhood validate)" if len(errors) > 1 else ""
        raise NbhoodError(f"{errors[0].message}{more}")
    return layer


def load_layer(spec: str | Path, options: ReadOptions | None = None) -> Layer:
    """Read, check and normalise a layer, collecting findings; raise only when unreadable."""
    options, path, sublayer = _resolve(spec, options)
    check_file(path)
    layer = Layer(frame=None, path=path, layer=sublayer)
    if path.suffix.lower() in TABLE_SUFFIXES:
        frame = _read_coordinate_table(path, sublayer, options, layer)
    else:
        frame = _read_vector(path, sublayer, options)
    if len(frame) == 0:
        raise NbhoodError(f"{path}: the layer has no features; check you picked the right file "
                          "or layer")
    frame = _label(frame, path, options, layer)
    frame = _apply_crs(frame, path, options, layer)
    frame = _check_geometry(frame, path, layer)
    _check_ids(frame, path, layer)
    for column in options.counts:
        frame = _check_count(frame, path, column, layer)
    frame = _to_working_crs(frame, path, options)
    _check_england(frame, path, layer)
    frame = frame.reset_index(drop=True)
    layer.labels = frame.pop("_nbhood_label").tolist()
    layer.frame = frame
    return layer


# --- files ---------------------------------------------------------------------------------

_MAGIC = [
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database", {".gpkg", ".sqlite", ".db"}),
    (b"PK\x03\x04", "a ZIP archive (zipped shapefile or XLSX)", {".zip", ".xlsx", ".xlsm"}),
    (b"PAR1", "a Parquet file", {".parquet", ".geoparquet"}),
    (b"fgb", "a FlatGeobuf file", {".fgb"}),
]
_JSON_SUFFIXES = {".geojson", ".json", ".geojsons", ".geojsonl"}
# formats that cannot hold more than one layer: no need to open them to ask
_ONE_LAYER = TABLE_SUFFIXES | _JSON_SUFFIXES | {".parquet", ".geoparquet", ".fgb", ".shp"}


_READ: set[Path] = set()  # the input files of this command: --overwrite must spare them


def files_read() -> set[Path]:
    """Every input file this command has opened, resolved."""
    return set(_READ)


def forget_files_read() -> None:
    _READ.clear()


def note_read(path: Path) -> None:
    """An input read outside the layer reader (a project file, a taxonomy)."""
    _READ.add(Path(path).resolve())


def check_file(path: Path) -> None:
    if not path.exists():
        raise NbhoodError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise NbhoodError(f"{path}: is a folder; give a file inside it")
    note_read(path)
    if path.stat().st_size == 0:
        raise NbhoodError(f"{path}: the file is empty (0 bytes); export it again")
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(512)
    for magic, what, suffixes in _MAGIC:
        if head.startswith(magic) and suffix not in suffixes:
            raise NbhoodError(f"{path}: the content is {what} but the name ends in "
                              f"{suffix or '(nothing)'}; rename the file with the right extension")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: Excel 97-2003 and kin
        raise NbhoodError(f"{path}: is an old Excel 97-2003 workbook (.xls) or another legacy "
                          "Office file, which nbhood cannot read; save it from Excel as .xlsx "
                          "or CSV UTF-8")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"[") and suffix in TABLE_SUFFIXES:
        raise NbhoodError(f"{path}: the content is JSON (GeoJSON?) but the name ends in {suffix}; "
                          "rename it to .geojson")
    if suffix in _JSON_SUFFIXES and stripped[:1] not in (b"{", b"["):
        raise NbhoodError(f"{path}: the name ends in {suffix} but the content is not JSON; "
                          "check the file or rename it with its real extension")
    for part in (".dbf", ".shx"):
        if suffix == ".shp" and not path.with_suffix(part).exists() and not \
                path.with_suffix(part.upper()).exists():
            raise NbhoodError(f"{path}: the shapefile's {part} part is missing; copy all of its "
                              "files (.shp, .shx, .dbf, .prj) together, or zip them")
    if suffix == ".shp" and len(head) >= 28:  # GDAL reads a cut-off .shp as features
        declared = int.from_bytes(head[24:28], "big") * 2  # without geometry: say it is cut
        size = path.stat().st_size
        if size < declared:
            raise NbhoodError(f"{path}: the shapefile is cut short ({size:,} of the {declared:,} "
                              "bytes its header declares); copy or export it again")


def _read_vector(path: Path, sublayer: str | None, options: ReadOptions):
    """Read an OGR vector source; GDAL failures become one line naming the file."""
    import geopandas as gpd
    import pyogrio

    sublayer = sublayer or _only_layer(path)
    kwargs = {"layer": sublayer} if sublayer else {}
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        elif options.engine == "fiona":
            frame = gpd.read_file(path, engine="fiona", **kwargs)
        else:
            frame = pyogrio.read_dataframe(path, use_arrow=True, **kwargs)
    except Exception as exc:  # pyogrio/fiona/GDAL raise a wide variety
        raise NbhoodError(vector_failure(path, sublayer, exc)) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise NoGeometry(f"{path}: has no geometry; give a vector layer with features")
    return frame


def vector_failure(path: Path, sublayer: str | None, exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    # pyogrio says "not recognized …"; fiona only "Failed to open dataset" (JSON: see below)
    fiona_unknown = text.startswith("Failed to open dataset") and \
        path.suffix.lower() not in _JSON_SUFFIXES
    if "not recognized as being in a supported file format" in text or fiona_unknown:
        return (f"{path}: not a vector format GDAL knows; give GeoJSON, GeoPackage, Shapefile "
                "(.shp or zipped), FlatGeobuf, GeoParquet, CSV or XLSX")
    layers = _layer_names(path) if sublayer else None
    if layers is not None and sublayer not in layers:  # same words whichever engine read it
        return f"{path}: no layer named {sublayer!r}; layers are: {', '.join(layers)}"
    if sublayer and "layer" in text.lower():
        return f"{path}: {text}; list the layers with: nbhood inspect {path}"
    if path.suffix.lower() in _JSON_SUFFIXES:
        try:
            json.loads(path.read_text(encoding="utf-8-sig", errors="replace"))
        except json.JSONDecodeError as err:
            return (f"{path}: broken JSON at line {err.lineno} column {err.colno} ({err.msg}); "
                    "the file may be truncated — export it again")
        return f"{path}: not a GeoJSON FeatureCollection GDAL can read ({text}); export it again"
    return f"{path}: cannot be read as a vector layer ({text}); check the format and extension"


def _layer_names(path: Path) -> list[str] | None:
    layers = _layers(path)
    return None if layers is None else [name for name, _ in layers]


def _layers(path: Path) -> list[tuple[str, str | None]] | None:
    """(name, geometry type or None for a plain table) per layer; None when unreadable."""
    import pyogrio

    try:
        return [(str(name), kind) for name, kind in pyogrio.list_layers(path)]
    except Exception:  # unreadable: fall back to GDAL's own words
        return None


def _only_layer(path: Path) -> str | None:
    """The layer to read when the spec names none. GDAL would silently take the first of
    several, so more than one layer with geometry is an error; a lone spatial layer beside
    plain tables (QGIS's layer_styles) is picked by name."""
    layers = None if path.suffix.lower() in _ONE_LAYER else _layers(path)
    if not layers or len(layers) < 2:
        return None
    spatial = [name for name, kind in layers if kind is not None]
    if len(spatial) == 1:
        return spatial[0]
    names = [name for name, _ in layers]
    raise NbhoodError(f"{path}: holds {len(names)} layers ({', '.join(names)}); pick one by adding "
                      f":LAYER to the path, e.g. {path}:{names[0]}")


# --- tables with coordinates ----------------------------------------------------------------

def _read_coordinate_table(path: Path, sheet: str | None, options: ReadOptions, layer: Layer):
    """A CSV/XLSX becomes points (or WKT shapes) using auto-detected or named columns."""
    import geopandas as gpd
    import shapely

    frame = _table_with_rows(path, sheet, layer)
    wkt_column = options.wkt or find_wkt(frame)
    if wkt_column:
        _require_columns(path, frame, [wkt_column])
        text = frame[wkt_column].astype("string")
        try:
            geoms = shapely.from_wkt(text.fillna("").replace("", None).to_numpy(object),
                                     on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise NbhoodError(f"{path}: column {wkt_column} holds text that is not WKT ({exc}); "
                              "fix the shapes or name another column with --wkt") from None
        layer.geometry_source = f"WKT column {wkt_column}"
        crs = options.assume_crs
        return gpd.GeoDataFrame(frame.drop(columns=[wkt_column]), geometry=geoms, crs=crs)
    if options.postcodes is not None:
        frame = _fill_from_postcodes(frame, path, options, layer)
    x_col, y_col, crs, kind = find_coords(frame, path, options)
    x = _coordinate_values(frame, path, x_col)
    y = _coordinate_values(frame, path, y_col)
    if crs == WGS84:
        _check_lonlat_columns(path, x, y, x_col, y_col, frame["_nbhood_row"].to_numpy())
    layer.geometry_source = f"{kind} columns {x_col}, {y_col}"
    missing = x.isna() | y.isna()
    geoms = shapely.points(x.fillna(0).to_numpy(), y.fillna(0).to_numpy())
    geoms[missing.to_numpy()] = None
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


_POSTCODE_COLUMNS = ("postcode", "pcds", "pcd", "post_code", "postal_code")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(text) -> str | None:
    """"m33 4nd" → "M33 4ND"; None when it is not a UK postcode shape."""
    if not isinstance(text, str):
        return None
    match = _POSTCODE.match(re.sub(r"\s+", "", text.upper()))
    return f"{match[1]} {match[2]}" if match else None


@dataclass
class Postcodes:
    """A postcode lookup (ONS Postcode Directory style): normalised postcode → x, y."""

    xy: object  # DataFrame indexed by postcode with columns x, y
    crs: str
    path: Path


def read_postcodes(path: str | Path) -> Postcodes:
    """Read pcds + lat/long (→ EPSG:4326) or easting/northing (→ EPSG:27700); rows without a
    grid reference (ONSPD's lat 99.999999) are left out."""
    import pandas as pd

    source = parse_source(path)
    check_file(source.path)
    frame = read_table(source.path, source.layer).frame
    column = _pick(frame, _POSTCODE_COLUMNS)
    if not column:
        raise NbhoodError(f"{source.path}: no postcode column (pcds or postcode); "
                          "give an ONS Postcode Directory style lookup")
    frame["_nbhood_row"] = ""
    x_col, y_col, crs, _ = find_coords(frame, source.path, ReadOptions())
    x = pd.to_numeric(frame[x_col], errors="coerce")
    y = pd.to_numeric(frame[y_col], errors="coerce")
    valid = x.notna() & y.notna() & ((y.abs() <= 90) if crs == WGS84 else (y > 0))
    codes = frame[column].map(normalise_postcode)
    xy = pd.DataFrame({"x": x, "y": y, "postcode": codes})[valid & codes.notna()]
    xy = xy.drop_duplicates("postcode").set_index("postcode")
    return Postcodes(xy, crs, source.path)


def _fill_from_postcodes(frame, path: Path, options: ReadOptions, layer: Layer):
    """Normalise the postcode column and give coordinates to rows that have none."""
    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    column = _pick(frame, _POSTCODE_COLUMNS)
    if not column:
        return frame
    lookup = options.postcodes
    codes = frame[column].map(normalise_postcode)
    frame[column] = codes.where(codes.notna(), frame[column])
    try:
        x_col, y_col, crs, _ = find_coords(frame, path, options)
    except NoGeometry:
        x_col, y_col = ("lon", "lat") if lookup.crs == WGS84 else ("easting", "northing")
        crs = lookup.crs
        frame[x_col], frame[y_col] = np.nan, np.nan
    x = pd.to_numeric(frame[x_col], errors="coerce")
    y = pd.to_numeric(frame[y_col], errors="coerce")
    need = (x.isna() | y.isna()) & codes.notna()
    found = lookup.xy.reindex(codes[need])
    hit = found["x"].notna().to_numpy()
    fx, fy = found["x"].to_numpy(), found["y"].to_numpy()
    if crs != lookup.crs:
        fx, fy = Transformer.from_crs(lookup.crs, crs, always_xy=True).transform(fx, fy)
    rows = frame.index[need]
    frame.loc[rows[hit], x_col] = np.asarray(fx)[hit]
    frame.loc[rows[hit], y_col] = np.asarray(fy)[hit]
    lost = frame.loc[rows[~hit]]
    if len(lost):
        shown = [f"{r} {c}" for r, c in zip(lost["_nbhood_row"], lost[column], strict=True)]
        layer.findings.append(Finding(
            "warning", "unmatched-postcode",
            f"{path}: {len(lost)} postcode(s) are not in {lookup.path} ({first_few(shown)}); "
            "those rows have no location and are dropped — check the postcodes or the lookup"))
    return frame


def _table_with_rows(path: Path, sheet: str | None, layer: Layer):
    """Read a table and remember each row's line (CSV) or row (XLSX) number for messages."""
    table = read_table(path, sheet)
    layer.encoding = table.encoding
    frame = table.frame
    frame["_nbhood_row"] = [f"{table.row_label} {n}" for n in range(2, len(frame) + 2)]
    return frame


def load_table(spec: str | Path, options: ReadOptions | None = None) -> Layer:
    """Read a table without geometry (population, deprivation): ids and counts checked."""
    options, path, sheet = _resolve(spec, options)
    check_file(path)
    layer = Layer(frame=None, path=path, layer=sheet)
    frame = _label(_table_with_rows(path, sheet, layer), path, options, layer)
    # A guessed key in a plain table may be a lookup's many-to-one code: warn, do not refuse.
    _check_ids(frame, path, layer, strict=bool(options.id_column))
    for column in options.counts:
        frame = _check_count(frame, path, column, layer)
    layer.labels = frame.pop("_nbhood_label").tolist()
    layer.frame = frame
    return layer


def find_wkt(frame) -> str | None:
    for name in frame.columns:
        if name.lower() in _WKT:
            sample = frame[name].dropna().astype(str).head(5)
            if len(sample) and sample.str.match(_WKT_START).all():
                return name
    return None


def _pick(frame, names) -> str | None:
    lower = {c.lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def find_coords(frame, path: Path, options: ReadOptions):
    """Return (x column, y column, CRS, description) from names or --coords."""
    if options.coords:
        x_col, y_col = options.coords
        _require_columns(path, frame, [x_col, y_col])
        lonlat = x_col.lower() in _LON or y_col.lower() in _LAT
        crs = options.assume_crs or (WGS84 if lonlat else BNG)
        return x_col, y_col, crs, "lon/lat" if crs == WGS84 else "x/y"
    lon, lat = _pick(frame, _LON), _pick(frame, _LAT)
    if lon and lat:
        return lon, lat, WGS84, "lon/lat"
    east, north = _pick(frame, _EAST), _pick(frame, _NORTH)
    if east and north:
        return east, north, options.assume_crs or BNG, "easting/northing"
    x, y = _pick(frame, ("x",)), _pick(frame, ("y",))
    if x and y:
        return x, y, options.assume_crs or BNG, "x/y"
    raise NoGeometry(
        f"{path}: no coordinate columns (looked for lat/lon, latitude/longitude, lat/lng, "
        "easting/northing, x/y or a WKT column); name them with --coords X,Y or --wkt COLUMN"
    )


def _require_columns(path: Path, frame, names) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        shown = ", ".join(c for c in frame.columns if not c.startswith("_nbhood"))
        raise NbhoodError(f"{path}: no column named {', '.join(missing)}; columns are: {shown}")


def _coordinate_values(frame, path: Path, column: str):
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame[column].notna() & values.isna()
    if bad.any():
        first = frame.index[bad][0]
        raise NbhoodError(
            f"{path}: {frame.at[first, '_nbhood_row']}: column {column} holds "
            f"{frame.at[first, column]!r}, not a number; fix the value (decimal point, no units)"
        )
    return values.astype(float)


def _check_lonlat_columns(path: Path, x, y, x_col: str, y_col: str, rows) -> None:
    """Catch the two classic coordinate mix-ups before they become points in the sea; a
    few typos among valid degrees are named by line instead (relabelling would be wrong)."""
    out = ((x.abs() > 180) | (y.abs() > 90)).to_numpy()
    if out.any() and out.sum() < (x.notna() & y.notna()).sum() / 2:
        shown = [f"{row} {x_col} {a:.6g} {y_col} {b:.6g}"
                 for row, a, b in zip(rows[out], x[out], y[out], strict=True)]
        raise NbhoodError(
            f"{path}: {len(shown)} row(s) have coordinates out of range for degrees "
            f"(±180 longitude, ±90 latitude): {first_few(shown)}; fix those values")
    if out.any():
        raise NbhoodError(
            f"{path}: columns {x_col}/{y_col} hold values up to {_short(x.abs().max())}, "
            f"{_short(y.abs().max())}, which are metres (British National Grid?), not degrees; "
            f"rename them easting/northing or pass --coords {x_col},{y_col} "
            "--assume-crs EPSG:27700"
        )
    if _looks_swapped(x.min(), x.max(), y.min(), y.max()):
        raise NbhoodError(
            f"{path}: columns {x_col} and {y_col} look swapped ({x_col} holds "
            f"{x.median():.4f}, a latitude; {y_col} holds {y.median():.4f}, a longitude); "
            f"swap the headers or pass --coords {y_col},{x_col}"
        )


def _short(number: float) -> str:
    """A coordinate for a one-line message: 451000 as is, a corrupt 1e300 not in 301 digits."""
    return f"{number:.0f}" if abs(number) < 1e9 else f"{number:.3g}"


def _looks_swapped(xmin, xmax, ymin, ymax) -> bool:
    return (_SWAPPED_X[0] <= xmin and xmax <= _SWAPPED_X[1]
            and _SWAPPED_Y[0] <= ymin and ymax <= _SWAPPED_Y[1])


# --- CRS ------------------------------------------------------------------------------------

def _apply_crs(frame, path: Path, options: ReadOptions, layer: Layer):
    """Take the CRS from the file; refuse to guess when there is none."""
    from pyproj import CRS

    if frame.crs is None:
        if not options.assume_crs:
            why = " (shapefile without .prj?)" if path.suffix.lower() in (".shp", ".zip") else ""
            raise NbhoodError(
                f"{path}: has no coordinate reference system{why}; "
                "pass --assume-crs EPSG:27700 for British National Grid metres or "
                "--assume-crs EPSG:4326 for lon/lat degrees"
            )
        frame = frame.set_crs(_parse_crs(options.assume_crs, "--assume-crs"))
        layer.findings.append(Finding("warning", "assumed-crs",
                                      f"{path}: no CRS in the file; assumed {options.assume_crs}"))
    crs = CRS.from_user_input(frame.crs)
    if crs.is_geographic:
        frame = _check_degrees(frame, path, options, layer)
    layer.source_crs = frame.crs.to_string()
    return frame


def _check_degrees(frame, path: Path, options: ReadOptions, layer: Layer):
    geoms = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty]
    if geoms.empty:
        return frame
    bounds = geoms.bounds
    out = ((bounds[["minx", "maxx"]].abs().max(axis=1) > 180)
           | (bounds[["miny", "maxy"]].abs().max(axis=1) > 90))
    if out.any() and out.sum() < len(geoms) / 2:  # a few corrupt vertices, not a metric file
        shown = [f"{frame.at[i, '_nbhood_label']} reaches {_short(max(abs(b.minx), abs(b.maxx)))}, "
                 f"{_short(max(abs(b.miny), abs(b.maxy)))}" for i, b in bounds[out].iterrows()]
        raise NbhoodError(
            f"{path}: {len(shown)} feature(s) have coordinates out of range for degrees "
            f"(±180 longitude, ±90 latitude): {first_few(shown)}; fix those vertices")
    xmin, ymin, xmax, ymax = geoms.total_bounds
    if out.any():
        assumed = options.assume_crs and _parse_crs(options.assume_crs, "--assume-crs")
        if assumed and assumed.is_projected:
            layer.findings.append(Finding(
                "warning", "assumed-crs",
                f"{path}: coordinates are metres although the file says degrees; "
                f"used {options.assume_crs} as told by --assume-crs"))
            return frame.set_crs(assumed, allow_override=True)
        raise NbhoodError(
            f"{path}: the file says lon/lat degrees but coordinates reach "
            f"{_short(max(abs(xmin), abs(xmax)))}, {_short(max(abs(ymin), abs(ymax)))} — metres "
            "(British National Grid?); re-export with the right CRS or pass "
            "--assume-crs EPSG:27700"
        )
    if _looks_swapped(xmin, xmax, ymin, ymax):
        raise NbhoodError(
            f"{path}: coordinates look swapped (latitude first: x runs {xmin:.2f}..{xmax:.2f}, "
            f"y {ymin:.2f}..{ymax:.2f}); the file must hold longitude first — re-export it "
            "with the axes in lon/lat order"
        )
    return frame


def _parse_crs(text: str, option: str):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise NbhoodError(f"{option} {text}: not a CRS pyproj knows; use a code such as "
                          "EPSG:27700") from None


def working_crs(text: str):
    """The CRS all measurement happens in; it must be projected (metres)."""
    crs = _parse_crs(text, "--crs")
    if not crs.is_projected:
        raise NbhoodError(f"--crs {text}: is not a projected CRS, so areas and distances would "
                          "be in degrees; use a metric CRS such as EPSG:27700")
    return crs


def _to_working_crs(frame, path: Path, options: ReadOptions):
    target = working_crs(options.crs)
    if frame.crs is not None and frame.crs.equals(target):  # the same CRS in other words:
        return frame.set_crs(target, allow_override=True)  # PROJ's no-op, without the copy
    try:
        return frame.to_crs(target)
    except Exception as exc:  # pyproj failures on exotic CRSs
        raise NbhoodError(f"{path}: cannot reproject to {options.crs} ({exc}); "
                          "check the file's CRS") from None


# --- features -------------------------------------------------------------------------------

def detect_id_column(frame) -> str | None:
    """The column that names features: the first unique one among ONS codes (lsoa21cd),
    id, *_id, *_code and code, in column order; else the first such column (so duplicates
    are reported rather than silently ignored)."""
    names = [c for c in frame.columns if not c.startswith("_nbhood") and c != "geometry"]
    candidates = [c for c in names if _looks_like_id(c.lower())]
    for name in candidates:
        values = frame[name]
        if values.notna().all() and values.is_unique:
            return name
    return candidates[0] if candidates else None


def detect_name_column(frame) -> str | None:
    """The column a person would read: name, an ONS name (lsoa21nm, wd23nm) or *_name."""
    names = [c for c in frame.columns if not c.startswith("_nbhood") and c != "geometry"]
    for test in (lambda n: n == "name", _ID_ONS_NAME.match, lambda n: n.endswith("_name")):
        found = next((c for c in names if test(c.lower())), None)
        if found:
            return found
    return None


def _looks_like_id(name: str) -> bool:
    return bool(_ID_ONS.match(name)) or name in ("id", "code") or name.endswith(("_id", "_code"))


def _label(frame, path: Path, options: ReadOptions, layer: Layer):
    """Give every feature a human name for messages: its id, else its line or position."""
    column = options.id_column
    if column:
        _require_columns(path, frame, [column])
    else:
        column = detect_id_column(frame)
    layer.id_column = column
    if "_nbhood_row" in frame:
        fallback = frame.pop("_nbhood_row")
    else:
        fallback = [f"feature {n}" for n in range(1, len(frame) + 1)]
    if column:
        ids = frame[column]
        frame["_nbhood_label"] = [str(v) if v == v and v is not None else str(f)
                                  for v, f in zip(ids.tolist(), fallback, strict=True)]
    else:
        frame["_nbhood_label"] = list(fallback)
    return frame


def _check_ids(frame, path: Path, layer: Layer, strict: bool = True) -> None:
    column = layer.id_column
    if not column:
        return
    ids = frame[column]
    missing = frame.loc[ids.isna(), "_nbhood_label"].tolist()
    if missing:
        layer.findings.append(Finding(
            "error", "missing-id",
            f"{path}: {len(missing)} feature(s) have no {column} ({first_few(missing)}); "
            f"fill in {column} or pick another id column with --id", missing[0]))
    counts = ids.dropna().astype(str).value_counts()
    dupes = sorted(counts[counts > 1].index)
    if dupes:
        layer.findings.append(Finding(
            "error" if strict else "warning", "duplicate-id",
            f"{path}: {column} is not unique: {first_few(dupes)} appear more than once; "
            f"make each {column} unique or pick another id column with --id", dupes[0]))


def _check_geometry(frame, path: Path, layer: Layer):
    """Drop empty shapes, refuse mixed kinds, repair invalid polygons and say which."""
    import shapely

    geoms = frame.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        dropped = frame.loc[empty, "_nbhood_label"].tolist()
        layer.findings.append(Finding(
            "warning", "empty-geometry",
            f"{path}: {len(dropped)} feature(s) without a geometry were dropped: "
            f"{first_few(dropped)}"))
        frame = frame.loc[~empty].copy()
        if frame.empty:
            raise NbhoodError(f"{path}: no feature has a geometry (or coordinates); "
                              "check the coordinate columns or export the shapes again")
    kinds = frame.geom_type.map(_FAMILIES).fillna("other")
    families = kinds.value_counts()
    if len(families) > 1:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(families.items()))
        layer.findings.append(Finding(
            "error", "mixed-geometry",
            f"{path}: mixes geometry kinds ({parts}); split it into one file per kind"))
        return frame
    if families.index[0] in ("collection", "other"):
        layer.findings.append(Finding(
            "error", "unsupported-geometry",
            f"{path}: holds {frame.geom_type.iloc[0]} geometries; give points or polygons"))
        return frame
    repaired = _repair(frame, path, layer, families.index[0])
    if repaired.empty:  # carrying on would write empty outputs that look like results
        collapsed = frame["_nbhood_label"].tolist()
        raise NbhoodError(
            f"{path}: every feature was dropped: {len(collapsed)} collapsed to nothing when "
            f"repaired (zero area or too few points: {first_few(collapsed)})"
            + (f" and {int(empty.sum())} had no geometry" if empty.any() else "")
            + "; fix the shapes and export the layer again")
    return repaired


def _repair(frame, path: Path, layer: Layer, family: str):
    import numpy as np
    import shapely

    from nbhood_cli.population import is_valid

    geoms = np.asarray(frame.geometry.values, dtype=object)
    # on the geometry threads; remembered for the analysis where the layer needs no
    # reprojection (reprojected geometries are new objects, tested again there)
    invalid = ~is_valid(geoms)
    if not invalid.any():
        return frame
    frame = frame.copy()
    reasons = shapely.is_valid_reason(geoms[invalid])
    repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    if family == "polygon":
        repaired = [_polygonal(g) for g in repaired]
    labels = frame.loc[invalid, "_nbhood_label"].tolist()
    for label, reason, geom in zip(labels, reasons, repaired, strict=True):
        layer.findings.append(Finding(
            "repair", "invalid-geometry",
            f"{path}: {label}: invalid geometry ({reason}) repaired with make_valid"
            + (" — nothing was left, so it was dropped" if geom is None or geom.is_empty else ""),
            label))
    frame.loc[invalid, frame.geometry.name] = repaired
    keep = ~(shapely.is_missing(frame.geometry.values) | shapely.is_empty(frame.geometry.values))
    return frame.loc[keep]


def _polygonal(geom):
    """Keep only the area of a repaired polygon: make_valid can leave stray lines or points."""
    import shapely

    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _check_count(frame, path: Path, column: str, layer: Layer):
    """A population/count column must be numbers, present and not negative."""
    _require_columns(path, frame, [column])
    values, problem = parse_counts(frame[column])
    if problem is not None:
        bad, what = problem
        rows = frame.loc[bad, "_nbhood_label"].tolist()
        layer.findings.append(Finding(
            "error", "bad-count",
            f"{path}: column {column} {what} in {len(rows)} feature(s) ({first_few(rows)}); "
            "fix the values (whole numbers of people, no text)", rows[0]))
        return frame
    frame = frame.copy()
    frame[column] = values
    return frame


def parse_counts(column):
    """Numbers from a count column, allowing "1,234"; (values, None) or (values, (mask, what)).
    A column the reader already typed as numbers is not converted through text (a million
    registration rows). Infinities ("inf", 1.5e400) and values whose total overflows are
    refused: a total of inf makes every conservation check meaningless."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column):
        values = column.astype(float)
    else:
        text = column.astype("string").str.replace(",", "", regex=False).str.strip()
        values = pd.to_numeric(text, errors="coerce").astype(float)
    for mask, what in (
        (column.isna(), "is empty"),
        (values.isna() & column.notna(), "is not a number"),
        (np.isinf(values), "is infinite (or too large to store)"),
        (values < 0, "is negative"),
    ):
        mask = mask.fillna(False).to_numpy(bool)
        if mask.any():
            return values, (mask, what)
    with np.errstate(over="ignore"):
        total = values.to_numpy().sum()
    if np.isinf(total):  # n values pass the largest float only if one is over max/n (max/2n:
        # room for rounding), so the mask is never empty
        mask = (values > np.finfo(float).max / (2 * len(values))).to_numpy(bool)
        return values, (mask, "is so large the column's total overflows")
    return values, None


def _check_england(frame, path: Path, layer: Layer) -> None:
    """Warn about features far from England: usually a wrong CRS or a typo'd coordinate."""
    import pyproj

    bounds = frame.to_crs(BNG).bounds if pyproj.CRS(frame.crs) != pyproj.CRS(BNG) \
        else frame.bounds
    xmin, ymin, xmax, ymax = ENGLAND_BNG
    outside = ((bounds.maxx < xmin) | (bounds.minx > xmax)
               | (bounds.maxy < ymin) | (bounds.miny > ymax)).to_numpy()
    if outside.any():
        labels = frame.loc[outside, "_nbhood_label"].tolist()
        layer.findings.append(Finding(
            "warning", "outside-england",
            f"{path}: {len(labels)} feature(s) lie outside England ({first_few(labels)}); "
            "check their coordinates and the CRS", labels[0]))


def first_few(items, n: int = 5) -> str:
    """``a, b, c … 7 more``: what a one-line message can show of a long list."""
    items = [str(i) for i in items]
    shown = ", ".join(items[:n])
    return shown + (f" … {len(items) - n} more" if len(items) > n else "")
