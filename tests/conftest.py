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


@pytest.fixture
def run():
    """Invoke the nbhood CLI in-process; returns the typer Result (stdout and stderr apart)."""
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], **kwargs)

    return invoke
