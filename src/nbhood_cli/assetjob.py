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
        th=None) -> AssetRun:
    """``layer``: the register as read; ``area``: analysis.Areas; ``people``: reconcile.People
    or None (then only counts); ``score``/``decile``: per small area, or None."""
    from nbhood_cli import taxonomy as tax
    from nbhood_cli.assets import AssetThresholds, by_area, dedupe

    frame = layer.frame
    ids = layer_ids(layer)
    frame["asset_id"] = ids
    frame["category"], frame["source_term"] = tax.categorise(frame, scheme)
    kept, merges = dedupe(frame, dedupe_distance, ids)
    if len(merges):
        console.warn(f"{layer.path}: {len(merges)} duplicate(s) merged (same name within "
                     f"{dedupe_distance:g} m)")
    mapped = kept[kept["category"].notna()].reset_index(drop=True)
    unmapped = kept.loc[kept["category"].isna(), "source_term"].value_counts()
    if len(unmapped):
        console.warn(f"{layer.path}: {int(unmapped.sum())} asset(s) in {len(unmapped)} "
                     "source categories match no taxonomy category ("
                     f"{', '.join(f'{k} {v}' for k, v in unmapped.head(8).items())}); add "
                     "them to a --taxonomy file to count them")
    population = residents = None
    if people is not None:
        population = people.of(area.frame)
        residents = people.residents()
    table = by_area(area.frame, mapped, scheme.categories, population,
                    people.resident_people(area.frame) if people is not None else None,
                    residents, score, decile, th or AssetThresholds())
    table.insert(0, "area_id", area.ids)
    if area.names is not None:
        table.insert(1, "name", area.names)
    return AssetRun(table, located(kept, area), mapped, merges, unmapped, scheme)


def layer_ids(layer) -> list:
    """Each feature's id as text: its id column, else its line, row or position."""
    if layer.id_column:
        return [str(v) for v in layer.frame[layer.id_column]]
    return [str(label) for label in layer.labels]


def located(assets, area):
    """Each asset with its category and the ids of the areas it falls in (``;``-joined)."""
    from nbhood_cli.assets import assign

    a, z = assign(assets, area.frame)
    ids = [[] for _ in range(len(assets))]
    for i, j in zip(a, z, strict=True):
        ids[i].append(str(area.ids[j]))
    columns = [c for c in ("asset_id", "name", "category", "source_term") if c in assets]
    out = assets[[*columns, assets.geometry.name]].copy()
    out["area_ids"] = [";".join(sorted(v)) for v in ids]
    return out
