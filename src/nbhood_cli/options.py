"""Options shared by several commands, declared once so they read the same everywhere."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs.")]
AssumeCrs = Annotated[str | None, typer.Option(
    "--assume-crs", metavar="CRS",
    help="CRS for files that declare none (e.g. EPSG:27700 or EPSG:4326).")]
WorkingCrs = Annotated[str, typer.Option(
    "--crs", metavar="CRS", help="Projected CRS in which areas and distances are measured.")]


class Engine(StrEnum):
    pyogrio = "pyogrio"
    fiona = "fiona"


EngineOption = Annotated[Engine, typer.Option(
    "--engine", help="Library that reads vector files: pyogrio (fast, Arrow) or fiona.")]
IdColumn = Annotated[str | None, typer.Option(
    "--id", metavar="COLUMN", help="Column naming each feature (default: detected).")]
Counts = Annotated[list[str] | None, typer.Option(
    "--count", metavar="COLUMN", help="Column of counts (e.g. population) to check; repeatable.")]
Coords = Annotated[str | None, typer.Option(
    "--coords", metavar="X,Y",
    help="Coordinate columns of a CSV/XLSX, x first (lon,lat or easting,northing).")]
Wkt = Annotated[str | None, typer.Option(
    "--wkt", metavar="COLUMN", help="Column of a CSV/XLSX holding WKT geometries.")]
CountsTable = Annotated[str | None, typer.Option(
    "--counts", metavar="PATH", help="Table of small-area counts, joined by --join.")]
Join = Annotated[str | None, typer.Option(
    "--join", metavar="COLUMN", help="Small-area code column shared by both files.")]
CountColumn = Annotated[str, typer.Option(
    "--count", metavar="COLUMN", help="Column holding the population.")]


class Method(StrEnum):
    areal = "areal"
    centroid = "centroid"
    dasymetric = "dasymetric"


MethodOption = Annotated[Method, typer.Option(
    "--method", help="How small-area counts are split: areal, centroid or dasymetric.")]
Centroids = Annotated[str | None, typer.Option(
    "--centroids", metavar="PATH[:ID]",
    help="Population-weighted centroids (centroid method), ids as the small areas'.")]
Weights = Annotated[str | None, typer.Option(
    "--weights", metavar="PATH[:COLUMN]",
    help="Weight points or polygons (dasymetric); COLUMN weighs each, default 1.")]
Source = Annotated[str, typer.Option(
    "--source", metavar="PATH[:ID]", help="Small areas (LSOA/OA polygons) with counts.")]
Community = Annotated[str, typer.Option(
    "--community", metavar="PATH[:ID]", help="Community-drawn areas.")]
Statutory = Annotated[list[str], typer.Option(
    "--statutory", metavar="NAME=PATH[:ID]",
    help="A statutory layer, e.g. ward=wards.geojson:wd23cd; repeatable.")]
Attribution = Annotated[list[str] | None, typer.Option(
    "--attribution", metavar="TEXT",
    help="Credit line printed on the maps (the data's licence); repeatable.")]
Out = Annotated[Path | None, typer.Option(
    "--out", metavar="PATH",
    help="Write .csv or .geojson (main result), .gpkg (all), or a folder (all).")]
TableOut = Annotated[Path | None, typer.Option(
    "--out", metavar="PATH",
    help="Write .csv (main result: a table), .gpkg (all), or a folder (all).")]


def parse_coords(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise typer.BadParameter("give two column names, x first: --coords lon,lat",
                                 param_hint="--coords")
    return parts[0], parts[1]


def read_options(id_column=None, counts=None, assume_crs=None, crs="EPSG:27700",
                 engine="pyogrio", coords=None, wkt=None):
    """Build the reader's options from CLI values (imported lazily: it pulls in no heavy libs)."""
    from nbhood_cli.io.read import ReadOptions

    return ReadOptions(id_column=id_column, counts=tuple(counts or ()), assume_crs=assume_crs,
                       crs=crs, engine=Engine(engine).value, coords=parse_coords(coords), wkt=wkt)
