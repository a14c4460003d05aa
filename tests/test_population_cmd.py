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
