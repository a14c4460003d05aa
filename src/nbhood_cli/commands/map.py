"""``nbhood map``: the whole job in one command, from inputs to a folder a council can use.

Inputs come from options or a project file (``--config nbhood.toml``; options override it).
With no inputs at all it runs on the bundled fictional sample town. Exit status: 0 done,
1 a ``--fail-on`` condition was met, 2 bad input or usage.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


class FootprintMethod(StrEnum):
    majority = "majority"
    nearest = "nearest"


def _opt(*names, metavar=None, help=None):
    return typer.Option(*names, metavar=metavar, help=help)


def map_(
    config: Annotated[Path | None, _opt("--config", metavar="TOML",
                                        help="Project file (see nbhood init).")] = None,
    community: Annotated[str | None, _opt("--community", metavar="PATH[:ID]",
                                          help="Community-drawn areas.")] = None,
    statutory: Annotated[list[str] | None, _opt(
        "--statutory", metavar="NAME=PATH[:ID]",
        help="A statutory layer, e.g. ward=wards.geojson:wd23cd; repeatable.")] = None,
    population: Annotated[str | None, _opt("--population", metavar="PATH[:ID]",
                                           help="Small areas (LSOA/OA polygons).")] = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: Annotated[str | None, _opt("--count", metavar="COLUMN",
                                      help="Column holding the population.")] = None,
    method: Annotated[opt.Method | None, _opt("--method", help="Population method.")] = None,
    centroids: opt.Centroids = None,
    weights: opt.Weights = None,
    assets: Annotated[str | None, _opt("--assets", metavar="PATH[:ID]",
                                       help="Asset register.")] = None,
    postcodes: Annotated[str | None, _opt("--postcodes", metavar="PATH",
                                          help="Postcode lookup for assets.")] = None,
    deprivation: Annotated[str | None, _opt("--deprivation", metavar="PATH",
                                            help="IMD-style table by small-area code.")] = None,
    taxonomy: Annotated[str | None, _opt("--taxonomy", metavar="TOML",
                                         help="Your own asset taxonomy.")] = None,
    practices: Annotated[str | None, _opt("--practices", metavar="PATH[:ID]",
                                          help="GP practices with coordinates.")] = None,
    registrations: Annotated[str | None, _opt(
        "--registrations", metavar="PATH",
        help="GP registrations by LSOA: derive the pcn layer (see nbhood footprint).")] = None,
    footprint_method: Annotated[FootprintMethod | None, _opt(
        "--footprint-method",
        help="How the pcn layer is derived [default: majority with --registrations].")
    ] = None,
    min_share: Annotated[float | None, _opt(
        "--min-share", metavar="SHARE",
        help="A unit holds part of an area from this share of its people [default: 0.05].")
    ] = None,
    sliver_area: Annotated[float | None, _opt(
        "--sliver-area", metavar="M2", help="Pieces smaller than this [default: 10000]…")] = None,
    sliver_pop: Annotated[float | None, _opt(
        "--sliver-pop", metavar="PEOPLE",
        help="…and with fewer people are slivers [default: 50].")] = None,
    severity: Annotated[str | None, _opt(
        "--severity", metavar="LOW,MEDIUM,HIGH",
        help="Tension thresholds [default: 0.05,0.2,0.4].")] = None,
    bands: Annotated[str | None, _opt(
        "--bands", metavar="A,B,C,D",
        help="Size band edges in people [default: 10000,30000,50000,250000].")] = None,
    deprived_share: Annotated[float | None, _opt(
        "--deprived-share", metavar="SHARE",
        help="Double disadvantage: the most deprived share of areas [default: 0.2]…")] = None,
    fewest_share: Annotated[float | None, _opt(
        "--fewest-share", metavar="SHARE",
        help="…and the share with fewest assets per 1,000 [default: 0.2].")] = None,
    dedupe_distance: Annotated[float | None, _opt(
        "--dedupe-distance", metavar="M",
        help="Merge same-named assets this close; 0 = off [default: 25].")] = None,
    out: Annotated[str | None, _opt("--out", metavar="DIR",
                                    help="Output folder [default: nbhood-out].")] = None,
    overwrite: opt.Overwrite = False,
    suppress_below: Annotated[int | None, _opt(
        "--suppress-below", metavar="N",
        help="Publish people counts below N as <N (disclosure control).")] = None,
    attribution: Annotated[list[str] | None, _opt(
        "--attribution", metavar="TEXT", help="Credit line for maps and report; repeatable.")
    ] = None,
    title: Annotated[str | None, _opt("--title", help="Title of the report and maps.")] = None,
    fail_on: Annotated[list[str] | None, _opt(
        "--fail-on", metavar="CONDITION",
        help="Exit 1 when met: tension=LEVEL, unallocated=SHARE, validation-warnings, "
             "contested, double-disadvantage; repeatable.")] = None,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    engine: opt.EngineOption = opt.Engine.pyogrio,
    json_out: opt.Json = False,
) -> None:
    """Run the whole job: population, reconciliation, tensions and assets, written as
    layers, tables, maps, a report and summary.json."""
    from nbhood_cli import console
    from nbhood_cli import project as proj
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.failon import parse
    from nbhood_cli.io.read import ReadOptions
    from nbhood_cli.mapjob import run, sample_project

    conditions = [parse(c) for c in fail_on or []]
    cli = dict(locals())
    cli["statutory"] = _statutory(statutory)
    cli["method"] = method.value if method else None
    cli["footprint_method"] = footprint_method.value if footprint_method else None
    cli["attribution"] = attribution or []
    cli["config"] = str(config) if config else None
    settings = proj.load(config) if config else {}
    project = proj.build(settings, cli)
    if project.empty() and config:
        raise NbhoodError(f"{config}: names no inputs; set community, statutory, population "
                          "or assets under [inputs] (see nbhood init)")
    if project.empty():
        project = sample_project(project)
        console.info("no inputs given: running on the fictional sample town "
                     "(data/samples/); see docs/getting-started.md")
    destination = Path(project.out)
    options = ReadOptions(assume_crs=assume_crs, crs=crs, engine=opt.Engine(engine).value)
    summary = run(project, destination, overwrite, options, _stages(), conditions)
    failed = summary["fail_on"]["met"]
    if json_out:
        from nbhood_cli.render import print_json

        print_json(summary)
    console.info(f"wrote {destination}/ ({len(summary['outputs'])} files)")
    for message in failed:
        console.reason(f"--fail-on {message}")
    if failed:
        raise typer.Exit(1)


def _statutory(specs: list[str] | None) -> dict:
    from nbhood_cli.inputs import statutory_specs

    return dict(statutory_specs(specs or []))


def _stages():
    """Rich progress on a terminal; a plain line per stage with its time otherwise (-v)."""
    import contextlib
    import sys
    import time

    from nbhood_cli import console

    @contextlib.contextmanager
    def stage(name: str):
        start = time.perf_counter()
        if sys.stderr.isatty() and console.level() >= console.NORMAL:
            from rich.console import Console

            with Console(stderr=True).status(f"{name}…"):
                yield
        else:
            yield
        console.detail(f"{name}: {time.perf_counter() - start:.1f} s")

    return stage


def init(
    path: Annotated[Path, typer.Argument(help="Project file to write.")] = Path("nbhood.toml"),
    overwrite: opt.Overwrite = False,
) -> None:
    """Write a commented example project file for nbhood map --config."""
    from nbhood_cli import console
    from nbhood_cli.io.write import write_text
    from nbhood_cli.project import EXAMPLE

    write_text(EXAMPLE, path, overwrite)
    console.info(f"wrote {path}: edit the paths, then run nbhood map --config {path}")
