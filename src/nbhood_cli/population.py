"""How many people live in any area: small-area counts allocated to target areas.

Pure functions (frames in, frames out). Every method is expressed as one table of shares —
for each small area and target, the fraction of the small area's count that goes to the
target — so totals, splits and the conservation check are computed the same way for all.
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("areal", "centroid", "dasymetric")
SPLIT_TOLERANCE = 1e-9  # area share below 1 − this means the small area is cut by the edge


@dataclass
class Estimate:
    """Per-target populations and the run's totals."""

    areas: object  # pandas.DataFrame, one row per target in target order
    totals: dict


def area_table(sources, targets):
    """Every intersecting (small area, target) pair with its intersection area in m².

    Computed once and reused (as in tobler): it is the expensive step.
    """
    import numpy as np
    import pandas as pd
    import shapely

    src = sources.geometry.values
    tgt = targets.geometry.values
    tree = shapely.STRtree(tgt)
    i, j = tree.query(src, predicate="intersects")
    area = shapely.area(shapely.intersection(src[i], tgt[j]))
    keep = area > 0
    return pd.DataFrame({"source": i[keep], "target": j[keep], "area": area[keep]}).astype(
        {"source": np.int64, "target": np.int64, "area": float})


def faces(targets):
    """The targets' land cut into faces, each with how many targets claim it.

    Faces are built from the noded boundaries, independently of the per-target pieces, so
    totals from faces check the per-target sums rather than restate them.
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    geoms = targets.geometry.values
    noded = shapely.union_all(shapely.boundary(geoms))
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    reps = shapely.point_on_surface(polys)
    _, j = shapely.STRtree(geoms).query(reps, predicate="within")
    claims = np.bincount(_, minlength=len(polys)) if len(polys) else np.zeros(0, int)
    keep = claims > 0
    return gpd.GeoDataFrame({"claims": claims[keep]}, geometry=polys[keep], crs=targets.crs)


def shares(method, sources, zones, points=None, weights=None):
    """(small area, zone, share) rows: the fraction of each small area's count in each zone.

    ``areal``: intersection area / small-area area (tobler's extensive interpolation).
    ``centroid``: 1 for each zone holding the small area's point — its population-weighted
    centroid when given, else a point on its surface (ONS best-fit).
    ``dasymetric``: weight inside the piece / weight inside the small area; small areas
    with no weight fall back to areal shares.
    """
    if method == "areal":
        table = area_table(sources, zones)
        return table.assign(share=table["area"] / sources.geometry.area.to_numpy()[
            table["source"]])[["source", "target", "share"]]
    if method == "centroid":
        return _point_shares(sources, zones, points)
    if method == "dasymetric":
        return _weight_shares(sources, zones, points, weights)
    raise ValueError(f"unknown method {method!r}")


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
    areal = shares("areal", sources, zones)
    areal = areal[total[areal["source"]] <= 0]
    return pd.concat([pieces[["source", "target", "share"]], areal], ignore_index=True)


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
    fallback = np.zeros(len(sources), dtype=bool)
    if method == "dasymetric":
        weights = np.ones(len(points)) if weights is None else np.asarray(weights, float)
        fallback = weight_in_sources(sources, points, weights)[0] <= 0
    by_target = shares(method, sources, targets, points, weights)
    split = _split_pairs(sources, targets)
    land = faces(targets)
    by_face = shares(method, sources, land, points, weights)
    return Estimate(_per_target(by_target, split, counts, targets, method),
                    _totals(by_target, by_face, land, counts, fallback))


def _split_pairs(sources, targets):
    """(small area, target) pairs where the target's edge cuts the small area."""
    import pandas as pd

    areal = shares("areal", sources, targets)
    cut = areal[areal["share"] < 1 - SPLIT_TOLERANCE]
    return pd.MultiIndex.from_frame(cut[["source", "target"]])


def _per_target(by_target, split, counts, targets, method):
    import numpy as np
    import pandas as pd

    people = counts[by_target["source"]] * by_target["share"].to_numpy()
    is_split = pd.MultiIndex.from_frame(by_target[["source", "target"]]).isin(split)
    n = len(targets)
    population = np.bincount(by_target["target"], weights=people, minlength=n)
    from_split = np.bincount(by_target["target"], weights=people * is_split, minlength=n)
    contributing = by_target[people > 0].groupby("target")["source"].nunique()
    with np.errstate(invalid="ignore", divide="ignore"):
        split_share = np.where(population > 0, from_split / population, 0.0)
    return pd.DataFrame({
        "population": population,
        "population_rounded": np.round(population).astype(np.int64),
        "n_sources": contributing.reindex(range(n), fill_value=0).to_numpy(np.int64),
        "split_source_share": split_share,
        "method": method,
    }, index=targets.index)


def _totals(by_target, by_face, land, counts, fallback) -> dict:
    """Allocated (per-target sums) − counted twice + unallocated (both from faces) must give
    the source total: a check that pieces and faces agree, run on every estimate."""
    import numpy as np

    source_total = float(counts.sum())
    allocated = float((counts[by_target["source"]] * by_target["share"]).sum())
    face_people = np.bincount(by_face["target"],
                              weights=counts[by_face["source"]] * by_face["share"],
                              minlength=len(land))
    claims = land["claims"].to_numpy()
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
