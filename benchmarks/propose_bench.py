"""`nbhood propose` against PySAL spopt's max-p (``MaxPHeuristic``, population floor =
min-pop) on the same small areas: bound violations, community areas kept whole, units crossing
a nest unit, compactness, time and peak memory — every figure measured here the same way for
both, from the labels each returns.

Cases: Trafford (139 LSOAs; alone and nested in wards), Sheffield (343 LSOAs honouring the 147
community neighbourhoods) and London (the 4,994 LSOAs of the 33 London boroughs, LAD codes
E09…, from the England BSC layer; alone and nested in boroughs). Each run is a fresh process
(its own ``ru_maxrss``); spopt gets ``--spopt-timeout`` seconds. spopt knows neither community
areas nor nesting, so it is given the small areas alone. Needs ../shared/data and, for the
comparison, ``pip install -e '.[bench]'`` (spopt); without spopt only ours runs.

    .venv/bin/python benchmarks/propose_bench.py [--quick] [--spopt-timeout 600]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
MIN_POP, MAX_POP = 3_000, 10_000
CASES = ["trafford", "trafford-wards", "sheffield", "london", "london-boroughs"]
QUICK = ["trafford", "trafford-wards", "sheffield"]


def load(case: str):
    """(small areas with ``code`` and ``population``, community Areas or None, nest Areas or
    None), in EPSG:27700."""
    import pandas as pd

    from nbhood_cli.analysis import Areas
    from nbhood_cli.io import load_table, read_layer

    if case.startswith("trafford"):
        t = SHARED / "trafford"
        small = read_layer(t / "lsoa.geojson").frame
        pop = load_table(t / "lsoa_population.csv").frame.set_index("lsoa21cd")["population"]
        small = small.assign(code=small["lsoa21cd"], population=small["lsoa21cd"].map(pop))
        nest = None
        if case == "trafford-wards":
            wards = read_layer(t / "wards.geojson").frame
            nest = Areas(wards, wards["wd23cd"].tolist(), "ward")
        return small, None, nest
    if case == "sheffield":
        s = SHARED / "sheffield"
        small = read_layer(s / "lsoa.geojson").frame
        pop = pd.read_csv(s / "lsoa_population_census2021.csv").set_index("lsoa21cd")
        small = small.assign(code=small["lsoa21cd"],
                             population=small["lsoa21cd"].map(pop["usual_residents"]))
        ca = read_layer(s / "community_areas.geojson").frame
        return small, Areas(ca, ca["id"].tolist()), None
    england = read_layer(SHARED / "england" / "lsoa21_england_bsc_census2021.parquet").frame
    small = england[england["lad24cd"].str.startswith("E09")].reset_index(drop=True)
    small = small.assign(code=small["lsoa21cd"], population=small["usual_residents"])
    nest = None
    if case == "london-boroughs":
        boroughs = small.dissolve("lad24cd").reset_index()
        nest = Areas(boroughs, boroughs["lad24cd"].tolist(), "lad")
    return small, None, nest


def child(case: str, impl: str) -> dict:
    """One run in this (fresh) process: labels per small area (in code order), seconds and
    peak memory."""
    import resource

    small, community, nest = load(case)
    small = small.sort_values("code").reset_index(drop=True)
    counts = small["population"].to_numpy(float)
    start = time.perf_counter()
    if impl == "ours":
        from nbhood_cli.propose import Settings, propose

        result = propose(small, counts, small["code"].tolist(), Settings(MIN_POP, MAX_POP),
                         community, nest)
        unit = result.small_areas.set_index("small_area")["unit_id"]
        labels = unit.reindex(small["code"]).tolist()
    else:
        import warnings

        from libpysal.weights import Rook
        from spopt.region.maxp import MaxPHeuristic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = Rook.from_dataframe(small, use_index=False)
            model = MaxPHeuristic(small, w, ["population"], "population", MIN_POP)
            model.solve()
        labels = [int(v) for v in model.labels_]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"labels": labels, "seconds": seconds, "peak_mb": peak}


def evaluate(case: str, labels: list) -> dict:
    """The same figures for any labelling: units, violations, contiguity (rook, as nbhood
    defines it), community areas kept whole, units crossing a nest unit, compactness."""
    import numpy as np
    import shapely

    from nbhood_cli.adjacency import components, neighbours
    from nbhood_cli.propose import belongs

    small, community, nest = load(case)
    small = small.sort_values("code").reset_index(drop=True)
    counts = small["population"].to_numpy(float)
    geoms = np.asarray(small.geometry.values, dtype=object)
    lists = neighbours(geoms).lists()
    units: dict = {}
    for k, label in enumerate(labels):
        units.setdefault(label, []).append(k)
    sizes = np.array([counts[m].sum() for m in units.values()])
    broken = sum(len(components(len(geoms), lists, m)) > 1 for m in units.values())
    shapes = [shapely.union_all(geoms[m]) for m in units.values()]
    pp = [4 * np.pi * s.area / s.length ** 2 for s in shapes]
    out = {"units": len(units), "below_min": int((sizes < MIN_POP).sum()),
           "above_max": int((sizes > MAX_POP).sum()), "not_contiguous": int(broken),
           "compactness": float(np.mean(pp))}
    if community is not None:
        member = belongs(small, community, 0.5)
        spread: dict = {}
        for k, c in enumerate(member.tolist()):
            if c >= 0:
                spread.setdefault(c, set()).add(labels[k])
        out["community_whole"] = f"{sum(len(s) == 1 for s in spread.values())}/{len(spread)}"
    if nest is not None:
        parent = belongs(small, nest, 0.0)
        out["crossing_nest"] = sum(len({int(parent[k]) for k in m}) > 1
                                   for m in units.values())
    return out


def fresh(case: str, impl: str, timeout: float | None) -> dict | None:
    """``child`` in a new interpreter; None when it ran out of time."""
    try:
        done = subprocess.run([sys.executable, __file__, "--child", case, impl],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Trafford and Sheffield only")
    parser.add_argument("--spopt-timeout", type=float, default=600.0, metavar="S")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if not SHARED.exists():
        print(f"skipped: {SHARED} is absent (../shared/data must sit beside the checkout)")
        return 0
    impls = ["ours"]
    if importlib.util.find_spec("spopt") is None:
        print("spopt is not installed (pip install -e '.[bench]'): nbhood alone")
    else:
        impls.append("spopt")
    print(f"\nnbhood propose vs spopt max-p (min-pop {MIN_POP:,}, max-pop {MAX_POP:,}; "
          "fresh process each)")
    print(f"{'case':16} {'impl':6} {'units':>6} {'<min':>5} {'>max':>5} {'split':>6} "
          f"{'whole CAs':>10} {'cross nest':>10} {'PP':>5} {'seconds':>8} {'peak MB':>8}")
    for case in QUICK if args.quick else CASES:
        for impl in impls:
            if impl == "spopt" and case.endswith(("wards", "boroughs")):
                continue  # spopt cannot nest: its units for the plain case say the same
            run = fresh(case, impl, args.spopt_timeout if impl == "spopt" else None)
            if run is None:
                print(f"{case:16} {impl:6} did not finish in {args.spopt_timeout:.0f} s")
                continue
            m = evaluate(case, run["labels"])
            print(f"{case:16} {impl:6} {m['units']:6} {m['below_min']:5} {m['above_max']:5} "
                  f"{m['not_contiguous']:6} {m.get('community_whole', '–'):>10} "
                  f"{m.get('crossing_nest', '–'):>10} {m['compactness']:5.2f} "
                  f"{run['seconds']:8.2f} {run['peak_mb']:8.0f}")
    print("split: units whose small areas are not rook-connected; PP: mean Polsby–Popper")
    return 0


if __name__ == "__main__":
    sys.exit(main())
