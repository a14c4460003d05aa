"""`nbhood map` in this first version: read, check, join counts, write layers and summary."""

import hashlib
import json

import geopandas as gpd
import pandas as pd
import pytest

from conftest import shared


def _trafford_args(out):
    t = lambda name: shared("trafford", name)  # noqa: E731
    return ["map", "--community", f"{t('community_areas.geojson')}:id",
            "--statutory", f"ward={t('wards.geojson')}:wd23cd",
            "--population", f"{t('lsoa.geojson')}:lsoa21cd",
            "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd", "--count", "population",
            "--assets", t("community_assets.csv"), "--out", out]


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_map_on_trafford_writes_layers_and_summary(run, tmp_path):
    out = tmp_path / "out"
    result = run(*_trafford_args(out))
    assert result.exit_code == 0, result.stderr
    assert "CA09: invalid geometry (Self-intersection" in result.stderr
    files = set(_snapshot(out))
    assert files == {"summary.json", "layers/community_areas.geojson",
                     "layers/statutory_ward.geojson", "layers/small_areas.geojson",
                     "layers/assets.geojson"}
    small = gpd.read_file(out / "layers/small_areas.geojson")
    assert len(small) == 139
    assert small["population"].sum() == 241_025  # ONS mid-2024 Trafford total (SOURCES.md)
    assert len(gpd.read_file(out / "layers/assets.geojson")) == 378
    summary = json.loads((out / "summary.json").read_text())
    counts = shared("trafford", "lsoa_population.csv")
    entry = next(i for i in summary["inputs"] if i["role"] == "counts")
    assert entry["sha256"] == hashlib.sha256(counts.read_bytes()).hexdigest()
    assert any("CA09" in w for w in summary["warnings"])
    assert summary["outputs"][-1] == "summary.json"
    assert "generated_at" not in summary


def test_map_refuses_to_overwrite_and_reruns_are_byte_identical(run, tmp_path):
    out = tmp_path / "out"
    assert run(*_trafford_args(out)).exit_code == 0
    before = _snapshot(out)
    refused = run(*_trafford_args(out))
    assert refused.exit_code == 2
    assert refused.stderr == f"error: {out}: already exists; pass --overwrite to replace it\n"
    again = run(*_trafford_args(out), "--overwrite")
    assert again.exit_code == 0
    assert _snapshot(out) == before


def test_failed_run_leaves_previous_output_intact(run, tmp_path):
    out = tmp_path / "out"
    assert run(*_trafford_args(out)).exit_code == 0
    before = _snapshot(out)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    args = _trafford_args(out)
    args[args.index("--community") + 1] = str(broken)
    result = run(*args, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: broken JSON at line 1")
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_counts_missing_a_small_area_is_an_error(run, tmp_path):
    counts = tmp_path / "counts.csv"
    rows = shared("trafford", "lsoa_population.csv").read_text().splitlines()
    counts.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
    missing = rows[-1].split(",")[0]
    args = _trafford_args(tmp_path / "out")
    args[args.index("--counts") + 1] = str(counts)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: {counts}: no population for 1 small area(s) of "
        f"{shared('trafford', 'lsoa.geojson')} ({missing}); add their rows "
        "or check the codes are the same vintage")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spec, message", [
    ("wards.geojson", "write it as NAME=PATH[:ID]"),
    ("my ward=x.geojson", "must be letters, digits or _"),
])
def test_bad_statutory_spec(run, tmp_path, spec, message):
    result = run("map", "--statutory", spec, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_statutory_name_used_twice(run, tmp_path):
    wards = shared("trafford", "wards.geojson")
    result = run("map", "--statutory", f"ward={wards}", "--statutory", f"ward={wards}",
                 "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "the name ward is used twice" in result.stderr


def test_json_prints_the_summary(run, tmp_path):
    out = tmp_path / "out"
    result = run(*_trafford_args(out), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((out / "summary.json").read_text())


def test_source_date_epoch_stamps_the_summary(run, tmp_path):
    out = tmp_path / "out"
    result = run(*_trafford_args(out), env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generated_at"] == "2023-11-14T22:13:20+00:00"


def test_map_without_inputs_runs_on_the_sample_town(run, tmp_path):
    from conftest import SAMPLES

    out = tmp_path / "out"
    result = run("map", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "running on the fictional sample town" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sample_town"] is True
    assert {i["role"] for i in summary["inputs"]} == {
        "community_areas", "statutory_ward", "statutory_pcn", "small_areas", "assets",
        "gp_practices", "counts"}
    expected = pd.read_csv(SAMPLES / "small_area_population.csv")["population"].sum()
    small = gpd.read_file(out / "layers/small_areas.geojson")
    assert small["population"].sum() == expected
