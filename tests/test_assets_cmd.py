"""`nbhood assets` on real registers, checked against independent point-in-polygon counts."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from conftest import SAMPLES, shared
from nbhood_cli.io import read_layer


def trafford(out, *extra):
    t = lambda name: shared("trafford", name)  # noqa: E731
    return ["assets", t("community_assets.csv"), "--areas", f"{t('community_areas.geojson')}:id",
            "--source", f"{t('lsoa.geojson')}:lsoa21cd", "--counts", t("lsoa_population.csv"),
            "--join", "lsoa21cd", "--deprivation", t("imd.csv"), "--no-maps", "--out", out,
            *extra]


def _independent_counts(assets_geojson, areas_path):
    """Point-in-polygon with geopandas' own sjoin, in lon/lat as the files are written."""
    assets = gpd.read_file(assets_geojson)
    assets = assets[assets["category"].notna()]
    areas = read_layer(areas_path).frame.to_crs(4326)
    id_column = "id" if "id" in areas else areas.columns[0]
    joined = gpd.sjoin(assets, areas[[id_column, "geometry"]], predicate="intersects")
    return joined.groupby([id_column, "category"]).size()


def test_trafford_counts_match_an_independent_point_in_polygon(run, tmp_path):
    out = tmp_path / "a"
    result = run(*trafford(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["assets"] + summary["duplicates_merged"] + summary["unmapped"] == 378
    table = pd.read_csv(out / "assets_by_area.csv").set_index("area_id")
    expected = _independent_counts(out / "assets.geojson",
                                   shared("trafford", "community_areas.geojson"))
    for (area, category), n in expected.items():
        assert table.loc[area, f"n_{category}"] == n, (area, category)
    assert table.filter(regex="^n_").to_numpy().sum() == expected.sum()
    assert table["population"].sum() == pytest.approx(150_140.10, abs=0.01)  # = tensions
    flagged = set(table.index[table["double_disadvantage"]])
    assert flagged == set(summary["double_disadvantage"])
    assert 1 <= len(flagged) <= 5  # at most a fifth of 25 areas, deprived AND fewest assets


def test_coords_name_the_columns_of_a_register(run, tmp_path):
    """A register whose coordinate columns are named otherwise is read with --coords (and
    --assume-crs for the degrees): the same counts as the register as published."""
    register = pd.read_csv(shared("trafford", "community_assets.csv"), dtype=str)
    renamed = tmp_path / "register.csv"
    register.rename(columns={"lat": "north_deg", "lon": "east_deg"}).to_csv(renamed, index=False)
    args = trafford(tmp_path / "published")
    assert run(*args).exit_code == 0
    unnamed = run(*[renamed if a == args[1] else a for a in trafford(tmp_path / "x")])
    assert unnamed.exit_code == 2 and "--coords X,Y" in unnamed.stderr
    named = run(*[renamed if a == args[1] else a for a in trafford(tmp_path / "named")],
                "--coords", "east_deg,north_deg", "--assume-crs", "EPSG:4326")
    assert named.exit_code == 0, named.stderr
    assert (tmp_path / "named" / "assets_by_area.csv").read_bytes() == \
        (tmp_path / "published" / "assets_by_area.csv").read_bytes()


def test_dedupe_off_keeps_every_row(run, tmp_path):
    out = tmp_path / "a"
    result = run(*trafford(out, "--dedupe-distance", "0", "--json"))
    summary = json.loads(result.stdout)
    assert summary["duplicates_merged"] == 0
    assert summary["assets"] == 378
    assert len(pd.read_csv(out / "duplicates.csv")) == 0


def test_leeds_osm_taxonomy_coverage(run, tmp_path):
    out = tmp_path / "a"
    leeds = shared("leeds", "assets.csv")
    result = run("assets", leeds, "--areas", shared("leeds", "parishes.geojson"), "--no-maps",
                 "--dedupe-distance", "0", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["assets"] + summary["unmapped"] == 5_565
    # SOURCES.md: 1,332 green space, 353 faith rows; shops, toilets and police are not
    # places to prescribe to and stay unmapped, listed by their source term.
    unmapped = summary["unmapped_terms"]
    assert unmapped["convenience"] == 521 and unmapped["supermarket"] == 122
    assert "park" not in unmapped and "christian" not in unmapped
    listed = pd.read_csv(out / "unmapped.csv")
    assert listed["assets"].sum() == summary["unmapped"]
    assert summary["by_category"]["faith"] + sum(
        v for k, v in unmapped.items() if k in ("christian", "muslim")) <= 353


def test_sheffield_health_assets_in_community_areas(run, tmp_path):
    out = tmp_path / "a"
    areas = f"{shared('sheffield', 'community_areas.geojson')}:id"
    result = run("assets", shared("sheffield", "assets.csv"), "--areas", areas, "--no-maps",
                 "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["by_category"]["health_care"] + summary["duplicates_merged"] == 158
    table = pd.read_csv(out / "assets_by_area.csv").set_index("area_id")
    expected = _independent_counts(out / "assets.geojson",
                                   shared("sheffield", "community_areas.geojson"))
    got = table["n_health_care"]
    assert got[got > 0].sort_index().to_dict() == \
        expected.xs("health_care", level="category").sort_index().to_dict()


def test_postcodes_fill_missing_coordinates(run, tmp_path):
    source = pd.read_csv(shared("trafford", "community_assets.csv"))
    lookup = source.groupby("postcode")[["lat", "lon"]].first().reset_index()
    lookup.columns = ["pcds", "lat", "long"]
    lookup.to_csv(tmp_path / "onspd.csv", index=False)
    register = source[["asset_id", "name", "category", "postcode"]].head(40).copy()
    register["postcode"] = register["postcode"].str.lower().str.replace(" ", "")
    register.loc[3, "postcode"] = "zz9 9zz"
    register.to_csv(tmp_path / "register.csv", index=False)
    out = tmp_path / "a"
    result = run("assets", tmp_path / "register.csv", "--areas",
                 shared("trafford", "wards.geojson"), "--postcodes", tmp_path / "onspd.csv",
                 "--dedupe-distance", "0", "--no-maps", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    assert "1 postcode(s) are not in" in result.stderr and "line 5 ZZ9 9ZZ" in result.stderr
    written = gpd.read_file(out / "assets.geojson")
    assert len(written) == 39
    assert json.loads(result.stdout)["assets"] == 39


def test_sample_town_double_disadvantage(run, tmp_path):
    out = tmp_path / "a"
    result = run("assets", SAMPLES / "assets.csv", "--areas",
                 f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--deprivation", SAMPLES / "deprivation.csv", "--no-maps", "--out", out,
                 "--json")
    assert result.exit_code == 0, result.stderr
    flagged = json.loads(result.stdout)["double_disadvantage"]
    # The generator leaves the two most deprived small areas without any asset.
    assert {"MV0036", "MV0052"} <= set(flagged)


def test_errors(run, tmp_path):
    t = shared("trafford", "community_assets.csv")
    result = run("assets", t, "--areas", shared("trafford", "wards.geojson"),
                 "--deprivation", shared("trafford", "imd.csv"), "--out", tmp_path / "a")
    assert result.exit_code == 2
    assert "--deprivation needs --source" in result.stderr
    out = tmp_path / "b"
    out.mkdir()
    result = run("assets", t, "--areas", shared("trafford", "wards.geojson"), "--out", out)
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_maps_carry_the_attribution_and_taxonomy_labels(run, tmp_path):
    out = tmp_path / "a"
    args = [a for a in trafford(out) if a != "--no-maps"]
    credit = "Contains public sector information licensed under the OGL v3.0."
    result = run(*args, "--attribution", credit)
    assert result.exit_code == 0, result.stderr
    assert (out / "asset_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "asset_map.html").read_text(encoding="utf-8")
    assert credit in html
    # Categories under their taxonomy labels (HTML-escaped inside the page's JSON).
    assert "Health \\u0026amp; care" in html
    assert oct(out.stat().st_mode & 0o777) != "0o700"  # results readable by colleagues


def test_geopackage_register_with_park_polygons_and_open_referral_csv(run, tmp_path):
    """Polygons count in every area they touch; Open Referral UK location fields (name,
    latitude, longitude) read as points."""
    import shapely

    wards = read_layer(shared("trafford", "wards.geojson")).frame
    geoms = wards.geometry.values
    k = next(k for k in range(1, len(geoms)) if geoms[0].intersection(geoms[k]).length > 500)
    pair = sorted(wards["wd23cd"].iloc[[0, k]])
    middle = geoms[0].intersection(geoms[k]).interpolate(0.5, normalized=True)
    park = shapely.Point(middle.x, middle.y).buffer(150)  # straddles both wards
    parks = gpd.GeoDataFrame({"id": ["P1"], "name": ["Boundary Park"], "category": ["park"]},
                             geometry=[park], crs=27700)
    register = tmp_path / "parks.gpkg"
    parks.to_file(register, layer="parks")
    out = tmp_path / "a"
    result = run("assets", f"{register}:parks", "--areas", f"{shared('trafford', 'wards.geojson')}"
                 ":wd23cd", "--no-maps", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "assets_by_area.csv").set_index("area_id")
    touched = table.index[table["n_green_blue_space"] == 1].tolist()
    assert sorted(touched) == pair
    located = gpd.read_file(out / "assets.geojson")
    assert located["area_ids"].iloc[0] == ";".join(sorted(touched))

    oruk = tmp_path / "oruk.csv"
    pd.DataFrame({"id": ["loc-1"], "name": ["Stretford Library"],
                  "category": ["library"], "latitude": [53.4466],
                  "longitude": [-2.3086]}).to_csv(oruk, index=False)
    result = run("assets", oruk, "--areas", f"{shared('trafford', 'wards.geojson')}:wd23cd",
                 "--no-maps", "--out", tmp_path / "b", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["by_category"]["community_space"] == 1


def town(out, *extra, areas=None, deprivation=None):
    """The sample town's assets by community area, with people and deprivation."""
    return ["assets", SAMPLES / "assets.csv", "--areas",
            areas or SAMPLES / "community_areas.geojson",
            "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
            "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
            "--deprivation", deprivation or SAMPLES / "deprivation.csv", "--no-maps",
            "--out", out, *extra]


# MV0016's row is "MV0016,26.883,28,5" (sa_code, imd_score, imd_rank, imd_decile).
@pytest.mark.parametrize("row, options, message", [
    ("MV0016,n/a,28,5", [], "column imd_score is not a number for 1 small area(s) "
     "(MV0016: n/a); give each small area its IMD score (0 or more), or name the right column "
     "with --score"),
    ("MV0016,,28,5", [], "column imd_score is empty for 1 small area(s) (MV0016);"),
    ("MV0016,-3.5,28,5", [], "column imd_score is not a score of 0 or more for 1 small "
     "area(s) (MV0016: -3.5);"),
    ("MV0016,26.883,28,11", [], "column imd_decile is not a whole number from 1 to 10 for 1 "
     "small area(s) (MV0016: 11); give each small area its IMD decile (1 = most deprived, "
     "10 = least), or name the right column with --decile"),
    ("MV0016,26.883,28,4.5", [], "column imd_decile is not a whole number from 1 to 10 for 1 "
     "small area(s) (MV0016: 4.5);"),
    ("MV0016,26.883,28,", [], "column imd_decile is empty for 1 small area(s) (MV0016);"),
    (None, ["--score", "sa_code"], "column sa_code is not a number for 60 small area(s) "
     "(MV0001: MV0001, MV0002: MV0002, MV0003: MV0003, MV0004: MV0004, MV0005: MV0005 … 55 "
     "more);"),
    (None, ["--decile", "imd_rank"], "column imd_rank is not a whole number from 1 to 10 for 50 "
     "small area(s) (MV0001: 50, MV0002: 49, MV0003: 54, MV0004: 59, MV0005: 56 … 45 more);"),
])
def test_bad_deprivation_values_name_the_rows(run, tmp_path, row, options, message):
    """A text score was an internal error; blanks, negative scores and deciles outside 1-10
    were taken and gave wrong, even negative, need-weighted shares."""
    table = SAMPLES / "deprivation.csv"
    if row:
        lines = table.read_text().splitlines()
        lines[16] = row
        table = tmp_path / "imd.csv"
        table.write_text("\n".join(lines) + "\n")
    out = tmp_path / "a"
    result = run(*town(out, *options, deprivation=table))
    assert result.exit_code == 2
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: {table}: {message}")
    assert not out.exists()


def test_point_areas_are_refused(run, tmp_path):
    """Points as --areas held no asset and nobody, and exit was 0."""
    frame = gpd.read_file(SAMPLES / "community_areas.geojson")
    points = tmp_path / "points.geojson"
    frame.assign(geometry=frame.representative_point()).to_file(points)
    out = tmp_path / "a"
    result = run(*town(out, areas=points))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {points}: holds Point geometries; "
                                              "--areas needs polygons")
    assert not out.exists()


def test_the_sample_deprivation_reads_exactly(run, tmp_path):
    """The checks change no value: the town's population-weighted scores are as computed
    here from the files."""
    out = tmp_path / "a"
    result = run(*town(out, areas=f"{SAMPLES / 'small_areas.geojson'}:sa_code"))
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "assets_by_area.csv").set_index("area_id")
    imd = pd.read_csv(SAMPLES / "deprivation.csv").set_index("sa_code")
    assert table["imd_score"].to_dict() == pytest.approx(imd["imd_score"].to_dict())
    assert table["share_most_deprived_10"].to_dict() == \
        (imd["imd_decile"] == 1).astype(float).to_dict()


def test_score_without_deprivation_is_refused(run, tmp_path):
    result = run("assets", SAMPLES / "assets.csv", "--areas", SAMPLES / "community_areas.geojson",
                 "--score", "imd_score", "--out", tmp_path / "a", "--no-maps")
    assert result.exit_code == 2
    assert result.stderr == ("error: --score names a column of --deprivation; add "
                             "--deprivation or leave it out\n")
    assert not (tmp_path / "a").exists()


def test_areas_away_from_every_asset_warn(run, tmp_path):
    far = tmp_path / "far.geojson"
    areas = gpd.read_file(SAMPLES / "community_areas.geojson")
    areas.set_geometry(areas.translate(xoff=-1.0)).to_file(far)
    result = run("assets", SAMPLES / "assets.csv", "--areas", far, "--out", tmp_path / "a",
                 "--no-maps")
    assert result.exit_code == 0, result.stderr
    assert (f"warning: {SAMPLES / 'assets.csv'}: no asset lies in any of the areas ({far}); "
            "check the files cover the same place (and their CRS)") in result.stderr.splitlines()
    assert pd.read_csv(tmp_path / "a" / "assets_by_area.csv")["assets_total"].sum() == 0


def test_double_disadvantage_shares_without_deprivation_are_refused(run, tmp_path):
    result = run("assets", SAMPLES / "assets.csv", "--areas", SAMPLES / "community_areas.geojson",
                 "--deprived-share", "0.3", "--out", tmp_path / "a", "--no-maps")
    assert result.exit_code == 2
    assert result.stderr == ("error: --deprived-share and --fewest-share find doubly "
                             "disadvantaged areas, which needs --deprivation; add it or leave "
                             "them out\n")


def test_centroids_without_the_centroid_method_fail_before_reading(run, tmp_path):
    result = run("assets", tmp_path / "not-read.csv", "--areas",
                 SAMPLES / "community_areas.geojson", "--centroids",
                 SAMPLES / "small_areas.geojson", "--out", tmp_path / "a")
    assert result.exit_code == 2  # the register does not exist: the options were checked first
    assert result.stderr == ("error: --centroids is for --method centroid, not areal; add "
                             "--method centroid or leave out --centroids\n")
