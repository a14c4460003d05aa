"""`nbhood footprint` from the command line: the sample town's registrations against an
independent recomputation, Trafford's and Sheffield's practices (nearest) against brute
force, the files NHS England and ODS publish, the footprint as a statutory layer, errors."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from conftest import SAMPLES, shared

TOWN = ["--registrations", SAMPLES / "gp_registrations.csv",
        "--practices", SAMPLES / "gp_practices.csv",
        "--lsoa", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
        "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code"]


def footprint(run, *args):
    result = run("footprint", *args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def town_majority(tmp_path_factory):
    from typer.testing import CliRunner

    from nbhood_cli.cli import app

    out = tmp_path_factory.mktemp("town") / "fp"
    result = CliRunner().invoke(app, ["footprint", *map(str, TOWN), "--out", str(out),
                                      "--json"])
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)


def test_sample_town_majority_matches_a_recomputation(town_majority):
    out, summary = town_majority
    assert sorted(p.name for p in out.iterdir()) == [".nbhood", "footprints.csv",
                                                     "footprints.geojson", "lsoa_shares.csv"]
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    pcn = pd.read_csv(SAMPLES / "gp_practices.csv").set_index("practice_code")["pcn_code"]
    rows["pcn_code"] = rows["PRACTICE_CODE"].map(pcn)
    by_pair = rows.groupby(["LSOA_CODE", "pcn_code"])["NUMBER_OF_PATIENTS"].sum()
    # majority by hand: the PCN with the most patients in each small area
    best = by_pair.reset_index().sort_values(["LSOA_CODE", "NUMBER_OF_PATIENTS", "pcn_code"],
                                             ascending=[True, False, True])
    best = best.drop_duplicates("LSOA_CODE").set_index("LSOA_CODE")["pcn_code"]
    shares = pd.read_csv(out / "lsoa_shares.csv")
    got = shares[shares["assigned"]].set_index("lsoa_code")["pcn_code"]
    assert got.sort_index().to_dict() == best.sort_index().to_dict()
    assert len(got) == 60 and summary["lsoas_in_no_footprint"] == []
    share = by_pair / by_pair.groupby(level=0).transform("sum")
    assert shares.set_index(["lsoa_code", "pcn_code"])["share"].sort_index().to_numpy() == \
        pytest.approx(share.sort_index().to_numpy(), abs=1e-6)

    layer = gpd.read_file(out / "footprints.geojson").to_crs(27700)
    assert layer.columns.tolist() == ["pcn_code", "pcn_name", "method", "n_lsoas",
                                      "population", "registered_patients", "patients_total",
                                      "own_share", "geometry"]
    people = pd.read_csv(SAMPLES / "small_area_population.csv").set_index("sa_code")
    small = gpd.read_file(SAMPLES / "small_areas.geojson").to_crs(27700).set_index("sa_code")
    for row in layer.itertuples():
        mine = best.index[best == row.pcn_code]
        inside = rows[rows["pcn_code"].eq(row.pcn_code) & rows["LSOA_CODE"].isin(mine)]
        total = rows.loc[rows["pcn_code"].eq(row.pcn_code), "NUMBER_OF_PATIENTS"].sum()
        assert row.n_lsoas == len(mine)
        assert row.population == people.loc[mine, "population"].sum()
        assert row.registered_patients == inside["NUMBER_OF_PATIENTS"].sum()
        assert row.patients_total == total
        assert row.own_share == pytest.approx(row.registered_patients / total)
        union = shapely.union_all(small.geometry[mine].values)
        assert row.geometry.symmetric_difference(union).area < 1e-3 * union.area  # 6 dp
    # the footprints tile the town: together exactly the small areas' area
    assert layer.area.sum() == pytest.approx(small.area.sum(), rel=1e-6)
    assert summary["dissolve"] == {"coverage_union": 4, "overlay_union": 0}


def test_reruns_are_byte_identical(run, tmp_path, town_majority):
    out, _ = town_majority
    again = tmp_path / "again"
    footprint(run, *TOWN, "--out", again)
    for name in ("footprints.geojson", "footprints.csv", "lsoa_shares.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_footprints_are_a_statutory_layer(run, tmp_path, town_majority):
    """Read as --statutory pcn=footprints.geojson:pcn_code: ids unique, and areal
    interpolation gives back the footprint populations (whole small areas)."""
    out, _ = town_majority
    table = tmp_path / "pop.csv"
    result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                 "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                 "--targets", f"{out / 'footprints.geojson'}:pcn_code", "--out", table)
    assert result.exit_code == 0, result.stderr
    estimated = pd.read_csv(table).set_index("area_id")["population"]
    mine = pd.read_csv(out / "footprints.csv").set_index("pcn_code")["population"]
    assert estimated.to_dict() == pytest.approx(mine.to_dict(), rel=1e-6)


def test_min_share_bands_overlap_and_carry_an_id(run, tmp_path):
    out = tmp_path / "fp.csv"
    result = footprint(run, *TOWN, "--method", "min-share", "--min-share", "0.1", "--out", out)
    table = pd.read_csv(out)
    assert table["footprint_id"].is_unique
    assert set(table["share_band"]) <= {"50-100%", "20-50%", "10-20%"}
    assert (table.groupby("pcn_code")["own_share"].sum() <= 1 + 1e-9).all()
    # the bands of one PCN do not overlap, and each small area is in ≥ 1 footprint
    assert table.groupby("pcn_code")["n_lsoas"].sum().sum() >= 60
    assert "PCN footprints: every PCN with ≥ 10% of registered patients" in result.stdout


def test_sexes_and_an_epcn_workbook_give_the_same_footprints(run, tmp_path, town_majority):
    """The NHS male/female rows beside ALL, and an ePCN sheet with an ended membership."""
    out, _ = town_majority
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    male = rows.assign(SEX="MALE", NUMBER_OF_PATIENTS=rows["NUMBER_OF_PATIENTS"] // 2)
    female = rows.assign(SEX="FEMALE", NUMBER_OF_PATIENTS=rows["NUMBER_OF_PATIENTS"] - male[
        "NUMBER_OF_PATIENTS"])
    both = tmp_path / "gp-reg-pat-prac-lsoa.csv"
    pd.concat([male, rows, female]).to_csv(both, index=False)
    practices = pd.read_csv(SAMPLES / "gp_practices.csv")
    sheet = pd.DataFrame({
        "Partner Organisation Code": practices["practice_code"],
        "Partner Name": practices["practice_name"].str.upper(),
        "PCN Code": practices["pcn_code"], "PCN Name": practices["pcn_name"].str.upper(),
        "Practice to PCN Relationship Start Date": "20200401",
        "Practice to PCN Relationship End Date": None})
    moved = sheet.iloc[[0]].assign(**{"PCN Code": "MVP04",
                                      "Practice to PCN Relationship End Date": "20220331"})
    workbook = tmp_path / "ePCN.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame({"note": ["ODS"]}).to_excel(writer, sheet_name="Notes", index=False)
        pd.concat([moved, sheet]).to_excel(writer, sheet_name="PCN Core Partner Details",
                                           index=False)
    args = [*TOWN]
    args[args.index("--registrations") + 1] = both
    args[args.index("--practices") + 1] = f"{workbook}:PCN Core Partner Details"
    result = footprint(run, *args, "--out", tmp_path / "fp", "--json")
    assert json.loads(result.stdout)["registrations"]["sex"] == "ALL rows (the others left out)"
    mine = pd.read_csv(tmp_path / "fp" / "footprints.csv")
    before = pd.read_csv(out / "footprints.csv")
    columns = ["pcn_code", "n_lsoas", "registered_patients", "patients_total"]
    assert mine[columns].values.tolist() == before[columns].values.tolist()
    assert mine["pcn_name"].tolist() == before["pcn_name"].str.upper().tolist()


def test_practice_level(run, tmp_path):
    out = tmp_path / "p.csv"
    footprint(run, *TOWN, "--level", "practice", "--out", out)
    table = pd.read_csv(out)
    assert table.columns[:4].tolist() == ["practice_code", "practice_name", "pcn_code",
                                          "pcn_name"]
    assert table["n_lsoas"].sum() == 60 and table["practice_code"].is_monotonic_increasing


def test_nearest_on_the_sample_measures_coverage_with_registrations(run, tmp_path):
    """nearest assigns by distance and the registrations measure it: each PCN's own_share
    recomputed from a brute-force nearest practice and the registration rows."""
    out = tmp_path / "fp"
    result = footprint(run, *TOWN, "--method", "nearest", "--out", out, "--json")
    summary = json.loads(result.stdout)
    assert summary["approximation"] is True and summary["footprints"] == 4
    assert "nearest is an approximation" in result.stderr
    practices = pd.read_csv(SAMPLES / "gp_practices.csv").sort_values("practice_code")
    where = to_bng(practices["lon"].to_numpy(), practices["lat"].to_numpy())
    small = gpd.read_file(SAMPLES / "small_areas.geojson").to_crs(27700)
    points = shapely.get_coordinates(shapely.point_on_surface(small.geometry.values))
    d = np.hypot(points[:, None, 0] - where[None, :, 0], points[:, None, 1] - where[None, :, 1])
    pcn_of = pd.Series(practices["pcn_code"].to_numpy()[d.argmin(axis=1)], index=small["sa_code"])
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    rows["pcn_code"] = rows["PRACTICE_CODE"].map(practices.set_index("practice_code")["pcn_code"])
    home = rows[rows["LSOA_CODE"].map(pcn_of) == rows["pcn_code"]]
    own = (home.groupby("pcn_code")["NUMBER_OF_PATIENTS"].sum()
           / rows.groupby("pcn_code")["NUMBER_OF_PATIENTS"].sum())
    layer = pd.read_csv(out / "footprints.csv").set_index("pcn_code")
    assert layer["own_share"].to_dict() == pytest.approx(own.to_dict())
    assert layer["n_lsoas"].to_dict() == pcn_of.value_counts().to_dict()
    assert summary["own_share_median"] == pytest.approx(own.median())


def test_nearest_ties_go_to_the_smallest_practice_code(run, tmp_path):
    """Z9 (listed first) and A1 are both 1,000 m from L1's centre: A1 takes it. L2 is
    1,100 m from M5 and 1,414 m from the others. Z9's PCN is nearest nowhere: listed."""
    lsoa = tmp_path / "lsoa.geojson"
    gpd.GeoDataFrame({"lsoa21cd": ["L1", "L2"]}, crs=27700, geometry=[
        shapely.box(400_000, 300_000, 401_000, 301_000),
        shapely.box(401_000, 300_000, 402_000, 301_000)]).to_file(lsoa)
    practices = tmp_path / "practices.csv"
    pd.DataFrame({"practice_code": ["Z9", "A1", "M5"], "pcn_code": ["UZ", "UA", "UM"],
                  "easting": [400_500, 400_500, 402_600],
                  "northing": [301_500, 299_500, 300_500]}).to_csv(practices, index=False)
    out = tmp_path / "fp"
    result = footprint(run, "--practices", practices, "--lsoa", f"{lsoa}:lsoa21cd",
                       "--method", "nearest", "--out", out)
    shares = pd.read_csv(out / "lsoa_shares.csv")
    assert shares[["lsoa_code", "pcn_code", "nearest_practice", "distance_m"]] \
        .values.tolist() == [["L1", "UA", "A1", 1000.0], ["L2", "UM", "M5", 1100.0]]
    assert "1 PCN(s) have no footprint (no LSOA is nearest to their practices): UZ" \
        in result.stderr


# --- real data: nearest ---------------------------------------------------------------------

def to_bng(lon, lat):
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    return np.column_stack([x, y])


@pytest.mark.realdata
def test_trafford_nearest_against_brute_force(run, tmp_path):
    t = lambda name: shared("trafford", name)  # noqa: E731
    out = tmp_path / "fp"
    result = footprint(run, "--practices", t("gp_practices.csv"),
                       "--lsoa", f"{t('lsoa.geojson')}:lsoa21cd",
                       "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd",
                       "--method", "nearest", "--out", out, "--json")
    summary = json.loads(result.stdout)
    assert summary["lsoas"] == 139 and summary["footprints"] == 5
    assert "approximation" in result.stderr

    practices = pd.read_csv(t("gp_practices.csv")).sort_values("practice_code")
    where = to_bng(practices["lon"].to_numpy(), practices["lat"].to_numpy())
    lsoa = gpd.read_file(t("lsoa.geojson")).to_crs(27700)
    points = shapely.get_coordinates(shapely.point_on_surface(lsoa.geometry.values))
    expected = {}
    for code, (x, y) in zip(lsoa["lsoa21cd"], points, strict=True):
        d = [np.hypot(x - px, y - py) for px, py in where]
        expected[code] = practices["practice_code"].iloc[int(np.argmin(d))]
    shares = pd.read_csv(out / "lsoa_shares.csv")
    assert len(shares) == 139 and shares["assigned"].all()
    assert dict(zip(shares["lsoa_code"], shares["nearest_practice"], strict=True)) == expected
    pcn = practices.set_index("practice_code")["pcn_code"]
    assert (shares["pcn_code"] == shares["nearest_practice"].map(pcn)).all()

    layer = gpd.read_file(out / "footprints.geojson").to_crs(27700)
    assert layer["method"].eq("nearest").all()
    assert layer["registered_patients"].sum() == 248_911  # every list size, once
    assert layer["n_lsoas"].sum() == 139
    assert layer["population"].sum() == pd.read_csv(t("lsoa_population.csv"))[
        "population"].sum()
    assert layer.area.sum() == pytest.approx(lsoa.area.sum(), rel=1e-6)
    union = shapely.union_all(layer.geometry.values)
    assert union.area == pytest.approx(lsoa.area.sum(), rel=1e-6)  # no overlaps


@pytest.mark.realdata
def test_trafford_weighted_nearest_moves_lsoas_to_larger_practices(run, tmp_path):
    t = lambda name: shared("trafford", name)  # noqa: E731
    args = ["--practices", t("gp_practices.csv"), "--lsoa", f"{t('lsoa.geojson')}:lsoa21cd",
            "--method", "nearest"]
    plain = tmp_path / "plain.csv"
    weighted = tmp_path / "weighted.csv"
    footprint(run, *args, "--out", plain)
    footprint(run, *args, "--weighted", "--out", weighted)
    practices = pd.read_csv(t("gp_practices.csv")).set_index("practice_code")
    size = practices["registered_patients"]
    a, b = (pd.read_csv(p).set_index("pcn_code") for p in (plain, weighted))
    assert a["n_lsoas"].sum() == b["n_lsoas"].sum() == 139
    assert not a["n_lsoas"].equals(b["n_lsoas"])
    # recompute the weighted rule for each LSOA: distance ÷ √(list size / mean)
    lsoa = gpd.read_file(t("lsoa.geojson")).to_crs(27700)
    points = shapely.get_coordinates(shapely.point_on_surface(lsoa.geometry.values))
    order = practices.sort_index()
    where = to_bng(order["lon"].to_numpy(), order["lat"].to_numpy())
    weight = np.sqrt(order["registered_patients"] / size.mean()).to_numpy()
    d = np.hypot(points[:, None, 0] - where[None, :, 0], points[:, None, 1] - where[None, :, 1])
    nearest_pcn = order["pcn_code"].to_numpy()[np.argmin(d / weight, axis=1)]
    counts = pd.Series(nearest_pcn).value_counts().sort_index()
    assert b["n_lsoas"].sort_index().to_dict() == counts.to_dict()


@pytest.mark.realdata
def test_sheffield_nearest_lists_practices_without_coordinates(run, tmp_path):
    s = lambda name: shared("sheffield", name)  # noqa: E731
    out = tmp_path / "fp.geojson"
    result = footprint(run, "--practices", s("gp_practices.csv"),
                       "--lsoa", f"{s('lsoa.geojson')}:lsoa21cd", "--method", "nearest",
                       "--out", out)
    assert "47 of 78 practices have no coordinates and are left out of nearest: C88005, " \
        "C88006" in result.stderr
    layer = gpd.read_file(out)
    practices = pd.read_csv(s("gp_practices.csv"))
    located = practices[practices["lat"].notna()]
    assert set(layer["pcn_code"]) <= set(located["pcn_code"])
    assert len(layer) == located["pcn_code"].nunique() == 15
    assert layer["n_lsoas"].sum() == 343
    assert layer["registered_patients"].isna().all()  # no list sizes in this file


# --- errors -----------------------------------------------------------------------------------

def test_majority_needs_registrations(run, tmp_path):
    result = run("footprint", "--practices", SAMPLES / "gp_practices.csv",
                 "--lsoa", SAMPLES / "small_areas.geojson", "--out", tmp_path / "fp")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: footprints by majority need --registrations")
    assert result.stderr.count("\n") == 1 and not (tmp_path / "fp").exists()


def test_bad_registrations_fail_in_one_line_and_write_nothing(run, tmp_path):
    rows = (SAMPLES / "gp_registrations.csv").read_text().splitlines()
    bad = tmp_path / "reg.csv"
    bad.write_text("\n".join([*rows[:10], rows[4], *rows[10:]]) + "\n")
    args = [*TOWN]
    args[args.index("--registrations") + 1] = bad
    out = tmp_path / "fp"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    result = run("footprint", *args, "--out", out, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad}: line 5, line 11: PRACTICE_CODE MV001, LSOA_CODE MV0004, SEX ALL "
        "appears more than once; keep one row per practice and LSOA (files from two extracts "
        "would count patients twice)\n")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_unlisted_practices_and_unknown_lsoas_are_listed(run, tmp_path):
    practices = pd.read_csv(SAMPLES / "gp_practices.csv")
    fewer = tmp_path / "members.csv"
    practices[practices["practice_code"] != "MV003"].to_csv(fewer, index=False)
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    moved = rows.assign(LSOA_CODE=rows["LSOA_CODE"].replace({"MV0060": "E01009999"}))
    reg = tmp_path / "reg.csv"
    moved.to_csv(reg, index=False)
    args = [*TOWN]
    args[args.index("--registrations") + 1] = reg
    args[args.index("--practices") + 1] = fewer
    result = footprint(run, *args, "--json")
    lost = rows.loc[rows["PRACTICE_CODE"] == "MV003", "NUMBER_OF_PATIENTS"].sum()
    assert f"1 practice(s) with {lost:,} patients are not in {fewer}" in result.stderr
    outside = moved[(moved["LSOA_CODE"] == "E01009999") & (moved["PRACTICE_CODE"] != "MV003")]
    assert f"{outside['NUMBER_OF_PATIENTS'].sum():,} patients of the listed practices live " \
        "in 1 LSOA(s) not in" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["lsoas_in_no_footprint"] == ["MV0060"]
    assert summary["registrations"]["unlisted_practices"] == ["MV003"]


@pytest.mark.parametrize("text, message", [
    ("PUBLICATION,PRACTICE_CODE,LSOA_CODE,SEX\nX,MV001,MV0001,ALL\n",
     "no number of patients column (looked for number_of_patients, patients, "
     "registered_patients); columns are: PUBLICATION, PRACTICE_CODE, LSOA_CODE, SEX"),
    ("org;area;count\nMV001;MV0001;5\n",  # semicolons: the reader finds the delimiter
     "no practice code column (looked for practice_code, partner_organisation_code, "
     "ods_code, org_code, code); columns are: org, area, count"),
])
def test_a_missing_registrations_column_lists_every_column_of_the_file(run, tmp_path, text,
                                                                       message):
    """Only the columns used are read from the large file, yet the message names them all."""
    reg = tmp_path / "reg.csv"
    reg.write_text(text)
    args = [*TOWN]
    args[args.index("--registrations") + 1] = reg
    result = run("footprint", *args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {reg}: {message}\n"


def test_lsoa_points_are_refused(run, tmp_path):
    points = gpd.read_file(SAMPLES / "small_areas.geojson")
    points["geometry"] = points.representative_point()
    path = tmp_path / "points.geojson"
    points.to_file(path)
    args = [*TOWN]
    args[args.index("--lsoa") + 1] = f"{path}:sa_code"
    result = run("footprint", *args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: holds Point geometries; --lsoa needs polygons\n"


def test_codes_of_another_vintage_are_refused(run, tmp_path):
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    reg = tmp_path / "reg.csv"
    rows.assign(LSOA_CODE="E0" + rows["LSOA_CODE"]).to_csv(reg, index=False)
    args = [*TOWN]
    args[args.index("--registrations") + 1] = reg
    result = run("footprint", *args)
    assert result.exit_code == 2
    assert "check the LSOA codes are the same vintage" in result.stderr


@pytest.mark.parametrize("extra, message", [
    (["--min-share", "0.3"], "--min-share only applies to --method min-share"),
    (["--weighted"], "--weighted only applies to --method nearest"),
    (["--method", "min-share", "--centroids", SAMPLES / "small_areas.geojson"],
     "--centroids only applies to --method nearest"),
])
def test_another_methods_option_is_refused_not_ignored(run, tmp_path, extra, message):
    result = run("footprint", *TOWN, *extra, "--out", tmp_path / "f.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1
    assert not (tmp_path / "f.csv").exists()
