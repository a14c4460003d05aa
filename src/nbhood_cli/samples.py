"""Generate "Marram Vale", the FICTIONAL sample town committed in data/samples.

Demos, docs and tests need small areas, wards, PCN footprints, community-drawn areas, assets
and GP list sizes with the awkward habits of real data (boundaries that do not nest, a
contested overlap, unclaimed land, population and deprivation arriving as CSVs keyed by code)
without saying anything about a real place or real people. Everything comes from one seed, so
the committed files can be rebuilt byte for byte:

    python -m nbhood_cli.samples [--out data/samples] [--seed 20261122]

Not imported by the CLI: it is run by hand (or ``make samples``) when the sample must change.
"""

from __future__ import annotations

import argparse
import string
import zlib
from itertools import product
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from nbhood_cli import simulate
from nbhood_cli.io.write import write_layer, write_table, write_text

DEFAULT_SEED = 20261122
TOWN = "Marram Vale"
BNG, WGS84 = "EPSG:27700", "EPSG:4326"
CENTRE = np.array([474_000.0, 334_000.0])  # open farmland in the East Midlands, well inland
RADIUS = 3_600.0  # mean outline radius, metres
GRID = 1.0  # every vertex on a 1 m grid: clean geometry, shared edges match exactly
N_SMALL_AREAS, N_WARDS, N_COMMUNITY, N_PRACTICES = 60, 8, 10, 12
EXTRACT_DATE = "01Jan2026"  # as NHS England's registration files write it (fictional here)

WARD_NAMES = ["Abbotsmere", "Brackenridge", "Candlewick", "Dovecote Park", "Eastmarsh",
              "Fennimore", "Hollinbrook", "Kestrel Fields"]
PCN_NAMES = ["Marram Vale North PCN", "Marram Vale East PCN", "Marram Vale South PCN",
             "Marram Vale West PCN"]  # the order layer_seeds places their seeds in
COMMUNITY_NAMES = ["Brickfields", "Canalside", "Foundry Row", "Heath Estate", "Millbrook",
                   "Pennyfields", "St Aidan's", "Tanners' End", "The Crescent",
                   "Weavers' Quarter"]
DRAWN_BY = ["Residents' workshop (fictional)", "Tenants' association (fictional)",
            "Youth forum walkabout (fictional)", "Faith groups' forum (fictional)",
            "Online mapping survey (fictional)"]

# Fixed counts make the asset table exactly 300 rows; gp_surgery rows are the practices.
ASSET_COUNTS = {"cafe": 55, "school": 40, "place_of_worship": 36, "park": 36,
                "sports_club": 28, "care_home": 19, "pharmacy": 18, "community_centre": 16,
                "allotment": 12, "food_bank": 8, "post_office": 8, "village_hall": 6,
                "library": 4, "citizens_advice": 2}
NAME_TEMPLATES = {
    "community_centre": ["{ward} Community Centre", "{street} Community Hub",
                         "{ward} Neighbourhood Centre", "{ward} Family Hub"],
    "library": ["{town} Library", "{ward} Library", "{street} Library"],
    "place_of_worship": ["St {saint}'s Church", "{ward} Methodist Church",
                         "{street} Baptist Chapel", "{ward} Mosque", "{ward} Gurdwara",
                         "Our Lady of {lady} RC Church", "{street} Evangelical Church"],
    "food_bank": ["{ward} Food Bank", "{street} Community Pantry", "{ward} Community Larder"],
    "cafe": ["The {adj} {noun}", "{street} Café"],
    "park": ["{ward} Park", "{ward} Green", "{ward} Playing Fields",
             "{street} Recreation Ground", "{street} Pocket Park", "{street} Play Area"],
    "sports_club": ["{ward} {sport} Club", "{town} {sport} Club"],
    "school": ["{ward} Primary School", "{ward} Academy", "{ward} Infant School",
               "{ward} Junior School", "St {saint}'s C of E Primary School",
               "St {saint}'s RC Primary School", "{street} Primary School",
               "{street} Infant School"],
    "pharmacy": ["{ward} Pharmacy", "{street} Pharmacy", "{surname}'s Chemist"],
    "gp_surgery": ["{ward} Medical Centre", "{street} Surgery", "{ward} Health Centre",
                   "The {street} Practice"],
    "post_office": ["{ward} Post Office", "{street} Post Office"],
    "citizens_advice": ["Citizens Advice {town}", "Citizens Advice {ward} Outreach",
                        "Citizens Advice {street} Drop-in"],
    "village_hall": ["{ward} Village Hall", "{ward} Memorial Hall", "{street} Parish Hall"],
    "allotment": ["{ward} Allotments", "{street} Allotments"],
    "care_home": ["{house} House Care Home", "{house} Court Care Home", "{ward} Lodge Care Home",
                  "{ward} Court Nursing Home"],
}
NAME_WORDS = {
    "street": ["Mill Lane", "Station Road", "Church Street", "Victoria Road", "Market Place",
               "Chapel Row", "Orchard Way", "Hawthorn Close", "Tannery Lane", "Wharf Street",
               "Kiln Road", "Bramble Walk", "Ropewalk", "Cooper's Yard", "Sandpit Lane",
               "Foxglove Drive", "Lock Street", "Brewery Lane", "Spinney Road", "Pinfold Lane"],
    "saint": ["Aidan", "Bede", "Chad", "Hilda", "Oswald", "Cuthbert", "Wilfrid", "Edmund",
              "Margaret", "Botolph"],
    "lady": ["Lourdes", "Walsingham", "the Vale"],
    "adj": ["Copper", "Little", "Blue", "Corner", "Golden", "Hidden", "Crooked", "Green",
            "Busy", "Sleepy", "Red", "Old"],
    "noun": ["Kettle", "Teapot", "Cup", "Spoon", "Bean", "Crumb", "Larder", "Table",
             "Lantern", "Bakehouse", "Saucer", "Hive"],
    "sport": ["Football", "Cricket", "Bowls", "Boxing", "Tennis", "Running", "Rugby",
              "Netball", "Swimming", "Badminton"],
    "surname": ["Ashworth", "Bellamy", "Crowther", "Dunmore", "Elphick", "Fairbairn",
                "Gorringe", "Hebblethwaite", "Ingleby", "Jessop"],
    "house": ["Alder", "Beech", "Cedar", "Elm", "Hazel", "Holly", "Linden", "Maple", "Rowan",
              "Willow", "Yew", "Juniper"],
}


# --- randomness and shapes ------------------------------------------------------------------

def stream(seed: int, part: str) -> np.random.Generator:
    """An independent generator per part of the town, so tuning the assets (say) does not
    reshuffle the geography."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def radial_noise(rng, theta, harmonics: int, strength: float):
    """A smooth random wobble around 1 (a few Fourier terms): hand-drawn rather than spiky,
    and positive for any strength below 0.48, so star polygons built on it stay simple."""
    wobble = np.ones_like(theta)
    for j in range(1, harmonics + 1):
        amplitude = strength * rng.uniform(0.3, 1.0) / j
        wobble += amplitude * np.cos(j * theta + rng.uniform(0, 2 * np.pi))
    return wobble


def star_polygon(centre, theta, radius):
    """Polygon through the points at increasing angles ``theta`` and distances ``radius``
    from ``centre``, snapped to the grid; star-shaped, hence always valid."""
    xy = centre + radius[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    return shapely.Polygon(np.round(xy / GRID) * GRID)


def spread_points(rng, region, n: int, spacing) -> np.ndarray:
    """``n`` random points in ``region`` no closer together than ``spacing(point)`` (dart
    throwing): irregular like real seeds, but no slivers between near-duplicates."""
    low, high = np.array(region.bounds[:2]), np.array(region.bounds[2:])
    points = []
    for _ in range(200_000):
        p = rng.uniform(low, high)
        if not shapely.contains_xy(region, *p):
            continue
        if points and np.linalg.norm(np.array(points) - p, axis=1).min() < spacing(p):
            continue
        points.append(p)
        if len(points) == n:
            return np.array(points)
    raise RuntimeError(f"could not place {n} points; lower the spacing")


def random_points(rng, regions, weights, n: int, min_gap: float = 0.0) -> list:
    """``n`` points, each in a region drawn with probability ∝ weight, uniform within it,
    at least ``min_gap`` apart."""
    probability = np.asarray(weights, float) / np.sum(weights)
    points = []
    for _ in range(200_000):
        region = regions[rng.choice(len(regions), p=probability)]
        x0, y0, x1, y1 = region.bounds
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if region.contains(p) and all(p.distance(q) >= min_gap for q in points):
            points.append(p)
            if len(points) == n:
                return points
    raise RuntimeError(f"could not place {n} points; lower the gap")


def nearest(points, seeds) -> np.ndarray:
    """Index of the nearest seed to each point: its Voronoi cell."""
    return np.linalg.norm(points[:, None, :] - seeds[None, :, :], axis=2).argmin(axis=1)


# --- geography ------------------------------------------------------------------------------

def town_outline(rng):
    """An irregular but compact outline: no deep inlets, so every Voronoi cell clipped to it
    stays in one piece."""
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    return star_polygon(CENTRE, theta, RADIUS * radial_noise(rng, theta, 6, 0.2))


def layer_seeds(seed: int, outline) -> dict[str, np.ndarray]:
    """Voronoi seeds per layer: small areas dense in the centre like real LSOAs, wards
    even, PCNs one per compass quarter (N, E, S, W, which names them)."""
    small = spread_points(stream(seed, "small_areas"), outline, N_SMALL_AREAS,
                          lambda p: 500 * (0.5 + 0.9 * np.linalg.norm(p - CENTRE) / RADIUS))
    wards = spread_points(stream(seed, "wards"), outline, N_WARDS, lambda p: 1_700)
    pcn_rng = stream(seed, "pcns")
    angle = np.deg2rad([90, 0, 270, 180]) + pcn_rng.uniform(-0.35, 0.35, 4)
    reach = RADIUS * pcn_rng.uniform(0.35, 0.6, 4)
    pcns = CENTRE + reach[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return {"small_areas": small, "wards": wards, "pcns": pcns}


def partition(outline, seeds: dict[str, np.ndarray]):
    """Cut the outline by every layer's Voronoi edges at once, snap-rounded on one grid, and
    let each layer claim the faces nearest its seeds.

    Clipping and rounding each cell on its own leaves hairline gaps and overlaps; building
    all layers from one set of faces makes each tessellate exactly and all share one outline,
    while their edges still cut across each other as real boundaries do.
    """
    lines = [outline.exterior]
    for points in seeds.values():
        edges = shapely.voronoi_polygons(shapely.multipoints(points), only_edges=True,
                                         extend_to=outline.buffer(RADIUS))
        lines.append(shapely.intersection(edges, outline))
    network = shapely.union_all(lines, grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(network).tolist()))
    inside = shapely.get_coordinates(shapely.point_on_surface(faces))
    return faces, {name: nearest(inside, points) for name, points in seeds.items()}


def dissolve(faces, labels, n: int) -> list:
    """One polygon per label; refuses a split unit rather than writing a MultiPolygon."""
    units = [shapely.union_all(faces[labels == i], grid_size=GRID) for i in range(n)]
    if any(u.geom_type != "Polygon" for u in units):
        raise RuntimeError("a unit came out in pieces; change the seed or the outline")
    return units


def north_to_south(geoms) -> np.ndarray:
    """Indices ordering ``geoms`` by centroid, north first, as ONS codes roughly run."""
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    return np.lexsort((xy[:, 0], -xy[:, 1]))


def check_tessellation(geoms, what: str) -> None:
    """Refuse to write a layer with gaps, overlaps or invalid polygons."""
    if not shapely.is_valid(geoms).all():
        raise RuntimeError(f"{what}: invalid polygon")
    union = shapely.union_all(geoms)
    overlap = shapely.area(geoms).sum() - union.area
    if overlap > 1e-6 * union.area or union.geom_type != "Polygon" or union.interiors:
        raise RuntimeError(f"{what}: units overlap or leave gaps")


# --- small areas, wards, PCNs -----------------------------------------------------------------

def build_wards(faces, labels):
    """Wards coded north to south; also returns each face's ward in that coding."""
    geoms = dissolve(faces, labels, N_WARDS)
    order = north_to_south(geoms)
    frame = gpd.GeoDataFrame({"ward_code": [f"MVW{i + 1:02d}" for i in range(N_WARDS)],
                              "ward_name": WARD_NAMES},
                             geometry=[geoms[i] for i in order], crs=BNG)
    return frame, np.argsort(order)[labels]


def build_pcns(faces, labels):
    """Seeds come in N, E, S, W order, so codes and names follow the compass."""
    return gpd.GeoDataFrame({"pcn_code": [f"MVP{i + 1:02d}" for i in range(len(PCN_NAMES))],
                             "pcn_name": PCN_NAMES},
                            geometry=dissolve(faces, labels, len(PCN_NAMES)), crs=BNG)


def build_small_areas(faces, labels, ward_of_face):
    """Codes run ward by ward, north to south; names copy the ONS "<district> <MSOA><letter>"
    pattern, with the ward number standing in for the MSOA."""
    geoms = dissolve(faces, labels, N_SMALL_AREAS)
    ward = np.array([np.bincount(ward_of_face[labels == i],
                                 weights=shapely.area(faces[labels == i])).argmax()
                     for i in range(N_SMALL_AREAS)])  # the ward holding most of the area
    order = np.lexsort((np.argsort(north_to_south(geoms)), ward))
    letters, names = {}, []
    for i in order:
        letters[ward[i]] = letters.get(ward[i], -1) + 1
        names.append(f"{TOWN} {ward[i] + 1:03d}{string.ascii_uppercase[letters[ward[i]]]}")
    return gpd.GeoDataFrame({"sa_code": [f"MV{i + 1:04d}" for i in range(N_SMALL_AREAS)],
                             "name": names}, geometry=[geoms[i] for i in order], crs=BNG)


def deprivation(rng, small_areas) -> pd.DataFrame:
    """IMD-like scores from a smooth field plus a little noise, so neighbours resemble each
    other as in the real index: an inner area east of the centre and a peripheral estate to
    the south-west are deprived, the north is comfortable. Rank 1 and decile 1 are the most
    deprived within the town."""
    xy = shapely.get_coordinates(small_areas.geometry.centroid)
    pockets = [(CENTRE + [900, -300], 1_100, 48), (CENTRE + [-1_600, -1_500], 800, 46)]
    score = 12 - 5 * (xy[:, 1] - CENTRE[1]) / RADIUS + rng.normal(0, 3, len(xy))
    for centre, spread, peak in pockets:
        score += peak * np.exp(-np.sum((xy - centre) ** 2, axis=1) / (2 * spread**2))
    score = np.round(np.clip(score, 1.5, 78), 3)
    rank = pd.Series(-score).rank(method="first").astype(int).to_numpy()
    return pd.DataFrame({"sa_code": small_areas["sa_code"], "imd_score": score,
                         "imd_rank": rank, "imd_decile": -(-rank * 10 // len(rank))})


def population(rng, imd: pd.DataFrame) -> pd.DataFrame:
    """1,000-3,000 people per area like real LSOAs; denser housing in deprived areas."""
    people = rng.normal(1_900, 330, len(imd)) + 9 * (imd["imd_score"].to_numpy() - 20)
    return pd.DataFrame({"sa_code": imd["sa_code"],
                         "population": np.clip(np.round(people), 1_000, 3_000).astype(int)})


def scarce_areas(small_areas, imd: pd.DataFrame) -> list[int]:
    """The most deprived area and its most deprived neighbour: they get no assets, so
    "double disadvantage" (deprived and under-served) has something to find."""
    worst = int(imd["imd_rank"].idxmin())
    shared = small_areas.geometry.intersection(small_areas.geometry.iloc[worst]).length
    neighbours = imd.index[(shared > 0) & (imd.index != worst)]
    return [worst, int(imd.loc[neighbours, "imd_rank"].idxmin())]


# --- community areas ----------------------------------------------------------------------------

def community_areas(rng, outline):
    """Freehand-looking blobs around well-spread seeds (one seed left over as unclaimed
    land), each kept inside its own Voronoi cell so they cannot meet, except one allowed
    into its neighbour's cell until the two overlap: the single contested area."""
    seeds = spread_points(rng, outline.buffer(-500), N_COMMUNITY + 1, lambda p: 1_150)
    chosen = np.sort(rng.choice(len(seeds), N_COMMUNITY, replace=False))
    size = rng.permutation(np.linspace(350, 4_000, N_COMMUNITY))
    shapes = [freehand(rng, outline, seeds[i], np.delete(seeds, i, 0), size[k])
              for k, i in enumerate(chosen)]
    pairs = sorted(((a, b) for a in range(N_COMMUNITY) for b in range(N_COMMUNITY) if a != b),
                   key=lambda ab: np.linalg.norm(seeds[chosen[ab[0]]] - seeds[chosen[ab[1]]]))
    for a, b in pairs:  # nearest neighbours first; some cannot reach each other
        others = np.delete(seeds, [chosen[a], chosen[b]], 0)
        if grown := contested(rng, outline, seeds[chosen[b]], others, size[b], shapes[a]):
            shapes[b] = grown
            break
    else:
        raise RuntimeError("no pair of community areas can overlap by 15-30%; change the seed")
    order = north_to_south(shapes)
    return gpd.GeoDataFrame(
        {"id": [f"CA{i + 1:02d}" for i in range(N_COMMUNITY)], "name": COMMUNITY_NAMES,
         "drawn_by": [DRAWN_BY[i % len(DRAWN_BY)] for i in range(N_COMMUNITY)]},
        geometry=[shapes[i] for i in order], crs=BNG)


def freehand(rng, outline, centre, others, size: float, scale: float = 1.0):
    """10-20 vertex blob: smooth radial noise, each vertex capped at 95% of the way to the
    edge of the town or of the seed's (convex) Voronoi cell among ``others``."""
    n = int(rng.integers(10, 21))
    step = 2 * np.pi / n
    theta = rng.uniform(0, step) + step * (np.arange(n) + rng.uniform(-0.3, 0.3, n))
    wish = size * scale * radial_noise(rng, theta, 3, 0.3)
    room = voronoi_cell(centre, others, outline).intersection(outline.buffer(-50))
    ends = centre + 4 * RADIUS * np.column_stack([np.cos(theta), np.sin(theta)])
    rays = shapely.linestrings(np.stack([np.broadcast_to(centre, (n, 2)), ends], axis=1))
    exits = shapely.distance(shapely.Point(centre), shapely.intersection(rays, room.boundary))
    radius = np.minimum(wish, 0.95 * exits)
    while not (shape := star_polygon(centre, theta, radius)).within(room):
        radius *= 0.97  # an edge cut a concave corner of the room
    return shape


def voronoi_cell(centre, others, outline):
    """The convex Voronoi cell of ``centre`` among ``others``: shapes inside it cannot meet
    shapes inside the others' cells."""
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(np.vstack([others, centre])), extend_to=outline.buffer(RADIUS)))
    return cells[shapely.contains_xy(cells, *centre)][0]


def contested(rng, outline, centre, others, size: float, rival):
    """A blob kept out of every cell but its rival's, sized (by bisection: overlap only grows
    with size) to overlap the rival by about a fifth of the smaller shape's area; None when
    it cannot reach 15-30%."""
    state = rng.bit_generator.state

    def attempt(scale: float):
        rng.bit_generator.state = state  # same wobble each time: only the size changes
        shape = freehand(rng, outline, centre, others, size, scale)
        return shape, shape.intersection(rival).area / min(shape.area, rival.area)

    low, high = 0.0, 4.0
    for _ in range(30):
        shape, share = attempt((low + high) / 2)
        low, high = ((low + high) / 2, high) if share < 0.2 else (low, (low + high) / 2)
    return shape if 0.15 <= share <= 0.30 else None


# --- assets and GP practices ----------------------------------------------------------------------

def place_name(rng, category: str, ward: str, taken: set) -> str:
    """A plausible, unused name: a template for the category, filled from the word lists
    (``{ward}`` is the ward the place is in, so names fit the map)."""
    fixed = {"ward": [ward], "town": [TOWN]}
    pools = []
    for template in NAME_TEMPLATES[category]:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        names = [template.format(**dict(zip(fields, combo, strict=True)))
                 for combo in product(*(fixed.get(f) or NAME_WORDS[f] for f in fields))]
        if free := [name for name in names if name not in taken]:
            pools.append(free)
    if not pools:
        raise RuntimeError(f"ran out of {category} names in {ward}; add a template")
    pool = pools[rng.integers(len(pools))]
    name = pool[rng.integers(len(pool))]
    taken.add(name)
    return name


def ward_names_at(points, wards) -> list[str]:
    """The name of the ward each point is in."""
    hits = [[w for w, g in zip(wards["ward_name"], wards.geometry, strict=True) if g.covers(p)]
            for p in points]
    return [h[0] for h in hits]


def lon_lat(points) -> np.ndarray:
    """WGS84 lon/lat to 6 decimals (~0.1 m), as real asset lists arrive."""
    wgs = gpd.GeoSeries(points, crs=BNG).to_crs(WGS84)
    return np.round(shapely.get_coordinates(wgs.values), 6)


def gp_practices(rng, pcns, small_areas, pop, wards, scarce) -> pd.DataFrame:
    """Practices inside their PCN footprint (100 m clear of its edge), in populated places
    and 400 m apart; practices per PCN and list sizes follow the PCN's resident population."""
    residents = np.array([area_weighted(pcn, small_areas, pop) for pcn in pcns.geometry])
    share = N_PRACTICES * residents / residents.sum()
    count = np.floor(share).astype(int)
    count[np.argsort(count - share)[: N_PRACTICES - count.sum()]] += 1  # largest remainders
    rows, taken, points = [], set(), []
    for k, pcn in enumerate(pcns.itertuples()):
        inner = pcn.geometry.buffer(-100)
        regions = [g.intersection(inner).buffer(-5) for g in small_areas.geometry]
        weights = [0 if i in scarce else r.area / g.area * p for i, (r, g, p) in
                   enumerate(zip(regions, small_areas.geometry, pop, strict=True))]
        here = random_points(rng, regions, weights, count[k], min_gap=400)
        lists = rng.dirichlet(np.full(count[k], 3.0)) * residents[k] * 1.03
        for ward, size in zip(ward_names_at(here, wards), lists, strict=True):
            rows.append({"practice_name": place_name(rng, "gp_surgery", ward, taken),
                         "pcn_code": pcn.pcn_code, "pcn_name": pcn.pcn_name,
                         "registered_patients": int(np.clip(round(size), 3_000, 15_000))})
        points += here
    frame = pd.DataFrame(rows)
    frame[["lon", "lat"]] = lon_lat(points)
    frame.insert(0, "practice_code", [f"MV{i + 1:03d}" for i in range(len(frame))])
    return frame[["practice_code", "practice_name", "pcn_code", "pcn_name",
                  "registered_patients", "lat", "lon"]]


def registrations(rng, small_areas, pop, practices) -> pd.DataFrame:
    """Patients of each practice by small area, shaped as NHS England's LSOA file
    (gp-reg-pat-prac-lsoa-all.csv), from the seeded model in ``nbhood_cli.simulate``: most
    live near their practice, a tail further away, and each practice's rows add up to its
    ``registered_patients``."""
    at = gpd.GeoSeries(gpd.points_from_xy(practices["lon"], practices["lat"]), crs=WGS84)
    found = simulate.registrations(
        shapely.get_coordinates(shapely.point_on_surface(small_areas.geometry.values)),
        small_areas.geometry.area.to_numpy(), pop,
        shapely.get_coordinates(at.to_crs(BNG).values),
        practices["registered_patients"].to_numpy(), rng)
    return pd.DataFrame({
        "PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": EXTRACT_DATE,
        "PRACTICE_CODE": practices["practice_code"].to_numpy()[found.practice],
        "PRACTICE_NAME": practices["practice_name"].str.upper().to_numpy()[found.practice],
        "LSOA_CODE": small_areas["sa_code"].to_numpy()[found.area],
        "SEX": "ALL", "NUMBER_OF_PATIENTS": found.patients})


def area_weighted(geom, small_areas, pop) -> float:
    """People in ``geom``, assuming each small area's people are spread evenly."""
    areas = small_areas.geometry
    return float((areas.intersection(geom).area / areas.area * pop).sum())


def assets(rng, small_areas, pop, wards, scarce, practices) -> pd.DataFrame:
    """Assets in proportion to population (so denser where people are), none in the scarce
    areas; the gp_surgery rows are the GP practices themselves."""
    weights = np.where(np.isin(np.arange(len(pop)), scarce), 0, pop)
    regions = small_areas.geometry.buffer(-5).tolist()  # clear of edges after rounding
    taken, rows, points = set(practices["practice_name"]), [], []
    for category, n in ASSET_COUNTS.items():
        here = random_points(rng, regions, weights, n)
        rows += [{"name": place_name(rng, category, ward, taken), "category": category}
                 for ward in ward_names_at(here, wards)]
        points += here
    frame = pd.DataFrame(rows)
    frame[["lon", "lat"]] = lon_lat(points)
    gps = practices.rename(columns={"practice_name": "name"}).assign(category="gp_surgery")
    frame = pd.concat([frame, gps[["name", "category", "lon", "lat"]]], ignore_index=True)
    frame = frame.sort_values(["category", "name"], ignore_index=True)
    frame.insert(0, "asset_id", [f"MVA{i + 1:04d}" for i in range(len(frame))])
    return frame[["asset_id", "name", "category", "lat", "lon"]]


# --- the town -----------------------------------------------------------------------------------

def build_town(seed: int = DEFAULT_SEED) -> dict:
    """Every sample layer and table, in EPSG:27700, checked; nothing written."""
    outline = town_outline(stream(seed, "outline"))
    faces, labels = partition(outline, layer_seeds(seed, outline))
    wards, ward_of_face = build_wards(faces, labels["wards"])
    pcns = build_pcns(faces, labels["pcns"])
    small_areas = build_small_areas(faces, labels["small_areas"], ward_of_face)
    for name, layer in [("small areas", small_areas), ("wards", wards), ("PCNs", pcns)]:
        check_tessellation(layer.geometry.values, name)
    imd = deprivation(stream(seed, "deprivation"), small_areas)
    people = population(stream(seed, "population"), imd)
    pop = people["population"].to_numpy()
    scarce = scarce_areas(small_areas, imd)
    community = community_areas(stream(seed, "community"), outline)
    practices = gp_practices(stream(seed, "practices"), pcns, small_areas, pop, wards, scarce)
    return {
        "registrations": registrations(stream(seed, "registrations"), small_areas, pop,
                                       practices),
        "small_areas": small_areas, "population": people, "deprivation": imd,
        "wards": wards, "pcns": pcns, "community": community, "practices": practices,
        "assets": assets(stream(seed, "assets"), small_areas, pop, wards, scarce, practices),
        "scarce": small_areas["sa_code"].iloc[scarce].tolist(),
    }


# --- writing ------------------------------------------------------------------------------------

def facts(town) -> dict:
    """The numbers the README quotes and the run prints."""
    areas, community = town["small_areas"].geometry, town["community"]
    pop = town["population"]["population"].to_numpy()
    outline = shapely.union_all(areas.values)
    shapes = community.geometry.values
    [(a, b)] = [(i, j) for i in range(len(shapes)) for j in range(i + 1, len(shapes))
               if shapes[i].intersects(shapes[j])]
    people = [area_weighted(shape, town["small_areas"], pop) for shape in shapes]
    return {
        "small_areas": len(areas), "wards": len(town["wards"]), "pcns": len(town["pcns"]),
        "community_areas": len(community), "assets": len(town["assets"]),
        "practices": len(town["practices"]), "population": int(pop.sum()),
        "town_km2": outline.area / 1e6,
        "unclaimed": 1 - shapely.union_all(shapes).intersection(outline).area / outline.area,
        "contested": (community["id"].iloc[a], community["id"].iloc[b],
                      shapes[a].intersection(shapes[b]).area
                      / min(shapes[a].area, shapes[b].area)),
        "community_people": (min(people), max(people)),
        "registered": int(town["practices"]["registered_patients"].sum()),
        "registration_rows": len(town["registrations"]),
        "scarce": town["scarce"],
    }


FILE_NOTES = [  # file, columns, how it was made: the README's table
    ("small_areas.geojson", "sa_code, name",
     "Voronoi cells of {small_areas} seeded points, denser towards the centre, clipped to an "
     "irregular outline. Codes run ward by ward, north to south; names copy the ONS pattern "
     "(`Marram Vale 003B`)."),
    ("small_area_population.csv", "sa_code, population",
     "1,000-3,000 people per small area, a little more where deprivation is higher. Join to "
     "the small areas by `sa_code`."),
    ("deprivation.csv", "sa_code, imd_score, imd_rank, imd_decile",
     "An IMD-like score (higher is more deprived) from a smooth field with two deprived "
     "pockets, so neighbours resemble each other. Rank 1 and decile 1 are the most deprived "
     "within the town."),
    ("wards.geojson", "ward_code, ward_name",
     "Voronoi cells of {wards} other seeded points cut from the same outline, so ward edges "
     "cross small areas."),
    ("pcn_footprints.geojson", "pcn_code, pcn_name",
     "Voronoi cells of one seeded point per compass quarter (north, east, south, west), cut "
     "from the same outline."),
    ("community_areas.geojson", "id, name, drawn_by",
     "Freehand-looking shapes (10-20 vertices of smoothed radial noise) around spread-out "
     "centres, inside the town, disjoint except for one contested pair."),
    ("assets.csv", "asset_id, name, category, lat, lon",
     "Points in small areas drawn in proportion to population (none in the two scarce "
     "areas), named from templates and the ward each is in. The `gp_surgery` rows are the GP "
     "practices."),
    ("gp_practices.csv",
     "practice_code, practice_name, pcn_code, pcn_name, registered_patients, lat, lon",
     "Practices inside their PCN footprint, in populated places, at least 400 m apart; list "
     "sizes (3,000-15,000) share out the footprint's population."),
    ("gp_registrations.csv",
     "PUBLICATION, EXTRACT_DATE, PRACTICE_CODE, PRACTICE_NAME, LSOA_CODE, SEX, "
     "NUMBER_OF_PATIENTS",
     "Where each practice's patients live ({registration_rows} rows), in the shape of NHS "
     "England's LSOA file (`LSOA_CODE` holds the `sa_code`): a seeded gravity model "
     "(`nbhood_cli.simulate`), most patients near their practice and a tail further away; "
     "each practice's rows add up to its `registered_patients`. Input of `nbhood "
     "footprint`."),
]


def readme(f: dict, seed: int) -> str:
    """data/samples/README.md: that the town is fictional first, then what each file holds,
    how it was made and how to rebuild it."""
    command = "python -m nbhood_cli.samples" + (f" --seed {seed}" if seed != DEFAULT_SEED else "")
    first, second, share = f["contested"]
    low, high = f["community_people"]
    east, north = CENTRE
    rows = [f"| `{name}` | {', '.join(f'`{c}`' for c in columns.split(', '))} | "
            f"{how.format(**f)} |" for name, columns, how in FILE_NOTES]
    return "\n".join([
        f"# {TOWN} sample data: FICTIONAL",
        "",
        f"**Everything in this folder is fictional.** {TOWN} is not a real place, and no real "
        "people, organisations, services or statistics are described here. The town sits in "
        f"British National Grid coordinates (around easting {east:.0f}, northing {north:.0f}, "
        "open country in the East Midlands) only so that its coordinates are plausible for "
        "England; it says nothing about anything actually there. Use these files for demos "
        "and tests only.",
        "",
        f"The files are generated, not edited: `{command}` (seed {seed}) rebuilds them byte "
        "for byte from `src/nbhood_cli/samples.py`, and `tests/test_samples.py` fails if they "
        "drift from it.",
        "",
        "## At a glance",
        "",
        f"- {f['small_areas']} small areas (LSOA-like) with {f['population']:,} people over "
        f"{f['town_km2']:.1f} km².",
        f"- {f['wards']} wards and {f['pcns']} PCN footprints. Small areas, wards and PCN "
        "footprints each cover the same town outline with no gaps or overlaps, and none nests "
        "in another.",
        f"- {f['community_areas']} community-drawn areas of about {low:,.0f} to {high:,.0f} "
        f"people. {first} and {second} overlap (the contested area is {share:.0%} of the "
        f"smaller); the rest are disjoint. {f['unclaimed']:.0%} of the town's land is in no "
        "community area.",
        f"- {f['assets']} community assets and {f['practices']} GP practices with "
        f"{f['registered']:,} registered patients; `gp_registrations.csv` says which small "
        "areas they live in, as NHS England's LSOA file does.",
        f"- Double disadvantage: {' and '.join(f['scarce'])}, the two most deprived small "
        "areas, have no assets at all.",
        "",
        "## Files",
        "",
        "GeoJSON files are RFC 7946 (WGS84 longitude/latitude, 6 decimals), built in "
        "EPSG:27700 with every vertex on a 1 m grid. CSV coordinates are WGS84, 6 decimals.",
        "",
        "| File | Columns | How it was made |",
        "|---|---|---|",
        *rows,
        "",
    ])


def generate(out: Path, seed: int = DEFAULT_SEED) -> dict:
    """Build the town and write every file into ``out`` (created if missing, files in it
    replaced); returns the README's numbers."""
    town = build_town(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, key in [("small_areas", "small_areas"), ("wards", "wards"),
                      ("pcn_footprints", "pcns"), ("community_areas", "community")]:
        write_layer(town[key], out / f"{name}.geojson", overwrite=True)
    for name, key in [("small_area_population", "population"), ("deprivation", "deprivation"),
                      ("assets", "assets"), ("gp_practices", "practices"),
                      ("gp_registrations", "registrations")]:
        write_table(town[key], out / f"{name}.csv", overwrite=True)
    numbers = facts(town)
    write_text(readme(numbers, seed), out / "README.md", overwrite=True)
    return numbers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m nbhood_cli.samples",
        description=f"Write the FICTIONAL sample town {TOWN} (layers, CSVs and a README).")
    parser.add_argument("--out", type=Path, default=Path("data/samples"),
                        help="folder to write into (default: data/samples)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default: {DEFAULT_SEED}, the committed sample)")
    args = parser.parse_args(argv)
    f = generate(args.out, args.seed)
    print(f"{args.out}: {f['small_areas']} small areas ({f['population']:,} people), "
          f"{f['wards']} wards, {f['pcns']} PCNs, {f['community_areas']} community areas "
          f"({f['unclaimed']:.0%} unclaimed), {f['assets']} assets, "
          f"{f['practices']} GP practices")


if __name__ == "__main__":
    main()
