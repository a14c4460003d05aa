"""`nbhood map` at England scale, end to end in a fresh process: the real 33,755 LSOAs with
Census 2021 population, local authorities dissolved from them, synthetic wards (~7,000), PCN
footprints (~1,300) and community areas (~10,000) from benchmarks/synthetic.py, and 500,000
synthetic assets. Prints the time per stage (nbhood -v) and the peak memory."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench-cache" / "england-map"


def inputs() -> dict:
    """Write the layers once as GeoParquet (the reader's fastest format) and return paths."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from assets_bench import synthetic_assets
    from synthetic import england

    done = CACHE / "assets.parquet"
    paths = {name: CACHE / f"{name}.parquet"
             for name in ("lsoa", "lad", "ward", "pcn", "community", "assets")}
    if done.exists():
        return paths
    CACHE.mkdir(parents=True, exist_ok=True)
    small, wards, community = england(seed=0)
    small.to_parquet(paths["lsoa"])
    small.dissolve("lad24cd", as_index=False)[["lad24cd", "geometry"]].to_parquet(paths["lad"])
    wards.to_parquet(paths["ward"])
    rng = np.random.default_rng(7)
    group = wards.groupby("lad24cd").cumcount() // rng.integers(4, 7)
    wards = wards.assign(pcn_code=wards["lad24cd"] + "-" + group.astype(str))
    wards.dissolve("pcn_code", as_index=False)[["pcn_code", "geometry"]].to_parquet(paths["pcn"])
    community.to_parquet(paths["community"])
    assets = synthetic_assets(small)
    assets.insert(0, "asset_id", [f"a{i}" for i in range(len(assets))])
    assets.to_parquet(paths["assets"])
    return paths


def run(out: Path) -> tuple[float, float, str]:
    """(seconds, peak MB of the child, its stage log)."""
    p = inputs()
    return nbhood("map", "--community", f"{p['community']}:ca_id",
                  "--statutory", f"lad={p['lad']}:lad24cd",
                  "--statutory", f"ward={p['ward']}:ward_id",
                  "--statutory", f"pcn={p['pcn']}:pcn_code",
                  "--population", f"{p['lsoa']}:lsoa21cd", "--count", "population",
                  "--assets", f"{p['assets']}:asset_id", "--out", str(out), "--overwrite")


def nbhood(command: str, *args: str) -> tuple[float, float, str]:
    """``nbhood -v COMMAND ARGS`` in a fresh process: (seconds, its peak MB, its stderr)."""
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nbhood"), "-v", command, *args],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbhood {command} failed: {done.stderr.strip().splitlines()[-1]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak, done.stderr


if __name__ == "__main__":
    seconds, peak, log = run(ROOT / "build" / "bench-out")
    print(log)
    print(f"nbhood map, England scale: {seconds:.1f} s, peak {peak:,.0f} MB")
