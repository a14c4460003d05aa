"""Which small areas touch: the contiguity graph ``nbhood propose`` builds units on.

Pure functions (geometries in, arrays out). Rook adjacency — a shared boundary of positive
length — is the default: queen adjacency also links areas that meet only at a corner, which
is no street anyone can walk along. Boundaries are compared with a small tolerance, so the
digitising gaps and rounding between two files' (or one file's) edges do not cut a link.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("rook", "queen")
TOLERANCE = 1.0  # metres: edges this close count as shared (rounding, digitising gaps)
MIN_SHARED = 10.0  # metres of shared boundary for rook; a corner within TOLERANCE gives ≈ 2–3


@dataclass
class Graph:
    """Neighbour pairs ``i < j`` (sorted), each with the length of boundary they share."""

    n: int
    i: object  # numpy int64 array
    j: object
    shared: object  # metres of i's boundary within TOLERANCE of j

    def lists(self, keep=None) -> list[list[int]]:
        """Each node's neighbours in increasing order; only pairs where ``keep`` is True."""
        i, j = (self.i, self.j) if keep is None else (self.i[keep], self.j[keep])
        out: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            out[a].append(b)
            out[b].append(a)
        return [sorted(x) for x in out]


def neighbours(geoms, kind: str = "rook", tolerance: float = TOLERANCE,
               min_shared: float = MIN_SHARED) -> Graph:
    """The contiguity graph of polygons (a numpy array of shapely geometries, in metres).

    Candidates are pairs within ``tolerance`` of each other (STRtree, ``dwithin``); the
    shared length of a pair is how much of the first's boundary lies within ``tolerance`` of
    the second. Rook keeps pairs sharing more than ``min_shared`` metres; queen keeps all.
    """
    import numpy as np
    import shapely

    if kind not in KINDS:
        raise ValueError(f"adjacency must be one of {KINDS}, not {kind!r}")
    n = len(geoms)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Graph(0, empty, empty, np.zeros(0))
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
    keep = i < j
    i, j = i[keep].astype(np.int64), j[keep].astype(np.int64)
    near = shapely.buffer(geoms, tolerance, quad_segs=2)
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), near[j]))
    if kind == "rook":
        keep = shared > min_shared
        i, j, shared = i[keep], j[keep], shared[keep]
    order = np.lexsort((j, i))
    return Graph(n, i[order], j[order], shared[order])


def components(n: int, lists: list[list[int]], nodes=None) -> list[list[int]]:
    """Connected components of ``nodes`` (default: all), each sorted, ordered by their
    smallest node: a breadth-first search without networkx."""
    todo = range(n) if nodes is None else sorted(nodes)
    inside = None if nodes is None else set(todo)
    seen: set[int] = set()
    out = []
    for start in todo:
        if start in seen:
            continue
        seen.add(start)
        part, queue = [start], [start]
        while queue:
            node = queue.pop()
            for other in lists[node]:
                if other not in seen and (inside is None or other in inside):
                    seen.add(other)
                    part.append(other)
                    queue.append(other)
        out.append(sorted(part))
    return out
