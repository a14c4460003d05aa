"""`nbhood validate`: findings per file, exit 0 / 1 / 2, rich table or JSON."""

import json

import geopandas as gpd
import shapely

from conftest import shared


def _bowtie(tmp_path):
    path = tmp_path / "areas.geojson"
    x, y = 450_000, 350_000
    gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[
        shapely.Polygon([(x, y), (x + 1000, y + 1000), (x + 1000, y), (x, y + 1000)]),  # bow-tie
        shapely.box(x + 2000, y, x + 3000, y + 1000),
    ], crs=27700).to_crs(4326).to_file(path)
    return path


def test_repairs_are_warnings_not_errors(run, tmp_path):
    path = _bowtie(tmp_path)
    result = run("validate", path, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    file = report["files"][0]
    assert report["ok"] is True
    assert file["status"] == "warnings"
    assert [(f["level"], f["code"], f["feature"]) for f in file["findings"]] == [
        ("repair", "invalid-geometry", "A")]
    assert "Self-intersection" in file["findings"][0]["message"]


def test_errors_exit_1_and_every_file_is_reported(run, tmp_path):
    dupes = tmp_path / "dupes.csv"
    dupes.write_text("id,lat,lon\nx,53.4,-2.3\nx,53.5,-2.3\n", encoding="utf-8")
    good = shared("trafford", "wards.geojson")
    result = run("validate", dupes, good, "--json")
    assert result.exit_code == 1
    files = json.loads(result.stdout)["files"]
    assert [f["status"] for f in files] == ["errors", "ok"]
    assert files[0]["findings"][0]["message"] == (
        f"{dupes}: id is not unique: x appear more than once; make each id unique or pick "
        "another id column with --id")
    assert files[1]["features"] == 21


def test_missing_file_is_a_usage_error(run, tmp_path):
    result = run("validate", shared("trafford", "wards.geojson"), tmp_path / "nope.geojson")
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.geojson'}: no such file; check the path\n"


def test_table_checks_ids_and_counts(run):
    path = shared("trafford", "lsoa_population.csv")
    result = run("validate", path, "--count", "population", "--json")
    assert result.exit_code == 0
    file = json.loads(result.stdout)["files"][0]
    assert (file["kind"], file["features"], file["id_column"]) == ("table", 139, "lsoa21cd")


def test_fiona_engine_reads_the_same(run):
    path = shared("trafford", "community_areas.geojson")
    a = json.loads(run("validate", path, "--json").stdout)
    b = json.loads(run("validate", path, "--engine", "fiona", "--json").stdout)
    assert a == b
    assert a["files"][0]["features"] == 25


def test_human_output_has_table_and_findings(run, tmp_path):
    result = run("validate", _bowtie(tmp_path))
    assert result.exit_code == 0
    assert "warnings" in result.stdout
    assert "repair:" in result.stdout and ": A: invalid geometry" in result.stdout


def test_paths_with_brackets_print_verbatim(run, tmp_path):
    folder = tmp_path / "export[v2]"
    folder.mkdir()
    path = _bowtie(folder)
    result = run("validate", path)
    assert result.exit_code == 0
    assert f"repair: {path}: A: invalid geometry" in result.stdout.replace("\n", "")
