"""The population engine's shortcuts (docs/performance.md) against plain shapely.

Every shortcut must give what intersecting every pair gives: covered small areas, pairs that
only touch, pieces derived by subtraction where the targets tile, faces of isolated targets,
and the chunks of the threaded path (forced tiny here). The references below are computed
the slow, obvious way in the test.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

from nbhood_cli import population
from nbhood_cli.population import area_table, estimate, faces, shares

X, Y = 450_000, 350_000


def frame(*geoms):
    return gpd.GeoDataFrame(geometry=list(geoms), crs=27700)


def box(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def grid(step, nx, ny, x0=0, y0=0):
    return [box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
            for i in range(nx) for j in range(ny)]


# --- references: every pair, the obvious way ------------------------------------------

def naive_table(sources, targets):
    rows = {}
    for i, s in enumerate(sources.geometry.values):
        for j, t in enumerate(targets.geometry.values):
            area = shapely.area(shapely.intersection(s, t))
            if area > 0:
                rows[(i, j)] = area
    return rows


def naive_faces(targets):
    """The original algorithm: polygonize the noded union of every boundary."""
    geoms = targets.geometry.values
    noded = shapely.union_all(shapely.boundary(geoms))
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    p, _ = shapely.STRtree(geoms).query(shapely.point_on_surface(polys), predicate="within")
    claims = np.bincount(p, minlength=len(polys))
    return polys[claims > 0], claims[claims > 0]


def naive_estimate(sources, counts, targets):
    counts = np.asarray(counts, float)
    area_s = shapely.area(sources.geometry.values)
    table = naive_table(sources, targets)
    n = len(targets)
    population_ = np.zeros(n)
    from_split = np.zeros(n)
    contributors = [set() for _ in range(n)]
    for (i, j), area in table.items():
        people = counts[i] * area / area_s[i]
        population_[j] += people
        if area / area_s[i] < 1 - population.SPLIT_TOLERANCE:
            from_split[j] += people
        if people > 0:
            contributors[j].add(i)
    polys, claims = naive_faces(targets)
    land = frame(*polys)
    face_people = np.zeros(len(polys))
    for (i, f), area in naive_table(sources, land).items():
        face_people[f] += counts[i] * area / area_s[i]
    return {
        "population": population_,
        "n_sources": np.array([len(c) for c in contributors]),
        "split_source_share": np.where(population_ > 0, from_split / np.where(
            population_ > 0, population_, 1), 0.0),
        "allocated": population_.sum(),
        "counted_twice": float((face_people * (claims - 1)).sum()),
        "unallocated": counts.sum() - face_people.sum(),
    }


def assert_same_table(sources, targets):
    got = area_table(sources, targets)
    expected = naive_table(sources, targets)
    pairs = list(zip(got["source"], got["target"], strict=True))
    assert sorted(pairs) == sorted(expected), "the pairs with land in common differ"
    scale = shapely.area(sources.geometry.values).max()
    want = np.array([expected[p] for p in pairs])
    np.testing.assert_allclose(got["area"].to_numpy(), want, rtol=0, atol=1e-9 * scale)
    assert list(got.columns) == ["source", "target", "area"]
    assert got["source"].dtype == np.int64 and got["target"].dtype == np.int64


def assert_same_faces(targets):
    land = faces(targets)
    polys, claims = naive_faces(targets)
    assert list(land.columns) == ["claims", "geometry"]
    for k in sorted(set(claims) | set(land["claims"])):
        mine = shapely.union_all(land.geometry.values[land["claims"].to_numpy() == k])
        theirs = shapely.union_all(polys[claims == k])
        assert shapely.area(shapely.symmetric_difference(mine, theirs)) < 1e-6, k
        assert (land["claims"] == k).sum() >= 1


def assert_same_estimate(sources, counts, targets):
    got = estimate(sources, counts, targets)
    want = naive_estimate(sources, counts, targets)
    total = max(sum(counts), 1)
    areas = got.areas
    np.testing.assert_allclose(areas["population"], want["population"], atol=1e-9 * total)
    assert areas["n_sources"].tolist() == want["n_sources"].tolist()
    np.testing.assert_allclose(areas["split_source_share"], want["split_source_share"],
                               atol=1e-9)
    for key in ("allocated", "counted_twice", "unallocated"):
        assert got.totals[key] == pytest.approx(want[key], abs=1e-6 * total), key
    assert got.totals["conserved"], got.totals


@pytest.fixture(params=[(1, None), (2, 1), (2, 3)], ids=["serial", "chunk1", "chunk3"])
def threads(request, monkeypatch):
    """Serial, and two threads with chunks of 1 and 3 pairs: every chunk edge gets hit.
    Intersections go through the proofs and GEOS (too few pairs for the kernel)."""
    n, chunk = request.param
    monkeypatch.setattr(population, "THREADS", n)
    if chunk:
        monkeypatch.setattr(population, "CHUNK", chunk)
    return request.param


@pytest.fixture(params=[(1, None, 4_000), (2, 1, 4_000), (2, 3, 4_000), (1, None, 0),
                        (2, 1, 0)],
                ids=["serial", "chunk1", "chunk3", "kernel", "kernel-chunk1"])
def paths(request, monkeypatch):
    """The threadings of ``threads`` through the proofs and GEOS, and every pair by the
    kernel of overlap.py (KERNEL_MIN 0), serial and in chunks of one pair."""
    n, chunk, kernel_min = request.param
    monkeypatch.setattr(population, "THREADS", n)
    if chunk:
        monkeypatch.setattr(population, "CHUNK", chunk)
    monkeypatch.setattr(population, "KERNEL_MIN", kernel_min)
    return request.param


# --- hand-computed cases ----------------------------------------------------------------

def test_nested_small_areas_take_their_own_area(paths):
    # Four 50 m squares inside the left 100 m target, sharing its edges; the right target
    # only touches two of them: those pairs have no land in common.
    sources = frame(*grid(50, 2, 2))
    targets = frame(box(0, 0, 100, 100), box(100, 0, 200, 100))
    table = area_table(sources, targets)
    assert table["target"].tolist() == [0, 0, 0, 0]
    assert table["area"].tolist() == pytest.approx([2500.0] * 4)
    assert_same_table(sources, targets)


def test_small_area_strictly_inside_and_target_inside_small_area(paths):
    sources = frame(box(10, 10, 20, 20), box(200, 0, 300, 100))
    targets = frame(box(0, 0, 100, 100), box(240, 40, 260, 60))
    table = area_table(sources, targets)
    assert list(zip(table["source"], table["target"], table["area"], strict=True)) == [
        (0, 0, pytest.approx(100.0)), (1, 1, pytest.approx(400.0))]


def test_small_areas_touching_target_edges_from_outside(paths):
    # A ring of squares around the target, touching its edges and corners only.
    ring = [box(x, y, x + 10, y + 10) for x in (-10, 0, 10, 20) for y in (-10, 20)] + \
        [box(-10, 0, 0, 10), box(-10, 10, 0, 20), box(20, 0, 30, 10), box(20, 10, 30, 20)]
    sources = frame(*ring)
    assert area_table(sources, frame(box(0, 0, 20, 20))).empty


def test_tiled_targets_derive_the_largest_piece(threads, monkeypatch):
    # Targets tile 0..300 × 0..100 in three 100 m columns (a clean coverage); the small
    # area 50..250 straddles all three: 50 + 100 + 50 m wide.
    targets = frame(box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100))
    sources = frame(box(50, 10, 250, 90))
    derived = []
    real = population._derivable

    def spy(*args):
        out = real(*args)
        derived.append(int(out.sum()))
        return out

    monkeypatch.setattr(population, "_derivable", spy)
    table = area_table(sources, targets)
    assert table["area"].tolist() == pytest.approx([50 * 80, 100 * 80, 50 * 80])
    assert sum(derived) == 1  # the middle piece, where its interior point lies


@pytest.mark.parametrize("spoil", ["overlap", "gap", "t-junction", "duplicate"])
def test_no_derivation_where_the_targets_are_not_a_clean_coverage(spoil, paths):
    base = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]
    if spoil == "overlap":
        base[1] = box(95, 0, 200, 100)
    elif spoil == "gap":
        base[1] = box(100, 0, 198, 100)
    elif spoil == "t-junction":  # the middle edge gets a vertex its neighbour lacks
        base[1] = shapely.Polygon([(X + 100, Y), (X + 200, Y), (X + 200, Y + 100),
                                   (X + 100, Y + 100), (X + 100, Y + 50)])
    else:
        base.append(base[1])
    targets = frame(*base)
    sources = frame(box(50, 10, 250, 90), box(120, 20, 180, 80), box(150, -50, 350, 150))
    assert_same_table(sources, targets)
    assert_same_faces(targets)
    assert_same_estimate(sources, [100.0, 40.0, 900.0], targets)


def test_the_same_target_object_twice_counts_twice(paths):
    t = box(0, 0, 100, 100)
    targets = frame(t, t, box(100, 0, 200, 100))
    sources = frame(*grid(50, 4, 2))
    assert_same_table(sources, targets)
    land = faces(targets)
    assert sorted(land["claims"]) == [1, 2]
    assert_same_estimate(sources, np.arange(8.0) * 10, targets)


def test_a_clean_coverage_is_proven_alone_without_relate(monkeypatch):
    # 4 × 4 tiles sharing every edge: the 2 × 2 inner tiles meet no unmatched edge, so
    # their isolation is proven by the edge count; only pairs of outer tiles are related.
    asked = []
    real = shapely.relate_pattern

    def spy(a, b, pattern):
        asked.append(len(np.atleast_1d(a)))
        return real(a, b, pattern)

    monkeypatch.setattr(shapely, "relate_pattern", spy)
    layer = population._layer(population._geoms(frame(*grid(100, 4, 4))))
    assert layer.alone.all() and len(layer.overlaps) == 0
    touching_pairs = 42  # rook and queen neighbours among 16 tiles
    assert 0 < sum(asked) < touching_pairs


def test_large_layers_that_are_no_coverage_skip_the_proofs(monkeypatch):
    monkeypatch.setattr(population, "UNMATCHED_SIZE", 0)
    targets = frame(box(0, 0, 100, 100), box(150, 0, 250, 100), box(90, 50, 160, 60))
    geoms = population._geoms(targets)
    assert population._unmatched(geoms, np.ones(3, bool), shapely.STRtree(geoms)) is None
    sources = frame(*grid(30, 9, 4))
    assert_same_table(sources, targets)
    assert_same_faces(targets)
    assert_same_estimate(sources, np.arange(36.0), targets)


def test_a_sample_tells_a_coverage_from_freehand_areas(monkeypatch):
    """``_shares_edges`` says yes to a grid (five in six of its edges shared) and no to
    squares apart; a large layer it says no to is not taken apart edge by edge."""
    cells = population._geoms(frame(*grid(10, 6, 6)))
    apart = population._geoms(frame(*[box(20 * i, 0, 20 * i + 10, 10) for i in range(9)]))
    for geoms, shared in ((cells, True), (apart, False)):
        assert population._shares_edges(geoms, shapely.STRtree(geoms)) is shared
    monkeypatch.setattr(population, "UNMATCHED_SIZE", 0)
    monkeypatch.setattr(population, "_edges", None)  # would raise if it were called
    assert population._unmatched(apart, np.ones(len(apart), bool),
                                 shapely.STRtree(apart)) is None


def ring_of(*xy):
    return shapely.Polygon([(X + x, Y + y) for x, y in xy])


def covers_related(monkeypatch):
    """Count the pairs whose cover is decided by relate, not proven."""
    asked = []
    real = shapely.relate_pattern

    def spy(a, b, pattern):
        if pattern == "**F**F***":
            asked.append(len(np.atleast_1d(a)))
        return real(a, b, pattern)

    monkeypatch.setattr(shapely, "relate_pattern", spy)
    return asked


# Two targets made of 50 m grid squares, written with every vertex the squares have: the
# squares' edges add up to theirs, so covers are proven without relate.
LEFT = ring_of((0, 0), (50, 0), (100, 0), (100, 50), (100, 100), (50, 100), (0, 100), (0, 50))
RIGHT = ring_of((100, 0), (150, 0), (200, 0), (200, 50), (200, 100), (150, 100), (100, 100),
                (100, 50))


@pytest.mark.parametrize("homes", [True, False], ids=["homes", "after-predicates"])
def test_targets_made_of_small_areas_are_proven_by_their_edges(threads, monkeypatch, homes):
    monkeypatch.setattr(population, "CHAIN_PAYS", 10**12)
    if not homes:  # no home found first: the chains run on the predicates' candidates
        monkeypatch.setattr(population, "MADE_SAMPLE", 0)
    asked = covers_related(monkeypatch)
    sources = frame(*grid(50, 4, 2))
    targets = frame(LEFT, RIGHT)
    table = area_table(sources, targets)
    assert table["area"].tolist() == pytest.approx([2500.0] * 8)
    assert sum(asked) == 0
    assert_same_table(sources, targets)


def classified(monkeypatch):
    """Count the pairs that go through the predicates (``_classify``)."""
    asked = []
    real = population._classify

    def spy(src, tgt, i, j):
        asked.append(len(i))
        return real(src, tgt, i, j)

    monkeypatch.setattr(population, "_classify", spy)
    return asked


def blocks(squares, columns, rows, width):
    """Targets dissolved from a column-major grid of squares, ``width`` columns each."""
    return [shapely.coverage_union_all([squares[c * rows + r] for c in range(c0, c0 + width)
                                        for r in range(rows)])
            for c0 in range(0, columns, width)]


def test_a_layer_made_of_small_areas_needs_no_predicates(threads, monkeypatch):
    squares = grid(50, 6, 4)
    sources, targets = frame(*squares), frame(*blocks(squares, 6, 4, 2))
    asked = classified(monkeypatch)
    table = area_table(sources, targets)
    assert sum(asked) == 0  # every small area proven inside its block first
    assert table["area"].tolist() == pytest.approx([2500.0] * 24)
    assert_same_table(sources, targets)
    assert_same_estimate(sources, np.arange(24.0), targets)


def test_a_proven_home_overlapping_another_target_is_still_intersected(threads, monkeypatch):
    squares = grid(50, 6, 4)
    # across blocks 0 and 1, cutting squares but missing their centres: every square is
    # proven in its block first, and the blocks overlap the extra target
    extra = box(80, 20, 120, 180)
    sources = frame(*squares)
    targets = frame(*blocks(squares, 6, 4, 2), extra)
    asked = classified(monkeypatch)
    table = area_table(sources, targets)
    assert sum(asked) == 0
    assert table.loc[table["target"] == 3, "area"].sum() == pytest.approx(40 * 160)
    assert_same_table(sources, targets)
    assert_same_estimate(sources, np.arange(24.0), targets)


def test_layers_not_made_of_small_areas_are_not_chained(monkeypatch):
    squares = grid(50, 6, 4)
    shifted = [shapely.affinity.translate(b, 0.5, 0.5) for b in blocks(squares, 6, 4, 2)]
    chained = []
    real = population._chain_covered
    monkeypatch.setattr(population, "_chain_covered",
                        lambda *a: chained.append(1) or real(*a))
    sources, targets = frame(*squares), frame(*shifted)
    assert not population._made_of_small_areas(population._geoms(sources),
                                               population._geoms(targets))
    assert_same_table(sources, targets)
    assert chained == []


def test_edges_split_at_other_vertices_are_related_instead(threads, monkeypatch):
    # The same land, but the targets lack the squares' mid-edge vertices: no proof, so
    # every cover not already proper is related, with the same results.
    monkeypatch.setattr(population, "CHAIN_PAYS", 10**12)
    asked = covers_related(monkeypatch)
    sources = frame(*grid(50, 4, 2))
    targets = frame(box(0, 0, 100, 100), RIGHT)
    assert_same_table(sources, targets)
    assert sum(asked) == 4  # the left target's squares; the right's are proven


def test_chain_proof_refuses_what_does_not_add_up():
    src = population._geoms(frame(*grid(50, 2, 2), box(200, 0, 250, 50),
                                  box(0, 0, 50, 50)))  # the last: a copy of the first
    tgt = population._geoms(frame(LEFT, box(150, 0, 300, 100)))
    proven = population._chain_covered
    assert proven(src, tgt, np.arange(4), np.zeros(4, int)).all()
    # one square missing, a stray square outside, a square paired twice, a duplicate
    assert not proven(src, tgt, np.arange(3), np.zeros(3, int)).any()
    assert not proven(src, tgt, np.arange(5), np.zeros(5, int)).any()
    assert proven(src, tgt, np.array([0, 1, 2, 3, 4]), np.array([0, 0, 0, 0, 1])).tolist() \
        == [True] * 4 + [False]  # the stray square does not make target 1
    assert not proven(src, tgt, np.array([0, 1, 2, 3, 0]), np.array([0, 0, 0, 0, 1])).any()
    assert not proven(src, tgt, np.array([0, 1, 2, 3, 5]), np.zeros(5, int)).any()


def test_chain_proof_refuses_an_invalid_small_area():
    # The left square with a zero-width spike below it: its edges, less the spike's reversed
    # pair, are the square's with the bottom split at x = 25, as in the target, but an
    # invalid polygon is never taken on trust.
    spiked = ring_of((0, 0), (25, 0), (25, -30), (25, 0), (50, 0), (50, 50), (0, 50))
    square = box(50, 0, 100, 50)
    target = ring_of((0, 0), (25, 0), (50, 0), (100, 0), (100, 50), (50, 50), (0, 50))
    src = population._geoms(frame(spiked, square))
    assert not shapely.is_valid(src[0])
    tgt = population._geoms(frame(target))
    assert not population._chain_covered(src, tgt, np.array([0, 1]), np.zeros(2, int)).any()
    fixed = population._geoms(frame(ring_of((0, 0), (25, 0), (50, 0), (50, 50), (0, 50)),
                                    square))
    assert population._chain_covered(fixed, tgt, np.array([0, 1]), np.zeros(2, int)).all()


def test_validity_is_tested_once_per_geometry(monkeypatch):
    import weakref

    spiked = ring_of((0, 0), (25, 0), (25, -30), (25, 0), (50, 0), (50, 50), (0, 50))
    geoms = np.array([box(0, 0, 1, 1), spiked, None, box(2, 0, 3, 1)], dtype=object)
    expected = [True, False, False, True]
    assert population.is_valid(geoms).tolist() == expected
    asked = []
    monkeypatch.setattr(shapely, "is_valid", lambda g, **kw: asked.append(len(g)) or
                        np.ones(len(g), bool))
    assert population.is_valid(geoms[[3, 1, 0]]).tolist() == [True, False, True]
    assert asked == []  # all remembered (None is never valid, and not asked)
    # an entry left by another object that had the same id is not read for this one
    fresh = ring_of((0, 0), (25, 0), (25, -30), (25, 0), (50, 0), (50, 50), (0, 50))
    population._VALIDITY[id(fresh)] = (weakref.ref(geoms[0]), False)
    assert population.is_valid(np.array([fresh], dtype=object)).tolist() == [True]
    assert asked == [1]
    # an entry goes with its geometry
    key = id(fresh)
    assert key in population._VALIDITY
    del fresh
    assert key not in population._VALIDITY


def test_chain_proof_with_an_island_in_a_hole():
    # A small area with a hole, and the island filling it: together they are the target.
    holed = shapely.Polygon(box(0, 0, 90, 90).exterior.coords,
                            [box(30, 30, 60, 60).exterior.coords])
    src = population._geoms(frame(holed, box(30, 30, 60, 60)))
    tgt = population._geoms(frame(box(0, 0, 90, 90)))
    assert population._chain_covered(src, tgt, np.array([0, 1]), np.zeros(2, int)).all()
    assert not population._chain_covered(src, tgt, np.array([0]), np.zeros(1, int)).any()


def test_multipart_targets_in_a_clean_coverage_are_proven_alone(monkeypatch):
    # 6 × 3 tiles; of the four inner ones, two two-part targets (1 with 3, 2 with 4): no
    # unmatched edge reaches them, so they are proven alone without being related.
    related = set()
    real = shapely.relate_pattern

    def spy(a, b, pattern):
        related.update(id(g) for g in [*np.atleast_1d(a), *np.atleast_1d(b)])
        return real(a, b, pattern)

    monkeypatch.setattr(shapely, "relate_pattern", spy)
    tile = {(x, y): box(100 * x, 100 * y, 100 * x + 100, 100 * y + 100)
            for x in range(6) for y in range(3)}
    inner = [shapely.MultiPolygon([tile.pop((1, 1)), tile.pop((3, 1))]),
             shapely.MultiPolygon([tile.pop((2, 1)), tile.pop((4, 1))])]
    targets = frame(*inner, *tile.values())
    layer = population._layer(population._geoms(targets))
    assert layer.alone.all() and len(layer.overlaps) == 0
    assert not related & {id(g) for g in targets.geometry.values[:2]}
    assert_same_faces(targets)


def test_prepared_inputs_give_the_same_results(paths):
    sources = frame(*grid(30, 9, 4))
    targets = frame(*grid(100, 3, 2), box(50, 20, 130, 90))
    shapely.prepare(sources.geometry.values)
    shapely.prepare(targets.geometry.values)
    assert_same_table(sources, targets)
    assert_same_faces(targets)
    assert shapely.is_prepared(targets.geometry.values).all()  # left as the caller had them


def test_targets_are_left_unprepared():
    targets = frame(*grid(100, 3, 3))
    area_table(frame(*grid(70, 4, 4)), targets)
    assert not shapely.is_prepared(targets.geometry.values).any()


def test_faces_of_disjoint_and_overlapping_groups(paths):
    # A lone target, a lone target with a hole holding another lone target, two adjacent
    # tiles, and an overlapping group of three (one inside another).
    targets = frame(
        box(1000, 0, 1100, 100),
        shapely.Polygon(box(0, 0, 300, 300).exterior.coords,
                        [box(100, 100, 200, 200).exterior.coords]),
        box(120, 120, 180, 180),
        box(400, 0, 500, 100), box(500, 0, 600, 100),
        box(700, 0, 850, 100), box(800, 0, 950, 100), box(820, 20, 840, 40),
    )
    land = faces(targets)
    assert sorted(zip(land["claims"], land.area.round(6), strict=True)) == sorted(
        [(1, 10_000.0), (1, 80_000.0), (1, 3_600.0), (1, 10_000.0), (1, 10_000.0),
         (1, 10_000.0), (2, 5_000.0 - 400.0), (3, 400.0), (1, 10_000.0)])
    assert_same_faces(targets)


def test_multipart_and_holey_targets(paths):
    targets = frame(
        shapely.MultiPolygon([box(0, 0, 50, 50), box(100, 0, 150, 50)]),
        shapely.Polygon(box(200, 0, 300, 100).exterior.coords,
                        [box(225, 25, 275, 75).exterior.coords]),
    )
    sources = frame(*grid(40, 8, 3))
    assert_same_table(sources, targets)
    assert_same_faces(targets)
    assert_same_estimate(sources, np.ones(24) * 7, targets)


def test_dasymetric_fallback_only_intersects_the_small_areas_without_weight():
    sources = frame(*grid(100, 3, 1))
    targets = frame(box(50, 0, 250, 100))
    points = np.array([shapely.Point(X + 60, Y + 50)])  # weight only in the first
    table = shares("dasymetric", sources, targets, points=points, weights=np.ones(1))
    got = {(s, t): v for s, t, v in table.itertuples(index=False)}
    assert got == {(0, 0): pytest.approx(1.0), (1, 0): pytest.approx(1.0),
                   (2, 0): pytest.approx(0.5)}


@pytest.mark.parametrize("method", ["centroid", "dasymetric"])
def test_split_pairs_for_point_methods(method, paths):
    sources = frame(*grid(100, 3, 1))
    targets = frame(box(0, 0, 150, 100), box(150, 0, 300, 100))
    est = estimate(sources, [10.0, 20.0, 30.0], targets, method,
                   points=shapely.points([(X + 20, Y + 50), (X + 120, Y + 50),
                                          (X + 280, Y + 50)]))
    # the middle square is cut by the edge at 150: all of the first target's split people
    # come from it under centroid (its point is at 120)
    if method == "centroid":
        assert est.areas["population"].tolist() == [30.0, 30.0]
        assert est.areas["split_source_share"].tolist() == pytest.approx([20 / 30, 0.0])
    assert est.totals["conserved"]


# --- random layouts ---------------------------------------------------------------------

@st.composite
def layouts(draw):
    """Small areas on a jittered grid (a coverage sharing edges) inside 0..200 m; targets
    that are unions of the small areas, or of the cells of another grid over −60..260 m (a
    clean coverage, nesting or straddling: the tiling proofs apply), often spoiled by
    overlapping rectangles or by a target taken out (a gap)."""
    def cuts():
        inner = sorted(set(draw(st.lists(st.integers(1, 9), max_size=4))))
        return [0] + [20 * c for c in inner] + [200]

    xs, ys = cuts(), cuts()
    sources = [box(x0, y0, x1, y1) for x0, x1 in zip(xs, xs[1:], strict=False)
               for y0, y1 in zip(ys, ys[1:], strict=False)]
    if draw(st.booleans()):  # targets made of the small areas: the chain proofs apply
        cells = sources
    else:
        cell = draw(st.sampled_from([20, 40, 80]))
        n = 320 // cell
        cells = grid(cell, n, n, -60, -60)
    labels = draw(st.lists(st.integers(0, 5), min_size=len(cells), max_size=len(cells)))
    targets = []
    for k in sorted(set(labels)):
        part = shapely.union_all([c for c, lab in zip(cells, labels, strict=True) if lab == k])
        targets += list(shapely.get_parts(part)) if draw(st.booleans()) else [part]
    for _ in range(draw(st.integers(0, 2))):
        x0, y0 = draw(st.integers(-20, 180)), draw(st.integers(-20, 180))
        targets.append(box(x0, y0, x0 + draw(st.integers(5, 90)), y0 + draw(st.integers(5, 90))))
    if draw(st.booleans()) and len(targets) > 1:
        targets.pop(draw(st.integers(0, len(targets) - 1)))  # a gap
    counts = draw(st.lists(st.integers(0, 1000), min_size=len(sources), max_size=len(sources)))
    return frame(*sources), counts, frame(*targets)


@settings(max_examples=60, deadline=None)
@given(layouts(), st.sampled_from([(1, 512, 20_000, 10**12, 4_000),
                                   (2, 1, 20_000, 10**12, 0), (2, 2, 20_000, 0, 4_000),
                                   (2, 5, 20_000, 10**12, 4_000), (2, 3, 0, 10**12, 4_000),
                                   (1, 512, 20_000, 10**12, 0)]))
def test_random_layouts_match_every_pair_intersected(layout, settings_):
    """Threads and chunk sizes, chain proofs (always tried, or never), (size 0) the path
    without tiling proofs, and every pair by the kernel (KERNEL_MIN 0)."""
    sources, counts, targets = layout
    names = "THREADS", "CHUNK", "UNMATCHED_SIZE", "CHAIN_PAYS", "KERNEL_MIN"
    old = [getattr(population, name) for name in names]
    for name, value in zip(names, settings_, strict=True):
        setattr(population, name, value)
    try:
        assert_same_table(sources, targets)
        assert_same_faces(targets)
        assert_same_estimate(sources, counts, targets)
    finally:
        for name, value in zip(names, old, strict=True):
            setattr(population, name, value)
