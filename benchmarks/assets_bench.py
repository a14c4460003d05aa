"""Assets at England scale: 500,000 synthetic assets against ~10,000 community areas built
on 33,755 small areas (benchmarks/synthetic.py). Times the analysis as `nbhood assets` runs
it — categorise, de-duplicate, per-area figures with access and deprivation — not the file
writing."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

N_ASSETS = 500_000
TERMS = ["gp_surgery", "pharmacy", "community_centre", "library", "place_of_worship",
         "food_bank", "cafe", "park", "allotments", "sports_club", "school", "post_office",
         "citizens_advice", "supermarket", "public_toilets"]


def synthetic_assets(small, seed: int = 0):
    """Assets near people: a small area is picked by population, then a random point in it."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    weights = small["population"].to_numpy(float)
    pick = rng.choice(len(small), size=N_ASSETS, p=weights / weights.sum())
    bounds = shapely.bounds(small.geometry.values)[pick]
    x = rng.uniform(bounds[:, 0], bounds[:, 2])
    y = rng.uniform(bounds[:, 1], bounds[:, 3])
    names = np.char.add("Asset ", rng.integers(0, N_ASSETS // 4, N_ASSETS).astype(str))
    return gpd.GeoDataFrame({"name": names, "category": rng.choice(TERMS, N_ASSETS)},
                            geometry=shapely.points(x, y), crs=small.crs)


def run(small, community) -> list[tuple[str, float]]:
    from nbhood_cli import taxonomy as tax
    from nbhood_cli.assets import by_area, dedupe
    from nbhood_cli.population import shares

    rows = []
    assets = synthetic_assets(small)
    counts = small["population"].to_numpy(float)
    score = np.random.default_rng(1).gamma(2.0, 10.0, len(small))
    decile = np.clip((score // 8) + 1, 1, 10)
    start = time.perf_counter()
    scheme = tax.load()
    assets["category"], _ = tax.categorise(assets, scheme)
    rows.append(("categorise", time.perf_counter() - start))
    t = time.perf_counter()
    kept, merges = dedupe(assets, 25.0, np.arange(len(assets)))
    rows.append((f"de-duplicate ({len(merges):,} merged)", time.perf_counter() - t))
    t = time.perf_counter()
    mapped = kept[kept["category"].notna()].reset_index(drop=True)
    s = shares("areal", small, community)
    people = (s["source"].to_numpy(), s["target"].to_numpy(),
              counts[s["source"].to_numpy()] * s["share"].to_numpy())
    population = np.bincount(people[1], weights=people[2], minlength=len(community))
    import shapely

    table = by_area(community, mapped, scheme.categories, population, people,
                    shapely.point_on_surface(small.geometry.values), score, decile)
    rows.append((f"per-area figures ({len(table):,} areas)", time.perf_counter() - t))
    rows.append(("total", time.perf_counter() - start))
    assert len(pd.unique(mapped["category"])) == 8
    return rows
