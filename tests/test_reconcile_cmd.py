"""`nbhood reconcile`: crosswalk, best fit and coverage from the command line."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from test_tensions_cmd import sample_args, trafford_args


def test_crosswalk_best_fit_and_coverage(run, tmp_path):
    out = tmp_path / "r"
    result = run(*trafford_args("reconcile"), "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    walk = gpd.read_file(out / "crosswalk.geojson")
    assert set(walk["layer"]) == {"ward", "locality"}
    assert list(walk.columns[:8]) == ["layer", "community_id", "unit_id", "area_m2",
                                      "population", "share_of_community", "share_of_unit",
                                      "area_share_of_community"]
    best = pd.read_csv(out / "best_fit.csv")
    # Best fit is the piece holding the largest share of each community area's people.
    top = walk.sort_values("share_of_community", ascending=False).drop_duplicates(
        ["community_id", "layer"])
    merged = best.merge(top, on=["community_id", "layer"])
    assert (merged["best_fit"] == merged["unit_id"]).all()
    assert merged["fit"].to_numpy() == pytest.approx(merged["share_of_community"].to_numpy())
    coverage = pd.read_csv(out / "coverage.csv")
    ward = coverage[coverage["layer"] == "ward"]
    assert len(ward) == 21
    # Each ward's covered people = the crosswalk pieces inside it, net of contested overlap.
    assert ward["covered_share"].between(0, 1).all()
    assert ward["unit_population"].sum() == pytest.approx(240_719.70, abs=0.01)


def test_unit_shares_sum_to_coverage_without_overlaps(run, tmp_path):
    """The sample town's community areas overlap only once (CA03 × CA04): for every other
    unit the pieces' shares of the unit add up to its covered share."""
    out = tmp_path / "r"
    assert run(*sample_args("reconcile"), "--out", out).exit_code == 0
    walk = gpd.read_file(out / "crosswalk.geojson")
    coverage = pd.read_csv(out / "coverage.csv").set_index(["layer", "unit_id"])
    touched = set(walk.loc[walk["community_id"].isin(["CA03", "CA04"]), "unit_id"])
    sums = walk.groupby(["layer", "unit_id"])["share_of_unit"].sum()
    for key, total in sums.items():
        if key[1] not in touched:
            assert total == pytest.approx(coverage.loc[key, "covered_share"], abs=1e-9)


def test_terminal_tables(run):
    result = run(*sample_args("reconcile"))
    assert result.exit_code == 0
    assert "Best fit per community area" in result.stdout


def test_json_without_out(run):
    summary = json.loads(run(*sample_args("reconcile"), "--json").stdout)
    assert summary["outputs"] == []
