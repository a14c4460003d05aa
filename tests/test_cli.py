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
