"""`nbhood tensions`: the headline report from the command line."""

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from conftest import SAMPLES, shared


def trafford_args(command="tensions"):
    t = lambda name: shared("trafford", name)  # noqa: E731
    return [command, "--community", f"{t('community_areas.geojson')}:id",
            "--statutory", f"ward={t('wards.geojson')}:wd23cd",
            "--statutory", f"locality={t('localities.geojson')}:locality",
            "--source", f"{t('lsoa.geojson')}:lsoa21cd",
            "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd"]


def sample_args(command="tensions"):
    s = SAMPLES
    return [command, "--community", f"{s / 'community_areas.geojson'}:id",
            "--statutory", f"ward={s / 'wards.geojson'}:ward_code",
            "--statutory", f"pcn={s / 'pcn_footprints.geojson'}:pcn_code",
            "--source", f"{s / 'small_areas.geojson'}:sa_code",
            "--counts", s / "small_area_population.csv", "--join", "sa_code"]


def test_folder_output_and_summary_on_trafford(run, tmp_path):
    out = tmp_path / "t"
    result = run(*trafford_args(), "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(summary["outputs"]) == sorted([
        "tensions.csv", "contested.geojson", "contested.csv", "gaps.geojson", "gaps.csv",
        "slivers.geojson", "slivers.csv", "size_bands.csv"])
    assert summary["population"]["conserved"] is True
    assert sum(summary["tension"]["ward"].values()) == 25
    tensions = pd.read_csv(out / "tensions.csv")
    assert len(tensions) == 50 and set(tensions["layer"]) == {"ward", "locality"}
    sale = tensions[(tensions["name"] == "Sale") & (tensions["layer"] == "ward")].iloc[0]
    assert sale["severity"] == "high" and sale["split_count"] == 5
    # Localities are whole wards: an area inside one ward is inside one locality.
    by = tensions.pivot(index="community_id", columns="layer", values="fit")
    assert (by["locality"] >= by["ward"] - 1e-9).all()
    # SOURCES.md: about 40 % of Trafford's mid-2024 population is in no community area.
    assert 0.38 < summary["gaps"]["ward"]["population"] / 241_025 < 0.42
    assert summary["gaps"]["ward"]["population"] == pytest.approx(
        summary["gaps"]["locality"]["population"])
    # Five real contested overlaps; Sale × Brooklands (~6,600 m²) is a sliver instead.
    assert summary["contested"]["areas"] == 5
    slivers = gpd.read_file(out / "slivers.geojson")
    assert slivers[slivers["kind"] == "contested"]["claimants"].tolist() == ["CA12;CA16"]


def test_sample_town_has_one_contested_area(run, tmp_path):
    result = run(*sample_args(), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["contested"]["areas"] == 1
    assert summary["community_areas"] == 10
    assert summary["layers"] == ["ward", "pcn"]


def test_single_csv_and_geopackage(run, tmp_path):
    csv = tmp_path / "t.csv"
    assert run(*sample_args(), "--out", csv).exit_code == 0
    assert list(pd.read_csv(csv).columns)[:4] == ["community_id", "name", "layer", "best_fit"]
    gpkg = tmp_path / "t.gpkg"
    assert run(*sample_args(), "--out", gpkg).exit_code == 0
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert sorted(layers) == ["contested", "gaps", "size_bands", "slivers", "tensions"]


def test_thresholds_change_the_labels(run):
    loose = json.loads(run(*sample_args(), "--severity", "0.5,0.8,0.9", "--json").stdout)
    strict = json.loads(run(*sample_args(), "--severity", "0.01,0.02,0.03", "--json").stdout)
    assert loose["tension"]["ward"]["high"] <= strict["tension"]["ward"]["high"]
    assert strict["thresholds"]["severity"] == {"low": 0.01, "medium": 0.02, "high": 0.03}


@pytest.mark.parametrize("option, value", [("--severity", "0.4,0.2,0.1"),
                                           ("--bands", "10000,30000"),
                                           ("--min-share", "1.5")])
def test_bad_thresholds_are_usage_errors(run, option, value):
    result = run(*sample_args(), option, value)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_terminal_report(run):
    result = run(*sample_args())
    assert result.exit_code == 0
    assert "Tensions" in result.stdout
    assert "contested: 1 area(s)" in result.stderr


@pytest.mark.parametrize("severity", ["0.4,0.2,0.1", "nan,nan,nan", "0.1,0.1,0.2", "0.1,0.2,inf"])
def test_severity_must_be_three_increasing_numbers(run, tmp_path, severity):
    result = run("tensions", "--community", SAMPLES / "community_areas.geojson",
                 "--statutory", f"ward={SAMPLES / 'wards.geojson'}",
                 "--source", SAMPLES / "small_areas.geojson", "--counts",
                 SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--severity", severity, "--out", tmp_path / "t.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: Invalid value for --severity: give 3 "
                                              "increasing numbers separated by commas")
    assert not (tmp_path / "t.csv").exists()


def test_a_statutory_layer_away_from_the_community_areas_warns(run, tmp_path):
    """Still a result (every community area is outside the layer), but said out loud."""
    far = tmp_path / "far.geojson"
    wards = gpd.read_file(SAMPLES / "wards.geojson")
    wards.set_geometry(wards.translate(xoff=-1.0)).to_file(far)  # 1° west: still England
    result = run("tensions", "--community", SAMPLES / "community_areas.geojson",
                 "--statutory", f"ward={far}", "--source", SAMPLES / "small_areas.geojson",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--out", tmp_path / "t.csv")
    assert result.exit_code == 0, result.stderr
    assert (f"warning: {far}: no ward unit overlaps a community area; check the layers cover "
            "the same place (and their CRS)") in result.stderr.splitlines()
    tensions = pd.read_csv(tmp_path / "t.csv")
    assert (tensions["outside_share"] == 1).all()
