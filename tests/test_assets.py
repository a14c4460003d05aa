"""Asset functions on hand-computed layouts: taxonomy, de-duplication, counts, access,
deprivation, double disadvantage and the need-weighted share."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from nbhood_cli import taxonomy as tax
from nbhood_cli.assets import (
    AssetThresholds,
    access,
    assign,
    by_area,
    dedupe,
    double_disadvantage,
    fifth,
    near_pairs,
    need_weighted_share,
    normalise_name,
    subset_pairs,
)
from nbhood_cli.errors import NbhoodError

X, Y = 450_000, 350_000


def pts(*xy):
    return [shapely.Point(X + x, Y + y) for x, y in xy]


def test_default_taxonomy_loads_and_maps_the_issue_examples():
    scheme = tax.load()
    assert scheme.categories == ("health_care", "community_space", "faith", "food",
                                 "green_blue_space", "sport_leisure", "education_children",
                                 "advice_work")
    frame = pd.DataFrame({
        "category": ["GP", "Community Centre", "Place of worship", "Food Bank", "park",
                     "sports club", "school", "Citizens Advice", "retail", "food_support",
                     None],
        "subcategory": [None, None, None, None, None, None, None, None, "supermarket",
                        "food_bank", None],
        "osm_tag": [None] * 10 + ["amenity=social_facility"],
    })
    categories, unmatched = tax.categorise(frame, scheme)
    assert categories == ["health_care", "community_space", "faith", "food",
                          "green_blue_space", "sport_leisure", "education_children",
                          "advice_work", None, "food", None]
    assert unmatched[8] == "supermarket"
    assert unmatched[10] == "amenity=social_facility"


def test_osm_tag_columns_and_wildcards():
    scheme = tax.load()
    frame = pd.DataFrame({"amenity": [None, "cafe"], "healthcare": ["physiotherapist", None]})
    assert tax.categorise(frame, scheme)[0] == ["health_care", "food"]


def test_taxonomy_file_errors(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[a]\nmatch = ["x"]\n[b]\nmatch = ["X"]\n', encoding="utf-8")
    with pytest.raises(NbhoodError, match="the term 'X' is in both a and b"):
        tax.load(bad)
    bad.write_text("[a]\nlabel = 'A'\n", encoding="utf-8")
    with pytest.raises(NbhoodError, match="category a needs a match"):
        tax.load(bad)
    bad.write_text("[a\n", encoding="utf-8")
    with pytest.raises(NbhoodError, match="not valid TOML"):
        tax.load(bad)


def test_normalise_name():
    assert normalise_name("St. Mary's  Church ") == normalise_name("st marys church")
    assert normalise_name(None) == ""


def test_dedupe_merges_same_name_within_distance_and_chains():
    frame = gpd.GeoDataFrame({"name": ["Hub", "HUB.", "Hub", "Other", "", ""]},
                             geometry=pts((0, 0), (20, 0), (40, 0), (1, 0), (2, 0), (2, 0)),
                             crs=27700)
    kept, merges = dedupe(frame, 25, ["a", "b", "c", "d", "e", "f"])
    assert kept["name"].tolist() == ["Hub", "Other", "", ""]  # unnamed never merge
    assert merges[["kept_id", "merged_id"]].values.tolist() == [["a", "b"], ["a", "c"]]
    assert merges["distance_m"].tolist() == pytest.approx([20, 40])
    assert len(dedupe(frame, 0, list("abcdef"))[0]) == 6


@pytest.fixture
def town():
    """Two 1 km squares; assets: 2 health in A (one a park polygon straddling both)."""
    areas = gpd.GeoDataFrame(geometry=[shapely.box(X, Y, X + 1000, Y + 1000),
                                       shapely.box(X + 1000, Y, X + 2000, Y + 1000)],
                             crs=27700)
    assets = gpd.GeoDataFrame(
        {"category": ["health_care", "health_care", "green_blue_space"]},
        geometry=[*pts((100, 100), (900, 900)), shapely.box(X + 900, Y, X + 1100, Y + 100)],
        crs=27700)
    return areas, assets


def test_counts_per_area_and_missing_categories(town):
    areas, assets = town
    table = by_area(areas, assets, ("health_care", "green_blue_space", "faith"))
    assert table["n_health_care"].tolist() == [2, 0]
    assert table["n_green_blue_space"].tolist() == [1, 1]  # the park touches both
    assert table["assets_total"].tolist() == [3, 1]
    assert table["categories_missing"].tolist() == ["faith", "health_care;faith"]


def test_one_query_serves_the_register_and_its_subset(town):
    areas, assets = town
    a, z = assign(assets, areas)
    assert sorted(zip(a.tolist(), z.tolist(), strict=True)) == [(0, 0), (1, 0), (2, 0), (2, 1)]
    keep = np.array([False, True, True])  # numbered as in assets[keep]: 1 → 0, 2 → 1
    a, z = subset_pairs((a, z), keep)
    assert sorted(zip(a.tolist(), z.tolist(), strict=True)) == [(0, 0), (1, 0), (1, 1)]
    assert by_area(areas, assets[keep], ("health_care",), pairs=(a, z)).equals(
        by_area(areas, assets[keep], ("health_care",)))


@pytest.mark.parametrize("distance", [5.0, 25.0, 50 ** 0.5, 0.3])
def test_near_pairs_are_those_of_a_dwithin_query(distance):
    # points on a 5 m lattice (many pairs exactly 5, 25 or sqrt(50) m apart) and a cluster
    # sharing one cell, against the STRtree's dwithin
    rng = np.random.default_rng(3)
    xy = np.round(rng.random((3000, 2)) * 400 / 5) * 5 + (X, Y)
    xy = np.vstack([xy, rng.random((40, 2)) * 0.2 + (X + 7, Y + 7)])
    points = shapely.points(xy)
    a, b = near_pairs(points, distance)
    p, q = shapely.STRtree(points).query(points, predicate="dwithin", distance=distance)
    want = sorted(zip(p[p < q].tolist(), q[p < q].tolist(), strict=True))
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == want
    assert len(want) > 40


def test_near_pairs_number_the_points_as_given():
    points = np.array([shapely.Point(X, Y), None, shapely.Point(X + 5, Y + 5),
                       shapely.Point(), shapely.Point(X + 0.5, Y), shapely.Point(X + 5.5, Y + 5)],
                      dtype=object)
    a, b = near_pairs(points, 1.0)
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 4), (2, 5)]
    a, b = near_pairs(points, 1e-12)  # a grid too fine to number: the STRtree's pairs
    assert len(a) == 0
    with pytest.raises(ValueError):
        near_pairs(np.array([shapely.MultiPoint([(X, Y), (X + 1, Y)])]), 1.0)
    with pytest.raises(ValueError):
        near_pairs(points, 0.0)


def test_access_is_population_weighted_nearest_distance(town):
    _, assets = town
    residents = np.array(pts((100, 400), (1900, 100)))
    # Area 0 holds 300 people of small area 0; area 1 holds 100 of small area 1.
    people = (np.array([0, 1]), np.array([0, 1]), np.array([300.0, 100.0]))
    out = access(assets, ("health_care",), residents, people, 2)
    assert out["access_health_care_m"].tolist() == pytest.approx([300, np.hypot(1000, 800)])


def test_by_area_full_row(town):
    areas, assets = town
    residents = np.array(pts((500, 500), (1500, 500)))
    people = (np.array([0, 1]), np.array([0, 1]), np.array([2000.0, 500.0]))
    table = by_area(areas, assets, ("health_care", "green_blue_space"),
                    population=np.array([2000.0, 500.0]), resident_people=people,
                    residents=residents, score=np.array([40.0, 10.0]),
                    decile=np.array([1, 6]))
    assert table["assets_per_1000"].tolist() == pytest.approx([1.5, 2.0])
    assert table["imd_score"].tolist() == [40, 10]
    assert table["share_most_deprived_10"].tolist() == [1, 0]
    assert table["need_weighted_share"].tolist() == pytest.approx([80_000 / 85_000,
                                                                  5_000 / 85_000])
    assert table["double_disadvantage"].tolist() == [True, False]


def test_fifth_rounds_up_and_includes_ties():
    assert fifth([5, 4, 3, 2, 1, 1], 0.2, highest=False).tolist() == [
        False, False, False, False, True, True]
    assert fifth([1, 2, np.nan], 0.5, highest=True).tolist() == [False, True, False]


def test_double_disadvantage_needs_both():
    score = [50, 40, 30, 20, 10]
    per_1000 = [0.5, 5, 0.1, 3, 4]
    th = AssetThresholds(deprived_share=0.4, fewest_share=0.4)
    assert double_disadvantage(score, per_1000, th).tolist() == [True, False, False, False,
                                                                  False]


def test_need_weighted_share_sums_to_one():
    share = need_weighted_share([100, 300], [2.0, 1.0])
    assert share.tolist() == pytest.approx([0.4, 0.6])
    assert need_weighted_share([0, 0], [1, 1]).tolist() == [0, 0]
