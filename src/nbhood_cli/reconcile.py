"""How community areas sit against a statutory layer: the crosswalk of pieces.

Pure functions, frames in and frames out. A *piece* is one intersection of a community area
with a statutory unit; its population comes from the same small-area shares as every other
estimate, so pieces, areas and units always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class People:
    """Small-area counts and the method that spreads them: estimates people in any polygons."""

    sources: object  # GeoDataFrame of small areas
    counts: object  # numpy array aligned with sources
    method: str = "areal"
    points: object = None
    weights: object = None
    _tables: dict = field(default_factory=dict, repr=False)
    _layers: dict = field(default_factory=dict, repr=False)

    def remember(self, zones, table) -> None:
        """Keep an area table already computed elsewhere (by ``estimate``) for ``zones``."""
        if table is not None:
            self._tables[id(zones)] = (zones, table)

    def area_table(self, zones):
        """The small areas' area table against ``zones``, computed once per zones frame (the
        frame is kept, so its id cannot be reused by another while cached)."""
        from nbhood_cli.population import area_table

        key = id(zones)
        if key not in self._tables:
            self._tables[key] = (zones, area_table(self.sources, zones, self._layer(zones)))
        return self._tables[key][1]

    def tiled(self, zones, which):
        """Whether each small area ``which`` lies in the tiling of ``zones`` (every point of
        it in exactly one zone)."""
        from nbhood_cli.population import tiled

        return tiled(self.sources, self._layer(zones), which)

    def _layer(self, zones):
        from nbhood_cli.population import target_layer

        key = id(zones)
        if key not in self._layers:
            self._layers[key] = (zones, target_layer(zones))
        return self._layers[key][1]

    def residents(self):
        """Where each small area's people are taken to live: its population-weighted centroid
        (centroid method with --centroids), else a point on its surface."""
        import shapely

        if self.method == "centroid" and self.points is not None:
            return self.points
        return shapely.point_on_surface(self.sources.geometry.values)

    def resident_people(self, zones):
        """(small area, zone, people) rows: how many of each small area's people each zone
        holds, by the method's shares."""
        from nbhood_cli.population import shares

        s = shares(self.method, self.sources, zones, self.points, self.weights)
        source = s["source"].to_numpy()
        return source, s["target"].to_numpy(), self.counts[source] * s["share"].to_numpy()

    def of_pieces(self, found, community, units):
        """People in crosswalk pieces; for areal, without intersecting every small area
        with every piece (see ``_piece_areas``)."""
        import numpy as np

        if self.method != "areal" or len(found) == 0:
            return self.of(found)
        s, p, area = _piece_areas(self, community, units, found)
        whole = self.sources.geometry.area.to_numpy()
        return np.bincount(p, weights=self.counts[s] * area / whole[s], minlength=len(found))

    def of(self, zones):
        """People in each zone (a GeoDataFrame), zones overlapping each other counted in each."""
        import numpy as np

        from nbhood_cli.population import shares

        if len(zones) == 0:
            return np.zeros(0)
        if self.method == "areal":
            t = self.area_table(zones)
            whole = self.sources.geometry.area.to_numpy()[t["source"]]
            return np.bincount(t["target"], weights=self.counts[t["source"]] * t["area"] / whole,
                               minlength=len(zones))
        s = shares(self.method, self.sources, zones, self.points, self.weights)
        return np.bincount(s["target"], weights=self.counts[s["source"]] * s["share"],
                           minlength=len(zones))


def _piece_areas(people, community, units, found):
    """Area of every (small area, piece) overlap from the small areas' area tables against
    the community areas and the units: a small area inside its unit overlaps the piece as
    much as it overlaps the community area (and the other way round); only small areas cut
    by both edges are intersected with the piece itself."""
    import numpy as np
    import pandas as pd

    from nbhood_cli.population import DERIVE_FLOOR, intersection_areas, kernel_takes

    sources = people.sources
    whole = sources.geometry.area.to_numpy()
    sc = people.area_table(community).rename(columns={"target": "community", "area": "sc"})
    su = people.area_table(units).rename(columns={"target": "unit", "area": "su"})
    index = pd.DataFrame({"community": found["community"], "unit": found["unit"],
                          "piece": np.arange(len(found))})
    rows = sc.merge(su, on="source").merge(index, on=["community", "unit"])
    s = rows["source"].to_numpy()
    full = 1 - 1e-9
    area = np.where(rows["su"] >= full * whole[s], rows["sc"],
                    np.where(rows["sc"] >= full * whole[s], rows["su"], np.nan))
    cut = np.flatnonzero(np.isnan(area))
    piece = rows["piece"].to_numpy()
    small_areas, pieces_ = np.asarray(sources.geometry.values), np.asarray(found.geometry.values)

    def overlap(k):
        return intersection_areas(small_areas[s[k]], pieces_[piece[k]])

    group = s * len(community) + rows["community"].to_numpy()  # (small area, community area)
    derived = np.zeros(0, np.int64)
    # where the kernel takes the pieces, it is quicker than proving the units' tiling (which
    # needs the small areas' edge table: ≈ 2 s at England scale)
    if not kernel_takes(len(cut)):
        derived = _derivable(people, units, s, group, rows["su"].to_numpy(), cut)
    todo = np.setdiff1d(cut, derived)
    area[todo] = overlap(todo)
    if len(derived):
        # in the units' tiling the pieces of s ∩ c add up to it: the largest is the rest
        rest = pd.Series(area[todo]).groupby(group[todo]).sum()
        area[derived] = rows["sc"].to_numpy()[derived] - rest.reindex(group[derived]).to_numpy()
        small = derived[~(area[derived] >= DERIVE_FLOOR * whole[s[derived]])]  # (or NaN)
        area[small] = overlap(small)
    return s, piece, area


def _derivable(people, units, s, group, su, cut):
    """The cut rows whose area can be derived: in each ``group`` (small area s, community
    area) with two or more cut rows, the one in the unit holding most of s (largest ``su``)
    — where the units tile s, so that its pieces add up to its overlap with the community
    area."""
    import numpy as np

    key = group[cut]
    order = np.lexsort((-su[cut], key))  # by group, largest su first
    first = np.ones(len(order), bool)
    first[1:] = key[order][1:] != key[order][:-1]
    size = np.bincount(np.cumsum(first) - 1)
    pick = order[first][size >= 2]
    if len(pick) == 0:
        return pick
    return np.sort(cut[pick][people.tiled(units, s[cut][pick])])


def pieces(community, units):
    """Every (community area, unit) pair with land in common, and that land."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from nbhood_cli.population import is_valid, map_rows

    areas, whole = np.asarray(community.geometry.values), np.asarray(units.geometry.values)
    # the units query the community areas' tree: each (large) unit is prepared once and
    # tested against the community areas near it, not the other way round (7× quicker)
    tree = shapely.STRtree(areas)
    u, c = tree.query(whole, predicate="intersects")
    iu, ic = tree.query(whole, predicate="contains_properly")
    valid = is_valid(whole)[iu]
    iu, ic = iu[valid], ic[valid]
    # a community area inside a (valid) unit's interior is its own piece: no overlay
    inside = np.isin(c * len(whole) + u, ic * len(whole) + iu)
    geoms = np.where(inside, areas[c], None)
    cut = np.flatnonzero(~inside)
    geoms[cut] = map_rows(shapely.intersection, len(cut), areas[c[cut]], whole[u[cut]])
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    area = shapely.area(geoms)
    keep = area > 0
    order = np.lexsort((u[keep], c[keep]))
    return gpd.GeoDataFrame({"community": c[keep][order], "unit": u[keep][order],
                             "area_m2": area[keep][order]},
                            geometry=geoms[keep][order], crs=community.crs)


def _polygonal(geom):
    """Only the area of an intersection: shared edges and corners are not pieces."""
    import shapely

    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.multipolygons(parts) if parts else shapely.Polygon()


def crosswalk(community, community_ids, units, unit_ids, layer: str, people: People,
              community_pop, unit_pop):
    """The crosswalk for one statutory layer: every piece with its area, population and the
    two-way shares (of the community area's people, of the unit's people)."""
    import numpy as np

    found = pieces(community, units)
    pop = people.of_pieces(found, community, units)
    c, u = found["community"].to_numpy(), found["unit"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share_c = np.where(community_pop[c] > 0, pop / community_pop[c], 0.0)
        share_u = np.where(unit_pop[u] > 0, pop / unit_pop[u], 0.0)
    community_area = community.geometry.area.to_numpy()
    return found.assign(
        layer=layer,
        community_id=np.asarray(community_ids, dtype=object)[c],
        unit_id=np.asarray(unit_ids, dtype=object)[u],
        population=pop,
        share_of_community=share_c,
        share_of_unit=share_u,
        area_share_of_community=_clean(found["area_m2"].to_numpy() / community_area[c]),
    )[["layer", "community_id", "unit_id", "area_m2", "population", "share_of_community",
       "share_of_unit", "area_share_of_community", "community", "unit", "geometry"]]


def best_fit(walk, community_ids, layer: str):
    """Per community area: the unit holding the largest share of its people (ties: the unit
    listed first in the layer), that share, and the share outside the whole layer."""
    import pandas as pd

    ordered = walk.sort_values(["community", "share_of_community", "unit"],
                               ascending=[True, False, True], kind="stable")
    best = ordered.drop_duplicates("community").set_index("community")
    inside = walk.groupby("community")["share_of_community"].sum()
    n = len(community_ids)
    index = pd.RangeIndex(n)
    has_people = best["share_of_community"].reindex(index).fillna(0).to_numpy() > 0
    return pd.DataFrame({
        "community_id": list(community_ids),
        "layer": layer,
        "best_fit": best["unit_id"].reindex(index).where(has_people, None).to_numpy(),
        "fit": _clean(best["share_of_community"].reindex(index).fillna(0.0).to_numpy()),
        "outside_share": _clean(1 - inside.reindex(index).fillna(0.0).to_numpy()),
    })


def _clean(share):
    """Shares from sums of floats: 1e-15 of a person is zero, and nothing exceeds 0..1."""
    import numpy as np

    share = np.clip(share, 0.0, 1.0)
    return np.where(share < 1e-9, 0.0, np.where(share > 1 - 1e-9, 1.0, share))


def _in_two(fn, items):
    """``fn`` over the two halves of ``items`` in two threads: GEOS releases the GIL, so
    unions and differences of large polygons use both cores."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    half = (len(items) + 1) // 2
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(fn, [items[:half], items[half:]]))
    return [np.asarray(p, dtype=object).reshape(-1) for p in parts if len(p)]


def gaps(community, units, unit_ids, walk, layer: str, people: People, unit_pop, overlaps):
    """Per statutory unit: the land and people no community area claims — who is left out.

    Each unit loses only the community areas its crosswalk pieces come from, never the union
    of every community area: that keeps the work local, which matters with thousands of
    units. Whole community areas, not the pieces: u minus the union of (c ∩ u) is u minus the
    union of c, and pieces carry copies of the unit's own edges, which the overlay then has
    to node against the nearly coincident originals (2–4× slower). The union goes subset by
    subset of claimants that meet (GEOS's disjoint-subset union: 3–6× quicker here, as most
    community areas overlap none of the others). Its covered
    people are its pieces' people less those counted again where community areas overlap
    (``overlaps``: faces claimed ``claims`` ≥ 2 times), so the small areas are never
    intersected with the large, ragged gap polygons."""
    import geopandas as gpd
    import numpy as np
    import shapely

    n = len(units)
    left = np.array(units.geometry.values, dtype=object)
    if len(walk):
        order = walk["unit"].to_numpy()
        claimants = np.asarray(community.geometry.values)[walk["community"].to_numpy()]
        groups = np.split(claimants[np.argsort(order, kind="stable")],
                          np.cumsum(np.bincount(order, minlength=n))[:-1])
        claimed = np.concatenate(_in_two(  # most claimants do not overlap: subset by subset
            lambda part: [shapely.disjoint_subset_union_all(g) if len(g) else shapely.Polygon()
                          for g in part], groups))
        left = np.concatenate(_in_two(lambda part: [_polygonal(g) for g in shapely.difference(
            part[:, 0], part[:, 1])], np.column_stack([left, claimed])))
    covered = np.bincount(walk["unit"].to_numpy(), weights=walk["population"].to_numpy(),
                          minlength=n) if len(walk) else np.zeros(n)
    if len(overlaps):
        again = pieces(overlaps, units)
        extra = people.of(again) * (overlaps["claims"].to_numpy()[again["community"]] - 1)
        covered = covered - np.bincount(again["unit"], weights=extra, minlength=n)
    frame = gpd.GeoDataFrame({"layer": layer, "unit_id": list(unit_ids)}, geometry=left,
                             crs=units.crs)
    frame["area_m2"] = shapely.area(left)
    frame["population"] = np.clip(unit_pop - covered, 0.0, None)
    frame["unit_population"] = unit_pop
    with np.errstate(invalid="ignore", divide="ignore"):
        gap_share = np.where(unit_pop > 0, frame["population"] / unit_pop, 0.0)
    frame["share_of_unit"] = _clean(gap_share)
    frame["population"] = np.where(frame["share_of_unit"] == 0, 0.0, frame["population"])
    frame["covered_population"] = unit_pop - frame["population"]
    frame["covered_share"] = np.where(unit_pop > 0, 1 - frame["share_of_unit"], 0.0)
    return frame[["layer", "unit_id", "area_m2", "population", "share_of_unit",
                  "unit_population", "covered_population", "covered_share", "geometry"]]
