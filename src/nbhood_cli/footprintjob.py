"""The footprint job shared by ``nbhood footprint`` and ``nbhood map``: read registrations,
membership and LSOAs, derive the footprints (``footprint`` does the analysis) and report.

``--method nearest`` needs no registrations: practices' coordinates (and list sizes) stand
in for them, as an approximation.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from nbhood_cli import console
from nbhood_cli.io.read import first_few


@dataclass
class Job:
    """What a footprint run is asked to do, as typed (paths as specs)."""

    registrations: str | None
    practices: str
    lsoa: str
    method: str = "majority"
    level: str = "pcn"
    min_share: float = 0.05
    weighted: bool = False
    as_at: str | None = None
    counts: str | None = None
    join: str | None = None
    count: str | None = None
    centroids: str | None = None


@dataclass
class Run:
    footprints: object  # GeoDataFrame
    shares: object  # DataFrame
    summary: dict


def run(job: Job, options, small=None) -> Run:
    """Read, check, derive: every warning on stderr, every user error as NbhoodError;
    with -v, the time of each stage. ``small``: the LSOAs (``inputs.SmallAreas``) when the
    caller has read them already (``nbhood map``)."""
    from nbhood_cli import footprint as fp

    _check(job)
    with stage("reading the LSOAs"):
        small = small if small is not None else _lsoa(job, options)
        codes = _lsoa_codes(small)
    with stage("reading the membership"):
        practices = _membership(job)
        _, unit_table = fp.units(practices, job.level)
    shares = sexes = None
    if job.registrations:
        with stage("reading the registrations"):
            registered = _registrations(job.registrations)
            sexes = registered.sexes
        with stage("patients by LSOA"):
            shares = fp.patient_shares(registered.rows, practices, job.level, codes)
            _warn_about(shares, job)
    list_sizes = None
    with stage(f"assigning LSOAs ({job.method})"):
        if job.method == "nearest":
            pairs, list_sizes, located = _nearest(job, options, practices, small, shares)
            _, unit_table = fp.units(located, job.level)
        else:
            pairs = fp.assign(shares.pairs, job.method, job.min_share)
    with stage("dissolving footprints"):
        result = fp.footprints(
            small.frame, codes, pairs, unit_table, job.method, job.level,
            totals=shares.totals if shares is not None else None,
            population=small.counts, list_sizes=list_sizes, min_share=job.min_share)
    _warn_about_result(result, job)
    return Run(result.footprints, result.shares, _summary(job, result, shares, codes, sexes))


@contextlib.contextmanager
def stage(name: str):
    start = time.perf_counter()
    yield
    console.detail(f"{name}: {time.perf_counter() - start:.1f} s")


def _warn_about_result(result, job: Job) -> None:
    if result.unassigned:
        console.warn(f"{len(result.unassigned)} LSOA(s) are in no footprint (no patients of "
                     f"the listed practices live there{_or_share(job)}): "
                     f"{first_few(result.unassigned)}")
    if result.without:
        why = ("no LSOA is nearest to their practices" if job.method == "nearest" else
               f"they hold the most patients in no LSOA{_or_share(job)}")
        console.warn(f"{len(result.without)} {_unit_word(job)}(s) have no footprint ({why}): "
                     f"{first_few(result.without)}")
    console.detail(f"dissolve: {result.dissolved.by_coverage} footprint(s) by coverage union, "
                   f"{result.dissolved.by_overlay} by overlay union (not a valid coverage)")


def _check(job: Job) -> None:
    """Options another method would ignore are refused (a --min-share typed equal to its
    default cannot be told from none, and changes nothing)."""
    from nbhood_cli.errors import NbhoodError

    if job.method != "nearest" and not job.registrations:
        raise NbhoodError(f"footprints by {job.method} need --registrations (the NHS LSOA "
                          "file); without one, nearest approximates them from practice "
                          "locations")
    if job.weighted and job.method != "nearest":
        raise NbhoodError("--weighted only applies to --method nearest")
    if job.centroids and job.method != "nearest":
        raise NbhoodError("--centroids only applies to --method nearest")
    if job.min_share != Job.min_share and job.method != "min-share":
        raise NbhoodError("--min-share only applies to --method min-share")


def _lsoa(job: Job, options):
    """The LSOA layer, with residents when --counts or --count says where they are."""
    from nbhood_cli import inputs

    inputs.check_join(job.join, {"--counts": job.counts})
    if job.counts or job.count:
        small = inputs.small_areas(job.lsoa, job.counts, job.join, job.count or "population",
                                   options, "--lsoa")
    else:
        layer = inputs.read_polygons(job.lsoa, options, "--lsoa")
        small = inputs.SmallAreas(layer, layer.frame, None, None)
    return small


def _lsoa_codes(small):
    """The LSOAs' codes (they are polygons: footprints are dissolved from them)."""
    from nbhood_cli.errors import NbhoodError

    if not small.layer.id_column:
        raise NbhoodError(f"{small.layer.path}: say which column holds the LSOA codes, as in "
                          f"{small.layer.path}:lsoa21cd")
    return small.frame[small.layer.id_column].astype(str).to_numpy(object)


def _table(spec: str, columns=None):
    """A CSV/XLSX table as read by the project's reader, and how its rows are named."""
    from nbhood_cli.io.read import check_file, parse_source
    from nbhood_cli.io.tables import read_table

    source = parse_source(spec)
    check_file(source.path)
    table = read_table(source.path, source.layer, columns)
    return source, table


def _registrations(spec: str):
    """Only the columns used are read (the national file has 1.5 million rows); the others'
    names are kept for the message when a needed one is missing."""
    import pandas as pd

    from nbhood_cli import footprint as fp
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import parse_source

    wanted = {*fp.PRACTICE, *fp.LSOA, *fp.PATIENTS, *fp.SEX}
    header: dict[str, None] = {}  # the reader may ask about a name more than once

    def used(name) -> bool:
        header[str(name).strip()] = None
        return fp.column_key(name) in wanted

    where = str(parse_source(spec).path)
    try:
        _, table = _table(spec, columns=used)
    except NbhoodError:
        if header and not any(fp.column_key(name) in wanted for name in header):
            fp.registrations(pd.DataFrame(columns=list(header)), where)  # names what is missing
        raise
    return fp.registrations(table.frame, where, table.row_label, list(header))


def _membership(job: Job):
    from nbhood_cli import footprint as fp

    source, table = _table(job.practices)
    practices, without_pcn = fp.membership(table.frame, str(source.path), table.row_label,
                                           source.id_column, _as_at(job.as_at))
    if without_pcn:
        console.warn(f"{source.path}: {len(without_pcn)} practice(s) have no PCN code and are "
                     f"left out: {first_few(without_pcn)}")
    if practices.empty:
        from nbhood_cli.errors import NbhoodError

        raise NbhoodError(f"{source.path}: no practice has a current PCN membership; check the "
                          "end dates (or --as-at) and the PCN code column")
    return practices


def _as_at(text: str | None):
    import pandas as pd

    from nbhood_cli.errors import NbhoodError

    if text is None:
        return None
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise NbhoodError(f"--as-at {text}: not a date; write it as 2024-04-01") from None


def _warn_about(shares, job: Job) -> None:
    """Say what the registrations hold that no footprint will show."""
    from nbhood_cli.errors import NbhoodError

    if shares.pairs.empty:
        raise NbhoodError(
            f"{job.registrations}: no patient of a practice in {job.practices} lives in an LSOA "
            f"of {job.lsoa}; check the LSOA codes are the same vintage (2011 or 2021) and the "
            "practice codes match")
    unlisted = shares.unlisted
    if len(unlisted):
        console.warn(f"{job.registrations}: {len(unlisted)} practice(s) with "
                     f"{unlisted['patients'].sum():,.0f} patients are not in {job.practices}: "
                     "their patients count in their LSOAs' totals but in no PCN "
                     f"({first_few(unlisted['practice_code'].tolist())})")
    outside = shares.outside
    if len(outside):
        console.warn(f"{job.registrations}: {outside['patients'].sum():,.0f} patients of the "
                     f"listed practices live in {len(outside)} LSOA(s) not in {job.lsoa}: "
                     "they count in their PCN's total, not in a footprint "
                     f"({first_few(outside['lsoa_code'].tolist())})")


def _nearest(job: Job, options, practices, small, shares):
    """Assigned pairs from the nearest practice, and list sizes per unit."""
    import numpy as np
    import pandas as pd
    import shapely

    from nbhood_cli import footprint as fp
    from nbhood_cli import inputs
    from nbhood_cli.errors import NbhoodError

    located, xy = _practice_points(job, options, practices)
    size = located["list_size"].to_numpy(float)
    if job.weighted and (np.isnan(size).any() or (size <= 0).any()):
        raise NbhoodError(f"{job.practices}: --weighted needs a list size (e.g. "
                          "registered_patients) above 0 for every practice with coordinates")
    if job.centroids:
        points = inputs.centroid_points(inputs.read(job.centroids, options), small)
    else:
        points = shapely.point_on_surface(small.frame.geometry.values)
    best, distance = fp.nearest(shapely.get_coordinates(points), xy,
                                size if job.weighted else None)
    goes = "the PCN of its nearest practice" if job.level == "pcn" else "its nearest practice"
    console.info(f"nearest is an approximation: each LSOA goes to {goes}"
                 f"{' (list-size-weighted distance)' if job.weighted else ''}"
                 f"{'' if shares is not None else '; no registrations say where patients live'}")
    pairs = fp.nearest_pairs(best, distance, located, job.level, shares)
    if np.isnan(size).all():
        return pairs, None, located
    unit_of, _ = fp.units(located, job.level)
    return pairs, pd.Series(size, index=unit_of).groupby(level=0).sum().to_dict(), located


def _practice_points(job: Job, options, practices):
    """The practices that have coordinates (sorted by code, so ties go to the smallest)
    and their points in the working CRS; the others are listed and left out."""
    import shapely

    from nbhood_cli import footprint as fp
    from nbhood_cli.errors import NbhoodError
    from nbhood_cli.io.read import NoGeometry, parse_source, read_layer

    source = parse_source(job.practices)
    spec = f"{source.path}:{source.layer}" if source.layer else str(source.path)
    try:
        layer = read_layer(spec, options)
    except NoGeometry:
        raise NbhoodError(f"{source.path}: --method nearest needs practice coordinates (lat/lon "
                          "or easting/northing columns)") from None
    for finding in layer.warnings:
        if finding.code != "empty-geometry":  # listed below by practice code
            console.warn(finding.message)
    column = source.id_column or fp.find_column(layer.frame, fp.PRACTICE, str(source.path),
                                                "practice code")
    where = dict(zip(fp.as_codes(layer.frame[column]), layer.frame.geometry.values, strict=True))
    has = practices["practice_code"].map(lambda c: c in where).to_numpy(bool)
    if not has.any():
        raise NbhoodError(f"{source.path}: no practice has coordinates; --method nearest needs "
                          "them")
    if not has.all():
        console.warn(f"{source.path}: {int((~has).sum())} of {len(has)} practices have no "
                     "coordinates and are left out of nearest: "
                     f"{first_few(sorted(practices.loc[~has, 'practice_code']))}")
        lost = sorted(set(practices["pcn_code"]) - set(practices.loc[has, "pcn_code"]))
        if lost:
            console.warn(f"{source.path}: {len(lost)} PCN(s) have no practice with coordinates "
                         f"and get no footprint: {first_few(lost)}")
    located = practices[has].sort_values("practice_code", kind="stable").reset_index(drop=True)
    xy = shapely.get_coordinates(shapely.point_on_surface(
        [where[c] for c in located["practice_code"]]))
    return located, xy


def _summary(job: Job, result, shares, codes, sexes) -> dict:
    import numpy as np

    frame = result.footprints
    own = frame["own_share"].to_numpy(float) if "own_share" in frame else np.zeros(0)
    summary = {"method": job.method, "level": job.level,
               "approximation": job.method == "nearest",
               "lsoas": int(len(codes)), "footprints": int(len(frame)),
               "lsoas_in_no_footprint": result.unassigned,
               "units_without_footprint": result.without,
               "own_share_median": _number(np.nanmedian(own)) if np.isfinite(own).any()
               else None}
    if job.method == "min-share":
        summary["min_share"] = job.min_share
    if job.method == "nearest":
        summary["weighted"] = job.weighted
    if shares is not None:
        summary["registrations"] = {
            "sex": sexes,
            "patients_in_lsoas": _number(shares.pairs["patients"].sum()),
            "patients_outside_lsoas": _number(shares.outside["patients"].sum()),
            "unlisted_practices": shares.unlisted["practice_code"].tolist(),
            "unlisted_patients": _number(shares.unlisted["patients"].sum())}
    summary["dissolve"] = {"coverage_union": result.dissolved.by_coverage,
                           "overlay_union": result.dissolved.by_overlay}
    return summary


def _number(value) -> float:
    return float(round(float(value), 6))


def title(job: Job) -> str:
    what = {"majority": "largest share of registered patients",
            "min-share": f"every PCN with ≥ {job.min_share:.0%} of registered patients",
            "nearest": "nearest practice (approximation)"}[job.method]
    return f"{_unit_word(job).upper() if job.level == 'pcn' else 'Practice'} footprints: {what}"


def closing(summary: dict) -> str:
    text = (f"{summary['footprints']} footprint(s) over {summary['lsoas']} LSOAs by "
            f"{summary['method']}")
    if summary["approximation"]:
        text += " (an approximation)"
    if summary["own_share_median"] is not None:
        text += ("; median share of a PCN's patients living in its footprint "
                 f"{summary['own_share_median']:.2f}")
    return text


def _unit_word(job: Job) -> str:
    return "PCN" if job.level == "pcn" else "practice"


def _or_share(job: Job) -> str:
    return f" or none holds {job.min_share:.0%}" if job.method == "min-share" else ""


