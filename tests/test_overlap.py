"""The certified intersection-area kernel (overlap.py) against GEOS's overlay.

A pair the kernel answers must have GEOS's area to rounding — shared vertices and edges
included, which it decides by an infinitesimal move — and exactly 0.0 where the two only
touch; a pair with a test it can neither certify nor prove exactly 0 (a vertex on a slanted
edge) must be declined (NaN), never guessed; and ``population.intersection_areas``, which
sends declined pairs to GEOS, must equal GEOS on everything.
"""

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import trafford_layer, trafford_lsoa
from nbhood_cli import overlap, population

X, Y = 450_000.0, 350_000.0  # England-sized coordinates: the bound must hold at this size


def kernel(a, b):
    """The kernel's area for each pair (a[k], b[k])."""
    ra, rb = overlap.Rings(a), overlap.Rings(b)
    k = np.arange(len(a))
    return overlap.pair_areas(ra, rb, k, k)


def geos(a, b):
    return shapely.area(shapely.intersection(np.asarray(a, dtype=object),
                                             np.asarray(b, dtype=object)))


def at(geom):
    return shapely.affinity.translate(geom, X, Y)


def square(x0, y0, x1, y1):
    return at(shapely.box(x0, y0, x1, y1))


# --- hand-computed --------------------------------------------------------------------

def test_hand_computed_pairs():
    holed = at(shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)],
                               [[(2, 2), (2, 6), (6, 6), (6, 2)]]))
    clockwise = at(shapely.Polygon([(1, 1), (1, 9), (9, 9), (9, 1)]))  # a shell run clockwise
    two = shapely.MultiPolygon([square(-3, -3, -1, -1), square(3, 3, 5, 5)])
    a = [square(0, 0, 4, 4), holed, holed, clockwise, square(20, 20, 21, 21),
         square(-5, -5, 50, 50), square(5, 5, 7, 7)]
    b = [square(1, 1, 5, 5.5), square(1, 1, 3, 3), clockwise, two, holed, holed, holed]
    got = kernel(a, b)
    # 3 × 3; a 2 × 2 less its 1 × 1 in the hole; 64 less the 16 of the hole; two's parts:
    # one outside, one (2 × 2) inside; disjoint; all of holed; a 2 × 2 less 1 × 1 in the hole
    assert got.tolist() == pytest.approx([9.0, 3.0, 48.0, 4.0, 0.0, 84.0, 3.0])
    assert got.tolist() == pytest.approx(geos(a, b).tolist())


def test_shared_edges_and_corners_are_answered_as_if_moved_apart():
    """Shared vertices, shared and collinear axis-parallel edges: the tests are exactly 0,
    and are decided as if the second polygon were moved by an infinitesimal (ε, ε²) — the
    area is continuous in that move, so the answer is the area itself."""
    a = [square(0, 0, 1, 1), square(0, 0, 1, 1), square(0, 0, 2, 2), square(0, 0, 1, 1),
         square(0, 0, 2, 1), square(0, 0, 1, 1)]
    b = [square(1, 0, 2, 1),  # a shared edge, outside
         square(1, 1, 2, 2),  # a shared corner
         square(0, 0, 1, 1.5),  # two shared edges and a corner, inside
         square(0, 0, 1, 1),  # the same square
         square(1, 0, 3, 1),  # half of each shares an edge, collinear edges touch end to end
         shapely.MultiPolygon([square(0, 0, 0.5, 1), square(0.5, 0, 1, 1)])]  # its halves
    got = kernel(a, b)
    assert got.tolist() == [0.0, 0.0, 1.5, 1.0, 1.0, 1.0]
    assert got.tolist() == pytest.approx(geos(a, b).tolist(), abs=1e-9)


def test_a_vertex_inside_a_slanted_edge_is_declined_not_guessed():
    # (1, 1) lies exactly on the edge (0, 0)–(3, 3): the determinant is exactly 0, but its
    # products are not, so floating point cannot show it: the pair goes to GEOS
    a = [at(shapely.Polygon([(1, 1), (0, 2), (-1, 1)]))]
    b = [at(shapely.Polygon([(0, 0), (3, 0), (3, 3)]))]
    assert np.isnan(kernel(a, b)).all()
    assert geos(a, b).tolist() == [0.0]


def test_near_but_not_touching_edges_are_decided():
    # 1e-6 m apart at England coordinates: far above the rounding bound, so certain
    a, b = [square(0, 0, 1, 1)], [square(1 + 1e-6, 0.5, 2, 2)]
    assert kernel(a, b).tolist() == [0.0]
    a, b = [square(0, 0, 1, 1)], [square(1 - 1e-6, 0.5, 2, 2)]
    got = kernel(a, b)[0]  # 1e-6 × 0.5, as near as the coordinates can say it
    assert got == pytest.approx(geos(a, b)[0], rel=1e-6)
    assert got == pytest.approx(1e-6 * 0.5, rel=1e-3)


# --- random polygons ------------------------------------------------------------------

def star(cx, cy, radii, phase):
    """A simple polygon (star-shaped about its centre) with one vertex per radius."""
    n = len(radii)
    angles = phase + 2 * math.pi * np.arange(n) / n
    return shapely.Polygon(np.column_stack([cx + np.cos(angles) * radii,
                                            cy + np.sin(angles) * radii]))


@st.composite
def polygons(draw, snap):
    cx, cy = draw(st.floats(-50, 50)), draw(st.floats(-50, 50))
    n = draw(st.integers(3, 24))
    radii = np.array(draw(st.lists(st.floats(20, 60), min_size=n, max_size=n)))
    shell = star(cx, cy, radii, draw(st.floats(0, 6.3)))
    kind = draw(st.sampled_from(["plain", "hole", "multi", "clockwise"]))
    if kind == "hole":
        hole = star(cx, cy, np.full(draw(st.integers(3, 8)), draw(st.floats(2, 15))), 0.3)
        shell = shapely.Polygon(shell.exterior, [hole.exterior])
    elif kind == "multi":
        shell = shapely.MultiPolygon([shell, star(cx + 200, cy, radii / 2, 0.1)])
    elif kind == "clockwise":
        shell = shapely.Polygon(shell.exterior.coords[::-1])
    if snap:  # a coarse grid: shared vertices and collinear edges between the two
        shell = shapely.set_precision(shell, 10.0)
    shell = at(shell)
    return shell if shell.is_valid and not shell.is_empty else at(shapely.box(0, 0, 5, 5))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(polygons(False), polygons(False)), min_size=1, max_size=8))
def test_random_pairs_equal_geos(pairs):
    a, b = zip(*pairs, strict=True)
    got, want = kernel(a, b), geos(a, b)
    scale = np.minimum(shapely.area(a), shapely.area(b))
    done = ~np.isnan(got)
    assert np.all(np.abs(got[done] - want[done]) <= 1e-9 * scale[done] + 1e-6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(polygons(True), polygons(True)), min_size=1, max_size=8))
def test_snapped_pairs_are_equal_or_declined(pairs):
    a, b = zip(*pairs, strict=True)
    got, want = kernel(a, b), geos(a, b)
    done = ~np.isnan(got)
    scale = np.minimum(shapely.area(a), shapely.area(b))
    assert np.all(np.abs(got[done] - want[done]) <= 1e-9 * scale[done] + 1e-6)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.3]), st.booleans(), st.booleans())
def test_unions_of_shared_cells_equal_their_common_cells(seed, jitter, turn_a, turn_b):
    """Two unions of cells of one jittered 6 × 6 grid share vertices and edges exactly, as
    nested layers do, each run either way round: their overlap is the area of the cells in
    both (or the pair is declined), computed here without any overlay — and exactly 0.0
    where they share no cell, however many edges they share."""
    rng = np.random.default_rng(seed)
    n = 6
    xy = np.stack(np.meshgrid(np.arange(n + 1.0), np.arange(n + 1.0), indexing="ij"), -1)
    xy[1:-1, 1:-1] += rng.uniform(-jitter, jitter, (n - 1, n - 1, 2))
    xy = xy * 100 + [X, Y]
    cells = np.array([shapely.Polygon([xy[i, j], xy[i + 1, j], xy[i + 1, j + 1],
                                       xy[i, j + 1]]) for i in range(n) for j in range(n)])
    pick_a, pick_b = rng.random(n * n) < 0.5, rng.random(n * n) < 0.5
    if not pick_a.any() or not pick_b.any():
        return
    a, b = shapely.union_all(cells[pick_a]), shapely.union_all(cells[pick_b])
    a, b = (shapely.reverse(a) if turn_a else a), (shapely.reverse(b) if turn_b else b)
    got = kernel([a], [b])[0]
    want = shapely.area(cells[pick_a & pick_b]).sum()
    assert np.isnan(got) or got == pytest.approx(want, rel=1e-12, abs=1e-6)
    if not (pick_a & pick_b).any():
        assert got == 0.0
    assert geos([a], [b])[0] == pytest.approx(want, rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(polygons(True), polygons(False)), min_size=1, max_size=12),
       st.integers(1, 3))
def test_intersection_areas_equal_geos_on_every_path(pairs, chunk):
    bow_tie = at(shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))  # invalid
    a = np.array([p[0] for p in pairs] + [None, bow_tie], dtype=object)
    b = np.array([p[1] for p in pairs] + [square(0, 0, 1, 1), square(100, 100, 101, 101)],
                 dtype=object)
    overlaid = []

    def spy(x, y, **kwargs):
        overlaid.extend(np.atleast_1d(x).tolist())
        return intersection(x, y, **kwargs)

    intersection = shapely.intersection
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(population, "KERNEL_MIN", 0)
        mp.setattr(population, "THREADS", 2)
        mp.setattr(population, "CHUNK", chunk)
        mp.setattr(population, "MIN_SPLIT", 1)
        mp.setattr(shapely, "intersection", spy)
        got = population.intersection_areas(a, b)
    want = geos(a, b)
    np.testing.assert_allclose(got[:-2], want[:-2], rtol=1e-9, atol=1e-6)
    assert np.isnan(got[-2]) and np.isnan(want[-2])  # None: as GEOS says
    assert got[-1] == want[-1] and any(g is bow_tie for g in overlaid)  # GEOS's, not ours


# --- real data --------------------------------------------------------------------------

@pytest.mark.realdata
@pytest.mark.parametrize("layer", ["wards.geojson", "community_areas.geojson"])
def test_trafford_pairs_equal_geos(layer):
    """Every pair of Trafford LSOA and target whose boxes meet: the separately generalised
    wards cross the LSOAs' edges everywhere, the community areas share some of them."""
    lsoa, _ = trafford_lsoa()
    src = np.asarray(lsoa.geometry.values)
    tgt = np.asarray(trafford_layer(layer).geometry.values)
    i, j = shapely.STRtree(tgt).query(src)
    got = overlap.pair_areas(overlap.Rings(src), overlap.Rings(tgt), i, j)
    want = geos(src[i], tgt[j])
    done = ~np.isnan(got)
    assert done.mean() > 0.5  # the kernel answers most pairs here
    np.testing.assert_allclose(got[done], want[done], rtol=1e-9,
                               atol=1e-9 * shapely.area(src[i[done]]).max())


@pytest.mark.realdata
def test_trafford_output_areas_in_their_lsoas_equal_geos_exactly():
    """ONS's 738 Census 2021 Output Areas nest edge for edge in the 139 LSOAs: every pair
    shares edges, run the same way (an OA inside its LSOA) or back (its neighbours). The
    kernel must give GEOS's areas, and exactly 0.0 wherever GEOS finds no area (a pair that
    only touches), so no touching pair becomes a piece."""
    from conftest import shared
    from nbhood_cli.io import read_layer

    oa = np.asarray(read_layer(shared("trafford", "oa.geojson")).frame.geometry.values)
    lsoa, _ = trafford_lsoa()
    lsoa = np.asarray(lsoa.geometry.values)
    i, j = shapely.STRtree(lsoa).query(oa)
    got = overlap.pair_areas(overlap.Rings(oa), overlap.Rings(lsoa), i, j)
    want = geos(oa[i], lsoa[j])
    assert not np.isnan(got).any()
    assert ((got > 0) == (want > 0)).all() and (got[want == 0] == 0).all()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.realdata
@pytest.mark.parametrize("layer", ["wards.geojson", "community_areas.geojson"])
def test_trafford_area_tables_through_the_kernel_equal_the_proofs(layer, monkeypatch):
    """The same (small area, target) rows as the proofs and GEOS give — no touching pair
    gains a row — and the same areas to 1e-12, or 1 mm² on the slivers between separately
    generalised edges (where both round the crossing points)."""
    lsoa, _ = trafford_lsoa()
    targets = trafford_layer(layer)
    want = population.area_table(lsoa, targets)
    monkeypatch.setattr(population, "KERNEL_MIN", 0)
    got = population.area_table(lsoa, targets)
    assert got[["source", "target"]].equals(want[["source", "target"]])
    np.testing.assert_allclose(got["area"], want["area"], rtol=1e-12, atol=1e-6)


def test_without_numba_geos_takes_every_pair(monkeypatch):
    """Where numba cannot be imported (no wheel for this Python), nothing fails: the kernel
    is unavailable, every pair goes through the proofs and GEOS, with the same results."""
    import sys

    sources = [square(x, y, x + 40, y + 40) for x in range(0, 400, 40) for y in (0, 40)]
    targets = [square(15, -5, 215, 75), square(215, -5, 395, 75)]
    src = gpd.GeoDataFrame(geometry=sources, crs=27700)
    tgt = gpd.GeoDataFrame(geometry=targets, crs=27700)
    with monkeypatch.context() as mp:
        mp.setattr(population, "KERNEL_MIN", 0)
        by_kernel = population.area_table(src, tgt)
    monkeypatch.setattr(overlap, "_KERNEL", None)
    monkeypatch.setitem(sys.modules, "nbhood_cli._overlap_jit", None)  # import fails
    monkeypatch.setattr(population, "KERNEL_MIN", 0)
    assert not overlap.available()
    by_geos = population.area_table(src, tgt)
    assert by_geos[["source", "target"]].equals(by_kernel[["source", "target"]])
    np.testing.assert_allclose(by_geos["area"], by_kernel["area"], rtol=1e-12)
    assert by_geos["area"].sum() == pytest.approx(380 * 75)  # [15, 395] × [0, 75]


@pytest.mark.realdata
def test_england_lsoas_in_their_authorities_equal_geos():
    """All 33,755 LSOAs (BSC) against the 296 authorities dissolved from them, every pair
    whose boxes meet: each LSOA shares edges with its own authority (run the same way once
    rings are oriented; half of the LSOAs are stored the other way round) and with its
    neighbours' (run back). England-sized real input is where a wrong
    quicker primitive shows (docs/performance.md): the kernel must give GEOS's areas, and
    exactly 0.0 wherever GEOS finds none."""
    from conftest import shared

    small = gpd.read_parquet(shared("england", "lsoa21_england_bsc_census2021.parquet"))
    small = small.to_crs(27700)
    lad = small.dissolve("lad24cd", as_index=False)
    src, tgt = np.asarray(small.geometry.values), np.asarray(lad.geometry.values)
    src[::2] = shapely.reverse(src[::2])  # files differ in which way their rings run
    i, j = shapely.STRtree(tgt).query(src)
    got = overlap.pair_areas(overlap.Rings(src), overlap.Rings(tgt), i, j)
    want = geos(src[i], tgt[j])
    done = ~np.isnan(got)
    assert done.mean() > 0.999
    assert (got[done & (want == 0)] == 0).all() and (got[done & (want > 0)] > 0).all()
    np.testing.assert_allclose(got[done], want[done], rtol=0,
                               atol=1e-12 * shapely.area(src[i[done]]).max())
    assert (got[done] > 0).sum() >= len(src)  # every LSOA in its authority, at least
