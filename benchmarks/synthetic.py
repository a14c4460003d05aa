"""Seeded England-scale layers for benchmarks: small areas, wards and community areas.

``england(seed=0)`` returns three GeoDataFrames in EPSG:27700:

* **small areas** (33,755): the real LSOA 2021 BSC outlines from
  ``../shared/data/england/lsoa21_england_bsc_census2021.parquet`` (≈ 8 vertices each),
  densified to BGC-like detail (≈ 70 m apart: median 51 vertices, a tenth over 250) with
  jagged, seeded noise.
  The noise of an edge depends only on the edge's end points, so neighbours get the same edge
  and the layer stays a coverage (no gaps or overlaps beyond the source's own). Columns:
  ``lsoa21cd``, ``lad24cd``, ``population`` (Census 2021 usual residents).
* **wards** (≈ 7,000): groups of ≈ 5 neighbouring small areas within each local authority,
  unioned, so small areas nest in wards. In a seeded quarter of the authorities the ward
  outlines are then coverage-simplified (the authority outline kept), as when wards and small
  areas are generalised separately: there the small areas on ward edges are cut by slivers.
  Columns: ``ward_id``, ``lad24cd``.
* **community areas** (≈ 10,000): freehand-ish polygons (45–90 vertices) drawn around
  population-weighted seeds: Voronoi cells reshaped with smooth radial noise, 88 % shrunk to
  0.80–0.94 of their cell and 12 % drawn at 1.0–1.1 (those overlap their neighbours), a
  seeded 75 % of cells kept, clipped to England. They cover ≈ 60 % of the land and about a
  fifth of them overlap another; an area is ≈ 2 small areas, so few small areas nest in
  one (the worst case for shortcuts). Column: ``ca_id``.

Generation takes ≈ 25 s; the result is cached (GeoParquet) under ``build/bench-cache/``
(gitignored) keyed by seed and generator version. Reusable by any benchmark::

    from synthetic import england
    small, wards, community = england(seed=0)
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

VERSION = 2  # bump when the generator changes: the cache key includes it
ROOT = Path(__file__).resolve().parents[1]
PARQUET = ROOT.parent / "shared" / "data" / "england" / "lsoa21_england_bsc_census2021.parquet"
CACHE = ROOT / "build" / "bench-cache"
CRS = 27700

PIECE = 70.0           # m between inserted vertices (BGC LSOAs: ≈ 100 m of outline per vertex)
MAX_PIECES = 60        # per source edge
WARDS = 7_000
COMMUNITY = 10_000
KEEP = 0.75            # share of community-area cells kept
BULGING = 0.12         # share of community areas drawn larger than their cell (they overlap)
SIMPLIFIED_LADS = 0.25  # share of authorities whose ward outlines are simplified separately


def england(seed: int = 0, cache: bool = True):
    """(small_areas, wards, community_areas), EPSG:27700; see the module docstring."""
    names = ("small", "wards", "community")
    paths = [CACHE / f"england-v{VERSION}-s{seed}-{n}.parquet" for n in names]
    if cache and all(p.exists() for p in paths):
        return tuple(gpd.read_parquet(p) for p in paths)
    small = small_areas(seed)
    frames = (small, wards(small, seed), community_areas(small, seed))
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        for frame, path in zip(frames, paths, strict=True):
            frame.to_parquet(path)
    return frames


# --- small areas -------------------------------------------------------------------------

def small_areas(seed: int = 0) -> gpd.GeoDataFrame:
    if not PARQUET.exists():
        raise FileNotFoundError(f"{PARQUET} is absent (../shared/data beside the checkout)")
    src = gpd.read_parquet(PARQUET).to_crs(CRS)
    geoms = jagged(src.geometry.values, seed)
    return gpd.GeoDataFrame({"lsoa21cd": src["lsoa21cd"].to_numpy(),
                             "lad24cd": src["lad24cd"].to_numpy(),
                             "population": src["usual_residents"].to_numpy(np.int64)},
                            geometry=geoms, crs=CRS)


_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), \
    np.uint64(0x9E3779B97F4A7C15)


def _mix(x):
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    z = x + _GOLD
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _unit(h):
    """uint64 hash → uniform in [-1, 1)."""
    return (h >> np.uint64(11)).astype(np.float64) * 2.0 ** -52 - 1.0


def jagged(geoms, seed: int = 0, piece: float = PIECE):
    """Densify polygon edges every ≈ ``piece`` m and displace the new vertices: a smooth bulge
    per edge plus jitter. The displacement of an edge is a function of its two end points
    only, so an edge shared by two polygons stays shared. The displacement of every edge of a
    polygon that would become invalid is halved (its neighbours' copies too), until all are
    valid; after five halvings an edge is left straight."""
    polys, gidx = shapely.get_parts(geoms, return_index=True)
    rings, pidx = shapely.get_rings(polys, return_index=True)
    xy, ridx = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(ridx[:-1] == ridx[1:])  # segment k runs xy[k] → xy[k+1]
    p, q = xy[start], xy[start + 1]
    swap = (p[:, 0] > q[:, 0]) | ((p[:, 0] == q[:, 0]) & (p[:, 1] > q[:, 1]))
    a = np.where(swap[:, None], q, p)
    b = np.where(swap[:, None], p, q)
    bits = np.ascontiguousarray(np.column_stack([a, b])).view(np.uint64)
    key = _mix(bits[:, 0] ^ _mix(bits[:, 1] ^ _mix(bits[:, 2] ^ _mix(
        bits[:, 3] ^ np.uint64(seed)))))
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    n = np.clip(np.ceil(length / piece), 1, MAX_PIECES).astype(np.int64)
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.where(length > 0, length, 1)[:, None]
    bulge = 0.10 * length * _unit(_mix(key ^ np.uint64(1)))

    # output layout: each segment start followed by its n − 1 new vertices
    extra = np.zeros(len(xy), np.int64)
    extra[start] = n - 1
    pos = np.arange(len(xy)) + np.concatenate([[0], np.cumsum(extra)[:-1]])
    seg = np.repeat(np.arange(len(start)), n - 1)
    t = np.arange(len(seg)) - np.repeat(np.cumsum(n - 1) - (n - 1), n - 1) + 1  # 1..n-1
    kc = np.where(swap[seg], n[seg] - t, t)  # index along the canonical direction
    frac = kc / n[seg]
    base = a[seg] + d[seg] * frac[:, None]
    jitter = 0.25 * (length / n)[seg] * _unit(_mix(key[seg] ^ _mix(kc.astype(np.uint64))))
    offset = bulge[seg] * np.sin(np.pi * frac) + jitter
    new_at = pos[start][seg] + t
    out_ring = np.empty(len(xy) + len(seg), np.int64)
    out_ring[pos] = ridx
    out_ring[new_at] = ridx[start][seg]

    damp = np.ones(len(start))
    out = np.empty((len(out_ring), 2))
    out[pos] = xy
    seg_geom = gidx[pidx[ridx[start]]]  # the input geometry of each segment
    for _ in range(30):
        out[new_at] = base + normal[seg] * (offset * damp[seg])[:, None]
        new_polys = shapely.polygons(shapely.linearrings(out, indices=out_ring), indices=pidx)
        out_geoms = shapely.multipolygons(new_polys, indices=gidx)
        bad = ~shapely.is_valid(out_geoms)
        more = np.isin(key, key[bad[seg_geom]]) & (damp > 0)
        if not more.any():
            break
        damp[more] = np.where(damp[more] < 0.1, 0.0, damp[more] * 0.5)
    out_geoms[bad] = shapely.make_valid(out_geoms[bad])  # only if straight edges fail
    single = shapely.get_num_geometries(out_geoms) == 1
    out_geoms[single] = shapely.get_geometry(out_geoms[single], 0)
    return out_geoms


# --- wards -------------------------------------------------------------------------------

def _kmeans(points, k, rng, iterations=20):
    """Plain seeded Lloyd's k-means (k-means++ start) on an (n, 2) array."""
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        dist = np.min([((points - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(points[rng.choice(len(points), p=dist / dist.sum())]
                       if dist.sum() > 0 else points[rng.integers(len(points))])
    centres = np.array(centres)
    for _ in range(iterations):
        label = ((points[:, None, :] - centres[None]) ** 2).sum(2).argmin(1)
        for c in range(k):
            if (label == c).any():
                centres[c] = points[label == c].mean(0)
    return ((points[:, None, :] - centres[None]) ** 2).sum(2).argmin(1)


def wards(small: gpd.GeoDataFrame, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed + 1)
    geoms = small.geometry.values
    points = shapely.get_coordinates(shapely.centroid(geoms))
    per_small = len(small) / WARDS
    rows = []
    lads = small["lad24cd"].to_numpy()
    simplified = set(rng.choice(np.unique(lads), int(SIMPLIFIED_LADS * len(np.unique(lads))),
                                replace=False))
    for lad in np.unique(lads):
        members = np.flatnonzero(lads == lad)
        k = max(1, int(round(len(members) / per_small)))
        label = _kmeans(points[members], k, rng) if k > 1 else np.zeros(len(members), int)
        parts = []
        for c in np.unique(label):
            group = geoms[members[label == c]]
            try:
                parts.append(shapely.coverage_union_all(group))
            except shapely.errors.GEOSException:
                parts.append(shapely.union_all(group))
        parts = np.array(parts)
        if lad in simplified and len(parts) > 1:
            simple = shapely.coverage_simplify(parts, 30.0, simplify_boundary=False)
            if shapely.is_valid(simple).all() and not shapely.is_empty(simple).any():
                parts = simple
        rows += [(lad, g) for g in parts]
    geoms = np.array([r[1] for r in rows])
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = [_polygonal(g) for g in shapely.make_valid(geoms[bad])]
    return gpd.GeoDataFrame({"ward_id": [f"W{i:05d}" for i in range(len(rows))],
                             "lad24cd": [r[0] for r in rows]}, geometry=geoms, crs=CRS)


# --- community areas ---------------------------------------------------------------------

def community_areas(small: gpd.GeoDataFrame, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed + 2)
    coarse = gpd.read_parquet(PARQUET).to_crs(CRS).geometry.values
    land = shapely.union_all(coarse)
    shapely.prepare(land)
    n_seeds = int(COMMUNITY / KEEP * 1.03)  # a few cells fall in the sea and are dropped
    # seeds where people are: one per sampled small area (they hold ≈ equal populations)
    chosen = rng.choice(len(coarse), n_seeds, replace=False)
    seeds = shapely.point_on_surface(coarse[chosen])
    x0, y0, x1, y1 = shapely.total_bounds(coarse)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=shapely.box(x0, y0, x1, y1), ordered=True))
    keep = rng.random(len(cells)) < KEEP
    cells, seeds = cells[keep], seeds[keep]
    perimeter = shapely.length(cells)
    cells = shapely.segmentize(cells, perimeter / rng.integers(45, 90, len(cells)))
    xy, idx = shapely.get_coordinates(cells, return_index=True)
    centre = shapely.get_coordinates(seeds)[idx]
    rel = xy - centre
    theta = np.arctan2(rel[:, 1], rel[:, 0])
    scale = np.where(rng.random(len(cells)) < 1 - BULGING, rng.uniform(0.8, 0.94, len(cells)),
                     rng.uniform(1.0, 1.1, len(cells)))
    wobble = np.zeros(len(xy))
    for k in (2, 3, 5):
        amp = rng.uniform(0, 0.04, len(cells))[idx]
        phase = rng.uniform(0, 2 * np.pi, len(cells))[idx]
        wobble += amp * np.cos(k * theta + phase)
    wobble += rng.uniform(-0.02, 0.02, len(xy))
    factor = scale[idx] * (1 + wobble)
    # close each ring again: its last vertex must equal its first
    first = np.concatenate([[0], np.flatnonzero(idx[1:] != idx[:-1]) + 1])
    last = np.concatenate([first[1:] - 1, [len(xy) - 1]])
    factor[last] = factor[first]
    shaped = shapely.polygons(shapely.linearrings(centre + rel * factor[:, None], indices=idx))
    inside = shapely.contains_properly(land, shaped)
    clipped = shaped.copy()
    clipped[~inside] = shapely.intersection(shaped[~inside], land)
    clipped = shapely.make_valid(clipped)
    clipped = np.array([_polygonal(g) for g in clipped])
    ok = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 1.0)
    clipped = clipped[ok]
    return gpd.GeoDataFrame({"ca_id": [f"C{i:05d}" for i in range(len(clipped))]},
                            geometry=clipped, crs=CRS)


def _polygonal(geom):
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def nesting(small: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, seed: int = 0) -> float:
    """Share of the small areas lying wholly inside one target (cached with the layers)."""
    import json

    n = len(targets)
    path = CACHE / f"england-v{VERSION}-s{seed}-nesting-{n}.json"
    if path.exists():
        return json.loads(path.read_text())["nested"]
    geoms, tgt = small.geometry.values, targets.geometry.values
    p, t = shapely.STRtree(tgt).query(shapely.point_on_surface(geoms), predicate="within")
    inside = shapely.covered_by(geoms[p], tgt[t])
    nested = len(np.unique(p[inside])) / len(small)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"nested": nested}))
    return nested


def describe(small, wards_, community) -> pd.DataFrame:
    """Counts, vertices and nesting, for the benchmark's header."""
    rows = []
    for name, frame in (("small areas", small), ("wards", wards_),
                        ("community areas", community)):
        n = shapely.get_num_coordinates(frame.geometry.values)
        rows.append({"layer": name, "features": len(frame),
                     "median vertices": int(np.median(n)), "p90 vertices": int(
                         np.percentile(n, 90)), "km²": frame.area.sum() / 1e6})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    import time

    start = time.perf_counter()
    layers = england(cache=False)
    print(f"generated in {time.perf_counter() - start:.1f} s")
    print(describe(*layers).to_string(index=False))
