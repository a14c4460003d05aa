"""One asset run, shared by ``nbhood assets`` and ``nbhood map``: categorise the register,
merge duplicates, and compute the per-area figures. Reports what it merged and could not map
on stderr; reading and writing stay with the callers."""

from __future__ import annotations

from dataclasses import dataclass

from nbhood_cli import console


@dataclass
class AssetRun:
    table: object  # one row per area (assets_by_area)
    located: object  # every kept asset with its category and area ids
    mapped: object  # assets with a category, as counted
    merges: object  # duplicates merged
    unmapped: object  # source term → assets that matched no category
    scheme: object  # the taxonomy used


def run(layer, area, scheme, dedupe_distance: float, people=None, score=None, decile=None,
        th=None, key: str = "area_id") -> AssetRun:
    """``layer``: the register as read; ``area``: analysis.Areas; ``people``: reconcile.People
    or None (then only counts); ``score``/``decile``: per small area, or None; ``key``: the id
    column's name (``community_id`` where the areas are community areas)."""
    from nbhood_cli import taxonomy as tax
    from nbhood_cli.assets import AssetThresholds, assign, by_area, dedupe, subset_pairs

    frame = layer.frame
    ids = layer_ids(layer)
    frame["asset_id"] = ids
    frame["category"], frame["source_term"] = tax.categorise(frame, scheme)
    kept, merges = dedupe(frame, dedupe_distance, ids)
    if len(merges):
        console.warn(f"{layer.path}: {len(merges)} duplicate(s) merged (same name within "
                     f"{dedupe_distance:g} m)")
    pairs = assign(kept, area.frame)  # once: for the counts and for each asset's areas
    if len(kept) and not len(pairs[0]):
        console.warn(f"{layer.path}: no asset lies in any of the areas ({area.layer.path}); "
                     "check the files cover the same place (and their CRS)")
    counted = kept["category"].notna().to_numpy()
    mapped = kept[counted].reset_index(drop=True)
    unmapped = kept.loc[~counted, "source_term"].value_counts()
    if len(unmapped):
        console.warn(f"{layer.path}: {int(unmapped.sum())} asset(s) in {len(unmapped)} "
                     "source categories match no taxonomy category ("
                     f"{', '.join(f'{k} {v}' for k, v in unmapped.head(8).items())}); add "
                     "them to a --taxonomy file to count them")
    population = residents = resident_people = None
    if people is not None:
        population = people.of(area.frame)
        residents = people.residents()
        resident_people = _resident_people(people, area.frame)
    table = by_area(area.frame, mapped, scheme.categories, population, resident_people,
                    residents, score, decile, th or AssetThresholds(),
                    subset_pairs(pairs, counted))
    table.insert(0, key, area.ids)
    if area.names is not None:
        table.insert(1, "name", area.names)
    return AssetRun(table, located(kept, area, pairs, f"{key}s"), mapped, merges, unmapped,
                    scheme)


def _resident_people(people, zones):
    """``people.resident_people(zones)``; for areal shares, from the area table the analysis
    already made for these zones (the same numbers, without intersecting every small area
    with every zone again: ≈ 6 s at England scale)."""
    if people.method != "areal":
        return people.resident_people(zones)
    table = people.area_table(zones)
    source = table["source"].to_numpy()
    share = table["area"].to_numpy() / people.sources.geometry.area.to_numpy()[source]
    return source, table["target"].to_numpy(), people.counts[source] * share


def layer_ids(layer) -> list:
    """Each feature's id as text: its id column, else its line, row or position."""
    if not layer.id_column:
        return [str(label) for label in layer.labels]
    import pandas as pd

    column = layer.frame[layer.id_column]
    text = column.dtype == object or isinstance(column.dtype, pd.StringDtype)
    return [str(v) for v in (column.tolist() if text else column)]  # tolist: Arrow at C speed


def located(assets, area, pairs, column: str = "area_ids"):
    """Each asset with its category and the ids of the areas it falls in (``;``-joined, in
    text order, in ``column``); ``pairs``: ``assets.assign(assets, area.frame)``."""
    import numpy as np

    a, z = pairs
    ids = np.array([str(v) for v in area.ids], dtype=object)
    rank = np.argsort(np.argsort(ids))
    order = np.lexsort((rank[z], a))
    a, z = a[order], z[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]]) if len(a) else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, len(a)])
    joined = np.full(len(assets), "", dtype=object)
    joined[a[starts[sizes == 1]]] = ids[z[starts[sizes == 1]]]
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        joined[a[start]] = ";".join(ids[z[start:start + size]])
    columns = [c for c in ("asset_id", "name", "category", "source_term") if c in assets]
    out = assets[[*columns, assets.geometry.name]].copy()
    out[column] = joined.tolist()
    return out
