"""Open the warehouse, migrate its schema, and turn DuckDB's lock errors into clear messages."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..errors import WarehouseError, WarehouseLocked
from ..resources import SCHEMA_DIR

if TYPE_CHECKING:
    from .lake import Lake

_PID = re.compile(r"\(PID (\d+)\)")
# DuckDB's worker threads per connection (default: one per core). On a lake, small statements
# run about twice as fast with one thread (docs/lake.md, "Threads"); TRACKER_THREADS sets it.
THREADS_ENV = "TRACKER_THREADS"


def duckdb_config() -> dict[str, Any]:
    """The settings every warehouse connection opens with: no extension downloads, and the
    worker threads `TRACKER_THREADS` asks for (DuckDB's default, one per core, if unset)."""
    config: dict[str, Any] = {"autoinstall_known_extensions": False,
                              "autoload_known_extensions": True}
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        if not (text.isascii() and text.isdecimal()) or int(text) < 1:
            raise WarehouseError(f"{THREADS_ENV}={text!r}: expected a whole number of threads, "
                                 "1 or more")
        config["threads"] = int(text)
    return config


def migrations() -> list[tuple[int, Path]]:
    """Schema files `NNN_name.sql` in version order."""
    out = []
    for p in sorted(SCHEMA_DIR.glob("*.sql")):
        out.append((int(p.name.split("_", 1)[0]), p))
    return out


def one(con: duckdb.DuckDBPyConnection, sql: str,
        params: Sequence[object] | None = None) -> tuple[Any, ...]:
    """The one row of a query that always returns one (an aggregate, `update`'s count)."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise WarehouseError(f"expected a row, got none from: {' '.join(sql.split())[:80]}")
    return row


def scalar(con: duckdb.DuckDBPyConnection, sql: str,
           params: Sequence[object] | None = None) -> Any:
    """The first value of `one(con, sql, params)`, e.g. a count."""
    return one(con, sql, params)[0]


@contextmanager
def utc_session(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run with the session's TimeZone set to UTC, then give the connection its own back.

    DuckDB reads a timestamp without a zone ('2024-01-01T00:00:00', cast to timestamptz) in
    the session's zone, the machine's by default: under TZ=Asia/Kolkata it would be stored
    as 2023-12-31 18:30 UTC. Normalisation (store.normalise) runs inside this, so such a
    time is UTC on every machine."""
    before = scalar(con, "select current_setting('TimeZone')")
    if before == "UTC":
        yield
        return
    restore = "set TimeZone = '{}'".format(str(before).replace("'", "''"))
    con.execute("set TimeZone = 'UTC'")
    try:
        yield
    except BaseException:
        # the error is what the caller must see: a transaction it aborted refuses any SET
        # until the caller's rollback (the session then stays in UTC)
        with suppress(duckdb.Error):
            con.execute(restore)
        raise
    con.execute(restore)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `name` (schema.table, or a table of the current database's main schema) exists.

    Bound by name rather than looked up in `duckdb_tables()`: on a lake that lists the whole
    catalog (about 0.1 s a call), a bound name is found in the transaction's catalog (under a
    millisecond in a transaction). A failed bind does not abort the transaction."""
    try:
        con.execute(f"select 1 from {name} limit 0")
    except duckdb.CatalogException:
        return False
    return True


def refill(con: duckdb.DuckDBPyConnection, table: str, select: str) -> bool:
    """Replace `table`'s rows with those of `select` when the table exists with the columns
    (names, types, nullability) `select` gives; False (nothing done) otherwise.

    For a lake: DuckLake records each `create or replace table` as a new table, its columns
    and a new schema version in the catalog, kept until the snapshots expire (30 days by
    default), and reads of the catalog grow with them. With its tables replaced at every
    build, a daemon's build on a small lake went from 1.3 s to 6 s in 15 builds (docs/lake.md,
    "Builds that do not slow down"). Deleting and inserting rows changes only data files."""
    try:
        have = con.execute(f"describe {table}").fetchall()
    except duckdb.CatalogException:
        return False
    if [r[:3] for r in have] != [r[:3] for r in con.execute(f"describe {select}").fetchall()]:
        return False
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} {select}")
    return True


def reset_table(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> None:
    """Make `table` an empty table of `columns` (SQL column definitions): emptied when it
    already has them, else created anew (see `refill`)."""
    con.execute(f"create or replace temp table reset_columns ({columns})")
    if not refill(con, table, "from reset_columns"):
        con.execute(f"create or replace table {table} ({columns})")
    con.execute("drop table reset_columns")


# The build engine's memory of the last build (tracker/build/state.py): fingerprints and
# high-water marks of the norm tables, which assume rows are only appended.
BUILD_STATE = "core.build_state"


def require_full_build(con: duckdb.DuckDBPyConnection) -> None:
    """Make the next `tracker build` a full one: after a change to norm.* that high-water
    marks cannot follow (rows deleted, a post moved in time)."""
    if has_table(con, BUILD_STATE):   # a view's row says only that its SQL is unchanged
        con.execute(f"delete from {BUILD_STATE} where fingerprint not like 'view:%'")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    if not has_table(con, "schema_migrations"):
        return 0
    return int(scalar(con, "select coalesce(max(version), 0) from schema_migrations"))


def _raw_segments(con: duckdb.DuckDBPyConnection) -> None:
    from . import segments_migration  # it needs this module's helpers
    segments_migration.migrate(con)


def _links_backfill(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 6: the links and media of the posts already stored, read from their pages."""
    from .backfill import backfill_links
    backfill_links(con)


def _author_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 10: the keys of the authors already stored."""
    from .keys import fill
    fill(con)


# Schema steps that need Python besides their SQL file, run in the same transaction after it
PYTHON_STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    5: _raw_segments, 6: _links_backfill, 10: _author_keys}


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the schema files not yet applied; return the resulting version."""
    from . import lake
    keyless = lake.is_lake(con)   # DuckLake has no primary keys (store/lake.py)

    def schema_sql(text: str) -> str:
        return lake.without_keys(text) if keyless else text

    con.execute(schema_sql(
        "create table if not exists schema_migrations "
        "(version integer primary key, name varchar, applied_at timestamptz default now())"))
    # Every file not yet recorded is applied, in order, even one numbered below the newest
    # applied: schema files from work that landed in a different order than it was numbered.
    applied = {int(r[0]) for r in con.execute("select version from schema_migrations").fetchall()}
    for version, path in migrations():
        if version in applied:
            continue
        con.execute("begin transaction")
        try:
            con.execute(schema_sql(path.read_text(encoding="utf-8")))
            if version in PYTHON_STEPS:
                PYTHON_STEPS[version](con)
            con.execute("insert into schema_migrations (version, name) values (?, ?)",
                        [version, path.stem])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.add(version)
    return max(applied, default=0)


def _describe_lock(path: Path, exc: Exception) -> str:
    m = _PID.search(str(exc))
    holder = f"process {m.group(1)}" if m else "another process"
    return f"{path}: warehouse is locked by {holder}"


def is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def connect(path: Path | str, *, lake: Lake | None = None, read_only: bool = False,
            wait: float = 0.0, on_wait: Callable[[str], None] | None = None,
            as_of: int | dt.datetime | None = None,
            machines_wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. With `wait` > 0, retry for that many seconds while it is locked.
    A writer of a lake on PostgreSQL waits `machines_wait` seconds (default: what is left
    of `wait`) for other machines' writers (store/writer_lock.py).

    Writers get the schema migrated. Readers need an existing warehouse. With `lake`, the
    warehouse is that DuckLake: `path` is then this machine's writer file, which a reader
    does not open (store/lake.py); `as_of` (a snapshot number or a time) reads the lake as it
    was then.
    """
    path = Path(path)
    if as_of is not None and (lake is None or not read_only):
        raise WarehouseError(f"{path}: reading the warehouse as of an earlier snapshot needs "
                             "a lake (docs/lake.md)")
    if read_only and not (lake.exists() if lake else path.exists()):
        raise WarehouseError(f"{lake.describe() if lake else path}: warehouse not found (run "
                             "`tracker collect`, `tracker import` or `tracker demo` first)")
    if lake is not None and read_only:
        con = duckdb.connect(config=duckdb_config())
        return _opened(con, lake, read_only=True, as_of=as_of)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    told = False
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
            break
        except duckdb.IOException as exc:
            if not is_lock_error(exc):
                raise WarehouseError(f"{path}: cannot open warehouse: {exc}") from None
            if time.monotonic() >= deadline:
                raise WarehouseLocked(_describe_lock(path, exc)) from None
            if on_wait and not told:
                on_wait(_describe_lock(path, exc) + "; waiting...")
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise WarehouseError(f"{path}: cannot open warehouse: {exc}") from None
    if lake is None or lake.kind != "postgres":
        return _opened(con, lake, read_only=read_only)
    # machines sharing a lake on PostgreSQL: one writer at a time across them too
    from . import writer_lock
    try:
        pg = writer_lock.acquire(
            lake, wait=(max(0.0, deadline - time.monotonic()) if machines_wait is None
                        else machines_wait), on_wait=None if told else on_wait)
    except BaseException:
        con.close()
        raise
    try:
        con = _opened(con, lake, read_only=read_only)
    except BaseException:
        pg.close()
        raise
    writer_lock.hold(con, pg)
    return con


def _opened(con: duckdb.DuckDBPyConnection, lake: Lake | None, *, read_only: bool,
            as_of: int | dt.datetime | None = None) -> duckdb.DuckDBPyConnection:
    """A connection made ready: the lake attached, the authors' key macro defined (models run
    on readers too: a report's window), the schema migrated (writers), the raw layer's
    segments found."""
    from . import keys
    try:
        if lake is not None:
            from . import lake as lakes
            lakes.attach(con, lake, read_only=read_only, as_of=as_of)
        keys.define(con)
        if not read_only:
            # first: a schema step may read payloads (6 reads links from raw.pages), and the
            # view must find them where the warehouse is now
            _raw_layer(con, writer=True)
            migrate(con)
        _raw_layer(con, writer=False)
    except BaseException:
        con.close()
        raise
    return con


def sibling(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to the DuckDB-file warehouse open on `con`, made ready as
    `_opened` makes a reader (the authors' key macro, the segments' folder): per-connection
    state a cursor does not share. Not for a lake (its attachment is per connection)."""
    from . import keys
    other = con.cursor()
    try:
        keys.define(other)
        _raw_layer(other, writer=False)
    except BaseException:
        other.close()
        raise
    return other


def _raw_layer(con: duckdb.DuckDBPyConnection, *, writer: bool) -> None:
    """Tell the connection where the payload segments are; a writer also removes the
    segments a crash left unreferenced and points the view at the folder if it moved."""
    from . import segments
    if schema_version(con) < 5 or not has_table(con, "raw.page_index"):
        return
    segments.prepare(con, writer=writer)
    if writer:
        segments.remove_orphans(con)
        view = scalar(con, "select any_value(sql) from duckdb_views() "
                           "where schema_name = 'raw' and view_name = 'pages'")
        if not view or segments.glob(con) not in view:
            con.execute(segments.view_sql(con))
