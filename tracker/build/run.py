"""Materialise models in dependency order, in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from ..errors import TrackerError
from ..store.db import refill
from ..store.lake import is_lake
from .graph import ordered
from .incremental import Context, update, with_merge_key
from .model import LAYERS, RETIRED_LAYERS, Model
from .state import BuildState

# see build(): above this many rows, a look-up by rowid reads the whole table again
ROWID_LOOKUP_ROWS = 4096


@dataclass
class Step:
    model: Model
    seconds: float
    mode: str  # view, full, incremental, merge, reapply


def build(con: duckdb.DuckDBPyConnection, models: list[Model], *, full: bool = False,
          setup: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
          finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
          config_tables: Sequence[str] = ()) -> list[Step]:
    """Run `setup` (which writes the config tables), then materialise every model in
    dependency order, then `finish` (which records the build), all in one transaction:
    readers see either the previous build or the new one, never a half-built set.
    Incremental models are updated in place unless `full`; their fingerprints cover the rows
    of `config_tables`."""
    models = ordered(models)
    steps = []
    lake = is_lake(con)
    con.execute("set TimeZone = 'UTC'")
    # the row estimates of an incremental build's small inputs can fall under DuckDB's
    # threshold for planning an ASOF join as a nested loop (it was 0.5 s of 10k posts' build)
    con.execute("set asof_loop_join_threshold = 0")
    # a join whose build side has at most this many distinct keys hands them to the probe
    # side's scan as a list (default 50), which then skips the vectors holding none of them:
    # the marts that look up their leaders' rows in norm.authors by rowid (top_posts,
    # top_contributors: ~100-300 rows of 4M at 10M posts) read 1/20 of the table
    con.execute(f"set dynamic_or_filter_threshold = {ROWID_LOOKUP_ROWS}")
    con.execute("begin transaction")
    try:
        for layer in RETIRED_LAYERS:
            con.execute(f"drop schema if exists {layer} cascade")
        for layer in LAYERS:
            con.execute(f"create schema if not exists {layer}")
        if setup is not None:
            setup(con)
        ctx = Context(con, BuildState(con, config_tables))
        for m in models:
            t0 = time.perf_counter()
            try:
                mode = _materialise(ctx, m, full, lake)
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise TrackerError(f"{m.path}: model failed: {first}") from None
            steps.append(Step(m, time.perf_counter() - t0, mode))
        if finish is not None:
            finish(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("reset asof_loop_join_threshold")
        con.execute("reset dynamic_or_filter_threshold")
    return steps


def _materialise(ctx: Context, m: Model, full: bool, lake: bool) -> str:
    sql = m.sql.strip().rstrip(";")
    if m.materialized == "view":
        # on a lake a view whose SQL is the last build's stays: every `create` there is a new
        # schema version in the catalog, which later transactions read (store/db.py, refill)
        if full or not lake or not ctx.state.view_is_current(m):
            view = f"create or replace view {m.table} as\n{sql}"
            try:
                ctx.run(view)
            except duckdb.Error:
                # a table model made a view: DuckDB replaces neither kind by the other
                if _kind(ctx.con, m.table) != "BASE TABLE":
                    raise
                ctx.run(f"drop table {m.table}")
                ctx.run(view)
            if lake:
                ctx.state.record_view(m)
        return "view"
    if m.incremental_key and not full and (mode := update(ctx, m)):
        return mode
    if ctx.state.was_view(m):
        ctx.state.forget(m)
    select = with_merge_key(m, f"(\n{sql}\n)")
    try:
        _write_table(ctx, m, select, lake)
    except duckdb.Error:
        # a view model made a table: DuckDB replaces neither kind by the other
        if _kind(ctx.con, m.table) != "VIEW":
            raise
        ctx.run(f"drop view {m.table}")
        _write_table(ctx, m, select, lake)
    if m.incremental_key:
        ctx.state.record_full(m)
    return "full"


def _write_table(ctx: Context, m: Model, select: str, lake: bool) -> None:
    if not (lake and refill(ctx.con, m.table, select)):
        ctx.run(f"create or replace table {m.table} as\n" + select)


def _kind(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None: what `table` (schema.name) is in the current database (a
    catalog read, so only when a view or a table could not be made)."""
    schema, name = table.split(".")
    row = con.execute("select table_type from information_schema.tables where table_catalog = "
                      "current_database() and table_schema = ? and table_name = ?",
                      [schema, name]).fetchone()
    return row[0] if row else None
