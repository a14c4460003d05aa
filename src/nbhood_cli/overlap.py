"""Area of intersection of polygon pairs, certified or declined (docs/performance.md).

By Green's theorem, area(A ∩ B) is the integral of (x dy − y dx) / 2 around the boundary of
A ∩ B: the parts of A's rings inside B and of B's rings inside A. Walking a ring, every proper
crossing of the other polygon's boundary toggles inside and outside, so the walk needs only
the crossings and one point-in-polygon test per ring: no overlay graph is built.

Every sign the walk depends on (which side of an edge a vertex lies; which side of a point a
ring passes) is an orientation test certified by Shewchuk's error bound for orient2d. Where
a determinant is exactly 0 — a shared vertex, shared or touching axis-parallel edges — the
test is decided as if B were moved by an infinitesimal (ε, ε²) (simulation of simplicity):
the area is continuous in that move, so the answer is still area(A ∩ B), and the crossing
points are the shared vertices themselves. When a sign can be neither certified nor shown to
be exactly 0 (a vertex on a slanted edge, nearly collinear edges), the pair is declined
(NaN) and the caller intersects it with GEOS. A pair the kernel answers therefore has the
crossings and insides of exact arithmetic; only the crossing points and the sums are rounded
(≈ 1e-15 relative). Both polygons must be valid: callers check.
"""

from __future__ import annotations

import numpy as np

_EPS = 2.0 ** -53
BOUND = (3.0 + 16.0 * _EPS) * _EPS  # Shewchuk's ccwerrboundA for orient2d
CHUNK = 8  # edges under one box, so that far edges are passed over a box at a time
SCRATCH = 256  # crossings one edge may have before the pair is declined

_KERNEL = None  # the compiled module once loaded; False where it cannot be had here
_WARMING = []  # the thread loading the kernel, once started


def available() -> bool:
    """Whether the kernel runs here. numba is imported only now; where it cannot be (no
    numba for this Python, or nowhere to cache compiled code) GEOS takes every pair, as it
    did before the kernel: slower, the same results."""
    global _KERNEL
    if _KERNEL is None:
        import importlib

        try:
            _KERNEL = importlib.import_module("nbhood_cli._overlap_jit")
        except (ImportError, RuntimeError, OSError):
            _KERNEL = False
    return _KERNEL is not False


def _kernel():
    """The compiled module (numba, cached on disk beside this file)."""
    if not available():
        raise RuntimeError("the intersection-area kernel needs numba")
    return _KERNEL


def warm():
    """Load the kernel in a thread while the caller does other work: importing numba and
    loading the compiled code take ≈ 0.4 s, while the geometry threads analyse the target
    layer (the GIL is mostly free). Later calls wait for it through Python's import lock
    and numba's compiler lock."""
    import threading

    if _KERNEL is None and not _WARMING:
        def load():
            import shapely

            if available():
                square = shapely.box(0, 0, 1, 1)
                rings = Rings([square])
                pair_areas(rings, rings, [0], [0])

        _WARMING.append(threading.Thread(target=load, name="nbhood-kernel", daemon=True))
        _WARMING[0].start()


class Rings:
    """(Multi)Polygons as flat arrays for the kernel: coordinates ``xy``, ring offsets into
    them, each geometry's rings (``geom``), each ring's sign (+1 where it runs the way its
    role needs: shells counter-clockwise, holes clockwise) and each ring's box."""

    def __init__(self, geoms):
        import shapely

        geoms = np.asarray(geoms, dtype=object)
        self.xy = shapely.get_coordinates(geoms)
        count = shapely.get_num_coordinates(geoms)
        # most polygons are one ring: only the others are taken apart
        simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
        simple &= count > 0
        rest = np.flatnonzero(~simple)
        parts, part_owner = shapely.get_parts(geoms[rest], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        shell = np.ones(len(rings), bool)
        shell[1:] = ring_part[1:] != ring_part[:-1]
        owner = np.concatenate([np.flatnonzero(simple), rest[part_owner[ring_part]]])
        size = np.concatenate([count[simple], shapely.get_num_coordinates(rings)])
        shell = np.concatenate([np.ones(simple.sum(), bool), shell])
        order = np.argsort(owner, kind="stable")
        self.rings = np.concatenate([[0], np.cumsum(size[order])]).astype(np.int64)
        self.geom = np.concatenate(
            [[0], np.cumsum(np.bincount(owner, minlength=len(geoms)))]).astype(np.int64)
        twice, *self.box = _kernel().ring_stats(self.xy, self.rings)
        self.sign = np.where((twice > 0) == shell[order], 1.0, -1.0)
        self.chunks = _kernel().chunk_boxes(self.xy)

    def arrays(self):
        return (self.xy, self.rings, self.geom, self.sign, *self.box, *self.chunks)


def pair_areas(a: Rings, b: Rings, i, j):
    """area(a[i[k]] ∩ b[j[k]]) per k; NaN where a test is too close to call."""
    return _kernel().pair_areas(np.asarray(i, np.int64), np.asarray(j, np.int64),
                                *a.arrays(), *b.arrays())
