"""Maps for people: an A4 PNG for reports and an HTML page to explore, from the same layers.

Both take GeoDataFrames in EPSG:27700 and write one file. The same inputs give the same bytes
(no timestamps, no random element ids), so a map can be diffed, cached and checked in CI.
Areas are a light grey choropleth so that assets, coloured by category from one fixed
colour-blind-friendly palette in sorted order, read on top and keep their colour between maps.
matplotlib and folium load inside the functions: ``nbhood --help`` stays instant.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import numbers
import textwrap
from pathlib import Path

from nbhood_cli.errors import NbhoodError

BNG = "EPSG:27700"
# Okabe & Ito, then Tol's "muted": told apart with the common colour-vision deficiencies.
CATEGORY_COLOURS = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
    "#AA4499",
)
# Light to mid greys: a context layer that prints in black and white and leaves colour to assets.
CLASS_COLOURS = ("#f7f7f7", "#e1e1e1", "#c9c9c9", "#afafaf", "#959595")
SINGLE_FILL = "#ececec"  # areas when there is no value to shade by
NO_DATA = "#ffffff"
OUTLINE = "#5a5a5a"
POINT_EDGE = "#333333"
NO_CATEGORY = "(no category)"
POPUP = ("population", "assets_per_1000", "deprivation", "tension")

A4_LANDSCAPE = (11.69, 8.27)  # inches
DPI = 150
MARGIN = 0.35  # inches around the page
LEGEND_WIDTH = 2.9  # inches to the right of the map
AREA_LABELS_MAX = 40  # name areas on the PNG only while the names stay legible

# CARTO's light basemap: it serves pages opened from disk, which OSM's own tiles refuse.
TILES = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
TILES_CREDIT = '&copy; <a href="https://carto.com/attributions">CARTO</a>'
# Several lines of credits must not spread over the legend and scale in the bottom-left corner.
PAGE_STYLE = "<style>.leaflet-control-attribution { max-width: 50vw; }</style>"
OSM_CREDIT = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
              "contributors")


# --- shared by both maps -----------------------------------------------------------------------

def _bng(frame):
    """The frame in British National Grid with only drawable rows: metres for the scale bar."""
    if frame is None:
        return None
    if frame.crs is not None and frame.crs != BNG:
        frame = frame.to_crs(BNG)
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty)
    return frame[keep.to_numpy()].reset_index(drop=True)


def _finite(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def fmt(value) -> str:
    """A number as people read it (12,345 · 2.35 · 0.123); text as it is; missing as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        text = str(value)
        return "–" if text in ("<NA>", "NaT", "nan") else text
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return "–"
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"


def breaks(values, k: int = len(CLASS_COLOURS)) -> list[float]:
    """Quantile class edges: each class holds about as many areas, so a skewed rate still
    spreads over the palette; fewer classes when values repeat."""
    finite = sorted(float(v) for v in values if _finite(v))
    if not finite:
        return []
    n = len(finite)
    edges = sorted({finite[round(i * (n - 1) / k)] for i in range(k + 1)})
    return edges if len(edges) > 1 else edges * 2


def shading(areas, value: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Each area's fill colour and the legend entries (colour, label) for ``value``."""
    if value not in areas.columns:
        return [SINGLE_FILL] * len(areas), []
    values = areas[value].tolist()
    edges = breaks(values)
    if not edges:
        return [SINGLE_FILL] * len(areas), []
    m = len(edges) - 1
    palette = [CLASS_COLOURS[round(i * (len(CLASS_COLOURS) - 1) / max(m - 1, 1))]
               for i in range(m)]
    fills = [palette[_class_of(float(v), edges)] if _finite(v) else NO_DATA for v in values]
    text = _edge_texts(edges)
    legend = [(palette[i], f"{text[i]} – {text[i + 1]}") for i in range(m)]
    if NO_DATA in fills:
        legend.append((NO_DATA, "no data"))
    return fills, legend


def _edge_texts(edges: list[float]) -> list[str]:
    """Class edges with one number of decimals: none for counts, else as few as show every
    edge exactly (at most two), more only where two edges would otherwise read the same."""
    if all(float(e).is_integer() for e in edges):
        decimals = 0
    else:
        decimals = 1 if all(abs(round(e, 1) - e) < 1e-9 for e in edges) else 2
    while len({f"{e:.{decimals}f}" for e in edges}) < len(edges) and decimals < 6:
        decimals += 1
    return [f"{e:,.{decimals}f}" for e in edges]


def _class_of(v: float, edges: list[float]) -> int:
    for i in range(len(edges) - 2, 0, -1):
        if v >= edges[i]:
            return i
    return 0


def categories(assets, category: str) -> tuple[list[str], dict[str, str]]:
    """Each asset's category and a colour per category, assigned in sorted order so a
    category keeps its colour whatever else is on the map."""
    if assets is None or len(assets) == 0:
        return [], {}
    if category in assets.columns:
        names = [NO_CATEGORY if fmt(c) == "–" else str(c) for c in assets[category].tolist()]
    else:
        names = [NO_CATEGORY] * len(assets)
    ordered = sorted(set(names))
    return names, {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(ordered)}


def _column_label(column: str) -> str:
    return column.replace("_", " ")


def framed(areas, assets):
    """The layer a map is framed on: the areas, or the assets alone when there are none."""
    for frame in (areas, assets):
        if frame is not None and len(frame):
            return frame
    raise NbhoodError("nothing to map: the areas and the assets are both empty")


def _texts(frame, column: str) -> list[str | None]:
    if frame is None or column not in frame.columns:
        return [None] * (0 if frame is None else len(frame))
    return [None if fmt(v) == "–" else str(v) for v in frame[column].tolist()]


# --- the PNG -----------------------------------------------------------------------------------

def static_map(areas, assets, path, *, title: str, attribution: str,
               value: str = "assets_per_1000", category: str = "category",
               label: str = "name") -> None:
    """An A4 landscape PNG for reports: areas shaded by ``value`` (named by ``label`` when
    few), assets by ``category``, legends, a scale bar, north arrow and the attribution the
    data licences require. Drawn on a bare Agg canvas so no pyplot state leaks between runs."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from nbhood_cli.io.write import atomic_path

    areas, assets = _bng(areas), _bng(assets)
    lines = wrap(attribution, width=170)
    # DejaVu Sans ships with matplotlib: the same glyphs everywhere. Names are not TeX.
    rc = {"font.family": "DejaVu Sans", "text.parse_math": False, "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=A4_LANDSCAPE, dpi=DPI)
        FigureCanvasAgg(fig)
        ax = _map_axes(fig, len(lines))
        fills, classes = shading(areas, value)
        _draw_areas(ax, areas, fills, label)
        names, colours = categories(assets, category)
        _draw_assets(ax, assets, names, colours)
        _set_extent(ax, framed(areas, assets))
        _scale_bar(ax)
        _north_arrow(ax)
        _legends(fig, ax, colours, classes, value)
        width, height = A4_LANDSCAPE
        fig.text(MARGIN / width, 1 - MARGIN / height, title, fontsize=16, weight="bold",
                 va="top", ha="left")
        fig.text(MARGIN / width, 0.22 / height, "\n".join(lines), fontsize=6.5,
                 color="#444444", va="bottom", ha="left", linespacing=1.3)
        with atomic_path(Path(path), overwrite=True) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})


def wrap(text: str, width: int) -> list[str]:
    """Attribution lines wrapped to the page, keeping the caller's own line breaks."""
    lines = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return lines


def _map_axes(fig, attribution_lines: int):
    """The map's box: below the title, above the attribution, left of the legends."""
    width, height = A4_LANDSCAPE
    bottom = 0.35 + attribution_lines * 0.125
    top = height - 0.8
    ax = fig.add_axes((MARGIN / width, bottom / height,
                       (width - MARGIN - LEGEND_WIDTH) / width, (top - bottom) / height))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#999999")
        spine.set_linewidth(0.6)
    return ax


def _draw_areas(ax, areas, fills, label: str) -> None:
    if len(areas) == 0:
        return
    import matplotlib.patheffects as effects

    areas.plot(ax=ax, color=fills, edgecolor=OUTLINE, linewidth=0.5, zorder=1)
    ax.set_xlabel("")  # geopandas names the CRS axes; a map needs no "Easting [metre]"
    ax.set_ylabel("")
    names = _texts(areas, label)
    if len(areas) > AREA_LABELS_MAX or not any(names):
        return
    halo = [effects.withStroke(linewidth=2, foreground="white")]
    for name, point in zip(names, areas.geometry.representative_point(), strict=True):
        if name:
            ax.text(point.x, point.y, name, fontsize=6, ha="center", va="center",
                    color="#222222", zorder=4, path_effects=halo)


def _draw_assets(ax, assets, names, colours) -> None:
    for order, cat in enumerate(colours):
        rows = [i for i, n in enumerate(names) if n == cat]
        points = assets.geometry.iloc[rows].representative_point()
        ax.scatter(points.x, points.y, s=16, color=colours[cat], edgecolors=POINT_EDGE,
                   linewidths=0.4, zorder=3 + order / 100)


def _set_extent(ax, frame) -> None:
    """The layer's bounds padded 4% and widened to the box's shape: equal metres both ways."""
    xmin, ymin, xmax, ymax = (float(v) for v in frame.total_bounds)
    pad = 0.04 * max(xmax - xmin, ymax - ymin, 100.0)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    box = ax.get_position(original=True)  # plotting may already have shrunk the box
    fig_w, fig_h = ax.figure.get_size_inches()
    ratio = (box.height * fig_h) / (box.width * fig_w)  # box height per unit width
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w, h = xmax - xmin, ymax - ymin
    if h / w > ratio:
        w = h / ratio
    else:
        h = w * ratio
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")


def scale_length(width_m: float) -> float:
    """A round bar length (1, 2 or 5 × 10ⁿ m) no longer than a fifth of the map's width."""
    target = width_m / 5
    base = 10 ** math.floor(math.log10(target))
    return max(step * base for step in (1, 2, 5) if step * base <= target)


def _scale_bar(ax) -> None:
    from matplotlib.patches import Rectangle

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    length = scale_length(x1 - x0)
    left, base, thick = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0), 0.012 * (y1 - y0)
    for i, colour in enumerate(("#222222", "#ffffff")):
        ax.add_patch(Rectangle((left + i * length / 2, base), length / 2, thick,
                               facecolor=colour, edgecolor="#222222", linewidth=0.6, zorder=5))
    km = f"{length / 1000:g} km"
    ax.text(left + length / 2, base + 1.6 * thick, km, ha="center", va="bottom", fontsize=8,
            zorder=5)


def _north_arrow(ax) -> None:
    """Grid north: within a degree of true north anywhere in England."""
    ax.annotate("N", xy=(0.965, 0.96), xytext=(0.965, 0.86), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, weight="bold",
                arrowprops={"facecolor": "#222222", "edgecolor": "#222222", "width": 2,
                            "headwidth": 7, "headlength": 7})


def _legends(fig, ax, colours, classes, value: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    width, _ = A4_LANDSCAPE
    x = 1 - (LEGEND_WIDTH - 0.15) / width
    top = ax.get_position().y1
    style = {"frameon": False, "fontsize": 8, "title_fontsize": 9, "alignment": "left"}
    if colours:
        handles = [Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor=c,
                          markeredgecolor=POINT_EDGE, markeredgewidth=0.5, label=name)
                   for name, c in colours.items()]
        placed = fig.legend(handles=handles, title="Assets", loc="upper left",
                            bbox_to_anchor=(x, top), **style)
        extent = placed.get_window_extent(fig.canvas.get_renderer())
        top = fig.transFigure.inverted().transform((0, extent.y0))[1] - 0.03
    if classes:
        handles = [Patch(facecolor=c, edgecolor=OUTLINE, linewidth=0.5, label=text)
                   for c, text in classes]
        fig.legend(handles=handles, title=_column_label(value), loc="upper left",
                   bbox_to_anchor=(x, top), **style)


# --- the HTML ----------------------------------------------------------------------------------

def interactive_map(areas, assets, path, *, title: str, attribution: str,
                    area_id: str = "area_id", label: str = "name", popup=POPUP,
                    value: str = "assets_per_1000", category: str = "category") -> None:
    """A Leaflet page to explore: areas shaded by ``value`` with a popup of the ``popup``
    columns they have, one switchable layer of circle markers per asset category (same
    colours as the PNG), a title, a legend and the attribution. Only Leaflet comes from a CDN;
    the data is embedded. User text is escaped; element ids are numbered, not random."""
    import folium

    from nbhood_cli.io.write import atomic_path

    areas, assets = _bng(areas), _bng(assets)
    fmap = folium.Map(location=None, tiles=None, control_scale=True)
    # Leaflet alone draws this map: no jQuery, Bootstrap or icon fonts to fetch.
    fmap.default_js = [pair for pair in folium.Map.default_js if pair[0] == "leaflet"]
    fmap.default_css = [pair for pair in folium.Map.default_css if pair[0] == "leaflet_css"]
    folium.TileLayer(TILES, attr=attribution_html(attribution), name="Basemap",
                     control=False, subdomains="abcd", max_zoom=20).add_to(fmap)
    fills, classes = shading(areas, value)
    if len(areas):
        _area_layer(folium, areas, fills, area_id, label, popup, value).add_to(fmap)
    names, colours = categories(assets, category)
    for cat, colour in colours.items():
        rows = [i for i, n in enumerate(names) if n == cat]
        _asset_layer(folium, assets.iloc[rows], cat, colour, label).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(_latlon_bounds(framed(areas, assets)))
    root = fmap.get_root()
    root.header.add_child(folium.Element(f"<title>{html.escape(title)}</title>\n{PAGE_STYLE}"),
                          name="title")
    root.html.add_child(folium.Element(_overlay_html(title, classes, value)), name="overlay")
    number_elements(root)
    with atomic_path(Path(path), overwrite=True) as tmp:
        tmp.write_text(root.render(), encoding="utf-8", newline="\n")


def attribution_html(attribution: str) -> str:
    """The caller's credits, escaped, one line each, then the basemap's own credits."""
    lines = [html.escape(line.strip()) for line in attribution.splitlines() if line.strip()]
    if "openstreetmap" not in attribution.lower():
        lines.append(OSM_CREDIT)
    return " | ".join([*lines, TILES_CREDIT])


def number_elements(root) -> None:
    """folium names every element with a random uuid4, so two runs differ; number them in tree
    order instead (map_1, geo_json_5 …): the same map gives the same bytes."""
    counter = itertools.count(1)

    def walk(element) -> None:
        element._id = str(next(counter))
        for child in element._children.values():
            walk(child)

    walk(root)


def _features(frame) -> list[dict]:
    """Geometry as RFC 7946 features (lon/lat rounded to 6 dp) with empty properties."""
    from nbhood_cli.io.write import geojson_text

    features = json.loads(geojson_text(frame[[frame.geometry.name]]))["features"]
    for i, feature in enumerate(features):
        feature["id"] = str(i)
    return features


def _area_layer(folium, areas, fills, area_id, label, popup, value):
    """One GeoJson of the areas: a style per fill colour, a tooltip with the name and a popup
    table. Values go in pre-formatted and escaped: Leaflet sets them as HTML."""
    columns = [c for c in dict.fromkeys([area_id, label, *popup]) if c in areas.columns]
    features = _features(areas)
    rows = areas[columns].itertuples(index=False, name=None) if columns else [()] * len(areas)
    names = _texts(areas, label) if label in areas.columns else _texts(areas, area_id)
    for feature, row, name in zip(features, rows, names, strict=True):
        feature["properties"] = {f"p{i}": html.escape(fmt(v)) for i, v in enumerate(row)}
        feature["properties"]["tip"] = html.escape(name or "")
    styles = [{"fillColor": fill, "color": OUTLINE, "weight": 1, "fillOpacity": 0.75}
              for fill in fills]
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=html.escape(f"Areas: {_column_label(value)}"),
        style_function=lambda f: styles[int(f["id"])],
        highlight_function=lambda f: {"weight": 3, "color": "#222222"},
    )
    if columns:
        folium.GeoJsonPopup(fields=[f"p{i}" for i in range(len(columns))],
                            aliases=[html.escape(_column_label(c)) for c in columns],
                            localize=False).add_to(layer)
    if any(names):
        folium.GeoJsonTooltip(fields=["tip"], labels=False).add_to(layer)
    return layer


def _asset_layer(folium, assets, cat: str, colour: str, label: str):
    """One switchable layer per category; its name in the layer control is its legend."""
    features = _features(assets)
    for feature, name in zip(features, _texts(assets, label), strict=True):
        feature["properties"] = {"tip": html.escape(f"{name} — {cat}" if name else cat)}
    style = {"color": POINT_EDGE, "weight": 1, "fillColor": colour, "fillOpacity": 0.9}
    swatch = f'<span style="color:{colour}">&#9679;</span>'
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=f"{swatch} {html.escape(cat)} ({len(features)})",
        marker=folium.CircleMarker(radius=5, **style, fill=True),
        style_function=lambda f: style,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )


def _latlon_bounds(frame) -> list[list[float]]:
    west, south, east, north = (round(float(v), 6) for v in frame.to_crs("EPSG:4326").total_bounds)
    return [[south, west], [north, east]]


def _overlay_html(title: str, classes, value: str) -> str:
    """The title box and the choropleth legend, fixed over the map."""
    box = ("position:fixed;z-index:1000;background:rgba(255,255,255,0.92);padding:6px 10px;"
           "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.3);font:13px/1.4 sans-serif")
    parts = [f'<div id="nbhood-title" style="{box};top:10px;left:60px;font-size:16px;'
             f'font-weight:bold">{html.escape(title)}</div>']
    if classes:
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            f'vertical-align:middle;border:1px solid {OUTLINE};background:{colour}"></span>'
            f"{html.escape(text)}</div>" for colour, text in classes)
        parts.append(f'<div id="nbhood-legend" style="{box};bottom:64px;left:10px">'
                     f"<b>{html.escape(_column_label(value))}</b>{rows}</div>")
    return "\n".join(parts)
