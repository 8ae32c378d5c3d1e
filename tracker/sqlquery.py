"""Ad-hoc SQL: one read-only statement on a read-only connection, output in several formats.

Three locks keep it read-only:
1. the warehouse is opened read-only (DuckDB refuses any write to the file);
2. the statement must parse as a single SELECT (incl. WITH, FROM-first, VALUES, SHOW,
   DESCRIBE, SUMMARIZE, PRAGMA that return rows) or EXPLAIN; COPY, ATTACH, EXPORT, INSTALL,
   LOAD, SET and every write are refused before anything runs, and so are DuckLake's
   maintenance functions (they can write files even on a lake attached read-only);
3. `enable_external_access` is switched off on the connection, so a SELECT cannot read or
   write other files (read_csv('/etc/passwd'), httpfs, ...). Only the Parquet output file the
   user named is allowed, and only our own COPY writes it; and the warehouse's payload
   folder (`<warehouse>.raw/`), read through the view raw.pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from .errors import TrackerError
from .store import segments
from .store.db import connect, scalar
from .store.lake import Lake
from .tables import FORMATTERS

__all__ = ["FORMATS", "FORMATTERS", "check_read_only", "run_query", "write_parquet"]

FORMATS = ("table", "csv", "json", "jsonl", "parquet")
_ALLOWED = {"SELECT", "EXPLAIN"}
# DuckLake's maintenance functions are table functions a SELECT can call, and some write even
# on a lake attached read-only (ducklake_flush_inlined_data writes Parquet files into the
# data path before the catalog refuses its change): only these read-only ones are allowed.
_LAKE_FUNCTION = re.compile(r"\b(ducklake_\w+)\W{0,2}\s*\(", re.IGNORECASE)
_LAKE_READS = {"ducklake_snapshots", "ducklake_current_snapshot", "ducklake_table_info",
               "ducklake_last_committed_snapshot", "ducklake_list_files", "ducklake_options",
               "ducklake_settings", "ducklake_table_changes", "ducklake_table_insertions",
               "ducklake_table_deletions"}


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
    for name in _LAKE_FUNCTION.findall(statements[0].query):
        if name.lower() not in _LAKE_READS:
            raise TrackerError(f"refused: {name}() may change the lake; `tracker sql` is "
                               "read-only (SELECT and EXPLAIN only)")
    return statements[0].query.strip().rstrip(";")


def _open(path: Path, wait: float, on_wait: Callable[[str], None] | None,
          allowed_file: Path | None = None, lake: Lake | None = None
          ) -> duckdb.DuckDBPyConnection:
    con = connect(path, lake=lake, read_only=True, wait=wait, on_wait=on_wait)
    try:
        con.execute("set TimeZone = 'UTC'")
        if allowed_file is not None:
            con.execute("set allowed_paths = ?", [[str(allowed_file)]])
        # the payload segments, which the view raw.pages reads (store/segments.py), and a
        # lake's Parquet files
        folders = [segments.raw_dir(con)] + ([lake.data_path] if lake else [])
        con.execute("set allowed_directories = ?", [[f"{f}/" for f in folders]])
        con.execute("set enable_external_access = false")
    except BaseException:
        con.close()
        raise
    return con


def run_query(path: Path, query: str, *, wait: float = 30.0, lake: Lake | None = None,
              on_wait: Callable[[str], None] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement; return (column names, rows)."""
    columns, rows, _ = run_query_limited(path, query, None, wait=wait, lake=lake,
                                         on_wait=on_wait)
    return columns, rows


def run_query_limited(path: Path, query: str, limit: int | None, *, wait: float = 30.0,
                      lake: Lake | None = None, on_wait: Callable[[str], None] | None = None
                      ) -> tuple[list[str], list[tuple], int]:
    """Run one read-only statement; return (column names, the first `limit` rows (all if
    None), the number of rows in the result). The query runs once; rows past the limit are
    counted, not kept."""
    statement = check_read_only(query)
    con = _open(path, wait, on_wait, lake=lake)
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
                  lake: Lake | None = None, on_wait: Callable[[str], None] | None = None) -> int:
    """Write the result of one read-only statement to `output` as Parquet; return row count."""
    statement = check_read_only(query)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, wait, on_wait, allowed_file=output, lake=lake)
    try:
        try:
            con.execute(f"copy (\n{statement}\n) to ? (format parquet)", [str(output)])
            return scalar(con, "select count(*) from read_parquet(?)", [str(output)])
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
