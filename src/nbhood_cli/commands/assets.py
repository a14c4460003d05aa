"""``nbhood assets``: which areas have the places that keep people well, per head and within
reach — and which are doubly disadvantaged.

Reads an asset register (points or polygons; lat/lon, easting/northing or postcodes), maps its
categories through the taxonomy, merges duplicates, and writes per-area figures and maps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nbhood_cli import options as opt


def assets(
    register: Annotated[str, typer.Argument(metavar="ASSETS", help="Asset register.")],
    areas: Annotated[str, typer.Option("--areas", metavar="PATH[:ID]",
                                       help="Areas to report on.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")],
    source: Annotated[str | None, typer.Option(
        "--source", metavar="PATH[:ID]",
        help="Small areas with counts: enables per 1,000, access and deprivation.")] = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    method: opt.MethodOption = opt.Method.areal,
    centroids: opt.Centroids = None,
    deprivation: Annotated[str | None, typer.Option(
        "--deprivation", metavar="PATH",
        help="IMD-style table by small-area code (joined by --join).")] = None,
    score: Annotated[str | None, typer.Option(
        "--score", metavar="COLUMN", help="Deprivation score column (default: detected).")] = None,
    decile: Annotated[str | None, typer.Option(
        "--decile", metavar="COLUMN", help="Deprivation decile column, 1 = most deprived.")] = None,
    postcodes: Annotated[str | None, typer.Option(
        "--postcodes", metavar="PATH",
        help="Postcode lookup (pcds + lat/long or easting/northing) for rows without "
             "coordinates.")] = None,
    coords: opt.Coords = None,
    wkt: opt.Wkt = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="TOML",
        help="Your own taxonomy (default: the shipped one).")] = None,
    dedupe_distance: Annotated[float, typer.Option(
        "--dedupe-distance", min=0.0, metavar="M",
        help="Merge assets with the same name this close (0 turns it off).")] = 25.0,
    deprived_share: Annotated[float, typer.Option(
        "--deprived-share", min=0.0, max=1.0, metavar="SHARE",
        help="Double disadvantage: the most deprived share of areas…")] = 0.2,
    fewest_share: Annotated[float, typer.Option(
        "--fewest-share", min=0.0, max=1.0, metavar="SHARE",
        help="…and the share with fewest assets per 1,000.")] = 0.2,
    maps: Annotated[bool, typer.Option("--maps/--no-maps",
                                       help="Draw asset_map.png and asset_map.html.")] = True,
    attribution: opt.Attribution = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Map community assets against areas: counts per category and per 1,000, categories with
    nothing, access distances, deprivation and double disadvantage."""
    import dataclasses

    from nbhood_cli import assetjob, console, inputs
    from nbhood_cli import taxonomy as tax
    from nbhood_cli.assets import AssetThresholds
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import ReadOptions, read_postcodes
    from nbhood_cli.io.write import atomic_folder, check_folder, write_layer, write_table

    check_folder(out, overwrite)
    inputs.check_method(method.value, None, centroids)
    if deprivation and not source:
        raise NbhoodError("--deprivation needs --source: deprivation is weighted by the "
                          "people of each small area")
    inputs.check_shares(deprivation, deprived_share, fewest_share)
    if (score or decile) and not deprivation:
        raise NbhoodError(f"{'--score' if score else '--decile'} names a column of "
                          "--deprivation; add --deprivation or leave it out")
    scheme = tax.load(taxonomy)
    options = ReadOptions(assume_crs=assume_crs, crs=crs)
    lookup = read_postcodes(postcodes) if postcodes else None
    register_layer = inputs.read(register, dataclasses.replace(
        options, postcodes=lookup, coords=opt.parse_coords(coords), wkt=wkt))
    area = inputs.areas(areas, "area", options, "--areas")
    people = score_values = decile_values = None
    if source:
        small = inputs.small_areas(source, counts, join, count, options)
        people = inputs.people(small, inputs.method_inputs(method.value, small, centroids,
                                                           None, options))
        if deprivation:
            score_values, decile_values = inputs.deprivation(
                deprivation, small, join, score, decile)
    result = assetjob.run(register_layer, area, scheme, dedupe_distance, people, score_values,
                          decile_values, AssetThresholds(deprived_share, fewest_share))
    table, mapped, merges, unmapped = result.table, result.mapped, result.merges, result.unmapped
    with atomic_folder(out, overwrite) as build:
        write_layer(result.located, build / "assets.geojson")
        write_table(table, build / "assets_by_area.csv")
        write_table(merges, build / "duplicates.csv")
        write_table(unmapped.rename_axis("source_term").reset_index(name="assets"),
                    build / "unmapped.csv")
        if maps:
            credits = [*(attribution or []),
                       f"Assets: {register_layer.path.name}; areas: {area_path(areas).name}"]
            _draw(build, area, table, mapped, scheme, "\n".join(credits))
    summary = _summary(table, scheme, mapped, merges, unmapped)
    if json_out:
        from nbhood_cli.render import print_json

        print_json(summary)
        return
    from nbhood_cli.render import print_frame

    shown = ["area_id", "name", "population", "assets_total", "assets_per_1000",
             "imd_score", "double_disadvantage", "categories_missing"]
    print_frame(table[[c for c in shown if c in table]], title="Assets by area")
    console.info(f"{summary['assets']} assets in {len(scheme.categories)} categories; "
                 f"{summary['unmapped']} unmapped; {summary['duplicates_merged']} duplicates "
                 f"merged; wrote {out}/")


def area_path(spec: str) -> Path:
    from nbhood_cli.io.read import parse_source

    return parse_source(spec).path


def _draw(build, area, table, mapped, scheme, attribution: str) -> None:
    """Both maps, with categories under their taxonomy labels ("Health & care")."""
    from nbhood_cli import console, maps

    frame = area.frame[[area.frame.geometry.name]].join(table)
    mapped = mapped.assign(category=mapped["category"].map(scheme.labels))
    maps.static_map(frame, mapped, build / "asset_map.png", title="Community assets",
                    attribution=attribution)
    popup = [c for c in ("name", "population", "assets_total", "assets_per_1000",
                         "imd_score", "double_disadvantage") if c in frame]
    for note in maps.interactive_map(frame, mapped, build / "asset_map.html",
                                     title="Community assets", attribution=attribution,
                                     popup=tuple(popup)):
        console.info(f"asset_map.html: {note}")


def _summary(table, scheme, mapped, merges, unmapped) -> dict:
    counts = mapped["category"].value_counts()
    summary = {
        "assets": int(len(mapped)),
        "by_category": {c: int(counts.get(c, 0)) for c in scheme.categories},
        "unmapped": int(unmapped.sum()),
        "unmapped_terms": {str(k): int(v) for k, v in unmapped.items()},
        "duplicates_merged": int(len(merges)),
        "areas": int(len(table)),
        "taxonomy": scheme.source,
    }
    if "double_disadvantage" in table:
        summary["double_disadvantage"] = [str(v) for v in
                                          table.loc[table["double_disadvantage"], "area_id"]]
    return summary
