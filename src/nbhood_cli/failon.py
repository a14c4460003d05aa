"""``nbhood map --fail-on``: conditions a CI pipeline can stop on (exit status 1)."""

from __future__ import annotations

import typer

CONDITIONS = ("tension=LEVEL", "unallocated=SHARE", "validation-warnings", "contested",
              "double-disadvantage")


def parse(text: str) -> tuple[str, str | None]:
    """``tension=high`` → ("tension", "high"); refuse unknown conditions before any work."""
    from nbhood_cli.tensions import SEVERITY_LABELS

    name, _, value = text.partition("=")
    if name == "tension" and value in SEVERITY_LABELS[1:]:
        return name, value
    if name == "unallocated":
        try:
            if 0 <= float(value) <= 1:
                return name, value
        except ValueError:
            pass
    if name in ("validation-warnings", "contested", "double-disadvantage") and not value:
        return name, None
    raise typer.BadParameter(f"{text!r}: use one of {', '.join(CONDITIONS)} (LEVEL: low, "
                             "medium or high; SHARE: 0–1)", param_hint="--fail-on")


def check(condition: tuple[str, str | None], summary: dict) -> str | None:
    """A message when the condition is met, else None."""
    from nbhood_cli.tensions import SEVERITY_LABELS

    name, value = condition
    if name == "tension":
        levels = SEVERITY_LABELS[SEVERITY_LABELS.index(value):]
        hits = {layer: sum(counts[level] for level in levels)
                for layer, counts in summary.get("tension", {}).items()}
        total = sum(hits.values())
        if total:
            where = ", ".join(f"{n} vs {layer}" for layer, n in hits.items() if n)
            return f"tension={value}: {total} area(s) at {value} or worse ({where})"
    elif name == "unallocated":
        pop = summary.get("population")
        if pop and pop["source_total"] and pop["unallocated"] / pop["source_total"] > \
                float(value):
            share = pop["unallocated"] / pop["source_total"]
            return f"unallocated={value}: {share:.3f} of the people are in no community area"
    elif name == "validation-warnings" and summary.get("warnings"):
        return f"validation-warnings: {len(summary['warnings'])} warning(s) while reading"
    elif name == "contested" and summary.get("contested", {}).get("areas"):
        return f"contested: {summary['contested']['areas']} contested area(s)"
    elif name == "double-disadvantage" and summary.get("assets", {}).get("double_disadvantage"):
        flagged = summary["assets"]["double_disadvantage"]
        return f"double-disadvantage: {len(flagged)} area(s) ({', '.join(flagged[:5])})"
    return None


def judge(conditions: list, typed: list[str], summary: dict) -> dict:
    """The conditions as typed and the messages of those met, for summary.json."""
    return {"conditions": typed, "met": [m for c in conditions if (m := check(c, summary))]}
