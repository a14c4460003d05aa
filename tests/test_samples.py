"""The fictional sample town: reproducible to the byte, shaped as the demos need it, and
identical to the copy committed in data/samples."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from nbhood_cli import samples

COMMITTED = Path(__file__).parents[1] / "data/samples"
BNG = "EPSG:27700"
FILES = ["README.md", "assets.csv", "community_areas.geojson", "deprivation.csv",
         "gp_practices.csv", "gp_registrations.csv", "pcn_footprints.geojson",
         "small_area_population.csv", "small_areas.geojson", "wards.geojson"]
TESSELLATIONS = ["small_areas.geojson", "wards.geojson", "pcn_footprints.geojson"]
CATEGORIES = {"community_centre", "library", "place_of_worship", "food_bank", "cafe", "park",
              "sports_club", "school", "pharmacy", "gp_surgery", "post_office",
              "citizens_advice", "village_hall", "allotment", "care_home"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """Two runs: one in this process, one in a fresh interpreter as ``make samples`` runs it
    (a different hash seed, so set ordering cannot leak into the output)."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    samples.main(["--out", str(first)])
    subprocess.run([sys.executable, "-m", "nbhood_cli.samples", "--out", str(second)],
                   check=True, capture_output=True)
    return first, second


@pytest.fixture(scope="module")
def town(generated) -> Path:
    return generated[0]


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def layer(folder: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / name).to_crs(BNG)


def test_writes_the_documented_files(town):
    assert sorted(contents(town)) == FILES


def test_two_runs_are_byte_identical(generated):
    first, second = (contents(folder) for folder in generated)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_committed_sample_matches_the_generator(town):
    committed, fresh = contents(COMMITTED), contents(town)
    assert sorted(committed) == sorted(fresh), "run `python -m nbhood_cli.samples`"
    drifted = [name for name in fresh if committed[name] != fresh[name]]
    assert drifted == [], f"{drifted} drifted: run `python -m nbhood_cli.samples`"


@pytest.mark.parametrize(("name", "low", "high"), [
    ("small_areas.geojson", 50, 70), ("wards.geojson", 7, 9), ("pcn_footprints.geojson", 3, 4),
    ("community_areas.geojson", 9, 12), ("assets.csv", 250, 350), ("gp_practices.csv", 10, 14),
])
def test_counts(town, name, low, high):
    rows = layer(town, name) if name.endswith(".geojson") else pd.read_csv(town / name)
    assert low <= len(rows) <= high


def test_population_and_deprivation_join_every_small_area(town):
    codes = layer(town, "small_areas.geojson")["sa_code"]
    population = pd.read_csv(town / "small_area_population.csv")
    imd = pd.read_csv(town / "deprivation.csv")
    assert codes.is_unique
    assert list(population["sa_code"]) == list(codes) == list(imd["sa_code"])
    assert population["population"].between(1_000, 3_000).all()
    assert 100_000 <= population["population"].sum() <= 130_000
    assert sorted(imd["imd_rank"]) == list(range(1, len(imd) + 1))
    assert set(imd["imd_decile"]) == set(range(1, 11))
    assert imd.sort_values("imd_rank")["imd_score"].is_monotonic_decreasing


@pytest.mark.parametrize("name", TESSELLATIONS)
def test_layer_tessellates_without_gaps_or_overlaps(town, name):
    geoms = layer(town, name).geometry.values
    assert shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) == {3}  # Polygon: no unit in pieces
    union = shapely.union_all(geoms)
    assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-6)
    assert union.geom_type == "Polygon" and not union.interiors  # no holes: no gaps


def test_layers_share_one_outline_but_do_not_nest(town):
    outlines = [shapely.union_all(layer(town, name).geometry.values) for name in TESSELLATIONS]
    for other in outlines[1:]:
        assert outlines[0].symmetric_difference(other).area < 1e-6 * outlines[0].area
    small_areas = layer(town, "small_areas.geojson").geometry
    for name in ["wards.geojson", "pcn_footprints.geojson"]:
        units = layer(town, name).geometry.values
        split = [(shapely.area(shapely.intersection(g, units)) > 1).sum() > 1 for g in small_areas]
        assert any(split), f"{name} nests the small areas"


def test_exactly_one_pair_of_community_areas_overlaps(town):
    shapes = layer(town, "community_areas.geojson").geometry.values
    touching = [(a, b) for a, b in combinations(shapes, 2) if a.intersects(b)]
    assert len(touching) == 1
    [(a, b)] = touching
    assert 0.10 <= a.intersection(b).area / min(a.area, b.area) <= 0.30


def test_community_areas_look_hand_drawn_and_leave_land_unclaimed(town):
    shapes = layer(town, "community_areas.geojson").geometry.values
    outline = shapely.union_all(layer(town, "small_areas.geojson").geometry.values)
    assert shapely.is_valid(shapes).all()
    assert all(10 <= len(s.exterior.coords) - 1 <= 20 for s in shapes)
    assert all(outline.contains(s) for s in shapes)
    unclaimed = 1 - shapely.union_all(shapes).area / outline.area
    assert 0.30 <= unclaimed <= 0.45


def test_a_community_area_crosses_ward_lines(town):
    wards = layer(town, "wards.geojson").geometry.values
    shapes = layer(town, "community_areas.geojson").geometry.values
    assert any((shapely.area(shapely.intersection(s, wards)) > 1).sum() >= 2 for s in shapes)


def points(frame: pd.DataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326).to_crs(BNG)


def test_gp_practices_sit_inside_their_pcn(town):
    practices = pd.read_csv(town / "gp_practices.csv")
    pcns = layer(town, "pcn_footprints.geojson").set_index("pcn_code")
    assert practices["practice_code"].is_unique
    assert practices["registered_patients"].between(3_000, 15_000).all()
    for code, point in zip(practices["pcn_code"], points(practices), strict=True):
        assert pcns.geometry[code].contains(point)
    assert (practices["pcn_name"] == pcns.loc[practices["pcn_code"], "pcn_name"].values).all()


def test_assets_are_categorised_and_the_most_deprived_area_has_none(town):
    assets = pd.read_csv(town / "assets.csv")
    assert list(assets.columns) == ["asset_id", "name", "category", "lat", "lon"]
    assert assets["asset_id"].is_unique
    assert set(assets["category"]) <= CATEGORIES
    imd = pd.read_csv(town / "deprivation.csv")
    worst = imd.loc[imd["imd_rank"] == 1, "sa_code"].item()
    small_areas = layer(town, "small_areas.geojson").set_index("sa_code")
    assert not points(assets).within(small_areas.geometry[worst]).any()


def test_readme_says_fictional_and_how_to_rebuild(town):
    text = (town / "README.md").read_text(encoding="utf-8")
    assert "FICTIONAL" in text and "python -m nbhood_cli.samples" in text
    assert all(f"`{name}`" in text for name in FILES if name != "README.md")
