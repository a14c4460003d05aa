"""`nbhood map` end to end: sample town, Trafford and Sheffield; files, conservation,
byte-identical reruns, --fail-on, overwrite refusal, disclosure control, config files."""

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import nbhood_cli
from conftest import SAMPLES, shared

SAMPLE_FILES = {
    ".nbhood", "summary.json", "report.html", "map.png", "map.html",
    "layers/community_areas.geojson", "layers/statutory_ward.geojson",
    "layers/statutory_pcn.geojson", "layers/small_areas.geojson", "layers/crosswalk.geojson",
    "layers/contested.geojson", "layers/gaps.geojson", "layers/slivers.geojson",
    "layers/assets.geojson", "layers/gp_practices.geojson",
    "tables/population.csv", "tables/crosswalk.csv", "tables/tensions.csv",
    "tables/assets_by_area.csv",
}


def trafford_args(out):
    t = lambda name: shared("trafford", name)  # noqa: E731
    return ["map", "--community", f"{t('community_areas.geojson')}:id",
            "--statutory", f"ward={t('wards.geojson')}:wd23cd",
            "--population", f"{t('lsoa.geojson')}:lsoa21cd",
            "--counts", t("lsoa_population.csv"), "--join", "lsoa21cd", "--count", "population",
            "--assets", t("community_assets.csv"), "--deprivation", t("imd.csv"),
            "--practices", f"{t('gp_practices.csv')}:practice_code", "--out", out]


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    from typer.testing import CliRunner

    from nbhood_cli.cli import app

    out = tmp_path_factory.mktemp("sample") / "out"
    result = CliRunner().invoke(app, ["map", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out, result


def test_sample_town_writes_every_file(sample_run):
    out, result = sample_run
    assert "running on the fictional sample town" in result.stderr
    assert set(snapshot(out)) == SAMPLE_FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sample_town"] is True
    assert summary["population"]["conserved"] is True
    expected = pd.read_csv(SAMPLES / "small_area_population.csv")["population"].sum()
    assert summary["population"]["source_total"] == expected
    assert summary["contested"]["areas"] == 1
    assert summary["outputs"][-1] == "summary.json" and len(summary["outputs"]) == 18


def test_sample_town_community_layer_carries_everything(sample_run):
    out, _ = sample_run
    areas = gpd.read_file(out / "layers/community_areas.geojson")
    for column in ("community_id", "name", "population", "size_band", "best_fit_ward",
                   "tension_ward", "severity_pcn", "tension_max", "assets_total",
                   "assets_per_1000", "imd_score", "double_disadvantage"):
        assert column in areas, column
    tensions = pd.read_csv(out / "tables/tensions.csv")
    worst = tensions.groupby("community_id")["tension"].max()
    tension_max = areas.set_index("community_id")["tension_max"]
    assert tension_max.to_dict() == pytest.approx(worst.to_dict())


def test_report_is_self_contained(sample_run):
    out, _ = sample_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r'(src|href)="(https?:)?//', page) is None
    assert "data:image/png;base64," in page
    assert "Fictional sample town" in page
    for heading in ("Most tense areas", "Gaps", "Contested land", "Size bands", "Assets",
                    "Methods", "Thresholds", "Attribution"):
        assert heading in page


def page_requests(page, tmp_path) -> list[str]:
    """URLs a page itself asked for when opened in headless Chromium (from its net log;
    the browser's own update and account checks carry no page origin and are left out)."""
    import browser

    netlog = tmp_path / "net.json"
    subprocess.run([browser.chromium(), *browser.FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                    f"--log-net-log={netlog}", "--dump-dom", page.as_uri()],
                   capture_output=True, text=True, timeout=120, check=True)
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = {e["params"].get("url", "") for e in log["events"]
            if e["type"] == start and e["params"].get("initiator") != "not an origin"}
    return sorted(u for u in urls if u and not u.startswith(("file:", "data:")))


def test_report_opens_in_chromium_without_network_requests(sample_run, tmp_path):
    import browser

    if browser.chromium() is None:
        pytest.skip("chromium is not installed (make test installs it with apt as root)")
    out, _ = sample_run
    control = tmp_path / "control.html"
    control.write_text('<img src="https://example.org/x.png">', encoding="utf-8")
    assert page_requests(control, tmp_path / "a") == ["https://example.org/x.png"]
    assert page_requests(out / "report.html", tmp_path / "b") == []


def test_rerun_is_byte_identical_and_overwrite_is_refused(run, tmp_path, sample_run):
    first, _ = sample_run
    out = tmp_path / "again"
    shutil.copytree(first, out)
    refused = run("map", "--out", out)
    assert refused.exit_code == 2
    assert refused.stderr.endswith(f"error: {out}: already exists; pass --overwrite to "
                                   "replace it\n")
    assert run("map", "--out", out, "--overwrite").exit_code == 0
    assert snapshot(out) == snapshot(first)


def test_trafford_end_to_end(run, tmp_path):
    out = tmp_path / "out"
    result = run(*trafford_args(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert "CA09: invalid geometry" in result.stderr
    summary = json.loads(result.stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["population"]["source_total"] == 241_025
    assert summary["population"]["conserved"] is True
    counts = shared("trafford", "lsoa_population.csv")
    entry = next(i for i in summary["inputs"] if i["role"] == "counts")
    assert entry["sha256"] == hashlib.sha256(counts.read_bytes()).hexdigest()
    assert summary["assets"]["mapped"] + summary["assets"]["duplicates_merged"] == 378
    assert sum(summary["tension"]["ward"].values()) == 25
    small = gpd.read_file(out / "layers/small_areas.geojson")
    assert small["population"].sum() == 241_025
    if shutil.which("ogrinfo"):
        for name in ("community_areas", "crosswalk", "gaps", "assets"):
            check = subprocess.run(["ogrinfo", "-ro", "-so", "-al",
                                    str(out / "layers" / f"{name}.geojson")],
                                   capture_output=True, text=True)
            assert check.returncode == 0 and check.stderr == "", (name, check.stderr)


def test_sheffield_real_neighbourhoods(run, tmp_path):
    s = lambda name: shared("sheffield", name)  # noqa: E731
    out = tmp_path / "out"
    result = run("map", "--community", f"{s('community_areas.geojson')}:id",
                 "--statutory", f"ward={s('wards.geojson')}:wd23cd",
                 "--population", f"{s('lsoa_20m_reconstructed.geojson')}:lsoa21cd",
                 "--counts", s("lsoa_population_census2021.csv"), "--join", "lsoa21cd",
                 "--count", "usual_residents", "--assets", s("assets.csv"),
                 "--deprivation", s("imd.csv"), "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["community_areas"] == 147
    assert summary["population"]["source_total"] == 556_519
    assert summary["population"]["conserved"] is True
    assert len(gpd.read_file(out / "layers/community_areas.geojson")) == 147


@pytest.mark.parametrize("condition, code", [("tension=high", 1), ("unallocated=0.5", 0),
                                             ("unallocated=0.3", 1), ("contested", 1),
                                             ("validation-warnings", 1)])
def test_fail_on(run, tmp_path, condition, code):
    result = run(*trafford_args(tmp_path / "out"), "--fail-on", condition)
    assert result.exit_code == code, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["fail_on"]["conditions"] == [condition]
    assert bool(summary["fail_on"]["met"]) == bool(code)
    if code:
        assert f"warning: --fail-on {condition.split('=')[0]}" in result.stderr


def test_fail_on_reason_shows_even_when_quiet(run, tmp_path):
    """CI runs `nbhood -q map --fail-on …`: the log must still say why the job failed."""
    result = run("-q", "map", "--fail-on", "contested", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith("warning: --fail-on contested")
    assert result.stderr.count("\n") == 1


def test_bad_fail_on_is_a_usage_error_before_any_work(run, tmp_path):
    result = run("map", "--out", tmp_path / "out", "--fail-on", "tension=extreme")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_community_areas_are_keyed_community_id_everywhere(sample_run):
    """One word per concept: every output of a map run that lists community areas joins on
    community_id (ids as in the input layer), and assets name theirs in community_ids."""
    out, _ = sample_run
    ids = sorted(gpd.read_file(SAMPLES / "community_areas.geojson")["id"])
    for name in ("tables/population.csv", "tables/assets_by_area.csv"):
        table = pd.read_csv(out / name)
        assert table.columns[0] == "community_id" and sorted(table["community_id"]) == ids, name
    layer = gpd.read_file(out / "layers/community_areas.geojson")
    assert layer.columns[0] == "community_id" and sorted(layer["community_id"]) == ids
    tensions = pd.read_csv(out / "tables/tensions.csv")
    assert set(tensions["community_id"]) == set(ids)
    assets = gpd.read_file(out / "layers/assets.geojson")
    held = {i for v in assets["community_ids"].dropna() for i in str(v).split(";") if i}
    assert held <= set(ids) and "area_ids" not in assets


def test_report_headline_uses_the_glossary_words(sample_run):
    """Contested land, not "overlaps"; a count of one takes the singular."""
    out, _ = sample_run
    summary = json.loads((out / "summary.json").read_text())
    head = (out / "report.html").read_text(encoding="utf-8").split('class="headline">')[1]
    head = head.split("</div></div>")[0]
    cells = dict((label, value) for value, label in
                 re.findall(r"<div><b>([^<]*)</b>([^<]*)</div>", head + "</div>"))
    n = summary["contested"]["areas"]
    assert cells["contested area" if n == 1 else "contested areas"] == f"{n:,}"
    assert cells["counted twice (contested land)"] == \
        f"{summary['population']['counted_twice']:,.0f}"
    assert not any("overlap" in label for label in cells)


def test_asset_thresholds_are_recorded_and_reported(run, tmp_path, sample_run):
    """Every setting that made the output is in summary.json, and the report states the
    double-disadvantage shares used, not the defaults."""
    default = json.loads((sample_run[0] / "summary.json").read_text())["thresholds"]
    assert (default["deprived_share"], default["fewest_share"]) == (0.2, 0.2)
    assert default["dedupe_distance_m"] == 25
    out = tmp_path / "out"
    result = run("map", "--deprived-share", "0.125", "--fewest-share", "0.4",
                 "--dedupe-distance", "10", "--out", out)
    assert result.exit_code == 0, result.stderr
    th = json.loads((out / "summary.json").read_text())["thresholds"]
    assert (th["deprived_share"], th["fewest_share"], th["dedupe_distance_m"]) == (0.125, 0.4, 10)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "among the most deprived 12.5% of areas and the 40% with fewest assets" in report
    assert "<td>deprived_share</td><td>0.125</td>" in report


def test_suppress_below(run, tmp_path):
    out = tmp_path / "out"
    assert run(*trafford_args(out), "--suppress-below", "200").exit_code == 0
    population = pd.read_csv(out / "tables/population.csv", dtype=str)
    assert "<200" in set(population["population"])  # Dunham (43) and Warburton (114)
    areas = json.loads((out / "layers/community_areas.geojson").read_text())
    values = {f["properties"]["name"]: f["properties"]["population"] for f in areas["features"]}
    assert values["Warburton"] == "<200"
    assert "&lt;200" in (out / "report.html").read_text(encoding="utf-8")


def test_failed_run_leaves_previous_output_intact(run, tmp_path, sample_run):
    first, _ = sample_run
    out = tmp_path / "out"
    shutil.copytree(first, out)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    result = run("map", "--community", broken, "--out", out, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: broken JSON at line 1")
    assert snapshot(out) == snapshot(first)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_overwrite_spares_the_inputs_and_the_working_folder(run, tmp_path, monkeypatch):
    """--overwrite replaces earlier outputs only: a folder holding this run's inputs, or the
    folder the user works in, is refused in one line before anything is moved."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLES, data)
    before = snapshot(data)
    inputs = ["--community", data / "community_areas.geojson",
              "--statutory", f"ward={data / 'wards.geojson'}",
              "--population", data / "small_areas.geojson",
              "--counts", data / "small_area_population.csv", "--join", "sa_code"]
    result = run("map", *inputs, "--out", data, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {data}: holds {data / 'community_areas.geojson'}, an "
                             "input of this run, which --overwrite would delete; choose "
                             "another folder for --out\n")
    assert snapshot(data) == before
    monkeypatch.chdir(data)
    result = run("map", "--out", ".", "--overwrite")
    assert result.exit_code == 2
    assert "is the folder you are working in" in result.stderr
    assert snapshot(data) == before
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no build left behind
    result = run("map", "--out", data / "out", "--overwrite")
    assert result.exit_code == 0, result.stderr  # an earlier output is replaced as before
    assert run("map", "--out", data / "out", "--overwrite").exit_code == 0


def test_out_with_an_extension_is_refused_before_any_work(run, tmp_path):
    """`--out x.csv` would make a folder called x.csv: refused, nothing written."""
    result = run("map", "--out", tmp_path / "x.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {tmp_path / 'x.csv'}: --out is a "
                                              "folder; give a name without a file extension")
    assert list(tmp_path.iterdir()) == []
    assert run("map", "--out", tmp_path / "results-v1.2").exit_code == 0  # a dot is no extension


def test_overwrite_spares_a_project_file_or_taxonomy_inside_the_folder(run, tmp_path):
    """TOML inputs are inputs too: kept inside the output folder, they are not deleted."""
    out = tmp_path / "out"
    assert run("map", "--out", out).exit_code == 0
    taxonomy = out / "mine.toml"
    taxonomy.write_bytes(next((Path(nbhood_cli.__file__).parent / "data").glob("*.toml"))
                         .read_bytes())
    result = run("map", "--taxonomy", taxonomy, "--out", out, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {out}: holds {taxonomy}, an input of "
                                              "this run, which --overwrite would delete; "
                                              "choose another folder for --out")
    assert taxonomy.exists()
    config = out / "nbhood.toml"
    community = SAMPLES / "community_areas.geojson"
    config.write_text(f'[output]\nout = "."\n[inputs]\ncommunity = "{community}:id"\n')
    result = run("map", "--config", config, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {out}: holds {config}, an input of "
                                              "this run, which --overwrite would delete; "
                                              "choose another folder for --out")
    assert config.exists()


@pytest.mark.parametrize("given, message", [
    (["--deprivation", SAMPLES / "deprivation.csv"], "--deprivation needs --population"),
    (["--registrations", SAMPLES / "gp_registrations.csv"], "--registrations needs --population"),
    (["--footprint-method", "nearest"], "--footprint-method needs --population"),
    (["--population", f"{SAMPLES / 'small_areas.geojson'}:sa_code", "--counts",
      SAMPLES / "small_area_population.csv", "--join", "sa_code", "--deprivation",
      SAMPLES / "deprivation.csv"], "--deprivation needs --assets"),
    (["--assets", SAMPLES / "assets.csv", "--deprived-share", "0.3"],
     "--deprived-share and --fewest-share find doubly disadvantaged areas"),
])
def test_an_input_is_never_dropped_for_the_sample_town(run, tmp_path, given, message):
    """The sample town runs only when no data is given: a lone --deprivation used to be
    swapped for the sample town's own file without a word."""
    result = run("map", *given, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(f"error: {message}")
    assert "sample town" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_config_file_with_relative_paths_and_cli_override(run, tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(SAMPLES, project / "data")
    config = project / "nbhood.toml"
    config.write_text(
        '[inputs]\ncommunity = "data/community_areas.geojson:id"\n'
        'statutory = { ward = "data/wards.geojson:ward_code" }\n'
        'population = "data/small_areas.geojson:sa_code"\n'
        'counts = "data/small_area_population.csv"\njoin = "sa_code"\n'
        '[thresholds]\nseverity = [0.5, 0.8, 0.9]\n[output]\nout = "results"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("map", "--config", config, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["thresholds"]["severity"] == {"low": 0.5, "medium": 0.8, "high": 0.9}
    assert (project / "results" / "summary.json").exists()
    override = run("map", "--config", config, "--severity", "0.01,0.02,0.03",
                   "--out", tmp_path / "other", "--json")
    assert json.loads(override.stdout)["thresholds"]["severity"]["low"] == 0.01


def test_config_errors(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[inputs]\ncommunty = 'x'\n", encoding="utf-8")
    result = run("map", "--config", bad)
    assert result.exit_code == 2
    assert "[inputs] has no setting 'communty'" in result.stderr


def test_init_writes_an_example_that_parses(run, tmp_path):
    import tomllib

    path = tmp_path / "nbhood.toml"
    assert run("init", path).exit_code == 0
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"inputs", "thresholds", "output"}
    assert run("init", path).exit_code == 2  # refuses to overwrite


def test_counts_missing_a_small_area_is_an_error(run, tmp_path):
    counts = tmp_path / "counts.csv"
    rows = shared("trafford", "lsoa_population.csv").read_text().splitlines()
    counts.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
    args = trafford_args(tmp_path / "out")
    args[args.index("--counts") + 1] = str(counts)
    result = run(*args)
    assert result.exit_code == 2
    assert f"error: {counts}: no population for 1 small area(s)" in result.stderr
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


def test_source_date_epoch_stamps_summary_and_report(run, tmp_path):
    out = tmp_path / "out"
    result = run("map", "--out", out, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generated_at"] == "2023-11-14T22:13:20+00:00"
    assert "2023-11-14T22:13:20+00:00" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting, message", [
    ('[thresholds]\nseverity = [0.4, 0.2, 0.1]\n', "severity must be 3 increasing numbers"),
    ('[thresholds]\nmin_share = "abc"\n', "min_share must be a number between 0 and 1"),
    ('[inputs]\nmethod = "bogus"\n', "method 'bogus' is not one of areal"),
    ('[output]\nout = "x"\n', "names no inputs"),
])
def test_bad_project_settings_are_one_line_errors(run, tmp_path, setting, message):
    config = tmp_path / "p.toml"
    config.write_text(setting, encoding="utf-8")
    result = run("map", "--config", config, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bands", ["5", "5,5,5,5", "1,2,3,inf", "nan,1,2,3", "-1,2,3,4"])
def test_bad_bands_on_the_command_line(run, tmp_path, bands):
    """Band edges must be finite and strictly increasing: an edge equal to the next would leave
    a band that nothing can fall in."""
    result = run("map", "--bands", bands, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "bands must be 4 increasing numbers" in result.stderr


def test_bad_taxonomy_fails_before_the_analysis(run, tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text("[x\n", encoding="utf-8")
    result = run("-v", "map", "--taxonomy", bad, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"error: {bad}: not valid TOML" in result.stderr
    assert "population, crosswalk and tensions" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_verbose_prints_each_stage_with_its_time(run, tmp_path):
    result = run("-v", "map", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    stages = re.findall(r"^(reading inputs|population, crosswalk and tensions|assets|writing): "
                        r"\d+\.\d s(?:, alongside the analysis \(then \d+\.\d s more\))?$",
                        result.stderr, flags=re.M)
    assert stages == ["reading inputs", "population, crosswalk and tensions", "assets",
                      "writing"]
    quiet = run("-q", "map", "--out", tmp_path / "quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_pcn_layer_derived_from_registrations(run, tmp_path):
    """--registrations: the pcn layer is what nbhood footprint derives, reconciled like any
    statutory layer; a second pcn layer is refused."""
    s = SAMPLES
    args = ["map", "--community", f"{s / 'community_areas.geojson'}:id",
            "--statutory", f"ward={s / 'wards.geojson'}:ward_code",
            "--population", f"{s / 'small_areas.geojson'}:sa_code",
            "--counts", s / "small_area_population.csv", "--join", "sa_code",
            "--registrations", s / "gp_registrations.csv",
            "--practices", f"{s / 'gp_practices.csv'}:practice_code"]
    out = tmp_path / "out"
    result = run(*args, "--out", out)
    assert result.exit_code == 0, result.stderr
    alone = tmp_path / "alone"
    made = run("footprint", "--registrations", s / "gp_registrations.csv",
               "--practices", s / "gp_practices.csv",
               "--lsoa", f"{s / 'small_areas.geojson'}:sa_code",
               "--counts", s / "small_area_population.csv", "--join", "sa_code", "--out", alone)
    assert made.exit_code == 0, made.stderr
    assert (out / "layers/footprints.geojson").read_bytes() == \
        (alone / "footprints.geojson").read_bytes()
    assert (out / "tables/lsoa_shares.csv").read_bytes() == \
        (alone / "lsoa_shares.csv").read_bytes()
    units = gpd.read_file(out / "layers/statutory_pcn.geojson")
    assert units["unit_id"].tolist() == ["MVP01", "MVP02", "MVP03", "MVP04"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["footprints"]["method"] == "majority"
    assert "registrations" in {entry["role"] for entry in summary["inputs"]}
    tensions = pd.read_csv(out / "tables/tensions.csv")
    assert set(tensions["layer"]) == {"ward", "pcn"}
    clash = run(*args, "--statutory", f"pcn={s / 'pcn_footprints.geojson'}:pcn_code",
                "--out", tmp_path / "clash")
    assert clash.exit_code == 2
    assert "both give the pcn layer" in clash.stderr and not (tmp_path / "clash").exists()


def test_registrations_without_practices_is_one_clear_error(run, tmp_path):
    s = SAMPLES
    result = run("map", "--community", f"{s / 'community_areas.geojson'}:id",
                 "--population", f"{s / 'small_areas.geojson'}:sa_code",
                 "--counts", s / "small_area_population.csv", "--join", "sa_code",
                 "--registrations", s / "gp_registrations.csv", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: deriving PCN footprints needs --practices (which PCN each practice is in)"]
    assert not (tmp_path / "out").exists()
