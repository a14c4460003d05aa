"""``propose``: hand-built grids with known answers, then real places. Bounds, contiguity,
nesting and community areas are checked here from the geometry, not from the algorithm's
own bookkeeping."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLES, shared, trafford_layer, trafford_lsoa
from nbhood_cli.adjacency import neighbours
from nbhood_cli.analysis import Areas
from nbhood_cli.propose import Settings, propose

SIDE = 100.0  # metres: grid cells are SIDE × SIDE squares
X0, Y0 = 400_000.0, 300_000.0  # somewhere in England, in EPSG:27700


def cell(col: int, row: int, cols: int = 1, rows: int = 1):
    return shapely.box(X0 + col * SIDE, Y0 + row * SIDE, X0 + (col + cols) * SIDE,
                       Y0 + (row + rows) * SIDE)


def grid(cols: int, rows: int, people=1000.0):
    """cols × rows squares coded ``rRcC``, each with ``people`` (or people[row][col])."""
    codes, geoms, counts = [], [], []
    for r in range(rows):
        for c in range(cols):
            codes.append(f"r{r}c{c}")
            geoms.append(cell(c, r))
            counts.append(people if np.isscalar(people) else people[r][c])
    frame = gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs="EPSG:27700")
    return frame, np.asarray(counts, dtype=float)


def layer(shapes: dict, name: str = "community") -> Areas:
    frame = gpd.GeoDataFrame({"id": list(shapes)}, geometry=list(shapes.values()),
                             crs="EPSG:27700")
    return Areas(frame, list(shapes), name)


def run(frame, counts, lo=3000, hi=5000, **kwargs):
    settings = Settings(lo, hi, **{k: kwargs.pop(k) for k in ("adjacency", "seed", "mostly")
                                   if k in kwargs})
    return propose(frame, counts, frame["code"].tolist(), settings, **kwargs)


def members(result) -> dict[str, list[str]]:
    return {u: s.split(";") for u, s in zip(result.units["unit_id"],
                                             result.units["small_areas"], strict=True)}


# --- independent checks ----------------------------------------------------------------

def touching(geoms) -> list[set[int]]:
    """Rook neighbours recomputed another way: the 0.5 m buffers of two polygons overlap by
    more than 5 m² — an edge longer than about 5 m; a corner gives under 1 m²."""
    near = shapely.buffer(np.asarray(geoms, dtype=object), 0.5)
    a, b = shapely.STRtree(near).query(near, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.area(shapely.intersection(near[a], near[b]))
    out = [set() for _ in near]
    for x, y in zip(a[overlap > 5.0].tolist(), b[overlap > 5.0].tolist(), strict=True):
        out[x].add(y)
        out[y].add(x)
    return out


def connected(nodes: list[int], adjacent: list[set[int]]) -> bool:
    todo, seen = [nodes[0]], {nodes[0]}
    while todo:
        for other in adjacent[todo.pop()] & set(nodes):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return len(seen) == len(nodes)


def check(result, frame, counts, lo, hi, nest=None, adjacent=None):
    """Every small area in exactly one unit; populations recounted; every unit connected;
    a unit outside the bounds only with a reason; each unit inside one nest unit."""
    codes = frame["code"].astype(str).tolist()
    units = members(result)
    flat = [c for m in units.values() for c in m]
    assert sorted(flat) == sorted(codes) and len(flat) == len(set(flat))
    at = {c: k for k, c in enumerate(codes)}
    people = {u: counts[[at[c] for c in m]].sum() for u, m in units.items()}
    assert result.units["population"].tolist() == pytest.approx(list(people.values()))
    adjacent = adjacent if adjacent is not None else touching(frame.geometry.values)
    for u, m in units.items():
        assert connected([at[c] for c in m], adjacent), f"{u} is not contiguous"
    outside = {u for u, p in people.items() if not lo <= p <= hi}
    flagged = set(result.units.loc[result.units["violation"] != "", "unit_id"])
    assert outside == flagged
    v = result.summary["violations"]
    assert v["below_min"] + v["above_max"] == len(outside)
    if nest is not None:
        shares = frame.geometry.apply(lambda g: [g.intersection(n).area / g.area
                                                 for n in nest.frame.geometry])
        parent = {c: str(nest.ids[int(np.argmax(s))]) for c, s in zip(codes, shares,
                                                                       strict=True)}
        for u, m in units.items():
            assert len({parent[c] for c in m}) == 1, f"{u} crosses nest units"
        assert result.units["parent"].tolist() == [parent[m[0]] for m in units.values()]
    return units


# --- grids with known answers ------------------------------------------------------------

def test_four_by_four_grid_makes_units_of_three_to_five_cells():
    frame, counts = grid(4, 4)
    result = run(frame, counts)
    units = check(result, frame, counts, 3000, 5000)
    assert all(3 <= len(m) <= 5 for m in units.values())
    # rook-connected squares merge into one polygon; corner contact would leave two
    assert set(result.units.geometry.geom_type) == {"Polygon"}
    assert result.summary["violations"] == {"below_min": 0, "above_max": 0, "units": []}
    assert result.units["unit_id"].tolist() == [f"U{k:03d}" for k in range(1, len(units) + 1)]


def test_community_areas_become_the_units_when_they_fit():
    """A 6 × 2 strip: 2 × 2 cells drawn west and east, the middle drawn by nobody."""
    frame, counts = grid(6, 2)
    areas = layer({"east": cell(4, 0, 2, 2), "west": cell(0, 0, 2, 2)})
    result = run(frame, counts, community=areas)
    units = check(result, frame, counts, 3000, 5000)
    assert sorted(sorted(m) for m in units.values()) == [
        ["r0c0", "r0c1", "r1c0", "r1c1"], ["r0c2", "r0c3", "r1c2", "r1c3"],
        ["r0c4", "r0c5", "r1c4", "r1c5"]]
    table = result.community.set_index("community_id")
    assert table["status"].tolist() == ["kept whole", "kept whole"]
    assert table["population"].tolist() == [4000, 4000]
    assert result.summary["community_areas"]["in_one_unit"] == 2
    # Polsby–Popper of a square: 4π·s² / (4s)² = π/4
    assert result.units["compactness"].tolist() == pytest.approx([np.pi / 4] * 3)
    assert result.summary["compactness"] == pytest.approx({"mean": np.pi / 4, "min": np.pi / 4})


def test_a_community_area_above_max_pop_is_split_and_says_why():
    frame, counts = grid(4, 2)
    result = run(frame, counts, community=layer({"big": cell(0, 0, 4, 2)}))
    units = check(result, frame, counts, 3000, 5000)
    assert sorted(len(m) for m in units.values()) == [4, 4]
    row = result.community.iloc[0]
    assert row["status"] == "split"
    assert row["reason"] == "8,000 people, above max-pop"
    assert row["units"] == "U001;U002"


def test_small_community_areas_are_merged_and_say_why():
    frame, counts = grid(4, 1)
    areas = layer({"a": cell(0, 0, 2, 1), "b": cell(2, 0, 2, 1)})
    result = run(frame, counts, community=areas)
    check(result, frame, counts, 3000, 5000)
    assert len(result.units) == 1 and result.units["community_ids"][0] == "a;b"
    assert result.community["status"].tolist() == ["merged", "merged"]
    assert result.community["reason"].tolist() == ["2,000 people, below min-pop"] * 2
    assert result.summary["community_areas"]["in_one_unit"] == 2


@pytest.mark.parametrize("cols, rows, lo, hi, shapes, nest, expected", [
    # 8,000 people fit the bounds, but the nest layer cuts the grid in two halves
    (4, 2, 3000, 10_000, {"c": cell(0, 0, 4, 2)},
     {"E": cell(2, 0, 2, 2), "W": cell(0, 0, 2, 2)},
     [("c", "split", "crosses nest units", "U001;U002")]),
    # c's two cells touch only through cells no community area holds (a documented limit)
    (5, 1, 1000, 10_000, {"c": shapely.union_all([cell(0, 0), cell(4, 0)])}, None,
     [("c", "split", "its small areas are not contiguous", "U001;U003")]),
    # b (1,000) can only join a (4,000): both merged, each saying its side
    (5, 1, 3000, 5000, {"a": cell(0, 0, 4, 1), "b": cell(4, 0)}, None,
     [("a", "merged", "took in a neighbour below min-pop", "U001"),
      ("b", "merged", "1,000 people, below min-pop", "U001")]),
    # a row of 6,000 within 3,000-4,000 has one answer, 3 + 3: a (the first 4) gives one up
    (6, 1, 3000, 4000, {"a": cell(0, 0, 4, 1)}, None,
     [("a", "split", "a neighbouring unit needed some of its small areas to meet the bounds",
       "U001;U002")]),
])
def test_community_areas_say_why_they_were_split_or_merged(cols, rows, lo, hi, shapes, nest,
                                                          expected):
    frame, counts = grid(cols, rows)
    nest = layer(nest, "pcn") if nest else None
    result = run(frame, counts, lo, hi, community=layer(shapes), nest=nest)
    check(result, frame, counts, lo, hi, nest=nest)
    assert result.summary["violations"]["units"] == []
    table = result.community[["community_id", "status", "reason", "units"]]
    assert [tuple(r) for r in table.values.tolist()] == expected


def test_a_below_min_community_area_prefers_its_own_neighbour_over_others():
    """Row of 5: a a b b b (1,000 each) with the bounds 3,000–4,000 — 'a' cannot go whole into
    b (5,000), so b's cells re-split with it rather than a drawing on loose land."""
    frame, counts = grid(5, 1)
    areas = layer({"a": cell(0, 0, 2, 1), "b": cell(2, 0, 3, 1)})
    result = run(frame, counts, lo=2000, hi=3000, community=areas)
    check(result, frame, counts, 2000, 3000)
    table = result.community.set_index("community_id")
    assert table.loc["a", "status"] == "kept whole"
    assert table.loc["b", "status"] == "kept whole"


def test_island_is_its_own_unit_with_a_reason():
    frame, counts = grid(4, 1)
    far = gpd.GeoDataFrame({"code": ["zisland"]}, geometry=[cell(10, 10)], crs=frame.crs)
    frame = pd.concat([frame, far], ignore_index=True)
    counts = np.append(counts, 1000.0)
    result = run(frame, counts)
    check(result, frame, counts, 3000, 5000)
    island = result.units[result.units["small_areas"] == "zisland"].iloc[0]
    assert island["violation"] == "island: no neighbouring small area"
    assert result.summary["violations"]["below_min"] == 1


def test_a_single_small_area_above_max_pop_stands_alone():
    people = [[1000, 1000, 12_000, 1000, 1000, 1000]]
    frame, counts = grid(6, 1, people)
    result = run(frame, counts)
    units = check(result, frame, counts, 3000, 5000)
    big = [u for u, m in units.items() if m == ["r0c2"]]
    assert len(big) == 1
    row = result.units.set_index("unit_id").loc[big[0]]
    assert row["violation"] == "a single small area exceeds max-pop"
    # west of it, 2,000 people have no other neighbour: below min-pop, and it says why
    west = result.units[result.units["small_areas"] == "r0c0;r0c1"].iloc[0]
    assert west["violation"] == "walled in by small areas above max-pop"


def test_units_nest_in_the_nest_layer():
    """4 × 4 grid, nest halves west (8 cells) and east, and a 2-cell nest unit in the east."""
    frame, counts = grid(4, 4)
    nest = layer({"E": cell(2, 0, 2, 3), "N": cell(2, 3, 2, 1), "W": cell(0, 0, 2, 4)},
                 "pcn")
    result = run(frame, counts, nest=nest)
    check(result, frame, counts, 3000, 5000, nest=nest)
    small = result.units[result.units["parent"] == "N"].iloc[0]
    assert small["population"] == 2000 and small["violation"] == "nest unit below min-pop"
    assert result.summary["nest"] == {"layer": "pcn", "units": 3, "small_areas_outside": 0}


def test_nest_by_largest_share_of_area():
    """A cell 70 % in one nest unit goes with that one."""
    frame, counts = grid(2, 1, [[4000, 4000]])
    cut = X0 + 1.3 * SIDE  # the east cell is 30 % west of the cut
    nest = layer({"w": shapely.box(X0, Y0, cut, Y0 + SIDE),
                  "e": shapely.box(cut, Y0, X0 + 2 * SIDE, Y0 + SIDE)}, "ward")
    result = run(frame, counts, nest=nest)
    assert result.small_areas["parent"].tolist() == ["w", "e"]


def test_rook_does_not_link_corners_and_queen_does():
    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[cell(0, 0), cell(1, 1)],
                             crs="EPSG:27700")
    counts = np.array([2000.0, 2000.0])
    rook = run(frame, counts)
    assert len(rook.units) == 2 and set(rook.units["violation"]) == {
        "island: no neighbouring small area"}
    queen = run(frame, counts, adjacency="queen")
    assert queen.units["small_areas"].tolist() == ["a;b"]
    assert queen.summary["violations"]["below_min"] == 0


def test_digitising_gaps_under_a_metre_do_not_cut_a_link():
    gap = shapely.affinity.translate(cell(1, 0), 0.5)  # 0.5 m apart: a digitising gap
    apart = shapely.affinity.translate(cell(1, 0), 5.0)  # 5 m apart: not neighbours
    assert len(neighbours(np.array([cell(0, 0), gap])).i) == 1
    assert len(neighbours(np.array([cell(0, 0), apart])).i) == 0
    graph = neighbours(np.array([cell(0, 0), cell(1, 0)]))
    assert graph.shared.tolist() == pytest.approx([SIDE], abs=2.5)


def test_mostly_inside_takes_more_than_half_the_area():
    frame, counts = grid(2, 1, [[4000, 4000]])
    cut = X0 + 1.5 * SIDE  # covers the whole west cell and exactly half of the east cell
    result = run(frame, counts, community=layer({"ca": shapely.box(X0, Y0, cut, Y0 + SIDE)}))
    assert result.small_areas["community_id"].tolist() == ["ca", ""]
    looser = run(frame, counts, mostly=0.4,
                 community=layer({"ca": shapely.box(X0, Y0, cut, Y0 + SIDE)}))
    assert looser.small_areas["community_id"].tolist() == ["ca", "ca"]


def test_a_community_area_no_small_area_is_mostly_in_is_reported():
    frame, counts = grid(4, 1)
    result = run(frame, counts, community=layer({"tiny": cell(0, 0).buffer(-40)}))
    row = result.community.iloc[0]
    assert row["status"] == "no small area" and row["small_areas"] == 0
    assert result.summary["community_areas"]["without_small_areas"] == 1


def test_same_seed_same_units_whatever_the_input_order():
    frame, counts = grid(6, 5, [[1000 + 97 * ((r * 6 + c) % 7) for c in range(6)]
                                for r in range(5)])
    first = run(frame, counts, seed=3)
    shuffled = np.random.default_rng(1).permutation(len(frame))
    again = run(frame.iloc[shuffled], counts[shuffled], seed=3)
    pd.testing.assert_frame_equal(first.units.drop(columns="geometry"),
                                  again.units.drop(columns="geometry"))
    assert first.units.geometry.equals(again.units.geometry)
    check(first, frame, counts, 3000, 5000)


@settings(max_examples=30, deadline=None)
@given(cols=st.integers(1, 6), rows=st.integers(1, 6), data=st.data())
def test_random_grids_keep_every_promise(cols, rows, data):
    """Holes (islands), uneven people, random bounds and community blocks: every small area
    once, every unit connected, and exactly the units outside the bounds say so."""
    n = cols * rows
    people = data.draw(st.lists(st.integers(0, 4000), min_size=n, max_size=n))
    keep = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if not any(keep):
        keep[0] = True
    lo = data.draw(st.integers(0, 6000))
    hi = lo + data.draw(st.integers(0, 8000))
    frame, counts = grid(cols, rows, [people[r * cols:(r + 1) * cols] for r in range(rows)])
    frame, counts = frame[keep].reset_index(drop=True), counts[np.asarray(keep)]
    blocks = {f"ca{k}": cell(c, r, 2, 2) for k, (c, r) in enumerate(
        data.draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=3)))}
    community = layer(blocks) if blocks else None
    result = run(frame, counts, lo, hi, community=community,
                 seed=data.draw(st.integers(0, 2**32 - 1)))
    check(result, frame, counts, lo, hi)
    if community is not None:
        table = result.community
        held = {c for s in result.units["community_ids"] for c in s.split(";") if c}
        assert set(table.loc[table["status"] != "no small area", "community_id"]) == held


@settings(max_examples=25, deadline=None)
@given(cols=st.integers(1, 9), rows=st.integers(1, 9), a=st.integers(1, 5),
       extra=st.integers(0, 5), seed=st.integers(0, 100))
def test_feasible_grids_have_no_violations(cols, rows, a, extra, seed):
    """Cells of 1,000 people, bounds a–b cells with b ≥ 2a − 1: a snake through the grid cut
    into runs of a to b cells is always a feasible answer, so nothing may be out of bounds."""
    if cols * rows < a:
        return
    b = 2 * a - 1 + extra
    frame, counts = grid(cols, rows)
    result = run(frame, counts, a * 1000, b * 1000, seed=seed)
    check(result, frame, counts, a * 1000, b * 1000)
    assert result.summary["violations"] == {"below_min": 0, "above_max": 0, "units": []}


# --- real places ---------------------------------------------------------------------------

@pytest.mark.realdata
def test_trafford_lsoas_nested_in_wards():
    lsoa, counts = trafford_lsoa()
    wards = trafford_layer("wards.geojson")
    nest = Areas(wards, wards["wd23cd"].tolist(), "ward")
    frame = lsoa.rename(columns={"lsoa21cd": "code"})
    result = run(frame, counts, lo=3000, hi=10_000, nest=nest)
    check(result, frame, counts, 3000, 10_000, nest=nest)
    assert len(result.units) >= 241_025 / 10_000
    bad = result.units[result.units["violation"] != ""]
    # every unit outside the bounds is an island: an LSOA whose best-fit ward holds no LSOA
    # it touches — verified here from the geometry
    adjacent = touching(frame.geometry.values)
    parent = result.small_areas.set_index("small_area")["parent"]
    codes = frame["code"].tolist()
    for row in bad.itertuples():
        assert row.violation == "island: no neighbour in its nest unit"
        k = codes.index(row.small_areas)
        assert all(parent[codes[o]] != parent[row.small_areas] for o in adjacent[k])
    assert len(bad) <= 2


@pytest.mark.realdata
def test_sheffield_lsoas_honour_the_community_neighbourhoods():
    from nbhood_cli.io import load_table, read_layer

    lsoa = read_layer(shared("sheffield", "lsoa.geojson")).frame
    table = load_table(shared("sheffield", "lsoa_population_census2021.csv")).frame
    counts = lsoa["lsoa21cd"].map(table.set_index("lsoa21cd")["usual_residents"]) \
        .to_numpy(float)
    ca = read_layer(shared("sheffield", "community_areas.geojson")).frame
    areas = Areas(ca, ca["id"].tolist())
    frame = lsoa.rename(columns={"lsoa21cd": "code"})
    result = run(frame, counts, lo=3000, hi=10_000, community=areas)
    adjacent = touching(frame.geometry.values)
    codes = frame["code"].tolist()
    units = check(result, frame, counts, 3000, 10_000, adjacent=adjacent)
    assert result.summary["violations"]["below_min"] == 0
    assert result.summary["violations"]["above_max"] == 0
    # community areas recounted: an LSOA belongs to the one holding > 50 % of its area
    share = {}
    tree = shapely.STRtree(ca.geometry.values)
    for k, g in enumerate(frame.geometry.values):
        hits = [(g.intersection(ca.geometry.values[i]).area / g.area, i) for i in tree.query(g)]
        best = max(hits, default=(0, None))
        if best[0] > 0.5:
            share[frame["code"][k]] = areas.ids[best[1]]
    unit_of = {c: u for u, m in units.items() for c in m}
    spread, inside = {}, {}
    for code, cid in share.items():
        spread.setdefault(cid, set()).add(unit_of[code])
        inside.setdefault(cid, []).append(codes.index(code))
    whole = sum(len(s) == 1 for s in spread.values())
    assert len(spread) == 119
    assert result.summary["community_areas"]["in_one_unit"] == whole
    # a community area is split only when it must be: above max-pop, or its LSOAs do not
    # touch each other
    for cid, s in spread.items():
        if len(s) > 1:
            assert counts[inside[cid]].sum() > 10_000 or not connected(inside[cid], adjacent)
    assert whole >= 119 - 7


def test_sample_town_with_communities_nested_in_pcn_footprints():
    from nbhood_cli.io import load_table, read_layer

    small = read_layer(SAMPLES / "small_areas.geojson").frame
    table = load_table(SAMPLES / "small_area_population.csv").frame
    counts = small["sa_code"].map(table.set_index("sa_code")["population"]).to_numpy(float)
    pcn = read_layer(SAMPLES / "pcn_footprints.geojson").frame
    ca = read_layer(SAMPLES / "community_areas.geojson").frame
    nest = Areas(pcn, pcn["pcn_code"].tolist(), "pcn")
    frame = small.rename(columns={"sa_code": "code"})
    result = run(frame, counts, lo=3000, hi=10_000, nest=nest,
                 community=Areas(ca, ca["id"].tolist()))
    check(result, frame, counts, 3000, 10_000, nest=nest)
    assert result.summary["violations"]["below_min"] + \
        result.summary["violations"]["above_max"] == 0


@pytest.mark.realdata
def test_trafford_lsoas_nested_in_nearest_pcn_footprints():
    """Trafford's 139 LSOAs nested in the PCN footprints ``nbhood footprint --method nearest``
    draws (``nbhood_cli.footprint``). The nearest practice of each LSOA is recomputed here by
    brute force: LSOAs nest exactly in such footprints, so every unit's parent must be the
    PCN of its LSOAs' nearest practice and none may straddle two."""
    from nbhood_cli import footprint as fp
    from nbhood_cli.io import read_layer

    lsoa, counts = trafford_lsoa()
    table = read_layer(shared("trafford", "gp_practices.csv")).frame
    practices, _ = fp.membership(table, "gp_practices.csv")
    practices = practices.sort_values("practice_code", ignore_index=True)
    where = table.set_index("practice_code").geometry[practices["practice_code"]]
    xy = shapely.get_coordinates(where.values)
    points = shapely.get_coordinates(shapely.point_on_surface(lsoa.geometry.values))
    best, distance = fp.nearest(points, xy)
    _, unit_table = fp.units(practices, "pcn")
    pairs = fp.nearest_pairs(best, distance, practices, "pcn")
    footprints = fp.footprints(lsoa, lsoa["lsoa21cd"].to_numpy(object), pairs, unit_table,
                               "nearest", "pcn").footprints
    assert len(footprints) == 5 and footprints["n_lsoas"].sum() == 139

    d = np.hypot(points[:, None, 0] - xy[None, :, 0], points[:, None, 1] - xy[None, :, 1])
    pcn = practices["pcn_code"].to_numpy()[np.argmin(d, axis=1)]
    nest = Areas(footprints, footprints["pcn_code"].tolist(), "pcn")
    frame = lsoa.rename(columns={"lsoa21cd": "code"})
    result = run(frame, counts, lo=3000, hi=10_000, nest=nest)
    check(result, frame, counts, 3000, 10_000, nest=nest)
    assert result.small_areas["parent"].tolist() == list(pcn[np.argsort(frame["code"])])
    assert result.summary["nest"] == {"layer": "pcn", "units": 5, "small_areas_outside": 0}
    assert result.summary["violations"]["below_min"] + \
        result.summary["violations"]["above_max"] == 0
