"""Where community areas and statutory units pull against each other.

Pure functions over the crosswalk (see ``reconcile``): splits and fit per community area and
layer, contested land claimed by several community areas, slivers (digitising differences,
kept apart so they never count as splits) and size bands against the policy scales.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_LABELS = ("none", "low", "medium", "high")
BAND_LABELS = ("hyperlocal", "below-pcn", "pcn-snp", "above-snp", "mnp-place")


@dataclass(frozen=True)
class Thresholds:
    """Every cut-off a tension report depends on; all configurable, all reported."""

    min_share: float = 0.05  # a unit "holds" part of an area from this share of its people
    sliver_area: float = 10_000.0  # m²: a piece smaller than 1 ha …
    sliver_pop: float = 50.0  # … and with fewer people than this is a digitising difference
    severity: tuple[float, float, float] = (0.05, 0.2, 0.4)  # tension ≥ each → low/medium/high
    bands: tuple[float, float, float, float] = (10_000, 30_000, 50_000, 250_000)

    def as_dict(self) -> dict:
        return {"min_share": self.min_share, "sliver_area_m2": self.sliver_area,
                "sliver_pop": self.sliver_pop, "severity": dict(zip(
                    SEVERITY_LABELS[1:], self.severity, strict=True)),
                "size_bands": dict(zip(BAND_LABELS, (0, *self.bands), strict=True))}


def is_sliver(frame, th: Thresholds):
    """Pieces too small in land and in people to be real: both conditions must hold."""
    return ((frame["area_m2"] < th.sliver_area) & (frame["population"] < th.sliver_pop)).to_numpy()


def severity(tension, th: Thresholds):
    """none below the first threshold, then low, medium, high."""
    import numpy as np

    return np.asarray(SEVERITY_LABELS, dtype=object)[np.searchsorted(th.severity, tension,
                                                                     side="right")]


def size_band(population, th: Thresholds):
    """hyperlocal ≤ 10k (Local Trust), below-pcn, pcn-snp 30–50k, above-snp, mnp-place ≥ 250k.

    An area exactly on an edge belongs to the smaller band (≤ 10,000 is hyperlocal)."""
    import numpy as np

    return np.asarray(BAND_LABELS, dtype=object)[np.searchsorted(th.bands, population,
                                                                 side="left")]


def splits(walk, fits, th: Thresholds):
    """Per community area and layer: how many units hold ≥ min_share of its people (slivers
    excluded), its fit (largest share), tension = 1 − fit and a severity label."""
    import numpy as np

    real = walk[~is_sliver(walk, th)]
    holding = real[real["share_of_community"] >= th.min_share]
    counts = holding.groupby("community").size()
    units = _joined(holding.sort_values(["community", "share_of_community"],
                                        ascending=[True, False], kind="stable"),
                    "community", "unit_id")
    out = fits.copy()
    index = np.arange(len(out))
    out["split_count"] = counts.reindex(index, fill_value=0).to_numpy(np.int64)
    out["units"] = units.reindex(index).fillna("").to_numpy()
    out["tension"] = 1.0 - out["fit"]  # fit is already clean: exact 0 and 1 stay exact
    out["severity"] = severity(out["tension"].to_numpy(), th)
    return out[["community_id", "layer", "best_fit", "fit", "tension", "severity",
                "split_count", "units", "outside_share"]]


def _joined(frame, key, column):
    """``column``'s values joined with ';' per ``key``, in the frame's order (one pass:
    a Python function per group is slow with thousands of groups)."""
    import pandas as pd

    keys = frame[key].to_numpy()
    values = [str(v) for v in frame[column]]
    out = {}
    for k, v in zip(keys.tolist(), values, strict=True):
        out.setdefault(k, []).append(v)
    return pd.Series({k: ";".join(v) for k, v in out.items()}, dtype=object)


def contested(community, community_ids, people, overlaps):
    """Land claimed by two or more community areas (``overlaps``: the community areas'
    faces with ``claims`` ≥ 2), with the claimants, area and people."""
    import geopandas as gpd
    import numpy as np
    import shapely

    land = overlaps.reset_index(drop=True)
    if land.empty:
        return gpd.GeoDataFrame({"claimants": [], "n_claimants": [], "area_m2": [],
                                 "population": []}, geometry=[], crs=community.crs)
    reps = shapely.point_on_surface(land.geometry.values)
    f, c = shapely.STRtree(community.geometry.values).query(reps, predicate="within")
    import pandas as pd

    ids = np.asarray([str(x) for x in community_ids], dtype=object)
    claims = pd.DataFrame({"face": f, "id": ids[c]}).sort_values(["face", "id"], kind="stable")
    land["claimants"] = _joined(claims, "face", "id").reindex(range(len(land))).fillna("")
    merged = land.dissolve(by="claimants", as_index=False, sort=True)
    merged["n_claimants"] = merged["claimants"].str.count(";") + 1
    merged["area_m2"] = merged.geometry.area
    merged["population"] = people.of(merged)
    return merged[["claimants", "n_claimants", "area_m2", "population", "geometry"]]
