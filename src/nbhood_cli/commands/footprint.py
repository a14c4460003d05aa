"""``nbhood footprint``: PCN (or practice) footprints from where registered patients live.

Reads the NHS "Patients Registered at a GP Practice" LSOA file, practice → PCN membership
(ePCN or a plain practice/PCN table) and LSOA polygons; writes one dissolved footprint per
PCN and the LSOA × PCN share table. ``--method nearest`` needs no registrations: practices'
coordinates (and list sizes) stand in for them, as an approximation. The reading and the
run are in ``footprintjob``, which ``nbhood map`` shares.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from nbhood_cli import console
from nbhood_cli import options as opt


class Method(StrEnum):
    majority = "majority"
    min_share = "min-share"
    nearest = "nearest"


class Level(StrEnum):
    pcn = "pcn"
    practice = "practice"


Registrations = Annotated[str | None, typer.Option(
    "--registrations", metavar="PATH",
    help="GP registrations by LSOA (NHS gp-reg-pat-prac-lsoa file: PRACTICE_CODE, LSOA_CODE, "
         "NUMBER_OF_PATIENTS); needed by majority and min-share.")]
Practices = Annotated[str, typer.Option(
    "--practices", metavar="PATH[:CODE]",
    help="Practice → PCN membership (ePCN sheet, or practice_code, pcn_code, pcn_name; CODE "
         "names the practice code column); for nearest, with coordinates and list sizes.")]
MethodOption = Annotated[Method, typer.Option(
    "--method", help="majority: each LSOA to the PCN with most of its patients; min-share: to "
                     "every PCN with at least --min-share of them (footprints overlap); "
                     "nearest: to the PCN of the nearest practice (an approximation, needs no "
                     "registrations).")]
LevelOption = Annotated[Level, typer.Option(
    "--level", help="One footprint per PCN or per practice.")]
MinShare = Annotated[float, typer.Option(
    "--min-share", min=0.0, max=1.0, metavar="SHARE",
    help="min-share: a PCN's footprint takes LSOAs where it holds at least this share of "
         "the patients.")]
Weighted = Annotated[bool, typer.Option(
    "--weighted", help="nearest: divide distances by √(list size / mean list size).")]
AsAt = Annotated[str | None, typer.Option(
    "--as-at", metavar="DATE",
    help="Memberships in force on this date (default: those with no end date).")]


def footprint(
    practices: Practices,
    lsoa: Annotated[str, typer.Option("--lsoa", metavar="PATH[:ID]",
                                      help="LSOA polygons; ID: their code column, codes as in "
                                           "the registrations.")],
    registrations: Registrations = None,
    method: MethodOption = Method.majority,
    level: LevelOption = Level.pcn,
    min_share: MinShare = 0.05,
    weighted: Weighted = False,
    as_at: AsAt = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: Annotated[str | None, typer.Option(
        "--count", metavar="COLUMN",
        help="Residents column, in --counts or on the LSOAs [default: population with "
             "--counts].")] = None,
    centroids: Annotated[str | None, typer.Option(
        "--centroids", metavar="PATH[:ID]",
        help="nearest: population-weighted centroids, ids as in --lsoa (default: a point "
             "on each LSOA's surface).")] = None,
    out: opt.Out = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Derive PCN footprints from GP registrations by LSOA (or, approximately, from the
    nearest practice) and write them with the LSOA × PCN share table."""
    from nbhood_cli.footprintjob import Job, closing, run, stage, title
    from nbhood_cli.io.read import ReadOptions
    from nbhood_cli.outputs import check_out, write_products

    if out is not None:
        check_out(out, overwrite)
    job = Job(registrations, practices, lsoa, method.value, level.value, min_share, weighted,
              as_at, counts, join, count, centroids)
    result = run(job, ReadOptions(assume_crs=assume_crs, crs=crs))
    written = []
    if out is not None:
        with stage("writing"):
            written = write_products(out, {"footprints": result.footprints,
                                           "lsoa_shares": result.shares}, "footprints",
                                     overwrite)
    summary = result.summary
    summary["outputs"] = written
    if json_out:
        from nbhood_cli.render import print_json

        print_json(summary)
        return
    from nbhood_cli.render import print_frame

    frame = result.footprints.drop(columns=[result.footprints.geometry.name])
    print_frame(frame, title=title(job))
    console.info(closing(summary) + (f"; wrote {out}" if out else ""))
