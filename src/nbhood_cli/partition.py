"""Cutting a contiguity graph into connected units within population bounds.

Pure: node populations, coordinates, neighbour lists and community labels in, one unit label
per node out. No geometry here — ``propose`` turns geometry into this graph and back.

The steps, each keeping every unit connected:

1. groups: the connected runs of small areas sharing a community area (or sharing none);
   a small area above max-pop is a group of its own and is never merged into;
2. split: a group above max-pop is bisected recursively — grow one side from an edge of the
   group along a direction (a sweep that only adds neighbours), absorb any part of the other
   side the sweep cut off, and keep, of a few directions, the cut with the shortest shared
   boundary that leaves both sides able to meet the bounds;
3. merge: units below min-pop, smallest first, join a neighbour — one of the same community
   area first, then one without a community area, then any — the smallest that stays within
   max-pop; when none does, the unit and a neighbour (in that order) are re-split together,
   kept only if every part is then within the bounds;
4. shrink: a unit of several small areas still above max-pop is re-split alone, or with a
   neighbour;
5. repair: units still outside the bounds trade single boundary small areas with
   neighbours, never cutting the giver in two.

Deterministic: nodes are visited in index order and the only random choice, the angle of the
sweep directions, comes from a seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from nbhood_cli.adjacency import components

DIRECTIONS = 8  # sweep directions tried per bisection (evenly spaced, random offset)
CANDIDATES = 3  # stopping points per direction tried, nearest the target population first
REPAIR_ROUNDS = 10  # passes of single-small-area moves


@dataclass
class Problem:
    """One partitioning problem: a graph whose edges never cross a nest unit."""

    pop: list  # people per node
    xy: object  # numpy (n, 2) array of node centroids
    lists: list  # neighbours of each node, increasing
    shared: dict  # (a, b), a < b → shared boundary length
    community: list  # community area index per node, -1 for none
    min_pop: float
    max_pop: float
    rng: object  # numpy.random.Generator

    def size(self, nodes) -> float:
        return sum(self.pop[v] for v in nodes)

    def cut(self, a: set, b: set) -> float:
        """Boundary length shared by two node sets."""
        return sum(self.shared[(min(v, w), max(v, w))]
                   for v in a for w in self.lists[v] if w in b)


def partition(pb: Problem) -> list[int]:
    """A unit label per node; labels numbered by each unit's smallest node."""
    units = Units(pb, [])
    for group in groups(pb):
        for part in split(group, pb):
            units.add(part)
    merge(units, pb)
    shrink(units, pb)
    repair(units, pb)
    first = sorted((members[0], uid) for uid, members in units.members.items())
    relabel = {uid: k for k, (_, uid) in enumerate(first)}
    return [relabel[uid] for uid in units.label]


def groups(pb: Problem) -> list[list[int]]:
    """Connected runs of nodes with the same community label; nodes above max-pop alone."""
    big = {v for v, p in enumerate(pb.pop) if p > pb.max_pop}
    same = [[w for w in nbrs if w not in big and pb.community[w] == pb.community[v]]
            if v not in big else [] for v, nbrs in enumerate(pb.lists)]
    return components(len(pb.pop), same)


def parts_for(total: float, pb: Problem) -> int:
    """How many units ``total`` people make: as near the middle of the bounds as the bounds
    allow, so each part has room either side (the least number when none is within them)."""
    least = max(1, math.ceil(total / pb.max_pop))
    most = math.floor(total / pb.min_pop) if pb.min_pop > 0 else math.inf
    aim = max(1, round(2 * total / (pb.min_pop + pb.max_pop)))
    return min(max(aim, least), most) if least <= most else least


def split(nodes: list[int], pb: Problem) -> list[list[int]]:
    """A connected group cut into connected parts; groups within max-pop stay whole."""
    total = pb.size(nodes)
    if total <= pb.max_pop or len(nodes) < 2:
        return [nodes]
    return bisect(nodes, parts_for(total, pb), pb)


def bisect(nodes: list[int], k: int, pb: Problem) -> list[list[int]]:
    """``nodes`` (connected) into ``k`` connected parts by recursive halving."""
    if k <= 1 or len(nodes) < 2:
        return [sorted(nodes)]
    k1 = k // 2
    total = pb.size(nodes)
    target = total * k1 / k
    lo = max(k1 * pb.min_pop, total - (k - k1) * pb.max_pop)
    hi = min(k1 * pb.max_pop, total - (k - k1) * pb.min_pop)
    best = None
    for key, side in _cuts(nodes, target, lo, hi, pb):
        if best is None or key < best[0]:
            best = (key, side)
    if best is None:
        return [sorted(nodes)]
    side = best[1]
    rest = [v for v in nodes if v not in side]
    return bisect(sorted(side), k1, pb) + bisect(rest, k - k1, pb)


def _cuts(nodes, target, lo, hi, pb):
    """Candidate first sides, each with its sort key: feasible first, then the shortest cut
    (or, when nothing is feasible, the nearest the target)."""
    import numpy as np

    inside = set(nodes)
    xy = pb.xy[nodes]
    offset = pb.rng.uniform(0, 2 * math.pi / DIRECTIONS)
    for d in range(DIRECTIONS):
        angle = offset + 2 * math.pi * d / DIRECTIONS
        reach = xy @ np.array([math.cos(angle), math.sin(angle)])
        key = dict(zip(nodes, reach.tolist(), strict=True))
        order, sums = _sweep(nodes[int(np.argmin(reach))], inside, key, max(hi, target), pb)
        stops = [c for c in range(len(order)) if lo <= sums[c] <= hi]
        if not stops:
            stops = [min(range(len(order)), key=lambda c: abs(sums[c] - target))]
        for c in sorted(stops, key=lambda c: (abs(sums[c] - target), c))[:CANDIDATES]:
            side = _close(set(order[:c + 1]), inside, pb)
            if side is None:
                continue
            size = pb.size(side)
            if lo <= size <= hi:
                yield (0, pb.cut(side, inside - side), d, c), side
            else:
                yield (1, abs(size - target), d, c), side


def _sweep(seed, inside, key, limit, pb):
    """Nodes in the order a front moving along ``key`` reaches them through neighbours, until
    more than ``limit`` people are reached; and the running totals."""
    heap, seen = [(key[seed], seed)], {seed}
    order, sums, total = [], [], 0.0
    while heap and total <= limit:
        _, v = heapq.heappop(heap)
        order.append(v)
        total += pb.pop[v]
        sums.append(total)
        for w in pb.lists[v]:
            if w in inside and w not in seen:
                seen.add(w)
                heapq.heappush(heap, (key[w], w))
    return order, sums


def _close(side: set, inside: set, pb) -> set | None:
    """The side plus every part of the rest it cut off from the rest's largest part, so
    both stay connected; None when nothing would be left."""
    rest = components(len(pb.pop), pb.lists, inside - side)
    if not rest:
        return None
    keep = max(rest, key=lambda part: (pb.size(part), -part[0]))
    side = set(side)
    for part in rest:
        if part is not keep:
            side.update(part)
    return side


class Units:
    """The current units: label per node, members and population per unit id."""

    def __init__(self, pb: Problem, parts):
        self.pb = pb
        self.label = [-1] * len(pb.pop)
        self.members: dict[int, list[int]] = {}
        self.total: dict[int, float] = {}
        self._next = 0
        for part in parts:
            self.add(part)

    def add(self, nodes) -> int:
        uid, self._next = self._next, self._next + 1
        self.members[uid] = sorted(nodes)
        self.total[uid] = self.pb.size(nodes)
        for v in nodes:
            self.label[v] = uid
        return uid

    def drop(self, *uids) -> list[int]:
        nodes = []
        for uid in uids:
            nodes += self.members.pop(uid)
            del self.total[uid]
        return nodes

    def frozen(self, uid) -> bool:
        """A single small area above max-pop: nothing can be added to it."""
        return len(self.members[uid]) == 1 and self.total[uid] > self.pb.max_pop

    def neighbours(self, uid) -> list[int]:
        lists, label = self.pb.lists, self.label
        return sorted({label[w] for v in self.members[uid] for w in lists[v]} - {uid})

    def shared(self, a, b) -> float:
        return self.pb.cut(set(self.members[a]), set(self.members[b]))

    def communities(self, uid) -> set:
        return {self.pb.community[v] for v in self.members[uid]} - {-1}

    def move(self, v, to) -> None:
        was = self.label[v]
        self.members[was].remove(v)
        self.members[to] = sorted(self.members[to] + [v])
        self.total[was] -= self.pb.pop[v]
        self.total[to] += self.pb.pop[v]
        self.label[v] = to


def _tier(units: Units, u, w) -> int:
    """0: shares a community area with u; 1: no community area on one side; 2: another's."""
    mine, theirs = units.communities(u), units.communities(w)
    if mine & theirs:
        return 0
    return 1 if not mine or not theirs else 2


def merge(units: Units, pb: Problem) -> None:
    """Units below min-pop, smallest first, join (or re-split with) a neighbour."""
    heap = [(units.total[u], units.members[u][0], u) for u in units.members
            if units.total[u] < pb.min_pop]
    heapq.heapify(heap)
    while heap:
        total, _, u = heapq.heappop(heap)
        if u not in units.members or units.total[u] != total:
            continue
        ranked = [r[-1] for r in sorted(
            (_tier(units, u, w), units.total[w], -units.shared(u, w), units.members[w][0], w)
            for w in units.neighbours(u) if not units.frozen(w))]
        fits = [w for w in ranked if total + units.total[w] <= pb.max_pop]
        if fits:
            joined = units.add(units.drop(u, fits[0]))
            if units.total[joined] < pb.min_pop:
                heapq.heappush(heap, (units.total[joined], units.members[joined][0], joined))
        else:
            _resplit(units, [[u, w] for w in ranked], pb)


def shrink(units: Units, pb: Problem) -> None:
    """Units above max-pop that are more than one small area: re-split alone, or else
    together with a neighbour."""
    for u in sorted(u for u in units.members if units.total[u] > pb.max_pop):
        if u in units.members and not units.frozen(u):
            others = [w for w in units.neighbours(u) if not units.frozen(w)]
            others.sort(key=lambda w: (units.total[w], units.members[w][0]))
            _resplit(units, [[u]] + [[u, w] for w in others], pb)


def _resplit(units: Units, tries, pb: Problem) -> bool:
    """Re-split the first set of units (of ``tries``, in order) whose small areas can be cut
    into parts all within the bounds; False when none can."""
    for uids in tries:
        nodes = sorted(v for u in uids for v in units.members[u])
        parts = bisect(nodes, parts_for(pb.size(nodes), pb), pb)
        if len(parts) > 1 and all(pb.min_pop <= pb.size(p) <= pb.max_pop for p in parts):
            units.drop(*uids)
            for part in parts:
                units.add(part)
            return True
    return False


def _outside(units: Units, uid) -> bool:
    t = units.total[uid]
    return not units.frozen(uid) and (t < units.pb.min_pop or t > units.pb.max_pop)


def repair(units: Units, pb: Problem) -> None:
    """Single-small-area moves that bring a unit within the bounds without pushing the other
    out of them or cutting either in two; same community area preferred."""
    for _ in range(REPAIR_ROUNDS):
        moved = False
        for uid in sorted(u for u in units.members if _outside(units, u)):
            while uid in units.members and _outside(units, uid):
                move = _best_move(units, uid, pb)
                if move is None:
                    break
                units.move(*move)
                moved = True
        if not moved:
            return


def _best_move(units: Units, uid, pb):
    """(node, destination) of the best move for one unit outside the bounds, or None."""
    low = units.total[uid] < pb.min_pop
    mine = units.communities(uid)
    options = []
    for w in units.neighbours(uid):
        if units.frozen(w):
            continue
        giver, taker = (w, uid) if low else (uid, w)
        for v in units.members[giver]:
            if not any(units.label[x] == taker for x in pb.lists[v]):
                continue
            p = pb.pop[v]
            if units.total[giver] - p < pb.min_pop or units.total[taker] + p > pb.max_pop:
                continue
            rest = set(units.members[giver]) - {v}
            if len(components(len(pb.pop), pb.lists, rest)) != 1:
                continue
            stray = pb.community[v] not in (mine if low else units.communities(w))
            options.append((stray, -pb.cut({v}, set(units.members[taker])), v, taker))
    return min(options)[2:] if options else None
