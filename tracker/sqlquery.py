"""Ad-hoc SQL: one read-only statement on a read-only connection, output in several formats.

Three locks keep it read-only:
1. the warehouse is opened read-only (DuckDB refuses any write to the file);
2. the statement must parse as a single SELECT (incl. WITH, FROM-first, VALUES, SHOW,
   DESCRIBE, SUMMARIZE, PRAGMA that return rows) or EXPLAIN; COPY, ATTACH, EXPORT, INSTALL,
   LOAD, SET and every write are refused before anything runs;
3. `enable_external_access` is switched off on the connection, so a SELECT cannot read or
   write other files (read_csv('/etc/passwd'), httpfs, ...). Only the Parquet output file the
   user named is allowed, and only our own COPY writes it.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from .errors import TrackerError
from .store.db import connect

FORMATS = ("table", "csv", "json", "jsonl", "parquet")
_ALLOWED = {"SELECT", "EXPLAIN"}


def check_read_only(query: str) -> str:
    """Return the single read-only statement in `query`, or raise a one-line TrackerError."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise TrackerError("no SQL statement given")
    if len(statements) > 1:
        raise TrackerError(f"one statement at a time, please (found {len(statements)})")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind not in _ALLOWED:
        words = statements[0].query.split()
        word = words[0].upper() if words else kind
        raise TrackerError(f"refused: {word} statements are not allowed; `tracker sql` is "
                           "read-only (SELECT and EXPLAIN only)")
    return statements[0].query.strip().rstrip(";")


def _open(path: Path, wait: float, on_wait: Callable[[str], None] | None,
          allowed_file: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = connect(path, read_only=True, wait=wait, on_wait=on_wait)
    try:
        con.execute("set TimeZone = 'UTC'")
        if allowed_file is not None:
            con.execute("set allowed_paths = ?", [[str(allowed_file)]])
        con.execute("set enable_external_access = false")
    except BaseException:
        con.close()
        raise
    return con


def run_query(path: Path, query: str, *, wait: float = 30.0,
              on_wait: Callable[[str], None] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement; return (column names, rows)."""
    columns, rows, _ = run_query_limited(path, query, None, wait=wait, on_wait=on_wait)
    return columns, rows


def run_query_limited(path: Path, query: str, limit: int | None, *, wait: float = 30.0,
                      on_wait: Callable[[str], None] | None = None
                      ) -> tuple[list[str], list[tuple], int]:
    """Run one read-only statement; return (column names, the first `limit` rows (all if
    None), the number of rows in the result). The query runs once; rows past the limit are
    counted, not kept."""
    statement = check_read_only(query)
    con = _open(path, wait, on_wait)
    try:
        try:
            cur = con.execute(statement)
            if cur.description is None:
                return [], [], 0
            columns = [d[0] for d in cur.description]
            if limit is None:
                rows = cur.fetchall()
                return columns, rows, len(rows)
            rows = cur.fetchmany(limit) if limit else []
            total = len(rows)
            while chunk := cur.fetchmany(10_000):
                total += len(chunk)
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
        return columns, rows, total
    finally:
        con.close()


def write_parquet(path: Path, query: str, output: Path, *, wait: float = 30.0,
                  on_wait: Callable[[str], None] | None = None) -> int:
    """Write the result of one read-only statement to `output` as Parquet; return row count."""
    statement = check_read_only(query)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, wait, on_wait, allowed_file=output)
    try:
        try:
            con.execute(f"copy (\n{statement}\n) to ? (format parquet)", [str(output)])
            return con.execute("select count(*) from read_parquet(?)",
                               [str(output)]).fetchone()[0]
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


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
