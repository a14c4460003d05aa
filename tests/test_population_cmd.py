"""`nbhood population`: the engine from the command line, on real and sample data."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from conftest import SAMPLES, shared


def _args(out, method="areal", *extra):
    t = lambda name: shared("trafford", name)  # noqa: E731
    return ["population", "--source", f"{t('lsoa.geojson')}:lsoa21cd",
            "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd",
            "--targets", f"{t('community_areas.geojson')}:id", "--method", method,
            "--out", out, *extra]


@pytest.mark.parametrize("method", ["areal", "centroid"])
def test_population_csv_matches_the_engine(run, tmp_path, method):
    out = tmp_path / "pop.csv"
    result = run(*_args(out, method), "--json")
    assert result.exit_code == 0, result.stderr
    assert "CA09: invalid geometry" in result.stderr  # the repair is reported
    report = json.loads(result.stdout)
    table = pd.read_csv(out)
    assert list(table.columns) == ["area_id", "name", "population", "population_rounded",
                                   "n_sources", "split_source_share", "method"]
    assert len(table) == 25 and set(table["method"]) == {method}
    totals = report["totals"]
    assert totals["source_total"] == 241_025
    assert totals["conserved"] is True
    assert table["population"].sum() == pytest.approx(totals["allocated"])
    assert totals["allocated"] - totals["counted_twice"] + totals["unallocated"] == \
        pytest.approx(241_025)


def test_dasymetric_with_weight_points_and_fallback(run, tmp_path):
    out = tmp_path / "pop.geojson"
    weights = f"{shared('trafford', 'gp_practices.csv')}:registered_patients"
    result = run(*_args(out, "dasymetric", "--weights", weights, "--json"))
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    # 26 practices sit in 21 distinct LSOAs; the other 118 of 139 fall back to areal.
    assert totals["fallback_small_areas"] == 139 - 21
    assert "118 small area(s) had no weight" in result.stderr
    assert len(gpd.read_file(out)) == 25


def test_dasymetric_needs_weights(run, tmp_path):
    result = run(*_args(tmp_path / "p.csv", "dasymetric"))
    assert result.exit_code == 2
    assert result.stderr == "error: --method dasymetric needs --weights POINTS[:COLUMN]\n"
    assert not (tmp_path / "p.csv").exists()


def test_refuses_to_overwrite(run, tmp_path):
    out = tmp_path / "p.csv"
    out.write_text("keep")
    result = run(*_args(out))
    assert result.exit_code == 2
    assert out.read_text() == "keep"


def test_sample_town_wards_hold_everyone(run, tmp_path):
    """Sample wards tessellate the same outline as the small areas: nothing unallocated."""
    out = tmp_path / "wards.csv"
    result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--targets", f"{SAMPLES / 'wards.geojson'}:ward_code", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    expected = pd.read_csv(SAMPLES / "small_area_population.csv")["population"].sum()
    assert totals["unallocated"] == pytest.approx(0, abs=1e-6)
    assert totals["counted_twice"] == pytest.approx(0, abs=1e-6)
    assert pd.read_csv(out)["population"].sum() == pytest.approx(expected)


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows + [rows[1]], "lsoa21cd is not unique: E01006074"),
    (lambda rows: [rows[0], rows[1].replace(",1634,", ",many,"), *rows[2:]],
     "column population is not a number in 1 feature(s) (E01006074)"),
    (lambda rows: [rows[0], rows[1].replace(",1634,", ",-5,"), *rows[2:]],
     "column population is negative in 1 feature(s) (E01006074)"),
])
def test_bad_counts_name_the_rows(run, tmp_path, edit, message):
    rows = shared("trafford", "lsoa_population.csv").read_text().splitlines()
    counts = tmp_path / "counts.csv"
    counts.write_text("\n".join(edit(rows)) + "\n", encoding="utf-8")
    args = _args(tmp_path / "p.csv")
    args[args.index("--counts") + 1] = str(counts)
    result = run(*args)
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {counts}: ") and message in last
    assert not (tmp_path / "p.csv").exists()


def test_output_named_like_an_input_is_refused(run, tmp_path):
    """`--out pop.csv --overwrite` where pop.csv is the counts would destroy the input."""
    counts = tmp_path / "pop.csv"
    counts.write_bytes((SAMPLES / "small_area_population.csv").read_bytes())
    result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", counts, "--join", "sa_code", "--targets",
                 SAMPLES / "wards.geojson", "--out", counts, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {counts}: is an input of this run; write the output "
                             "to another file\n")
    assert counts.read_bytes() == (SAMPLES / "small_area_population.csv").read_bytes()


def _town(out, *extra, source=None, targets=None):
    """The sample town: small areas joined to their counts, community areas as targets."""
    return ["population", "--source", source or f"{SAMPLES / 'small_areas.geojson'}:sa_code",
            "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
            "--targets", targets or SAMPLES / "community_areas.geojson", "--out", out, *extra]


def _reshaped(tmp_path, name, edit):
    """A sample layer with its geometry changed by ``edit``, written to tmp_path."""
    frame = gpd.read_file(SAMPLES / name)
    path = tmp_path / f"edited_{name}"
    frame.assign(geometry=edit(frame.geometry)).to_file(path)
    return path


def test_polygon_centroids_are_refused(run, tmp_path):
    """Small-area polygons given as --centroids used to fail conservation with exit 0."""
    out = tmp_path / "p.csv"
    polygons = SAMPLES / "small_areas.geojson"
    result = run(*_town(out, "--method", "centroid", "--centroids", f"{polygons}:sa_code"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {polygons}: holds Polygon geometries (MV0001, MV0002, MV0003, MV0004, MV0005 "
        "… 55 more); --centroids needs one point per small area (its population-weighted "
        "centroid); leave it out to use each small area's point on surface\n")
    assert not out.exists()


@pytest.mark.parametrize("role, name, edit, message", [
    ("targets", "community_areas.geojson", lambda g: g.representative_point(),
     "holds Point geometries; --targets needs polygons"),
    ("targets", "community_areas.geojson", lambda g: g.boundary,
     "holds LineString geometries; --targets needs polygons"),
    ("source", "small_areas.geojson", lambda g: g.representative_point(),
     "holds Point geometries; --source needs polygons"),
])
def test_points_or_lines_as_areas_are_refused(run, tmp_path, role, name, edit, message):
    """They used to give every target 0 people and exit 0."""
    path = _reshaped(tmp_path, name, edit)
    out = tmp_path / "p.csv"
    spec = f"{path}:sa_code" if role == "source" else str(path)
    result = run(*_town(out, **{role: spec}))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: {path}: {message}"
    assert not out.exists()


def test_targets_away_from_the_small_areas_warn(run, tmp_path):
    """Not an error (the figures are true: nobody lives there), but a likely wrong file."""
    far = _reshaped(tmp_path, "community_areas.geojson",
                    lambda g: g.to_crs(27700).translate(xoff=50_000).to_crs(g.crs))
    out = tmp_path / "p.csv"
    result = run(*_town(out, "--json", targets=far))
    assert result.exit_code == 0, result.stderr
    assert (f"warning: {far}: no area receives anyone although the small areas hold "
            "112,297 people; the layers do not overlap: check they cover the same place (and "
            "their CRS)") in result.stderr.splitlines()
    assert json.loads(result.stdout)["totals"]["allocated"] == 0
    assert pd.read_csv(out)["population"].eq(0).all()


def test_join_without_counts_is_refused(run, tmp_path):
    """--join only links --source to --counts; alone it was silently ignored."""
    out = tmp_path / "p.csv"
    args = _town(out)
    at = args.index("--counts")
    del args[at:at + 2]
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == ("error: --join needs --counts: it names the code column that "
                             "links the small areas to that table; add it or leave out "
                             "--join\n")
    assert not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--centroids", SAMPLES / "small_areas.geojson"],
     "--centroids is for --method centroid, not areal; add --method centroid or leave out "
     "--centroids"),
    (["--method", "centroid", "--weights", SAMPLES / "small_areas.geojson"],
     "--weights is for --method dasymetric, not centroid; add --method dasymetric or leave "
     "out --weights"),
    (["--assume-crs", "banana"], "--assume-crs banana: "),
    (["--crs", "EPSG:4326"], "--crs EPSG:4326: is not a projected CRS"),
])
def test_options_that_would_be_ignored_or_are_wrong_fail_first(run, tmp_path, extra, message):
    """An option the run would not use, or a CRS name that means nothing, is refused before
    any file is read, even when no file needs it."""
    out = tmp_path / "p.csv"
    result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--targets", SAMPLES / "wards.geojson", *extra, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1
    assert not out.exists()


def test_a_small_area_repeating_anothers_shape_warns(run, tmp_path):
    """A copied row counts its people twice (conservation still holds: it is in the source
    total); exact repeats are caught, with both codes."""
    small = gpd.read_file(SAMPLES / "small_areas.geojson")
    copy = small.iloc[[0]].assign(sa_code="MVX999")
    doubled = tmp_path / "small.geojson"
    pd.concat([small, copy], ignore_index=True).to_file(doubled)
    counts = pd.read_csv(SAMPLES / "small_area_population.csv")
    extra = tmp_path / "counts.csv"
    pd.concat([counts, pd.DataFrame({"sa_code": ["MVX999"], "population": [1759]})]).to_csv(
        extra, index=False)
    result = run("population", "--source", f"{doubled}:sa_code", "--counts", extra, "--join",
                 "sa_code", "--targets", SAMPLES / "wards.geojson")
    assert result.exit_code == 0, result.stderr
    assert (f"warning: {doubled}: 1 small area(s) repeat another's shape (MVX999 = "
            f"{small['sa_code'][0]}): their people are counted twice; remove the copies"
            ) in result.stderr.splitlines()
    plain = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                "--targets", SAMPLES / "wards.geojson")
    assert "repeat" not in plain.stderr
