"""`make bench`: speed as ratios against a peer measured in the same run, never absolute.

Reading: nbhood's reader with pyogrio+Arrow (the default) against the same reader with fiona,
on real layers from ../shared/data. Skipped, saying why, when ../shared is absent.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = ["trafford/oa.geojson", "leeds/assets.geojson", "sheffield/community_areas.geojson"]


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_reading() -> list[tuple[str, float, float]]:
    from nbhood_cli.io.read import ReadOptions, load_layer

    rows = []
    for name in FILES:
        path = SHARED / name
        fast = best_of(lambda p=path: load_layer(p, ReadOptions(engine="pyogrio")))
        peer = best_of(lambda p=path: load_layer(p, ReadOptions(engine="fiona")))
        rows.append((name, fast, peer))
    return rows


def main() -> int:
    if not SHARED.exists():
        print(f"skipped: {SHARED} is absent (../shared/data must sit beside the checkout)")
        return 0
    print(f"{'reading (best of 5)':40} {'pyogrio s':>10} {'fiona s':>10} {'speed-up':>9}")
    ratios = []
    for name, fast, peer in bench_reading():
        ratios.append(peer / fast)
        print(f"{name:40} {fast:10.3f} {peer:10.3f} {peer / fast:8.1f}x")
    print(f"median speed-up of pyogrio+Arrow over fiona: {statistics.median(ratios):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
