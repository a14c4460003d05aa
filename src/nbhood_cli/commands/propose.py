"""``nbhood propose``: candidate neighbourhood units built from small areas, within population
bounds, keeping community areas together and nesting in a statutory layer — a map to start
the conversation from instead of a blank page.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


class Adjacency(StrEnum):
    rook = "rook"
    queen = "queen"


def propose(
    source: opt.Source,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")],
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    community: Annotated[str | None, typer.Option(
        "--community", metavar="PATH[:ID]",
        help="Community-drawn areas to keep together.")] = None,
    nest: Annotated[str | None, typer.Option(
        "--nest", metavar="NAME=PATH[:ID]",
        help="Statutory layer every unit must lie inside, e.g. "
             "pcn=footprints.geojson:pcn_code.")
    ] = None,
    max_pop: Annotated[int, typer.Option(
        "--max-pop", min=1, metavar="PEOPLE", help="Most people in a unit.")] = 10_000,
    min_pop: Annotated[int, typer.Option(
        "--min-pop", min=0, metavar="PEOPLE", help="Fewest people in a unit.")] = 3_000,
    mostly: Annotated[float, typer.Option(
        "--mostly", min=0.0, max=1.0, metavar="SHARE",
        help="A small area belongs to a community area holding more than this share of its "
             "area.")] = 0.5,
    adjacency: Annotated[Adjacency, typer.Option(
        "--adjacency", help="Neighbours share an edge (rook) or also a corner (queen).")
    ] = Adjacency.rook,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", min=0,
        help="Seed of the one random choice (the angle of the cuts): same seed, same units.")
    ] = 0,
    maps: Annotated[bool, typer.Option("--map/--no-map", help="Draw map.png.")] = True,
    attribution: opt.Attribution = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Propose neighbourhood units: contiguous groups of small areas within --min-pop and
    --max-pop that keep community areas whole where the bounds allow and lie inside one unit
    of the --nest layer."""
    from nbhood_cli import inputs
    from nbhood_cli.io.read import ReadOptions
    from nbhood_cli.propose import Settings
    from nbhood_cli.propose import propose as run

    _check(out, overwrite, min_pop, max_pop)
    nest_spec = inputs.parse_statutory(nest, "--nest") if nest else None
    options = ReadOptions(assume_crs=assume_crs, crs=crs)
    small = inputs.small_areas(source, counts, join, count, options)
    key = small.layer.id_column or join
    areas = inputs.areas(community, "community", options) if community else None
    parents = inputs.areas(nest_spec[1], nest_spec[0], options, "--nest") if nest_spec else None
    _check_small_areas(small, key)
    settings = Settings(min_pop, max_pop, mostly, adjacency.value, seed)
    result = run(small.frame, small.counts, small.frame[key].tolist(), settings, areas, parents)
    _check_nested(result, parents)
    credits = [*(attribution or []), _credits(source, community, nest_spec)]
    written = _write(out, overwrite, result, maps, "\n".join(credits))
    if json_out:
        from nbhood_cli.render import print_json

        print_json({**result.summary, "outputs": written})
        return
    _print(result, out)


def _check(out: Path, overwrite: bool, min_pop: int, max_pop: int) -> None:
    """Refuse impossible options before any file is read."""
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.write import check_folder

    if min_pop > max_pop:
        raise NbhoodError(f"--min-pop {min_pop} is above --max-pop {max_pop}; "
                          "lower one or raise the other")
    check_folder(out, overwrite)


def _check_small_areas(small, key) -> None:
    """The small areas need codes: units are named by them."""
    from nbhood_cli.errors import NbhoodError

    if not key:
        raise NbhoodError(f"{small.layer.path}: name the small areas' code column with "
                          "--source PATH:ID")


def _check_nested(result, parents) -> None:
    """Small areas in no nest unit are proposed apart, said; none in any is a wrong layer."""
    from nbhood_cli import console
    from nbhood_cli.errors import NbhoodError

    outside = result.summary.get("nest", {}).get("small_areas_outside", 0)
    if outside and outside == result.summary["small_areas"]:
        raise NbhoodError(f"{parents.layer.path}: no small area lies in a unit of --nest "
                          f"{parents.name}; check it covers the same place as --source (and "
                          "its CRS)")
    if outside:
        console.warn(f"{outside} small area(s) lie in no unit of --nest {parents.name}; "
                     "they are proposed apart, with no parent")


def _credits(source: str, community: str | None, nest_spec) -> str:
    from nbhood_cli.io.read import parse_source

    parts = [f"Small areas: {parse_source(source).path.name}"]
    if community:
        parts.append(f"community areas: {parse_source(community).path.name}")
    if nest_spec:
        parts.append(f"{nest_spec[0]}: {parse_source(nest_spec[1]).path.name}")
    return "; ".join(parts)


def _write(out: Path, overwrite: bool, result, maps: bool, attribution: str) -> list[str]:
    """proposals.geojson and .csv, small_areas.csv, community_areas.csv, map.png and
    summary.json, built aside and swapped in whole."""
    from nbhood_cli.io.write import atomic_folder, write_layer, write_table, write_text
    from nbhood_cli.render import json_text

    units = result.units
    tables = {"proposals.csv": units.drop(columns=[units.geometry.name]),
              "small_areas.csv": result.small_areas}
    if result.community is not None:
        tables["community_areas.csv"] = result.community
    written = ["proposals.geojson", *tables]
    with atomic_folder(out, overwrite) as build:
        write_layer(units, build / "proposals.geojson")
        for name, frame in tables.items():
            write_table(frame, build / name)
        if maps:
            from nbhood_cli import maps as draw

            draw.static_map(units, None, build / "map.png", title="Proposed neighbourhood units",
                            attribution=attribution, value="population", label="unit_id")
            written.append("map.png")
        written.append("summary.json")
        write_text(json_text(result.summary), build / "summary.json")
    return written


def _print(result, out: Path) -> None:
    from nbhood_cli import console
    from nbhood_cli.render import print_frame

    shown = ["unit_id", "population", "n_small_areas", "community_ids", "parent",
             "compactness", "violation"]
    print_frame(result.units[shown], title="Proposed units")
    s = result.summary
    v = s["violations"]
    console.info(f"{s['units']} units from {s['small_areas']} small areas "
                 f"({s['population']:,.0f} people); outside the bounds: {v['below_min']} below "
                 f"--min-pop, {v['above_max']} above --max-pop; mean compactness "
                 f"{s['compactness']['mean']:.2f}")
    if "community_areas" in s:
        c = s["community_areas"]
        console.info(f"community areas: {c['in_one_unit']} of {c['with_small_areas']} in one "
                     f"unit, {c['split']} split, {c['merged']} sharing a unit with another, "
                     f"{c['without_small_areas']} hold no small area; see community_areas.csv")
    console.info(f"wrote {out}/")
