"""`nbhood footprint` at England scale, end to end in a fresh process: the 33,755 synthetic
small areas of benchmarks/synthetic.py with their Census 2021 population, ≈ 6,300 practices
in ≈ 1,300 PCNs and ≈ 1.5 million registration rows from ``nbhood_cli.simulate``, written
as NHS England writes them (gp-reg-pat-prac-lsoa-all.csv). Times ``--method majority``
from reading the CSV to the written footprints and prints the peak memory.

    .venv/bin/python benchmarks/footprint_bench.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench-cache" / "footprint-v1"  # bump when simulate.py changes
PRACTICES = 6_300
SEED = 6


def inputs() -> dict:
    """Write the inputs once (≈ 30 s) and return their paths."""
    import numpy as np
    import pandas as pd
    import shapely

    sys.path.insert(0, str(Path(__file__).parent))
    from synthetic import england

    from nbhood_cli import simulate

    paths = {name: CACHE / name for name in ("lsoa.parquet", "practices.csv",
                                             "registrations.csv")}
    if all(p.exists() for p in paths.values()):
        return paths
    CACHE.mkdir(parents=True, exist_ok=True)
    small = england(seed=0)[0]
    xy = shapely.get_coordinates(shapely.point_on_surface(small.geometry.values))
    population = small["population"].to_numpy(float)
    where, size = simulate.place_practices(xy, population, PRACTICES, SEED)
    network = simulate.networks(where, SEED + 1)
    codes = np.array([f"B{i + 1:05d}" for i in range(PRACTICES)], dtype=object)
    pcn = np.array([f"U{n + 10_000:05d}" for n in network], dtype=object)
    practices = pd.DataFrame({"practice_code": codes,
                              "practice_name": [f"Practice {c}" for c in codes],
                              "pcn_code": pcn, "pcn_name": [f"PCN {c}" for c in pcn],
                              "registered_patients": size,
                              "easting": where[:, 0].round(), "northing": where[:, 1].round()})
    found = simulate.registrations(xy, small.geometry.area.to_numpy(), population, where, size,
                                   SEED + 2)
    rows = pd.DataFrame({
        "PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": "01Jan2026",
        "PRACTICE_CODE": codes[found.practice],
        "PRACTICE_NAME": practices["practice_name"].str.upper().to_numpy()[found.practice],
        "LSOA_CODE": small["lsoa21cd"].to_numpy()[found.area], "SEX": "ALL",
        "NUMBER_OF_PATIENTS": found.patients})
    small.to_parquet(paths["lsoa.parquet"])
    practices.to_csv(paths["practices.csv"], index=False)
    rows.to_csv(paths["registrations.csv"], index=False)
    return paths


def run(out: Path) -> tuple[float, float, str, dict]:
    """(seconds, peak MB of the child, its stderr, input sizes)."""
    import pandas as pd
    from england_map import nbhood

    p = inputs()
    seconds, peak, log = nbhood(
        "footprint", "--registrations", str(p["registrations.csv"]),
        "--practices", str(p["practices.csv"]), "--lsoa", f"{p['lsoa.parquet']}:lsoa21cd",
        "--count", "population", "--method", "majority", "--out", str(out), "--overwrite",
        "--json")
    practices = pd.read_csv(p["practices.csv"])
    sizes = {"practices": len(practices), "pcns": practices["pcn_code"].nunique(),
             "rows": sum(1 for _ in open(p["registrations.csv"], "rb")) - 1}
    return seconds, peak, log, sizes


def main() -> None:
    seconds, peak, log, sizes = run(ROOT / "build" / "bench-footprint")
    lines = [line for line in log.splitlines() if not line.startswith("warning:")]
    print(f"  nbhood footprint --method majority ({sizes['rows']:,} registration rows, "
          f"{sizes['practices']:,} practices in {sizes['pcns']:,} PCNs, 33,755 LSOAs): "
          f"{seconds:.1f} s, peak {peak:,.0f} MB")
    for line in lines:
        print(f"    {line}")


if __name__ == "__main__":
    main()
