"""``nbhood population``: how many people live in each target area.

Reads small areas (with counts, or joined from a table), target areas and, by method,
centroids or weight points; writes one row per target and reports the run's totals,
including the conservation check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


def population(
    source: opt.Source,
    targets: Annotated[str, typer.Option(
        "--targets", metavar="PATH[:ID]", help="Areas to estimate for.")],
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="PATH", help="Write .csv, .geojson, .gpkg, or a folder.")] = None,
    id_column: opt.IdColumn = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    method: opt.MethodOption = opt.Method.areal,
    centroids: opt.Centroids = None,
    weights: opt.Weights = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Estimate the population of each target area from small-area counts."""
    import dataclasses

    from nbhood_cli import console, inputs
    from nbhood_cli.io.read import ReadOptions
    from nbhood_cli.outputs import check_out, write_products
    from nbhood_cli.population import estimate

    if out is not None:
        check_out(out, overwrite)
    inputs.check_method(method.value, weights, centroids)
    inputs.check_join(join, {"--counts": counts})
    options = ReadOptions(assume_crs=assume_crs, crs=crs)
    small = inputs.small_areas(source, counts, join, count, options)
    area = inputs.read_polygons(targets, dataclasses.replace(options, id_column=id_column),
                                "--targets")
    extra = inputs.method_inputs(method.value, small, centroids, weights, options)
    result = estimate(small.frame, small.counts, area.frame, method.value,
                      points=extra.points, weights=extra.weights)
    table = labelled(result.areas, area)
    totals = result.totals
    inputs.warn_apart(totals, area.path)
    if not totals["conserved"]:
        console.warn(f"conservation check failed by {totals['conservation_error']:.6g} people")
    if totals["fallback_small_areas"]:
        console.warn(f"{totals['fallback_small_areas']} small area(s) had no weight and were "
                     "split by area")
    written = []
    if out is not None:
        layer = area.frame[[area.frame.geometry.name]].join(table)
        written = write_products(out, {"population": layer}, "population", overwrite)
    if json_out:
        from nbhood_cli.render import print_json

        print_json({"method": method.value, "areas": len(table), "totals": totals,
                    "outputs": written})
        return
    from nbhood_cli.render import print_frame

    print_frame(table, title=f"Population by {method.value} interpolation")
    console.info(
        f"{len(table)} areas: source total {totals['source_total']:,.0f}, allocated "
        f"{totals['allocated']:,.1f}, unallocated {totals['unallocated']:,.1f}, counted twice "
        f"{totals['counted_twice']:,.1f} — conservation "
        f"{'holds' if totals['conserved'] else 'FAILED'}"
        + (f"; wrote {out}" if out else ""))


def labelled(frame, layer):
    """Put ``area_id`` (and the target's name when it has one) in front of the figures."""
    from nbhood_cli.io.read import detect_name_column

    frame = frame.copy()
    name = detect_name_column(layer.frame)
    if name:
        frame.insert(0, name, layer.frame[name].to_numpy())
    ids = layer.frame[layer.id_column] if layer.id_column else range(1, len(frame) + 1)
    frame.insert(0, "area_id", list(ids))
    return frame
