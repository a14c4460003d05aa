"""Crosswalk, best fit and gaps on a hand-computed layout, and the real Trafford layers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import trafford_layer, trafford_lsoa
from nbhood_cli.reconcile import People, best_fit, crosswalk, gaps

X, Y = 450_000, 350_000


def strip(x0, x1):
    return shapely.box(X + x0, Y, X + x1, Y + 100)


def frame(*geoms):
    return gpd.GeoDataFrame(geometry=list(geoms), crs=27700)


# Four 100 m squares in a row with 100, 200, 300 and 400 people.
SOURCES = frame(*(strip(i * 100, i * 100 + 100) for i in range(4)))
PEOPLE = People(SOURCES, np.array([100.0, 200.0, 300.0, 400.0]))
WARDS = frame(strip(0, 200), strip(200, 400))
COMMUNITY = frame(strip(50, 250), strip(300, 400), strip(240, 320))
IDS, WARD_IDS = ["A", "B", "C"], ["W1", "W2"]


@pytest.fixture(scope="module")
def trafford():
    """Trafford's LSOAs (mid-2024 counts), synthetic community areas and May 2023 wards."""
    lsoa, counts = trafford_lsoa()
    community = trafford_layer("community_areas.geojson")
    wards = trafford_layer("wards.geojson")
    return lambda method="areal": (People(lsoa, counts, method), community, wards)


def overlaps_of(community):
    from nbhood_cli.population import faces

    land = faces(community)
    return land[land["claims"] >= 2].reset_index(drop=True)


def _walk():
    return crosswalk(COMMUNITY, IDS, WARDS, WARD_IDS, "ward", PEOPLE,
                     PEOPLE.of(COMMUNITY), PEOPLE.of(WARDS))


def test_people_of_hand_computed():
    assert PEOPLE.of(COMMUNITY).tolist() == pytest.approx([50 + 200 + 150, 400, 180 + 80])


def test_crosswalk_pieces_and_two_way_shares():
    walk = _walk()
    rows = [(r.community_id, r.unit_id, round(r.area_m2), round(r.population, 6))
            for r in walk.itertuples()]
    assert rows == [("A", "W1", 15_000, 250.0), ("A", "W2", 5_000, 150.0),
                    ("B", "W2", 10_000, 400.0), ("C", "W2", 8_000, 260.0)]
    a1 = walk.iloc[0]
    assert a1.share_of_community == pytest.approx(250 / 400)
    assert a1.share_of_unit == pytest.approx(250 / 300)
    assert a1.area_share_of_community == pytest.approx(0.75)
    assert walk.geometry.area.round().tolist() == [15_000, 5_000, 10_000, 8_000]


def test_best_fit_and_outside_share():
    fits = best_fit(_walk(), IDS, "ward")
    assert fits["best_fit"].tolist() == ["W1", "W2", "W2"]
    assert fits["fit"].tolist() == pytest.approx([0.625, 1.0, 1.0])
    assert fits["outside_share"].tolist() == pytest.approx([0, 0, 0])
    # A community area half outside the layer: its people there are in no unit.
    outside = frame(strip(350, 450))
    walk = crosswalk(outside, ["D"], WARDS, WARD_IDS, "ward", PEOPLE, PEOPLE.of(outside),
                     PEOPLE.of(WARDS))
    assert best_fit(walk, ["D"], "ward")["outside_share"].tolist() == pytest.approx([0.0])
    # …and with people beyond the layer (a fifth square east of the wards):
    people = People(frame(*SOURCES.geometry, strip(400, 500)),
                    np.array([100.0, 200.0, 300.0, 400.0, 1000.0]))
    walk = crosswalk(outside, ["D"], WARDS, WARD_IDS, "ward", people, people.of(outside),
                     people.of(WARDS))
    row = best_fit(walk, ["D"], "ward").iloc[0]
    assert row["fit"] == pytest.approx(200 / 700)
    assert row["outside_share"] == pytest.approx(500 / 700)


def test_gaps_per_unit():
    found = gaps(COMMUNITY, WARDS, WARD_IDS, _walk(), "ward", PEOPLE, PEOPLE.of(WARDS),
                 overlaps_of(COMMUNITY))
    assert found["unit_id"].tolist() == ["W1", "W2"]
    assert found["area_m2"].tolist() == pytest.approx([5_000, 0])
    assert found["population"].tolist() == pytest.approx([50, 0])
    assert found["covered_share"].tolist() == pytest.approx([250 / 300, 1.0])


def test_centroid_pieces_add_up_to_each_community_area():
    people = People(SOURCES, PEOPLE.counts, method="centroid")
    walk = crosswalk(COMMUNITY, IDS, WARDS, WARD_IDS, "ward", people, people.of(COMMUNITY),
                     people.of(WARDS))
    by_area = walk.groupby("community_id")["population"].sum()
    assert by_area.reindex(IDS).fillna(0).tolist() == pytest.approx(
        people.of(COMMUNITY).tolist())


def test_trafford_pieces_conserve_each_community_area(trafford):
    people, community, wards = trafford()
    c_pop, w_pop = people.of(community), people.of(wards)
    walk = crosswalk(community, community["id"], wards, wards["wd23cd"], "ward", people,
                     c_pop, w_pop)
    fits = best_fit(walk, community["id"], "ward")
    inside = walk.groupby("community")["population"].sum().reindex(range(25)).fillna(0)
    # Pieces + people outside Trafford's wards = the community area, to 1e-9.
    np.testing.assert_allclose(inside + fits["outside_share"] * c_pop, c_pop, rtol=1e-9)
    # SOURCES.md: Sale intersects 9 May 2023 wards; every area intersects 1 to 9.
    per_area = walk.groupby("community_id")["unit_id"].nunique()
    names = dict(zip(community["id"], community["name"], strict=True))
    assert per_area.idxmax() == "CA12" and names["CA12"] == "Sale" and per_area.max() == 9
    assert per_area.min() >= 1
    # Only the three areas drawn past the borough have people outside every ward: those in
    # the strip where the separately generalised LSOA and ward outlines differ (< 1 %).
    outside = fits[fits["outside_share"] > 0]
    assert {names[i] for i in outside["community_id"]} == {"Firswood", "Partington",
                                                           "Hale Barns"}
    assert outside["outside_share"].max() < 0.01


def test_gaps_match_the_naive_difference_and_keep_untouched_units_whole():
    wards = frame(strip(0, 200), strip(200, 400), strip(400, 500))
    ids = ["W1", "W2", "W3"]
    walk = crosswalk(COMMUNITY, IDS, wards, ids, "ward", PEOPLE, PEOPLE.of(COMMUNITY),
                     PEOPLE.of(wards))
    found = gaps(COMMUNITY, wards, ids, walk, "ward", PEOPLE, PEOPLE.of(wards),
                 overlaps_of(COMMUNITY))
    naive = shapely.difference(wards.geometry.values,
                               shapely.union_all(COMMUNITY.geometry.values))
    assert shapely.equals(found.geometry.values[:2], naive[:2]).all()
    assert found.geometry.iloc[2].equals(wards.geometry.iloc[2])
    assert found["covered_share"].tolist()[2] == 0.0


@pytest.mark.parametrize("method", ["areal", "centroid"])
def test_gap_people_equal_people_in_the_gap_polygons_on_trafford(trafford, method):
    """Covered = pieces − overlaps counted again: checked against estimating the people in
    each gap polygon directly."""
    people, community, wards = trafford(method)
    w_pop = people.of(wards)
    walk = crosswalk(community, community["id"], wards, wards["wd23cd"], "ward", people,
                     people.of(community), w_pop)
    found = gaps(community, wards, wards["wd23cd"], walk, "ward", people, w_pop,
                 overlaps_of(community))
    np.testing.assert_allclose(found["population"], people.of(found), rtol=1e-9, atol=1e-6)


def test_piece_people_fast_path_equals_direct_intersection(trafford, monkeypatch):
    """Including the pieces derived by subtraction where the wards tile a small area."""
    from nbhood_cli import reconcile
    from nbhood_cli.reconcile import pieces

    derived = []
    real = reconcile._derivable

    def spy(*args):
        out = real(*args)
        derived.append(len(out))
        return out

    monkeypatch.setattr(reconcile, "_derivable", spy)
    people, community, wards = trafford()
    found = pieces(community, wards)
    np.testing.assert_allclose(people.of_pieces(found, community, wards), people.of(found),
                               rtol=1e-9, atol=1e-9)
    assert sum(derived) >= 10


def test_no_piece_is_derived_where_the_units_do_not_tile():
    # Two overlapping units under one community area: a small area cut by both edges is not
    # in a tiling, so both of its pieces are intersected (a derivation would count twice).
    from nbhood_cli.reconcile import pieces

    def box(x0, y0, x1, y1):
        return shapely.box(X + x0, Y + y0, X + x1, Y + y1)

    sources = frame(box(0, 0, 100, 100))
    people = People(sources, np.array([100.0]))
    community = frame(box(0, 0, 100, 60))
    units = frame(box(-10, -10, 70, 110), box(30, -10, 110, 110))
    found = pieces(community, units)
    np.testing.assert_allclose(people.of_pieces(found, community, units), [42.0, 42.0])
    np.testing.assert_allclose(people.of(found), [42.0, 42.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 350), st.integers(5, 150)), min_size=1, max_size=4),
       st.lists(st.integers(1, 399), min_size=1, max_size=3, unique=True))
def test_piece_people_fast_path_on_random_layouts(spans, cuts):
    from nbhood_cli.reconcile import pieces

    community = frame(*(strip(a, a + w) for a, w in spans))
    edges = [0, *sorted(cuts), 400]
    units = frame(*(strip(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a))
    found = pieces(community, units)
    np.testing.assert_allclose(PEOPLE.of_pieces(found, community, units), PEOPLE.of(found),
                               rtol=1e-9, atol=1e-9)



@pytest.mark.realdata
def test_pieces_of_areas_inside_their_unit_are_the_areas_themselves(trafford):
    """Community areas inside Trafford's boundary (and inside one ward) skip the overlay:
    the same land as intersecting them, which is what other pieces still do."""
    from nbhood_cli.reconcile import pieces

    _, community, wards = trafford()
    authority = trafford_layer("local_authority.geojson")
    for units in (authority, wards):
        found = pieces(community, units)
        c, u = found["community"].to_numpy(), found["unit"].to_numpy()
        direct = shapely.intersection(community.geometry.values[c], units.geometry.values[u])
        np.testing.assert_allclose(found["area_m2"], shapely.area(direct), rtol=1e-12)
        apart = shapely.area(shapely.symmetric_difference(found.geometry.values, direct))
        assert (apart <= 1e-9 * found["area_m2"]).all()
    inside = shapely.contains_properly(authority.geometry.iloc[0], community.geometry.values)
    assert inside.sum() >= 20  # the shortcut is taken, not only the overlay
