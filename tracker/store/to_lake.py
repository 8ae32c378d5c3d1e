"""`tracker migrate --to ducklake`: copy a DuckDB-file warehouse into a new lake.

What is copied is what the warehouse *holds*: the raw layer (page index, inline payloads and
the payload segment files), norm.* and ledger.*. The models (core.*, marts.*) are derived:
the lake builds them afresh from the copied rows (`tracker build --full`), so their
high-water marks are the lake's own. The marts come out identical (tests/test_lake.py).

Order, for crash safety as everywhere in the raw layer: the segment files are copied and
fsynced first, then one transaction copies every table; stopped before its commit, the lake
holds no rows and the next writer removes the unreferenced segments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import WarehouseError
from . import segments
from .db import connect, scalar
from .lake import Lake

# The schemas that hold stored data; core.* and marts.* are built from them
COPIED_SCHEMAS = ("raw", "norm", "ledger")
SOURCE = "tracker_source"


@dataclass
class Copied:
    tables: int
    rows: int
    segments: int


def copy_to_lake(source: Path, writer_file: Path, lake: Lake,
                 on_table: Callable[[str, int], None] | None = None) -> Copied:
    """Copy the DuckDB-file warehouse `source` into `lake`, which must hold no data yet."""
    if not source.exists():
        raise WarehouseError(f"{source}: warehouse not found")
    # bring the file to the current schema first (and learn where its segments are)
    con = connect(source, wait=30)
    try:
        source_raw = segments.raw_dir(con)
    finally:
        con.close()
    con = connect(writer_file, lake=lake, wait=30)
    try:
        held = scalar(con, "select (select count(*) from raw.page_index) "
                           "+ (select count(*) from ledger.runs)")
        if held:
            raise WarehouseError(f"{lake.describe()}: already holds data; migrate into a new "
                                 "catalog and data_path")
        con.execute(f"attach {segments.sql_literal(str(source))} as {SOURCE} (read_only)")
        try:
            return _copy(con, source_raw, lake, on_table)
        finally:
            con.execute(f"detach {SOURCE}")
    finally:
        con.close()


def _copy(con: duckdb.DuckDBPyConnection, source_raw: Path, lake: Lake,
          on_table: Callable[[str, int], None] | None) -> Copied:
    tables = [f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "and list_contains(?, schema_name) order by all",
        [SOURCE, list(COPIED_SCHEMAS)]).fetchall()]
    names = _copy_segments(con, source_raw, lake.raw_dir)
    con.execute("begin transaction")
    try:
        rows = 0
        for table in tables:
            # a table some command creates when first needed (ledger.builds) may be missing
            con.execute(f"create table if not exists {table} as "
                        f"select * from {SOURCE}.{table} limit 0")
            con.execute(f"delete from {table}")   # rows a schema step may have added
            con.execute(f"insert into {table} by name select * from {SOURCE}.{table}")
            n = scalar(con, f"select count(*) from {table}")
            rows += n
            if on_table:
                on_table(table, n)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return Copied(tables=len(tables), rows=rows, segments=len(names))


def _copy_segments(con: duckdb.DuckDBPyConnection, source_raw: Path, target: Path) -> list[str]:
    """Copy the segment files the source's index references, durably."""
    names = [r[0] for r in con.execute(
        f"select distinct segment from {SOURCE}.raw.page_index where segment <> ?",
        [segments.INLINE]).fetchall()]
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = source_raw / name
        if not src.exists():
            raise WarehouseError(f"{src}: payload segment missing from the source warehouse")
        tmp = target / (name + ".tmp")
        shutil.copyfile(src, tmp)
        segments.fsync_file(tmp)
        tmp.replace(target / name)
    segments.fsync_dir(target)
    return names
