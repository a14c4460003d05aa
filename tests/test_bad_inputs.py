"""The corpus of broken inputs in tests/data/bad: every one ends in one clear line.

Each row names a file, the phrases a user must read beside its name, and the finding
``validate`` reports. ``validate`` exits 1 for errors (0 for warnings, repairs and clean
files); ``map`` exits 2 with exactly one ``error:`` line on stderr and creates no output folder.
The positive cases (cp1252, BOM, zipped shapefile, bow-tie) also check the values read.
"""

from __future__ import annotations

import json
import runpy
import sqlite3
import subprocess
import sys
from dataclasses import dataclass

import pyogrio
import pytest

from conftest import BAD
from nbhood_cli.errors import NbhoodError
from nbhood_cli.io.read import ReadOptions, load_layer, read_layer


@dataclass(frozen=True)
class Case:
    file: str  # in tests/data/bad
    phrases: tuple[str, ...] = ()  # what the user must read, beside the file name
    level: str = "error"  # the finding validate reports: error, warning, repair or ok (none)
    spec: str = ""  # appended to the path: ":LAYER" or ":ID"
    role: str = "--community"  # the map option the file is given to
    opts: tuple[str, ...] = ()  # options for both validate and map
    feature: str | None = None  # the feature the finding names
    map_error: bool | None = None  # default: level == "error"

    @property
    def path(self) -> str:
        return f"{BAD / self.file}{self.spec}"

    @property
    def fails_map(self) -> bool:
        return self.level == "error" if self.map_error is None else self.map_error

    def __str__(self) -> str:
        return f"{self.file}{self.spec}"


COUNT = {"role": "--population", "opts": ("--count", "population")}
NO_CRS = "has no coordinate reference system"

CASES = [
    Case("empty.geojson", ("the file is empty (0 bytes)", "export it again")),
    Case("zero_features.geojson", ("the layer has no features",)),
    Case("truncated.geojson", ("broken JSON at line 2", "may be truncated")),
    Case("geojson_content.csv", ("content is JSON", "rename it to .geojson")),
    Case("csv_content.geojson", ("ends in .geojson but the content is not JSON",)),
    Case("no_prj.shp", (f"{NO_CRS} (shapefile without .prj?)", "--assume-crs EPSG:27700")),
    Case("zipped_shapefile.zip", level="ok"),
    Case("zipped_no_prj.zip", (f"{NO_CRS} (shapefile without .prj?)", "--assume-crs")),
    Case("no_crs.gpkg", (f"{NO_CRS};", "--assume-crs EPSG:27700")),
    Case("swapped_latlon.csv", ("columns lon and lat look swapped", "--coords lat,lon")),
    Case("swapped_coords.geojson", ("coordinates look swapped", "longitude first")),
    Case("bng_metres.geojson", ("the file says lon/lat degrees but coordinates reach 451000",
                                "--assume-crs EPSG:27700")),
    Case("bng_in_latlon.csv", ("columns lon/lat hold values up to 451200, 350500",
                               "metres (British National Grid?), not degrees",
                               "rename them easting/northing")),
    Case("bowtie.geojson", ("CA02: invalid geometry (Self-intersection",
                            "repaired with make_valid"), level="repair", feature="CA02"),
    Case("mixed_geometry.geojson", ("mixes geometry kinds (2 point, 1 polygon)",
                                    "one file per kind")),
    Case("duplicate_ids.geojson", ("id is not unique: CA01", "--id"), feature="CA01"),
    Case("missing_id_column.geojson", ("no column named area_code", "columns are: ref, name"),
         spec=":area_code"),
    Case("population_text.csv", ("column population is not a number", "E01990002"),
         feature="E01990002", **COUNT),
    Case("population_negative.csv", ("column population is negative", "E01990003"),
         feature="E01990003", **COUNT),
    Case("population_empty.csv", ("column population is empty", "E01990002"),
         feature="E01990002", **COUNT),
    Case("coords_some_missing.csv", ("2 feature(s) without a geometry were dropped: "
                                     "line 3, line 5",), level="warning", role="--assets"),
    Case("coords_all_missing.csv", ("no feature has a geometry (or coordinates)",)),
    Case("cp1252.csv", level="ok", role="--assets"),  # points: assets, not areas
    Case("utf8_bom.csv", level="ok", role="--assets"),
    Case("far_outside.csv", ("1 feature(s) lie outside England (A2)",), level="warning",
         feature="A2", role="--assets"),
    # Fine as a table (validate says so), but not as a layer of areas or points.
    Case("no_coords.csv", ("no coordinate columns", "--coords X,Y"), level="ok",
         map_error=True),
    Case("unnamed_column.csv", ("column 2 has no header", "give every column a name")),
    Case("sheets.xlsx", ("no sheet named 'Nope'", "sheets are: Assets"), spec=":Nope"),
    Case("layers.gpkg", ("no layer named 'nope'; layers are: areas",), spec=":nope"),
    Case("coordinate_text.csv", ("line 3: column lat holds '53.1N', not a number",)),
    Case("legacy.xls", ("old Excel 97-2003 workbook", "save it from Excel as .xlsx")),
    Case("unknown.dat", ("not a vector format GDAL knows",)),
    Case("null_geometry.geojson", ("no feature has a geometry",)),
]


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def _no_crash(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.stdout + result.stderr


def _says(line: str, case: Case) -> None:
    assert case.file in line
    for phrase in case.phrases:
        assert phrase in line


@pytest.mark.parametrize("case", CASES, ids=str)
def test_validate_reports_the_finding(run, case):
    result = run("validate", case.path, *case.opts)
    _no_crash(result)
    assert result.exit_code == (1 if case.level == "error" else 0), result.stdout
    assert result.stderr == ""
    errors = _lines(result.stdout, "error:")
    if case.level == "error":
        assert len(errors) == 1, result.stdout
        _says(errors[0], case)
    else:
        assert errors == []
    if case.level in ("warning", "repair"):
        found = _lines(result.stdout, f"{case.level}:")
        assert len(found) == 1, result.stdout
        _says(found[0], case)
    if case.level == "ok":
        assert _lines(result.stdout, "warning:") == _lines(result.stdout, "repair:") == []


@pytest.mark.parametrize("case", CASES, ids=str)
def test_validate_json_reports_the_finding(run, case):
    result = run("validate", case.path, *case.opts, "--json")
    _no_crash(result)
    assert result.exit_code == (1 if case.level == "error" else 0)
    report = json.loads(result.stdout)
    assert report["ok"] is (case.level != "error")
    (file,) = report["files"]
    assert file["path"] == case.path
    if case.level == "ok":
        assert file["status"] == "ok"
        assert file["findings"] == []
        return
    assert file["status"] in (("errors", "unreadable") if case.level == "error"
                              else ("warnings",))
    (finding,) = [f for f in file["findings"] if f["level"] == case.level]
    _says(finding["message"], case)
    if case.feature:
        assert finding["feature"] == case.feature


@pytest.mark.parametrize("case", CASES, ids=str)
def test_map_stops_with_one_line(run, case, tmp_path):
    out = tmp_path / "out"
    result = run("map", case.role, case.path, *case.opts, "--out", out)
    _no_crash(result)
    if case.fails_map:
        assert result.exit_code == 2
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ")
        _says(line, case)
        assert not out.exists()
    else:
        assert result.exit_code == 0, result.stderr
        assert _lines(result.stderr, "error:") == []
        assert (out / "summary.json").exists()
        if case.phrases:
            (line,) = _lines(result.stderr, "warning:")
            _says(line, case)


VECTOR_ERRORS = [c for c in CASES if c.fails_map and c.file.endswith(
    (".geojson", ".shp", ".zip", ".gpkg", ".dat"))]


@pytest.mark.parametrize("case", VECTOR_ERRORS, ids=str)
def test_fiona_engine_gives_the_same_message(run, case, tmp_path):
    out = tmp_path / "out"
    result = run("map", case.role, case.path, *case.opts, "--engine", "fiona", "--out", out)
    _no_crash(result)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    _says(line, case)
    assert not out.exists()


def test_debug_shows_the_traceback(run, tmp_path):
    out = tmp_path / "out"
    result = run("--debug", "map", "--community", BAD / "truncated.geojson", "--out", out)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "broken JSON" in result.stderr.splitlines()[-1]
    assert not out.exists()


def test_missing_id_column_named_with_the_option(run, tmp_path):
    path = BAD / "missing_id_column.geojson"
    result = run("validate", path, "--id", "area_code")
    assert result.exit_code == 1
    (line,) = _lines(result.stdout, "error:")
    assert f"{path}: no column named area_code; columns are: ref, name" in line
    with pytest.raises(NbhoodError, match="no column named area_code"):
        read_layer(path, ReadOptions(id_column="area_code"))


# --- what the reader must get right, not just refuse ------------------------------------------

NAMES = ["Café on the Green", "£1 Book Swap"]


def test_cp1252_csv_keeps_accents_and_pound_signs():
    layer = read_layer(BAD / "cp1252.csv")
    assert layer.encoding == "cp1252"
    assert layer.frame["name"].tolist() == NAMES
    assert layer.frame["id"].tolist() == ["A1", "A2"]


def test_utf8_bom_is_not_part_of_the_first_column():
    layer = read_layer(BAD / "utf8_bom.csv")
    assert layer.encoding == "utf-8-sig"
    assert list(layer.frame.columns)[0] == "id"
    assert not any("\ufeff" in c for c in layer.frame.columns)
    assert layer.id_column == "id"
    assert layer.frame["name"].tolist() == NAMES


def test_zipped_shapefile_reads_with_its_crs():
    layer = read_layer(BAD / "zipped_shapefile.zip")
    assert layer.findings == []
    assert layer.source_crs == "EPSG:27700"
    assert layer.frame["id"].tolist() == ["CA01", "CA02"]
    assert layer.frame.total_bounds.tolist() == [450000, 350000, 452000, 351000]
    assert layer.frame.area.tolist() == [1_000_000, 1_000_000]


def test_no_prj_reads_when_told_the_crs():
    layer = read_layer(BAD / "no_prj.shp", ReadOptions(assume_crs="EPSG:27700"))
    assert [f.code for f in layer.findings] == ["assumed-crs"]
    assert layer.frame.total_bounds.tolist() == [450000, 350000, 452000, 351000]


def test_bowtie_is_repaired_and_named():
    layer = read_layer(BAD / "bowtie.geojson")
    (finding,) = layer.findings
    assert (finding.level, finding.code, finding.feature) == ("repair", "invalid-geometry", "CA02")
    assert "CA02" in finding.message
    frame = layer.frame.set_index("id")
    assert frame.geometry.is_valid.all()
    assert frame.geom_type["CA02"] == "MultiPolygon"  # the two triangles of the bow-tie
    assert frame.area["CA02"] > 0
    # Two triangles, each a quarter of the 0.02° square: half the square's area.
    assert frame.area["CA02"] == pytest.approx(frame.area["CA01"] * 2, rel=0.01)


def test_rows_without_coordinates_are_dropped_not_fatal():
    layer = read_layer(BAD / "coords_some_missing.csv")
    assert layer.frame["name"].tolist() == ["Library", "Surgery", "Gym"]
    assert layer.labels == ["line 2", "line 4", "line 6"]


def test_existing_sheet_reads_fine():
    layer = read_layer(f"{BAD / 'sheets.xlsx'}:Assets")
    assert layer.frame["name"].tolist() == ["Library", "Pharmacy"]
    layer = load_layer(f"{BAD / 'layers.gpkg'}:areas")
    assert layer.frame["id"].tolist() == ["CA01", "CA02"]


def test_no_coords_csv_is_a_table(run):
    result = run("validate", BAD / "no_coords.csv", "--json")
    assert result.exit_code == 0
    (file,) = json.loads(result.stdout)["files"]
    assert (file["kind"], file["features"], file["id_column"]) == ("table", 2, "id")


# --- the corpus itself ------------------------------------------------------------------------

MAKER = BAD / "make_bad.py"
NOT_CORPUS = {"README.md", "make_bad.py", "__pycache__"}


def test_every_file_has_a_case_and_a_readme_entry():
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in BAD.iterdir() if p.name not in NOT_CORPUS)
    covered = {c.file for c in CASES}
    for name in files:
        assert f"`{name}`" in readme, f"{name} is not in README.md"
        stem = name.split(".")[0]
        assert name in covered or any(c.startswith(f"{stem}.") for c in covered), name
    assert len(covered) >= 28


def test_make_bad_reproduces_the_corpus(tmp_path):
    maker = runpy.run_path(str(MAKER))
    subprocess.run([sys.executable, str(MAKER), str(tmp_path)], check=True,
                   capture_output=True)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in BAD.iterdir() if p.name not in NOT_CORPUS)
    same_libraries = maker["WRITTEN_WITH"] == {"gdal": pyogrio.__gdal_version_string__,
                                               "sqlite": sqlite3.sqlite_version}
    for name in written:
        new, old = tmp_path / name, BAD / name
        if name in maker["GDAL_WRITTEN"] and not same_libraries:
            if new.suffix in (".shp", ".zip", ".gpkg"):  # other GDAL: compare what they hold
                a, b = pyogrio.read_dataframe(new), pyogrio.read_dataframe(old)
                assert a.to_wkt().equals(b.to_wkt()) and a.crs == b.crs, name
            continue
        assert new.read_bytes() == old.read_bytes(), f"{name} differs from make_bad.py's"
