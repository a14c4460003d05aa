"""``nbhood reconcile`` and ``nbhood tensions``: community areas against statutory layers.

Both read the same inputs and run the same analysis; ``reconcile`` writes the crosswalk, best
fit and coverage, ``tensions`` the headline report: splits, contested land, gaps, slivers and
size bands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nbhood_cli import options as opt

MinShare = Annotated[float, typer.Option(
    "--min-share", min=0.0, max=1.0, metavar="SHARE",
    help="A unit holds part of an area from this share of its people.")]
SliverArea = Annotated[float, typer.Option(
    "--sliver-area", min=0.0, metavar="M2", help="Pieces smaller than this (m²)…")]
SliverPop = Annotated[float, typer.Option(
    "--sliver-pop", min=0.0, metavar="PEOPLE", help="…and with fewer people are slivers.")]
Severity = Annotated[str, typer.Option(
    "--severity", metavar="LOW,MEDIUM,HIGH", help="Tension thresholds for the labels.")]
Bands = Annotated[str, typer.Option(
    "--bands", metavar="A,B,C,D", help="Size band edges in people (hyperlocal ≤ A …).")]


def reconcile(
    community: opt.Community,
    statutory: opt.Statutory,
    source: opt.Source,
    out: opt.Out = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    method: opt.MethodOption = opt.Method.areal,
    centroids: opt.Centroids = None,
    weights: opt.Weights = None,
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Crosswalk community areas against statutory layers: pieces, two-way shares, best fit
    and how much of each unit's population any community area covers."""
    from nbhood_cli.tensions import Thresholds

    results, written = _run(locals(), Thresholds(), ("crosswalk", "best_fit", "coverage"),
                            main="crosswalk")
    if json_out:
        _print_json(results, written)
        return
    from nbhood_cli.render import print_frame

    print_frame(results.products["best_fit"], title="Best fit per community area")
    print_frame(results.products["coverage"], title="Population covered by community areas")


def tensions(
    community: opt.Community,
    statutory: opt.Statutory,
    source: opt.Source,
    out: opt.TableOut = None,
    counts: opt.CountsTable = None,
    join: opt.Join = None,
    count: opt.CountColumn = "population",
    method: opt.MethodOption = opt.Method.areal,
    centroids: opt.Centroids = None,
    weights: opt.Weights = None,
    min_share: MinShare = 0.05,
    sliver_area: SliverArea = 10_000.0,
    sliver_pop: SliverPop = 50.0,
    severity: Severity = "0.05,0.2,0.4",
    bands: Bands = "10000,30000,50000,250000",
    overwrite: opt.Overwrite = False,
    assume_crs: opt.AssumeCrs = None,
    crs: opt.WorkingCrs = "EPSG:27700",
    json_out: opt.Json = False,
) -> None:
    """Overlap tensions: splits and fit per community area and layer, contested land, gaps,
    slivers and size bands."""
    from nbhood_cli.tensions import Thresholds

    th = Thresholds(min_share=min_share, sliver_area=sliver_area, sliver_pop=sliver_pop,
                    severity=_numbers(severity, "--severity", 3),
                    bands=_numbers(bands, "--bands", 4))
    results, written = _run(locals(), th,
                            ("tensions", "contested", "gaps", "slivers", "size_bands"),
                            main="tensions")
    if json_out:
        _print_json(results, written)
        return
    from nbhood_cli import console
    from nbhood_cli.render import print_frame

    table = results.products["tensions"].sort_values(["tension", "community_id"],
                                                     ascending=[False, True], kind="stable")
    print_frame(table, title="Tensions: community areas split across statutory units")
    s = results.summary
    console.info(f"contested: {s['contested']['areas']} area(s) claimed by two or more "
                 f"community areas, {s['contested']['population']:,.0f} people")
    for layer, gap in s["gaps"].items():
        console.info(f"gaps in {layer}: {gap['population']:,.0f} people and "
                     f"{gap['area_m2'] / 1e6:,.2f} km² claimed by no community area")
    console.info(f"slivers: {s['slivers']} (digitising differences, not counted as splits)")
    console.info("size bands: " + ", ".join(f"{k} {v}" for k, v in s["size_bands"].items()))


def _numbers(text: str, option: str, n: int) -> tuple:
    from nbhood_cli.project import increasing

    values = increasing(text, n)
    if values is None:
        raise typer.BadParameter(f"give {n} increasing numbers separated by commas",
                                 param_hint=option)
    return values


def _run(args: dict, th, names: tuple[str, ...], main: str):
    """Read the inputs, analyse, write the chosen products; (results, files written)."""
    from nbhood_cli import inputs
    from nbhood_cli.analysis import analyse
    from nbhood_cli.io.read import ReadOptions
    from nbhood_cli.outputs import check_out, write_products

    out, overwrite = args["out"], args["overwrite"]
    if out is not None:
        check_out(out, overwrite)
    method = args["method"].value
    inputs.check_method(method, args["weights"], args["centroids"])
    inputs.check_join(args["join"], {"--counts": args["counts"]})
    specs = inputs.statutory_specs(args["statutory"])
    options = ReadOptions(assume_crs=args["assume_crs"], crs=args["crs"])
    small = inputs.small_areas(args["source"], args["counts"], args["join"], args["count"],
                               options)
    people = inputs.people(small, inputs.method_inputs(method, small, args["centroids"],
                                                       args["weights"], options))
    community = inputs.areas(args["community"], "community", options)
    layers = [inputs.areas(spec, name, options) for name, spec in specs]
    results = analyse(community, layers, people, th)
    products = results.products
    inputs.warn_apart(results.summary["population"], community.layer.path, layers,
                      products["crosswalk"])
    products["best_fit"] = products["tensions"][["community_id", "layer", "best_fit", "fit",
                                                 "outside_share"]]
    products["coverage"] = products["gaps"][["layer", "unit_id", "unit_population",
                                             "covered_population", "covered_share"]]
    chosen = {name: products[name] for name in names}
    written = write_products(out, chosen, main, overwrite) if out is not None else []
    return results, written


def _print_json(results, written) -> None:
    from nbhood_cli.render import print_json

    print_json({**results.summary, "outputs": written})
