"""The ``nbhood map`` job: read every input once, check it, write the output folder.

It sits at the I/O edge: the analytic modules (pure frames in, frames out) are called from
here, and only here are files read and written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from nbhood_cli import __version__, console
from nbhood_cli.errors import NbhoodError
from nbhood_cli.inputs import read as inputs_read
from nbhood_cli.io.read import ReadOptions

SAMPLES_ENV = "NBHOOD_SAMPLES"


@dataclass
class MapInputs:
    """What the user gave ``nbhood map``: layer specs as typed, before reading."""

    community: str | None = None
    statutory: list[str] = field(default_factory=list)
    population: str | None = None
    counts: str | None = None
    join: str | None = None
    count: str = "population"
    assets: str | None = None
    practices: str | None = None
    base: Path | None = None  # the sample folder when running on the sample town

    def empty(self) -> bool:
        return not any([self.community, self.statutory, self.population, self.counts,
                        self.assets, self.practices])


def samples_folder() -> Path:
    """The sample town: $NBHOOD_SAMPLES, else data/samples in the source checkout."""
    env = os.environ.get(SAMPLES_ENV)
    folder = Path(env) if env else Path(__file__).resolve().parents[2] / "data" / "samples"
    if not (folder / "community_areas.geojson").exists():
        raise NbhoodError(f"{folder}: the sample town is not there; give inputs "
                          f"(--community, --statutory, …) or set {SAMPLES_ENV}")
    return folder


def sample_inputs() -> MapInputs:
    base = samples_folder()
    rel = _display_path(base)
    return MapInputs(
        community=f"{rel}/community_areas.geojson:id",
        statutory=[f"ward={rel}/wards.geojson:ward_code",
                   f"pcn={rel}/pcn_footprints.geojson:pcn_code"],
        population=f"{rel}/small_areas.geojson:sa_code",
        counts=f"{rel}/small_area_population.csv", join="sa_code", count="population",
        assets=f"{rel}/assets.csv:asset_id",
        practices=f"{rel}/gp_practices.csv:practice_code",
        base=base,
    )


def _display_path(path: Path) -> str:
    """Relative to the working folder when inside it: summaries then match across checkouts."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run(inputs: MapInputs, out: Path, overwrite: bool, assume_crs: str | None, crs: str,
        engine: str) -> dict:
    """Read, check and write; returns the summary that was written to summary.json."""
    from nbhood_cli.inputs import join_counts, statutory_specs
    from nbhood_cli.io.read import working_crs
    from nbhood_cli.io.write import atomic_folder, write_layer, write_text
    from nbhood_cli.render import json_text

    working_crs(crs)
    statutory = statutory_specs(inputs.statutory)
    if out.exists() and not overwrite:
        raise NbhoodError(f"{out}: already exists; pass --overwrite to replace it")

    def read(role: str, spec: str, counts: tuple[str, ...] = ()):
        options = ReadOptions(counts=counts, assume_crs=assume_crs, crs=crs, engine=engine)
        console.detail(f"reading {role}: {spec}")
        return inputs_read(spec, options)

    layers: dict[str, object] = {}
    if inputs.community:
        layers["community_areas"] = read("community areas", inputs.community)
    for name, spec in statutory:
        layers[f"statutory_{name}"] = read(f"statutory layer {name}", spec)
    if inputs.population:
        layers["small_areas"] = read("small areas", inputs.population,
                                     () if inputs.counts else (inputs.count,))
        if inputs.counts:
            layers["small_areas"].frame = join_counts(layers["small_areas"], inputs.counts,
                                                      inputs.join, inputs.count)
    elif inputs.counts:
        raise NbhoodError("--counts needs --population: the small-area polygons the counts "
                          "belong to")
    if inputs.assets:
        layers["assets"] = read("assets", inputs.assets)
    if inputs.practices:
        layers["gp_practices"] = read("GP practices", inputs.practices)

    summary = _summary(inputs, layers, crs)
    with atomic_folder(out, overwrite) as build:
        (build / "layers").mkdir()
        for name, layer in layers.items():
            target = build / "layers" / f"{name}.geojson"
            write_layer(layer.frame, target)
            summary["outputs"].append(f"layers/{name}.geojson")
        summary["outputs"].append("summary.json")
        write_text(json_text(summary), build / "summary.json")
    return summary


def _summary(inputs: MapInputs, layers: dict, crs: str) -> dict:
    """Everything needed to trust and reproduce the run; no timestamps unless
    SOURCE_DATE_EPOCH is set, so reruns give the same bytes."""
    summary = {"tool": {"name": "nbhood", "version": __version__}, "libraries": _versions(),
               "working_crs": crs, "sample_town": inputs.base is not None}
    if "SOURCE_DATE_EPOCH" in os.environ:
        import datetime as dt

        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
        summary["generated_at"] = dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()
    summary["inputs"] = [_input_entry(name, layer) for name, layer in layers.items()]
    if inputs.counts:
        summary["inputs"].append({"role": "counts", "path": str(inputs.counts),
                                  "sha256": _sha256(Path(inputs.counts))})
    summary["warnings"] = [f.message for layer in layers.values() for f in layer.warnings]
    summary["outputs"] = []
    return summary


def _input_entry(role: str, layer) -> dict:
    return {"role": role, "path": str(layer.path), "layer": layer.layer,
            "sha256": _sha256(layer.path), "features": len(layer.frame),
            "id_column": layer.id_column, "crs": layer.source_crs,
            "encoding": layer.encoding}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict:
    import geopandas
    import pandas
    import pyogrio
    import pyproj
    import shapely

    return {"geopandas": geopandas.__version__, "shapely": shapely.__version__,
            "pyproj": pyproj.__version__, "pandas": pandas.__version__,
            "pyogrio": pyogrio.__version__, "gdal": pyogrio.__gdal_version_string__}
