"""read → write → read gives back the same shapes and attributes, in every output format.

GeoJSON rounds to 6 decimals of a degree (≤ 0.11 m), so shapes are compared in EPSG:4326 with
``equals_exact(tolerance=1e-6)`` after orienting rings alike, and in EPSG:27700 with a Hausdorff
distance under 0.2 m. GeoPackage keeps the doubles, so it must give the same coordinates bit
for bit; CSV writes WKT in the working CRS to the millimetre.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from conftest import shared
from nbhood_cli.io.read import ReadOptions, read_layer
from nbhood_cli.io.write import write_layer

X0, Y0 = 381_000.0, 396_000.0  # Old Trafford, British National Grid metres
FORMATS = (".geojson", ".gpkg", ".csv")


# --- helpers ------------------------------------------------------------------------------------

def _plain(value, as_text_bool: bool):
    """A cell as a comparable Python value: missing → None, numpy → Python, 1 == 1.0."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool) and as_text_bool:
        return str(value)  # CSV has no booleans: True comes back as the text "True"
    return value


def records(frame, as_text_bool: bool = False) -> list[dict]:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    return [{c: _plain(v, as_text_bool) for c, v in zip(columns, row, strict=True)}
            for row in frame[columns].itertuples(index=False, name=None)]


def _canon(geoms):
    """Shapes with rings oriented alike and single polygons as one-part multipolygons (a
    GeoPackage layer promotes Polygon to MultiPolygon when the two are mixed).

    Not ``normalize``: it starts each ring at its lowest vertex, and where two vertices share
    a longitude (common in 6-dp data) a 1e-9° wobble picks a different start. The writers keep
    vertex order, and reversing a ring keeps its first vertex, so orienting is enough.
    """
    out = []
    for g in shapely.orient_polygons(np.asarray(geoms, dtype=object), exterior_cw=False):
        if g is not None and g.geom_type == "Polygon":
            g = MultiPolygon([g])
        out.append(g)
    return np.array(out, dtype=object)


def assert_same_shapes(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, exact: bool = False):
    assert len(got) == len(want)
    assert got.crs == want.crs == "EPSG:27700"
    a, b = got.geometry.values, want.geometry.values
    if exact:
        assert all(np.array_equal(shapely.get_coordinates(x), shapely.get_coordinates(y))
                   for x, y in zip(a, b, strict=True))
    wgs_a = _canon(got.to_crs("EPSG:4326").geometry.values)
    wgs_b = _canon(want.to_crs("EPSG:4326").geometry.values)
    same = shapely.equals_exact(wgs_a, wgs_b, tolerance=1e-6)
    assert same.all(), f"{(~same).sum()} shapes moved more than 1e-6°, first at {np.argmin(same)}"
    hausdorff = shapely.hausdorff_distance(a, b)
    assert hausdorff.max() < 0.2, hausdorff.max()


def roundtrip(frame: gpd.GeoDataFrame, folder: Path, suffix: str, name: str = "layer"):
    """Write ``frame`` and read it back with the project's strict reader."""
    target = folder / f"{name}{suffix}"
    write_layer(frame, target)
    options = ReadOptions(assume_crs="EPSG:27700") if suffix == ".csv" else ReadOptions()
    layer = read_layer(target, options)
    assert layer.errors == []
    return layer


def assert_roundtrip(frame, folder: Path, suffix: str):
    layer = roundtrip(frame, folder, suffix)
    assert layer.findings == []
    back = layer.frame
    assert_same_shapes(back, frame, exact=(suffix == ".gpkg"))
    columns = [c for c in frame.columns if c != frame.geometry.name]
    assert [c for c in back.columns if c != back.geometry.name] == columns
    as_text = suffix == ".csv"
    assert records(back, as_text) == records(frame, as_text)
    return back


# --- hand-made frames ---------------------------------------------------------------------------

def _square(x, y, size):
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]


def polygons() -> gpd.GeoDataFrame:
    holed = Polygon(_square(X0, Y0, 1000), [_square(X0 + 400, Y0 + 400, 200)])
    multi = MultiPolygon([
        Polygon(_square(X0 + 2000, Y0, 800), [_square(X0 + 2200, Y0 + 200, 100)]),
        Polygon(_square(X0 + 3000, Y0 + 0.5, 300.25)),
    ])
    triangle = Polygon([(X0 + 0.125, Y0 + 2000), (X0 + 500, Y0 + 2000.75), (X0 + 250, Y0 + 2400)])
    return gpd.GeoDataFrame(
        {"area_id": ["A1", "A2", "A3"], "name": ["Old Trafford", "Stretford", None],
         "population": np.array([12_001, 9_876, 5_432], dtype=np.int64),
         "share": [0.25, np.nan, 0.125]},
        geometry=[holed, multi, triangle], crs="EPSG:27700")


def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"asset_id": ["p1", "p2", "p3", "p4"], "kind": ["gp", "pharmacy", None, "library"],
         "score": [1.5, 2.0, np.nan, -3.25]},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 1234.567, Y0 + 987.654),
                  Point(X0 - 500, Y0 + 3000), Point(X0 + 0.001, Y0 - 0.001)],
        crs="EPSG:27700")


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("make", [polygons, points])
def test_hand_made(tmp_path, make, suffix):
    frame = make()
    back = assert_roundtrip(frame, tmp_path, suffix)
    if make is polygons:
        holed = back.geometry.iloc[0]
        holed = holed.geoms[0] if holed.geom_type == "MultiPolygon" else holed
        assert len(holed.interiors) == 1
        # 6-dp rounding moves a GeoJSON vertex up to ~0.1 m: a few m² on a km².
        assert back.geometry.iloc[0].area == pytest.approx(1000**2 - 200**2, rel=1e-4)
        assert back.geometry.iloc[1].geom_type == "MultiPolygon"
        assert len(back.geometry.iloc[1].geoms) == 2


@pytest.mark.parametrize("suffix", FORMATS)
def test_twice_round_is_stable(tmp_path, suffix):
    """What comes back once comes back the same the second time: no drift."""
    first = roundtrip(polygons(), tmp_path, suffix, "first").frame
    second = roundtrip(first, tmp_path, suffix, "second").frame
    assert_same_shapes(second, first, exact=(suffix == ".gpkg"))
    assert records(second) == records(first)


def test_mixed_kinds_geojson(tmp_path):
    """The writer itself takes polygons and points in one frame (the reader refuses them)."""
    frame = pd.concat([polygons(), points()], ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:27700")
    target = tmp_path / "mixed.geojson"
    write_layer(frame, target)
    back = gpd.read_file(target).to_crs("EPSG:27700")
    assert back.geom_type.tolist() == ["Polygon", "MultiPolygon", "Polygon"] + ["Point"] * 4
    assert_same_shapes(back, frame)


# --- real data --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trafford_lsoa():
    return read_layer(shared("trafford", "lsoa.geojson")).frame


@pytest.fixture(scope="module")
def sheffield_areas():
    return read_layer(shared("sheffield", "community_areas.geojson")).frame


@pytest.fixture(scope="module")
def leeds_assets():
    return read_layer(shared("leeds", "assets.csv")).frame


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", FORMATS)
def test_trafford_lsoa(tmp_path, trafford_lsoa, suffix):
    back = assert_roundtrip(trafford_lsoa, tmp_path, suffix)
    assert len(back) == 139
    assert back.area.sum() == pytest.approx(trafford_lsoa.area.sum(), rel=1e-6)


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", FORMATS)
def test_sheffield_community_areas(tmp_path, sheffield_areas, suffix):
    back = assert_roundtrip(sheffield_areas, tmp_path, suffix)
    assert len(back) == 147
    if suffix != ".csv":
        assert back.geometry_repaired.dtype == bool
    # SOURCES.md: the 147 areas cover 276.6 km².
    assert back.area.sum() / 1e6 == pytest.approx(276.6, abs=0.1)


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", FORMATS)
def test_leeds_assets(tmp_path, leeds_assets, suffix):
    back = assert_roundtrip(leeds_assets, tmp_path, suffix)
    assert len(back) == 5565
    # The lat/lon columns ride along as attributes and still agree with the points.
    wgs = back.to_crs("EPSG:4326")
    assert np.allclose(wgs.geometry.x, back.lon, atol=2e-6)
    assert np.allclose(wgs.geometry.y, back.lat, atol=2e-6)


# --- property: any small shape in England survives -------------------------------------------

# British National Grid over England. Eastings stop at 640 km (+ 5 km of polygon): east of
# about 1.92°E (E ≈ 650 km, North Sea) PROJ's OSGB36→WGS84 Helmert leaves its area of use and
# one direction falls back to the ballpark transform, so BNG→WGS84→BNG drifts ~130 m there.
# England's most easterly point, Lowestoft Ness, is at 1.76°E (E 655 km, N 293 km).
EASTING = st.floats(150_000, 640_000, allow_nan=False, allow_infinity=False)
NORTHING = st.floats(20_000, 650_000, allow_nan=False, allow_infinity=False)


@st.composite
def star_polygon(draw):
    """A simple polygon: vertices at increasing angles around a centre (star-shaped, so it
    cannot cross itself), 20 m to 5 km out, sometimes with a smaller hole in the middle."""
    cx, cy = draw(EASTING), draw(NORTHING)
    n = draw(st.integers(3, 12))
    turn = draw(st.floats(0, 2 * math.pi))
    radii = draw(st.lists(st.floats(20, 5_000), min_size=n, max_size=n))
    ring = [(cx + r * math.cos(turn + 2 * math.pi * i / n),
             cy + r * math.sin(turn + 2 * math.pi * i / n)) for i, r in enumerate(radii)]
    holes = []
    if draw(st.booleans()):
        size = draw(st.floats(1, 10))
        holes = [[(cx - size, cy - size), (cx + size, cy - size), (cx + size, cy + size),
                  (cx - size, cy + size)]]
    polygon = Polygon(ring, holes)
    # 6 decimals of a degree move a vertex up to ~0.1 m: keep shapes that survive that.
    assume(polygon.is_valid and shapely.minimum_clearance(polygon) > 1.0)
    return polygon


POINT = st.builds(Point, EASTING, NORTHING)
FRAMES = st.one_of(
    st.lists(star_polygon(), min_size=1, max_size=4),
    st.lists(POINT, min_size=1, max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes=FRAMES)
def test_property_write_read_within_a_millionth_of_a_degree(shapes):
    frame = gpd.GeoDataFrame({"n": np.arange(len(shapes), dtype=np.int64)},
                             geometry=shapes, crs="EPSG:27700")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "shapes.geojson"
        write_layer(frame, target)
        layer = read_layer(target)
    assert layer.findings == []
    back = layer.frame
    assert back.n.tolist() == frame.n.tolist()
    got = _canon(back.to_crs("EPSG:4326").geometry.values)
    want = _canon(frame.to_crs("EPSG:4326").geometry.values)
    assert shapely.equals_exact(got, want, tolerance=1e-6).all()
    assert shapely.hausdorff_distance(back.geometry.values, frame.geometry.values).max() < 0.2
