"""Terminal output shared by commands: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
import sys


def json_text(data) -> str:
    """Stable JSON: sorted keys would reorder reports, so keep insertion order; 2-space indent."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def print_json(data) -> None:
    sys.stdout.write(json_text(data))


def terminal():
    """A rich console on stdout; in CI logs (not a terminal) wide enough not to wrap tables."""
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 160
    return out


def print_frame(frame, title: str | None = None, limit: int = 40) -> None:
    """A rich table of a frame for the terminal: floats to 1 decimal (shares to 3), at most
    ``limit`` rows with a note of how many more."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        numeric = frame[column].dtype.kind in "iuf"
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*(escape(_cell(column, value)) for column, value in
                        zip(frame.columns, row, strict=True)))
    out = terminal()
    out.print(table)
    if len(frame) > limit:
        out.print(f"… {len(frame) - limit} more rows: use --out or --json")


def _cell(column: str, value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.3f}" if "share" in column or column in ("fit", "tension") \
            else f"{value:,.1f}"
    return str(value)
