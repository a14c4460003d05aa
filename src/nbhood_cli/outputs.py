"""Where a command's results go, chosen by ``--out``: one file by extension, or a folder.

- ``x.csv`` / ``x.geojson``: the command's main product only;
- ``x.gpkg``: every product, one layer each (tables as attribute-only layers);
- a path without extension: a folder with ``<product>.geojson`` for each layer and
  ``<product>.csv`` for every product (attributes only), built aside and swapped in.
"""

from __future__ import annotations

from pathlib import Path

from nbhood_cli.errors import NbhoodError

SINGLE = {".csv", ".geojson", ".json"}


def check_out(out: Path, overwrite: bool) -> None:
    """Fail before any work when --out cannot be written."""
    suffix = out.suffix.lower()
    if suffix and suffix not in SINGLE | {".gpkg"}:
        raise NbhoodError(f"{out}: write .csv, .geojson or .gpkg, or give a folder name "
                          "without an extension")
    if out.exists() and not overwrite:
        raise NbhoodError(f"{out}: already exists; pass --overwrite to replace it")


def write_products(out: Path, products: dict, main: str, overwrite: bool) -> list[str]:
    """Write the products; return the paths written, relative to ``out`` for a folder."""
    from nbhood_cli.io.write import (
        atomic_folder,
        atomic_path,
        write_layer,
        write_layers,
        write_table,
    )

    check_out(out, overwrite)
    suffix = out.suffix.lower()
    if suffix in SINGLE:
        _write_one(products[main], out, overwrite, write_layer, write_table)
        return [str(out)]
    if suffix == ".gpkg":
        with atomic_path(out, overwrite) as tmp:
            _write_gpkg(products, tmp)
        return [str(out)]
    written, layers = [], {}
    with atomic_folder(out, overwrite) as build:
        for name, frame in products.items():
            if _is_layer(frame):
                layers[build / f"{name}.geojson"] = frame
                written.append(f"{name}.geojson")
            write_table(_attributes(frame), build / f"{name}.csv")
            written.append(f"{name}.csv")
        write_layers(layers)  # together: the layers share their vertices
    return written


def _write_one(frame, out: Path, overwrite: bool, write_layer, write_table) -> None:
    if out.suffix.lower() == ".csv":
        write_table(_attributes(frame), out, overwrite)
    elif _is_layer(frame):
        write_layer(frame, out, overwrite)
    else:
        raise NbhoodError(f"{out}: this result is a table without geometry; write .csv")


def _write_gpkg(products: dict, path: Path) -> None:
    import pyogrio

    from nbhood_cli.io.write import gdal_config, source_date

    with gdal_config(OGR_CURRENT_DATE=source_date()):
        for name, frame in products.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")


def _is_layer(frame) -> bool:
    import geopandas as gpd

    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame


def _attributes(frame):
    import pandas as pd

    if _is_layer(frame):
        return pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    return frame
