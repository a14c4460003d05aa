"""``nbhood map``: from input layers to an output folder a council can use.

This first version reads every input through the shared reader, joins small-area counts,
and writes the normalised layers plus ``summary.json``; the analysis stages plug in here as
they are built. With no inputs it runs on the bundled fictional sample town.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


def map_(
    community: Annotated[str | None, typer.Option(
        "--community", metavar="PATH[:ID]", help="Community-drawn areas.")] = None,
    statutory: Annotated[list[str] | None, typer.Option(
        "--statutory", metavar="NAME=PATH[:ID]",
        help="A statutory layer, e.g. ward=wards.geojson:wd23cd; repeatable.")] = None,
    population: Annotated[str | None, typer.Option(
        "--population", metavar="PATH[:ID]", help="Small areas (LSOA/OA polygons).")] = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    assets: Annotated[str | None, typer.Option(
        "--assets", metavar="PATH[:ID]", help="Asset register (points or polygons).")] = None,
    practices: Annotated[str | None, typer.Option(
        "--practices", metavar="PATH[:ID]", help="GP practices with coordinates.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("nbhood-out"),
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    engine: opt.EngineOption = opt.Engine.pyogrio,
    json_out: opt.Json = False,
) -> None:
    """Run the whole job: read and check every input, write layers and a summary."""
    from nbhood_cli import console
    from nbhood_cli.mapjob import MapInputs, run, sample_inputs

    inputs = MapInputs(community=community, statutory=list(statutory or []),
                       population=population, counts=counts, join=join, count=count,
                       assets=assets, practices=practices)
    if inputs.empty():
        inputs = sample_inputs()
        console.info(f"no inputs given: running on the fictional sample town in "
                     f"{inputs.base}")
    summary = run(inputs, out=out, overwrite=overwrite, assume_crs=assume_crs, crs=crs,
                  engine=opt.Engine(engine).value)
    if json_out:
        from nbhood_cli.render import print_json

        print_json(summary)
    console.info(f"wrote {out}/ ({len(summary['outputs'])} files)")
