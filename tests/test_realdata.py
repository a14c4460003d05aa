"""Every real data file in ../shared/data goes through the reader and ``nbhood validate``.

The expected numbers are facts about the data, copied from each folder's SOURCES.md; a file
that appears without an entry here fails, so a new data file cannot slip through unchecked.

The England GeoParquet holds 33,755 polygons: it is read once by the parametrised validate
test and once by ``test_england_national_layer``, and by no other test.
"""

from __future__ import annotations

import json

import pytest

from conftest import SHARED, shared
from nbhood_cli.io.read import ReadOptions, load_layer, load_table

pytestmark = pytest.mark.realdata

FOLDERS = ("trafford", "sheffield", "leeds", "england")
SUFFIXES = (".geojson", ".csv", ".parquet")

# Rows or features per file, as SOURCES.md states them (before the reader drops anything).
EXPECTED_ROWS = {
    "trafford/community_areas.geojson": 25,
    "trafford/community_assets.csv": 378,
    "trafford/gp_practices.csv": 26,
    "trafford/imd.csv": 139,
    "trafford/imd2019_lsoa11.csv": 138,
    "trafford/local_authority.geojson": 1,
    "trafford/localities.geojson": 4,
    "trafford/lsoa.geojson": 139,
    "trafford/lsoa_2011.geojson": 138,
    "trafford/lsoa_population.csv": 139,
    "trafford/lsoa_population_census2021.csv": 139,
    "trafford/oa.geojson": 738,
    "trafford/oa_population_census2021.csv": 738,
    "trafford/ward_population.csv": 21,
    "trafford/ward_population_census2021.csv": 21,
    "trafford/wards.geojson": 21,
    "trafford/wards_2022.geojson": 21,
    "sheffield/assets.csv": 158,
    "sheffield/assets.geojson": 158,
    "sheffield/community_areas.geojson": 147,
    "sheffield/gp_practices.csv": 78,
    "sheffield/imd.csv": 343,
    "sheffield/imd2019_lsoa11.csv": 345,
    "sheffield/local_authority.geojson": 1,
    "sheffield/lookup_lsoa11_lsoa21.csv": 346,
    "sheffield/lookup_lsoa21_ward24_bestfit.csv": 343,
    "sheffield/lsoa.geojson": 343,
    "sheffield/lsoa_2011.geojson": 345,
    "sheffield/lsoa_20m_reconstructed.geojson": 343,
    "sheffield/lsoa_population_census2021.csv": 343,
    "sheffield/lsoa_population_mid2020_lsoa11.csv": 345,
    "sheffield/ward_population_mid2020.csv": 28,
    "sheffield/wards.geojson": 28,
    "leeds/assets.csv": 5565,
    "leeds/assets.geojson": 5565,
    "leeds/gp_practices.csv": 94,
    "leeds/parishes.geojson": 22,
    "england/lsoa21_england_bsc_census2021.parquet": 33755,
}

# Tables with no coordinates: validate reports them as kind "table"; everything else is a layer.
TABLES = {
    "trafford/imd.csv", "trafford/imd2019_lsoa11.csv", "trafford/lsoa_population.csv",
    "trafford/lsoa_population_census2021.csv", "trafford/oa_population_census2021.csv",
    "trafford/ward_population.csv", "trafford/ward_population_census2021.csv",
    "sheffield/imd.csv", "sheffield/imd2019_lsoa11.csv", "sheffield/lookup_lsoa11_lsoa21.csv",
    "sheffield/lookup_lsoa21_ward24_bestfit.csv", "sheffield/lsoa_population_census2021.csv",
    "sheffield/lsoa_population_mid2020_lsoa11.csv", "sheffield/ward_population_mid2020.csv",
}

# GP practice lists: rows without lat/lon (location_source "unresolved" in SOURCES.md).
UNRESOLVED_PRACTICES = {"leeds/gp_practices.csv": 27, "sheffield/gp_practices.csv": 47}


def _discover() -> list[str]:
    found = sorted(
        path.relative_to(SHARED).as_posix()
        for folder in FOLDERS
        for path in (SHARED / folder).glob("*")
        if path.suffix in SUFFIXES
    )
    # Without ../shared there is nothing to glob: one placeholder that skips with the reason.
    return found or ["(no shared data)"]


DATA_FILES = _discover()


def _file(rel: str):
    if rel == "(no shared data)":
        pytest.skip(f"real data {SHARED} is absent (../shared/data is not beside the checkout)")
    return shared(*rel.split("/"))


def _validate(run, path) -> tuple[int, dict]:
    result = run("validate", path, "--json")
    assert result.stderr == "", result.stderr
    data = json.loads(result.stdout)
    assert len(data["files"]) == 1
    return result.exit_code, data["files"][0]


@pytest.mark.parametrize("rel", DATA_FILES)
def test_validate_every_file(run, rel):
    path = _file(rel)
    assert rel in EXPECTED_ROWS, f"{rel}: new data file; add its count from SOURCES.md"
    code, report = _validate(run, path)
    expected = EXPECTED_ROWS[rel]

    if rel == "trafford/community_areas.geojson":
        # SOURCES.md: exactly one invalid geometry, the Flixton bow-tie CA09; repaired, not fatal.
        assert code == 0, report
        assert report["status"] == "warnings"
        [finding] = report["findings"]
        assert (finding["level"], finding["code"], finding["feature"]) == \
            ("repair", "invalid-geometry", "CA09")
        assert "Self-intersection" in finding["message"]
        assert report["features"] == expected
    elif rel in UNRESOLVED_PRACTICES:
        # Practices without coordinates are dropped with one warning naming the count.
        dropped = UNRESOLVED_PRACTICES[rel]
        assert code == 0, report
        assert report["status"] == "warnings"
        [finding] = report["findings"]
        assert (finding["level"], finding["code"]) == ("warning", "empty-geometry")
        assert f": {dropped} feature(s) without a geometry were dropped" in finding["message"]
        assert report["features"] == expected - dropped
    elif rel == "sheffield/lookup_lsoa11_lsoa21.csv":
        # A lookup is many-to-one by nature: the one 2011 LSOA split in two in 2021
        # (E01033278 → E01034845 + E01034846, SOURCES.md) repeats in the auto-detected id
        # column lsoa11cd. In a plain table a guessed key only warns; --id makes it strict.
        assert code == 0, report
        assert report["status"] == "warnings"
        [finding] = report["findings"]
        assert (finding["level"], finding["code"], finding["feature"]) == \
            ("warning", "duplicate-id", "E01033278")
        strict = run("validate", path, "--id", "lsoa11cd", "--json")
        assert strict.exit_code == 1
        assert report["features"] == expected
    else:
        assert code == 0, report
        assert report["status"] == "ok", report["findings"]
        assert report["findings"] == []
        assert report["features"] == expected

    if rel in TABLES:
        assert report["kind"] == "table"
        assert report["crs"] is None
    else:
        # Every boundary and point file in ../shared is WGS84 lon/lat (SOURCES.md).
        assert report["kind"] == "layer"
        assert report["crs"] == "EPSG:4326"
        family = "Point" if rel.endswith(".csv") or "assets" in rel else "Polygon"
        assert set(report["geometry_types"]) <= {family, "Multi" + family}, report


# --- totals SOURCES.md states -----------------------------------------------------------------

TOTALS = [
    ("trafford/lsoa_population.csv", "population", 241_025),
    ("trafford/lsoa_population_census2021.csv", "usual_residents", 235_046),
    ("trafford/oa_population_census2021.csv", "usual_residents", 235_013),
    ("trafford/ward_population.csv", "population", 241_025),
    ("trafford/ward_population_census2021.csv", "usual_residents", 235_050),
    ("sheffield/lsoa_population_census2021.csv", "usual_residents", 556_519),
    ("sheffield/lsoa_population_census2021.csv", "in_households", 535_895),
    ("sheffield/lsoa_population_census2021.csv", "in_communal_establishments", 20_624),
    ("sheffield/lsoa_population_census2021.csv", "females", 282_328),
    ("sheffield/lsoa_population_census2021.csv", "males", 274_182),
    ("sheffield/lsoa_population_mid2020_lsoa11.csv", "population", 589_214),
    ("sheffield/ward_population_mid2020.csv", "population", 589_214),
]


@pytest.mark.parametrize(("rel", "column", "total"), TOTALS,
                         ids=[f"{r}:{c}" for r, c, _ in TOTALS])
def test_population_totals(rel, column, total):
    table = load_table(_file(rel), ReadOptions(counts=(column,)))
    assert table.errors == []
    assert len(table.frame) == EXPECTED_ROWS[rel]
    assert table.frame[column].sum() == total


def test_sheffield_census_residence_types_add_up():
    """SOURCES.md: in_households + in_communal_establishments = usual_residents in all rows."""
    counts = ("usual_residents", "in_households", "in_communal_establishments")
    frame = load_table(_file("sheffield/lsoa_population_census2021.csv"),
                       ReadOptions(counts=counts)).frame
    assert (frame.in_households + frame.in_communal_establishments
            == frame.usual_residents).all()


def test_trafford_gp_practices():
    """SOURCES.md: 26 practices, 5 PCNs, 248,911 registered patients, all with coordinates."""
    layer = load_layer(_file("trafford/gp_practices.csv"),
                       ReadOptions(counts=("registered_patients",)))
    assert layer.errors == []
    assert layer.id_column == "practice_code"
    assert layer.geometry_source == "lon/lat columns lon, lat"
    assert len(layer.frame) == 26
    assert layer.frame.pcn_code.nunique() == 5
    assert layer.frame.registered_patients.sum() == 248_911


def test_trafford_community_assets_by_category():
    layer = load_layer(_file("trafford/community_assets.csv"))
    counts = layer.frame.category.value_counts().to_dict()
    assert counts == {"place_of_worship": 118, "school_or_college": 103, "pharmacy": 57,
                      "care_home": 56, "post_office": 27, "library": 13,
                      "childrens_centre": 2, "jobcentre_plus": 2}


def test_leeds_assets_csv_and_geojson_hold_the_same_rows():
    """SOURCES.md: 5,565 points, the same rows in both files; 1,182 have no name."""
    csv = load_layer(_file("leeds/assets.csv")).frame
    geo = load_layer(_file("leeds/assets.geojson")).frame
    assert len(csv) == len(geo) == 5565
    assert csv["id"].tolist() == geo["id"].tolist()
    # The CSV leaves a missing name empty (read as missing); the GeoJSON holds "".
    assert csv["name"].isna().sum() == (geo["name"] == "").sum() == 1182
    # Both are reprojected from WGS84 to the working CRS: the same points, to well under 1 m.
    assert csv.crs == geo.crs == "EPSG:27700"
    assert csv.geometry.distance(geo.geometry, align=False).max() < 0.2
    assert csv.category.value_counts()["green_space"] == 1332


def test_trafford_community_area_ca09_is_repaired():
    """Flixton's bow-tie becomes valid polygons of about 2.42 km² (SOURCES.md)."""
    layer = load_layer(_file("trafford/community_areas.geojson"))
    frame = layer.frame.set_index("id")
    assert frame.geometry.is_valid.all()
    assert frame.loc["CA09"].geometry.area / 1e6 == pytest.approx(2.42, abs=0.01)
    assert frame.loc["CA23"].geometry.geom_type == "MultiPolygon"  # Dunham: two parts
    assert len(frame.loc["CA01"].geometry.interiors) == 1  # Old Trafford: the cricket ground


# --- inspect ------------------------------------------------------------------------------------

INSPECT = [
    ("trafford/lsoa.geojson", "lsoa", 139, "MultiPolygon"),
    ("sheffield/community_areas.geojson", "community_areas", 147, "Polygon"),
    # GDAL names a GeoJSON layer by its top-level "name" member, which this file sets to
    # "community_areas"; Polygon and MultiPolygon mixed make the declared type "Unknown".
    ("leeds/parishes.geojson", "community_areas", 22, "Unknown"),
]


@pytest.mark.parametrize(("rel", "name", "features", "declared"), INSPECT,
                         ids=[i[0] for i in INSPECT])
def test_inspect_one_file_per_folder(run, rel, name, features, declared):
    result = run("inspect", _file(rel), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "vector"
    [layer] = report["layers"]
    assert layer["name"] == name
    assert layer["driver"] == "GeoJSON"
    assert layer["features"] == features
    assert sum(layer["geometry_types"].values()) == features
    assert layer["crs"] == "EPSG:4326"
    assert layer["declared_geometry"] == declared
    xmin, ymin, xmax, ymax = layer["bounds"]
    assert -2.6 < xmin < xmax < -1.2 and 53.3 < ymin < ymax < 54.0  # lon/lat in the North West


def test_inspect_table(run):
    result = run("inspect", _file("leeds/gp_practices.csv"), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "table"
    assert report["rows"] == 94
    assert report["encoding"] == "utf-8"
    assert report["coordinates"] == "lon/lat columns lon, lat (EPSG:4326)"


def test_england_national_layer(run, monkeypatch):
    """Inspect and load the national layer, reading the 33,755 polygons only once."""
    import geopandas as gpd

    path = _file("england/lsoa21_england_bsc_census2021.parquet")
    real_read = gpd.read_parquet
    cache = {}

    def read_once(source, *args, **kwargs):
        key = str(source)
        if key not in cache:
            cache[key] = real_read(source, *args, **kwargs)
        return cache[key].copy()

    monkeypatch.setattr(gpd, "read_parquet", read_once)

    result = run("inspect", path, "--json")
    assert result.exit_code == 0, result.stderr
    [info] = json.loads(result.stdout)["layers"]
    assert info["name"] == "lsoa21_england_bsc_census2021"
    assert info["driver"] == "GeoParquet"
    assert info["features"] == 33_755
    assert info["crs"] == "EPSG:4326"
    assert info["geometry_types"] == {"MultiPolygon": 33_755}

    counts = ("usual_residents", "in_households", "in_communal_establishments")
    layer = load_layer(path, ReadOptions(counts=counts))
    assert len(cache) == 1
    assert layer.findings == []
    assert layer.source_crs == "EPSG:4326"
    assert layer.id_column == "lsoa21cd"
    frame = layer.frame
    assert frame.crs == "EPSG:27700"
    assert len(frame) == 33_755
    assert frame.lsoa21cd.str.startswith("E01").all()
    assert frame.lad24cd.nunique() == 296
    assert frame.usual_residents.sum() == 56_490_056
    assert (frame.in_households + frame.in_communal_establishments
            == frame.usual_residents).all()
    sheffield = frame[frame.lad24cd == "E08000019"]
    assert len(sheffield) == 343
    assert sheffield.usual_residents.sum() == 556_519
