"""``nbhood inspect PATH``: what is in a file, before anything is changed.

Vector files are described with fiona (layers, declared schema, CRS, bounds); tables with the
project's own reader, which reports the encoding and the coordinate columns it would use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


def inspect(
    path: Annotated[str, typer.Argument(help="File to describe; file.gpkg:layer picks a layer.")],
    json_out: opt.Json = False,
) -> None:
    """Describe a file: layers, schema, CRS, bounds, feature count and geometry types."""
    from nbhood_cli.io.read import check_file, parse_source
    from nbhood_cli.io.tables import TABLE_SUFFIXES

    source = parse_source(path)
    file, sublayer = source.path, source.layer
    check_file(file)
    if file.suffix.lower() in TABLE_SUFFIXES:
        report = describe_table(file, sublayer)
    elif file.suffix.lower() in (".parquet", ".geoparquet"):
        report = describe_parquet(file)
    else:
        report = describe_vector(file, sublayer)
    if json_out:
        from nbhood_cli.render import print_json

        print_json(report)
    else:
        _print(report)


def describe_vector(path: Path, only: str | None) -> dict:
    """Layers with their declared schema (fiona) and the geometry types actually present."""
    import fiona

    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import vector_failure

    dataset = f"zip://{path}" if path.suffix.lower() == ".zip" else path  # zipped shapefiles
    try:
        names = fiona.listlayers(dataset)
        if only is not None and only not in names:
            raise NbhoodError(f"{path}: no layer named {only!r}; layers are: {', '.join(names)}")
        layers = [_describe_fiona_layer(dataset, path, name) for name in names
                  if only in (None, name)]
    except NbhoodError:
        raise
    except Exception as exc:  # fiona raises DriverError and friends
        raise NbhoodError(vector_failure(path, only, exc)) from None
    return {"path": str(path), "kind": "vector", "layers": layers}


def _describe_fiona_layer(dataset, path: Path, name: str) -> dict:
    import fiona

    with fiona.open(dataset, layer=name) as source:
        crs = source.crs.to_string() if source.crs else None
        declared = source.schema.get("geometry")
        spatial = declared not in (None, "None")  # a GeoPackage may hold plain tables too
        bounds = list(source.bounds) if spatial and len(source) else None
        return {
            "name": name,
            "driver": source.driver,
            "features": len(source),
            "crs": crs or None,
            "bounds": bounds,
            "declared_geometry": declared if spatial else None,
            "geometry_types": _geometry_types(path, name) if spatial else {},
            "fields": dict(source.schema["properties"]),
        }


def _geometry_types(path: Path, layer: str) -> dict:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer, columns=[], use_arrow=True)
    return _type_counts(frame.geometry)


def _type_counts(geometry) -> dict:
    counts = geometry.geom_type.fillna("None").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def describe_parquet(path: Path) -> dict:
    import geopandas as gpd

    from nbhood_cli.errors import NbhoodError

    try:
        frame = gpd.read_parquet(path)
    except ValueError as exc:  # geopandas: "Missing geo metadata"; pyarrow: not Parquet at all
        what = "a Parquet table without geometry" if "geo metadata" in str(exc) else \
            "not a readable Parquet file"
        raise NbhoodError(f"{path}: {what}; nbhood reads layers as GeoParquet and tables as CSV "
                          "or XLSX") from None
    return {"path": str(path), "kind": "geoparquet", "layers": [{
        "name": path.stem,
        "driver": "GeoParquet",
        "features": len(frame),
        "crs": frame.crs.to_string() if frame.crs else None,
        "bounds": [float(v) for v in frame.total_bounds] if len(frame) else None,
        "declared_geometry": None,
        "geometry_types": _type_counts(frame.geometry),
        "fields": {c: str(t) for c, t in frame.dtypes.items() if c != frame.geometry.name},
    }]}


def describe_table(path: Path, sheet: str | None) -> dict:
    """Columns, rows, encoding and the coordinates the reader would use."""
    from nbhood_cli.io.read import (
        NoGeometry,
        ReadOptions,
        detect_id_column,
        find_coords,
        find_wkt,
    )
    from nbhood_cli.io.tables import read_table

    table = read_table(path, sheet)
    frame = table.frame
    wkt = find_wkt(frame)
    try:
        coords = f"WKT column {wkt}" if wkt else \
            "{3} columns {0}, {1} ({2})".format(*find_coords(frame, path, ReadOptions()))
    except NoGeometry:
        coords = None
    report = {"path": str(path), "kind": "table", "encoding": table.encoding,
              "rows": len(frame), "id_column": detect_id_column(frame), "coordinates": coords,
              "fields": {c: str(t) for c, t in frame.dtypes.items()}}
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import pandas as pd

        report["sheets"] = pd.ExcelFile(path, engine="openpyxl").sheet_names
    return report


def _print(report: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    from nbhood_cli.render import terminal

    out = terminal()
    out.print(f"[bold]{escape(report['path'])}[/] ({report['kind']})")
    if report["kind"] == "table":
        for key in ("encoding", "rows", "id_column", "coordinates", "sheets"):
            if key in report:
                out.print(f"  {key}: {report[key]}")
        _print_fields(out, report["fields"])
        return
    for layer in report["layers"]:
        grid = Table(show_header=False, box=None, padding=(0, 2))
        for key in ("name", "driver", "features", "crs", "bounds", "declared_geometry"):
            value = layer[key]
            if key == "bounds" and value:
                value = ", ".join(f"{v:.6g}" for v in value)
            grid.add_row(key, str(value))
        grid.add_row("geometry types",
                     ", ".join(f"{k} {v}" for k, v in layer["geometry_types"].items()))
        out.print(grid)
        _print_fields(out, layer["fields"])


def _print_fields(out, fields: dict) -> None:
    from rich.table import Table

    table = Table("field", "type", box=None, padding=(0, 2))
    for name, kind in fields.items():
        table.add_row(name, kind)
    out.print(table)
