"""The ``nbhood map`` report: one self-contained HTML file a data officer can email, and the
run's maps. Rendering only: every figure comes from the analysis already done."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from nbhood_cli.mapjob import PEOPLE_COLUMNS

# Statutory outlines, then gaps, contested land and slivers: apart from the area greys and
# the asset categories' colours.
STATUTORY_COLOURS = ("#2166ac", "#1b7837", "#762a83", "#8c510a", "#01665e")
GAP_COLOUR, CONTESTED_COLOUR, SLIVER_COLOUR = "#bf812d", "#c51b7d", "#542788"
POPUP = ("population", "size_band", "tension_max", "assets_per_1000", "imd_score",
         "double_disadvantage")
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.headline{display:flex;flex-wrap:wrap;gap:1rem}.headline div{background:#f3f3f3;padding:.6rem 1rem}
.headline b{display:block;font-size:1.4rem}img{max-width:100%}.note{color:#555;font-size:.9rem}
"""


def maps(community, assets, png: Path, page: Path, title: str, credits: str,
         layers: dict | None = None, suppress_below: int = 0) -> list[str]:
    """map.png and map.html: community areas shaded by their worst tension (or population),
    with the assets on top when there are any. map.html also draws ``layers`` (name → frame as
    written to layers/: each statutory layer, gaps, contested land, slivers), outlines the
    areas by their worst tension and publishes people counts as the layers do. Returns the
    notes map.html shows (simplified shapes, assets as dots), for the log."""
    import geopandas as gpd

    from nbhood_cli import maps as draw
    from nbhood_cli.mapjob import suppress

    value = "tension_max" if "tension_max" in community else "population"
    if assets is not None:
        points = assets.mapped.assign(
            category=assets.mapped["category"].map(assets.scheme.labels))
    else:
        points = gpd.GeoDataFrame({"category": [], "name": []}, geometry=[],
                                  crs=community.crs)
    draw.static_map(community, points, png, title=title, attribution=credits, value=value)
    popup = tuple(c for c in (*POPUP, *community.filter(regex="^severity_").columns)
                  if c in community)
    shown = suppress(community, suppress_below).assign(severity=worst_severity(community))
    if value in community:  # shaded by the numbers, whatever is published
        shown[value] = community[value]
    return draw.interactive_map(shown, points, page, title=title, attribution=credits,
                                area_id="community_id", popup=popup, value=value,
                                tension="severity", overlays=overlays(layers or {}))


def draw(build: Path, summary: dict, community, products: dict, assets, project,
         credits: str, layers: dict) -> list[str]:
    """map.png, map.html and report.html into ``build``; returns map.html's notes."""
    from nbhood_cli.io.write import write_text

    png = build / "map.png"
    notes = maps(community, assets, png, build / "map.html", project.title, credits, layers,
                 project.suppress_below)
    write_text(page(summary, community, products, assets, png, project, credits),
               build / "report.html")
    return notes


def worst_severity(community):
    """Each area's worst tension label over the statutory layers (None without tensions)."""
    import numpy as np

    from nbhood_cli.tensions import SEVERITY_LABELS

    levels = community.filter(regex="^severity_")
    rank = {label: i for i, label in enumerate(SEVERITY_LABELS)}
    worst = np.full(len(community), -1)
    for column in levels:
        worst = np.maximum(worst, levels[column].map(rank).fillna(-1).to_numpy(dtype=int))
    return [SEVERITY_LABELS[i] if i >= 0 else None for i in worst]


def overlays(layers: dict) -> list:
    """map.html's layers between the community areas and the assets: each statutory layer
    as a dashed outline, then gaps (one switch per statutory layer), contested land and
    slivers, each with a tooltip and a popup of its own columns."""
    from nbhood_cli.maps import Overlay

    out = []
    statutory = [(name.removeprefix("statutory_"), frame) for name, frame in layers.items()
                 if name.startswith("statutory_")]
    for i, (name, frame) in enumerate(statutory):
        out.append(Overlay(f"{name} units", frame.assign(tip=_tips(frame, name, "unit_id")),
                           STATUTORY_COLOURS[i % len(STATUTORY_COLOURS)], dash="6 4",
                           tip="tip", popup=("unit_id", "name", "population", "covered_share",
                                             "size_band")))
    gaps = layers.get("gaps")
    if gaps is not None:
        for name, rows in gaps.groupby("layer", sort=False):
            out.append(Overlay(f"Gaps: {name}", rows.assign(
                tip=_tips(rows, f"people in no community area, {name}", "unit_id")),
                GAP_COLOUR, fill=0.3, tip="tip",
                popup=("layer", "unit_id", "population", "share_of_unit", "area_m2")))
    if layers.get("contested") is not None:
        frame = layers["contested"]
        out.append(Overlay("Contested land", frame.assign(
            tip=_tips(frame, "claimed by", "claimants")), CONTESTED_COLOUR, fill=0.5,
            tip="tip", popup=("claimants", "population", "area_m2")))
    if layers.get("slivers") is not None:
        frame = layers["slivers"]
        out.append(Overlay("Slivers", frame.assign(tip=_tips(frame, "sliver:", "kind")),
                           SLIVER_COLOUR, fill=0.6, tip="tip",
                           popup=("kind", "layer", "claimants", "unit_id", "area_m2",
                                  "population")))
    return out


def _tips(frame, prefix: str, column: str) -> list[str]:
    names = frame["name"].tolist() if "name" in frame else [None] * len(frame)
    return [f"{prefix} {key}" + (f" — {name}" if isinstance(name, str) and name else "")
            for key, name in zip(frame[column].tolist(), names, strict=True)]


def html_table(frame, columns=None, limit: int | None = None) -> str:
    columns = [c for c in (columns or frame.columns) if c in frame]
    rows = frame[columns].head(limit) if limit else frame[columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(c, v) for c, v in zip(columns, row, strict=True))
                   + "</tr>" for row in rows.itertuples(index=False, name=None))
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(column: str, value) -> str:
    if isinstance(value, float):
        if value != value:
            return '<td class="n">–</td>'
        text = f"{value:.3f}" if ("share" in column or column.startswith(("fit", "tension"))) \
            else f"{value:,.0f}" if column in PEOPLE_COLUMNS or column.endswith("_m") \
            else f"{value:,.2f}"
        return f'<td class="n">{text}</td>'
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def page(summary: dict, community, products: dict, assets, png: Path, project,
         credits: str) -> str:
    """The report: headline numbers, tense areas, gaps, contested land, size bands, asset
    gaps and double disadvantage, methods, thresholds, inputs and attributions."""
    from nbhood_cli.mapjob import suppress

    n = project.suppress_below
    parts = [f"<h1>{html.escape(project.title)}</h1>"]
    if summary.get("sample_town"):
        parts.append('<p class="note">Fictional sample town: no real place, people or '
                     "data.</p>")
    if summary.get("generated_at"):
        parts.append(f'<p class="note">Generated {html.escape(summary["generated_at"])}</p>')
    parts.append(_headline(summary, community))
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    parts.append(f'<img alt="Map of the community areas" src="data:image/png;base64,{image}">')
    if "tensions" in products:
        tense = suppress(community.sort_values("tension_max", ascending=False), n)
        columns = ["community_id", "name", "population", "tension_max",
                   *community.filter(regex="^(best_fit|severity)_").columns]
        parts += ["<h2>Most tense areas</h2>",
                  "<p>Tension = 1 − the largest share of an area's people in one statutory "
                  "unit; the worst layer first.</p>", html_table(tense, columns, limit=10)]
    if "gaps" in products:
        gaps = products["gaps"].sort_values(["layer", "population"], ascending=[True, False])
        parts += ["<h2>Gaps: people no community area claims</h2>",
                  html_table(suppress(gaps, n), ["layer", "unit_id", "population",
                                                 "share_of_unit", "area_m2"], limit=15)]
    if "contested" in products:
        parts += ["<h2>Contested land</h2>",
                  "<p>Land claimed by two or more community areas.</p>",
                  html_table(suppress(products["contested"], n),
                             ["claimants", "area_m2", "population"])]
    if "size_bands" in products:
        bands = products["size_bands"]
        parts += ["<h2>Size bands</h2>", html_table(
            bands.groupby(["layer", "size_band"]).size().reset_index(name="areas"))]
    if assets is not None:
        parts += _asset_section(assets, n, project)
    parts += _methods(summary, project, credits)
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(project.title)}</title><style>{STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _headline(summary: dict, community) -> str:
    pop = summary.get("population", {})
    items = [(_plural(len(community), "community area"), f"{len(community):,}")]
    if pop:
        items += [("people in small areas", f"{pop['source_total']:,.0f}"),
                  ("in no community area", f"{pop['unallocated']:,.0f}"),
                  ("counted twice (contested land)", f"{pop['counted_twice']:,.0f}")]
    for layer, counts in summary.get("tension", {}).items():
        items.append((f"high tension vs {layer}", f"{counts.get('high', 0):,}"))
    if "contested" in summary:
        n = summary["contested"]["areas"]
        items.append((_plural(n, "contested area"), f"{n:,}"))
    if "assets" in summary:
        items.append(("doubly disadvantaged",
                      f"{len(summary['assets']['double_disadvantage']):,}"))
    cells = "".join(f"<div><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in items)
    return f'<div class="headline">{cells}</div>'


def _plural(n: int, noun: str) -> str:
    return noun if n == 1 else f"{noun}s"


def _asset_section(assets, n: int, project) -> list[str]:
    from nbhood_cli.mapjob import suppress

    table = assets.table
    parts = ["<h2>Assets</h2>",
             f"<p>{len(assets.mapped):,} assets; {int(assets.unmapped.sum()):,} "
             f"unmapped; {len(assets.merges):,} duplicates merged.</p>"]
    fewest = table.sort_values("assets_per_1000") if "assets_per_1000" in table else table
    parts.append(html_table(suppress(fewest, n),
                            ["community_id", "name", "population", "assets_total",
                             "assets_per_1000", "imd_score", "double_disadvantage",
                             "categories_missing"], limit=15))
    if "double_disadvantage" in table:
        flagged = table[table["double_disadvantage"]]
        names = ", ".join(html.escape(str(v)) for v in
                          (flagged["name"] if "name" in flagged else flagged["community_id"]))
        parts.append(f"<p><b>Doubly disadvantaged</b> (among the most deprived "
                     f"{project.deprived_share * 100:g}% of areas and the "
                     f"{project.fewest_share * 100:g}% with fewest assets per 1,000): "
                     f"{names or 'none'}.</p>")
    return parts


def _methods(summary: dict, project, credits: str) -> list[str]:
    th = summary.get("thresholds", {})
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in th.items())
    inputs = "".join(f"<tr><td>{html.escape(i['role'])}</td><td>{html.escape(i['path'])}</td>"
                     f"<td><code>{i['sha256'][:16]}…</code></td></tr>"
                     for i in summary.get("inputs", []))
    pop = summary.get("population", {})
    check = "holds" if pop.get("conserved") else "FAILED" if pop else "not run"
    return [
        "<h2>Methods</h2>",
        f"<p>Population by <b>{html.escape(summary.get('method', 'areal'))}</b> interpolation "
        "from small-area counts (areal: people spread evenly over each small area's land; "
        "centroid: ONS best-fit; dasymetric: in proportion to weights). Conservation check "
        f"(allocated − counted twice + unallocated = total): <b>{check}</b>. Distances are "
        "straight lines. Methods and their measured accuracy: docs/methods.md in nbhood.</p>",
        f"<h3>Thresholds</h3><table>{rows}</table>",
        f"<h3>Inputs</h3><table>{inputs}</table>",
        "<h3>Attribution</h3><p>" + "<br>".join(html.escape(line) for line in
                                                 credits.splitlines()) + "</p>",
        f'<p class="note">nbhood {html.escape(summary["tool"]["version"])}</p>',
    ]
