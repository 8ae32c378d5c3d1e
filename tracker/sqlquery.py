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
from .store.db import connect, scalar

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
    statement = check_read_only(query)
    con = _open(path, wait, on_wait)
    try:
        try:
            cur = con.execute(statement)
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
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
            return int(scalar(con, "select count(*) from read_parquet(?)", [str(output)]))
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


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
