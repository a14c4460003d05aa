"""`nbhood map` at England scale, end to end in a fresh process: the real 33,755 LSOAs with
Census 2021 population, local authorities dissolved from them, synthetic wards (~7,000), PCN
footprints (~1,300) and community areas (~10,000) from benchmarks/synthetic.py, and 500,000
synthetic assets. Prints the time per stage (nbhood -v) and the peak memory: of the largest
process, and of all of them together (nbhood map draws the maps in a forked child; summed as
PSS, so pages the two share count once). ``--writer``: the GeoJSON writer against the
feature-by-feature one it replaced, on the same layers."""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
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
    """(seconds, peak MB of the largest process, its stage log and the peak of all)."""
    p = inputs()
    return nbhood("map", "--community", f"{p['community']}:ca_id",
                  "--statutory", f"lad={p['lad']}:lad24cd",
                  "--statutory", f"ward={p['ward']}:ward_id",
                  "--statutory", f"pcn={p['pcn']}:pcn_code",
                  "--population", f"{p['lsoa']}:lsoa21cd", "--count", "population",
                  "--assets", f"{p['assets']}:asset_id", "--out", str(out), "--overwrite")


def nbhood(command: str, *args: str) -> tuple[float, float, str]:
    """``nbhood -v COMMAND ARGS`` in a fresh process: (seconds, peak MB of its largest
    process, its stderr with the peak of all its processes together appended)."""
    start = time.perf_counter()
    child = subprocess.Popen([str(ROOT / ".venv" / "bin" / "nbhood"), "-v", command, *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    together = []
    watcher = threading.Thread(target=_watch, args=(child, together), daemon=True)
    watcher.start()
    _, stderr = child.communicate()
    seconds = time.perf_counter() - start
    watcher.join()
    if child.returncode != 0:
        raise SystemExit(f"nbhood {command} failed: {stderr.strip().splitlines()[-1]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if together:
        stderr += f"peak memory of all its processes together (PSS): {max(together):,.0f} MB\n"
    return seconds, peak, stderr


def _watch(child, samples: list) -> None:
    """Sum the PSS of the process and its descendants every half second (Linux)."""
    while child.poll() is None:
        total = sum(_pss(pid) for pid in _tree(child.pid))
        if total:
            samples.append(total / 1024)
        time.sleep(0.5)


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def _pss(pid: int) -> int:
    """kB of memory the process uses, its shared pages divided among their sharers."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def writer() -> None:
    """The GeoJSON writer against the feature-by-feature writer it replaced, in this process
    on the same England layers (the inputs above): the same bytes, and the time of each."""
    import geopandas as gpd

    from nbhood_cli.io.write import geojson_texts

    frames = [gpd.read_parquet(path) for path in inputs().values()]
    start = time.perf_counter()
    new = list(geojson_texts(frames))
    middle = time.perf_counter()
    old = [feature_by_feature(frame) for frame in frames]
    end = time.perf_counter()
    if new != old:
        raise SystemExit("the writers differ")
    size = sum(map(len, new)) / 1e6
    print(f"GeoJSON of the six input layers ({size:,.0f} MB, the same bytes): "
          f"{middle - start:.1f} s, feature by feature {end - middle:.1f} s "
          f"({(end - middle) / (middle - start):.1f}×)")


def feature_by_feature(frame) -> str:
    """The writer before the array writer (shapely ``mapping`` + ``json.dumps``)."""
    import json

    import numpy as np
    import shapely

    from nbhood_cli.io.write import json_value

    wgs = frame.to_crs("EPSG:4326")
    geoms = shapely.orient_polygons(wgs.geometry.values, exterior_cw=False)

    def rounded(xy):
        out = np.round(xy, 6)
        out[out == 0] = 0.0
        return out

    geoms = shapely.transform(geoms, rounded)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    rows = wgs[columns].itertuples(index=False, name=None)
    lines = [json.dumps({"type": "Feature",
                         "properties": {c: json_value(v) for c, v in zip(columns, row,
                                                                         strict=True)},
                         "geometry": None if g is None else shapely.geometry.mapping(g)},
                        ensure_ascii=False, allow_nan=False, separators=(",", ":"))
             for row, g in zip(rows, geoms, strict=True)]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--writer"]:
        writer()
    else:
        from run import parallel_capacity

        capacity = parallel_capacity()
        seconds, peak, log = run(ROOT / "build" / "bench-out")
        print(log)
        print(f"nbhood map, England scale: {seconds:.1f} s, peak {peak:,.0f} MB (largest "
              f"process); two threads did {capacity:.1f}x the work of one just before")
