"""The whole analysis of community areas against statutory layers, as frames.

Pure: takes read layers' frames and small-area people, returns every product the
``reconcile``, ``tensions`` and ``map`` commands write. Each statutory layer's crosswalk is
computed once and feeds best fit, splits, slivers and gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Areas:
    """One layer of areas: its frame and the id of each feature, in frame order."""

    frame: object
    ids: list
    name: str = "community"
    names: list | None = None  # what people call each area, when the layer says
    layer: object = None  # the io.read.Layer it was read from, when read from a file


@dataclass
class Results:
    products: dict = field(default_factory=dict)  # name → frame (GeoDataFrame when spatial)
    summary: dict = field(default_factory=dict)


def analyse(community: Areas, layers: list[Areas], people, th, then=None) -> Results:
    """Population, crosswalk, tensions, contested land, gaps, slivers and size bands.
    ``then()``, if given, is called as soon as the community areas' people are known (and,
    for areal, their area table is in ``people``): a caller's work that needs them can start
    alongside the rest."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pandas as pd

    from nbhood_cli.population import estimate
    from nbhood_cli.reconcile import best_fit, crosswalk, gaps
    from nbhood_cli.tensions import contested, is_sliver, size_band, splits

    with ThreadPoolExecutor(1, thread_name_prefix="nbhood-units") as ahead:
        # the units' people need only the small areas: counted while the estimate runs
        units_pop = [ahead.submit(people.of, layer.frame) for layer in layers]
        est = estimate(people.sources, people.counts, community.frame, people.method,
                       points=people.points, weights=people.weights)
        c_pop = est.areas["population"].to_numpy()
        if people.method == "areal":
            people.remember(community.frame, est.table)
        if then is not None:
            then()
        land = est.faces
        overlaps = land[land["claims"] >= 2].reset_index(drop=True)

        def one(k):
            layer, u_pop = layers[k], units_pop[k].result()
            walk = crosswalk(community.frame, community.ids, layer.frame, layer.ids,
                             layer.name, people, c_pop, u_pop)
            return (walk, splits(walk, best_fit(walk, community.ids, layer.name), th),
                    gaps(community.frame, layer.frame, layer.ids, walk, layer.name, people,
                         u_pop, overlaps), _banded(layer, u_pop, th, size_band))

        done = _side_by_side(one, range(len(layers)))
    walks, tensions, holes = ([d[k] for d in done] for k in range(3))
    bands = [_banded(community, c_pop, th, size_band)] + [d[3] for d in done]
    crs = community.frame.crs
    if not layers:  # no statutory layer: the same tables and columns, with no rows
        nothing = community.frame.iloc[:0][[community.frame.geometry.name]]
        none = np.zeros(0)
        walks = [crosswalk(community.frame, community.ids, nothing, [], "", people, c_pop, none)]
        tensions = [splits(walks[0], best_fit(walks[0], community.ids, ""), th).iloc[:0]]
        empty_gaps = gaps(community.frame, nothing, [], walks[0], "", people, none, overlaps)
    walk = _concat(walks, crs).drop(columns=["community", "unit"])
    claimed = contested(community.frame, community.ids, people, overlaps)
    sliver_pieces = walk[is_sliver(walk, th)].assign(kind="piece")
    sliver_claims = claimed[is_sliver(claimed, th)].assign(kind="contested")
    population = community.frame[[community.frame.geometry.name]].assign(
        community_id=list(community.ids), **{c: est.areas[c].to_numpy() for c in est.areas})
    population["size_band"] = size_band(c_pop, th)
    products = {
        "population": population[["community_id", *est.areas.columns, "size_band",
                                  "geometry"]],
        "crosswalk": walk,
        "tensions": pd.concat(tensions, ignore_index=True),
        "contested": claimed[~is_sliver(claimed, th)].reset_index(drop=True),
        "gaps": _concat(holes, crs) if layers else empty_gaps,
        "slivers": _slivers(sliver_pieces, sliver_claims, crs),
        "size_bands": pd.concat(bands, ignore_index=True),
    }
    summary = {
        "community_areas": len(community.ids),
        "layers": [layer.name for layer in layers],
        "population": est.totals,
        "thresholds": th.as_dict(),
        "tension": _severity_counts(products["tensions"]),
        "contested": {"areas": len(products["contested"]),
                      "population": float(products["contested"]["population"].sum())},
        "gaps": {layer.name: {"population": float(h["population"].sum()),
                              "area_m2": float(h["area_m2"].sum())}
                 for layer, h in zip(layers, holes, strict=True)},
        "slivers": len(products["slivers"]),
        "size_bands": {k: int(v) for k, v in
                       products["size_bands"].query("layer == 'community'")["size_band"]
                       .value_counts().sort_index().items()},
    }
    if community.names is not None:
        _add_names(products, community)
    return Results(products, summary)


def _side_by_side(fn, items):
    """``[fn(x) for x in items]``, two at a time: one layer's single-threaded stretches
    (numpy, frames) overlap another's geometry work, which keeps both cores busy."""
    if len(items) < 2:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2, thread_name_prefix="nbhood-layer") as pool:
        return list(pool.map(fn, items))


def _add_names(products: dict, community: Areas) -> None:
    """A ``name`` column beside ``community_id``: CA12 means nothing to a reader."""
    lookup = dict(zip(community.ids, community.names, strict=True))
    for key in ("tensions", "population"):
        frame = products[key]
        frame.insert(1, "name", [lookup.get(i) for i in frame["community_id"]])


def _banded(areas: Areas, pop, th, size_band):
    import pandas as pd

    return pd.DataFrame({"layer": areas.name, "area_id": list(areas.ids), "population": pop,
                         "size_band": size_band(pop, th)})


def _concat(frames, crs):
    import geopandas as gpd
    import pandas as pd

    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


def _slivers(pieces, claims, crs):
    """Crosswalk pieces and contested land too small to be real, in one layer."""
    import geopandas as gpd
    import pandas as pd

    pieces = pieces.rename(columns={"community_id": "claimants"})[
        ["kind", "layer", "claimants", "unit_id", "area_m2", "population", "geometry"]]
    claims = claims.assign(layer=None, unit_id=None)[
        ["kind", "layer", "claimants", "unit_id", "area_m2", "population", "geometry"]]
    return gpd.GeoDataFrame(pd.concat([pieces, claims], ignore_index=True), crs=crs)


def _severity_counts(tensions) -> dict:
    from nbhood_cli.tensions import SEVERITY_LABELS

    out = {}
    for layer, rows in tensions.groupby("layer", sort=False):
        counts = rows["severity"].value_counts()
        out[layer] = {label: int(counts.get(label, 0)) for label in SEVERITY_LABELS}
    return out
