"""`nbhood inspect`: layers, schema, CRS, bounds, counts and geometry types."""

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import SAMPLES, shared


@pytest.fixture
def two_layer_gpkg(tmp_path):
    path = tmp_path / "town.gpkg"
    boxes = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    squares = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=boxes, crs=27700)
    squares.to_file(path, layer="squares", engine="pyogrio")
    points = gpd.GeoDataFrame({"name": ["p"]}, geometry=[shapely.Point(5, 5)], crs=27700)
    points.to_file(path, layer="points", engine="pyogrio")
    return path


def test_inspect_lists_every_layer_of_a_geopackage(run, two_layer_gpkg):
    result = run("inspect", two_layer_gpkg, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert set(layers) == {"squares", "points"}
    assert layers["squares"]["features"] == 2
    assert layers["squares"]["crs"] == "EPSG:27700"
    assert layers["squares"]["bounds"] == [0.0, 0.0, 200.0, 100.0]
    assert layers["squares"]["geometry_types"] == {"Polygon": 2}
    assert layers["squares"]["fields"] == {"code": "str"}
    assert layers["points"]["geometry_types"] == {"Point": 1}


def test_inspect_reads_the_geopackages_nbhood_writes(run, tmp_path):
    """`tensions --out x.gpkg` writes tables without geometry beside its layers: inspect
    lists them as tables (no CRS, bounds or geometry) instead of failing."""
    out = tmp_path / "t.gpkg"
    written = run("tensions", "--community", SAMPLES / "community_areas.geojson",
                  "--statutory", f"ward={SAMPLES / 'wards.geojson'}",
                  "--source", SAMPLES / "small_areas.geojson", "--counts",
                  SAMPLES / "small_area_population.csv", "--join", "sa_code",
                  "--count", "population", "--out", out)
    assert written.exit_code == 0, written.stderr
    result = run("inspect", out, "--json")
    assert result.exit_code == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    assert layers["tensions"]["features"] == len(gpd.read_file(out, layer="tensions")) > 0
    assert layers["tensions"]["declared_geometry"] is None
    assert layers["tensions"]["bounds"] is None and layers["tensions"]["geometry_types"] == {}
    assert "community_id" in layers["tensions"]["fields"]
    assert layers["gaps"]["geometry_types"] == {"MultiPolygon": layers["gaps"]["features"]}


def test_inspect_one_layer_and_a_missing_layer(run, two_layer_gpkg):
    one = json.loads(run("inspect", f"{two_layer_gpkg}:points", "--json").stdout)
    assert [layer["name"] for layer in one["layers"]] == ["points"]
    missing = run("inspect", f"{two_layer_gpkg}:nope")
    assert missing.exit_code == 2
    assert missing.stderr == (f"error: {two_layer_gpkg}: no layer named 'nope'; layers are: "
                              "squares, points\n")


def test_inspect_table_reports_encoding_and_coordinates(run, tmp_path):
    path = tmp_path / "assets.csv"
    path.write_bytes("asset_id,name,lat,lon\na1,Café,53.4,-2.3\n".encode("cp1252"))
    report = json.loads(run("inspect", path, "--json").stdout)
    assert report["encoding"] == "cp1252"
    assert report["rows"] == 1
    assert report["id_column"] == "asset_id"
    assert report["coordinates"] == "lon/lat columns lon, lat (EPSG:4326)"


def test_inspect_xlsx_lists_sheets(run, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"id": ["a"], "easting": [450000], "northing": [350000]}).to_excel(
            book, sheet_name="sites", index=False)
        pd.DataFrame({"x": [1]}).to_excel(book, sheet_name="notes", index=False)
    report = json.loads(run("inspect", f"{path}:sites", "--json").stdout)
    assert report["sheets"] == ["sites", "notes"]
    assert report["coordinates"] == "easting/northing columns easting, northing (EPSG:27700)"


def test_inspect_real_geoparquet():
    from nbhood_cli.commands.inspect import describe_parquet

    report = describe_parquet(shared("england", "lsoa21_england_bsc_census2021.parquet"))
    layer = report["layers"][0]
    assert layer["features"] == 33_755
    assert layer["crs"] == "EPSG:4326"
    assert layer["geometry_types"] == {"MultiPolygon": 33_755}


def test_inspect_human_output(run):
    result = run("inspect", shared("trafford", "wards.geojson"))
    assert result.exit_code == 0
    assert "features" in result.stdout and "21" in result.stdout
    assert "wd23cd" in result.stdout


def test_inspect_zipped_shapefile_and_plain_parquet(run, tmp_path):
    """A zipped shapefile is described like the other commands read it; a Parquet table
    without geometry is one clear line, not an internal error."""
    import zipfile

    frame = gpd.read_file(SAMPLES / "wards.geojson").to_crs(27700)
    frame.to_file(tmp_path / "wards.shp")
    with zipfile.ZipFile(tmp_path / "wards.zip", "w") as archive:
        for part in tmp_path.glob("wards.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    result = run("inspect", tmp_path / "wards.zip", "--json")
    assert result.exit_code == 0, result.stderr
    (layer,) = json.loads(result.stdout)["layers"]
    assert (layer["name"], layer["features"]) == ("wards", len(frame))
    assert layer["geometry_types"] == {"Polygon": len(frame)}
    table = tmp_path / "table.parquet"
    pd.DataFrame({"code": ["A"], "population": [1]}).to_parquet(table)
    result = run("inspect", table)
    assert result.exit_code == 2
    assert result.stderr == (f"error: {table}: a Parquet table without geometry; nbhood reads "
                             "layers as GeoParquet and tables as CSV or XLSX\n")
