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


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """A plain aligned text table (stable output, easy to assert and to read)."""
    if not columns:
        return "(no result)"
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([line, sep, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


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
