"""tobler's side of the whole-process comparison in `make bench`: the job `nbhood population
--method areal --out x.csv` does, as a user of tobler would write it in one process: read
both layers (pyogrio with Arrow, GeoParquet with pyarrow, as nbhood reads), repair invalid
polygons as nbhood's reader does (``make_valid``, structure method, in the file's CRS),
measure in EPSG:27700, join the counts by code, ``area_interpolate``, write a CSV.

    python tobler_population.py SOURCE SOURCE_ID COUNTS|- COUNT TARGETS TARGET_ID OUT.csv
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
        if str(path).endswith(".parquet"):
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, engine="pyogrio", use_arrow=True)
        bad = ~frame.is_valid  # repaired in the file's own CRS, then reprojected
        if bad.any():
            frame.loc[bad, "geometry"] = shapely.make_valid(
                frame.geometry.values[bad], method="structure", keep_collapsed=False)
        return frame.to_crs(27700) if frame.crs.to_epsg() != 27700 else frame

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
