"""Unit tests of the shared reader's decisions: encodings, ids, coordinates, counts, CRS."""

from pathlib import Path

import pandas as pd
import pytest
import shapely

from nbhood_cli.errors import NbhoodError
from nbhood_cli.io.read import (
    ReadOptions,
    Source,
    detect_id_column,
    load_layer,
    parse_counts,
    parse_source,
    read_layer,
)
from nbhood_cli.io.tables import decode, read_table


@pytest.mark.parametrize("raw, text, encoding", [
    ("Café £5".encode(), "Café £5", "utf-8"),
    (b"\xef\xbb\xbf" + "Café".encode(), "Café", "utf-8-sig"),
    ("Café £5".encode("cp1252"), "Café £5", "cp1252"),
    (b"plain ascii", "plain ascii", "utf-8"),
])
def test_decode(raw, text, encoding):
    assert decode(raw, "f.csv") == (text, encoding)


def test_semicolon_csv_and_codes_stay_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code;population\n01234;1500\n00999;20\n", encoding="utf-8")
    frame = read_table(path).frame
    assert list(frame["code"]) == ["01234", "00999"]
    assert list(frame["population"]) == [1500, 20]


@pytest.mark.parametrize("columns, expected", [
    (["name", "wd23cd", "lsoa21cd"], "wd23cd"),
    (["name", "id", "pcn_code"], "id"),
    (["practice_code", "pcn_code"], "practice_code"),
    (["name", "population"], None),
])
def test_detect_id_column_unique(columns, expected):
    frame = pd.DataFrame({c: [f"{c}{i}" for i in range(3)] for c in columns})
    assert detect_id_column(frame) == expected


def test_detect_id_column_skips_repeated_foreign_keys():
    frame = pd.DataFrame({"wd23cd": ["W1", "W1"], "practice_code": ["P1", "P2"]})
    assert detect_id_column(frame) == "practice_code"


def test_detect_id_column_falls_back_to_first_candidate_when_none_unique():
    frame = pd.DataFrame({"id": ["a", "a"], "pcn_code": ["x", "x"]})
    assert detect_id_column(frame) == "id"


@pytest.mark.parametrize("values, problem", [
    (["1", "2,345", " 7 "], None),
    (["1", "x"], "is not a number"),
    (["1", "-4"], "is negative"),
    (["1", None], "is empty"),
])
def test_parse_counts(values, problem):
    numbers, found = parse_counts(pd.Series(values, dtype=object))
    if problem is None:
        assert found is None
        assert list(numbers) == [1.0, 2345.0, 7.0]
    else:
        assert found[1] == problem
        assert found[0].tolist() == [False, True]


@pytest.mark.parametrize("values, dtype, problem", [
    ([1, 2345, 7], "int64", None),
    ([1.0, -4.0], "float64", "is negative"),
    ([1.0, float("nan")], "float64", "is empty"),
])
def test_parse_counts_of_a_column_already_numeric(values, dtype, problem):
    """The same answers without the text conversion (registrations: a million rows)."""
    numbers, found = parse_counts(pd.Series(values, dtype=dtype))
    if problem is None:
        assert found is None and list(numbers) == [1.0, 2345.0, 7.0]
    else:
        assert found[1] == problem
        assert found[0].tolist() == [False, True]


def test_parse_source(tmp_path):
    gpkg, geojson = tmp_path / "a.gpkg", tmp_path / "b.geojson"
    gpkg.write_bytes(b"x")
    geojson.write_bytes(b"x")
    assert parse_source(f"{gpkg}:wards") == Source(gpkg, "wards", None)
    assert parse_source(f"{gpkg}:wards:wd23cd") == Source(gpkg, "wards", "wd23cd")
    assert parse_source(str(gpkg)) == Source(gpkg, None, None)
    assert parse_source(f"{geojson}:id") == Source(geojson, None, "id")
    assert parse_source("nope.gpkg:x") == Source(Path("nope.gpkg:x"))


def _csv(tmp_path, text, name="p.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lonlat_csv_becomes_points_in_working_crs(tmp_path):
    path = _csv(tmp_path, "id,lat,lng\na,53.4,-2.3\n")
    layer = read_layer(path)
    assert layer.geometry_source == "lon/lat columns lng, lat"
    assert layer.frame.crs.to_epsg() == 27700
    from pyproj import Transformer

    expected = Transformer.from_crs(4326, 27700, always_xy=True).transform(-2.3, 53.4)
    assert layer.frame.geometry.iloc[0].coords[0] == pytest.approx(expected, abs=1e-6)


def test_easting_northing_csv(tmp_path):
    layer = read_layer(_csv(tmp_path, "id,Easting,Northing\na,450000,350000\n"))
    assert layer.source_crs == "EPSG:27700"
    assert layer.frame.geometry.iloc[0].coords[0] == (450000.0, 350000.0)


def test_wkt_column_needs_assumed_crs(tmp_path):
    path = _csv(tmp_path, 'id,wkt\na,"POINT (450000 350000)"\n')
    with pytest.raises(NbhoodError, match="has no coordinate reference system"):
        read_layer(path)
    layer = read_layer(path, ReadOptions(assume_crs="EPSG:27700"))
    assert layer.geometry_source == "WKT column wkt"
    assert layer.frame.geometry.iloc[0].equals(shapely.Point(450000, 350000))


def test_coords_option_names_columns(tmp_path):
    path = _csv(tmp_path, "id,e,n\na,450000,350000\n")
    layer = read_layer(path, ReadOptions(coords=("e", "n")))
    assert layer.source_crs == "EPSG:27700"


def test_working_crs_must_be_projected(tmp_path):
    path = _csv(tmp_path, "id,lat,lon\na,53.4,-2.3\n")
    with pytest.raises(NbhoodError, match="is not a projected CRS"):
        read_layer(path, ReadOptions(crs="EPSG:4326"))


def test_other_working_crs(tmp_path):
    path = _csv(tmp_path, "id,lat,lon\na,53.4,-2.3\n")
    layer = read_layer(path, ReadOptions(crs="EPSG:32630"))
    assert layer.frame.crs.to_epsg() == 32630


def test_findings_are_collected_not_raised(tmp_path):
    path = _csv(tmp_path, "id,lat,lon,population\na,53.4,-2.3,5\na,53.41,-2.3,x\n")
    layer = load_layer(path, ReadOptions(counts=("population",)))
    assert [f.code for f in layer.errors] == ["duplicate-id", "bad-count"]
    expected = r"id is not unique: a .*\(and 1 more: run nbhood validate\)"
    with pytest.raises(NbhoodError, match=expected):
        read_layer(path, ReadOptions(counts=("population",)))
