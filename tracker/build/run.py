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
        # a view whose SQL is the last build's stays: on a lake every `create` is a new
        # schema version in the catalog, which every later transaction reads (see refill)
        if full or not ctx.state.view_is_current(m):
            if _is_table(ctx.con, m.table):   # a table model made a view
                ctx.run(f"drop table {m.table}")
            ctx.run(f"create or replace view {m.table} as\n{sql}")
            ctx.state.record_view(m)
        return "view"
    if m.incremental_key and not full and (mode := update(ctx, m)):
        return mode
    if ctx.state.was_view(m):   # a view model made a table (DuckDB replaces neither by other)
        ctx.run(f"drop view if exists {m.table}")
        ctx.state.forget(m)
    select = with_merge_key(m, f"(\n{sql}\n)")
    if not (lake and refill(ctx.con, m.table, select)):
        ctx.run(f"create or replace table {m.table} as\n" + select)
    if m.incremental_key:
        ctx.state.record_full(m)
    return "full"


def _is_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` (schema.name) is a table of the current database (a catalog read:
    only when a view is to be made)."""
    schema, name = table.split(".")
    return con.execute("select 1 from information_schema.tables where table_catalog = "
                       "current_database() and table_schema = ? and table_name = ? and "
                       "table_type = 'BASE TABLE'", [schema, name]).fetchone() is not None
