"""Terminal output shared by commands: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
import sys


def json_text(data) -> str:
    """Stable JSON: sorted keys would reorder reports, so keep insertion order; 2-space indent."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def print_json(data) -> None:
    sys.stdout.write(json_text(data))
