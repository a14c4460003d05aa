"""The maps: an A4 PNG and a Leaflet page, readable, complete and the same bytes every run.

Hand-made layers sit near easting 450000, northing 350000; the Trafford wards and community
assets from ../shared add a real case (skipped, saying why, when it is absent). Images of real
data are written to pytest's tmp_path only, never into the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import Point, Polygon, box

import browser
from conftest import shared
from nbhood_cli import maps
from nbhood_cli.errors import NbhoodError
from nbhood_cli.io.read import read_layer

X0, Y0 = 450_000.0, 350_000.0
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2024. Contains National Statistics "
    "data © Crown copyright and database right 2024. Source: Office for National Statistics "
    "licensed under the Open Government Licence v.3.0.\n"
    "Community assets © OpenStreetMap contributors, available under the Open Database Licence."
)
HOSTILE = '<script>alert("x")</script> `${x}` \\ & Co'
UUID = re.compile(r"[0-9a-f]{32}")


def areas() -> gpd.GeoDataFrame:
    """Six 1 km squares in two rows; one has no value, so the legend needs 'no data'."""
    squares = [box(X0 + 1000 * (i % 3), Y0 + 1000 * (i // 3),
                   X0 + 1000 * (i % 3 + 1), Y0 + 1000 * (i // 3 + 1)) for i in range(6)]
    return gpd.GeoDataFrame({
        "area_id": [f"A{i}" for i in range(6)],
        "name": ["Northgate", "Eastfield", HOSTILE, "Westbury", "Southend", "Middle"],
        "population": np.array([1200, 3400, 5600, 800, 2500, 4100], dtype=np.int64),
        "assets_per_1000": [1.5, 0.25, np.nan, 4.0, 2.0, 0.75],
        "tension": [0.1, 0.5, 0.9, 0.3, 0.0, 0.2],
    }, geometry=squares, crs="EPSG:27700")


def assets() -> gpd.GeoDataFrame:
    rows = [("Central Library", "library", 300, 300), ("Health Centre", "gp", 1500, 1500),
            ("Boots", "pharmacy", 700, 1600), ("St Mary", "place_of_worship", 2800, 200),
            (HOSTILE, "gp", 1200, 900), ("Lloyds", "pharmacy", 2300, 1800),
            ("Hollies", "care_home", 2600, 1200)]
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "category": [r[1] for r in rows]},
        geometry=[Point(X0 + r[2], Y0 + r[3]) for r in rows], crs="EPSG:27700")


def category_colours(frame) -> dict[str, str]:
    return maps.categories(frame, "category")[1]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def colours_present(image: np.ndarray) -> set[tuple[int, int, int]]:
    packed = np.unique(image.reshape(-1, 3).astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1],
                                                                        dtype=np.uint32))
    return {(int(v) >> 16, (int(v) >> 8) & 255, int(v) & 255) for v in packed}


def assert_not_blank(image: np.ndarray, min_colours: int) -> None:
    assert image.std() > 10, "the image is (nearly) one flat colour"
    assert (image.min(axis=2) < 200).mean() > 0.01, "almost no dark or coloured pixels"
    assert len(colours_present(image)) >= min_colours


def render_static(folder: Path, name: str = "map.png", **overrides) -> Path:
    path = folder / name
    layers = {"areas": areas(), "assets": assets()} | overrides
    maps.static_map(layers["areas"], layers["assets"], path, title="Assets by area",
                    attribution=ATTRIBUTION)
    return path


def render_html(folder: Path, name: str = "map.html", title: str = "Assets by area") -> Path:
    path = folder / name
    maps.interactive_map(areas(), assets(), path, title=title, attribution=ATTRIBUTION)
    return path


LAYER = re.compile(r"^\s*var (geo_json_\d+) = nbhood\.(shapes|dots)\((.*)\);$", re.M)


def layers(text: str) -> list[tuple[str, object, dict]]:
    """(kind, data, options) of each data layer of the page, in page order."""
    decoder = json.JSONDecoder()
    found = []
    for match in LAYER.finditer(text):
        data, end = decoder.raw_decode(match.group(3))
        options, _ = decoder.raw_decode(match.group(3)[end + 2:])
        found.append((match.group(2), data, options))
    return found


def geojson_blobs(text: str) -> list[dict]:
    """The FeatureCollections embedded, one per shape layer, in page order."""
    return [data for kind, data, _ in layers(text) if kind == "shapes"]


def overlays(text: str) -> list[str]:
    """The names (HTML) the layer control lists as overlays, in order."""
    assert "overlays :" in text, "no LayerControl overlays in the page"
    block = text.split("overlays :", 1)[1].split("};", 1)[0]
    found = re.findall(r'^\s*("(?:[^"\\]|\\.)*") : geo_json_\d+,$', block, re.M)
    return [json.loads(name) for name in found]


def wiggly(n: int = 4, vertices: int = 400) -> gpd.GeoDataFrame:
    """Round areas with many vertices, as drawn boundaries have."""
    shapes = [Point(X0 + 2500 * i, Y0).buffer(1000, quad_segs=vertices // 4) for i in range(n)]
    return gpd.GeoDataFrame({"area_id": [f"W{i}" for i in range(n)],
                             "name": [f"Round {i}" for i in range(n)],
                             "population": np.arange(n) * 1000 + 500}, geometry=shapes,
                            crs="EPSG:27700")


def statutory() -> maps.Overlay:
    units = gpd.GeoDataFrame({"unit_id": ["U1", "U2"], "population": [9000, 4000],
                              "tip": ["ward U1", "ward U2"]},
                             geometry=[box(X0, Y0, X0 + 1500, Y0 + 2000),
                                       box(X0 + 1500, Y0, X0 + 3000, Y0 + 2000)],
                             crs="EPSG:27700")
    return maps.Overlay("ward units", units, "#2166ac", dash="6 4", tip="tip",
                        popup=("unit_id", "population"))


def gaps() -> maps.Overlay:
    holes = gpd.GeoDataFrame({"unit_id": ["U1"], "population": [120], "tip": ["gap in U1"]},
                             geometry=[box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)],
                             crs="EPSG:27700")
    return maps.Overlay("Gaps: ward", holes, "#bf812d", fill=0.3, tip="tip",
                        popup=("unit_id", "population"))


# --- pure helpers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "bar"), [(2160, 200), (3000, 500), (10_000, 2000),
                                            (24_999, 2000), (25_000, 5000), (60_000, 10_000)])
def test_scale_bar_is_a_round_fifth_of_the_width(width, bar):
    assert maps.scale_length(width) == bar


def test_quantile_classes_and_no_data():
    fills, legend = maps.shading(areas(), "assets_per_1000")
    assert fills[2] == maps.NO_DATA
    assert legend[-1] == (maps.NO_DATA, "no data")
    assert [text for _, text in legend[:-1]][0].startswith("0.25 – ")
    assert len({f for f in fills if f != maps.NO_DATA}) == len(legend) - 1 > 1
    frame = areas()
    assert maps.shading(frame.drop(columns="assets_per_1000"), "assets_per_1000") == \
        ([maps.SINGLE_FILL] * len(frame), [])


def test_category_colours_are_sorted_and_stable():
    colours = category_colours(assets())
    assert list(colours) == sorted(colours)
    assert list(colours.values()) == list(maps.CATEGORY_COLOURS[:len(colours)])
    fewer = category_colours(assets().iloc[[0, 2]])  # library, pharmacy: a new first pair
    assert fewer == {"library": maps.CATEGORY_COLOURS[0], "pharmacy": maps.CATEGORY_COLOURS[1]}


# --- the PNG -----------------------------------------------------------------------------------

def test_png_is_an_a4_page_with_every_category_colour(tmp_path):
    path = render_static(tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = pixels(path)
    height, width, _ = image.shape
    assert 1600 <= width <= 2400 and abs(width / height - 11.69 / 8.27) < 0.01
    assert_not_blank(image, min_colours=50)
    present = colours_present(image)
    for name, colour in category_colours(assets()).items():
        assert rgb(colour) in present, f"legend colour of {name} ({colour}) is not drawn"
    for colour, text in maps.shading(areas(), "assets_per_1000")[1]:
        assert rgb(colour) in present, f"class {text} ({colour}) is not drawn"


def test_png_same_bytes_twice_and_no_metadata(tmp_path):
    first = render_static(tmp_path, "one.png").read_bytes()
    second = render_static(tmp_path, "two.png").read_bytes()
    assert first == second
    assert b"Software" not in first and b"tIME" not in first


def test_png_without_values_or_assets(tmp_path):
    """No value column and no assets still give a readable page, not an error."""
    path = render_static(tmp_path, areas=areas().drop(columns="assets_per_1000"),
                         assets=assets().iloc[:0])
    assert_not_blank(pixels(path), min_colours=20)


def test_png_of_point_areas_without_assets(tmp_path):
    """Areas given as points (a CSV of places) and no asset layer still draw."""
    places = assets().rename(columns={"name": "area_id"}).assign(assets_per_1000=1.0)
    path = tmp_path / "points.png"
    maps.static_map(places, None, path, title="Places", attribution=ATTRIBUTION)
    image = pixels(path)
    assert image.std() > 10 and rgb(maps.OUTLINE) in colours_present(image)


def test_empty_layers_are_refused_in_one_line(tmp_path):
    with pytest.raises(NbhoodError, match="nothing to map"):
        render_static(tmp_path, areas=areas().iloc[:0], assets=assets().iloc[:0])


# --- the HTML ----------------------------------------------------------------------------------

def test_html_same_bytes_twice_without_random_ids(tmp_path):
    first = render_html(tmp_path, "one.html").read_bytes()
    second = render_html(tmp_path, "two.html").read_bytes()
    assert first == second
    assert not UUID.search(first.decode("utf-8")), "a random folium id survived"


def test_html_has_a_layer_per_category_and_a_control(tmp_path):
    text = render_html(tmp_path).read_text(encoding="utf-8")
    assert "L.control.layers(" in text
    names = overlays(text)
    colours = category_colours(assets())
    assert len(names) == len(colours) + 1  # the areas, then one per category
    for (category, colour), name in zip(colours.items(), names[1:], strict=True):
        assert category in name and colour in name
    blobs = geojson_blobs(text)
    assert [len(b["features"]) for b in blobs] == \
        [len(areas())] + [int((assets()["category"] == c).sum()) for c in colours]
    tips = [f["properties"]["t"] for f in blobs[1]["features"]]  # care_home comes first
    assert tips == ["Hollies — care_home"]


def test_html_popups_show_the_columns_that_exist(tmp_path):
    text = render_html(tmp_path).read_text(encoding="utf-8")
    _, data, options = layers(text)[0]
    assert options["fields"] == ["area id", "name", "population", "assets per 1000", "tension"]
    first = data["features"][0]["properties"]
    assert first == {"s": 0, "t": "Northgate", "v": ["A0", "Northgate", "1,200", "1.50", "0.100"]}
    fills = [options["styles"][f["properties"]["s"]]["fillColor"] for f in data["features"]]
    assert fills == maps.shading(areas(), "assets_per_1000")[0]


def test_html_escapes_user_text(tmp_path):
    text = render_html(tmp_path, title="Trafford <b>&</b>").read_text(encoding="utf-8")
    assert "<script>alert" not in text and '"x"' not in text
    assert "<title>Trafford &lt;b&gt;&amp;&lt;/b&gt;</title>" in text
    tips = [f["properties"]["t"] for blob in geojson_blobs(text) for f in blob["features"]]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; `$&#123;x&#125;` \\ &amp; Co — gp" \
        in tips


def test_html_user_text_is_not_a_template(tmp_path):
    """folium compiles what it renders as a Jinja template again: names, titles and credits
    that look like templates must come out as written, not evaluated."""
    frame = areas()
    frame.loc[0, "name"] = "{{ 7*7 }} {% raw %}"
    page = tmp_path / "map.html"
    maps.interactive_map(frame, assets().assign(category="{{ 6*7 }}"), page,
                         title="Map {{ 5*5 }}", attribution="Credit {# x #} {{ 4*4 }}")
    text = page.read_text(encoding="utf-8")
    assert "<title>Map &#123;&#123; 5*5 &#125;&#125;</title>" in text
    names = overlays(text)
    assert "&#123;&#123; 6*7 &#125;&#125; (7)" in names[1]
    first = geojson_blobs(text)[0]["features"][0]["properties"]
    assert first["t"] == "&#123;&#123; 7*7 &#125;&#125; &#123;% raw %&#125;"
    attribution = json.loads(re.search(r'"attribution": ("(?:[^"\\]|\\.)*")', text).group(1))
    assert attribution.startswith("Credit &#123;# x #&#125; &#123;&#123; 4*4 &#125;&#125; | ")


def test_html_coordinates_are_lon_lat_to_6_decimals(tmp_path):
    text = render_html(tmp_path).read_text(encoding="utf-8")
    numbers = []
    for blob in geojson_blobs(text):
        numbers += re.findall(r"-?\d+\.\d+", json.dumps([f["geometry"] for f in blob["features"]]))
    assert numbers and all(len(n.split(".")[1]) <= 6 for n in numbers)
    lons = [float(n) for n in numbers if float(n) < 0]
    assert lons and all(-1.4 < v < -1.1 for v in lons)  # near easting 450000, in Derbyshire


def test_html_attribution_is_escaped_and_credits_the_basemap(tmp_path):
    text = render_html(tmp_path).read_text(encoding="utf-8")
    attribution = json.loads(re.search(r'"attribution": ("(?:[^"\\]|\\.)*")', text).group(1))
    assert "Open Government Licence" in attribution and "CARTO" in attribution
    assert maps.attribution_html("a <b>\nc") == \
        f"a &lt;b&gt; | c | {maps.OSM_CREDIT} | {maps.TILES_CREDIT}"


def render_full(folder: Path, name: str = "full.html", **overrides) -> Path:
    """The areas with tension labels, a statutory layer and its gaps, and the assets."""
    path = folder / name
    frame = areas().assign(severity=["high", "none", "medium", "low", None, "high"])
    maps.interactive_map(frame, overrides.get("assets", assets()), path, title="Full",
                         attribution=ATTRIBUTION, tension="severity",
                         overlays=overrides.get("overlays", (statutory(), gaps())))
    return path


def test_html_overlays_between_areas_and_assets(tmp_path):
    text = render_full(tmp_path).read_text(encoding="utf-8")
    names = overlays(text)
    assert names[0] == "Areas: assets per 1000"
    assert "ward units (2)" in names[1] and "border-top:2px dashed #2166ac" in names[1]
    assert "Gaps: ward (1)" in names[2] and "background:#bf812d" in names[2]
    assert len(names) == 3 + len(category_colours(assets()))
    _, units, unit_options = layers(text)[1]
    assert unit_options["styles"] == [{"color": "#2166ac", "weight": 1.5, "fill": False,
                                       "fillColor": "#2166ac", "fillOpacity": 0.0,
                                       "dashArray": "6 4"}]
    assert unit_options["fields"] == ["unit id", "population"]
    assert [f["properties"] for f in units["features"]] == [
        {"t": "ward U1", "v": ["U1", "9,000"]}, {"t": "ward U2", "v": ["U2", "4,000"]}]
    _, holes, hole_options = layers(text)[2]
    assert hole_options["styles"][0]["fill"] is True
    assert hole_options["styles"][0]["fillOpacity"] == 0.3
    assert holes["features"][0]["properties"]["t"] == "gap in U1"


def test_html_tension_outlines(tmp_path):
    """High and medium tension areas are outlined; the legend lists only what is drawn."""
    text = render_full(tmp_path).read_text(encoding="utf-8")
    _, data, options = layers(text)[0]
    outlines = [options["styles"][f["properties"]["s"]]["color"] for f in data["features"]]
    high, medium = maps.TENSION_LINES["high"]["color"], maps.TENSION_LINES["medium"]["color"]
    assert outlines == [high, maps.OUTLINE, medium, maps.OUTLINE, maps.OUTLINE, high]
    legend = text.split('id="nbhood-legend"', 1)[1].split("</div></div>", 1)[0]
    assert "high tension" in legend and "medium tension" in legend
    calm = areas().assign(severity="low")
    maps.interactive_map(calm, assets(), tmp_path / "calm.html", title="Calm",
                         attribution=ATTRIBUTION, tension="severity")
    assert "tension</div>" not in (tmp_path / "calm.html").read_text(encoding="utf-8")


def test_html_big_register_as_dots(tmp_path, monkeypatch):
    """Beyond MARKERS_MAX assets: one canvas of dots per category, every asset drawn at about
    a metre, and a note on the page and for the log."""
    monkeypatch.setattr(maps, "MARKERS_MAX", 5)
    page = tmp_path / "dots.html"
    notes = maps.interactive_map(areas(), assets(), page, title="Dots",
                                 attribution=ATTRIBUTION)
    assert notes == ["7 assets, more than 5: drawn as dots without names; every asset is in "
                     "layers/assets.geojson."]
    text = page.read_text(encoding="utf-8")
    assert 'id="nbhood-note"' in text and notes[0] in text
    assert '"preferCanvas": true' in text
    spots = [(data, options) for kind, data, options in layers(text) if kind == "dots"]
    colours = category_colours(assets())
    assert [options["colour"] for _, options in spots] == list(colours.values())
    lonlat = assets().to_crs("EPSG:4326").get_coordinates().to_numpy()
    pharmacies = np.flatnonzero(assets()["category"] == "pharmacy")
    pharmacy = spots[list(colours).index("pharmacy")][0]
    assert pharmacy == np.rint(lonlat[pharmacies] * 1e5).astype(int).ravel().tolist()
    assert page.read_bytes() == render_dots_again(tmp_path)


def render_dots_again(folder: Path) -> bytes:
    page = folder / "again.html"
    maps.interactive_map(areas(), assets(), page, title="Dots", attribution=ATTRIBUTION)
    return page.read_bytes()


def test_html_big_shapes_simplified(tmp_path, monkeypatch):
    """Beyond VERTICES_MAX vertices shapes are simplified to a round number of metres and
    written to 5 decimals; the page says so."""
    frame = wiggly()
    page = tmp_path / "exact.html"
    maps.interactive_map(frame, None, page, title="Exact", attribution=ATTRIBUTION,
                         value="population")
    exact = geojson_blobs(page.read_text(encoding="utf-8"))[0]["features"]
    monkeypatch.setattr(maps, "VERTICES_MAX", 1000)
    page = tmp_path / "simple.html"
    notes = maps.interactive_map(frame, None, page, title="Simple", attribution=ATTRIBUTION,
                                 value="population")
    assert notes == ["Shapes simplified to 1 m to keep this page light; the exact shapes are "
                     "in the layers/ files."]
    simple = geojson_blobs(page.read_text(encoding="utf-8"))[0]["features"]
    count = [len(f["geometry"]["coordinates"][0]) for f in exact]
    fewer = [len(f["geometry"]["coordinates"][0]) for f in simple]
    assert count == [401] * 4 and all(30 < n < 200 for n in fewer)
    numbers = re.findall(r"-?\d+\.\d+", json.dumps([f["geometry"] for f in simple]))
    assert max(len(n.split(".")[1]) for n in numbers) == 5
    for mine, theirs in zip(simple, exact, strict=True):  # still the same round areas
        a, b = Polygon(mine["geometry"]["coordinates"][0]), Polygon(theirs["geometry"]
                                                                   ["coordinates"][0])
        assert a.symmetric_difference(b).area < 0.01 * b.area


def test_html_simplification_keeps_tiny_shapes():
    """A shape that simplifying would empty keeps its own few vertices."""
    tiny = gpd.GeoDataFrame({"n": [1]}, geometry=[box(X0, Y0, X0 + 0.3, Y0 + 0.3)],
                            crs="EPSG:27700")
    assert maps._shapes(tiny, 5.0).geometry.iloc[0].equals(tiny.geometry.iloc[0])


# --- in a browser ------------------------------------------------------------------------------

def browse(page: Path, folder: Path) -> tuple[np.ndarray, str]:
    """Screenshot and DOM of ``page`` in headless Chromium, served offline from ``folder``."""
    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    site = folder / "site"
    site.mkdir()
    browser.offline_copy(page, site)
    with browser.serve(site) as url:
        shot = browser.screenshot(url + "index.html", folder / "shot.png", folder / "profile1")
        dom = browser.dump_dom(url + "index.html", folder / "profile2")
    return pixels(shot), dom


def interactive_paths(dom: str) -> int:
    return len(re.findall(r'<path\b[^>]*class="leaflet-interactive"', dom))


def test_html_draws_in_chromium(tmp_path):
    image, dom = browse(render_html(tmp_path), tmp_path)
    assert image.shape[:2] == (900, 1200)
    assert_not_blank(image, min_colours=30)
    assert interactive_paths(dom) == len(areas()) + len(assets())
    assert "leaflet-control-layers" in dom and 'id="nbhood-legend"' in dom
    for category in category_colours(assets()):
        assert category in dom


def test_html_with_every_layer_draws_in_chromium(tmp_path):
    """Areas, a statutory layer, its gaps and the assets: each feature a path, every switch in
    the layer control, the tension outline in its colour."""
    image, dom = browse(render_full(tmp_path), tmp_path)
    assert interactive_paths(dom) == len(areas()) + 2 + 1 + len(assets())
    assert dom.count('class="leaflet-control-layers-selector"') == 3 + len(
        category_colours(assets()))
    assert 'stroke="#b2182b"' in dom  # high tension
    assert 'stroke-dasharray="6 4"' in dom  # the ward outlines
    assert_not_blank(image, min_colours=30)


# Counts the opaque pixels of each colour on each dots canvas, once the page has drawn.
PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var out = [];
  document.querySelectorAll("canvas.leaflet-zoom-hide").forEach(function (c) {
    var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, seen = {};
    for (var i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 255) { var k = d[i] + "," + d[i + 1] + "," + d[i + 2];
                              seen[k] = (seen[k] || 0) + 1; }
    }
    out.push(seen);
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 500); });
</script>"""


def test_html_dots_draw_on_a_canvas_in_chromium(tmp_path, monkeypatch):
    """A big register: each category's dots are drawn on a canvas of their own, in its
    colour with a dark edge, one for every asset."""
    monkeypatch.setattr(maps, "MARKERS_MAX", 5)
    monkeypatch.setattr(maps, "VERTICES_MAX", 10)
    page = tmp_path / "dots.html"
    maps.interactive_map(areas(), assets(), page, title="Dots", attribution=ATTRIBUTION)
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")
    image, dom = browse(probed, tmp_path)
    assert interactive_paths(dom) == 0 and "leaflet-zoom-animated" in dom  # shapes on canvas
    canvases = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom).group(1))
    colours = category_colours(assets())
    assert len(canvases) == len(colours)
    for (name, colour), seen in zip(colours.items(), canvases, strict=True):
        dots = int((assets()["category"] == name).sum())
        fill = seen.get(",".join(str(v) for v in rgb(colour)), 0)
        assert fill == 9 * dots, f"{name}: {fill} pixels for {dots} dot(s)"
        assert seen.get("51,51,51", 0) == 16 * dots  # the edge, #333333
        assert set(seen) == {",".join(str(v) for v in rgb(colour)), "51,51,51"}
    assert 'id="nbhood-note"' in dom
    assert_not_blank(image, min_colours=10)


# --- real data ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trafford():
    """Trafford's wards with population and assets per 1,000, and its community assets."""
    wards = read_layer(shared("trafford", "wards.geojson")).frame
    points = read_layer(shared("trafford", "community_assets.csv")).frame
    people = pd.read_csv(shared("trafford", "ward_population.csv"))[["wd23cd", "population"]]
    inside = gpd.sjoin(points[["geometry"]], wards[["wd23cd", "geometry"]], predicate="within")
    counts = inside.groupby("wd23cd").size().rename("assets")
    wards = wards.merge(people, on="wd23cd", how="left").merge(counts, on="wd23cd", how="left")
    wards["assets_per_1000"] = wards["assets"].fillna(0) / wards["population"] * 1000
    wards = wards.rename(columns={"wd23cd": "area_id", "wd23nm": "name"})
    return wards, points


@pytest.mark.realdata
def test_trafford_png(tmp_path, trafford):
    wards, points = trafford
    path = tmp_path / "trafford.png"
    maps.static_map(wards, points, path, title="Trafford: community assets per 1,000 people",
                    attribution=ATTRIBUTION)
    image = pixels(path)
    assert_not_blank(image, min_colours=100)
    present = colours_present(image)
    colours = category_colours(points)
    assert len(colours) == 8
    assert all(rgb(c) in present for c in colours.values())


@pytest.mark.realdata
def test_trafford_html_in_chromium(tmp_path, trafford):
    wards, points = trafford
    page = tmp_path / "trafford.html"
    maps.interactive_map(wards, points, page, title="Trafford", attribution=ATTRIBUTION)
    text = page.read_text(encoding="utf-8")
    assert len(overlays(text)) == 1 + 8
    image, dom = browse(page, tmp_path)
    assert_not_blank(image, min_colours=30)
    assert interactive_paths(dom) == len(wards) + len(points)
