"""Unit tests of the shared reader's decisions: encodings, ids, coordinates, counts, CRS."""

import json
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


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _population_run(run, tmp_path, *args):
    """`nbhood population` on the sample town with the given inputs; (result, out folder)."""
    out = tmp_path / "out"
    defaults = {"--source": SAMPLES / "small_areas.geojson",
                "--counts": SAMPLES / "small_area_population.csv",
                "--targets": SAMPLES / "community_areas.geojson"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = [str(v) for k, v in {**defaults, **given}.items() for v in (k, v)]
    return run("population", *options, "--join", "sa_code", "--out", out), out


def _one_error(result, out) -> str:
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    (line,) = result.stderr.splitlines()
    return line


def _edited_areas(path, edit):
    """The sample community areas as GeoJSON, changed in place by ``edit``, written to path."""
    areas = json.loads((SAMPLES / "community_areas.geojson").read_text())
    edit(areas)
    path.write_text(json.dumps(areas))
    return path


def test_every_feature_dropped_is_an_error(run, tmp_path):
    """Degenerate polygons repair to nothing: no 0-area outputs that look like results."""
    def flatten(areas):
        for feature in areas["features"]:
            x, y = feature["geometry"]["coordinates"][0][0]
            feature["geometry"] = {"type": "Polygon", "coordinates": [
                [[x, y], [x + 0.001, y], [x + 0.002, y], [x, y]]]}

    path = _edited_areas(tmp_path / "flat.geojson", flatten)
    line = _one_error(*_population_run(run, tmp_path, "--targets", path))
    assert line == (f"error: {path}: every feature was dropped: 10 collapsed to nothing when "
                    "repaired (zero area or too few points: CA01, CA02, CA03, CA04, CA05 … 5 "
                    "more); fix the shapes and export the layer again")


@pytest.fixture
def two_layers(tmp_path):
    import geopandas as gpd

    areas = gpd.read_file(SAMPLES / "community_areas.geojson")
    path = tmp_path / "two.gpkg"
    areas.to_file(path, layer="ca")
    gpd.read_file(SAMPLES / "wards.geojson").to_file(path, layer="wards")
    return path


def test_a_file_of_several_layers_must_name_one(run, tmp_path, two_layers):
    line = _one_error(*_population_run(run, tmp_path, "--targets", two_layers))
    assert line == (f"error: {two_layers}: holds 2 layers (ca, wards); pick one by adding "
                    f":LAYER to the path, e.g. {two_layers}:ca")
    assert len(read_layer(f"{two_layers}:wards").frame) == 8


def test_a_zip_of_two_shapefiles_takes_a_layer_and_keeps_the_id_syntax(tmp_path):
    import zipfile

    import geopandas as gpd

    areas = gpd.read_file(SAMPLES / "community_areas.geojson").to_crs(27700)
    archive = tmp_path / "shp.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, frame in (("ca", areas), ("b_ca", areas.iloc[:3])):
            frame.to_file(tmp_path / f"{name}.shp")
            for part in tmp_path.glob(f"{name}.*"):
                bundle.write(part, part.name)
    with pytest.raises(NbhoodError, match=r"holds 2 layers \(ca, b_ca\)"):
        read_layer(archive)
    assert parse_source(f"{archive}:b_ca") == Source(archive, "b_ca", None)
    assert parse_source(f"{archive}:b_ca:name") == Source(archive, "b_ca", "name")
    assert len(read_layer(f"{archive}:b_ca").frame) == 3
    single = tmp_path / "one.zip"  # one layer: PATH:X still names the id column
    with zipfile.ZipFile(single, "w") as bundle:
        for part in tmp_path.glob("ca.*"):
            bundle.write(part, part.name)
    assert parse_source(f"{single}:name") == Source(single, None, "name")
    assert read_layer(f"{single}:name").id_column == "name"


def test_a_lone_layer_beside_plain_tables_is_read(tmp_path):
    """QGIS stores layer_styles in the GeoPackage: that is not a second layer to pick."""
    import geopandas as gpd
    import pyogrio

    path = tmp_path / "styled.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"style": ["x"]}), path, layer="layer_styles")
    gpd.read_file(SAMPLES / "wards.geojson").to_file(path, layer="wards")
    assert len(read_layer(path).frame) == 8


@pytest.mark.parametrize("header", ["sa_code,population,population",
                                    "sa_code,population, population"])
def test_repeated_csv_header_is_refused(run, tmp_path, header):
    path = _csv(tmp_path, f"{header}\nMV0001,1759,1\nMV0002,1663,2\n")
    line = _one_error(*_population_run(run, tmp_path, "--counts", path))
    assert line == f"error: {path}: column names repeat (population); rename them"


def test_repeated_xlsx_header_is_refused(tmp_path):
    path = tmp_path / "p.xlsx"
    pd.DataFrame([["MV0001", 1, 2]]).to_excel(path, header=["sa_code", "n", "n"], index=False)
    with pytest.raises(NbhoodError, match=r"p.xlsx: column names repeat \(n\); rename them$"):
        read_table(path)


@pytest.mark.parametrize("text, line, fields", [
    ("sa_code,population\nMV0001,1759,extra,cols\nMV0002,1663\n", 2, 4),
    ("sa_code,population\nMV0001,1759\nMV0002,1663,extra\n", 3, 3),
    ('sa_code,population\n"MV\n0001",1759\nMV0002,1663,9\n', 4, 3),
])
def test_long_row_names_its_line_and_field_counts(run, tmp_path, text, line, fields):
    path = _csv(tmp_path, text)
    result = _population_run(run, tmp_path, "--counts", path)
    assert _one_error(*result) == (
        f"error: {path}: line {line} has {fields} fields but the header has 2; fix that row "
        "(a stray ',', or a value holding ',' that needs quotes)")


def test_trailing_delimiters_on_every_row_are_read(tmp_path):
    """Before index_col=False pandas took sa_code for an index and shifted every value."""
    frame = read_table(_csv(tmp_path, "sa_code,population\nMV0001,1759,\nMV0002,1663,\n")).frame
    assert frame.to_dict("list") == {"sa_code": ["MV0001", "MV0002"], "population": [1759, 1663]}


@pytest.mark.parametrize("value", ["inf", "-inf", "1.5e400", "Infinity"])
def test_infinite_count_in_csv_is_refused(run, tmp_path, value):
    path = _csv(tmp_path, f"sa_code,population\nMV0001,1759\nMV0002,{value}\n")
    line = _one_error(*_population_run(run, tmp_path, "--counts", path))
    assert line == (f"error: {path}: column population is infinite (or too large to store) in "
                    "1 feature(s) (MV0002); fix the values (whole numbers of people, no text)")
    checked = run("validate", path, "--count", "population", "--json")
    assert checked.exit_code == 1
    (finding,) = json.loads(checked.stdout)["files"][0]["findings"]
    assert finding["message"] == line.removeprefix("error: ")


def test_infinite_or_overflowing_count_in_geojson_is_refused(tmp_path):
    areas = json.loads((SAMPLES / "small_areas.geojson").read_text())
    for n, feature in enumerate(areas["features"]):
        feature["properties"]["population"] = 1000 + n
    path = tmp_path / "sa.geojson"
    areas["features"][1]["properties"]["population"] = float("inf")
    path.write_text(json.dumps(areas))  # "Infinity", which GDAL reads
    with pytest.raises(NbhoodError, match=r"population is infinite \(or too large to store\) "
                                          r"in 1 feature\(s\) \(MV0002\)"):
        read_layer(path, ReadOptions(counts=("population",)))
    areas["features"][1]["properties"]["population"] = 1e308
    areas["features"][2]["properties"]["population"] = 1e308
    path.write_text(json.dumps(areas))
    with pytest.raises(NbhoodError, match=r"population is so large the column's total "
                                          r"overflows in 2 feature\(s\) \(MV0002, MV0003\)"):
        read_layer(path, ReadOptions(counts=("population",)))


def test_parse_counts_refuses_infinities_of_a_numeric_column():
    _, (mask, what) = parse_counts(pd.Series([1.0, float("inf")]))
    assert what == "is infinite (or too large to store)" and mask.tolist() == [False, True]


def test_one_corrupt_vertex_is_named_in_a_short_line(run, tmp_path):
    def corrupt(areas):
        areas["features"][0]["geometry"]["coordinates"][0][1] = [1e300, 1e300]

    path = _edited_areas(tmp_path / "huge.geojson", corrupt)
    line = _one_error(*_population_run(run, tmp_path, "--targets", path))
    assert line == (f"error: {path}: 1 feature(s) have coordinates out of range for degrees "
                    "(±180 longitude, ±90 latitude): CA01 reaches 1e+300, 1e+300; "
                    "fix those vertices")


def test_metres_labelled_degrees_print_compact_numbers(tmp_path):
    path = tmp_path / "m.geojson"
    point = {"type": "Point", "coordinates": [4.5e12, 3.3e12]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "a"}, "geometry": point}]}))
    with pytest.raises(NbhoodError, match=r"coordinates reach 4\.5e\+12, 3\.3e\+12 — metres"):
        read_layer(path)


def test_a_few_bad_latitudes_are_named_not_called_metres(run, tmp_path):
    rows = "".join(f"A{n},52.9{n},-0.88\n" for n in range(5))
    path = _csv(tmp_path, f"asset_id,lat,lon\n{rows}A9,152.9,-0.9\n")
    line = _one_error(*_population_run(run, tmp_path, "--weights", path,
                                       "--method", "dasymetric"))
    assert line == (f"error: {path}: 1 row(s) have coordinates out of range for degrees "
                    "(±180 longitude, ±90 latitude): line 7 lon -0.9 lat 152.9; fix those values")
    metres = _csv(tmp_path, "asset_id,lat,lon\nA1,350000,450000\nA2,52.9,-0.9\n", "m.csv")
    with pytest.raises(NbhoodError, match="which are metres .*rename them easting/northing"):
        read_layer(metres)


def test_coords_and_wkt_together_are_refused(run, tmp_path):
    result = run("validate", SAMPLES / "assets.csv", "--coords", "lon,lat", "--wkt", "wkt")
    assert result.exit_code == 2
    assert result.stderr == ("error: give one of --coords and --wkt: both say where a table's "
                             "geometry is\n")


def test_a_cut_off_shapefile_is_named_not_read_as_features_without_geometry(run, tmp_path):
    import geopandas as gpd

    gpd.read_file(SAMPLES / "wards.geojson").to_file(tmp_path / "wards.shp")
    whole = (tmp_path / "wards.shp").read_bytes()
    assert run("validate", tmp_path / "wards.shp").exit_code == 0  # the header is as GDAL wrote
    (tmp_path / "wards.shp").write_bytes(whole[:len(whole) // 2])
    result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--targets", tmp_path / "wards.shp", "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path / 'wards.shp'}: the shapefile is cut short "
                             f"({len(whole) // 2:,} of the {len(whole):,} bytes its header "
                             "declares); copy or export it again\n")
    assert not (tmp_path / "p.csv").exists()


def test_extra_colon_parts_are_refused_not_dropped(run):
    result = run("validate", f"{SAMPLES / 'wards.geojson'}:ward_code:x")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {SAMPLES / 'wards.geojson'}:ward_code:x: too many ':' "
                             "parts after the file (ward_code:x); write PATH:ID\n")


def test_a_shapefile_without_its_shx_says_so(run, tmp_path):
    import geopandas as gpd

    gpd.read_file(SAMPLES / "wards.geojson").to_file(tmp_path / "wards.shp")
    (tmp_path / "wards.shx").unlink()
    result = run("inspect", tmp_path / "wards.shp")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path / 'wards.shp'}: the shapefile's .shx part is "
                             "missing; copy all of its files (.shp, .shx, .dbf, .prj) together, "
                             "or zip them\n")


def test_a_delimiter_ending_every_line_header_too_is_read_as_absent(tmp_path):
    plain = SAMPLES / "small_area_population.csv"
    trailing = tmp_path / "pop.csv"
    trailing.write_text("".join(f"{line},\n" for line in plain.read_text().splitlines()))
    assert read_table(trailing).frame.equals(read_table(plain).frame)


def test_a_path_with_a_colon_is_not_cut_at_a_folder(run, tmp_path):
    """`d:v2/wards.geojson:ward_code` with a folder `d` beside `d:v2`: the file is the path."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d:v2").mkdir()
    wards = tmp_path / "d:v2" / "wards.geojson"
    wards.write_bytes((SAMPLES / "wards.geojson").read_bytes())
    result = run("validate", f"{wards}:ward_code", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["id_column"] == "ward_code"


def test_a_long_row_is_named_beside_a_large_wkt_field(run, tmp_path):
    """The row scan must not stop at csv's 131,072-character field limit (exit 70 before)."""
    ring = ",".join(f"{474000 + i % 100} {334000 + i // 100}" for i in range(20_000))
    path = _csv(tmp_path, f'id,wkt\nA,"POLYGON(({ring}))"\nB,"POINT(474000 334000)",extra\n')
    assert len(ring) > 131_072
    result = run("validate", path, "--wkt", "wkt", "--json")
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["files"][0]["findings"]
    assert finding["message"] == (f"{path}: line 3 has 3 fields but the header has 2; fix that "
                                  "row (a stray ',', or a value holding ',' that needs quotes)")
