"""Write the corpus of broken input files in this folder (see README.md for what each tests).

Run once and commit the output; ``tests/test_bad_inputs.py`` checks that running it again
gives the same bytes. Everything is fictional: coordinates around lon -1.5, lat 53.0, or
British National Grid around 450000, 350000.

    python tests/data/bad/make_bad.py [OUTDIR]     # default: this folder
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import warnings
import zipfile
from contextlib import closing
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Fixed stamps so the binary files come out byte-identical on every run.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
DBF_DATE = "2024-01-01"
GPKG_DATE = "2024-01-01T00:00:00Z"
# The files GDAL and SQLite write (shapefile parts, zipped shapefiles, GeoPackages) are only
# byte-identical with the same library versions; these are the ones the committed files came from.
WRITTEN_WITH = {"gdal": "3.12.4", "sqlite": "3.40.1"}
GDAL_WRITTEN = ("no_prj.shp", "no_prj.shx", "no_prj.dbf", "no_prj.cpg", "zipped_shapefile.zip",
                "zipped_no_prj.zip", "no_crs.gpkg", "layers.gpkg")


def feature(fid: str, geometry: str, **props) -> str:
    extra = "".join(f', "{k}": {v}' for k, v in props.items())
    return (f'    {{"type": "Feature", "properties": {{"id": "{fid}"{extra}}}, '
            f'"geometry": {geometry}}}')


def collection(*features: str) -> str:
    body = ",\n".join(features)
    return f'{{"type": "FeatureCollection", "features": [\n{body}\n]}}\n'


def square(x: float, y: float, d: float = 0.01) -> str:
    ring = [(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]
    return _polygon(ring)


def _polygon(ring) -> str:
    coords = ", ".join(f"[{a}, {b}]" for a, b in ring)
    return f'{{"type": "Polygon", "coordinates": [[{coords}]]}}'


def point(x: float, y: float) -> str:
    return f'{{"type": "Point", "coordinates": [{x}, {y}]}}'


TEXT: dict[str, str] = {
    "zero_features.geojson": '{"type": "FeatureCollection", "features": []}\n',
    "truncated.geojson": collection(
        feature("CA01", square(-1.50, 53.00)), feature("CA02", square(-1.48, 53.00))
    )[:150],
    "geojson_content.csv": collection(feature("CA01", square(-1.50, 53.00))),
    "csv_content.geojson": "id,name,lon,lat\nA1,Library,-1.50,53.00\nA2,Pharmacy,-1.49,53.01\n",
    # Header says lon,lat but the values are latitude first.
    "swapped_latlon.csv": "id,name,lon,lat\nA1,Library,53.00,-1.50\nA2,Pharmacy,53.01,-1.49\n"
                          "A3,Surgery,53.02,-1.47\n",
    "swapped_coords.geojson": collection(
        feature("CA01", _polygon([(53.00, -1.50), (53.00, -1.49), (53.01, -1.49),
                                  (53.01, -1.50), (53.00, -1.50)])),
    ),
    # No "crs" member, so GeoJSON means lon/lat degrees, but the numbers are BNG metres.
    "bng_metres.geojson": collection(
        feature("CA01", _polygon([(450000, 350000), (451000, 350000), (451000, 351000),
                                  (450000, 351000), (450000, 350000)])),
    ),
    "bng_in_latlon.csv": "id,name,lat,lon\nA1,Library,350000,450000\nA2,Pharmacy,350500,451200\n",
    # CA02 crosses itself (a bow-tie): repaired into two triangles, not refused.
    "bowtie.geojson": collection(
        feature("CA01", square(-1.52, 53.00)),
        feature("CA02", _polygon([(-1.50, 53.00), (-1.48, 53.02), (-1.48, 53.00),
                                  (-1.50, 53.02), (-1.50, 53.00)])),
    ),
    "mixed_geometry.geojson": collection(
        feature("CA01", square(-1.50, 53.00)), feature("CA02", point(-1.47, 53.01)),
        feature("CA03", point(-1.46, 53.02)),
    ),
    "duplicate_ids.geojson": collection(
        feature("CA01", square(-1.50, 53.00)), feature("CA02", square(-1.48, 53.00)),
        feature("CA01", square(-1.46, 53.00)),
    ),
    # Areas named by "ref"; a user asking for area_code gets told the columns.
    "missing_id_column.geojson": collection(
        feature("CA01", square(-1.50, 53.00), ref='"N1"', name='"North"'),
        feature("CA02", square(-1.48, 53.00), ref='"N2"', name='"South"'),
    ).replace('"id": "CA01", ', "").replace('"id": "CA02", ', ""),
    "population_text.csv": "sa_code,lon,lat,population\nE01990001,-1.50,53.00,1520\n"
                           "E01990002,-1.49,53.01,n/a\nE01990003,-1.48,53.02,1388\n",
    "population_negative.csv": "sa_code,lon,lat,population\nE01990001,-1.50,53.00,1520\n"
                               "E01990002,-1.49,53.01,1604\nE01990003,-1.48,53.02,-12\n",
    "population_empty.csv": "sa_code,lon,lat,population\nE01990001,-1.50,53.00,1520\n"
                            "E01990002,-1.49,53.01,\nE01990003,-1.48,53.02,1388\n",
    # No id column, so features are named by their line: lines 3 and 5 have no coordinates.
    "coords_some_missing.csv": "name,lon,lat\nLibrary,-1.50,53.00\nPharmacy,,53.01\n"
                               "Surgery,-1.48,53.02\nFood bank,,\nGym,-1.46,53.04\n",
    "coords_all_missing.csv": "id,name,lon,lat\nA1,Library,,\nA2,Pharmacy,,\n",
    "utf8_bom.csv": "\ufeffid,name,lon,lat\nA1,Café on the Green,-1.50,53.00\n"
                    "A2,£1 Book Swap,-1.49,53.01\n",
    # A2 is about 1,000 km north of England (lat 62, in the Norwegian Sea).
    "far_outside.csv": "id,name,lon,lat\nA1,Library,-1.50,53.00\nA2,Lost point,-1.50,62.00\n",
    "no_coords.csv": "id,name,population\nA1,Library,120\nA2,Pharmacy,80\n",
    "unnamed_column.csv": "id,,lon,lat\nA1,Library,-1.50,53.00\nA2,Pharmacy,-1.49,53.01\n",
    "coordinate_text.csv": "id,name,lon,lat\nA1,Library,-1.50,53.00\nA2,Pharmacy,-1.49,53.1N\n",
    "null_geometry.geojson": collection(
        feature("CA01", "null"), feature("CA02", "null"),
    ),
}

BYTES: dict[str, bytes] = {
    "empty.geojson": b"",
    # Saved from Excel on Windows: cp1252, so "é" is 0xE9 and "£" is 0xA3.
    "cp1252.csv": "id,name,lon,lat\r\nA1,Café on the Green,-1.50,53.00\r\n"
                  "A2,£1 Book Swap,-1.49,53.01\r\n".encode("cp1252"),
    # An old binary Excel workbook: the OLE2 signature, padded to one 512-byte header.
    "legacy.xls": bytes.fromhex("d0cf11e0a1b11ae1").ljust(512, b"\x00"),
    # Bytes no reader knows.
    "unknown.dat": bytes(range(256)) * 2,
}


def bng_squares():
    """Two fictional 1 km squares near BNG 450000, 350000, with ids."""
    import geopandas as gpd
    import shapely

    geoms = [shapely.box(450000, 350000, 451000, 351000),
             shapely.box(451000, 350000, 452000, 351000)]
    return gpd.GeoDataFrame({"id": ["CA01", "CA02"], "name": ["North", "South"]},
                            geometry=geoms, crs="EPSG:27700")


def write_shapefile(frame, folder: Path, name: str, prj: bool) -> list[Path]:
    import pyogrio

    pyogrio.write_dataframe(frame, folder / f"{name}.shp", driver="ESRI Shapefile",
                            layer_options={"DBF_DATE_LAST_UPDATE": DBF_DATE})
    if not prj:
        (folder / f"{name}.prj").unlink()
    return sorted(folder.glob(f"{name}.*"))


def write_zip(target: Path, files: list[Path]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.read_bytes())


def write_gpkg(frame, target: Path, layer: str, crs) -> None:
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        frame = frame.copy()
        if crs is None:
            frame = frame.set_crs(None, allow_override=True)
        with warnings.catch_warnings():  # "'crs' was not provided": that is the point
            warnings.simplefilter("ignore", UserWarning)
            pyogrio.write_dataframe(frame, target, layer=layer, driver="GPKG",
                                    layer_options={"SPATIAL_INDEX": "NO"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    with closing(sqlite3.connect(target)) as db:  # 512-byte pages: 72 KB down to a few KB
        db.execute("PRAGMA page_size = 512")
        db.execute("VACUUM")


XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Assets" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def xlsx_sheet(rows: list[list[object]]) -> str:
    cells = []
    for r, row in enumerate(rows, start=1):
        out = []
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, str):
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(cells)}</sheetData></worksheet>')


def write_xlsx(target: Path) -> None:
    """A minimal hand-built workbook with one sheet, "Assets" (openpyxl stamps the time)."""
    parts = dict(XLSX_PARTS)
    parts["xl/worksheets/sheet1.xml"] = xlsx_sheet([
        ["id", "name", "lon", "lat"], ["A1", "Library", -1.5, 53.0],
        ["A2", "Pharmacy", -1.49, 53.01]])
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))


def main(out: Path = HERE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in TEXT.items():
        (out / name).write_bytes(text.encode("utf-8"))
        written.append(out / name)
    for name, data in BYTES.items():
        (out / name).write_bytes(data)
        written.append(out / name)

    squares = bng_squares()
    for old in out.glob("no_prj.*"):
        old.unlink()
    written += write_shapefile(squares, out, "no_prj", prj=False)
    with tempfile.TemporaryDirectory() as tmp:
        written.append(out / "zipped_shapefile.zip")
        write_zip(written[-1], write_shapefile(squares, Path(tmp), "areas", prj=True))
        shutil.rmtree(tmp)
        Path(tmp).mkdir()
        written.append(out / "zipped_no_prj.zip")
        write_zip(written[-1], write_shapefile(squares, Path(tmp), "areas", prj=False))
    for name, crs in (("no_crs.gpkg", None), ("layers.gpkg", "EPSG:27700")):
        (out / name).unlink(missing_ok=True)
        write_gpkg(squares, out / name, "areas", crs)
        written.append(out / name)
    write_xlsx(out / "sheets.xlsx")
    written.append(out / "sheets.xlsx")
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path.name)
