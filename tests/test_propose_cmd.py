"""`nbhood propose` from the command line: outputs, determinism, errors, and its layer read
back by `nbhood map`."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from conftest import SAMPLES, shared

OUTPUTS = [".nbhood", "community_areas.csv", "map.png", "proposals.csv", "proposals.geojson",
           "small_areas.csv", "summary.json"]


def sample_args(out, *extra):
    s = lambda name: SAMPLES / name  # noqa: E731
    return ["propose", "--source", f"{s('small_areas.geojson')}:sa_code",
            "--counts", s("small_area_population.csv"), "--join", "sa_code",
            "--community", f"{s('community_areas.geojson')}:id",
            "--nest", f"pcn={s('pcn_footprints.geojson')}:pcn_code", "--out", out, *extra]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One run on the sample town, shared by the tests that only read its outputs."""
    from typer.testing import CliRunner

    from nbhood_cli.cli import app

    out = tmp_path_factory.mktemp("propose") / "units"
    result = CliRunner().invoke(app, [str(a) for a in sample_args(out, "--json")])
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)


def test_writes_every_output_and_the_summary(sample_run):
    out, report = sample_run
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert report["outputs"] == ["proposals.geojson", "proposals.csv", "small_areas.csv",
                                 "community_areas.csv", "map.png", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary == {k: v for k, v in report.items() if k != "outputs"}
    assert summary["nest"] == {"layer": "pcn", "units": 4, "small_areas_outside": 0}
    assert summary["violations"]["below_min"] + summary["violations"]["above_max"] == 0


def test_layer_and_tables_agree_with_the_inputs(sample_run):
    out, report = sample_run
    layer = gpd.read_file(out / "proposals.geojson")
    table = pd.read_csv(out / "proposals.csv", keep_default_na=False)
    assert list(table.columns) == ["unit_id", "population", "n_small_areas", "small_areas",
                                   "community_ids", "parent", "compactness", "violation"]
    assert layer["unit_id"].tolist() == table["unit_id"].tolist() == \
        sorted(table["unit_id"])
    counts = pd.read_csv(SAMPLES / "small_area_population.csv").set_index("sa_code")
    for row in table.itertuples():
        codes = row.small_areas.split(";")
        assert len(codes) == row.n_small_areas
        assert counts.loc[codes, "population"].sum() == row.population
        assert 3000 <= row.population <= 10_000
    assert table["population"].sum() == counts["population"].sum() == report["population"]
    small = pd.read_csv(out / "small_areas.csv", keep_default_na=False)
    assert sorted(small["small_area"]) == sorted(counts.index)
    assert set(small["unit_id"]) == set(table["unit_id"])
    community = pd.read_csv(out / "community_areas.csv", keep_default_na=False)
    assert len(community) == 10
    assert (community["status"].isin(["kept whole", "merged"]).sum()
            == report["community_areas"]["in_one_unit"])


def test_reruns_are_byte_identical(run, sample_run, tmp_path):
    first, _ = sample_run
    again = tmp_path / "again"
    assert run(*sample_args(again)).exit_code == 0
    for name in OUTPUTS:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name


def test_the_proposals_feed_nbhood_map(run, sample_run, tmp_path):
    out, report = sample_run
    result = run("map", "--community", f"{out / 'proposals.geojson'}:unit_id",
                 "--statutory", f"pcn={SAMPLES / 'pcn_footprints.geojson'}:pcn_code",
                 "--population", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--out", tmp_path / "map")
    assert result.exit_code == 0, result.stderr
    population = pd.read_csv(tmp_path / "map" / "tables" / "population.csv")
    assert len(population) == report["units"]
    assert population["population"].sum() == pytest.approx(report["population"])
    # nbhood map's own best fit of each unit is the footprint it was nested in
    tensions = pd.read_csv(tmp_path / "map" / "tables" / "tensions.csv")
    parent = pd.read_csv(out / "proposals.csv").set_index("unit_id")["parent"]
    assert dict(zip(tensions["community_id"], tensions["best_fit"], strict=True)) == \
        parent.to_dict()


@pytest.mark.realdata
def test_trafford_nested_in_wards_prints_the_objective(run, tmp_path):
    t = lambda name: shared("trafford", name)  # noqa: E731
    out = tmp_path / "trafford"
    result = run("propose", "--source", f"{t('lsoa.geojson')}:lsoa21cd",
                 "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd",
                 "--nest", f"ward={t('wards.geojson')}:wd23cd", "--no-map", "--out", out)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"wrote {out}/"
    summary = json.loads((out / "summary.json").read_text())
    v = summary["violations"]
    assert lines[-2].startswith(f"{summary['units']} units from 139 small areas "
                                "(241,025 people); outside the bounds: "
                                f"{v['below_min']} below --min-pop, 0 above --max-pop")
    assert "Proposed units" in result.stdout


@pytest.mark.parametrize("extra, message", [
    (["--min-pop", "12000"], "error: --min-pop 12000 is above --max-pop 10000; lower one or "
                             "raise the other"),
    (["--nest", "footprints.geojson"], "error: --nest footprints.geojson: write it as "
                                       "NAME=PATH[:ID], e.g. ward=wards.geojson:wd23cd"),
])
def test_bad_options_fail_in_one_line_before_reading(run, tmp_path, extra, message):
    out = tmp_path / "out"
    args = sample_args(out)
    if extra[0] == "--nest":
        args = args[:args.index("--nest")] + args[args.index("--nest") + 2:]
    result = run(*args, *extra)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert not out.exists()


def test_a_nest_layer_in_another_crs_gives_the_same_units(run, sample_run, tmp_path):
    first, _ = sample_run
    path = tmp_path / "pcn_3857.geojson"
    gpd.read_file(SAMPLES / "pcn_footprints.geojson").to_crs(3857).to_file(path)
    args = sample_args(tmp_path / "again")
    args[args.index("--nest") + 1] = f"pcn={path}:pcn_code"
    assert run(*args).exit_code == 0
    assert (tmp_path / "again" / "proposals.csv").read_bytes() == \
        (first / "proposals.csv").read_bytes()


def mislabelled(frame):
    """British National Grid metres declared as Web Mercator: the layer lands off Africa."""
    return frame.to_crs(27700).set_crs(3857, allow_override=True)


def as_points(frame):
    return frame.assign(geometry=frame.representative_point())


@pytest.mark.parametrize("option, name, edit, message", [
    ("--nest", "pcn_footprints.geojson", mislabelled,
     "no small area lies in a unit of --nest pcn; check it covers the same place as --source "
     "(and its CRS)"),
    ("--nest", "pcn_footprints.geojson", as_points, "holds Point geometries; --nest needs "
                                                    "polygons"),
    ("--community", "community_areas.geojson", as_points,
     "holds Point geometries; --community needs polygons"),
])
def test_layers_that_cannot_hold_units_fail_in_one_line(run, tmp_path, option, name, edit,
                                                        message):
    path = tmp_path / name
    edit(gpd.read_file(SAMPLES / name)).to_file(path)
    out = tmp_path / "out"
    args = sample_args(out)
    at = args.index(option) + 1
    args[at] = args[at].replace(str(SAMPLES / name), str(path))
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: {path}: {message}"
    assert not out.exists()


def test_out_must_be_a_new_folder(run, tmp_path):
    result = run(*sample_args(tmp_path / "units.geojson"))
    assert result.exit_code == 2
    assert "--out is a folder; give a name without a file extension" in result.stderr
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "note.txt").write_text("keep")
    result = run(*sample_args(kept))
    assert result.exit_code == 2
    assert result.stderr == f"error: {kept}: already exists; pass --overwrite to replace it\n"
    assert (kept / "note.txt").read_text() == "keep"


def test_small_areas_need_a_code_column(run, tmp_path):
    frame = gpd.read_file(SAMPLES / "small_areas.geojson").drop(columns=["sa_code"])
    frame["people"] = 2000
    path = tmp_path / "plain.geojson"
    frame.to_file(path)
    result = run("propose", "--source", path, "--count", "people", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {path}: name the small areas' code column with --source PATH:ID")


def test_negative_seed_is_a_usage_error(run, tmp_path):
    result = run("propose", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--seed", "-1", "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: Invalid value for '--seed': Input should "
                                              "be greater than or equal to 0")
    assert not (tmp_path / "p").exists()
