"""tobler's side of the whole-process comparison in `make bench`: the job `nbhood population
--method areal --out x.csv` does, as a user of tobler would write it in one process — read
both layers (pyogrio with Arrow, as nbhood reads), repair invalid polygons (nbhood's reader
does), measure in EPSG:27700, join the counts by code, ``area_interpolate``, write a CSV.

    python tobler_population.py SOURCE SOURCE_ID COUNTS COUNT TARGETS TARGET_ID OUT.csv
"""

from __future__ import annotations

import sys
import warnings


def main(source, source_id, counts, count, targets, target_id, out) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely
    from tobler.area_weighted import area_interpolate

    def read(path):
        frame = gpd.read_file(path, engine="pyogrio", use_arrow=True)
        frame = frame.to_crs(27700) if frame.crs.to_epsg() != 27700 else frame
        bad = ~frame.is_valid
        if bad.any():
            frame.loc[bad, "geometry"] = shapely.make_valid(frame.geometry.values[bad])
        return frame

    small = read(source)
    table = pd.read_csv(counts) if str(counts).endswith(".csv") else None
    if table is not None:
        small = small.merge(table[[source_id, count]], on=source_id, how="left")
    zones = read(targets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = area_interpolate(small[[count, "geometry"]], zones,
                                  extensive_variables=[count], allocate_total=False)
    pd.DataFrame({"area_id": zones[target_id], "population": result[count]}).to_csv(
        out, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
