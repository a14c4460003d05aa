"""Maps for people: an A4 PNG for reports and an HTML page to explore, from the same layers.

Both take GeoDataFrames in EPSG:27700 and write one file. The same inputs give the same bytes
(no timestamps, no random element ids), so a map can be diffed, cached and checked in CI.
Areas are a light grey choropleth so that assets, coloured by category from one fixed
colour-blind-friendly palette in sorted order, read on top and keep their colour between maps.
matplotlib and folium load inside the functions: ``nbhood --help`` stays instant.
"""

from __future__ import annotations

import dataclasses
import functools
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
    import numpy as np
    import pandas as pd

    if assets is None or len(assets) == 0:
        return [], {}
    if category in assets.columns:
        codes, uniques = pd.factorize(assets[category], use_na_sentinel=False)
        labels = np.array([NO_CATEGORY if fmt(c) == "–" else str(c) for c in uniques],
                          dtype=object)  # each distinct value once: half a million assets
        names = labels[codes].tolist()
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
    from matplotlib.collections import PathCollection

    if _all_polygons(areas):
        ax.add_collection(PathCollection(area_paths(areas.geometry.values), facecolor=fills,
                                         edgecolor=OUTLINE, linewidth=0.5, zorder=1))
    else:  # points or lines given as areas: geopandas draws any geometry
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


def area_paths(geoms) -> list:
    """One matplotlib path per (multi)polygon, exactly as ``GeoDataFrame.plot`` builds it
    (normalised rings, each closed, all parts in one path), but from the coordinate arrays at
    once: ten thousand areas in a tenth of the time."""
    import numpy as np
    import shapely
    from matplotlib.path import Path as MplPath

    geoms = shapely.normalize(np.asarray(geoms, dtype=object))
    _, xy, offsets = shapely.to_ragged_array(geoms)
    if len(offsets) == 2:  # polygons only: each is its own single part
        offsets = (*offsets, np.arange(len(geoms) + 1))
    ring_at, part_at, geom_at = offsets
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[ring_at[:-1]] = MplPath.MOVETO
    codes[ring_at[1:] - 1] = MplPath.CLOSEPOLY
    first = ring_at[part_at[geom_at]].tolist()
    return [MplPath(xy[a:b], codes[a:b]) for a, b in zip(first[:-1], first[1:], strict=True)]


def _all_polygons(frame) -> bool:
    import numpy as np
    import shapely

    return bool(np.isin(shapely.get_type_id(frame.geometry.values), (3, 6)).all())


def _draw_assets(ax, assets, names, colours) -> None:
    import numpy as np
    import shapely

    if not colours:
        return
    names = np.asarray(names, dtype=object)
    geoms = np.asarray(assets.geometry.values, dtype=object)
    solid = shapely.get_type_id(geoms) != 0  # parks: drawn at a point on their surface
    geoms[solid] = shapely.point_on_surface(geoms[solid])
    xy = shapely.get_coordinates(geoms)
    for order, cat in enumerate(colours):
        x, y = xy[names == cat].T
        ax.scatter(x, y, s=16, color=colours[cat], edgecolors=POINT_EDGE, linewidths=0.4,
                   zorder=3 + order / 100)


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

MARKERS_MAX = 20_000  # assets drawn as labelled markers up to this many; beyond, as plain dots
VERTICES_MAX = 500_000  # shapes drawn exactly up to this many vertices; beyond, simplified
SIMPLIFY_SHARE = 1e-4  # simplified to this share of the map's width, as a round number of metres
HOVER = {"weight": 3, "color": "#222222"}
# Area outlines by how tense the area is: tension stands out whatever the fill.
TENSION_LINES = {"high": {"color": "#b2182b", "weight": 3}, "medium": {"color": "#ef6548",
                                                                        "weight": 2}}


@dataclasses.dataclass(frozen=True)
class Overlay:
    """One more switchable layer on the page, drawn between the areas and the assets: its name
    in the layer control, its features (any CRS), its colour (outline, and fill when ``fill``
    is an opacity above 0), the column shown on hover and the columns shown on click."""

    name: str
    frame: object
    colour: str
    fill: float = 0.0
    dash: str | None = None
    tip: str | None = None
    popup: tuple = ()


def interactive_map(areas, assets, path, *, title: str, attribution: str,
                    area_id: str = "area_id", label: str = "name", popup=POPUP,
                    value: str = "assets_per_1000", category: str = "category",
                    overlays=(), tension: str | None = None) -> list[str]:
    """A Leaflet page to explore: areas shaded by ``value`` (outlined by their ``tension``
    label when given) with a popup of the ``popup`` columns they have, the ``overlays``, and
    one switchable layer per asset category (same colours as the PNG), a title, a legend and
    the attribution. Only Leaflet comes from a CDN; the data is embedded. User text is
    escaped; element ids are numbered, not random.

    A big map stays openable: beyond ``VERTICES_MAX`` vertices the shapes are simplified, and
    beyond ``MARKERS_MAX`` assets they are drawn as plain dots on one canvas per category.
    Returns what was left out or simplified, in words, for the page and the log."""
    import folium
    import numpy as np

    from nbhood_cli.io.write import atomic_path, geometry_texts

    areas, assets = _bng(areas), _bng(assets)
    overlays = [dataclasses.replace(o, frame=_bng(o.frame)) for o in overlays]
    tolerance = _tolerance([areas, *(o.frame for o in overlays)])
    dots = assets is not None and len(assets) > MARKERS_MAX
    notes = _notes(tolerance, len(assets) if dots else 0)
    precision = 6 if tolerance is None else 5
    fmap = folium.Map(location=None, tiles=None, control_scale=True,
                      prefer_canvas=bool(dots or tolerance))
    # Leaflet alone draws this map: no jQuery, Bootstrap or icon fonts to fetch.
    fmap.default_js = [pair for pair in folium.Map.default_js if pair[0] == "leaflet"]
    fmap.default_css = [pair for pair in folium.Map.default_css if pair[0] == "leaflet_css"]
    folium.TileLayer(TILES, attr=attribution_html(attribution), name="Basemap",
                     control=False, subdomains="abcd", max_zoom=20).add_to(fmap)
    raw, script, layer = _elements(folium)
    script(SCRIPT).add_to(fmap)
    fills, classes = shading(areas, value)
    shown = _shapes(areas, tolerance)
    shapes, spots = [], []  # (name, frame, properties, options); (name, data, options)
    if len(areas):
        shapes.append((_escape(f"Areas: {_column_label(value)}"),
                       *_area_data(shown, fills, area_id, label, popup, tension)))
    for overlay in overlays:
        if len(overlay.frame):
            shapes.append((_swatch(overlay) + f" {_escape(overlay.name)} "
                           f"({len(overlay.frame):,})", *_overlay_data(overlay, tolerance)))
    names, colours = categories(assets, category)
    names = np.asarray(names, dtype=object)
    for cat, colour in colours.items():
        these = assets[names == cat]
        name = f'<span style="color:{colour}">&#9679;</span> {_escape(cat)} ({len(these):,})'
        if dots:
            spots.append((name, _dot_data(these), _js({"colour": colour})))
        else:
            shapes.append((name, *_marker_data(these, cat, colour, label)))
    # All the shapes at once: the layers share boundaries, so their vertices are shared too.
    texts = geometry_texts([frame for _, frame, _, _ in shapes], precision)
    for (name, _, properties, options), geometry in zip(shapes, texts, strict=True):
        layer(name, "shapes", _collection(properties, geometry), options).add_to(fmap)
    for name, data, options in spots:
        layer(name, "dots", data, options).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(_latlon_bounds(framed(shown, assets)))
    root = fmap.get_root()
    root.header.add_child(raw(f"<title>{_escape(title)}</title>\n{PAGE_STYLE}"), name="title")
    present = set(_texts(areas, tension)) if tension is not None else set()
    lines = {level: style for level, style in TENSION_LINES.items() if level in present}
    root.html.add_child(raw(_overlay_html(title, classes, value, lines, notes)),
                        name="overlay")
    number_elements(root)
    with atomic_path(Path(path), overwrite=True) as tmp:
        tmp.write_text(root.render(), encoding="utf-8", newline="\n")
    return notes


# Shared by every layer of the page: GeoJSON shapes styled from a list (one tooltip and one
# popup per layer, not per feature), and the dots of big registers on a canvas of their own.
SCRIPT = """
var nbhood = {
  shapes: function (data, o) {
    var layer = L.geoJson(data, {
      style: function (f) { return o.styles[f.properties.s || 0]; },
      pointToLayer: function (f, at) { return L.circleMarker(at, o.styles[f.properties.s || 0]); }
    });
    if (o.tip) {
      layer.bindTooltip(function (l) { return l.feature.properties.t; }, {sticky: true});
    }
    if (o.fields) {
      layer.bindPopup(function (l) {
        var v = l.feature.properties.v, rows = "";
        for (var i = 0; i < o.fields.length; i++) {
          rows += "<tr><th>" + o.fields[i] + "</th><td>" + v[i] + "</td></tr>";
        }
        return "<table>" + rows + "</table>";
      }, {maxWidth: 420});
    }
    if (o.hover) {
      layer.on("mouseover", function (e) { e.layer.setStyle(o.hover); });
      layer.on("mouseout", function (e) { layer.resetStyle(e.layer); });
    }
    return layer;
  },
  dots: function (xy, o) { return new nbhood.Dots(xy, o.colour); },
  Dots: L.Layer.extend({
    initialize: function (xy, colour) { this._xy = xy; this._colour = colour; },
    onAdd: function (map) {
      if (!this._x) {  // Web Mercator, 0-1 across the world, once
        var n = this._xy.length / 2;
        this._x = new Float64Array(n);
        this._y = new Float64Array(n);
        for (var i = 0; i < n; i++) {
          var lat = this._xy[2 * i + 1] / 1e5 * Math.PI / 180;
          this._x[i] = (this._xy[2 * i] / 1e5 + 180) / 360;
          this._y[i] = (1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2;
        }
      }
      this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide");
      map.getPanes().overlayPane.appendChild(this._canvas);
      map.on("moveend resize", this._draw, this);
      this._draw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend resize", this._draw, this);
    },
    _draw: function () {
      var map = this._map, size = map.getSize(), c = this._canvas;
      var at = map.containerPointToLayerPoint([0, 0]), origin = map.getPixelOrigin();
      L.DomUtil.setPosition(c, at);
      c.width = size.x;
      c.height = size.y;
      var g = c.getContext("2d"), s = 256 * Math.pow(2, map.getZoom());
      var dx = origin.x + at.x, dy = origin.y + at.y, shown = [];
      for (var i = 0; i < this._x.length; i++) {
        var px = Math.round(this._x[i] * s - dx), py = Math.round(this._y[i] * s - dy);
        if (px >= -2 && py >= -2 && px < size.x + 2 && py < size.y + 2) shown.push(px, py);
      }
      // A dark 5-pixel square, then 3 in colour; where thousands crowd, the colour alone.
      for (var pass = shown.length > 10000 ? 1 : 0; pass < 2; pass++) {
        var r = pass ? 1 : 2;
        g.fillStyle = pass ? this._colour : "#333333";
        for (var j = 0; j < shown.length; j += 2) {
          g.fillRect(shown[j] - r, shown[j + 1] - r, 2 * r + 1, 2 * r + 1);
        }
      }
    }
  })
};
"""


@functools.cache
def _elements(folium):
    """Page parts that bypass folium's templates. folium renders each element's script and
    then compiles the result as a Jinja template again: slow for megabytes of data, and user
    text such as "{{" would be read as a template. These write their text as it is."""
    from branca.element import Element
    from jinja2 import Template

    class Raw(Element):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

        def render(self, **kwargs) -> str:
            return self.text

    class Script(folium.MacroElement):
        """JavaScript placed in the page's script, in element order."""

        _template = Template("")

        def __init__(self, code: str):
            super().__init__()
            self.code = code

        def render(self, **kwargs):
            self.get_root().script.add_child(Raw(self.code), name=self.get_name())
            super().render(**kwargs)

    class ScriptLayer(folium.map.Layer):
        """A switchable layer made by one ``nbhood.<kind>(data, options)`` call; named
        geo_json_N like folium's own GeoJSON layers."""

        _template = Template("")

        def __init__(self, name: str, kind: str, data: str, options: str):
            super().__init__(name=name, overlay=True, control=True, show=True)
            self._name = "GeoJson"
            self.kind, self.data, self.options = kind, data, options

        def render(self, **kwargs):
            code = f"var {self.get_name()} = nbhood.{self.kind}({self.data}, {self.options});\n"
            self.get_root().script.add_child(Raw(code), name=self.get_name())
            super().render(**kwargs)

    return Raw, Script, ScriptLayer


def _escape(text: str) -> str:
    """User text for the page: HTML-escaped, and braces as entities, since folium passes the
    layer names and credits through Jinja a second time ("{{ x }}" would be evaluated)."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


def _tolerance(frames) -> float | None:
    """None when every shape can be drawn as it is; else the simplification in metres: a
    round number near ``SIMPLIFY_SHARE`` of the widest layer's extent (≈ 50 m for England)."""
    import shapely

    frames = [f for f in frames if f is not None and len(f)]
    if sum(int(shapely.get_num_coordinates(f.geometry.values).sum()) for f in frames) \
            <= VERTICES_MAX:
        return None
    width = max(max(b[2] - b[0], b[3] - b[1]) for b in (f.total_bounds for f in frames))
    return max(scale_length(width * SIMPLIFY_SHARE * 5), 1.0)


def _notes(tolerance: float | None, dots: int) -> list[str]:
    notes = []
    if tolerance is not None:
        notes.append(f"Shapes simplified to {tolerance:g} m to keep this page light; the "
                     "exact shapes are in the layers/ files.")
    if dots:
        notes.append(f"{dots:,} assets, more than {MARKERS_MAX:,}: drawn as dots without "
                     "names; every asset is in layers/assets.geojson.")
    return notes


def _shapes(frame, tolerance: float | None):
    """The frame with each geometry simplified (Douglas–Peucker) to ``tolerance``; a shape
    that would vanish keeps its own few vertices."""
    import shapely

    if tolerance is None:
        return frame
    geoms = frame.geometry.values
    simple = shapely.simplify(geoms, tolerance, preserve_topology=False)
    vanished = shapely.is_empty(simple)
    simple[vanished] = geoms[vanished]
    return frame.set_geometry(simple)


def _collection(properties: list[dict], geometry: list[str]) -> str:
    """A FeatureCollection as one line of JSON, safe inside a <script> element."""
    features = ",".join(f'{{"type":"Feature","properties":{_json(p)},"geometry":{g}}}'
                        for p, g in zip(properties, geometry, strict=True))
    return _script_safe('{"type":"FeatureCollection","features":[' + features + "]}")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _js(value) -> str:
    return _script_safe(_json(value))


def _script_safe(text: str) -> str:
    """JSON text that cannot close the <script> element it sits in."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _styles(keys) -> tuple[list, list[int]]:
    """The distinct style keys in first-seen order, and each feature's index among them."""
    index = {}
    positions = [index.setdefault(k, len(index)) for k in keys]
    return list(index), positions


def _area_data(areas, fills, area_id, label, popup, tension):
    """The areas: a fill per class, an outline per tension label, a tooltip with the name and
    a popup table. Values go in formatted and escaped: Leaflet sets them as HTML."""
    columns = [c for c in dict.fromkeys([area_id, label, *popup]) if c in areas.columns]
    names = _texts(areas, label) if label in areas.columns else _texts(areas, area_id)
    ids = _texts(areas, area_id) if area_id in areas.columns else [None] * len(areas)
    levels = _texts(areas, tension) if tension in areas.columns else [None] * len(areas)
    keys, index = _styles(list(zip(fills, levels, strict=True)))
    styles = [{"fillColor": fill, "color": OUTLINE, "weight": 1, "fillOpacity": 0.75,
               **TENSION_LINES.get(level, {})} for fill, level in keys]
    properties = [{"s": s, "t": _escape(name or i or ""), "v": row}
                  for s, name, i, row in zip(index, names, ids, _cells(areas, columns),
                                             strict=True)]
    options = {"styles": styles, "tip": True, "hover": HOVER,
               "fields": [_escape(_column_label(c)) for c in columns]}
    return areas, properties, _js(options)


def _overlay_data(overlay: Overlay, tolerance):
    frame = _shapes(overlay.frame, tolerance)
    style = {"color": overlay.colour, "weight": 1.5, "fill": overlay.fill > 0,
             "fillColor": overlay.colour, "fillOpacity": overlay.fill}
    if overlay.dash:
        style["dashArray"] = overlay.dash
    columns = [c for c in overlay.popup if c in frame.columns]
    tips = _texts(frame, overlay.tip) if overlay.tip else [None] * len(frame)
    properties = [{"t": _escape(tip or ""), "v": row}
                  for tip, row in zip(tips, _cells(frame, columns), strict=True)]
    options = {"styles": [style], "tip": overlay.tip is not None,
               "hover": {"weight": 3}, "fields": [_escape(_column_label(c))
                                                   for c in columns] or None}
    return frame, properties, _js(options)


def _cells(frame, columns) -> list[list[str]]:
    """Each row's popup values, formatted and escaped column by column: each distinct value
    once (tens of thousands of rows at England scale)."""
    texts = []
    for column in columns:
        values = frame[column]
        if values.dtype.kind in "iuf":  # numbers need no escaping
            texts.append([fmt(v) for v in values.tolist()])
            continue
        memo = {}
        texts.append([memo[k] if (k := (type(v), v)) in memo else
                      memo.setdefault(k, _escape(fmt(v))) for v in values.tolist()])
    return [list(row) for row in zip(*texts, strict=True)] if texts else [[]] * len(frame)


def _swatch(overlay: Overlay) -> str:
    """The overlay's key in the layer control: a filled square or a line in its colour."""
    if overlay.fill > 0:
        return (f'<span style="display:inline-block;width:12px;height:12px;background:'
                f'{overlay.colour};opacity:{max(overlay.fill, 0.5):g}"></span>')
    border = "dashed" if overlay.dash else "solid"
    return (f'<span style="display:inline-block;width:14px;vertical-align:middle;'
            f'border-top:2px {border} {overlay.colour}"></span>')


def _marker_data(assets, cat: str, colour: str, label: str):
    """Assets of one category as circle markers with a tooltip: their name and category."""
    properties = [{"t": _escape(f"{name} — {cat}" if name else cat)}
                  for name in _texts(assets, label)]
    style = {"radius": 5, "color": POINT_EDGE, "weight": 1, "fillColor": colour,
             "fillOpacity": 0.9, "fill": True}
    return assets, properties, _js({"styles": [style], "tip": True})


def _dot_data(assets) -> str:
    """Lon/lat pairs as integers (×10⁵, about a metre): the lightest form that still draws
    every asset where it is."""
    import numpy as np
    import shapely

    from nbhood_cli.io.write import lon_lat

    xy = lon_lat(shapely.get_coordinates(assets.geometry.values), assets.crs)
    return "[" + ",".join(map(str, np.rint(xy * 1e5).astype(np.int64).ravel().tolist())) + "]"


def attribution_html(attribution: str) -> str:
    """The caller's credits, escaped, one line each, then the basemap's own credits."""
    lines = [_escape(line.strip()) for line in attribution.splitlines() if line.strip()]
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


def _latlon_bounds(frame) -> list[list[float]]:
    west, south, east, north = (round(float(v), 6) for v in frame.to_crs("EPSG:4326").total_bounds)
    return [[south, west], [north, east]]


def _overlay_html(title: str, classes, value: str, lines: dict, notes: list[str]) -> str:
    """The title box (with any notes), and the legend, fixed over the map."""
    box = ("position:fixed;z-index:1000;background:rgba(255,255,255,0.92);padding:6px 10px;"
           "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.3);font:13px/1.4 sans-serif")
    note = "".join(f'<div id="nbhood-note" style="font-size:12px;font-weight:normal;'
                   f'max-width:32rem">{_escape(n)}</div>' for n in notes)
    parts = [f'<div id="nbhood-title" style="{box};top:10px;left:60px;font-size:16px;'
             f'font-weight:bold">{_escape(title)}{note}</div>']
    key = 'display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle'
    rows = "".join(f'<div><span style="{key};border:1px solid {OUTLINE};background:{colour}">'
                   f"</span>{_escape(text)}</div>" for colour, text in classes)
    rows += "".join(f'<div><span style="{key};border:{style["weight"]}px solid '
                    f'{style["color"]}"></span>{level} tension</div>'
                    for level, style in lines.items())
    if rows:
        parts.append(f'<div id="nbhood-legend" style="{box};bottom:64px;left:10px">'
                     f"<b>{_escape(_column_label(value))}</b>{rows}</div>")
    return "\n".join(parts)
