"""Reading CSV and XLSX tables: encoding, delimiter and number detection.

Tables come from Excel and council systems, so the reader must get cp1252 and BOMs right
and must not turn codes such as ``01234`` into numbers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from nbhood_cli.errors import NbhoodError

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}

_LEADING_ZERO = re.compile(r"^0\d")


@dataclass
class Table:
    """A table as read, with what the reader had to decide about it."""

    frame: object  # pandas.DataFrame, all columns str or numeric
    encoding: str | None
    row_label: str  # "line" for CSV (the editor's line number), "row" for XLSX


def decode(raw: bytes, path) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), else cp1252; return (text, encoding).

    UTF-8 is tried strictly first: cp1252 text with accents is almost never valid UTF-8,
    so a strict UTF-8 success is a reliable answer and a failure points to a Windows export.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise NbhoodError(
            f"{path}: byte {exc.start} is neither UTF-8 nor Windows-1252 text; "
            "save the file as CSV UTF-8 and try again"
        ) from None


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(_first_lines(text, 20))
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _first_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting a large file whole."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > n or size >= len(text):
            return lines[:n]
        size *= 4


def read_csv(path: Path, columns=None) -> Table:
    import warnings

    import pandas as pd

    raw = path.read_bytes()
    text, encoding = decode(raw, path)
    if not text.strip():
        raise NbhoodError(f"{path}: the file is empty; export the table again with a header row")
    sep = _sniff_delimiter(text)
    rows = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    header = next(row for row in rows if row)  # pandas skips blank lines before the header
    _check_header(header, path)
    try:
        with warnings.catch_warnings():  # a long first row: pandas warns and drops its extras
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
                usecols=columns,
                index_col=False,  # a long row must not turn the first column into an index
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise NbhoodError(_long_row(text, sep, len(header), path)
                          or f"{path}: not a well-formed CSV table ({_first_line(exc)})") from None
    return Table(_tidy(frame, path), encoding, "line")


def _long_row(text: str, sep: str, width: int, path) -> str | None:
    """Name the first row with more fields than the header, by its editor line number.
    Rows whose extra fields are all empty (trailing delimiters) are only named when no
    row has real extra values."""
    first = None
    limit = csv.field_size_limit(len(text) + 1)  # a WKT polygon can outgrow the default
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
        for row in reader:
            if len(row) > width:
                found = (reader.line_num, len(row))
                if any(cell.strip() for cell in row[width:]):
                    first = found
                    break
                first = first or found
    except csv.Error:  # an unclosed quote, say: pandas' own words will do
        return None
    finally:
        csv.field_size_limit(limit)
    if first is None:
        return None
    return (f"{path}: line {first[0]} has {first[1]} fields but the header has {width}; "
            f"fix that row (a stray {sep!r}, or a value holding {sep!r} that needs quotes)")


def read_xlsx(path: Path, sheet: str | None, columns=None) -> Table:
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise NbhoodError(f"{path}: not a readable XLSX workbook ({_first_line(exc)})") from None
    if sheet is not None and sheet not in book.sheet_names:
        raise NbhoodError(
            f"{path}: no sheet named {sheet!r}; sheets are: {', '.join(book.sheet_names)}"
        )
    sheet = sheet if sheet is not None else 0
    first = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1, dtype=str)
    _check_header(["" if pd.isna(c) else c for c in first.iloc[0]] if len(first) else [], path)
    frame = pd.read_excel(book, sheet_name=sheet, dtype=str, usecols=columns)
    return Table(_tidy(frame, path), None, "row")


def read_table(path: Path, sheet: str | None = None, columns=None) -> Table:
    """Read a CSV/TSV/XLSX file into a frame with clean headers and typed numeric columns;
    ``columns``: a test on header names keeping only some columns (large files)."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return read_xlsx(path, sheet, columns)
    return read_csv(path, columns)


def _check_header(header, path) -> None:
    """Refuse repeated names in the header as written: pandas renames a second
    ``population`` to ``population.1``, which would hide the repeat."""
    names = [str(c).strip() for c in header]
    dupes = sorted({c for c in names if c and names.count(c) > 1})
    if dupes:
        raise NbhoodError(f"{path}: column names repeat ({', '.join(dupes)}); rename them")


def _tidy(frame, path):
    """Strip header whitespace, refuse unusable headers, type the numeric columns."""
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.empty:
        raise NbhoodError(f"{path}: the header row is empty; give every column a name")
    unnamed = [i for i, c in enumerate(frame.columns) if c == "" or c.startswith("Unnamed:")]
    if unnamed and unnamed[-1] == len(frame.columns) - 1 and frame.iloc[:, -1].isna().all():
        frame = frame.iloc[:, :-1]  # a delimiter ending every line, header too: nothing lost
        unnamed = unnamed[:-1]
    if unnamed:
        raise NbhoodError(f"{path}: column {unnamed[0] + 1} has no header; give every column a "
                          "name in the first row")
    if frame.empty:
        raise NbhoodError(f"{path}: the table has a header but no rows")
    for name in frame.columns:
        frame[name] = _maybe_numeric(frame[name])
    return frame


def _maybe_numeric(column):
    """Numbers become numbers; codes (leading zeros, letters) stay text."""
    import pandas as pd

    values = column.dropna()
    if values.empty:
        return column
    head = values.iloc[:1000].astype(str).str.strip()  # text columns show it early: a code
    if head.str.match(_LEADING_ZERO).any() or pd.to_numeric(head, errors="coerce").isna().any():
        return column  # in the head settles it without reading a million rows
    text = values.astype(str).str.strip()
    if text.str.match(_LEADING_ZERO).any():
        return column
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.isna().any():
        return column
    return pd.to_numeric(column.astype("string").str.strip(), errors="coerce")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
