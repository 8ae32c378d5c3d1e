"""Rows as text: an aligned table, CSV, JSON and JSON lines.

Used by `tracker sql` (every format) and `tracker status` (the table).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import uuid
from typing import Any


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def display_number(value: Any) -> str:
    """A number rounded for reading: whole numbers as they are; others to 2 decimals, or to 3
    significant digits below 1 (0.000123)."""
    if isinstance(value, int) or value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return str(value.quantize(decimal.Decimal(1)))
    v = float(value)
    if v == 0 or abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def format_table(columns: list[str], rows: list[tuple], *, total: int | None = None,
                 rounded: bool = False) -> str:
    """An aligned text table: numbers right-aligned (rounded for display if `rounded`).

    `total`: the number of rows in the result when `rows` is only the first of them; the
    last line then says how many more there are.
    """
    if not columns:
        return "(no result)"
    numeric = [bool(rows) and all(v is None or _is_number(v) for v in (r[i] for r in rows))
               and any(v is not None for v in (r[i] for r in rows))
               for i in range(len(columns))]
    cells = [[display_number(v) if rounded and _is_number(v) else _cell(v) for v in row]
             for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    total = len(rows) if total is None else total
    footer = f"({total} row{'s' if total != 1 else ''})"
    if total > len(rows):
        more = total - len(rows)
        footer = (f"... {more} more row{'s' if more != 1 else ''} ({total} in all; "
                  "--limit N shows more, -o FILE or a pipe gets all)")
    return "\n".join([line(list(columns)), sep, *map(line, cells), footer])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def format_csv(columns: list[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().rstrip("\n")


def format_jsonl(columns: list[str], rows: list[tuple]) -> str:
    return "\n".join(json.dumps(dict(zip(columns, row, strict=True)), default=_jsonable,
                                ensure_ascii=False) for row in rows)


def format_json(columns: list[str], rows: list[tuple]) -> str:
    return json.dumps([dict(zip(columns, row, strict=True)) for row in rows],
                      default=_jsonable, ensure_ascii=False, indent=1)


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json,
              "jsonl": format_jsonl}
