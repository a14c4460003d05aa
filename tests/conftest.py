"""Shared fixtures: the CLI runner, the real data in ../shared/data, the sample town."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nbhood_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SAMPLES = ROOT / "data" / "samples"
BAD = Path(__file__).resolve().parent / "data" / "bad"


def shared(*parts: str) -> Path:
    """A file in ../shared/data, or skip: CI has it beside the checkout, a laptop may not."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (../shared/data is not beside the checkout)")
    return path


def trafford_lsoa():
    """Trafford's 139 LSOAs in the working CRS and their mid-2024 counts, in frame order."""
    from nbhood_cli.io import load_table, read_layer

    lsoa = read_layer(shared("trafford", "lsoa.geojson")).frame
    pop = load_table(shared("trafford", "lsoa_population.csv")).frame
    counts = lsoa["lsoa21cd"].map(pop.set_index("lsoa21cd")["population"]).to_numpy(float)
    return lsoa, counts


def trafford_layer(name: str):
    """A Trafford layer read (and repaired) by the project's reader, in the working CRS."""
    from nbhood_cli.io import read_layer

    return read_layer(shared("trafford", name)).frame


@pytest.fixture
def run():
    """Invoke the nbhood CLI in-process; returns the typer Result (stdout and stderr apart)."""
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], **kwargs)

    return invoke
