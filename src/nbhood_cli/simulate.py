"""Seeded synthetic GP registrations: who is registered where, for tests, the sample town
and the England benchmark.

No open LSOA-level registration file sits beside the project, so footprints are proven on
registrations made here. They copy what NHS England's "Patients Registered at a GP Practice"
LSOA file shows: most of a practice's patients live near it, a long tail lives further
away, every LSOA's residents spread over several practices, and each practice's rows add
up to its list size. Pure functions of arrays and a seed: the same seed gives the same rows.

The model is a doubly constrained gravity model. Residents of small area i register with
practice j in proportion to ``population_i × kernel(d_ij / s_j)``, balanced (iterative
proportional fitting) so that practices get their list sizes and small areas their share
of the registrations; then each practice's list is drawn from that distribution
(multinomial), so counts are whole and sum to the list size exactly. ``s_j``, the decay
distance, follows the local density: ``DECAY × √(area of the practice's small area)``, as
small areas hold about the same number of people (a town practice draws from streets, a
rural one from villages).
"""

from __future__ import annotations

from dataclasses import dataclass

DECAY = 0.7  # decay distance, in √(area) of the small area holding the practice
TAIL = 0.1  # share of the kernel in the long tail …
TAIL_SCALE = 4.0  # … which decays this many times more slowly
CUTOFF = 14.0  # no patients beyond this many decay distances
BALANCING = 20  # rounds of proportional fitting
REGISTERED_PER_RESIDENT = 1.12  # England: ≈ 63 million registered, 56.5 million residents


@dataclass
class Registrations:
    """Rows of a registration file as positions: ``patients`` of practice ``practice``
    live in small area ``area``; sorted by practice, then small area; no zero rows."""

    practice: object  # numpy int64
    area: object  # numpy int64
    patients: object  # numpy int64


def kernel(d, scale):
    """Distance decay: a near exponential part and a slow tail (both 1 at distance 0)."""
    import numpy as np

    near = np.exp(-d / scale)
    far = np.exp(-d / (TAIL_SCALE * scale))
    return (1 - TAIL) * near + TAIL * far


def decay_distances(area_xy, area_size, practice_xy):
    """``DECAY × √area`` of the small area nearest each practice (its own, for a practice
    inside one)."""
    import numpy as np
    import shapely

    nearest = shapely.STRtree(shapely.points(area_xy)).query_nearest(
        shapely.points(practice_xy), all_matches=False)[1]
    return DECAY * np.sqrt(np.asarray(area_size, float)[nearest])


def registrations(area_xy, area_size, population, practice_xy, list_size,
                  seed) -> Registrations:
    """Patients of each practice by small area (see the module docstring).

    ``area_xy``: a point in each small area (metres); ``area_size``: its area (m²);
    ``population``: its residents; ``practice_xy`` and ``list_size``: one per practice;
    ``seed``: an int or a numpy Generator.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    area_xy = np.asarray(area_xy, float)
    practice_xy = np.asarray(practice_xy, float)
    population = np.asarray(population, float)
    list_size = np.asarray(list_size, np.int64)
    scale = decay_distances(area_xy, area_size, practice_xy)
    p, a, d = candidates(area_xy, practice_xy, scale)
    weight = balance(p, a, population[a] * kernel(d, scale[p]), population,
                     list_size, len(practice_xy), len(area_xy))
    patients = draw(rng, p, weight, list_size)
    keep = patients > 0
    return Registrations(p[keep], a[keep], patients[keep])


def candidates(area_xy, practice_xy, scale):
    """(practice, small area, distance) within ``CUTOFF`` decay distances of each practice,
    plus each practice's nearest small area; sorted by practice, then small area."""
    import numpy as np
    import shapely

    areas = shapely.points(area_xy)
    tree = shapely.STRtree(areas)
    practices = shapely.points(practice_xy)
    p, a = tree.query(practices, predicate="dwithin", distance=CUTOFF * scale)
    alone = np.setdiff1d(np.arange(len(practice_xy)), p)  # none within reach: the nearest
    near_p, near_a = tree.query_nearest(practices[alone], all_matches=False)
    key = np.sort(np.concatenate([p, alone[near_p]]).astype(np.int64) * len(area_xy)
                  + np.concatenate([a, near_a]))
    p, a = key // len(area_xy), key % len(area_xy)
    d = np.hypot(*(area_xy[a] - practice_xy[p]).T)
    return p, a, d


def balance(p, a, weight, population, list_size, n_practices, n_areas):
    """Scale the weights so practices' totals are their list sizes and small areas' totals
    are their residents × the registrations per resident (small areas no practice reaches
    keep none); ends on the practices, whose totals the draw needs."""
    import numpy as np

    weight = weight.astype(float)
    wanted = population * list_size.sum() / max(population.sum(), 1.0)
    for _ in range(BALANCING):
        weight *= _ratio(list_size, np.bincount(p, weight, n_practices))[p]
        weight *= _ratio(wanted, np.bincount(a, weight, n_areas))[a]
    return weight * _ratio(list_size, np.bincount(p, weight, n_practices))[p]


def _ratio(target, total):
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, target / total, 0.0)


def draw(rng, p, weight, list_size):
    """Each practice's list shared out over its candidate small areas (multinomial), so the
    rows of a practice add up to its list size."""
    import numpy as np

    patients = np.zeros(len(p), np.int64)
    starts = np.searchsorted(p, np.arange(len(list_size) + 1))
    for j in range(len(list_size)):
        lo, hi = starts[j], starts[j + 1]
        w = weight[lo:hi]
        if hi > lo and w.sum() > 0:
            patients[lo:hi] = rng.multinomial(list_size[j], w / w.sum())
    return patients


def place_practices(area_xy, population, n: int, seed: int):
    """``n`` practices at the points of distinct small areas drawn in proportion to their
    residents, with list sizes that vary as real ones do (log-normal, ≈ 2,000-30,000) and
    add up to ``REGISTERED_PER_RESIDENT`` times the residents. Returns (xy, list sizes)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    population = np.asarray(population, float)
    where = rng.choice(len(population), size=n, replace=False, p=population / population.sum())
    size = rng.lognormal(0.0, 0.5, n)
    size = np.maximum(np.round(size / size.sum() * population.sum()
                               * REGISTERED_PER_RESIDENT), 500).astype(np.int64)
    return np.asarray(area_xy, float)[where], size


def networks(practice_xy, seed: int, smallest: int = 3, largest: int = 7):
    """A network (PCN) number for each practice: runs of ``smallest``-``largest``
    neighbouring practices along a Z-order curve on a 1 km grid, as PCNs group practices
    that are close."""
    import numpy as np

    rng = np.random.default_rng(seed)
    cell = np.floor(np.asarray(practice_xy, float) / 1_000).astype(np.int64)
    cell -= cell.min(axis=0)
    order = np.argsort(_interleave(cell[:, 0], cell[:, 1]), kind="stable")
    sizes = rng.integers(smallest, largest + 1, size=len(order))
    group = np.repeat(np.arange(len(order)), sizes)[: len(order)]
    network = np.empty(len(order), np.int64)
    network[order] = group
    return network


def _interleave(x, y):
    """Morton (Z-order) codes of non-negative grid cells: nearby cells get nearby codes."""
    import numpy as np

    code = np.zeros(len(x), np.int64)
    for bit in range(20):
        code |= ((x >> bit) & 1) << (2 * bit)
        code |= ((y >> bit) & 1) << (2 * bit + 1)
    return code
