"""The writer: RFC 7946 GeoJSON, GeoPackage and CSV, atomic and byte-for-byte reproducible.

Hand-made frames sit in Old Trafford so every rule can be checked without ../shared; the
Trafford LSOAs from ../shared add a real layer (skipped, with the reason, when it is absent).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import time
import warnings
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from conftest import shared
from nbhood_cli.errors import NbhoodError
from nbhood_cli.io import write as write_mod
from nbhood_cli.io.read import load_layer, read_layer
from nbhood_cli.io.write import geojson_text, write_layer

X0, Y0 = 381_000.0, 396_000.0  # Old Trafford in British National Grid metres


def _square(x, y, size):
    """A square drawn clockwise, the opposite of what RFC 7946 asks for exteriors."""
    return [(x, y), (x, y + size), (x + size, y + size), (x + size, y), (x, y)]


def polygons() -> gpd.GeoDataFrame:
    """A polygon with a hole, a multipolygon (one part holed) and a plain polygon."""
    hole = list(reversed(_square(X0 + 400, Y0 + 400, 200)))  # counter-clockwise: also wrong
    holed = Polygon(_square(X0, Y0, 1000), [hole])
    multi = MultiPolygon([
        Polygon(_square(X0 + 2000, Y0, 800), [list(reversed(_square(X0 + 2200, Y0 + 200, 100)))]),
        Polygon(_square(X0 + 3000, Y0, 300)),
    ])
    plain = Polygon([(X0, Y0 + 2000), (X0 + 500, Y0 + 2000), (X0 + 250, Y0 + 2400)])  # CCW
    return gpd.GeoDataFrame(
        {"name": ["Old Trafford", "Stretford", "Gorse Hill"],
         "population": np.array([12_001, 9_876, 5_432], dtype=np.int64),
         "share": np.array([0.25, np.nan, 1 / 3]),
         "flag": np.array([True, False, True])},
        geometry=[holed, multi, plain], crs="EPSG:27700")


def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["p1", "p2", "p3"], "kind": ["gp", "pharmacy", None]},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 1234.5678, Y0 + 987.6543),
                  Point(X0 - 500, Y0 + 3000)],
        crs="EPSG:27700")


def mixed() -> gpd.GeoDataFrame:
    """Awkward values: numpy scalars, NaN/NA/NaT, -0.0, and the geometry column mid-frame."""
    frame = pd.concat([polygons()[["name", "geometry"]], points()[["geometry"]]],
                      ignore_index=True)
    frame["int64"] = np.arange(6, dtype=np.int64) - 2
    frame["int32"] = np.arange(6, dtype=np.int32)
    frame["float32"] = np.array([0.5, 1.5, np.nan, 2.0, -0.0, 4.25], dtype=np.float32)
    frame["float64"] = [1.25, np.nan, -0.0, 1e-7, 1e16, 2.0]
    frame["nullable"] = pd.array([1, None, 3, None, 5, 6], dtype="Int64")
    frame["when"] = pd.to_datetime(["2021-03-21", None, "2024-06-30", None, None, None])
    frame["flag"] = np.array([True, False, True, False, True, False])
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:27700")
    return frame[["name", "int64", "geometry", "int32", "float32", "float64", "nullable",
                  "when", "flag"]]


@pytest.fixture(scope="module")
def trafford_lsoa():
    return read_layer(shared("trafford", "lsoa.geojson")).frame


def _features(text: str) -> list[dict]:
    return json.loads(text)["features"]


def _signed_area(ring) -> float:
    """Shoelace: positive for counter-clockwise rings in x/y (lon/lat) order."""
    xy = np.asarray(ring)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _polygons_of(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


def _geometry_numbers(text: str) -> list[str]:
    """Every number token in the geometry members of the written text."""
    tokens = []
    for line in text.splitlines():
        if '"geometry":' in line:
            tokens += re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
                                 line[line.index('"geometry":'):])
    return tokens


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# --- RFC 7946 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [polygons, points, mixed])
def test_no_crs_member_and_one_feature_per_line(make):
    text = geojson_text(make())
    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    assert all("crs" not in f for f in data["features"])
    assert '"crs"' not in text
    lines = text.splitlines()
    assert lines[0] == '{"type":"FeatureCollection","features":['
    assert lines[-1] == "]}"
    assert len(lines) == len(data["features"]) + 2
    assert text.endswith("\n") and "\r" not in text


def test_coordinates_have_at_most_six_decimals():
    text = geojson_text(mixed())
    numbers = _geometry_numbers(text)
    assert numbers
    assert not re.search(r"\d\.\d{7,}", "".join(f" {n}" for n in numbers))
    assert all(Decimal(n).as_tuple().exponent >= -6 for n in numbers), numbers


def test_real_layer_has_at_most_six_decimals(trafford_lsoa):
    text = geojson_text(trafford_lsoa)
    geometry_text = " ".join(line[line.index('"geometry":'):] for line in text.splitlines()
                             if '"geometry":' in line)
    assert re.findall(r"\d\.\d{7,}", geometry_text) == []
    assert re.findall(r"\d[eE]", geometry_text) == []


def test_exteriors_counter_clockwise_holes_clockwise():
    frame = polygons()
    # The input is the wrong way round everywhere the writer must act.
    assert not frame.geometry.iloc[0].exterior.is_ccw
    assert frame.geometry.iloc[0].interiors[0].is_ccw
    features = _features(geojson_text(frame))
    rings = 0
    for feature in features:
        for polygon in _polygons_of(feature["geometry"]):
            exterior, *holes = polygon
            assert _signed_area(exterior) > 0
            assert LinearRing(exterior).is_ccw
            for hole in holes:
                assert _signed_area(hole) < 0
                assert not LinearRing(hole).is_ccw
            rings += 1 + len(holes)
    assert rings == 6  # holed polygon 2, multipolygon 2 + 1, triangle 1: nothing lost


def test_real_layer_ring_orientation(trafford_lsoa):
    features = _features(geojson_text(trafford_lsoa))
    assert len(features) == 139
    for feature in features:
        for exterior, *holes in _polygons_of(feature["geometry"]):
            assert _signed_area(exterior) > 0, feature["properties"]
            assert all(_signed_area(h) < 0 for h in holes), feature["properties"]


def test_community_area_with_hole_orientation():
    """Old Trafford (CA01) leaves out the cricket ground: its hole must come out clockwise."""
    layer = load_layer(shared("trafford", "community_areas.geojson"))
    features = _features(geojson_text(layer.frame))
    [ca01] = [f for f in features if f["properties"]["id"] == "CA01"]
    [[exterior, hole]] = _polygons_of(ca01["geometry"])
    assert _signed_area(exterior) > 0 > _signed_area(hole)


def test_lon_lat_order_hand_made():
    [feature] = _features(geojson_text(points().iloc[[0]]))
    lon, lat = feature["geometry"]["coordinates"]
    assert lon == pytest.approx(-2.2876, abs=1e-3)
    assert lat == pytest.approx(53.4605, abs=1e-3)


def test_lon_lat_order_trafford(trafford_lsoa):
    features = _features(geojson_text(trafford_lsoa))
    xy = np.array([pt for f in features for polygon in _polygons_of(f["geometry"])
                   for ring in polygon for pt in ring])
    assert xy.shape[1] == 2
    assert -2.5 < xy[:, 0].min() < xy[:, 0].max() < -2.2   # longitude first, about -2.3
    assert 53.35 < xy[:, 1].min() < xy[:, 1].max() < 53.49  # latitude second, about 53.4


def test_properties_in_column_order_features_in_frame_order():
    frame = mixed()
    shuffled = frame.iloc[[4, 0, 5, 2, 1, 3]]  # index no longer 0..n: order is the frame's
    features = _features(geojson_text(shuffled))
    expected_columns = ["name", "int64", "int32", "float32", "float64", "nullable", "when",
                        "flag"]
    for feature in features:
        assert list(feature) == ["type", "properties", "geometry"]
        assert list(feature["properties"]) == expected_columns
    assert [f["properties"]["int64"] for f in features] == [2, -2, 3, 0, -1, 1]


def test_geometry_column_with_another_name():
    frame = points().rename_geometry("geom")
    features = _features(geojson_text(frame))
    assert [list(f["properties"]) for f in features] == [["id", "kind"]] * 3
    assert features[0]["geometry"]["type"] == "Point"


def test_missing_geometry_is_null():
    frame = points()
    frame.loc[1, "geometry"] = None
    features = _features(geojson_text(frame))
    assert features[1]["geometry"] is None
    assert features[0]["geometry"]["type"] == "Point"


def test_values_become_plain_json():
    features = _features(geojson_text(mixed()))
    props = [f["properties"] for f in features]
    assert [p["int64"] for p in props] == [-2, -1, 0, 1, 2, 3]
    assert all(type(p["int64"]) is int and type(p["int32"]) is int for p in props)
    assert [p["float32"] for p in props] == [0.5, 1.5, None, 2.0, 0.0, 4.25]
    assert [p["float64"] for p in props] == [1.25, None, 0.0, 1e-7, 1e16, 2.0]
    assert all(type(p["float64"]) in (float, type(None)) for p in props)
    assert [p["nullable"] for p in props] == [1, None, 3, None, 5, 6]
    assert [p["when"] for p in props][:3] == ["2021-03-21T00:00:00", None, "2024-06-30T00:00:00"]
    assert [p["flag"] for p in props] == [True, False, True, False, True, False]
    assert props[1]["name"] == "Stretford"


def test_no_nan_and_no_negative_zero_in_text():
    frame = mixed()
    text = geojson_text(frame)
    assert "NaN" not in text and "Infinity" not in text
    assert not re.search(r"(?<![\w.])-0(?:\.0+)?(?![\d.eE])", text), text


def test_no_negative_zero_coordinates_at_greenwich():
    """Longitudes that round to zero must come out as 0.0, never -0.0 (Greenwich runs
    through Greater London and Lincolnshire)."""
    frame = gpd.GeoDataFrame({"name": ["west", "east", "exact"]},
                             geometry=[Point(-0.0000004, 51.4779), Point(0.0000004, 51.4779),
                                       Point(-0.0, 51.4779)], crs="EPSG:4326")
    text = geojson_text(frame)
    assert "-0.0" not in text and "-0," not in text
    assert [f["geometry"]["coordinates"] for f in _features(text)] == [[0.0, 51.4779]] * 3


def test_wgs84_frame_is_written_as_is():
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(-2.2876286, 53.4604012)],
                             crs="EPSG:4326")
    [feature] = _features(geojson_text(frame))
    assert feature["geometry"]["coordinates"] == [-2.287629, 53.460401]


# --- reproducibility ----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [polygons, points, mixed])
def test_same_bytes_twice(tmp_path, make):
    write_layer(make(), tmp_path / "a.geojson")
    write_layer(make(), tmp_path / "b.geojson")
    assert (tmp_path / "a.geojson").read_bytes() == (tmp_path / "b.geojson").read_bytes()
    assert (tmp_path / "a.geojson").read_text(encoding="utf-8") == geojson_text(make())


@pytest.mark.parametrize("make", [polygons, points])
def test_same_bytes_from_a_frame_read_back(tmp_path, make):
    first, second = tmp_path / "first.geojson", tmp_path / "second.geojson"
    write_layer(make(), first)
    write_layer(read_layer(first).frame, second)
    assert first.read_bytes() == second.read_bytes()


def test_same_bytes_real_layer_read_back(tmp_path, trafford_lsoa):
    first, second = tmp_path / "first.geojson", tmp_path / "second.geojson"
    write_layer(trafford_lsoa, first)
    write_layer(read_layer(first).frame, second)
    assert first.read_bytes() == second.read_bytes()


def test_real_layer_keeps_its_published_coordinates(trafford_lsoa):
    """The source is already 6-dp WGS84: BNG and back again must give the same numbers."""
    source = json.loads(shared("trafford", "lsoa.geojson").read_text(encoding="utf-8"))
    ours = _features(geojson_text(trafford_lsoa))
    assert [f["properties"] for f in ours] == [f["properties"] for f in source["features"]]
    for mine, theirs in zip(ours, source["features"], strict=True):
        # Exactly the published numbers, vertex for vertex: the round trip through metres
        # (~1e-9° of error) never tips a 6-dp rounding, and the rings were already RFC 7946.
        assert mine["geometry"] == theirs["geometry"], mine["properties"]


# --- safety ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv"])
def test_refuses_to_overwrite(tmp_path, suffix):
    target = tmp_path / f"out{suffix}"
    write_layer(polygons(), target)
    before = target.read_bytes()
    with pytest.raises(NbhoodError, match="already exists; pass --overwrite"):
        write_layer(points(), target)
    assert target.read_bytes() == before
    write_layer(polygons().iloc[:1], target, overwrite=True)
    assert target.read_bytes() != before
    assert _leftovers(tmp_path, {target.name}) == []


def test_unknown_suffix_and_missing_folder(tmp_path):
    with pytest.raises(NbhoodError, match="cannot write .shp"):
        write_layer(points(), tmp_path / "out.shp")
    with pytest.raises(NbhoodError, match="no such folder"):
        write_layer(points(), tmp_path / "missing" / "out.geojson")
    assert _leftovers(tmp_path, set()) == []


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv"])
def test_no_temporary_files_after_success(tmp_path, suffix):
    write_layer(polygons(), tmp_path / f"out{suffix}")
    assert _leftovers(tmp_path, {f"out{suffix}"}) == []


def test_failure_in_geojson_text_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "out.geojson"
    write_layer(polygons(), target)
    before = target.read_bytes()

    def broken(frame):
        raise RuntimeError("boom while building the text")

    monkeypatch.setattr(write_mod, "geojson_text", broken)
    with pytest.raises(RuntimeError, match="boom"):
        write_layer(points(), target, overwrite=True)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {target.name}) == []
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*"))


def test_failure_half_way_through_writing_keeps_previous_file(tmp_path, monkeypatch):
    """A disk that fills up mid-write: half a temporary file exists, then the error."""
    target = tmp_path / "out.geojson"
    write_layer(polygons(), target)
    before = target.read_bytes()
    real_write_text = Path.write_text
    written = []

    def half_then_fail(self, data, *args, **kwargs):
        real_write_text(self, data[: len(data) // 2], *args, **kwargs)
        written.append(self)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_layer(points(), target, overwrite=True)
    monkeypatch.undo()
    assert written and written[0].parent == tmp_path and written[0] != target
    assert not written[0].exists()
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {target.name}) == []


def test_failure_after_gpkg_written_leaves_nothing(tmp_path, monkeypatch):
    import pyogrio

    target = tmp_path / "out.gpkg"
    real = pyogrio.write_dataframe

    def write_then_fail(frame, path, **kwargs):
        real(frame, path, **kwargs)
        raise RuntimeError("interrupted after the GeoPackage was written")

    monkeypatch.setattr(pyogrio, "write_dataframe", write_then_fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_layer(polygons(), target)
    assert not target.exists()
    assert _leftovers(tmp_path, set()) == []
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None


# --- GeoPackage ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [polygons, points])
def test_gpkg_reads_back_same_crs_and_geometries(tmp_path, make):
    import pyogrio

    frame = make()
    target = tmp_path / "layer.gpkg"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_layer(frame, target)
    # e.g. GDAL's "The filename extension should be 'gpkg' instead of 'tmp'"
    assert [str(w.message) for w in caught] == []
    # A GeoPackage layer has one declared type: Polygon and MultiPolygon mixed become Multi.
    declared = "MultiPolygon" if make is polygons else "Point"
    assert pyogrio.list_layers(target).tolist() == [["layer", declared]]
    back = gpd.read_file(target)
    assert back.crs.to_epsg() == 27700
    assert back.geometry.geom_equals(frame.geometry).all()
    for mine, theirs in zip(back.geometry, frame.geometry, strict=True):
        # Same vertices, bit for bit: a GeoPackage stores doubles.
        assert np.array_equal(shapely.get_coordinates(mine), shapely.get_coordinates(theirs))
    assert list(back.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(frame.drop(columns="geometry")),
                                  check_dtype=False)


def test_gpkg_real_layer(tmp_path, trafford_lsoa):
    target = tmp_path / "lsoa.gpkg"
    write_layer(trafford_lsoa, target)
    back = read_layer(target)
    assert back.source_crs == "EPSG:27700"
    assert back.findings == []
    assert back.frame.geometry.geom_equals_exact(trafford_lsoa.geometry, tolerance=0).all()
    assert back.frame.lsoa21cd.tolist() == trafford_lsoa.lsoa21cd.tolist()


def test_gpkg_same_bytes_twice(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_layer(polygons(), tmp_path / "a" / "town.gpkg")
    write_layer(polygons(), tmp_path / "b" / "town.gpkg")
    assert (tmp_path / "a" / "town.gpkg").read_bytes() == \
        (tmp_path / "b" / "town.gpkg").read_bytes()
    write_layer(polygons(), tmp_path / "a" / "town.gpkg", overwrite=True)
    assert (tmp_path / "a" / "town.gpkg").read_bytes() == \
        (tmp_path / "b" / "town.gpkg").read_bytes()


def _gpkg_dates(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT last_change FROM gpkg_contents")}


def test_gpkg_timestamp_is_fixed(tmp_path, monkeypatch):
    import pyogrio

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    write_layer(points(), tmp_path / "fixed.gpkg")
    assert _gpkg_dates(tmp_path / "fixed.gpkg") == {"1970-01-01T00:00:00.000Z"}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1616284800")  # Census day 2021
    write_layer(points(), tmp_path / "epoch.gpkg")
    assert _gpkg_dates(tmp_path / "epoch.gpkg") == {"2021-03-21T00:00:00.000Z"}
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # restored


# --- CSV ------------------------------------------------------------------------------------

def test_csv_writes_wkt(tmp_path):
    target = tmp_path / "points.csv"
    write_layer(points(), target)
    raw = target.read_bytes()
    assert b"\r" not in raw
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == "id,kind,wkt"
    assert lines[1] == "p1,gp,POINT (381010 396010)"
    assert lines[2] == "p2,pharmacy,POINT (382234.568 396987.654)"
    assert lines[3] == "p3,,POINT (380500 399000)"
    table = pd.read_csv(target)
    geoms = shapely.from_wkt(table.wkt.to_numpy())
    assert shapely.equals_exact(geoms, points().geometry.values, tolerance=1e-3).all()


def test_csv_polygons_keep_holes(tmp_path):
    target = tmp_path / "areas.csv"
    write_layer(polygons(), target)
    table = pd.read_csv(target)
    assert list(table.columns) == ["name", "population", "share", "flag", "wkt"]
    geoms = shapely.from_wkt(table.wkt.to_numpy())
    assert [g.geom_type for g in geoms] == ["Polygon", "MultiPolygon", "Polygon"]
    assert len(geoms[0].interiors) == 1
    assert shapely.equals_exact(geoms, polygons().geometry.values, tolerance=1e-3).all()


def test_csv_of_a_wgs84_frame_keeps_its_precision(tmp_path):
    """Three decimals are a millimetre in metres but ~70 m in degrees: WKT in a geographic
    CRS must keep GeoJSON's six decimals."""
    frame = points().to_crs("EPSG:4326")
    target = tmp_path / "wgs84.csv"
    write_layer(frame, target)
    geoms = shapely.from_wkt(pd.read_csv(target).wkt.to_numpy())
    assert shapely.equals_exact(geoms, frame.geometry.values, tolerance=1e-6).all()


# --- what GDAL makes of it ----------------------------------------------------------------------

def test_ogrinfo_reads_written_geojson(tmp_path, trafford_lsoa):
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("gdal-bin not installed (make test installs it)")
    target = tmp_path / "lsoa.geojson"
    write_layer(trafford_lsoa, target)
    done = subprocess.run([ogrinfo, "-ro", "-al", "-so", str(target)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    bad = [line for line in done.stderr.splitlines() if "Warning" in line or "ERROR" in line]
    assert bad == []
    assert "Feature Count: 139" in done.stdout
    assert 'ID["EPSG",4326]' in done.stdout and 'GEOGCRS["WGS 84"' in done.stdout
    assert "Geometry: Multi Polygon" in done.stdout
    extent = re.search(r"Extent: \((\S+), (\S+)\) - \((\S+), (\S+)\)", done.stdout)
    xmin, ymin, xmax, ymax = (float(v) for v in extent.groups())
    assert -2.5 < xmin < xmax < -2.2 and 53.3 < ymin < ymax < 53.5
    assert math.isclose(xmin, trafford_lsoa.to_crs(4326).total_bounds[0], abs_tol=1e-6)


# --- the array writer gives the bytes of the plain one ----------------------------------------

def reference_text(frame, precision: int = 6) -> str:
    """The writer as it first was, feature by feature (shapely ``mapping`` + ``json.dumps``):
    the array writer must give exactly these bytes."""
    wgs = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    geoms = shapely.orient_polygons(wgs.geometry.values, exterior_cw=False)

    def rounded(xy):
        out = np.round(xy, precision)
        out[out == 0] = 0.0
        return out

    geoms = shapely.transform(geoms, rounded)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    lines = []
    for row, geom in zip(wgs[columns].itertuples(index=False, name=None), geoms, strict=True):
        feature = {"type": "Feature",
                   "properties": {c: write_mod.json_value(v)
                                  for c, v in zip(columns, row, strict=True)},
                   "geometry": None if geom is None else shapely.geometry.mapping(geom)}
        lines.append(json.dumps(feature, ensure_ascii=False, allow_nan=False,
                                separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def greenwich() -> gpd.GeoDataFrame:
    """Coordinates Python prints with an exponent (|x| < 1e-4: 1.2e-05), in points and in a
    polygon's ring, next to plain ones."""
    return gpd.GeoDataFrame(
        {"n": range(5)},
        geometry=[Point(0.000012, 51.4779), Point(-0.00009, 51.4), Point(0.0001, 51.4),
                  Polygon([(-0.00005, 51.0), (0.1, 51.0), (0.1, 51.1), (-0.00005, 51.0)]),
                  MultiPolygon([Polygon([(0.2, 51.0), (0.3, 51.0), (0.3, 51.1)]),
                                Polygon([(0.5, 51.0), (0.000001, 51.0), (0.5, 51.1)])])],
        crs="EPSG:4326")


def awkward_shapes() -> gpd.GeoDataFrame:
    """Everything the array path leaves to the feature path, between ordinary shapes: lines,
    collections, empties, missing, 3D, multipoints, a bow-tie ring and a flat ring."""
    sq = _square(X0, Y0, 100)
    return gpd.GeoDataFrame({"n": range(11)}, geometry=[
        LineString([(X0, Y0), (X0 + 10, Y0 + 5)]),
        GeometryCollection([Point(X0, Y0), LineString([(X0, Y0), (X0 + 1, Y0 + 1)])]),
        Polygon(), Point(), None, Point(X0, Y0, 30.0), MultiPoint([(X0, Y0), (X0 + 1, Y0)]),
        Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10), (X0, Y0)]),
        Polygon([(X0, Y0), (X0 + 1, Y0), (X0 + 2, Y0), (X0, Y0)]),
        Polygon(sq), MultiPolygon([Polygon(sq), Polygon(_square(X0 + 500, Y0, 50))]),
    ], crs="EPSG:27700")


def extension_columns() -> gpd.GeoDataFrame:
    """pandas' own column types, text that JSON escapes, and floats at the edges."""
    return gpd.GeoDataFrame({
        "text": pd.array(["a", None, 'q"\\\n\té ½ "x"'], dtype="string"),
        "kind": pd.Categorical(["x", "y", None]),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "share": pd.array([1.5, None, -0.0], dtype="Float64"),
        "mixed": [1, "two", None],
        "unsigned": np.array([1, 2, 3], dtype=np.uint64),
        "half": np.array([0.1, -0.0, np.inf], dtype=np.float16),
        "big": [1e16, -1e-7, 123456789012345678.0],
    }, geometry=points().geometry, crs="EPSG:27700")


@pytest.mark.parametrize("make", [polygons, points, mixed, greenwich, awkward_shapes,
                                  extension_columns])
def test_same_bytes_as_feature_by_feature(make):
    frame = make()
    assert geojson_text(frame) == reference_text(frame)


def test_exponent_coordinates_written_as_python_writes_them():
    text = geojson_text(greenwich())
    assert "[1.2e-05,51.4779]" in text and "[-9e-05,51.4]" in text and "[0.0001,51.4]" in text
    assert "[1e-06,51.0]" in text


def test_same_bytes_at_five_decimals():
    frame = polygons()
    assert geojson_text(frame, precision=5) == reference_text(frame, precision=5)
    assert geojson_text(greenwich(), 5) == reference_text(greenwich(), 5)


def test_same_bytes_without_a_crs_and_far_from_lon_lat():
    """No CRS: written as it is; numbers that are not lon/lat take the feature path."""
    frame = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[
        Point(123456789.1234567, -5.5), Polygon([(0, 0), (1e10, 0), (1e10, 1), (0, 0)])])
    assert geojson_text(frame) == reference_text(frame)


def test_nan_coordinate_is_refused_as_before():
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(np.nan, 1.0)], crs="EPSG:4326")
    with pytest.raises(ValueError, match="Out of range float values"):
        reference_text(frame)
    with pytest.raises(ValueError, match="Out of range float values"):
        geojson_text(frame)


@pytest.mark.parametrize("name", ["lsoa.geojson", "oa.geojson", "wards.geojson",
                                  "community_areas.geojson", "community_assets.csv"])
def test_same_bytes_as_feature_by_feature_trafford(name):
    frame = read_layer(shared("trafford", name)).frame
    assert geojson_text(frame) == reference_text(frame)


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_same_bytes_as_feature_by_feature_random(data):
    """Random holed polygons, multipolygons and points with random values."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = data.draw(st.integers(1, 12))
    shapes = []
    for _ in range(n):
        x, y = rng.uniform(100_000, 650_000), rng.uniform(0, 650_000)
        blob = shapely.Point(x, y).buffer(rng.uniform(5, 3000), quad_segs=int(rng.integers(1, 9)))
        if rng.random() < 0.5:
            blob = blob.difference(shapely.Point(x, y).buffer(rng.uniform(1, 4)))
        if rng.random() < 0.3:
            blob = shapely.MultiPolygon([blob, shapely.box(x + 5000, y, x + 5100, y + 77.7)])
        shapes.append(blob if rng.random() < 0.8 else shapely.Point(x, y))
    values = data.draw(st.lists(st.one_of(st.none(), st.floats(), st.integers(-2**53, 2**53),
                                          st.text(max_size=8)), min_size=n, max_size=n))
    frame = gpd.GeoDataFrame({"v": pd.Series(values, dtype=object),
                              "x": rng.normal(size=n)}, geometry=shapes, crs="EPSG:27700")
    assert geojson_text(frame) == reference_text(frame)


# --- several layers at once -------------------------------------------------------------------

def test_layers_written_together_share_their_vertices():
    """Layers written together: the same bytes as one by one, from one vertex table that
    holds each distinct vertex once."""
    a, b = polygons(), polygons().iloc[[2, 0]]
    assert list(write_mod.geojson_texts([a, b, points()])) == \
        [geojson_text(a), geojson_text(b), geojson_text(points())]
    shapes = write_mod._share([write_mod._Shapes(f) for f in (a, b)], 6)
    assert shapes[0].table is shapes[1].table
    distinct = np.unique(shapely.get_coordinates(a.geometry.values), axis=0)
    assert len(shapes[0].table.lonlat) == len(distinct)


def test_write_layers(tmp_path):
    layers = {tmp_path / "a.geojson": polygons(), tmp_path / "b.geojson": points(),
              tmp_path / "c.csv": points(), tmp_path / "d.gpkg": polygons()}
    write_mod.write_layers(layers)
    (tmp_path / "one").mkdir()
    for path, frame in layers.items():
        write_layer(frame, tmp_path / "one" / path.name)
        assert path.read_bytes() == (tmp_path / "one" / path.name).read_bytes()


def test_write_layers_checks_every_target_first(tmp_path):
    (tmp_path / "b.geojson").write_text("keep")
    with pytest.raises(NbhoodError, match="b.geojson: already exists"):
        write_mod.write_layers({tmp_path / "a.geojson": polygons(),
                                tmp_path / "b.geojson": points()})
    assert _leftovers(tmp_path, {"b.geojson"}) == []
    assert (tmp_path / "b.geojson").read_text() == "keep"


# --- work in a child process ------------------------------------------------------------------

def _fail(error):
    raise error


def test_alongside_returns_the_child_result(tmp_path):
    def work(path):
        path.write_text("from the child")
        return {"notes": ["n"], "pid": os.getpid()}

    with write_mod.alongside(work, tmp_path / "f.txt") as wait:
        mine = os.getpid()
        value = wait()
    assert value["notes"] == ["n"] and value["pid"] != mine
    assert (tmp_path / "f.txt").read_text() == "from the child"


def test_alongside_raises_the_child_error():
    with pytest.raises(NbhoodError, match="a one-line error"):
        with write_mod.alongside(_fail, NbhoodError("a one-line error")) as wait:
            wait()


def test_alongside_error_that_does_not_pickle():
    class Local(Exception):
        pass

    with pytest.raises(RuntimeError, match="Local: cannot pickle me"):
        with write_mod.alongside(_fail, Local("cannot pickle me")) as wait:
            wait()


def test_alongside_child_that_dies():
    with pytest.raises(RuntimeError, match="stopped without a result"):
        with write_mod.alongside(os._exit, 3) as wait:
            wait()


def test_alongside_stops_the_child_when_the_block_fails(tmp_path):
    def slow(path):
        time.sleep(30)
        path.write_text("too late")

    start = time.perf_counter()
    with pytest.raises(ValueError, match="the block failed"):
        with write_mod.alongside(slow, tmp_path / "late.txt"):
            raise ValueError("the block failed")
    assert time.perf_counter() - start < 20
    assert not (tmp_path / "late.txt").exists()


def test_alongside_without_fork_uses_a_thread(monkeypatch):
    monkeypatch.delattr(os, "fork")
    with write_mod.alongside(os.getpid) as wait:
        assert wait() == os.getpid()


def test_overwrite_replaces_only_what_nbhood_wrote(tmp_path):
    """The marker lists what nbhood wrote; --overwrite replaces those (and whatever the new
    output rewrites) and refuses, naming it, anything else: a user's notes saved beside the
    layers, a link, a folder of the user's own. Nothing is moved when it refuses."""
    from nbhood_cli.io.write import MARKER, atomic_folder

    out = tmp_path / "out"
    with atomic_folder(out) as build:
        (build / "tables").mkdir()
        (build / "tables" / "a.csv").write_text("1\n")
        (build / "extra.csv").write_text("2\n")
    assert (out / MARKER).read_text().splitlines()[1:] == ["extra.csv", "tables", "tables/a.csv"]
    with atomic_folder(out, overwrite=True) as build:  # ours: extra.csv may go
        (build / "tables").mkdir()
        (build / "tables" / "a.csv").write_text("3\n")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "tables"]

    def refused(folder, strangers):
        with pytest.raises(NbhoodError) as caught, atomic_folder(folder, overwrite=True) as b:
            (b / "tables").mkdir()
            (b / "tables" / "a.csv").write_text("4\n")
        assert caught.value.message == (f"{folder}: holds {strangers}, which nbhood did not "
                                        "write there and this run would delete; move it or "
                                        "choose another folder for --out")

    (out / "tables" / "notes.qgz").write_text("a user's QGIS project\n")
    refused(out, "tables/notes.qgz")
    assert (out / "tables" / "notes.qgz").exists()
    assert (out / "tables" / "a.csv").read_text() == "3\n"
    (out / "tables" / "notes.qgz").unlink()
    (out / "link").symlink_to(tmp_path)
    refused(out, "link")
    (out / "link").unlink()

    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "tables").mkdir()
    (mine / "tables" / "a.csv").write_text("old\n")
    (mine / "sub" / "thesis.docx").write_text("years of work\n")
    refused(mine, "sub and 1 more")
    assert (mine / "sub" / "thesis.docx").read_text() == "years of work\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    shutil.rmtree(mine / "sub")
    with atomic_folder(mine, overwrite=True) as build:  # all rewritten: an old output, say
        (build / "tables").mkdir()
        (build / "tables" / "a.csv").write_text("new\n")
    assert (mine / "tables" / "a.csv").read_text() == "new\n" and (mine / MARKER).is_file()
