"""``nbhood validate PATH...``: every problem in every file, before a run depends on them.

Exit 0 when no file has errors (warnings and repairs allowed), 1 when any has, 2 for usage
errors such as a missing file.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nbhood_cli import options as opt


def validate(
    paths: Annotated[list[str], typer.Argument(
        help="Files to check; file.gpkg:layer picks a layer, PATH:ID names the id column.")],
    id_column: opt.IdColumn = None,
    counts: opt.Counts = None,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    engine: opt.EngineOption = opt.Engine.pyogrio,
    coords: opt.Coords = None,
    wkt: opt.Wkt = None,
    json_out: opt.Json = False,
) -> None:
    """Check files: readable?, CRS, counts, geometry types, invalid and empty geometries,
    duplicate ids, features outside England."""
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import parse_source, working_crs

    options = opt.read_options(id_column, counts, assume_crs, crs, engine, coords, wkt)
    working_crs(crs)
    for path in paths:
        file = parse_source(path).path
        if not file.exists():
            raise NbhoodError(f"{file}: no such file; check the path")
    reports = [check_path(path, options) for path in paths]
    if json_out:
        from nbhood_cli.render import print_json

        print_json({"files": reports, "ok": not any(r["errors"] for r in reports)})
    else:
        _print(reports)
    if any(r["errors"] for r in reports):
        raise typer.Exit(1)


def check_path(path: str, options) -> dict:
    """One file's report; an unreadable file is an error in the report, not a crash."""
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import NoGeometry, load_layer, load_table

    report = {"path": path, "status": "ok", "kind": None, "features": None, "crs": None,
              "id_column": None, "geometry_types": {}, "errors": 0, "warnings": 0,
              "findings": []}
    try:
        try:
            layer = load_layer(path, options)
            report["kind"] = "layer"
            report["geometry_types"] = _type_counts(layer.frame)
            report["crs"] = layer.source_crs
        except NoGeometry:
            layer = load_table(path, options)
            report["kind"] = "table"
    except NbhoodError as exc:
        report.update(status="unreadable", errors=1, findings=[
            {"level": "error", "code": "unreadable", "feature": None, "message": exc.message}])
        return report
    report["features"] = len(layer.frame)
    report["id_column"] = layer.id_column
    report["findings"] = [f.as_dict() for f in layer.findings]
    report["errors"] = len(layer.errors)
    report["warnings"] = len(layer.warnings)
    report["status"] = "errors" if layer.errors else "warnings" if layer.warnings else "ok"
    return report


def _type_counts(frame) -> dict:
    counts = frame.geom_type.value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


_STYLE = {"ok": "green", "warnings": "yellow", "errors": "red", "unreadable": "red"}


def _print(reports: list[dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from nbhood_cli.render import terminal

    out = terminal()
    table = Table("file", "status", "kind", "features", "CRS", "id", "geometry")
    for r in reports:
        status = f"[{_STYLE[r['status']]}]{r['status']}[/]"
        table.add_row(escape(r["path"]), status, r["kind"] or "-",
                      "-" if r["features"] is None else str(r["features"]), r["crs"] or "-",
                      r["id_column"] or "-",
                      ", ".join(f"{k} {v}" for k, v in r["geometry_types"].items()) or "-")
    out.print(table)
    for r in reports:
        for f in r["findings"]:
            colour = "red" if f["level"] == "error" else "yellow"
            out.print(f"[{colour}]{f['level']}[/]: {escape(f['message'])}", soft_wrap=True)
