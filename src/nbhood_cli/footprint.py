"""PCN (or practice) footprints: the LSOAs a PCN serves, derived from where its registered
patients live, dissolved into one shape per PCN.

PCNs have no official boundaries. NHS analysts draw them from the "Patients Registered at a
GP Practice" LSOA file: ``majority`` gives each LSOA to the PCN holding most of its
registered patients; ``min-share`` to every PCN holding at least a share of them (footprints
then overlap, as the areas practices serve do); ``nearest``, when no registration file
exists, to the PCN of the nearest practice — an approximation. See docs/footprint.md.

Pure functions, frames in and frames out. The tables handed in are already read; the
functions here put them in one shape (column names matched case-insensitively, as NHS files
and council exports spell them differently) and raise ``NbhoodError`` naming the file, row
and column when the content cannot be used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbhood_cli.errors import NbhoodError

LEVELS = ("pcn", "practice")
MIN_SHARE = 0.05
BAND_EDGES = (0.2, 0.5)  # min-share footprints are cut into bands at these shares
SHARE_DECIMALS = 6  # shares in lsoa_shares.csv: a millionth is well below one patient

# Column names as NHS England, ODS (ePCN) and council exports spell them, after lower-casing
# and turning runs of other characters into "_"; the first present wins.
PRACTICE = ("practice_code", "partner_organisation_code", "ods_code", "org_code", "code")
PRACTICE_NAME = ("practice_name", "partner_name", "name")
PCN_CODE = ("pcn_code",)
PCN_NAME = ("pcn_name",)
LIST_SIZE = ("registered_patients", "list_size", "number_of_patients", "patients")
START = ("practice_to_pcn_relationship_start_date", "start_date", "open_date")
END = ("practice_to_pcn_relationship_end_date", "end_date", "close_date")
LSOA = ("lsoa_code", "lsoa21cd", "lsoa11cd", "lsoa")
PATIENTS = ("number_of_patients", "patients", "registered_patients")
SEX = ("sex",)
ALL_SEXES = "ALL"


def column_key(name) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def find_column(frame, names, where: str, what: str | None = None,
                header=None) -> str | None:
    """The frame's column matching one of ``names`` (case and punctuation ignored); with
    ``what``, a missing column is an error listing the file's columns (``header`` when
    only some of them were read)."""
    keys = {}
    for column in frame.columns:
        keys.setdefault(column_key(column), column)
    found = next((keys[n] for n in names if n in keys), None)
    if found is None and what:
        shown = frame.columns if header is None else header
        raise NbhoodError(f"{where}: no {what} column (looked for {', '.join(names)}); "
                          f"columns are: {', '.join(map(str, shown))}")
    return found


def _lines(rows, row_label: str) -> str:
    """``line 5, line 9`` for the first few frame positions (header is line 1)."""
    from nbhood_cli.io.read import first_few

    return first_few([f"{row_label} {r + 2}" for r in rows])


def as_codes(column):
    """Codes as stripped text; empty cells become None."""
    text = column.astype("string").str.strip()
    return text.where(text.notna() & (text != ""), None).astype(object)


# --- practice → PCN membership -------------------------------------------------------------

def membership(frame, where: str, row_label: str = "line", practice_column: str | None = None,
               as_at=None):
    """One row per practice: ``practice_code``, ``practice_name`` (or None), ``pcn_code``,
    ``pcn_name``, ``list_size`` (NaN when the file has none) and ``row`` (frame position).

    Memberships that have ended are left out: with ``as_at`` (a date), those not started by
    then or ended by then; without, every row with an end date. Practices with no PCN code
    are left out too (returned second, as codes). A practice in two PCNs is an error.
    """
    import numpy as np
    import pandas as pd

    if practice_column and practice_column not in frame:
        raise NbhoodError(f"{where}: no column {practice_column}; columns are: "
                          f"{', '.join(map(str, frame.columns))}")
    code = practice_column or find_column(frame, PRACTICE, where, "practice code")
    pcn = find_column(frame, PCN_CODE, where, "PCN code")
    pcn_name = find_column(frame, PCN_NAME, where)
    name = find_column(frame, tuple(n for n in PRACTICE_NAME if column_key(code) != n), where)
    size = find_column(frame, LIST_SIZE, where)
    out = pd.DataFrame({"practice_code": as_codes(frame[code]), "pcn_code": as_codes(frame[pcn])})
    out["practice_name"] = as_codes(frame[name]) if name else None
    out["pcn_name"] = as_codes(frame[pcn_name]) if pcn_name else out["pcn_code"]
    out["list_size"] = _list_sizes(frame, size, where, row_label)
    out["row"] = np.arange(len(frame))
    missing = np.flatnonzero(out["practice_code"].isna().to_numpy())
    if len(missing):
        raise NbhoodError(f"{where}: {_lines(missing, row_label)}: no practice code in column "
                          f"{code}; fill it in or delete the row")
    out = out[_current(frame, where, row_label, as_at)]
    unlinked = out["pcn_code"].isna().to_numpy()
    without_pcn = sorted(out.loc[unlinked, "practice_code"])
    out = out[~unlinked]
    _one_pcn_each(out, where, row_label, code, as_at)
    return out.reset_index(drop=True), without_pcn


def _list_sizes(frame, column, where, row_label):
    """List sizes, NaN where empty (a practice may have none); text or negatives are errors."""
    import numpy as np

    from nbhood_cli.io.read import parse_counts

    if column is None:
        return np.full(len(frame), np.nan)
    values, _ = parse_counts(frame[column])
    for bad, what in ((values.isna() & frame[column].notna(), "is not a number"),
                      (values < 0, "is negative"), (np.isinf(values), "is infinite")):
        rows = np.flatnonzero(bad.fillna(False).to_numpy(bool))
        if len(rows):
            raise NbhoodError(f"{where}: {_lines(rows, row_label)}: column {column} {what}; "
                              "list sizes are whole numbers of patients")
    return values.to_numpy(float)


def _current(frame, where, row_label, as_at):
    """Rows whose membership holds: see ``membership``."""
    import numpy as np

    end = find_column(frame, END, where)
    start = find_column(frame, START, where)
    keep = np.ones(len(frame), bool)
    if as_at is None:
        if end:
            keep &= (frame[end].astype("string").str.strip().fillna("") == "").to_numpy(bool)
        return keep
    for column, ok in ((start, lambda d: d <= as_at), (end, lambda d: d > as_at)):
        if column:
            dates = _dates(frame[column], where, row_label, column)
            keep &= dates.isna().to_numpy() | ok(dates).fillna(False).to_numpy(bool)
    return keep


def _dates(column, where, row_label, name):
    """Dates as ODS writes them (``20200401``) or as spreadsheets do (ISO, day first)."""
    import numpy as np
    import pandas as pd

    text = column.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    text = text.where(text != "", None)
    compact = text.str.fullmatch(r"\d{8}").fillna(False).to_numpy(bool)
    dates = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
    dates[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    other = ~compact & text.notna().to_numpy(bool)
    iso = text[other].str.match(r"\d{4}-").fillna(False).to_numpy(bool)
    dates[np.flatnonzero(other)[iso]] = pd.to_datetime(
        text[other][iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dates[np.flatnonzero(other)[~iso]] = pd.to_datetime(
        text[other][~iso], dayfirst=True, format="mixed", errors="coerce")
    bad = np.flatnonzero(text.notna().to_numpy(bool) & dates.isna().to_numpy())
    if len(bad):
        raise NbhoodError(f"{where}: {_lines(bad, row_label)}: column {name} holds "
                          f"{text.iloc[bad[0]]!r}, not a date; write dates as 2024-04-01")
    return dates


def _one_pcn_each(out, where, row_label, code, as_at):
    twice = out[out.duplicated("practice_code", keep=False)]
    if len(twice):
        practice = twice["practice_code"].iloc[0]
        rows = twice[twice["practice_code"] == practice]
        hint = "" if as_at is not None else " or pass --as-at DATE"
        raise NbhoodError(
            f"{where}: {_lines(rows['row'].to_numpy(), row_label)}: practice {practice} "
            f"({code}) is listed more than once (PCNs {', '.join(sorted(set(rows['pcn_code'])))})"
            f"; a practice belongs to one PCN at a time — delete the old row or give it an "
            f"end date{hint}")


# --- registrations -----------------------------------------------------------------------

@dataclass
class Registered:
    """Registrations in one shape: ``rows`` has ``practice_code``, ``lsoa_code`` (None when
    the file gives none) and ``patients``, one row per practice and LSOA."""

    rows: object
    sexes: str  # "ALL rows", "MALE + FEMALE summed" or "no SEX column"


def registrations(frame, where: str, row_label: str = "line", header=None) -> Registered:
    """Normalise a "Patients Registered at a GP Practice" LSOA file (or any table with a
    practice code, LSOA code and patient count). With a SEX column, the ALL rows are used;
    for a practice and LSOA without an ALL row, its other rows (MALE, FEMALE) are summed —
    patients are never counted twice. Bad counts and repeated rows are errors. ``header``:
    the file's columns when only some were read, for messages."""
    import numpy as np
    import pandas as pd

    from nbhood_cli.io.read import parse_counts

    practice = find_column(frame, PRACTICE, where, "practice code", header)
    lsoa = find_column(frame, LSOA, where, "LSOA code", header)
    count = find_column(frame, PATIENTS, where, "number of patients", header)
    sex = find_column(frame, SEX, where)
    values, problem = parse_counts(frame[count])
    if problem is not None:
        bad, what = problem
        raise NbhoodError(f"{where}: {_lines(np.flatnonzero(bad), row_label)}: column {count} "
                          f"{what}; counts of patients are whole numbers, 0 or more")
    rows = pd.DataFrame({"practice_code": as_codes(frame[practice]),
                         "lsoa_code": as_codes(frame[lsoa]), "patients": values.to_numpy(float)})
    missing = np.flatnonzero(rows["practice_code"].isna().to_numpy())
    if len(missing):
        raise NbhoodError(f"{where}: {_lines(missing, row_label)}: no practice code in column "
                          f"{practice}; fill it in or delete the row")
    sexes = "no SEX column"
    if sex:
        rows["sex"] = frame[sex].astype("string").str.strip().str.upper().fillna("").to_numpy()
        _no_repeats(rows, ["practice_code", "lsoa_code", "sex"], where, row_label,
                    (practice, lsoa, sex))
        rows, sexes = _one_sex(rows)
    else:
        _no_repeats(rows, ["practice_code", "lsoa_code"], where, row_label, (practice, lsoa))
    return Registered(rows.reset_index(drop=True), sexes)


def _no_repeats(rows, keys, where, row_label, names):
    import numpy as np

    key = rows[keys].fillna("")
    again = key.duplicated(keep=False).to_numpy()
    if again.any():
        first = key[again].iloc[0]
        same = np.flatnonzero((key == first).all(axis=1).to_numpy())
        label = ", ".join(f"{n} {v or '(empty)'}" for n, v in zip(names, first, strict=True))
        raise NbhoodError(f"{where}: {_lines(same, row_label)}: {label} appears more than once; "
                          "keep one row per practice and LSOA (files from two extracts "
                          "would count patients twice)")


def _one_sex(rows):
    """ALL rows where a practice and LSOA has one, else the sum of its other rows."""
    has_all = (rows["sex"] == ALL_SEXES)
    if has_all.all():
        return rows[["practice_code", "lsoa_code", "patients"]], "ALL rows"
    pair_has_all = has_all.groupby([rows["practice_code"], rows["lsoa_code"].fillna("")],
                                   sort=False).transform("any")
    if pair_has_all.all():
        return rows.loc[has_all, ["practice_code", "lsoa_code", "patients"]], \
            "ALL rows (the others left out)"
    if not has_all.any():
        how = f"{' + '.join(sorted(set(rows['sex']) - {''}) or ['rows'])} summed"
    else:
        how = "ALL rows, other rows summed where there is no ALL row"
    kept = rows[has_all | ~pair_has_all]
    summed = kept.groupby(["practice_code", kept["lsoa_code"].fillna("")], sort=False,
                          as_index=False)["patients"].sum()
    summed["lsoa_code"] = summed["lsoa_code"].where(summed["lsoa_code"] != "", None)
    return summed[["practice_code", "lsoa_code", "patients"]], how


# --- units: what a footprint is drawn for --------------------------------------------------

def units(practices, level: str):
    """(unit of each practice, the units table): PCNs, or the practices themselves.
    The table has ``code``, ``name`` and, at practice level, ``pcn_code`` and ``pcn_name``;
    sorted by code, names from the first row of each code."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if level == "pcn":
        table = practices.drop_duplicates("pcn_code")[["pcn_code", "pcn_name"]]
        table = table.rename(columns={"pcn_code": "code", "pcn_name": "name"})
        unit = practices["pcn_code"].to_numpy()
    else:
        table = practices[["practice_code", "practice_name", "pcn_code", "pcn_name"]]
        table = table.rename(columns={"practice_code": "code", "practice_name": "name"})
        unit = practices["practice_code"].to_numpy()
    return unit, table.sort_values("code", kind="stable").reset_index(drop=True)


# --- shares --------------------------------------------------------------------------------

@dataclass
class Shares:
    """Registered patients of each unit by LSOA of the layer.

    ``pairs``: ``lsoa`` (position in the layer), ``unit`` (code), ``patients`` and ``share``
    (of all patients registered anywhere who live in that LSOA); sorted by LSOA then unit.
    ``totals``: every patient of each unit's practices, wherever they live.
    """

    pairs: object
    totals: object  # pandas Series: unit code → patients
    unlisted: object  # DataFrame practice_code, patients: practices not in the membership
    outside: object  # DataFrame lsoa_code, patients: LSOA codes not in the layer (or none)


def patient_shares(rows, practices, level: str, lsoa_codes) -> Shares:
    """Aggregate registrations to (LSOA, unit). Patients of practices missing from the
    membership still count in their LSOA's total (they live there); patients living in
    LSOAs missing from the layer still count in their unit's total (they are its patients)."""
    import numpy as np
    import pandas as pd

    unit_of, _ = units(practices, level)
    unit = pd.Series(unit_of, index=practices["practice_code"].to_numpy())
    where = pd.Index(pd.Series(lsoa_codes, dtype=object).astype(str)).get_indexer(
        rows["lsoa_code"].astype(object))
    rows = rows.assign(unit=rows["practice_code"].map(unit).to_numpy(object), lsoa=where)
    listed = rows["unit"].notna().to_numpy()
    inside = where >= 0
    lsoa_total = np.bincount(where[inside], rows["patients"].to_numpy()[inside],
                             len(lsoa_codes))
    mine = rows[listed & inside]
    pairs = mine.groupby(["lsoa", "unit"], sort=True, as_index=False)["patients"].sum()
    pairs["share"] = _divide(pairs["patients"].to_numpy(),
                             lsoa_total[pairs["lsoa"].to_numpy()])
    totals = rows[listed].groupby("unit", sort=True)["patients"].sum()
    unlisted = (rows[~listed].groupby("practice_code", sort=True, as_index=False)["patients"]
                .sum())
    outside = rows[listed & ~inside]
    outside = outside.assign(lsoa_code=outside["lsoa_code"].fillna("(none)")).groupby(
        "lsoa_code", sort=True, as_index=False)["patients"].sum()
    return Shares(pairs, totals, unlisted, outside)


def _divide(a, b):
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def bands(min_share: float) -> list[tuple[float, float]]:
    """Share bands of ``min-share`` footprints, highest first: [0.5, 1], [0.2, 0.5),
    [min_share, 0.2) — only the edges above ``min_share``."""
    edges = sorted({min_share, *(e for e in BAND_EDGES if e > min_share)}) + [1.0]
    return [(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)][::-1]


def band_label(lo: float, hi: float) -> str:
    return f"{lo * 100:g}-{hi * 100:g}%"


def assign(pairs, method: str, min_share: float = MIN_SHARE):
    """Mark the pairs (sorted by LSOA, then unit, as ``patient_shares`` gives them) that put
    an LSOA in a unit's footprint (``assigned``; with ``min-share`` also ``share_band``).

    ``majority``: the unit with the most patients in the LSOA; a tie goes to the smallest
    unit code (codes are stable, names are not). ``min-share``: every unit holding at least
    ``min_share`` of the LSOA's patients. Pairs without patients are never assigned.
    """
    import numpy as np

    pairs = pairs.copy()
    has = (pairs["patients"] > 0).to_numpy()
    if method == "majority":
        pairs["assigned"] = _first_largest(pairs["lsoa"].to_numpy(),
                                           pairs["patients"].to_numpy(float)) & has
    elif method == "min-share":
        pairs["assigned"] = has & (pairs["share"] >= min_share).to_numpy()
        label = np.full(len(pairs), None, object)
        for lo, hi in bands(min_share):
            share = pairs["share"].to_numpy()
            inside = pairs["assigned"].to_numpy() & (share >= lo) & ((share < hi) | (hi == 1.0))
            label[inside] = band_label(lo, hi)
        pairs["share_band"] = label
    else:
        raise ValueError(f"assign: unknown method {method!r}")
    return pairs


def _first_largest(group, value):
    """For rows sorted by group (then unit code): True at the first row holding its
    group's largest value — the smallest code among ties."""
    import numpy as np

    if len(group) == 0:
        return np.zeros(0, bool)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    top = np.repeat(np.maximum.reduceat(value, starts), np.diff(np.r_[starts, len(group)]))
    at = np.flatnonzero(value == top)
    first = np.zeros(len(group), bool)
    first[at[np.r_[True, group[at][1:] != group[at][:-1]]]] = True
    return first


# --- nearest ---------------------------------------------------------------------------------

NEAREST_CHUNK = 4_000_000  # distances held at once


def nearest(points_xy, practice_xy, list_size=None):
    """(practice position, distance in metres) of the nearest practice to each point.

    With ``list_size``, distances are divided by ``√(list size / mean list size)``: a
    multiplicatively weighted Voronoi diagram, where a practice twice the mean size reaches
    √2 times as far. Ties go to the first practice (callers sort practices by code).
    """
    import numpy as np

    points_xy = np.asarray(points_xy, float)
    practice_xy = np.asarray(practice_xy, float)
    weight = np.ones(len(practice_xy))
    if list_size is not None:
        size = np.asarray(list_size, float)
        weight = np.sqrt(size / size.mean())
    best = np.zeros(len(points_xy), np.int64)
    rows = max(1, NEAREST_CHUNK // max(len(practice_xy), 1))
    for lo in range(0, len(points_xy), rows):
        p = points_xy[lo:lo + rows]
        d = np.hypot(p[:, None, 0] - practice_xy[None, :, 0],
                     p[:, None, 1] - practice_xy[None, :, 1])
        best[lo:lo + rows] = np.argmin(d / weight, axis=1)
    distance = np.hypot(*(points_xy - practice_xy[best]).T) if len(best) else np.zeros(0)
    return best, distance


def nearest_pairs(best, distance, practices, level: str, shares: Shares | None = None):
    """The nearest practice's unit for each LSOA as assigned pairs; with ``shares`` (when
    registrations are given too) every patient pair as well, assigned or not, so coverage
    can be measured."""
    import numpy as np
    import pandas as pd

    unit_of, _ = units(practices, level)
    chosen = pd.DataFrame({"lsoa": np.arange(len(best)), "unit": unit_of[best],
                           "nearest_practice": practices["practice_code"].to_numpy()[best],
                           "distance_m": distance, "assigned": True})
    if shares is None:
        return chosen.assign(patients=np.nan, share=np.nan)
    pairs = shares.pairs.merge(chosen, on=["lsoa", "unit"], how="outer")
    pairs["assigned"] = pairs["assigned"].astype("boolean").fillna(False).astype(bool)
    pairs["patients"] = pairs["patients"].fillna(0.0)
    pairs["share"] = pairs["share"].fillna(0.0)
    return pairs.sort_values(["lsoa", "unit"], kind="stable").reset_index(drop=True)


# --- dissolve ------------------------------------------------------------------------------

@dataclass
class Dissolved:
    geoms: object  # numpy array of shapes, one per group
    by_coverage: int = 0  # groups merged by coverage union (their members a valid coverage)
    by_overlay: int = 0  # groups merged by unary union (not a valid coverage)


def dissolve(geoms, groups) -> Dissolved:
    """The union of ``geoms[g]`` for each index array ``g`` in ``groups``.

    LSOA layers are coverages, and a coverage union (which only drops the edges members
    share) is ~10× faster than an overlay union; but GEOS promises it only for a valid
    coverage (on others it may raise or return an invalid shape), and checking each group
    first (``coverage_is_valid``) costs three times the union at England scale. So the
    union is checked instead (``_checked``) and any group failing is merged by
    ``union_all``. Groups run on the geometry threads.
    """
    import numpy as np

    from nbhood_cli.population import THREADS, _threaded

    geoms = np.asarray(geoms, dtype=object)
    size = max(1, -(-len(groups) // (4 * THREADS)))
    tasks = [groups[i:i + size] for i in range(0, len(groups), size)]
    done = [r for chunk in _threaded(lambda task: [_union(geoms[g]) for g in task], tasks)
            for r in chunk]
    out = np.empty(len(done), dtype=object)
    out[:] = [g for g, _ in done]
    coverage = sum(1 for _, by in done if by)
    return Dissolved(out, coverage, len(done) - coverage)


AREA_TOLERANCE = 1e-9  # relative: a coverage union must keep the members' total area


def _union(members):
    """(union, whether the coverage union was kept)."""
    import shapely

    if len(members) == 1:
        return members[0], True
    try:
        union = shapely.coverage_union_all(members)
    except shapely.errors.GEOSException:  # GEOS saw edges that are not noded alike
        union = None
    if union is not None and _checked(union, members):
        return union, True
    return shapely.union_all(members), False


def _checked(union, members) -> bool:
    """A union of members that neither overlap nor meet along unnoded seams is valid,
    holds every member's interior point and has their total area. An overlap makes the
    true union smaller than the total; an unnoded seam leaves the coverage union invalid
    (or GEOS raises): either fails here."""
    import shapely

    total = shapely.area(members).sum()
    inside = shapely.get_coordinates(shapely.point_on_surface(members))
    return bool(shapely.is_valid(union)
                and abs(shapely.area(union) - total) <= AREA_TOLERANCE * total
                and shapely.contains_xy(union, inside[:, 0], inside[:, 1]).all())


# --- footprints ------------------------------------------------------------------------------

@dataclass
class Result:
    footprints: object  # GeoDataFrame, one row per unit (per unit and band for min-share)
    shares: object  # DataFrame, the LSOA × unit table
    unassigned: list  # codes of LSOAs in no footprint
    without: list  # codes of units with no footprint
    dissolved: Dissolved


def footprints(lsoa, codes, pairs, unit_table, method: str, level: str, totals=None,
               population=None, list_sizes=None, min_share: float = MIN_SHARE) -> Result:
    """Dissolve each unit's assigned LSOAs and put the figures on it.

    ``lsoa``: the LSOA GeoDataFrame (working CRS); ``codes``: their codes; ``pairs``: from
    ``assign`` or ``nearest_pairs``; ``population``: residents per LSOA. ``totals``:
    patients per unit wherever they live, from registrations: ``registered_patients`` are
    those living in the footprint and ``own_share`` their share of the total. Without
    registrations (``nearest``), ``registered_patients`` are the units' ``list_sizes`` and
    nothing says where they live.
    """
    import geopandas as gpd
    import numpy as np

    codes = np.asarray(codes, dtype=object)
    chosen = pairs[pairs["assigned"]]
    by = ["unit", "share_band"] if method == "min-share" else ["unit"]
    groups = chosen.groupby(by, sort=False)["lsoa"].apply(lambda s: s.to_numpy())
    groups = groups.loc[_order(groups.index, method, min_share)] if len(groups) else groups
    dissolved = dissolve(lsoa.geometry.values, list(groups.to_numpy()))
    frame = _figures(groups, chosen, by, population)
    if totals is not None:
        frame["patients_total"] = frame["unit"].map(totals).to_numpy(float)
        frame["own_share"] = _divide(frame["registered_patients"].to_numpy(float),
                                     frame["patients_total"].to_numpy(float))
    else:
        frame["registered_patients"] = frame["unit"].map(list_sizes or {}).to_numpy(float)
    for column in ("population", "registered_patients", "patients_total"):
        if column in frame:
            frame[column] = whole(frame[column])
    frame = _named(frame, unit_table, level)
    frame.insert(frame.columns.get_loc(_code_column(level)) + (2 if level == "pcn" else 4),
                 "method", method)
    if method == "min-share":
        frame.insert(0, "footprint_id", frame[_code_column(level)] + " " + frame["share_band"])
    layer = gpd.GeoDataFrame(frame, geometry=list(dissolved.geoms), crs=lsoa.crs)
    table = _share_table(pairs, codes, unit_table, level, method)
    in_any = np.zeros(len(codes), bool)
    in_any[chosen["lsoa"].to_numpy(np.int64)] = True
    without = sorted(set(unit_table["code"]) - set(chosen["unit"]))
    return Result(layer, table, list(codes[~in_any]), without, dissolved)


def _order(index, method, min_share):
    """Groups sorted by unit code, bands highest first."""
    if method != "min-share":
        return sorted(index)
    rank = {band_label(lo, hi): k for k, (lo, hi) in enumerate(bands(min_share))}
    return sorted(index, key=lambda key: (key[0], rank[key[1]]))


def _figures(groups, chosen, by, population):
    """n_lsoas, residents and the unit's patients living in each group's LSOAs."""
    import numpy as np

    frame = groups.index.to_frame(index=False)
    frame["n_lsoas"] = [len(g) for g in groups]
    if population is not None:
        people = np.asarray(population, float)
        frame["population"] = [float(people[g].sum()) for g in groups]
    patients = chosen.groupby(by, sort=False)["patients"].sum()
    frame["registered_patients"] = patients.reindex(groups.index).to_numpy(float)
    return frame


def whole(values):
    """Counts of people as integers when every one is whole (they print without ".0")."""
    import numpy as np

    values = np.asarray(values, float)
    if np.isfinite(values).all() and (values == np.round(values)).all():
        return values.astype(np.int64)
    return values


def _code_column(level):
    return "pcn_code" if level == "pcn" else "practice_code"


def _named(frame, unit_table, level):
    """Replace the unit code by the level's code and name columns, in front."""
    import pandas as pd

    names = unit_table.set_index("code")
    code = _code_column(level)
    front = {code: frame["unit"].to_numpy()}
    if level == "pcn":
        front["pcn_name"] = frame["unit"].map(names["name"]).to_numpy()
    else:
        front["practice_name"] = frame["unit"].map(names["name"]).to_numpy()
        front["pcn_code"] = frame["unit"].map(names["pcn_code"]).to_numpy()
        front["pcn_name"] = frame["unit"].map(names["pcn_name"]).to_numpy()
    return pd.concat([pd.DataFrame(front), frame.drop(columns=["unit"])], axis=1)


def _share_table(pairs, codes, unit_table, level, method):
    """lsoa_shares.csv: every (LSOA, unit) pair with patients or an assignment, and each LSOA
    in no footprint once with no unit; sorted by LSOA code, then unit code."""
    import numpy as np
    import pandas as pd

    code = _code_column(level)
    table = pd.DataFrame({"lsoa_code": codes[pairs["lsoa"].to_numpy(np.int64)],
                          code: pairs["unit"].to_numpy()})
    if level == "practice":
        table["pcn_code"] = table[code].map(unit_table.set_index("code")["pcn_code"])
    measured = pairs["patients"].notna().any() or method != "nearest"
    if measured:
        table["patients"] = whole(pairs["patients"])
        table["share"] = pairs["share"].to_numpy(float).round(SHARE_DECIMALS)
    table["assigned"] = pairs["assigned"].to_numpy(bool)
    if method == "min-share":
        table["share_band"] = pairs["share_band"].to_numpy()
    if method == "nearest":
        table["nearest_practice"] = pairs["nearest_practice"].to_numpy()
        table["distance_m"] = pairs["distance_m"].to_numpy(float).round(1)
    seen = np.zeros(len(codes), bool)
    seen[pairs["lsoa"].to_numpy(np.int64)] = True
    empty = pd.DataFrame({"lsoa_code": codes[~seen], "patients": 0, "assigned": False})
    table = pd.concat([table, empty], ignore_index=True) if len(empty) else table
    return table.sort_values(["lsoa_code", code], kind="stable", na_position="first",
                             ignore_index=True)
