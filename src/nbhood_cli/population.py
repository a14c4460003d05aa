"""How many people live in any area: small-area counts allocated to target areas.

Pure functions (frames in, frames out). Every method is expressed as one table of shares —
for each small area and target, the fraction of the small area's count that goes to the
target — so totals, splits and the conservation check are computed the same way for all.

Speed (docs/performance.md): intersection areas are the expensive step. From ``KERNEL_MIN``
pairs they come from the certified kernel of ``overlap`` (a few µs a pair, GEOS for the pairs
it declines). Smaller tables avoid GEOS's overlays wherever geometry proves the answer — a
small area a target covers takes its own area, a pair that can only touch is skipped, and
where the targets tile the land around a small area its largest piece is what the others
leave. The work runs on ``THREADS`` threads (shapely and the kernel release the GIL), one
areal table serves a whole estimate, and faces are only polygonized where targets overlap.
Every shortcut is exact for valid polygons; the results are those of intersecting every pair.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass

METHODS = ("areal", "centroid", "dasymetric")
SPLIT_TOLERANCE = 1e-9  # area share below 1 − this means the small area is cut by the edge
THREADS = max(1, min(4, os.cpu_count() or 1))  # worker threads for the geometry work
CHUNK = 512  # (small area, target) pairs per threaded task; tests shrink it to hit the edges
MIN_SPLIT = 16  # fewer rows than this are not worth a thread hand-over (tests set it to 1)
DERIVE_FLOOR = 1e-6  # a piece derived by subtraction below this share is intersected instead
UNMATCHED_LIMIT = 0.5  # a layer of more than UNMATCHED_SIZE edges with more than this share
UNMATCHED_SIZE = 20_000  # unmatched is no coverage: no tiling proofs are tried on it
CHAIN_PAYS = 500  # a relate costs as much as matching this many small-area edges: chains
# are tried when the candidates for a cover, times this, outnumber the small areas' vertices
# (and 20,000, for numpy's fixed costs: ≈ 40 candidates at least)
KERNEL_MIN = 4_000  # fewer pairs go to GEOS: loading the compiled kernel costs ≈ 0.4 s a process
MADE_SAMPLE = 32  # targets looked at to tell a layer built from the small areas


@dataclass
class Estimate:
    """Per-target populations and the run's totals."""

    areas: object  # pandas.DataFrame, one row per target in target order
    totals: dict
    table: object = None  # areal: the (source, target, area) table, for callers to reuse
    faces: object = None  # GeoDataFrame of the targets' faces with their ``claims``


# --- geometry work: threads ------------------------------------------------------------

def _geoms(frame):
    import numpy as np

    return np.asarray(frame.geometry.values, dtype=object)


_POOL = (None, 0, 0)  # (pool, THREADS, pid): kept, as fresh threads cost a few ms each time
_POOL_LOCK = threading.Lock()


def _threaded(fn, tasks):
    """``[fn(task) for task in tasks]``, on THREADS threads when there is more than one task.
    shapely's vectorised functions release the GIL, so the threads really run in parallel."""
    global _POOL
    if THREADS == 1 or len(tasks) < 2:
        return [fn(task) for task in tasks]
    with _POOL_LOCK:
        pool, size, pid = _POOL
        if pool is None or size != THREADS or pid != os.getpid():  # (a fork has no threads)
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(THREADS, thread_name_prefix="nbhood-geometry")
            _POOL = (pool, THREADS, os.getpid())
    return list(pool.map(fn, tasks))


def _spans(n, size=None, starts=None):
    """[lo, hi) ranges of ≈ ``size`` rows (CHUNK by default, fewer so that every thread
    gets work) cutting only at ``starts`` (sorted row numbers where a cut is allowed)."""
    import numpy as np

    if n == 0:
        return []
    size = max(MIN_SPLIT, min(size or CHUNK, -(-n // THREADS)))
    cuts = np.arange(size, n, size)
    if starts is not None:
        starts = np.asarray(starts)
        at = np.searchsorted(starts, cuts)
        cuts = np.unique(starts[at[at < len(starts)]])
        cuts = cuts[(cuts > 0) & (cuts < n)]
    bounds = np.concatenate([[0], cuts, [n]]).astype(int)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def map_rows(fn, n, *arrays):
    """``fn`` over row ranges of ``arrays`` (each of length n) on the threads, concatenated."""
    import numpy as np

    if n == 0:
        return fn(*(a[:0] for a in arrays))
    return np.concatenate(_threaded(lambda span: fn(*(a[span[0]:span[1]] for a in arrays)),
                                    _spans(n)))


def intersection_areas(a, b):
    """area(a ∩ b) pairwise, on the geometry threads: by the certified kernel of
    ``overlap`` where both are valid (Multi)Polygons (4–7× quicker than GEOS's overlay),
    and by GEOS's overlay for the pairs it declines or cannot take."""
    import numpy as np
    import shapely

    def overlay(x, y):
        return shapely.area(shapely.intersection(x, y))

    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if not kernel_takes(len(a)):
        return map_rows(overlay, len(a), a, b)
    from nbhood_cli import overlap

    ka, ua = _distinct(a)
    kb, ub = _distinct(b)
    va, vb = np.flatnonzero(_valid(ua)), np.flatnonzero(_valid(ub))
    ra, rb = overlap.Rings(ua[va]), overlap.Rings(ub[vb])
    ia, ib = np.full(len(ua), -1), np.full(len(ub), -1)
    ia[va], ib[vb] = np.arange(len(va)), np.arange(len(vb))
    ia, ib = ia[ka], ib[kb]
    area = np.full(len(a), np.nan)
    k = np.flatnonzero((ia >= 0) & (ib >= 0))
    area[k] = map_rows(lambda x, y: overlap.pair_areas(ra, rb, x, y), len(k), ia[k], ib[k])
    redo = np.flatnonzero(np.isnan(area))
    area[redo] = map_rows(overlay, len(redo), a[redo], b[redo])
    return area


def kernel_takes(pairs):
    """Whether ``pairs`` intersection areas go to the kernel: enough of them to repay its
    loading, and numba here (a fact of the installation: the same choice every run)."""
    from nbhood_cli import overlap

    return pairs >= KERNEL_MIN and overlap.available()


def _distinct(geoms):
    """(the position of each geometry among the distinct objects, those objects): the
    kernel's arrays are built once per object, however many pairs it is in."""
    import numpy as np

    first, codes = np.unique(_canonical(geoms), return_inverse=True)
    return codes, geoms[first]


def _mix(x):
    """splitmix64 finaliser on uint64 arrays (a hash for grouping equal edges)."""
    import numpy as np

    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _pair_key(a, b, n):
    import numpy as np

    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)


def _in_sorted(keys, sorted_keys):
    import numpy as np

    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _canonical(geoms):
    """For each geometry, the position of the first entry holding the same object: a
    prepared geometry must not be used by two threads at once, so its pairs stay together."""
    import numpy as np

    ids = np.fromiter((id(g) for g in geoms), dtype=np.int64, count=len(geoms))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return first[inverse]


_VALIDITY: dict = {}  # id(geometry) → (weak reference to it, is it valid), while it lives


def is_valid(geoms):
    """``shapely.is_valid`` per geometry, on the threads, each (Multi)Polygon object tested
    once per process: the reader, every area table and every crosswalk ask again of the same
    layers (≈ 2 s at England scale). Geometries are immutable; an entry goes when its
    geometry does (the weak reference's callback), and the reference is checked too, so an
    id is never read for another object. Points and lines (an asset register) are cheap to
    test and never asked again: they are not remembered."""
    from functools import partial

    import numpy as np
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), bool)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    todo = np.flatnonzero(~polygonal & ~shapely.is_missing(geoms)).tolist()
    for k in np.flatnonzero(polygonal).tolist():
        g = geoms[k]
        seen = _VALIDITY.get(id(g))
        if seen is not None and seen[0]() is g:
            out[k] = seen[1]
        else:
            todo.append(k)
    todo = np.sort(np.asarray(todo, dtype=np.int64))
    if len(todo):
        out[todo] = map_rows(shapely.is_valid, len(todo), geoms[todo])
        new = todo[polygonal[todo]]
        _VALIDITY.update((id(g), (weakref.ref(g, partial(_VALIDITY.pop, id(g))), v))
                         for g, v in zip(geoms[new], out[new].tolist(), strict=True))
    return out


def _valid(geoms):
    """Valid (Multi)Polygons: the shortcuts below are proven for those only."""
    import numpy as np
    import shapely

    out = np.isin(shapely.get_type_id(geoms), (3, 6))
    out[out] = is_valid(geoms[out])
    return out


# --- the targets as a layer: which overlap, where they tile ------------------------------

@dataclass
class _Edges:
    """The edges of polygons, rings oriented with the interior on the left, each written from
    its lower end point (lx, ly) to its higher (hx, hy); ``forward`` where the oriented edge
    runs that way. Repeated vertices are no edge."""

    owner: object  # position of its polygon in the input, nondecreasing
    ring: object
    k: object  # its first vertex in xy
    xy: object
    lx: object
    ly: object
    hx: object
    hy: object
    forward: object


def _edges(geoms):
    """The edges of (Multi)Polygons, None when there are none to take."""
    import numpy as np
    import shapely

    if len(geoms) == 0:
        return None
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, owner = shapely.get_rings(parts, return_index=True)
    exterior = np.ones(len(rings), bool)
    exterior[1:] = owner[1:] != owner[:-1]
    xy, r = shapely.get_coordinates(rings, return_index=True)
    x, y = xy[:, 0] + 0.0, xy[:, 1] + 0.0  # + 0.0: −0.0 hashes as 0.0
    k = np.flatnonzero(r[:-1] == r[1:])  # edge k: vertex k → vertex k + 1
    r = r[k]
    x0, y0, x1, y1 = x[k], y[k], x[k + 1], y[k + 1]
    twice_area = np.bincount(r, weights=x0 * y1 - x1 * y0, minlength=len(rings))
    flip = (twice_area < 0) == exterior  # shells run CCW, holes CW: interior on the left
    up = (x0 < x1) | ((x0 == x1) & (y0 < y1))
    real = (x0 != x1) | (y0 != y1)
    r, k = r[real], k[real]
    return _Edges(part_owner[owner[r]], r, k, xy,
                  np.where(up, x0, x1)[real], np.where(up, y0, y1)[real],
                  np.where(up, x1, x0)[real], np.where(up, y1, y0)[real],
                  up[real] != flip[r])


def _edge_hash(lx, ly, hx, hy):
    """A 64-bit hash of each edge's end points' bits (equal edges, equal hashes)."""
    import numpy as np

    h = lx.view(np.uint64)
    for c in (ly, hx, hy):
        h = h * np.uint64(0x100000001B3) + c.view(np.uint64)  # wraps: polynomial, then mixed
    return _mix(h)


def _grouped(lx, ly, hx, hy):
    """Equal edges brought together by a hash of their end points: (the order that does it,
    the group of each edge in that order, the hashes in that order). A group is a run of
    equal edges in that order, so a hash collision can only split a group — which callers
    read as a mismatch, never as a match."""
    import numpy as np

    h = _edge_hash(lx, ly, hx, hy)
    order = np.argsort(h)
    new = np.zeros(len(order), bool)
    new[:1] = True
    for c in (lx, ly, hx, hy):
        c = c[order]
        new[1:] |= c[1:] != c[:-1]
    return order, np.cumsum(new) - 1, h[order]


def _unmatched(geoms, valid, tree):
    """Where the layer is not a clean coverage: the edges of its valid (Multi)Polygons (rings
    oriented with the interior on the left) that are not met exactly once, reversed, by an
    edge of another polygon — bit-identical end points, as a topologically built coverage
    shares its edges — one MultiLineString per ring, plus every invalid target whole.

    Where only matched edges are crossed, crossing one trades a polygon for the polygon on
    its other side, so the number of targets holding a point stays the same: in a connected
    region meeting none of these, one point held by exactly one target means every point is
    (up to the edges themselves). Overlaps, gaps, T-junctions and duplicates all leave
    unmatched edges, so they cannot hide there."""
    import numpy as np
    import shapely

    blockers = [geoms[~valid]]
    if (shapely.get_num_coordinates(geoms).sum() > UNMATCHED_SIZE
            and not _shares_edges(geoms, tree)):
        return None  # a large layer that is no coverage, told from a sample
    e = _edges(geoms[np.flatnonzero(valid)])
    if e is not None:
        order, group, _ = _grouped(e.lx, e.ly, e.hx, e.hy)
        size = np.bincount(group)
        ahead = np.bincount(group, weights=e.forward[order])
        ok = (size == 2) & (ahead == 1)  # two copies, opposite directions
        bad = np.empty(len(order), bool)
        bad[order] = ~ok[group]
        if len(bad) > UNMATCHED_SIZE and bad.mean() > UNMATCHED_LIMIT:
            return None  # a large layer that is no coverage: proofs would not pay
        if bad.any():
            bad = np.flatnonzero(bad)
            bad = bad[np.argsort(e.ring[bad], kind="stable")]
            lines = shapely.linestrings(np.stack([e.xy[e.k[bad]], e.xy[e.k[bad] + 1]], axis=1))
            ring = np.unique(e.ring[bad], return_inverse=True)[1]
            blockers.append(shapely.multilinestrings(lines, indices=ring))
    return np.concatenate(blockers)


def _shares_edges(geoms, tree, per_target=8):
    """Whether at least half of ``per_target`` edges, spread along each of ``MADE_SAMPLE``
    targets spread over the layer, have their midpoint on another target's boundary too
    (within 1 µm), as a coverage's edges have (a few milliseconds; only a guide: a layer
    that passes is checked edge by edge, and one that fails is denied the tiling proofs,
    never a correct result)."""
    import numpy as np
    import shapely

    pick = np.unique(np.linspace(0, len(geoms) - 1, min(MADE_SAMPLE, len(geoms)))
                     .astype(np.int64))
    xy, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geoms[pick])),
                                       return_index=True)
    k = np.flatnonzero(ring[:-1] == ring[1:])  # edge k: vertex k → k + 1
    if len(k) == 0:
        return True
    k = k[np.unique(np.linspace(0, len(k) - 1, per_target * len(pick)).astype(np.int64))]
    mid = shapely.points((xy[k] + xy[k + 1]) / 2)  # within rounding of the edge
    p, t = tree.query(mid, predicate="dwithin", distance=1e-6)
    near, t = np.unique(t, return_inverse=True)  # each candidate's boundary once
    near = shapely.distance(mid[p], shapely.boundary(geoms[near])[t]) <= 1e-6
    return bool((np.bincount(p[near], minlength=len(k)) >= 2).mean() >= 1 - UNMATCHED_LIMIT)


@dataclass
class _Layer:
    """What the shortcuts need to know about the targets, computed once per estimate."""

    geoms: object
    valid: object  # valid (Multi)Polygon
    alone: object  # overlaps no other target
    overlaps: object  # sorted ``_pair_key`` keys of the pairs whose interiors intersect
    tree: object  # STRtree of the targets
    unmatched: object  # STRtree of where the targets are no clean coverage, None: nowhere is


def _layer(tgt):
    """Which targets overlap which. A target none of whose parts meets an unmatched edge,
    each with an interior point no other target touches, overlaps nothing (``_unmatched``);
    the other intersecting pairs are decided by relate 'T********' (a pair with an invalid
    member counts as overlapping: it is not trusted, and overlapping only means the general
    path)."""
    import numpy as np
    import shapely

    n = len(tgt)
    valid = _valid(tgt)
    tree = shapely.STRtree(tgt)
    blockers = _unmatched(tgt, valid, tree)
    unmatched = None if blockers is None else shapely.STRtree(blockers)
    sure = np.zeros(n, bool)
    if unmatched is not None:
        # each part is connected: its interior point held by this target alone, and no
        # unmatched edge in it, mean no other target holds any of it
        parts, owner = shapely.get_parts(tgt[valid], return_index=True)
        owner = np.flatnonzero(valid)[owner]
        doubt = np.zeros(len(parts), bool)
        doubt[unmatched.query(parts, predicate="intersects")[0]] = True
        doubt |= np.bincount(tree.query(shapely.point_on_surface(parts),
                                        predicate="intersects")[0], minlength=len(parts)) != 1
        sure[valid] = np.bincount(owner, weights=doubt, minlength=n)[valid] == 0
    a, b = tree.query(tgt)
    keep = (a < b) & ~sure[a] & ~sure[b]
    a, b = a[keep], b[keep]

    def overlap(x, y, ok):
        out = shapely.intersects(x, y)
        both = out & ok
        out[both] = shapely.relate_pattern(x[both], y[both], "T********")
        return out

    ok = valid[a] & valid[b]
    if shapely.is_prepared(tgt).any():  # a caller's prepared geometry: one thread only
        over = overlap(tgt[a], tgt[b], ok)
    else:
        over = map_rows(overlap, len(a), tgt[a], tgt[b], ok)
    alone = valid.copy()
    alone[a[over]] = alone[b[over]] = False
    return _Layer(tgt, valid, alone, np.sort(_pair_key(a[over], b[over], n)), tree,
                  unmatched)


# --- pair areas ---------------------------------------------------------------------------

def _area_pairs(src, tgt, layer=None, src_area=None):
    """(source, target, area) of every pair of positive intersection area, sorted by source
    then target; ``area`` is that of ``intersection(src[i], tgt[j])``. Candidates come from
    the STRtree's bounding boxes; ``_areas`` does the rest."""
    import numpy as np

    if len(src) == 0 or len(tgt) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if layer is None:
        layer = _layer(tgt)
    i, j = layer.tree.query(src)  # bounding boxes only: i source, j target
    area = _areas(src, tgt, i, j, layer, src_area)
    keep = area > 0
    i, j, area = i[keep], j[keep], area[keep]
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64), area[order]


def _areas(src, tgt, i, j, layer, src_area=None, derive=True):
    """area(intersection(src[i], tgt[j])) for distinct pairs (i, j), exactly. From
    ``KERNEL_MIN`` pairs, every pair goes to ``intersection_areas`` (the certified kernel
    takes ≈ 4–13 µs a pair, covered or cut: less than the proofs below cost). Fewer pairs
    (loading the kernel would cost more than it saves) go through GEOS with as few
    intersections as possible:

    1. ``intersects``, with each target prepared (threads own whole targets: a prepared
       geometry is not thread-safe); pairs that do not intersect get 0.
    2. A small area the target covers (contains properly, or covers when the small area's
       bounding box and interior point are inside it, proven by edge chains where the target
       is a union of small areas, else by relate) takes its own area: no intersection.
    3. The other pairs of such a small area s, covered by t: a target u whose interior misses
       t's gets area(s ∩ u) ≤ area(t ∩ u) = 0, so the pair gets 0 unseen.
    4. A small area that meets no unmatched edge of the targets, and whose interior point
       lies in exactly one target d, is tiled by its targets (``_unmatched``): its pieces add
       up to its area, so area(s ∩ d) is its area less the other pieces.
    5. Everything else is intersected, in chunks on THREADS threads.

    Steps 2–4 are only taken with valid targets (``layer.valid``; None: all are); small
    areas are taken to be valid, as the reader makes them.
    """
    import numpy as np
    import shapely

    if kernel_takes(len(i)):  # the kernel answers every pair sooner than proofs spare any
        return intersection_areas(src[i], tgt[j])
    area = np.zeros(len(i))
    if len(i) == 0:
        return area
    if src_area is None:
        src_area = shapely.area(src)
    # in a layer built from the small areas, most covers are proven before any predicate
    home = _homes(src, tgt, layer, np.unique(i))
    settled = home[i] >= 0
    hit, whole = settled.copy(), settled & (j == home[i])
    rest = np.flatnonzero(~settled)
    hit[rest], whole[rest] = _classify(src, tgt, i[rest], j[rest])
    if layer.valid is not None:
        whole &= layer.valid[j]

    # 3. pairs of covered small areas with targets that cannot overlap the cover
    n = len(tgt)
    cover = np.full(len(src), -1, np.int64)
    cover[i[whole]] = j[whole]
    todo = hit & ~whole
    r = np.flatnonzero(todo & (cover[i] >= 0))
    todo[r[~_in_sorted(_pair_key(cover[i[r]], j[r], n), layer.overlaps)]] = False
    area[whole] = src_area[i[whole]]

    # 4. small areas tiled by their targets: one piece by subtraction
    derived = np.zeros(len(i), bool)
    if derive:
        derived = _derivable(src, i, j, todo, cover, layer)
    cut = np.flatnonzero(todo & ~derived)
    cut = cut[np.argsort(i[cut], kind="stable")]  # by small area: neighbours in a chunk
    area[cut] = intersection_areas(src[i[cut]], tgt[j[cut]])
    d = np.flatnonzero(derived)
    if len(d):
        rest = np.bincount(i[cut], weights=area[cut], minlength=len(src))
        area[d] = src_area[i[d]] - rest[i[d]]
        small = d[~(area[d] >= DERIVE_FLOOR * src_area[i[d]])]  # (also catches NaN)
        area[small] = shapely.area(shapely.intersection(src[i[small]], tgt[j[small]]))
    return area


def _homes(src, tgt, layer, which):
    """Per small area: the target proven by edge chains to hold it, else -1 (tried for the
    small areas ``which`` only: a target whose small areas are not all among them stays
    unproven). Each small area is paired with the one target touching its interior point,
    and those pairs go to ``_chain_covered``; tried only where a sample of targets has its
    vertices on the small areas' edges (``_made_of_small_areas``), so other layers pay
    almost nothing for it.

    A small area proven inside target t needs no predicate with any target: its pair with t
    takes its own area, and its other pairs are either in ``layer.overlaps`` with t (then
    intersected) or empty (step 3 of ``_areas``)."""
    import numpy as np
    import shapely

    home = np.full(len(src), -1, np.int64)
    if layer.tree is None or not _made_of_small_areas(src, tgt):
        return home
    p, t = _holding(shapely.point_on_surface(src[which]), tgt)
    once = (np.bincount(p, minlength=len(which)) == 1)[p]
    if layer.valid is not None:
        once &= layer.valid[t]
    s, t = which[p[once]], t[once]
    proven = _chain_covered(src, tgt, s, t)
    home[s[proven]] = t[proven]
    return home


def _holding(points, geoms):
    """(point, geometry) for each point in or on each geometry. The points go in the tree and
    each geometry is a query, prepared once: testing every point against a large polygon
    from scratch cost 2.3 s for the England small areas' points in the authorities, 0.09 s
    this way round (the same pairs)."""
    import shapely

    g, p = shapely.STRtree(points).query(geoms, predicate="intersects")
    return p, g


def _made_of_small_areas(src, tgt, per_target=8):
    """Whether at least half of ``MADE_SAMPLE`` targets, spread over the layer, have
    ``per_target`` vertices, spread along each, all on small areas' boundaries — as targets
    dissolved from the small areas have (a few milliseconds; only a guide: the chains prove
    or refuse each target)."""
    import numpy as np
    import shapely

    pick = np.unique(np.linspace(0, len(tgt) - 1, min(MADE_SAMPLE, len(tgt))).astype(np.int64))
    xy, at = shapely.get_coordinates(tgt[pick], return_index=True)
    if len(xy) == 0:
        return False
    start = np.searchsorted(at, np.arange(len(pick)))
    size = np.bincount(at, minlength=len(pick))
    k = (start[:, None] + (np.arange(per_target)[None, :] * size[:, None]) // per_target)
    k = np.unique(k[size > 0].ravel())
    on = np.zeros(len(k), bool)
    on[shapely.STRtree(src).query(shapely.points(xy[k]), predicate="touches")[0]] = True
    return (np.bincount(at[k], weights=~on, minlength=len(pick))[size > 0] == 0).mean() >= 0.5


def _classify(src, tgt, i, j):
    """(intersects, covers) for each pair, by the cheapest exact tests (steps 1 and 2)."""
    import numpy as np
    import shapely

    if len(i) == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    canon = _canonical(tgt)
    order = np.lexsort((i, canon[j]))  # pairs of one target object stay together
    oi, oj = i[order], j[order]
    sb, tb = shapely.bounds(src), shapely.bounds(tgt)
    fresh = np.unique(canon[oj])
    fresh = fresh[~shapely.is_prepared(tgt[fresh])]
    shapely.prepare(tgt[fresh])
    try:
        def classify(span):
            lo, hi = span
            ii, jj = oi[lo:hi], oj[lo:hi]
            hit = shapely.intersects(tgt[jj], src[ii])
            whole = np.zeros(hi - lo, bool)
            h = np.flatnonzero(hit)
            whole[h] = shapely.contains_properly(tgt[jj[h]], src[ii[h]])
            # t covers s only if s's bounding box is inside t's and its interior point in t
            b, c = sb[ii], tb[jj]
            maybe = hit & ~whole & (b[:, 0] >= c[:, 0]) & (b[:, 1] >= c[:, 1]) \
                & (b[:, 2] <= c[:, 2]) & (b[:, 3] <= c[:, 3])
            m = np.flatnonzero(maybe)
            if len(m):
                maybe[m] = shapely.contains_properly(tgt[jj[m]],
                                                     shapely.point_on_surface(src[ii[m]]))
                m = m[maybe[m]]
                maybe[m] = _vertices_covered(tgt[jj[m]], src[ii[m]])
            return hit, whole, maybe

        spans = _spans(len(oi), starts=np.flatnonzero(np.diff(canon[oj])) + 1)
        parts = _threaded(classify, spans)
    finally:
        shapely.destroy_prepared(tgt[fresh])
    hit, whole, maybe = (np.empty(len(i), bool) for _ in range(3))
    for out, k in ((hit, 0), (whole, 1), (maybe, 2)):
        out[order] = np.concatenate([p[k] for p in parts])
    if maybe.sum() * CHAIN_PAYS >= max(shapely.get_num_coordinates(src).sum(), 20_000):
        pair = np.flatnonzero((whole | maybe) & np.isin(j, j[maybe]))
        whole[pair[_chain_covered(src, tgt, i[pair], j[pair])]] = True
    m = np.flatnonzero(maybe & ~whole)
    # s covered by t, as a relate pattern: not t's prepared covers, which falls back to a
    # slower full relate when the two share edges
    whole[m] = map_rows(lambda a, b: shapely.relate_pattern(a, b, "**F**F***"), len(m),
                        src[i[m]], tgt[j[m]])
    return hit, whole


def _chain_covered(src, tgt, i, j):
    """For pairs (small area i, target j): whether the small areas paired with target j add
    up to it exactly as chains of oriented edges — their edges, less the pairs of reversed
    copies both on its small areas, are the target's edges.

    The winding number of a valid polygon's oriented boundary is 1 inside it and 0 outside,
    and winding numbers add, so then Σ 1_s = 1_t almost everywhere: each s lies in t and
    area(s ∩ t) = area(s), without relating the two (as where a target is a union of small
    areas). Edges split at different vertices do not match: those targets stay unproven, as
    do those of a small area paired twice or not valid (its winding number need not be its
    indicator)."""
    import numpy as np

    e = _source_edges(src)
    if e is None:
        return np.zeros(len(i), bool)
    cover = np.full(len(src) + 1, -1, np.int64)  # the last: no small area
    once = (np.bincount(i, minlength=len(src))[i] == 1) & e.valid[i]
    cover[i[once]] = j[once]
    mine = cover[e.owner]
    keep = np.flatnonzero((mine >= 0) & (cover[e.partner] != mine))
    ut = np.unique(j)
    et = _edges(tgt[ut])
    unproven = np.zeros(len(tgt), bool)
    unproven[j[~once]] = True
    if et is None:
        return once & ~unproven[j]
    owner = ut[et.owner]
    eid = e.find(et)
    unproven[owner[eid < 0]] = True
    known = eid >= 0
    n = len(e.rep_lx)  # keys (target, edge) sort by target, then edge
    key = np.concatenate([mine[keep] * n + e.eid[keep], owner[known] * n + eid[known]])
    sign = np.concatenate([np.where(e.forward[keep], 1, -1),
                           np.where(et.forward[known], -1, 1)])
    order = np.argsort(key)
    key = key[order]
    start = np.flatnonzero(np.diff(key, prepend=-1))
    unproven[key[start[np.add.reduceat(sign[order], start) != 0]] // n] = True
    return once & ~unproven[j]


@dataclass
class _SourceEdges:
    """The small areas' edges, each with an id shared by its equal copies."""

    owner: object  # its small area
    partner: object  # the small area holding its one reversed copy, len(src) if none
    valid: object  # per small area: a valid (Multi)Polygon
    forward: object
    eid: object
    sorted_hash: object  # ``_edge_hash`` of every edge, sorted ...
    sorted_eid: object  # ... and the id of each
    rep_lx: object  # end points of each id's edge
    rep_ly: object
    rep_hx: object
    rep_hy: object

    def find(self, et):
        """The id of each edge of ``et`` (an ``_Edges``) among these, -1 where none."""
        import numpy as np

        if len(self.sorted_hash) == 0:
            return np.full(len(et.lx), -1, np.int64)
        h = _edge_hash(et.lx, et.ly, et.hx, et.hy)
        o = np.argsort(h)  # in hash order the searches and lookups walk the tables in order
        h = h[o]
        at = np.minimum(np.searchsorted(self.sorted_hash, h), len(self.sorted_hash) - 1)
        g = self.sorted_eid[at]
        same = ((self.sorted_hash[at] == h) & (self.rep_lx[g] == et.lx[o])
                & (self.rep_ly[g] == et.ly[o]) & (self.rep_hx[g] == et.hx[o])
                & (self.rep_hy[g] == et.hy[o]))
        out = np.empty(len(h), np.int64)
        out[o] = np.where(same, g, -1)
        return out


_SOURCE_EDGES = (None, None, None)  # (geometries, their ids, edges): one layer kept
_SOURCE_EDGES_LOCK = threading.Lock()  # layers are analysed side by side


def _source_edges(src):
    """The small areas' ``_SourceEdges``, kept for the next call with the same geometries:
    every layer of a run is compared with the same small areas."""
    global _SOURCE_EDGES
    import numpy as np

    ids = np.fromiter((id(g) for g in src), dtype=np.int64, count=len(src))
    with _SOURCE_EDGES_LOCK:
        kept, kept_ids, e = _SOURCE_EDGES
        if kept is not None and np.array_equal(kept_ids, ids):
            return e
        e = _partnered(src)
        _SOURCE_EDGES = (src, ids, e)
        return e


def _partnered(src):
    """The small areas' edges with their ids and partners, and which small areas are valid."""
    import numpy as np

    e = _edges(src)
    if e is None:
        return None
    order, group, sorted_hash = _grouped(e.lx, e.ly, e.hx, e.hy)
    size = np.bincount(group)
    ahead = np.bincount(group, weights=e.forward[order])
    start = np.flatnonzero(np.diff(group, prepend=-1))
    a = start[(size == 2) & (ahead == 1)]
    a, b = order[a], order[a + 1]
    small = np.int32 if max(len(src), len(order)) < 2**31 - 1 else np.int64  # kept: 4 bytes
    partner = np.full(len(e.lx), len(src), small)
    partner[a], partner[b] = e.owner[b], e.owner[a]
    eid = np.empty(len(order), small)
    eid[order] = group
    rep = order[start]
    return _SourceEdges(e.owner.astype(small), partner, _valid(src), e.forward, eid,
                        sorted_hash, group.astype(small), e.lx[rep], e.ly[rep], e.hx[rep],
                        e.hy[rep])


def _vertices_covered(t, s, sample=8):
    """For each pair: are ``sample`` of s's vertices, spread along it, in prepared t? A
    necessary condition for t to cover s, at the price of a point-in-polygon test each."""
    import numpy as np
    import shapely

    xy, at = shapely.get_coordinates(s, return_index=True)
    if len(xy) == 0:
        return np.ones(len(s), bool)
    start = np.searchsorted(at, np.arange(len(s)))
    size = np.bincount(at, minlength=len(s))
    k = np.arange(sample)
    pick = (start[:, None] + (k[None, :] * size[:, None]) // sample).ravel()
    pair = np.repeat(np.arange(len(s)), sample)
    keep = size[pair] > 0
    inside = shapely.covers(t[pair[keep]], shapely.points(xy[pick[keep]]))
    return np.bincount(pair[keep], weights=~inside, minlength=len(s)) == 0


def _derivable(src, i, j, todo, cover, layer):
    """The pairs (step 4) whose area is the small area's less its other pieces: for a small
    area with two or more pieces and no cover that ``_tiled`` proves in the targets' tiling,
    the target holding its interior point."""
    import numpy as np

    pieces = np.bincount(i[todo], minlength=len(src))
    d = np.full(len(src), -1, np.int64)
    cand = np.flatnonzero((pieces >= 2) & (cover < 0))
    d[cand] = _tiled(src, cand, layer)
    out = np.zeros(len(i), bool)
    out[todo] = d[i[todo]] == j[todo]
    return out


def _tiled(src, which, layer):
    """For small areas ``which``: the target holding its interior point where every point of
    it lies in exactly one target (a valid one-part small area meeting no unmatched edge of
    the targets, whose interior point exactly one target touches: ``_unmatched``), else -1."""
    import numpy as np
    import shapely

    out = np.full(len(which), -1, np.int64)
    if layer.unmatched is None or len(which) == 0:
        return out
    k = np.flatnonzero(np.isin(shapely.get_type_id(src[which]), (3, 6))
                       & (shapely.get_num_geometries(src[which]) == 1))  # connected
    k = np.setdiff1d(k, k[layer.unmatched.query(src[which[k]], predicate="intersects")[0]])
    k = k[is_valid(src[which[k]])]
    p, t = _holding(shapely.point_on_surface(src[which[k]]), layer.geoms)
    once = np.bincount(p, minlength=len(k)) == 1
    out[k[p[once[p]]]] = t[once[p]]
    return out


def target_layer(targets):
    """What the shortcuts know of a layer of targets (which overlap, where they tile), for a
    caller that asks more than one question of the same layer."""
    return _layer(_geoms(targets))


def tiled(sources, layer, which):
    """Per small area ``which`` (positions in ``sources``): whether every point of it lies in
    exactly one target of ``layer`` (a ``target_layer``), proven as for the area table."""
    import numpy as np

    which = np.asarray(which, dtype=np.int64)
    return _tiled(_geoms(sources), which, layer) >= 0


def area_table(sources, targets, layer=None):
    """Every intersecting (small area, target) pair with its intersection area in m²;
    ``layer``: the targets' ``target_layer``, when the caller has it.

    Computed once and reused (as in tobler): it is the expensive step.
    """
    import numpy as np
    import pandas as pd

    i, j, area = _area_pairs(_geoms(sources), _geoms(targets), layer)
    return pd.DataFrame({"source": i, "target": j, "area": area}).astype(
        {"source": np.int64, "target": np.int64, "area": float})


# --- faces ------------------------------------------------------------------------------

def faces(targets):
    """The targets' land cut into faces, each with how many targets claim it.

    Faces are built from the noded boundaries, independently of the per-target pieces, so
    totals from faces check the per-target sums rather than restate them. A target whose
    interior meets no other target's is its own face (one per part, claimed once); only the
    targets that overlap are noded and polygonized, whole connected groups per thread.
    """

    return _faces_frame(_faces(_layer(_geoms(targets))), targets.crs)


def _faces_frame(land, crs):
    import geopandas as gpd

    return gpd.GeoDataFrame({"claims": land.claims}, geometry=land.geoms, crs=crs)


@dataclass
class _Land:
    geoms: object  # faces, numpy array of polygons
    claims: object  # targets claiming each face
    first_face: object  # per target: one face it alone claims (−1: none)
    grouped: object  # per face: polygonized with overlapping targets (not a target's part)
    claim_face: object  # (claim_face, claim_target): each claim on a polygonized face
    claim_target: object


def _components(n, a, b):
    """Connected component label (smallest member) of each of n nodes, edges a–b."""
    import numpy as np

    label = np.arange(n)
    while len(a):
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]  # pointer jumping
        if np.array_equal(new, label):
            break
        label = new
    return label


def _faces(layer):
    """Faces of the layer's targets: targets overlapping no other are their own parts;
    connected groups of overlapping targets (and invalid ones) are noded and polygonized."""
    import numpy as np
    import shapely

    geoms = layer.geoms
    n = len(geoms)
    a, b = layer.overlaps // max(n, 1), layer.overlaps % max(n, 1)
    grouped = ~layer.alone

    first_face = np.full(n, -1, np.int64)
    single = np.flatnonzero(layer.alone & ~shapely.is_empty(geoms))
    parts, owner = shapely.get_parts(geoms[single], return_index=True)
    keep = shapely.area(parts) > 0
    parts, owner = parts[keep], single[owner[keep]]
    first_face[owner[::-1]] = np.arange(len(parts))[::-1]
    polys, claims = [parts], [np.ones(len(parts), np.int64)]

    members = np.flatnonzero(grouped)
    if len(members):
        groups, label = np.unique(_components(n, a, b)[members], return_inverse=True)
        # whole groups to each thread, balanced by vertex count
        weight = np.bincount(label, weights=shapely.get_num_coordinates(geoms[members]))
        batch = np.zeros(len(groups), np.int64)
        load = np.zeros(THREADS)
        for g in np.argsort(-weight, kind="stable"):
            batch[g] = np.argmin(load)
            load[batch[g]] += weight[g]
        batch = batch[label]

        def polygonize(k):
            mine = members[batch == k]
            together = geoms[mine]
            noded = shapely.union_all(shapely.boundary(together))
            cut = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
            f, t = shapely.STRtree(together).query(shapely.point_on_surface(cut),
                                                   predicate="within")
            return cut, np.bincount(f, minlength=len(cut)), f, mine[t]

        claim_face, claim_target = [], []
        for cut, count, f, t in _threaded(polygonize, list(np.unique(batch))):
            start = sum(len(p) for p in polys)
            kept = np.flatnonzero(count > 0)
            renumber = np.full(len(cut), -1)
            renumber[kept] = start + np.arange(len(kept))
            sole = count[f] == 1
            first_face[t[sole]] = renumber[f[sole]]
            claim_face.append(renumber[f])
            claim_target.append(t)
            polys.append(cut[kept])
            claims.append(count[kept])
    else:
        claim_face = claim_target = [np.zeros(0, np.int64)]
    geoms_out = np.concatenate(polys)
    grouped_face = np.zeros(len(geoms_out), bool)
    grouped_face[len(parts):] = True
    return _Land(geoms_out, np.concatenate(claims).astype(np.int64), first_face, grouped_face,
                 np.concatenate(claim_face), np.concatenate(claim_target))


# --- shares -----------------------------------------------------------------------------

def shares(method, sources, zones, points=None, weights=None):
    """(small area, zone, share) rows: the fraction of each small area's count in each zone.

    ``areal``: intersection area / small-area area (tobler's extensive interpolation).
    ``centroid``: 1 for each zone holding the small area's point — its population-weighted
    centroid when given, else a point on its surface (ONS best-fit).
    ``dasymetric``: weight inside the piece / weight inside the small area; small areas
    with no weight fall back to areal shares.
    """
    if method == "areal":
        return _areal_shares(sources, zones)
    if method == "centroid":
        return _point_shares(sources, zones, points)
    if method == "dasymetric":
        return _weight_shares(sources, zones, points, weights)
    raise ValueError(f"unknown method {method!r}")


def _areal_shares(sources, zones, only=None, layer=None):
    """Areal shares; ``only``: positions of the small areas to compute (others get none)."""
    import numpy as np
    import pandas as pd

    src = _geoms(sources)
    src_area = sources.geometry.area.to_numpy()
    pick = np.arange(len(src)) if only is None else np.asarray(only, dtype=np.int64)
    i, j, area = _area_pairs(src[pick], _geoms(zones), layer, src_area[pick])
    i = pick[i]
    return pd.DataFrame({"source": i, "target": j, "share": area / src_area[i]})


def _point_shares(sources, zones, points):
    import numpy as np
    import pandas as pd
    import shapely

    pts = points if points is not None else shapely.point_on_surface(sources.geometry.values)
    i, j = _one_face_per_point(*shapely.STRtree(zones.geometry.values).query(
        pts, predicate="intersects"), zones)
    return pd.DataFrame({"source": i.astype(np.int64), "target": j.astype(np.int64),
                         "share": np.ones(len(i))})


def _one_face_per_point(p, z, zones):
    """A point on a target's edge counts for every target it touches; on faces it must count
    once, for the adjacent face with the most claims, so the two agree."""
    import numpy as np

    if "claims" not in zones:
        return p, z
    order = np.lexsort((-zones["claims"].to_numpy()[z], p))
    p, z = p[order], z[order]
    first = np.unique(p, return_index=True)[1]
    return p[first], z[first]


def weight_in_sources(sources, points, weights):
    """(weight per small area, small area of each point or -1); a point on a shared edge
    belongs to the first small area only, so no weight is counted twice."""
    import numpy as np
    import shapely

    p, s = shapely.STRtree(sources.geometry.values).query(points, predicate="intersects")
    first = np.unique(p, return_index=True)[1]
    owner = np.full(len(points), -1)
    owner[p[first]] = s[first]
    located = owner >= 0
    total = np.bincount(owner[located], weights=weights[located], minlength=len(sources))
    return total, owner


def _weight_shares(sources, zones, points, weights):
    import numpy as np
    import pandas as pd
    import shapely

    total, owner = weight_in_sources(sources, points, weights)
    p, t = _one_face_per_point(*shapely.STRtree(zones.geometry.values).query(
        points, predicate="intersects"), zones)
    located = owner[p] >= 0
    pieces = pd.DataFrame({"source": owner[p][located], "target": t[located],
                           "weight": weights[p][located]})
    pieces = pieces.groupby(["source", "target"], as_index=False)["weight"].sum()
    pieces = pieces[total[pieces["source"]] > 0]
    pieces["share"] = pieces["weight"] / total[pieces["source"]]
    # areal fallback: only for the small areas holding no weight
    areal = _areal_shares(sources, zones, only=np.flatnonzero(total <= 0))
    return pd.concat([pieces[["source", "target", "share"]], areal], ignore_index=True)


# --- estimate ---------------------------------------------------------------------------

def estimate(sources, counts, targets, method: str = "areal", points=None,
             weights=None) -> Estimate:
    """Allocate ``counts`` (one per small area, aligned with ``sources``) to ``targets``.

    ``points``: population-weighted centroids for ``centroid``, or weight points for
    ``dasymetric`` with ``weights`` (default 1 each). All frames share a projected CRS.
    """
    import numpy as np

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    counts = np.asarray(counts, dtype=float)
    if method == "areal" and len(sources) >= KERNEL_MIN:
        from nbhood_cli import overlap

        overlap.warm()  # (so many small areas make at least KERNEL_MIN pairs)
    fallback = np.zeros(len(sources), dtype=bool)
    if method == "dasymetric":
        weights = np.ones(len(points)) if weights is None else np.asarray(weights, float)
        fallback = weight_in_sources(sources, points, weights)[0] <= 0
    layer = _layer(_geoms(targets))
    land = _faces(layer)
    if method == "areal":
        # one areal table: the shares, the pairs the targets' edges cut, and the faces
        src = _geoms(sources)
        src_area = sources.geometry.area.to_numpy()
        i, j, area = _area_pairs(src, layer.geoms, layer, src_area)
        by_target = (i, j, area / src_area[i])
        split = by_target[2] < 1 - SPLIT_TOLERANCE
        by_face = _areal_face_shares(src, src_area, by_target, land, layer)
    else:
        table = shares(method, sources, targets, points, weights)
        by_target = tuple(table[c].to_numpy() for c in ("source", "target", "share"))
        split = _split_pairs(sources, layer, table)
        table = shares(method, sources, _faces_frame(land, targets.crs), points, weights)
        by_face = tuple(table[c].to_numpy() for c in ("source", "target", "share"))
    table = None
    if method == "areal":
        import pandas as pd

        table = pd.DataFrame({"source": i, "target": j, "area": area}).astype(
            {"source": np.int64, "target": np.int64, "area": float})
    return Estimate(_per_target(by_target, split, counts, targets, method),
                    _totals(by_target, by_face, land.claims, counts, fallback), table,
                    _faces_frame(land, targets.crs))


def _split_pairs(sources, layer, pairs):
    """For each (small area, target) row of ``pairs``: does the target's edge cut the small
    area (areal share positive and below 1 − SPLIT_TOLERANCE)? Only these pairs' areas are
    computed, not the whole areal table."""
    import numpy as np

    i = pairs["source"].to_numpy(np.int64)
    j = pairs["target"].to_numpy(np.int64)
    src_area = sources.geometry.area.to_numpy()
    if len(i) == 0:
        return np.zeros(0, bool)
    n = np.int64(len(layer.geoms))
    key, at = np.unique(i * n + j, return_inverse=True)
    # not derived by subtraction: that needs all of a small area's pieces
    area = _areas(_geoms(sources), layer.geoms, key // n, key % n, layer, src_area,
                  derive=False)[at]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (area > 0) & (area / src_area[i] < 1 - SPLIT_TOLERANCE)


def _areal_face_shares(src, src_area, by_target, land, layer):
    """(small area, face, share) for the conservation check, reusing the target pieces
    wherever a face holds a whole target piece:

    * a target overlapping no other is its own face(s), claimed once: its pieces are the
      same intersections (for a multi-part target they all go to one of its faces, which
      the totals cannot tell apart: every part is claimed once);
    * a piece of a small area in a target that overlaps none of the small area's other
      targets lies in faces that target alone claims (land claimed twice would be a piece
      of the small area in two overlapping targets), so it goes to one of them;
    * the pieces in targets that overlap each other are where the check has something to
      check: those small areas are intersected with every face those targets claim.
    """
    import numpy as np

    i, j, share = by_target
    n = len(layer.geoms)
    order = np.lexsort((j, i))
    i, j, share = i[order], j[order], share[order]
    # pieces in a target overlapping another target of the same small area
    tangled = np.zeros(len(i), bool)
    if len(layer.overlaps):
        d = 1
        while d < len(i):
            same = np.flatnonzero(i[d:] == i[:-d])
            if not len(same):
                break
            hit = same[_in_sorted(_pair_key(j[same], j[same + d], n), layer.overlaps)]
            tangled[hit] = tangled[hit + d] = True
            d += 1
    face = land.first_face[j]
    tangled |= face < 0  # (a target with no face of its own: cannot happen; be safe)
    rows = [(i[~tangled], face[~tangled], share[~tangled])]
    if tangled.any():
        # every face a tangled target claims, for its small area
        by_target_claims = np.argsort(land.claim_target, kind="stable")
        ct, cf = land.claim_target[by_target_claims], land.claim_face[by_target_claims]
        lo, hi = np.searchsorted(ct, j[tangled]), np.searchsorted(ct, j[tangled], "right")
        many = hi - lo
        fi = np.repeat(i[tangled], many)
        fj = cf[np.repeat(lo - np.cumsum(many) + many, many) + np.arange(many.sum())]
        key = np.unique(fi * np.int64(len(land.claims)) + fj)
        fi, fj = key // len(land.claims), key % len(land.claims)
        faces_only = _Layer(land.geoms, None, None, np.zeros(0, np.int64), None, None)
        area = _areas(src, land.geoms, fi, fj, faces_only, src_area, derive=False)
        rows.append((fi, fj, area / src_area[fi]))
    return tuple(np.concatenate(c) for c in zip(*rows, strict=True))


def _per_target(by_target, split, counts, targets, method):
    import numpy as np
    import pandas as pd

    src, tgt, share = (np.asarray(c) for c in by_target)
    src, tgt = src.astype(np.int64), tgt.astype(np.int64)
    people = counts[src] * share
    n = len(targets)
    population = np.bincount(tgt, weights=people, minlength=n)
    from_split = np.bincount(tgt, weights=people * split, minlength=n)
    # distinct small areas giving people to each target
    m = np.int64(max(len(counts), 1))
    giving = np.unique(tgt[people > 0] * m + src[people > 0])
    contributing = np.bincount(giving // m, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        split_share = np.where(population > 0, from_split / population, 0.0)
    return pd.DataFrame({
        "population": population,
        "population_rounded": np.round(population).astype(np.int64),
        "n_sources": contributing.astype(np.int64),
        "split_source_share": split_share,
        "method": method,
    }, index=targets.index)


def _totals(by_target, by_face, claims, counts, fallback) -> dict:
    """Allocated (per-target sums) − counted twice + unallocated (both from faces) must give
    the source total: a check that pieces and faces agree, run on every estimate."""
    import numpy as np

    source_total = float(counts.sum())
    src, _, share = by_target
    allocated = float((counts[np.asarray(src, np.int64)] * share).sum())
    fsrc, face, fshare = by_face
    face_people = np.bincount(np.asarray(face, np.int64),
                              weights=counts[np.asarray(fsrc, np.int64)] * fshare,
                              minlength=len(claims))
    inside = float(face_people.sum())
    counted_twice = float((face_people * (claims - 1)).sum())
    unallocated = source_total - inside
    error = allocated - counted_twice + unallocated - source_total
    return {
        "source_total": source_total,
        "allocated": allocated,
        "unallocated": unallocated,
        "counted_twice": counted_twice,
        "conservation_error": error,
        "conserved": bool(abs(error) <= 1e-6 * max(source_total, 1.0)),
        "fallback_small_areas": int(np.count_nonzero(fallback)),
    }
