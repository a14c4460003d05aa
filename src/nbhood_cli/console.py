"""Messages on stderr, filtered by the global -v/-q level; stdout stays free for --json."""

import sys

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = NORMAL


def set_level(level: int) -> None:
    global _level
    _level = level


def level() -> int:
    return _level


def info(message: str) -> None:
    if _level >= NORMAL:
        print(message, file=sys.stderr)


def detail(message: str) -> None:
    if _level >= VERBOSE:
        print(message, file=sys.stderr)


def warn(message: str) -> None:
    """Warnings show unless -q: a careful user should see every repair and drop."""
    if _level >= NORMAL:
        print(f"warning: {message}", file=sys.stderr)


def reason(message: str) -> None:
    """Shown even with -q: why a run that wrote its outputs exits non-zero."""
    print(f"warning: {message}", file=sys.stderr)


def warn_findings(layer) -> None:
    """Show a layer's repairs and warnings: nothing the reader changed goes unsaid."""
    for finding in layer.warnings:
        warn(finding.message)
