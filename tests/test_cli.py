"""Global behaviour of the nbhood command: help, version, verbosity, errors, lazy imports."""

import subprocess
import sys

from conftest import SAMPLES
from nbhood_cli import __version__

HEAVY = ("geopandas", "shapely", "pyproj", "pandas", "fiona", "pyogrio", "rich", "numpy", "numba")


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"nbhood {__version__}"


def test_help_lists_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("inspect", "validate", "map"):
        assert command in result.stdout


def test_help_imports_no_heavy_library():
    """`nbhood --help` must stay instant: nothing heavy may load at start-up."""
    code = ("import sys; from nbhood_cli.cli import app\n"
            "try:\n    app(['--help'], prog_name='nbhood')\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_verbose_and_quiet_conflict(run):
    result = run("-v", "-q", "validate", "x.geojson")
    assert result.exit_code == 2
    assert "choose one of --verbose and --quiet" in result.stderr


def test_usage_error_exit_2(run):
    result = run("validate", "--no-such-option")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "Error: No such option: --no-such-option"


def test_user_error_is_one_line_and_debug_adds_traceback(run, tmp_path):
    missing = tmp_path / "nope.geojson"
    plain = run("map", "--community", missing, "--out", tmp_path / "out")
    assert plain.exit_code == 2
    assert plain.stderr == f"error: {missing}: no such file; check the path\n"
    debug = run("--debug", "map", "--community", missing, "--out", tmp_path / "out")
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_internal_error_is_one_line_exit_70(run, monkeypatch, tmp_path):
    import nbhood_cli.mapjob as mapjob

    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(mapjob, "run", boom)
    result = run("map", "--community", tmp_path / "a.geojson")
    assert result.exit_code == 70
    assert result.stderr.count("\n") == 1
    assert "internal error (ZeroDivisionError: division by zero)" in result.stderr


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "nbhood_cli", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"nbhood {__version__}"


def test_console_script_freezes_the_collector_and_keeps_exit_status():
    """main() freezes the collector's objects on the way out (shutdown then skips them):
    the exit status must still be the command's, success or a user's error."""
    code = ("import gc, sys\nfrom nbhood_cli.cli import main\n"
            "sys.argv = ['nbhood', *sys.argv[1:]]\ntry:\n    main()\nexcept SystemExit as done:\n"
            "    print(done.code, gc.get_freeze_count() > 0, file=sys.stderr)\n")
    ok = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True,
                        text=True, check=True)
    assert ok.stderr.strip().splitlines()[-1] == "0 True"
    bad = subprocess.run([sys.executable, "-c", code, "validate", "/no/such.geojson"],
                         capture_output=True, text=True, check=True)
    assert bad.stderr.strip().splitlines()[-1] == "2 True"


def test_console_script_writes_what_the_command_writes(run, tmp_path):
    """A whole `nbhood population --out` process (frozen collector, real shutdown) writes the
    same bytes as the command run in-process."""
    args = ["population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
            "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
            "--count", "population", "--targets", SAMPLES / "wards.geojson"]
    inside = run(*args, "--out", tmp_path / "inside.csv")
    assert inside.exit_code == 0, inside.stderr
    process = subprocess.run([sys.executable, "-m", "nbhood_cli", *map(str, args), "--out",
                              str(tmp_path / "process.csv")], capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    written = (tmp_path / "process.csv").read_bytes()
    assert written == (tmp_path / "inside.csv").read_bytes()
    assert written.count(b"\n") > 2


def test_os_errors_naming_a_file_are_user_errors(run, monkeypatch, tmp_path):
    """No permission, a folder given for a file, a full disk: one line naming the file, exit 2;
    an OSError naming no file is still a bug (exit 70)."""
    import nbhood_cli.mapjob as mapjob

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/data/lsoa.geojson")

    monkeypatch.setattr(mapjob, "run", denied)
    result = run("map", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("error: /data/lsoa.geojson: Permission denied; "
                                              "check the path, its permissions and the free space")

    def anonymous(*args, **kwargs):
        raise OSError("something odd")

    monkeypatch.setattr(mapjob, "run", anonymous)
    result = run("map", "--out", tmp_path / "out")
    assert result.exit_code == 70
    assert "internal error (OSError: something odd)" in result.stderr


def test_a_folder_given_for_a_file(run, tmp_path):
    result = run("assets", SAMPLES / "assets.csv", "--areas", SAMPLES / "community_areas.geojson",
                 "--taxonomy", tmp_path, "--out", tmp_path / "out", "--no-maps")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path}: Is a directory; check the path, its "
                             "permissions and the free space\n")
    assert not (tmp_path / "out").exists()


def test_a_folder_nbhood_cannot_write_in(run, monkeypatch, tmp_path):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    for out in (tmp_path / "x.csv", tmp_path / "folder"):
        result = run("population", "--source", f"{SAMPLES / 'small_areas.geojson'}:sa_code",
                     "--counts", SAMPLES / "small_area_population.csv", "--join", "sa_code",
                     "--targets", SAMPLES / "wards.geojson", "--out", out)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (f"error: {tmp_path}: cannot write here "
                                                  "(Permission denied); choose a folder you "
                                                  "can write to")


def test_library_warnings_are_shown_only_with_verbose(run, monkeypatch, tmp_path):
    """A library's multi-line warning is not the user's business unless asked for (-v)."""
    import warnings

    import nbhood_cli.mapjob as mapjob
    from nbhood_cli.errors import NbhoodError

    def noisy(*args, **kwargs):
        warnings.warn("GeoSeries.notna() previously returned False for empty geometries",
                      UserWarning, stacklevel=1)
        raise NbhoodError("x.geojson: stop here")

    monkeypatch.setattr(mapjob, "run", noisy)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        plain = run("map", "--out", tmp_path / "out")
    assert plain.exit_code == 2
    assert plain.stderr.splitlines()[-1] == "error: x.geojson: stop here"
    assert shown == []
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert run("-v", "map", "--out", tmp_path / "out").exit_code == 2
    assert [str(w.message)[:20] for w in shown] == ["GeoSeries.notna() pr"]
    before = list(warnings.filters)
    run("map", "--out", tmp_path / "out")
    assert warnings.filters == before  # a quiet run does not silence the rest of a notebook
