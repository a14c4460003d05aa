"""``nbhood population``: how many people live in each target area.

Reads small areas (with counts, or joined from a table), target areas and, by method,
centroids or weight points; writes one row per target and reports the run's totals,
including the conservation check.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


class Method(StrEnum):
    areal = "areal"
    centroid = "centroid"
    dasymetric = "dasymetric"


def population(
    source: Annotated[str, typer.Option(
        "--source", metavar="PATH[:ID]", help="Small areas (LSOA/OA polygons).")],
    targets: Annotated[str, typer.Option(
        "--targets", metavar="PATH[:ID]", help="Areas to estimate for.")],
    out: Annotated[Path, typer.Option("--out", help="Output .csv or .geojson.")],
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    method: Annotated[Method, typer.Option(
        "--method", help="How counts are split.")] = Method.areal,
    centroids: Annotated[str | None, typer.Option(
        "--centroids", metavar="PATH[:ID]",
        help="Population-weighted centroids (centroid method), ids as in --source.")] = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", metavar="PATH[:COLUMN]",
        help="Weight points or polygons (dasymetric); COLUMN weighs each, default 1.")] = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Estimate the population of each target area from small-area counts."""
    from nbhood_cli import console
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import ReadOptions, parse_source, read_layer
    from nbhood_cli.io.write import write_layer, write_table
    from nbhood_cli.mapjob import join_counts
    from nbhood_cli.population import estimate

    if out.suffix.lower() not in (".csv", ".geojson"):
        raise NbhoodError(f"{out}: write .csv or .geojson")
    if out.exists() and not overwrite:
        raise NbhoodError(f"{out}: already exists; pass --overwrite to replace it")
    if method is Method.dasymetric and not weights:
        raise NbhoodError("--method dasymetric needs --weights POINTS[:COLUMN]")
    options = ReadOptions(assume_crs=assume_crs, crs=crs)
    small = read_layer(source, ReadOptions(assume_crs=assume_crs, crs=crs,
                                           counts=() if counts else (count,)))
    frame = join_counts(small, counts, join, count) if counts else small.frame
    area = read_layer(targets, options)
    points = weight_values = None
    if method is Method.centroid and centroids:
        points = _centroids(read_layer(centroids, options), small, frame)
    if method is Method.dasymetric:
        spec = parse_source(weights)
        column = spec.id_column
        path = f"{spec.path}:{spec.layer}" if spec.layer else spec.path
        layer = read_layer(path, ReadOptions(assume_crs=assume_crs, crs=crs,
                                             counts=(column,) if column else ()))
        import shapely

        points = shapely.point_on_surface(layer.frame.geometry.values)
        weight_values = layer.frame[column].to_numpy(float) if column else None
    for layer_read in (small, area):
        console.warn_findings(layer_read)
    result = estimate(frame, frame[count].to_numpy(float), area.frame, method.value,
                      points=points, weights=weight_values)
    table = result.areas
    id_column = area.id_column or "area"
    ids = area.frame[area.id_column] if area.id_column else range(1, len(table) + 1)
    table.insert(0, id_column, list(ids))
    if out.suffix.lower() == ".csv":
        write_table(table, out, overwrite)
    else:
        write_layer(area.frame[[area.frame.geometry.name]].join(table), out, overwrite)
    totals = result.totals
    if not totals["conserved"]:
        console.warn(f"conservation check failed by {totals['conservation_error']:.6g} people")
    if totals["fallback_small_areas"]:
        console.warn(f"{totals['fallback_small_areas']} small area(s) had no weight and were "
                     "split by area")
    if json_out:
        from nbhood_cli.render import print_json

        print_json({"method": method.value, "targets": len(table), "totals": totals})
    else:
        console.info(
            f"{len(table)} areas, method {method.value}: source total "
            f"{totals['source_total']:,.0f}, allocated {totals['allocated']:,.1f}, "
            f"unallocated {totals['unallocated']:,.1f}, counted twice "
            f"{totals['counted_twice']:,.1f} — conservation "
            f"{'holds' if totals['conserved'] else 'FAILED'}; wrote {out}")


def _centroids(layer, small, frame):
    """Centroid points in small-area order, matched by the small areas' id."""
    from nbhood_cli.errors import NbhoodError

    key = small.id_column
    if not key or not layer.id_column:
        raise NbhoodError(f"{layer.path}: name the id columns (PATH:ID) of --source and "
                          "--centroids so each centroid finds its small area")
    by_code = layer.frame.set_index(layer.frame[layer.id_column].astype(str)).geometry
    codes = frame[key].astype(str)
    missing = sorted(set(codes) - set(by_code.index))
    if missing:
        raise NbhoodError(f"{layer.path}: no centroid for {len(missing)} small area(s) "
                          f"({', '.join(missing[:5])}); add them or use point on surface "
                          "by leaving out --centroids")
    return by_code.reindex(codes).to_numpy()
