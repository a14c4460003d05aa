"""``areal`` against tobler's area_interpolate (Knaap et al., PySAL), the reference
implementation of area-weighted interpolation: real layers in Trafford and Sheffield, and
random layouts with hypothesis.

tobler's extensive estimate with ``allocate_total=False`` is Σ_i P_i · area(i ∩ j) / area(i),
the same formula as ``areal``. tobler returns None (after a print) when the two layers' CRS
differ, so every comparison first asserts it returned a frame in the targets' CRS.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import shared
from nbhood_cli import population
from nbhood_cli.io import load_table, read_layer
from nbhood_cli.population import estimate

RTOL = 1e-6  # relative, on every target tobler gives people to
ATOL_ZERO = 1e-9  # absolute, where tobler gives a target no one
X, Y = 450_000, 350_000  # a BNG origin in England


def tobler_areal(sources, counts: dict, targets):
    """tobler's area-weighted estimate for each named count, with its warnings silenced."""
    from tobler.area_weighted import area_interpolate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = area_interpolate(sources.assign(**counts), targets,
                                  extensive_variables=list(counts), allocate_total=False)
    assert result is not None, "tobler returned None: the layers' CRS differ"
    assert result.crs == targets.crs == sources.crs
    assert len(result) == len(targets)
    return result


def assert_same(got, expected):
    """Relative agreement where tobler allocates people; absolute where it allocates none."""
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    assert got.shape == expected.shape
    assert np.isfinite(got).all() and np.isfinite(expected).all()
    zero = expected == 0
    np.testing.assert_allclose(got[zero], 0.0, rtol=0, atol=ATOL_ZERO)
    np.testing.assert_allclose(got[~zero], expected[~zero], rtol=RTOL, atol=0)


def counts_for(layer, table, key: str, column: str):
    frame = load_table(table).frame.set_index(key)[column]
    values = layer[key].map(frame).to_numpy(float)
    assert not np.isnan(values).any(), f"{table}: a small area has no {column}"
    return values


@pytest.fixture(scope="module")
def trafford_lsoa():
    lsoa = read_layer(shared("trafford", "lsoa.geojson")).frame
    counts = {
        "mid2024": counts_for(lsoa, shared("trafford", "lsoa_population.csv"), "lsoa21cd",
                              "population"),
        "census2021": counts_for(lsoa, shared("trafford", "lsoa_population_census2021.csv"),
                                 "lsoa21cd", "usual_residents"),
    }
    return lsoa, counts


@pytest.mark.realdata
@pytest.mark.parametrize("kernel", [False, True], ids=["geos", "kernel"])
@pytest.mark.parametrize("targets", ["wards.geojson", "community_areas.geojson"])
def test_areal_equals_tobler_trafford(trafford_lsoa, targets, kernel, monkeypatch):
    """LSOA 2021 (both count vintages) → May 2023 wards, and → the 25 synthetic community
    areas (overlapping, three drawn past the borough edge, CA09's bow-tie repaired); the
    intersections by GEOS's overlay (too few for the kernel by default) or the kernel."""
    if kernel:
        monkeypatch.setattr(population, "KERNEL_MIN", 0)
    lsoa, counts = trafford_lsoa
    layer = read_layer(shared("trafford", targets))
    if targets == "community_areas.geojson":
        assert [f.feature for f in layer.findings if f.code == "invalid-geometry"] == ["CA09"]
    zones = layer.frame
    assert zones.is_valid.all()
    expected = tobler_areal(lsoa, counts, zones)
    for name, values in counts.items():
        got = estimate(lsoa, values, zones, "areal").areas["population"]
        assert_same(got, expected[name])


@pytest.mark.realdata
def test_output_areas_add_up_to_their_lsoas_with_no_predicate(monkeypatch):
    """Census 2021 OAs → LSOAs (ONS BGC: the OAs nest exactly, edge for edge). Every OA is
    proven inside its LSOA by edge chains before any predicate runs (``_homes``): each LSOA
    gets whole OAs, so its estimate is a whole number, every OA counts once, and it is within
    ONS's own LSOA count but for Census disclosure control (OA and LSOA counts are perturbed
    separately: up to 7 apart here) — and equal to tobler's."""
    from nbhood_cli import population

    oa = read_layer(shared("trafford", "oa.geojson")).frame
    residents = counts_for(oa, shared("trafford", "oa_population_census2021.csv"), "oa21cd",
                           "usual_residents")
    lsoa = read_layer(shared("trafford", "lsoa.geojson")).frame
    ons = counts_for(lsoa, shared("trafford", "lsoa_population_census2021.csv"), "lsoa21cd",
                     "usual_residents")
    asked, real = [], population._classify
    monkeypatch.setattr(population, "_classify",
                        lambda src, tgt, i, j: asked.append(len(i)) or real(src, tgt, i, j))
    got = estimate(oa, residents, lsoa, "areal")
    assert sum(asked) == 0
    people = got.areas["population"].to_numpy()
    np.testing.assert_allclose(people, np.round(people), rtol=0, atol=1e-9)
    assert got.areas["n_sources"].sum() == len(oa) == 738
    assert people.sum() == pytest.approx(residents.sum(), rel=1e-12)
    assert got.areas["split_source_share"].eq(0).all()
    assert np.abs(people - ons).max() <= 10
    assert_same(got.areas["population"], tobler_areal(oa, {"r": residents}, lsoa)["r"])


@pytest.mark.realdata
@pytest.mark.parametrize("kernel", [False, True], ids=["geos", "kernel"])
def test_areal_equals_tobler_sheffield(kernel, monkeypatch):
    """Sheffield's 343 LSOAs (20 m reconstruction) → its 147 community-drawn neighbourhoods,
    the intersections by GEOS's overlay or by the kernel."""
    if kernel:
        monkeypatch.setattr(population, "KERNEL_MIN", 0)
    lsoa = read_layer(shared("sheffield", "lsoa_20m_reconstructed.geojson")).frame
    residents = counts_for(lsoa, shared("sheffield", "lsoa_population_census2021.csv"),
                           "lsoa21cd", "usual_residents")
    areas = read_layer(shared("sheffield", "community_areas.geojson")).frame
    assert len(areas) == 147
    expected = tobler_areal(lsoa, {"residents": residents}, areas)
    got = estimate(lsoa, residents, areas, "areal").areas["population"]
    assert_same(got, expected["residents"])
    assert (expected["residents"] > 0).sum() > 140  # a real test, not zeros against zeros


@st.composite
def polygons(draw, n_min: int, n_max: int):
    """Random axis-aligned rectangles and triangles (integer metres, ≥ 1 m² each) in a
    2 km square of British National Grid; they may overlap, touch or lie apart."""
    shapes = []
    for _ in range(draw(st.integers(n_min, n_max))):
        if draw(st.booleans()):
            x0, y0 = draw(st.integers(0, 1800)), draw(st.integers(0, 1800))
            w, h = draw(st.integers(1, 600)), draw(st.integers(1, 600))
            shape = shapely.box(X + x0, Y + y0, X + x0 + w, Y + y0 + h)
        else:
            corners = [(X + draw(st.integers(0, 2000)), Y + draw(st.integers(0, 2000)))
                       for _ in range(3)]
            shape = shapely.Polygon(corners)
            assume(shape.area >= 1.0)
        shapes.append(shape)
    return gpd.GeoDataFrame(geometry=shapes, crs=27700)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources=polygons(1, 8), targets=polygons(1, 6),
       data=st.data())
def test_areal_equals_tobler_random(sources, targets, data):
    counts = np.array(data.draw(st.lists(st.integers(0, 5000), min_size=len(sources),
                                         max_size=len(sources))), dtype=float)
    expected = tobler_areal(sources, {"people": counts}, targets)
    got = estimate(sources, counts, targets, "areal").areas["population"]
    assert_same(got, expected["people"])


def test_tobler_crs_mismatch_is_caught():
    """The guard above is needed: tobler answers None, not an error, on a CRS mismatch."""
    from tobler.area_weighted import area_interpolate

    square = shapely.box(X, Y, X + 10, Y + 10)
    sources = gpd.GeoDataFrame({"people": [1.0]}, geometry=[square], crs=27700)
    targets = gpd.GeoDataFrame(geometry=[square], crs=3857)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert area_interpolate(sources, targets, extensive_variables=["people"],
                                allocate_total=False) is None
