"""Method fidelity on real data: nbhood's population methods against ONS's own ward figures.

Prints the tables in docs/methods.md ("Method fidelity on real data"); tests/test_fidelity.py
keeps the numbers honest. Run: ``.venv/bin/python benchmarks/fidelity.py``. Needs
../shared/data (Trafford) and scipy (installed with tobler, a test dependency).
"""

from __future__ import annotations

import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAFFORD = SHARED / "trafford"


def small_areas(layer: str, table: str, key: str, count: str):
    """A small-area layer (EPSG:27700) and its counts, aligned by code."""
    from nbhood_cli.io import load_table, read_layer

    frame = read_layer(TRAFFORD / layer).frame
    counts = load_table(TRAFFORD / table).frame.set_index(key)[count]
    return frame, frame[key].map(counts).to_numpy(float)


def census_comparisons():
    """Census 2021 (21 March 2021): LSOA and OA counts → December 2022 wards."""
    import numpy as np
    import shapely

    from nbhood_cli.population import estimate

    lsoa, lsoa_counts = small_areas("lsoa.geojson", "lsoa_population_census2021.csv",
                                    "lsoa21cd", "usual_residents")
    oa, oa_counts = small_areas("oa.geojson", "oa_population_census2021.csv", "oa21cd",
                                "usual_residents")
    wards = small_areas("wards_2022.geojson", "ward_population_census2021.csv", "wd22cd",
                        "usual_residents")
    oa_points = shapely.point_on_surface(oa.geometry.values)
    runs = {
        "areal": estimate(lsoa, lsoa_counts, wards[0], "areal"),
        "centroid": estimate(lsoa, lsoa_counts, wards[0], "centroid"),
        "dasymetric": estimate(lsoa, lsoa_counts, wards[0], "dasymetric", points=oa_points,
                               weights=oa_counts),
        "areal from OAs": estimate(oa, oa_counts, wards[0], "areal"),
    }
    assert np.isfinite(lsoa_counts).all() and np.isfinite(oa_counts).all()
    return wards, "wd22cd", "wd22nm", runs, (lsoa, lsoa_counts)


def mid2024_comparisons():
    """Mid-2024 estimates: LSOA → May 2023 wards (no 2024 OA counts exist)."""
    from nbhood_cli.population import estimate

    lsoa, counts = small_areas("lsoa.geojson", "lsoa_population.csv", "lsoa21cd", "population")
    wards = small_areas("wards.geojson", "ward_population.csv", "wd23cd", "population")
    runs = {method: estimate(lsoa, counts, wards[0], method)
            for method in ("areal", "centroid")}
    return wards, "wd23cd", "wd23nm", runs, (lsoa, counts)


def per_ward(wards, key, name, runs):
    """One row per ward: ONS figure, each method's estimate and % error, areal split share."""
    import pandas as pd

    frame, ons = wards
    table = pd.DataFrame({"ward": frame[name].to_numpy(), "ons": ons}, index=frame[key])
    for method, est in runs.items():
        got = est.areas["population"].to_numpy()
        table[method] = got
        table[f"{method} %"] = 100 * (got - ons) / ons
    table["split share"] = runs["areal"].areas["split_source_share"].to_numpy()
    return table


def summary(table, methods):
    return {m: (table[f"{m} %"].abs().median(), table[f"{m} %"].abs().max()) for m in methods}


def spearman(x, y):
    from scipy.stats import spearmanr

    result = spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def material_split_share(lsoa, counts, wards, tolerance):
    """Side analysis, not computed by nbhood: split_source_share counting an LSOA as split
    only when more than ``tolerance`` of its area lies outside its main ward."""
    import numpy as np

    from nbhood_cli.population import shares

    table = shares("areal", lsoa, wards)
    main = table.groupby("source")["share"].max()
    split = table["source"].isin(main.index[main < 1 - tolerance]).to_numpy()
    people = counts[table["source"]] * table["share"].to_numpy()
    population = np.bincount(table["target"], weights=people, minlength=len(wards))
    share = np.bincount(table["target"], weights=people * split,
                        minlength=len(wards)) / population
    return share, int((main < 1 - tolerance).sum())


def markdown(table, methods) -> str:
    head = ["ward", "ONS"] + [c for m in methods for c in (m, "%")] + ["areal split share"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for _, row in table.sort_values("ward").iterrows():
        cells = [row["ward"], f"{row['ons']:,.0f}"]
        for m in methods:
            error = f"{row[m + ' %']:+.1f}"
            cells += [f"{row[m]:,.0f}", "0.0" if error in ("+0.0", "-0.0") else error]
        cells.append(f"{row['split share']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    if not TRAFFORD.exists():
        print(f"skipped: {TRAFFORD} is absent", file=sys.stderr)
        return 0
    results = []
    for label, (wards, key, name, runs, small) in [
            ("Census 2021 → 2022 wards", census_comparisons()),
            ("mid-2024 → 2023 wards", mid2024_comparisons())]:
        table = per_ward(wards, key, name, runs)
        results.append((label, table, list(runs), runs, (*small, wards[0])))
    print("| comparison | method | median abs. % error | max abs. % error |")
    print("|---|---|---:|---:|")
    for label, table, methods, *_ in results:
        for method, (median, worst) in summary(table, methods).items():
            print(f"| {label} | {method} | {median:.2f} | {worst:.2f} |")
    for label, table, methods, runs, (lsoa, counts, wards) in results:
        error = table["areal %"].abs()
        rho, p = spearman(table["split share"], error)
        print(f"\n## {label}: Spearman(split share, |areal % error|) = {rho:.3f} (p = {p:.3f})")
        print(f"  wards with split share 1: {(table['split share'] > 1 - 1e-9).sum()}")
        for tolerance in (1e-9, 0.01, 0.05, 0.10):
            share, n_split = material_split_share(lsoa, counts, wards, tolerance)
            rho, p = spearman(share, error)
            print(f"  tolerance {tolerance:g}: {n_split} LSOAs split, Spearman {rho:.3f} "
                  f"(p = {p:.4f})")
        for method, est in runs.items():
            t = est.totals
            print(f"  {method}: source {t['source_total']:,.1f} allocated {t['allocated']:,.1f} "
                  f"unallocated {t['unallocated']:,.1f} twice {t['counted_twice']:,.1f} "
                  f"fallback {t['fallback_small_areas']} conserved {t['conserved']}")
        print(f"  ONS ward total {table['ons'].sum():,.0f}")
        for m in methods[1:]:
            better = (table[f"{m} %"].abs() < table["areal %"].abs()).sum()
            print(f"  {m} closer than areal in {better} of {len(table)} wards")
        print()
        print(markdown(table, methods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
