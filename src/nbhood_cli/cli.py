"""The ``nbhood`` command: global options, error handling and the subcommands.

Only typer is imported here; each command imports geopandas & co. when it runs,
so ``nbhood --help`` stays instant.
"""

from __future__ import annotations

import gc
import sys
import traceback
import warnings
from dataclasses import dataclass
from typing import NoReturn

import typer
from typer.core import TyperGroup

from nbhood_cli import __version__, console
from nbhood_cli.commands import assets as assets_cmd
from nbhood_cli.commands import footprint as footprint_cmd
from nbhood_cli.commands import inspect as inspect_cmd
from nbhood_cli.commands import map as map_cmd
from nbhood_cli.commands import population as population_cmd
from nbhood_cli.commands import propose as propose_cmd
from nbhood_cli.commands import reconcile as reconcile_cmd
from nbhood_cli.commands import validate as validate_cmd
from nbhood_cli.errors import NbhoodError

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in nbhood, not the user's input


@dataclass
class State:
    debug: bool = False


class NbhoodGroup(TyperGroup):
    """Turns every user-caused error into one line on stderr and exit status 2."""

    def invoke(self, ctx: typer.Context):
        read = sys.modules.get("nbhood_cli.io.read")  # loaded: an earlier command in this
        if read is not None:  # process (tests, notebooks) read files this one must not spare
            read.forget_files_read()
        try:
            with warnings.catch_warnings():  # the callback's filter ends with the command
                return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except NbhoodError as exc:
            _report(ctx, f"error: {exc.message}")
            raise typer.Exit(EXIT_USAGE) from None
        except OSError as exc:
            if exc.filename is None:
                _internal(ctx, exc)
            # No permission, a folder where a file should be, a full disk: the user's machine.
            _report(ctx, f"error: {exc.filename}: {exc.strerror or exc}; check the path, "
                         "its permissions and the free space")
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as exc:
            _internal(ctx, exc)


def _internal(ctx: typer.Context, exc: Exception) -> NoReturn:
    """A bug: still one line, the traceback with --debug."""
    _report(ctx, f"error: internal error ({type(exc).__name__}: "
                 f"{' '.join(str(exc).split())}); run with --debug for the traceback "
                 "and report it at the project's issue tracker")
    raise typer.Exit(EXIT_INTERNAL) from None


def _report(ctx: typer.Context, line: str) -> None:
    state = ctx.find_object(State)
    if state is not None and state.debug:
        traceback.print_exc()
    typer.echo(line, err=True)


app = typer.Typer(
    cls=NbhoodGroup,
    name="nbhood",
    help="Neighbourhood health planning: reconcile community-drawn areas with PCN footprints, "
         "wards and LSOAs, estimate populations and map community assets.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nbhood {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say more on stderr."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Neighbourhood health planning toolkit."""
    if verbose and quiet:
        raise typer.BadParameter("choose one of --verbose and --quiet", param_hint="-v/-q")
    console.set_level(console.QUIET if quiet else console.VERBOSE if verbose else console.NORMAL)
    if not (verbose or debug):  # libraries' warnings are many lines about their internals;
        warnings.simplefilter("ignore")  # what matters is reported in nbhood's own words
    ctx.obj = State(debug=debug)


app.command("inspect")(inspect_cmd.inspect)
app.command("validate")(validate_cmd.validate)
app.command("population")(population_cmd.population)
app.command("reconcile")(reconcile_cmd.reconcile)
app.command("tensions")(reconcile_cmd.tensions)
app.command("assets")(assets_cmd.assets)
app.command("footprint")(footprint_cmd.footprint)
app.command("propose")(propose_cmd.propose)
app.command("map")(map_cmd.map_)
app.command("init")(map_cmd.init)


def main() -> None:
    """The console script. On the way out the collector's objects are frozen, so the
    interpreter's shutdown does not collect the ≈ 90,000 objects pandas & co. made at
    import just before the process ends: ≈ 0.1 s of a 0.7 s Trafford run."""
    try:
        app(prog_name="nbhood")
    finally:
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
