"""PCN footprints, the pure core: hand-computed cases for each method (ties, LSOAs without
patients, unlisted practices), the NHS and ePCN file shapes, the dissolve's correctness on
coverages and non-coverages, and the seeded registration generator checked against an
independent recomputation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import SAMPLES
from nbhood_cli import footprint as fp
from nbhood_cli import simulate
from nbhood_cli.errors import NbhoodError

# Six 1 km squares, L1 L2 L3 along the bottom, L4 L5 L6 above them.
SQUARES = [shapely.box(x, y, x + 1000, y + 1000) for y in (0, 1000) for x in (0, 1000, 2000)]
CODES = ["L1", "L2", "L3", "L4", "L5", "L6"]
POPULATION = np.array([1000.0, 1100.0, 1200.0, 1300.0, 1400.0, 1500.0])


@pytest.fixture
def grid():
    return gpd.GeoDataFrame({"code": CODES}, geometry=SQUARES, crs=27700)


def members():
    frame = pd.DataFrame({"Practice_Code": ["P1", "P2", "P3", "P4"],
                          "PCN_CODE": ["U1", "U1", "U2", "U3"],
                          "pcn_name": ["One", "One", "Two", "Three"]})
    practices, without = fp.membership(frame, "m.csv")
    assert without == []
    return practices


def registered():
    """L1: U1 15 (P1 10 + P2 5), U2 12. L2: U2 8, U3 8 (a tie). L3: U1 6, U2 6 (a tie) and
    20 at P9, a practice in no PCN. P1 has 4 patients in X9, an LSOA not in the layer.
    L4-L6: nobody."""
    frame = pd.DataFrame({
        "PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": "01Jan2026",
        "PRACTICE_CODE": ["P1", "P2", "P3", "P3", "P4", "P1", "P3", "P9", "P1"],
        "PRACTICE_NAME": "X", "LSOA_CODE": ["L1", "L1", "L1", "L2", "L2", "L3", "L3", "L3", "X9"],
        "SEX": "ALL", "NUMBER_OF_PATIENTS": [10, 5, 12, 8, 8, 6, 6, 20, 4]})
    rows = fp.registrations(frame, "r.csv")
    assert rows.sexes == "ALL rows"
    return rows.rows


def derive(grid, method, min_share=fp.MIN_SHARE, level="pcn"):
    practices = members()
    shares = fp.patient_shares(registered(), practices, level, grid["code"])
    pairs = fp.assign(shares.pairs, method, min_share)
    _, table = fp.units(practices, level)
    return fp.footprints(grid, grid["code"], pairs, table, method, level, shares.totals,
                         POPULATION, min_share=min_share), shares


def test_shares_count_unlisted_practices_in_the_total_and_outside_patients_in_the_pcn(grid):
    shares = fp.patient_shares(registered(), members(), "pcn", grid["code"])
    pairs = shares.pairs.assign(lsoa=lambda t: [CODES[i] for i in t["lsoa"]])
    assert pairs[["lsoa", "unit", "patients"]].values.tolist() == [
        ["L1", "U1", 15], ["L1", "U2", 12], ["L2", "U2", 8], ["L2", "U3", 8],
        ["L3", "U1", 6], ["L3", "U2", 6]]
    # L3's 32 patients include P9's 20, who belong to no PCN
    assert pairs["share"].tolist() == pytest.approx([15 / 27, 12 / 27, .5, .5, 6 / 32, 6 / 32])
    assert shares.totals.to_dict() == {"U1": 25, "U2": 26, "U3": 8}  # U1: 15 + 6 + 4 in X9
    assert shares.unlisted.values.tolist() == [["P9", 20]]
    assert shares.outside.values.tolist() == [["X9", 4]]


def test_majority_by_hand(grid):
    result, _ = derive(grid, "majority")
    table = result.shares
    assigned = table[table["assigned"]]
    # ties go to the smallest code: L2 (U2 = U3 = 8) to U2, L3 (U1 = U2 = 6) to U1
    assert assigned[["lsoa_code", "pcn_code"]].values.tolist() == [
        ["L1", "U1"], ["L2", "U2"], ["L3", "U1"]]
    assert result.unassigned == ["L4", "L5", "L6"]  # nobody registered there
    assert result.without == ["U3"]
    frame = result.footprints
    assert frame.columns.tolist() == ["pcn_code", "pcn_name", "method", "n_lsoas", "population",
                                      "registered_patients", "patients_total", "own_share",
                                      "geometry"]
    assert frame[["pcn_code", "pcn_name", "n_lsoas", "population", "registered_patients",
                  "patients_total"]].values.tolist() == [["U1", "One", 2, 2200.0, 21, 25],
                                                         ["U2", "Two", 1, 1100.0, 8, 26]]
    assert frame["own_share"].tolist() == pytest.approx([21 / 25, 8 / 26])
    # U1 holds L1 and L3, which do not touch: two parts
    assert frame.geometry[0].equals(shapely.union_all([SQUARES[0], SQUARES[2]]))
    assert frame.geometry[1].equals(SQUARES[1])
    # every LSOA appears; those in no footprint once, with no PCN
    assert table["lsoa_code"].tolist() == ["L1", "L1", "L2", "L2", "L3", "L3", "L4", "L5", "L6"]
    assert table.loc[6:, "pcn_code"].isna().all() and (table.loc[6:, "patients"] == 0).all()


def test_min_share_bands_by_hand(grid):
    result, _ = derive(grid, "min-share", 0.3)
    frame = result.footprints
    assert frame[["footprint_id", "pcn_code", "share_band", "n_lsoas", "registered_patients"]] \
        .values.tolist() == [["U1 50-100%", "U1", "50-100%", 1, 15],
                             ["U2 50-100%", "U2", "50-100%", 1, 8],
                             ["U2 30-50%", "U2", "30-50%", 1, 12],
                             ["U3 50-100%", "U3", "50-100%", 1, 8]]
    assert result.unassigned == ["L3", "L4", "L5", "L6"]  # L3: nobody holds 30%
    # L1 lies in U1's and U2's footprints: they overlap, as real ones do
    assert frame.geometry[0].equals(frame.geometry[2])
    assert frame["own_share"].tolist() == pytest.approx([15 / 25, 8 / 26, 12 / 26, 1.0])


def test_min_share_takes_a_share_equal_to_it(grid):
    """In L2, U2 and U3 hold exactly half the patients each: both take it at 0.5."""
    result, _ = derive(grid, "min-share", 0.5)
    assigned = result.shares[result.shares["assigned"]]
    assert assigned[["lsoa_code", "pcn_code"]].values.tolist() == [
        ["L1", "U1"], ["L2", "U2"], ["L2", "U3"]]
    assert result.footprints[["footprint_id", "n_lsoas"]].values.tolist() == [
        ["U1 50-100%", 1], ["U2 50-100%", 1], ["U3 50-100%", 1]]


def test_min_share_default_takes_small_shares(grid):
    result, _ = derive(grid, "min-share")
    frame = result.footprints.set_index("footprint_id")
    assert frame.loc["U1 5-20%", "n_lsoas"] == 1 and frame.loc["U2 5-20%", "n_lsoas"] == 1
    assert fp.bands(0.05) == [(0.5, 1.0), (0.2, 0.5), (0.05, 0.2)]
    assert fp.bands(0.6) == [(0.6, 1.0)]


def test_practice_level_keeps_the_pcn(grid):
    result, _ = derive(grid, "majority", level="practice")
    frame = result.footprints
    assert frame[["practice_code", "pcn_code", "pcn_name", "n_lsoas", "registered_patients"]] \
        .values.tolist() == [["P1", "U1", "One", 1, 6], ["P3", "U2", "Two", 2, 20]]
    # L1: P3 12 > P1 10 > P2 5; L2: P3 8 = P4 8, the smaller code; L3: P1 6 = P3 6
    assert result.without == ["P2", "P4"]


def test_nearest_by_hand_and_weighted():
    practices = np.array([[0.0, 0.0], [3000.0, 0.0]])
    points = np.array([[900.0, 0.0], [1100.0, 0.0], [1500.0, 0.0], [2900.0, 10.0]])
    best, distance = fp.nearest(points, practices)
    assert best.tolist() == [0, 0, 0, 1]  # 1500 is a tie: the first practice
    assert distance.tolist() == pytest.approx([900, 1100, 1500, np.hypot(100, 10)])
    # list sizes 100 and 400 (mean 250): distances ÷ √0.4 and ÷ √1.6, so the second
    # practice reaches twice as far; 1100 m: 1100/√0.4 = 1739 > 1900/√1.6 = 1502
    best, _ = fp.nearest(points, practices, [100, 400])
    assert best.tolist() == [0, 1, 1, 1]


def test_nearest_pairs_with_registrations_measure_coverage(grid):
    practices = members().sort_values("practice_code", ignore_index=True)
    shares = fp.patient_shares(registered(), practices, "pcn", grid["code"])
    best = np.array([0, 3, 2, 0, 0, 2])  # P1, P4, P3, P1, P1, P3
    pairs = fp.nearest_pairs(best, np.zeros(6), practices, "pcn", shares)
    _, table = fp.units(practices, "pcn")
    result = fp.footprints(grid, grid["code"], pairs, table, "nearest", "pcn", shares.totals)
    frame = result.footprints.set_index("pcn_code")
    assert frame["n_lsoas"].to_dict() == {"U1": 3, "U2": 2, "U3": 1}
    # U1 (L1, L4, L5) holds 15 of its 25 patients; U2 (L3, L6) 6 of 26; U3 (L2) 8 of 8
    assert frame["own_share"].to_dict() == pytest.approx({"U1": 0.6, "U2": 6 / 26, "U3": 1.0})
    without = fp.nearest_pairs(best, np.zeros(6), practices, "pcn")
    result = fp.footprints(grid, grid["code"], without, table, "nearest", "pcn",
                           list_sizes={"U1": 5000.0, "U2": 7000.0, "U3": 1000.0})
    assert result.footprints["registered_patients"].tolist() == [5000, 7000, 1000]
    assert "own_share" not in result.footprints and "share" not in result.shares


# --- file shapes ------------------------------------------------------------------------------

def test_sexes_are_never_counted_twice():
    frame = pd.DataFrame({"PRACTICE_CODE": ["P1"] * 7,
                          "LSOA_CODE": ["L1", "L1", "L1", "L2", "L2", "L3", "L3"],
                          "SEX": ["ALL", "MALE", "FEMALE", "MALE", "FEMALE", "male", "ALL"],
                          "NUMBER_OF_PATIENTS": [30, 14, 16, 5, 6, 3, 9]})
    rows = fp.registrations(frame, "r.csv")
    assert rows.rows.values.tolist() == [["P1", "L1", 30], ["P1", "L2", 11], ["P1", "L3", 9]]
    assert rows.sexes == "ALL rows, other rows summed where there is no ALL row"
    split = fp.registrations(frame.iloc[3:5], "r.csv")
    assert split.rows.values.tolist() == [["P1", "L2", 11]]
    assert split.sexes == "FEMALE + MALE summed"


@pytest.mark.parametrize("edit, message", [
    (lambda f: pd.concat([f, f.iloc[[1]]]),
     "r.csv: line 3, line 5: PRACTICE_CODE P1, LSOA_CODE L2, SEX ALL appears more than once"),
    (lambda f: f.assign(NUMBER_OF_PATIENTS=["4", "x", "1,200"]),
     "r.csv: line 3: column NUMBER_OF_PATIENTS is not a number"),
    (lambda f: f.assign(NUMBER_OF_PATIENTS=[4, -1, 2]),
     "r.csv: line 3: column NUMBER_OF_PATIENTS is negative"),
    (lambda f: f.drop(columns="LSOA_CODE"), "r.csv: no LSOA code column (looked for lsoa_code"),
])
def test_bad_registrations_name_the_line(edit, message):
    frame = pd.DataFrame({"PRACTICE_CODE": ["P1", "P1", "P2"], "LSOA_CODE": ["L1", "L2", "L1"],
                          "SEX": "ALL", "NUMBER_OF_PATIENTS": [4, 5, 6]})
    with pytest.raises(NbhoodError) as caught:
        fp.registrations(edit(frame), "r.csv")
    assert caught.value.message.startswith(message)


def epcn():
    """The columns of ODS's ePCN "PCN Core Partner Details" sheet; C3 moved PCN in 2023."""
    return pd.DataFrame({
        "Partner Organisation Code": ["C1", "C2", "C3", "C3", "C4"],
        "Partner Name": ["North Surgery", "South Surgery", "Mill Practice", "Mill Practice",
                         "Old Practice"],
        "PCN Code": ["U1", "U1", "U1", "U2", "U2"], "PCN Name": ["A PCN", "A PCN", "A PCN",
                                                                "B PCN", "B PCN"],
        "Practice to PCN Relationship Start Date": ["20190701", "20190701", "20190701",
                                                    "20230401", "20190701"],
        "Practice to PCN Relationship End Date": [None, None, "20230331", None, "20210930"]})


def test_epcn_memberships_that_ended_are_left_out():
    now, _ = fp.membership(epcn(), "epcn.xlsx", "row")
    assert now[["practice_code", "practice_name", "pcn_code", "pcn_name"]].values.tolist() == [
        ["C1", "North Surgery", "U1", "A PCN"], ["C2", "South Surgery", "U1", "A PCN"],
        ["C3", "Mill Practice", "U2", "B PCN"]]
    then, _ = fp.membership(epcn(), "epcn.xlsx", "row", as_at=pd.Timestamp("2021-06-01"))
    assert then[["practice_code", "pcn_code"]].values.tolist() == [
        ["C1", "U1"], ["C2", "U1"], ["C3", "U1"], ["C4", "U2"]]


def test_a_practice_in_two_pcns_is_an_error():
    frame = epcn().assign(**{"Practice to PCN Relationship End Date": None})
    with pytest.raises(NbhoodError) as caught:
        fp.membership(frame, "epcn.xlsx", "row")
    assert caught.value.message.startswith(
        "epcn.xlsx: row 4, row 5: practice C3 (Partner Organisation Code) is listed more than "
        "once (PCNs U1, U2)")


def test_plain_membership_with_list_sizes_and_practices_without_pcn():
    frame = pd.DataFrame({"ods_code": ["A1", "A2", "A3"], "name": ["x", "y", "z"],
                          "pcn_code": ["U1", None, "U1"], "pcn_name": ["P", None, "P"],
                          "registered_patients": ["1,200", "900", None]})
    practices, without = fp.membership(frame, "gp.csv")
    assert practices["practice_code"].tolist() == ["A1", "A3"] and without == ["A2"]
    assert practices["list_size"].tolist() == pytest.approx([1200, np.nan], nan_ok=True)
    with pytest.raises(NbhoodError, match="gp.csv: line 3: column registered_patients is neg"):
        fp.membership(frame.assign(registered_patients=["1", "-2", "3"]), "gp.csv")
    with pytest.raises(NbhoodError, match="gp.csv: line 4: column registered_patients is inf"):
        fp.membership(frame.assign(registered_patients=["1", "2", "1e400"]), "gp.csv")


# --- dissolve ---------------------------------------------------------------------------------

def test_dissolve_uses_the_coverage_union_only_where_it_is_right():
    clean = SQUARES[:3]
    overlapping = [shapely.box(0, 0, 1000, 1000), shapely.box(500, 0, 1500, 1000)]
    # a T-junction: the long edge of the first has no vertex where the other two meet
    unnoded = [shapely.box(0, 0, 2000, 1000),
               shapely.box(0, 1000, 1000, 2000), shapely.box(1000, 1000, 2000, 2000)]
    duplicated = [SQUARES[0], SQUARES[0]]
    geoms = clean + overlapping + unnoded + duplicated
    groups = [np.arange(3), np.arange(3, 5), np.arange(5, 8), np.arange(8, 10), np.array([1])]
    done = fp.dissolve(geoms, groups)
    for group, union in zip(groups, done.geoms, strict=True):
        expected = shapely.union_all([geoms[i] for i in group])
        assert shapely.is_valid(union)
        assert union.symmetric_difference(expected).area == pytest.approx(0, abs=1e-6)
    # GEOS's coverage union leaves the overlap and the T-junction invalid (the T-junction
    # with the right area: validity catches it) and refuses the duplicate; the clean
    # coverage and the single member keep it
    assert (done.by_coverage, done.by_overlay) == (2, 3)


@pytest.mark.realdata
def test_dissolve_on_a_real_layer_equals_the_overlay_union():
    from conftest import trafford_layer

    lsoa = trafford_layer("lsoa.geojson")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, len(lsoa))
    groups = [np.flatnonzero(labels == k) for k in range(7)]
    done = fp.dissolve(lsoa.geometry.values, groups)
    assert done.by_coverage == 7  # a clean coverage: no fallback needed
    for group, union in zip(groups, done.geoms, strict=True):
        expected = shapely.union_all(lsoa.geometry.values[group])
        assert union.symmetric_difference(expected).area < 1e-3


# --- the generator, and footprints against an independent recomputation --------------------

def town_inputs(n_side=8, seed=3):
    """An 8 × 8 km town of 1 km squares with 10 practices in 4 PCNs."""
    rng = np.random.default_rng(seed)
    squares = [shapely.box(x * 1000, y * 1000, x * 1000 + 1000, y * 1000 + 1000)
               for y in range(n_side) for x in range(n_side)]
    xy = shapely.get_coordinates(shapely.centroid(squares))
    population = rng.integers(1000, 2000, len(squares)).astype(float)
    practice_xy = rng.uniform(500, n_side * 1000 - 500, (10, 2))
    list_size = rng.integers(5000, 12000, 10)
    return squares, xy, population, practice_xy, list_size


def test_generator_is_seeded_and_lists_add_up():
    squares, xy, population, practice_xy, list_size = town_inputs()
    area = shapely.area(squares)
    a = simulate.registrations(xy, area, population, practice_xy, list_size, 7)
    b = simulate.registrations(xy, area, population, practice_xy, list_size, 7)
    c = simulate.registrations(xy, area, population, practice_xy, list_size, 8)
    assert all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("practice", "area", "patients"))
    assert not np.array_equal(a.patients, c.patients)
    assert np.bincount(a.practice, a.patients, 10).tolist() == list_size.tolist()
    assert (a.patients > 0).all()
    # registrations follow the residents: each square gets its residents × (lists / residents)
    per_area = np.bincount(a.area, a.patients, len(squares))
    expected = population * list_size.sum() / population.sum()
    assert np.median(np.abs(per_area / expected - 1)) < 0.1


def weighted_median(values, weights):
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, cumulative[-1] / 2)]


def test_generator_keeps_most_patients_near_with_a_long_tail():
    squares, xy, population, practice_xy, list_size = town_inputs()
    a = simulate.registrations(xy, shapely.area(squares), population, practice_xy, list_size, 7)
    distance = np.hypot(*(xy[a.area] - practice_xy[a.practice]).T)
    typical = weighted_median(distance, a.patients.astype(float))
    # half the patients live nearer than half that of all the town's residents do …
    everyone = np.hypot(*(xy[None] - practice_xy[:, None]).transpose(2, 0, 1)).ravel()
    assert typical < 0.6 * weighted_median(everyone, np.tile(population, len(practice_xy)))
    # … and a tail lives more than three times as far
    assert a.patients[distance > 3 * typical].sum() / a.patients.sum() > 0.01
    # each square's residents spread over several practices, as in the NHS file: nowhere
    # does one practice hold three quarters, and in the median square none holds half
    per_square = np.zeros((len(squares), len(practice_xy)))
    np.add.at(per_square, (a.area, a.practice), a.patients)
    top = per_square.max(axis=1) / per_square.sum(axis=1)
    assert top.max() < 0.75 and np.median(top) < 0.5


def independent_majority(rows, practice_pcn):
    """LSOA → PCN by plain loops: the PCN with the most patients, ties to the smaller code."""
    patients = {}
    for practice, area, n in rows:
        if practice in practice_pcn:
            key = (area, practice_pcn[practice])
            patients[key] = patients.get(key, 0) + n
    best = {}
    for (area, pcn), n in sorted(patients.items()):
        if n > 0 and (area not in best or n > best[area][1]):
            best[area] = (pcn, n)
    return {area: pcn for area, (pcn, _) in best.items()}


def test_majority_footprints_match_an_independent_recomputation():
    squares, xy, population, practice_xy, list_size = town_inputs()
    made = simulate.registrations(xy, shapely.area(squares), population, practice_xy,
                                  list_size, 11)
    codes = [f"S{i:03d}" for i in range(len(squares))]
    practice_codes = [f"P{j:02d}" for j in range(10)]
    pcn = ["U1", "U1", "U2", "U2", "U2", "U3", "U3", "U4", "U4", "U4"]
    rows = pd.DataFrame({"PRACTICE_CODE": np.array(practice_codes)[made.practice],
                         "LSOA_CODE": np.array(codes)[made.area],
                         "NUMBER_OF_PATIENTS": made.patients})
    practices, _ = fp.membership(pd.DataFrame({"practice_code": practice_codes,
                                               "pcn_code": pcn}), "m.csv")
    layer = gpd.GeoDataFrame({"code": codes}, geometry=squares, crs=27700)
    shares = fp.patient_shares(fp.registrations(rows, "r.csv").rows, practices, "pcn", codes)
    _, table = fp.units(practices, "pcn")
    result = fp.footprints(layer, codes, fp.assign(shares.pairs, "majority"), table,
                           "majority", "pcn", shares.totals, population)

    expected = independent_majority(rows.itertuples(index=False, name=None),
                                    dict(zip(practice_codes, pcn, strict=True)))
    got = result.shares[result.shares["assigned"]]
    assert dict(zip(got["lsoa_code"], got["pcn_code"], strict=True)) == expected
    frame = result.footprints.set_index("pcn_code")
    for unit in sorted(set(expected.values())):
        mine = [codes.index(a) for a, p in expected.items() if p == unit]
        assert frame.loc[unit, "n_lsoas"] == len(mine)
        assert frame.loc[unit, "population"] == population[mine].sum()
        union = shapely.union_all([squares[i] for i in mine])
        assert frame.geometry[unit].symmetric_difference(union).area == pytest.approx(0)
        members_of = [p for p, u in zip(practice_codes, pcn, strict=True) if u == unit]
        inside = rows[rows["PRACTICE_CODE"].isin(members_of)
                      & rows["LSOA_CODE"].isin([codes[i] for i in mine])]
        total = rows[rows["PRACTICE_CODE"].isin(members_of)]["NUMBER_OF_PATIENTS"].sum()
        assert frame.loc[unit, "registered_patients"] == inside["NUMBER_OF_PATIENTS"].sum()
        assert frame.loc[unit, "own_share"] == pytest.approx(
            inside["NUMBER_OF_PATIENTS"].sum() / total)
    # every square in exactly one footprint: the footprints tile the town
    assert frame.geometry.area.sum() == pytest.approx(64e6)


def test_networks_group_neighbours():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50_000, (200, 2))
    network = simulate.networks(xy, 1)
    sizes = np.bincount(network)
    assert sizes[:-1].min() >= 3 and sizes.max() <= 7
    spread = [np.ptp(xy[network == k], axis=0).max() for k in range(len(sizes))]
    assert np.median(spread) < 15_000  # members are near each other, not across the map


def test_sample_registrations_add_up_to_the_list_sizes():
    rows = pd.read_csv(SAMPLES / "gp_registrations.csv")
    practices = pd.read_csv(SAMPLES / "gp_practices.csv")
    assert rows.columns.tolist() == ["PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE",
                                     "PRACTICE_NAME", "LSOA_CODE", "SEX", "NUMBER_OF_PATIENTS"]
    sums = rows.groupby("PRACTICE_CODE")["NUMBER_OF_PATIENTS"].sum()
    assert sums.to_dict() == practices.set_index("practice_code")["registered_patients"] \
        .to_dict()
    areas = pd.read_csv(SAMPLES / "small_area_population.csv")
    assert set(rows["LSOA_CODE"]) == set(areas["sa_code"])
