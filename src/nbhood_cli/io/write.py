"""Writing layers and tables: RFC 7946 GeoJSON, GeoPackage and CSV, atomically and
byte-for-byte reproducibly.

Councils diff and publish these files, so the same input must give the same bytes, and a
failed run must never leave half a file where a good one was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from nbhood_cli.errors import NbhoodError

GEOJSON_PRECISION = 6  # ~0.1 m: RFC 7946 §11.2 recommends no more
WRITE_SUFFIXES = {".geojson", ".json", ".gpkg", ".csv"}


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless told; make sure its folder exists."""
    if path.exists() and not overwrite:
        raise NbhoodError(f"{path}: already exists; pass --overwrite to replace it")
    if not path.parent.exists():
        raise NbhoodError(f"{path.parent}: no such folder; create it first")


@contextlib.contextmanager
def atomic_path(path: Path, overwrite: bool = False):
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    check_target(path, overwrite)
    # Keep the real extension last: GDAL warns about a GeoPackage not named *.gpkg.
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}",
                                   dir=path.parent)
    os.close(handle)
    tmp = Path(tmp)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path, overwrite: bool = False):
    """Build a whole output folder in a temporary sibling, then swap it in.

    A failed run leaves the previous folder exactly as it was.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise NbhoodError(f"{path}: already exists; pass --overwrite to replace it")
    if path.exists() and not path.is_dir():
        raise NbhoodError(f"{path}: is a file, not a folder; choose another --out")
    parent = path.resolve().parent
    if not parent.exists():
        raise NbhoodError(f"{parent}: no such folder; create it first")
    build = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(build, 0o777 & ~umask)  # mkdtemp's 0700 would hide results from colleagues
    try:
        yield build
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent))
            os.replace(path, old / path.name)
            os.replace(build, path)
            shutil.rmtree(old)
        else:
            os.replace(build, path)
    finally:
        if build.exists():
            shutil.rmtree(build)


def write_layer(frame, path: Path, overwrite: bool = False) -> None:
    """Write by extension: .geojson/.json (RFC 7946), .gpkg (working CRS) or .csv (WKT)."""
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise NbhoodError(f"{path}: cannot write {suffix or 'files without an extension'}; "
                          "use .geojson, .gpkg or .csv")
    with atomic_path(path, overwrite) as tmp:
        if suffix in (".geojson", ".json"):
            tmp.write_text(geojson_text(frame), encoding="utf-8")
        elif suffix == ".gpkg":
            _write_gpkg(frame, tmp, path.stem)
        else:
            tmp.write_text(csv_text(_with_wkt(frame)), encoding="utf-8")


def write_table(frame, path: Path, overwrite: bool = False) -> None:
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(csv_text(frame), encoding="utf-8")


def write_text(text: str, path: Path, overwrite: bool = False) -> None:
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")


# --- GeoJSON --------------------------------------------------------------------------------

def geojson_text(frame) -> str:
    """RFC 7946 text: WGS84 lon/lat, no ``crs`` member, 6 decimals, exterior rings
    counter-clockwise, one feature per line in frame order, properties in column order."""
    import shapely

    wgs = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    geoms = shapely.orient_polygons(wgs.geometry.values, exterior_cw=False)
    geoms = shapely.transform(geoms, _round)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    lines = []
    for row, geom in zip(wgs[columns].itertuples(index=False, name=None), geoms, strict=True):
        feature = {
            "type": "Feature",
            "properties": {c: json_value(v) for c, v in zip(columns, row, strict=True)},
            "geometry": None if geom is None else shapely.geometry.mapping(geom),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, allow_nan=False,
                                separators=(",", ":")))
    body = ",\n".join(lines)
    return '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"


def _round(xy):
    import numpy as np

    out = np.round(xy, GEOJSON_PRECISION)
    out[out == 0] = 0.0  # no "-0.0": same bytes on every platform
    return out


def json_value(value):
    """A property value as plain JSON: numpy scalars unwrapped, NaN/NaT → null, dates ISO."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return value + 0.0  # -0.0 → 0.0, as for coordinates
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, bool)):
        return value
    return str(value)


# --- tables ---------------------------------------------------------------------------------

def csv_text(frame) -> str:
    """CSV with ``\\n`` line ends, shortest round-trip floats and no index."""
    return frame.to_csv(index=False, lineterminator="\n")


def _with_wkt(frame):
    import shapely

    out = frame.drop(columns=[frame.geometry.name]).copy()
    # 3 decimals is a millimetre in metres but ~100 m in degrees: lon/lat keep GeoJSON's 6.
    geographic = frame.crs is not None and frame.crs.is_geographic
    precision = GEOJSON_PRECISION if geographic else 3
    out["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=precision, trim=True)
    return out


def _write_gpkg(frame, path: Path, layer: str) -> None:
    """GeoPackage in the frame's (working) CRS; a fixed timestamp keeps the bytes stable."""
    import pyogrio

    stamp = source_date()
    with gdal_config(OGR_CURRENT_DATE=stamp):
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")


def source_date() -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else a fixed epoch."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextlib.contextmanager
def gdal_config(**options):
    import pyogrio

    before = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)
