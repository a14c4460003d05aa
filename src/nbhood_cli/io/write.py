"""Writing layers and tables: RFC 7946 GeoJSON, GeoPackage and CSV, atomically and
byte-for-byte reproducibly.

Councils diff and publish these files, so the same input must give the same bytes, and a
failed run must never leave half a file where a good one was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from nbhood_cli.errors import NbhoodError

GEOJSON_PRECISION = 6  # ~0.1 m: RFC 7946 §11.2 recommends no more
WRITE_SUFFIXES = {".geojson", ".json", ".gpkg", ".csv"}


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless told; make sure its folder exists."""
    if path.exists() and not overwrite:
        raise NbhoodError(f"{path}: already exists; pass --overwrite to replace it")
    if path.exists():
        spare_inputs(path)
    if not path.parent.exists():
        raise NbhoodError(f"{path.parent}: no such folder; create it first")


FILE_SUFFIXES = WRITE_SUFFIXES | {".html", ".png", ".shp", ".zip", ".xlsx", ".parquet"}


def check_folder(path: Path, overwrite: bool) -> None:
    """Before any work: a folder output needs a folder's name (``--out x.csv`` would make a
    folder called x.csv; ``results-v1.2`` is fine), and replacing one needs --overwrite."""
    if path.suffix.lower() in FILE_SUFFIXES:
        raise NbhoodError(f"{path}: --out is a folder; give a name without a file extension")
    if path.exists() and not overwrite:
        raise NbhoodError(f"{path}: already exists; pass --overwrite to replace it")


MARKER = ".nbhood"  # in every output folder: what nbhood wrote there, one path a line
MARKER_HEAD = "Written by nbhood; --overwrite replaces these and nothing else:"


def _entries(folder: Path) -> set[str]:
    """Every file, link and folder under ``folder``, relative (links are not followed)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        found.update((base / name).as_posix() for name in [*dirs, *files])
    return found


def _mark(build: Path) -> None:
    listed = sorted(_entries(build))
    (build / MARKER).write_text("\n".join([MARKER_HEAD, *listed]) + "\n", encoding="utf-8")


def _strangers(old: Path, build: Path) -> list[str]:
    """What --overwrite must not delete: entries of the old folder that nbhood did not write
    there (its marker lists them) and the new output does not replace — a user's notes or
    QGIS project saved beside the layers, or a folder of the user's own."""
    marker = old / MARKER
    ours = set(marker.read_text(encoding="utf-8").splitlines()[1:]) if marker.is_file() \
        else set()
    return sorted(_entries(old) - ours - _entries(build) - {MARKER})


def spare_inputs(path: Path) -> None:
    """--overwrite replaces outputs, never what the run reads or where the user works:
    ``--out . --overwrite`` or an output named like an input would destroy them."""
    from nbhood_cli.io.read import files_read

    target = path.resolve()
    if target in files_read():
        raise NbhoodError(f"{path}: is an input of this run; write the output to another file")
    if path.is_dir():
        here = Path.cwd().resolve()
        if target == here or target in here.parents:
            raise NbhoodError(f"{path}: is the folder you are working in (or holds it), which "
                              "--overwrite would replace; choose a new folder for --out")
        inside = sorted(p for p in files_read() if target in p.parents)
        if inside:
            raise NbhoodError(f"{path}: holds {inside[0]}, an input of this run, which "
                              "--overwrite would delete; choose another folder for --out")


@contextlib.contextmanager
def _writable(folder: Path):
    """The first write into a folder says, in the user's terms, when it cannot be done."""
    try:
        yield
    except OSError as exc:
        raise NbhoodError(f"{folder}: cannot write here ({exc.strerror or exc}); choose a "
                          "folder you can write to") from None


@contextlib.contextmanager
def atomic_path(path: Path, overwrite: bool = False):
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    check_target(path, overwrite)
    # Keep the real extension last: GDAL warns about a GeoPackage not named *.gpkg.
    with _writable(path.parent):
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}",
                                       dir=path.parent)
    os.close(handle)
    tmp = Path(tmp)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path, overwrite: bool = False):
    """Build a whole output folder in a temporary sibling, then swap it in.

    A failed run leaves the previous folder exactly as it was.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise NbhoodError(f"{path}: already exists; pass --overwrite to replace it")
    if path.exists() and not path.is_dir():
        raise NbhoodError(f"{path}: is a file, not a folder; choose another --out")
    if path.exists():
        spare_inputs(path)
    parent = path.resolve().parent
    if not parent.exists():
        raise NbhoodError(f"{parent}: no such folder; create it first")
    with _writable(parent):
        build = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(build, 0o777 & ~umask)  # mkdtemp's 0700 would hide results from colleagues
    try:
        yield build
        _mark(build)
        if path.exists():
            spare_inputs(path)  # inputs read while the folder was built
            strangers = _strangers(path, build)
            if strangers:
                raise NbhoodError(f"{path}: holds {strangers[0]}"
                                  + (f" and {len(strangers) - 1} more" if len(strangers) > 1
                                     else "")
                                  + ", which nbhood did not write there and this run would "
                                  "delete; move it or choose another folder for --out")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent))
            os.replace(path, old / path.name)
            os.replace(build, path)
            shutil.rmtree(old)
        else:
            os.replace(build, path)
    finally:
        if build.exists():
            shutil.rmtree(build)


@contextlib.contextmanager
def alongside(work, *args):
    """Run ``work(*args)`` in a child process while the block runs; yield a function that
    waits for it and returns its result (or raises its error). The child is forked, so it sees
    the caller's frames without copying them: work that holds the GIL (drawing maps) then has
    the second core while the block writes layers. If the block fails, the child is stopped.
    Where there is no fork, the work runs in a thread instead."""
    import pickle
    import signal
    from concurrent.futures import ThreadPoolExecutor

    if not hasattr(os, "fork"):
        with ThreadPoolExecutor(1) as pool:
            yield pool.submit(work, *args).result
        return
    handle, result = tempfile.mkstemp(prefix=".nbhood-")
    os.close(handle)
    pid = os.fork()
    if pid == 0:  # the child: leave the result in the file and exit at once, no cleanup
        # Fresh streams: a lock another thread held at the fork (the progress display on a
        # terminal) would stay held in the child.
        sys.stdout, sys.stderr = (open(fd, "w", buffering=1, closefd=False) for fd in (1, 2))
        outcome = _outcome(work, args)
        try:
            Path(result).write_bytes(pickle.dumps(outcome))
        finally:
            os._exit(0 if outcome[0] else 1)
    waited = False

    def wait():
        nonlocal waited
        status = os.waitpid(pid, 0)[1]
        waited = True
        data = Path(result).read_bytes()
        if not data:
            raise RuntimeError(f"the child process stopped without a result ({status})")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value

    try:
        yield wait
    finally:
        if not waited:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        os.unlink(result)


def _outcome(work, args) -> tuple:
    """(True, result) or (False, the error), as something that pickles."""
    import pickle

    try:
        return True, work(*args)
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            pickle.dumps(error)
            return False, error
        except Exception:  # noqa: BLE001
            return False, RuntimeError(f"{type(error).__name__}: {error}")


def write_layer(frame, path: Path, overwrite: bool = False) -> None:
    """Write by extension: .geojson/.json (RFC 7946), .gpkg (working CRS) or .csv (WKT)."""
    suffix = _suffix(path)
    with atomic_path(path, overwrite) as tmp:
        if suffix in (".geojson", ".json"):
            tmp.write_text(geojson_text(frame), encoding="utf-8")
        elif suffix == ".gpkg":
            _write_gpkg(frame, tmp, path.stem)
        else:
            tmp.write_text(csv_text(_with_wkt(frame)), encoding="utf-8")


def write_layers(layers: dict, overwrite: bool = False) -> None:
    """Write several layers (path → frame) at once: the GeoJSON ones share one table of
    vertices, so a boundary they have in common is converted and formatted once. Every
    target is checked before anything is written."""
    for path in layers:
        _suffix(path)
        check_target(path, overwrite)
    geojson = [path for path in layers if _suffix(path) in (".geojson", ".json")]
    for path, text in zip(geojson, geojson_texts([layers[p] for p in geojson]), strict=True):
        with atomic_path(path, overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
    for path, frame in layers.items():
        if path not in geojson:
            write_layer(frame, path, overwrite)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise NbhoodError(f"{path}: cannot write {suffix or 'files without an extension'}; "
                          "use .geojson, .gpkg or .csv")
    return suffix


def write_table(frame, path: Path, overwrite: bool = False) -> None:
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(csv_text(frame), encoding="utf-8")


def write_text(text: str, path: Path, overwrite: bool = False) -> None:
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")


# --- GeoJSON --------------------------------------------------------------------------------
#
# England's layers hold ~17 million vertices, only 2.5 million of them distinct: the layers
# share boundaries. Encoding them feature by feature in Python (shapely ``mapping`` +
# ``json.dumps``) took ~75 s, so the text is built array by array instead. Layers written
# together share one table of distinct vertices, each converted to lon/lat once (PROJ, in two
# threads) and formatted once (numpy); GEOS orients the rings; each feature is one slice of
# one string. The bytes are exactly what ``json.dumps`` of each feature's mapping gives: tests
# compare the two on awkward and real layers.

WGS84 = "EPSG:4326"
_ROWS_PER_CHUNK = 1 << 19  # vertices formatted at once: bounds the scratch memory
# After a pair: inside a ring, between rings, between polygons, end of the geometry.
_SEPARATORS = (",", "],[", "]],[[", "")
_NEXT_RING, _NEXT_PART, _LAST = 1, 2, 3


def geojson_text(frame, precision: int = GEOJSON_PRECISION) -> str:
    """RFC 7946 text: WGS84 lon/lat, no ``crs`` member, ``precision`` decimals, exterior rings
    counter-clockwise, one feature per line in frame order, properties in column order."""
    return next(geojson_texts([frame], precision))


def geojson_texts(frames, precision: int = GEOJSON_PRECISION):
    """``geojson_text`` of each frame, in turn: a vertex the frames share is converted and
    formatted once."""
    shapes = _share([_Shapes(frame) for frame in frames], precision)
    for i, frame in enumerate(frames):
        geometry, shapes[i] = shapes[i].texts(), None  # let each frame's arrays go when done
        lines = _feature_lines(frame, geometry)
        yield '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def geometry_texts(frames, precision: int = GEOJSON_PRECISION) -> list[list[str]]:
    """Each feature's geometry as RFC 7946 JSON text (``null`` when missing), frame by frame:
    a vertex the frames share is converted and formatted once."""
    return [shape.texts() for shape in _share([_Shapes(frame) for frame in frames], precision)]


class _Shapes:
    """A frame's geometries taken apart: the coordinates of its points, then of its
    (multi)polygons with GeoArrow-style ring, part and geometry offsets. Anything else (lines,
    collections, empties, 3D, NaN) takes the feature path."""

    def __init__(self, frame):
        import numpy as np
        import shapely

        self.crs = frame.crs
        self.geoms = np.asarray(frame.geometry.values, dtype=object)
        kind = shapely.get_type_id(self.geoms)
        plain = ~shapely.is_empty(self.geoms) & ~shapely.has_z(self.geoms)
        self.points = np.flatnonzero((kind == 0) & plain)
        self.polygons = np.flatnonzero(np.isin(kind, (3, 6)) & plain)
        self.slow = set(np.flatnonzero((kind >= 0) & (~np.isin(kind, (0, 3, 6)) | ~plain))
                        .tolist())
        self.multi = (kind[self.polygons] == 6).tolist()
        offsets = (np.zeros(1, dtype=np.int64),) * 3
        polygon_xy = np.zeros((0, 2))
        if len(self.polygons):
            _, polygon_xy, offsets = shapely.to_ragged_array(self.geoms[self.polygons])
            if len(offsets) == 2:  # polygons only: each is its own single part
                offsets = (*offsets, np.arange(len(self.polygons) + 1))
        self.ring_at, self.part_at, self.geom_at = offsets
        self.xy = np.concatenate([shapely.get_coordinates(self.geoms[self.points]), polygon_xy])
        self.codes = self.table = None  # each coordinate's row in the shared vertex table

    def texts(self) -> list[str]:
        import numpy as np

        texts = ["null"] * len(self.geoms)
        table, n = self.table, len(self.points)
        if n:
            text, offsets = table.text(self.codes[:n], np.full(n, _LAST, dtype=np.int8))
            starts = offsets.tolist()
            for i, a, b in zip(self.points.tolist(), starts[:-1], starts[1:], strict=True):
                texts[i] = '{"type":"Point","coordinates":' + text[a:b] + "}"
            self.slow.update(self.points[table.odd[self.codes[:n]]].tolist())
        if len(self.polygons):
            self._polygon_texts(texts, self.codes[n:])
        slow = sorted(self.slow)
        for i, text in zip(slow, _feature_path(self.geoms[slow], self.crs, table.precision),
                           strict=True):
            texts[i] = text
        return texts

    def _polygon_texts(self, texts: list, codes) -> None:
        """Ring, part and geometry ends become the brackets between pairs."""
        import numpy as np

        ring_at, part_at, geom_at = self.ring_at, self.part_at, self.geom_at
        codes = _counter_clockwise(codes, self.table.lonlat, ring_at, part_at)
        separators = np.zeros(len(codes), dtype=np.int8)
        separators[ring_at[1:] - 1] = _NEXT_RING
        separators[ring_at[part_at[1:]] - 1] = _NEXT_PART
        first = ring_at[part_at[geom_at]]  # each geometry's first coordinate, and the end
        separators[first[1:] - 1] = _LAST
        text, offsets = self.table.text(codes, separators)
        starts = offsets[first].tolist()
        heads = ('{"type":"Polygon","coordinates":[[', '{"type":"MultiPolygon","coordinates":[[[')
        tails = ("]]}", "]]]}")
        for i, a, b, m in zip(self.polygons.tolist(), starts[:-1], starts[1:], self.multi,
                              strict=True):
            texts[i] = heads[m] + text[a:b] + tails[m]
        count = np.arange(len(self.polygons))
        owner = np.repeat(count, np.diff(first))
        empty_part = np.repeat(count, np.diff(geom_at))[np.diff(part_at) == 0]  # mapping: []
        failed = np.union1d(owner[self.table.odd[codes]], empty_part)
        self.slow.update(self.polygons[failed].tolist())


def _share(shapes: list, precision: int) -> list:
    """Give the shapes one vertex table per CRS: each distinct vertex once."""
    import numpy as np

    groups = {}
    for shape in shapes:
        groups.setdefault(None if shape.crs is None else shape.crs.to_wkt(), []).append(shape)
    for members in groups.values():
        codes, distinct = _distinct(np.concatenate([shape.xy for shape in members]))
        table = _Vertices(distinct, members[0].crs, precision)
        start = 0
        for shape in members:
            shape.codes, shape.table = codes[start:start + len(shape.xy)], table
            start += len(shape.xy)
            shape.xy = None
    return shapes


def _distinct(xy):
    """Each coordinate's row among the distinct coordinates (bit for bit), and those rows in
    order of first appearance. Arrow hashes the 16 bytes of each pair."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    xy = np.ascontiguousarray(xy, dtype=np.float64)
    pairs = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(xy),
                                                 [None, pa.py_buffer(xy)])
    encoded = pc.dictionary_encode(pairs)
    distinct = np.frombuffer(encoded.dictionary.buffers()[1], dtype=np.float64,
                             count=2 * len(encoded.dictionary)).reshape(-1, 2)
    return encoded.indices.to_numpy(), distinct


class _Vertices:
    """Distinct vertices in lon/lat, each formatted once as a fixed-width character row
    (``[x,y]``) with the mask of characters to keep, and whether it is not a coordinate
    this can write (NaN, |x| ≥ 1000: the feature path says what is wrong)."""

    def __init__(self, xy, crs, precision: int):
        import numpy as np

        self.precision = precision
        self.lonlat = lon_lat(xy, crs)
        done = _in_chunks(lambda rows: _pair_chars(self.lonlat[rows], precision),
                          len(self.lonlat)) or [_pair_chars(self.lonlat[:0], precision)]
        self.chars, self.keep, self.odd = (np.concatenate(part)
                                           for part in zip(*done, strict=True))
        self.lengths = self.keep.sum(axis=1)

    def text(self, codes, separators):
        """The pairs ``codes`` names, each followed by its separator, as one string, with the
        offset where each starts (and the end)."""
        import numpy as np

        sep_chars, sep_keep = _separator_table()
        sep_lengths = sep_keep.sum(axis=1)
        width = self.chars.shape[1]

        def chunk(rows):
            c, s = codes[rows], separators[rows]
            chars = np.empty((len(c), width + sep_chars.shape[1]), dtype=np.uint8)
            keep = np.empty(chars.shape, dtype=bool)
            # np.take copies whole rows: three times quicker than fancy indexing here
            chars[:, :width] = np.take(self.chars, c, axis=0)
            keep[:, :width] = np.take(self.keep, c, axis=0)
            chars[:, width:], keep[:, width:] = sep_chars[0], sep_keep[0]  # mostly ","
            other = np.flatnonzero(s)
            chars[other, width:], keep[other, width:] = sep_chars[s[other]], sep_keep[s[other]]
            return chars[keep].tobytes(), np.take(self.lengths, c) + np.take(sep_lengths, s)

        done = _in_chunks(chunk, len(codes))
        offsets = np.zeros(len(codes) + 1, dtype=np.int64)
        if done:
            np.cumsum(np.concatenate([lengths for _, lengths in done]), out=offsets[1:])
        return b"".join(chars for chars, _ in done).decode("ascii"), offsets


def _in_chunks(work, n: int) -> list:
    """``work`` on slices of ``range(n)``, in two threads: numpy releases the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    slices = [slice(i, min(i + _ROWS_PER_CHUNK, n)) for i in range(0, n, _ROWS_PER_CHUNK)]
    if len(slices) < 2:
        return [work(s) for s in slices]
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(work, slices))


def _counter_clockwise(codes, lonlat, ring_at, part_at):
    """Exterior rings counter-clockwise and holes clockwise, as ``shapely.orient_polygons``
    does it (the same GEOS orientation test on the lon/lat ring): reverse whole rings."""
    import numpy as np
    import shapely

    sizes = np.diff(ring_at)
    ring = np.repeat(np.arange(len(sizes)), sizes)
    ccw = shapely.is_ccw(shapely.linearrings(np.take(lonlat, codes, axis=0), indices=ring))
    exterior = np.zeros(len(sizes), dtype=bool)
    exterior[part_at[:-1][np.diff(part_at) > 0]] = True
    flip = ccw != exterior
    if not flip.any():
        return codes
    order = np.arange(len(codes))
    flipped = np.take(flip, ring)
    ends = np.take(ring_at[:-1] + ring_at[1:] - 1, ring)  # first + last index of the ring
    order[flipped] = (ends - order)[flipped]
    return np.take(codes, order)


def lon_lat(xy, crs):
    """Coordinates in WGS84 lon/lat, as ``GeoDataFrame.to_crs`` gives them (the same PROJ
    transformer), in two threads for big arrays: PROJ releases the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from pyproj import CRS

    if crs is None or crs.is_exact_same(CRS.from_user_input(WGS84)) or not len(xy):
        return xy
    transformer = _to_wgs84(crs)  # thread-safe: pyproj keeps one PROJ object per thread

    def convert(block):
        return np.column_stack(transformer.transform(block[:, 0], block[:, 1]))

    if len(xy) < 200_000:
        return convert(xy)
    with ThreadPoolExecutor(2) as pool:
        return np.concatenate(list(pool.map(convert, np.array_split(xy, 2))))


@functools.lru_cache
def _to_wgs84(crs):
    from pyproj import Transformer

    return Transformer.from_crs(crs, WGS84, always_xy=True)


def _pair_chars(lonlat, precision: int):
    """A character grid and the mask of characters to keep, a fixed-width row per pair:
    ``[`` + x + ``,`` + y + ``]``. Numbers are rounded as ``np.round`` rounds them and written
    as ``repr`` writes them; pairs that are not lon/lat are flagged."""
    import numpy as np

    scaled = np.rint(lonlat * 10.0 ** precision)  # what np.round does, before dividing
    odd = ~(np.abs(scaled) < 1000 * 10.0 ** precision)  # NaN, or |x| ≥ 1000: not lon/lat
    scaled[odd] = 0
    n, width = len(lonlat), 6 + precision  # sign, three digits, point, decimals, then , or ]
    chars = np.empty((n, 2, width), dtype=np.uint8)
    keep = np.ones((n, 2, width), dtype=bool)
    _number_chars(scaled.astype(np.int64).ravel(), precision,
                  chars.reshape(2 * n, width), keep.reshape(2 * n, width))
    chars[:, 0, -1], chars[:, 1, -1] = ord(","), ord("]")
    chars, keep = chars.reshape(n, 2 * width), keep.reshape(n, 2 * width)
    opening = np.full((n, 1), ord("["), dtype=np.uint8)
    return (np.hstack([opening, chars]), np.hstack([np.ones((n, 1), dtype=bool), keep]),
            odd.any(axis=1))


def _number_chars(scaled, precision: int, chars, keep) -> None:
    """Fill ``chars``/``keep`` with ``repr`` of ``scaled / 10**precision`` (|x| < 1000): a
    sign, the whole part without leading zeros, a point, the decimals without trailing zeros
    (at least one digit each side). Column by column from digit tables: numpy is quickest
    on long one-dimensional runs."""
    import numpy as np

    digit, starts, length = _digit_tables()
    groups = -(-precision // 3)
    whole, fraction = np.divmod(np.abs(scaled), 10 ** precision)
    fraction *= 10 ** (3 * groups - precision)  # pad to whole groups of three
    chars[:, 0] = ord("-")
    keep[:, 0] = scaled < 0
    for j in range(3):
        chars[:, 1 + j] = digit[j].take(whole)
        keep[:, 1 + j] = starts[j].take(whole)
    chars[:, 4] = ord(".")
    kept = np.ones(len(scaled), dtype=np.int8)
    for g in range(groups):
        group = fraction // 1000 ** (groups - 1 - g) % 1000
        for j in range(min(3, precision - 3 * g)):
            chars[:, 5 + 3 * g + j] = digit[j].take(group)
        np.copyto(kept, 3 * g + length.take(group), where=group > 0)
    for j in range(precision):
        keep[:, 5 + j] = kept > j
    tiny = np.flatnonzero((scaled != 0) & (np.abs(scaled) < 10 ** (precision - 4)))
    for value in np.unique(scaled[tiny]).tolist():  # repr writes 1.2e-05: a handful of texts
        rows = tiny[scaled[tiny] == value]
        text = np.frombuffer(repr(value / 10 ** precision).encode(), dtype=np.uint8)
        chars[rows, :len(text)] = text
        keep[rows, :5 + precision] = np.arange(5 + precision) < len(text)


@functools.cache
def _digit_tables():
    """For 0–999: each of its three digits, whether a number's whole part shows that digit
    (no leading zeros but the last), and how many digits a decimal group keeps (up to its
    last non-zero one)."""
    import numpy as np

    text = [f"{i:03d}" for i in range(1000)]
    digit = [np.array([ord(t[j]) for t in text], dtype=np.uint8) for j in range(3)]
    starts = [np.array([j >= 3 - len(str(i)) for i in range(1000)]) for j in range(3)]
    length = np.array([len(t.rstrip("0")) for t in text], dtype=np.int8)
    return digit, starts, length


@functools.cache
def _separator_table():
    import numpy as np

    width = max(map(len, _SEPARATORS))
    chars = np.zeros((len(_SEPARATORS), width), dtype=np.uint8)
    keep = np.zeros((len(_SEPARATORS), width), dtype=bool)
    for i, text in enumerate(_SEPARATORS):
        chars[i, :len(text)] = np.frombuffer(text.encode(), dtype=np.uint8)
        keep[i, :len(text)] = True
    return chars, keep


def _feature_path(geoms, crs, precision: int) -> list[str]:
    """The plain way, one geometry at a time: for the few the array path leaves out."""
    import geopandas as gpd
    import shapely

    if not len(geoms):
        return []
    series = gpd.GeoSeries(geoms, crs=crs)
    wgs = series.to_crs(WGS84) if crs is not None else series
    oriented = shapely.orient_polygons(wgs.values, exterior_cw=False)
    rounded = shapely.transform(oriented, functools.partial(_round, precision=precision))
    return [json.dumps(shapely.geometry.mapping(g), allow_nan=False, separators=(",", ":"))
            for g in rounded]


def _round(xy, precision: int = GEOJSON_PRECISION):
    import numpy as np

    out = np.round(xy, precision)
    out[out == 0] = 0.0  # no "-0.0": same bytes on every platform
    return out


def _feature_lines(frame, geometry: list[str]) -> list[str]:
    """Each feature as one line of JSON, its properties built column by column. Keys as a
    dict keeps them: a repeated column name appears once, in its first place, with its last
    value."""
    last = {c: i for i, c in enumerate(frame.columns) if c != frame.geometry.name}
    keys = list(dict.fromkeys(c for c in frame.columns if c in last))
    properties = ",".join(json.dumps({key: None}, ensure_ascii=False, separators=(",", ":"))
                          [1:-5].replace("%", "%%") + "%s" for key in keys)
    line = '{"type":"Feature","properties":{' + properties + '},"geometry":%s}'
    columns = [value_texts(frame.iloc[:, last[key]]) for key in keys]
    return [line % row for row in zip(*columns, geometry, strict=True)]


def value_texts(series) -> list[str]:
    """Each value of a column as JSON text, as ``json.dumps(json_value(v))`` writes it:
    numpy columns at once, anything else value by value."""
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return list(map(str, series.to_numpy().tolist()))
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return ["true" if v else "false" for v in series.to_numpy().tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize <= 8:
        values = series.to_numpy(dtype=np.float64)
        texts = list(map(float.__repr__, (values + 0.0).tolist()))  # + 0.0: no "-0.0"
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            texts[i] = "null"
        return texts
    encode = json.encoder.encode_basestring
    return [encode(v) if type(v) is str else
            "null" if v is None or (type(v) is float and v != v) else
            _scalar_text(json_value(v)) for v in series.tolist()]


def _scalar_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.encoder.encode_basestring(value)
    return json.dumps(value, allow_nan=False)

def json_value(value):
    """A property value as plain JSON: numpy scalars unwrapped, NaN/NaT → null, dates ISO."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return value + 0.0  # -0.0 → 0.0, as for coordinates
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, bool)):
        return value
    return str(value)


# --- tables ---------------------------------------------------------------------------------

def csv_text(frame) -> str:
    """CSV with ``\\n`` line ends, shortest round-trip floats and no index."""
    return frame.to_csv(index=False, lineterminator="\n")


def _with_wkt(frame):
    import shapely

    out = frame.drop(columns=[frame.geometry.name]).copy()
    # 3 decimals is a millimetre in metres but ~100 m in degrees: lon/lat keep GeoJSON's 6.
    geographic = frame.crs is not None and frame.crs.is_geographic
    precision = GEOJSON_PRECISION if geographic else 3
    out["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=precision, trim=True)
    return out


def _write_gpkg(frame, path: Path, layer: str) -> None:
    """GeoPackage in the frame's (working) CRS; a fixed timestamp keeps the bytes stable."""
    import pyogrio

    stamp = source_date()
    with gdal_config(OGR_CURRENT_DATE=stamp):
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")


def source_date() -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else a fixed epoch."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextlib.contextmanager
def gdal_config(**options):
    import pyogrio

    before = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)
