"""Proposed neighbourhood units: small areas grouped into contiguous units within population
bounds that keep community areas together and nest in a statutory layer.

Pure (frames in, frames out). Each small area belongs to the nest unit holding the largest
share of its area, and to a community area when more than ``mostly`` of its area lies in it.
The contiguity graph (``adjacency``) keeps only links within one nest unit, so no unit can
cross one; ``partition`` cuts that graph. Everything reported — violations with their
reasons, which community areas were split or merged and why, compactness — is worked out
afresh from the final assignment, not from the algorithm's bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbhood_cli.adjacency import components, neighbours
from nbhood_cli.footprint import whole
from nbhood_cli.partition import Problem, partition


@dataclass
class Settings:
    """The targets and choices of one run (the CLI's defaults)."""

    min_pop: float = 3_000
    max_pop: float = 10_000
    mostly: float = 0.5  # a small area belongs to a community area holding more of its area
    adjacency: str = "rook"
    seed: int = 0


@dataclass
class Proposal:
    units: object  # GeoDataFrame, one row per unit, by unit_id
    small_areas: object  # DataFrame: each small area's unit, community area and parent
    community: object  # DataFrame per community area (None without community areas)
    summary: dict


def propose(small, counts, ids, settings: Settings | None = None, community=None,
            nest=None) -> Proposal:
    """Units for the small areas (``small`` a GeoDataFrame in metres, ``counts`` its people,
    ``ids`` its codes); ``community`` and ``nest`` are ``analysis.Areas`` or None."""
    import numpy as np
    import shapely

    settings = settings or Settings()
    codes = [str(c) for c in ids]
    order = sorted(range(len(codes)), key=codes.__getitem__)
    frame = small.iloc[order].reset_index(drop=True)
    codes = [codes[k] for k in order]
    pop = np.asarray(counts, dtype=float)[order]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    parent = belongs(frame, nest, 0.0)
    member = belongs(frame, community, settings.mostly)
    graph = neighbours(geoms, settings.adjacency)
    within = parent[graph.i] == parent[graph.j]
    lists = graph.lists(within)
    shared = dict(zip(zip(graph.i[within].tolist(), graph.j[within].tolist(), strict=True),
                      graph.shared[within].tolist(), strict=True))
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    label = np.asarray(partition(Problem(
        pop.tolist(), xy, lists, shared, member.tolist(), settings.min_pop, settings.max_pop,
        np.random.default_rng(settings.seed))), dtype=np.int64)
    facts = _Facts(codes, pop, geoms, parent, member, label, lists, settings, community, nest)
    units = facts.units(frame.crs)
    table = facts.community_table() if community is not None else None
    return Proposal(units, facts.small_areas(), table, facts.summary(units, table))


def belongs(frame, areas, mostly: float):
    """Per small area, the index of the area holding the largest share of its land when
    that share is above ``mostly``; -1 otherwise (ties: the smaller id)."""
    import numpy as np

    from nbhood_cli.population import area_table

    out = np.full(len(frame), -1, np.int64)
    if areas is None or len(frame) == 0 or len(areas.frame) == 0:
        return out
    table = area_table(frame, areas.frame)
    table["share"] = table["area"] / frame.geometry.area.to_numpy()[table["source"]]
    table["id"] = [str(areas.ids[t]) for t in table["target"]]
    table = table.sort_values(["source", "share", "id"], ascending=[True, False, True],
                              kind="stable").drop_duplicates("source")
    table = table[table["share"] > mostly]
    out[table["source"].to_numpy()] = table["target"].to_numpy()
    return out


class _Facts:
    """The final assignment and what can be said about it, measured independently."""

    def __init__(self, codes, pop, geoms, parent, member, label, lists, settings, community,
                 nest):
        import numpy as np

        self.codes, self.pop, self.geoms = codes, pop, geoms
        self.parent, self.member, self.label = parent, member, label
        self.lists, self.settings = lists, settings
        self.community, self.nest = community, nest
        self.integral = whole(pop).dtype.kind == "i"
        n_units = int(label.max()) + 1 if len(label) else 0
        self.nodes = [[] for _ in range(n_units)]
        for v, u in enumerate(label.tolist()):
            self.nodes[u].append(v)
        self.blocks = {tuple(b) for b in components(len(codes), lists)}
        self.per_parent = np.bincount(parent[parent >= 0], minlength=self._n(nest))
        # units numbered in order of parent, then first small area
        self.order = sorted(range(n_units),
                            key=lambda u: (self._parent_id(parent[self.nodes[u][0]]), u))
        width = max(3, len(str(n_units)))
        self.unit_id = [""] * n_units
        for k, u in enumerate(self.order):
            self.unit_id[u] = f"U{k + 1:0{width}d}"

    @staticmethod
    def _n(areas) -> int:
        return 0 if areas is None else len(areas.ids)

    def _amount(self, value):
        return int(round(value)) if self.integral else float(value)

    def _parent_id(self, index) -> str:
        return "" if index < 0 else str(self.nest.ids[index])

    def _community_id(self, index) -> str:
        return "" if index < 0 else str(self.community.ids[index])

    # --- units ---------------------------------------------------------------------------

    def units(self, crs):
        """One row per unit, by unit_id."""
        import geopandas as gpd
        import numpy as np
        import shapely

        rows, geoms = [], []
        for u in self.order:
            nodes = self.nodes[u]
            shape = shapely.union_all(self.geoms[nodes])
            total = float(self.pop[nodes].sum())
            communities = sorted({self._community_id(c) for c in self.member[nodes]} - {""})
            rows.append({
                "unit_id": self.unit_id[u],
                "population": self._amount(total),
                "n_small_areas": len(nodes),
                "small_areas": ";".join(self.codes[v] for v in nodes),
                "community_ids": ";".join(communities),
                "parent": self._parent_id(self.parent[nodes[0]]),
                "compactness": _polsby_popper(shape),
                "violation": self._violation(nodes, total),
            })
            geoms.append(shape)
        return gpd.GeoDataFrame(rows, geometry=np.asarray(geoms, dtype=object), crs=crs)

    def _violation(self, nodes, total) -> str:
        """Why a unit is outside the bounds, or '' when it is within them."""
        s = self.settings
        if total > s.max_pop:
            return ("a single small area exceeds max-pop" if len(nodes) == 1
                    else "could not be split within the bounds")
        if total >= s.min_pop:
            return ""
        if tuple(nodes) in self.blocks:
            p = self.parent[nodes[0]]
            if p >= 0 and self.per_parent[p] == len(nodes):
                return "nest unit below min-pop"
            return ("island: no neighbour in its nest unit" if self.nest is not None
                    else "island: no neighbouring small area")
        around = {int(self.label[w]) for v in nodes for w in self.lists[v]} - {
            int(self.label[nodes[0]])}
        if all(len(self.nodes[u]) == 1 and self.pop[self.nodes[u][0]] > s.max_pop
               for u in around):
            return "walled in by small areas above max-pop"
        return "neighbouring units cannot take it within max-pop"

    def small_areas(self):
        import pandas as pd

        return pd.DataFrame({
            "small_area": self.codes,
            "population": whole(self.pop),
            "unit_id": [self.unit_id[u] for u in self.label.tolist()],
            "community_id": [self._community_id(c) for c in self.member.tolist()],
            "parent": [self._parent_id(p) for p in self.parent.tolist()],
        })

    # --- community areas -----------------------------------------------------------------

    def community_table(self):
        """Each community area: whole, merged or split, and why."""
        import pandas as pd

        held = [set() for _ in self.nodes]  # community areas in each unit
        for v, c in enumerate(self.member.tolist()):
            if c >= 0:
                held[self.label[v]].add(c)
        mine = [[] for _ in self.community.ids]
        for v, c in enumerate(self.member.tolist()):
            if c >= 0:
                mine[c].append(v)
        names = self.community.names
        rows = []
        for c, cid in enumerate(self.community.ids):
            row = {"community_id": str(cid)}
            if names is not None:
                row["name"] = names[c]
            row.update(self._community_row(c, mine[c], held))
            rows.append(row)
        return pd.DataFrame(rows).sort_values("community_id", kind="stable") \
            .reset_index(drop=True)

    def _community_row(self, c, nodes, held) -> dict:
        if not nodes:
            return {"small_areas": 0, "population": self._amount(0), "units": "",
                    "status": "no small area",
                    "reason": f"no small area has more than {self.settings.mostly:.0%} of "
                              "its area inside it"}
        units = sorted({self.label[v] for v in nodes})
        split = len(units) > 1
        with_others = [u for u in units if len(held[u]) > 1]
        reasons = self._split_reasons(nodes) if split else []
        if with_others:
            part = min(float(self.pop[[v for v in nodes if self.label[v] == u]].sum())
                       for u in with_others)
            reasons.append(f"{self._fmt(part)} people, below min-pop"
                           if part < self.settings.min_pop
                           else "took in a neighbour below min-pop")
        status = {(False, False): "kept whole", (False, True): "merged",
                  (True, False): "split", (True, True): "split and merged"}
        return {"small_areas": len(nodes), "population": self._amount(self.pop[nodes].sum()),
                "units": ";".join(sorted(self.unit_id[u] for u in units)),
                "status": status[(split, bool(with_others))], "reason": "; ".join(reasons)}

    def _split_reasons(self, nodes) -> list[str]:
        reasons = []
        if len({int(self.parent[v]) for v in nodes}) > 1:
            reasons.append("crosses nest units")
        elif len(components(len(self.codes), self.lists, nodes)) > 1:
            reasons.append("its small areas are not contiguous")
        total = float(self.pop[nodes].sum())
        if total > self.settings.max_pop:
            reasons.append(f"{self._fmt(total)} people, above max-pop")
        return reasons or ["a neighbouring unit needed some of its small areas to meet the "
                           "bounds"]

    def _fmt(self, value) -> str:
        return f"{value:,.0f}" if self.integral else f"{value:,.1f}"

    # --- summary -------------------------------------------------------------------------

    def summary(self, units, table) -> dict:
        s = self.settings
        bad = units[units["violation"] != ""]
        summary = {
            "units": int(len(units)),
            "small_areas": len(self.codes),
            "population": self._amount(self.pop.sum()),
            "min_pop": s.min_pop, "max_pop": s.max_pop, "adjacency": s.adjacency,
            "mostly": s.mostly, "seed": s.seed,
            "violations": {
                "below_min": int((units["population"] < s.min_pop).sum()),
                "above_max": int((units["population"] > s.max_pop).sum()),
                "units": [{"unit_id": r.unit_id, "population": r.population,
                           "violation": r.violation} for r in bad.itertuples()],
            },
            "compactness": {"mean": float(units["compactness"].mean()) if len(units) else None,
                            "min": float(units["compactness"].min()) if len(units) else None},
        }
        if self.nest is not None:
            summary["nest"] = {"layer": self.nest.name, "units": len(self.nest.ids),
                               "small_areas_outside": int((self.parent < 0).sum())}
        if table is not None:
            status = table["status"]
            summary["community_areas"] = {
                "total": int(len(table)),
                "with_small_areas": int((status != "no small area").sum()),
                "in_one_unit": int(status.isin(["kept whole", "merged"]).sum()),
                "split": int(status.str.startswith("split").sum()),
                "merged": int(status.str.endswith("merged").sum()),
                "without_small_areas": int((status == "no small area").sum()),
            }
        return summary


def _polsby_popper(shape) -> float:
    """4πA/P²: 1 for a disc, lower for a stretched or ragged unit (holes count as edge)."""
    import math

    import shapely

    length = shapely.length(shape)
    return float(4 * math.pi * shapely.area(shape) / length ** 2) if length > 0 else 0.0
