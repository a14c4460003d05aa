"""The asset taxonomy: source categories and OSM tags → neighbourhood-health categories.

A TOML file (the default ships in ``nbhood_cli/data/taxonomy.toml``); see its header for the
format. Loading checks it; ``categorise`` is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nbhood_cli.errors import NbhoodError

DEFAULT = Path(__file__).resolve().parent / "data" / "taxonomy.toml"
OSM_KEYS = ("amenity", "leisure", "shop", "landuse", "healthcare", "club", "social_facility",
            "office", "craft", "tourism")
_NOT_WORD = re.compile(r"[^a-z0-9=*]+")


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[str, ...]  # in file order
    labels: dict
    index: dict  # term → category
    source: str


def term(text) -> str:
    """``"Place of Worship"`` → ``place_of_worship``; OSM ``key=value`` keeps its ``=``."""
    return _NOT_WORD.sub("_", str(text).strip().lower()).strip("_")


def load(path: Path | None = None) -> Taxonomy:
    """Read and check a taxonomy file: every category has a label and terms, no term twice."""
    from nbhood_cli.project import read_toml

    path = Path(path) if path else DEFAULT
    data = read_toml(path, "check the --taxonomy path")
    index, labels = {}, {}
    for name, table in data.items():
        if not isinstance(table, dict) or not isinstance(table.get("match"), list):
            raise NbhoodError(f"{path}: category {name} needs a match = [...] list of terms")
        labels[name] = str(table.get("label", name))
        for raw in [name, *table["match"]]:  # a register already in our categories passes
            key = term(raw)
            if key in index and index[key] != name:
                raise NbhoodError(f"{path}: the term {raw!r} is in both {index[key]} and "
                                  f"{name}; keep it in one category")
            index[key] = name
    if not index:
        raise NbhoodError(f"{path}: defines no categories")
    return Taxonomy(tuple(data), labels, index, str(path))


def candidates(row: dict) -> list[str]:
    """The terms to try for one asset, most specific first."""
    found = []
    if row.get("subcategory"):
        found.append(term(row["subcategory"]))
    tags = [str(row["osm_tag"])] if row.get("osm_tag") else []
    tags += [f"{k}={row[k]}" for k in OSM_KEYS if row.get(k)]
    for tag in tags:
        key = term(tag)
        found += [key, key.split("=")[0] + "=*"]
    if row.get("category"):
        found.append(term(row["category"]))
    return found


def categorise(frame, taxonomy: Taxonomy):
    """(category per row or None, the source term tried first for each unmatched row).

    Registers repeat a few category/tag combinations many times, so each distinct
    combination is looked up once."""
    import numpy as np

    columns = [c for c in ("subcategory", "osm_tag", "category", *OSM_KEYS) if c in frame]
    if not columns:
        return [None] * len(frame), ["(no category)"] * len(frame)
    keys = frame[columns].astype("string").fillna("")
    code = keys.groupby(columns, sort=False).ngroup().to_numpy()
    _, first = np.unique(code, return_index=True)  # each combination's first row, by code
    hits, terms = [], []
    for row in keys.iloc[first].to_dict("records"):
        tried = candidates({k: v for k, v in row.items() if v.strip()})
        hit = next((taxonomy.index[t] for t in tried if t in taxonomy.index), None)
        hits.append(hit)
        terms.append(None if hit else (tried[0] if tried else "(no category)"))
    return (np.array(hits, dtype=object)[code].tolist(),
            np.array(terms, dtype=object)[code].tolist())
