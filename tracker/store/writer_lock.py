"""One writer at a time across machines, for a lake whose catalog is in PostgreSQL.

DuckLake has no primary keys: two writers that each insert what the lake does not hold yet
(warehouse/normalise/_merge.sql, store/ledger.py) would both insert a post both fetched.
On one machine the writer file's lock keeps writers apart (store/lake.py); machines that
share a lake through a PostgreSQL catalog also take this lock: a PostgreSQL advisory lock
in the catalog's database, held by a connection of its own for as long as the writer's
DuckDB connection is open. A writer that is killed loses its connection, and PostgreSQL
frees the lock at once; nothing is left to clean up.

Held under it, besides every insert: the schema's migration and the removal of payload
segments no committed row references (store/segments.py), which on a shared folder could
otherwise take a segment another machine has written but not yet committed.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import WarehouseError, WarehouseLocked

if TYPE_CHECKING:
    from .lake import Lake

# The advisory lock's key ("tracker1" as a number): one lock per catalog database
KEY = int.from_bytes(b"tracker1", "big")
CONNECT_TIMEOUT = 10   # seconds
_HELD: dict[int, weakref.finalize] = {}

_HOLDER = """
select a.application_name, a.client_addr::varchar
from pg_locks l join pg_stat_activity a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted
  and l.database = (select oid from pg_database where datname = current_database())
  and (l.classid::bigint << 32) | l.objid::bigint = %s
"""


def acquire(lake: Lake, *, wait: float = 0.0,
            on_wait: Callable[[str], None] | None = None) -> Any:
    """Take the lake's writer lock, waiting up to `wait` seconds; the connection that holds it
    (close it to let go). WarehouseLocked names the holder if it is still held then."""
    try:
        import psycopg
    except ImportError:
        raise WarehouseError(
            f"{lake.describe()}: several machines share a lake on PostgreSQL through a lock "
            "that needs psycopg: `pip install 'hashtag-tracker[lake]'` (docs/lake.md)") from None
    conninfo = lake.catalog.split(":", 1)[1]
    name = f"tracker {lake.machine or 'writer'} pid {os.getpid()}"[:63]
    try:
        pg = psycopg.connect(conninfo, autocommit=True, application_name=name,
                             connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WarehouseError(f"{lake.describe()}: cannot reach the catalog for the writer "
                             f"lock: {first}") from None
    try:
        row = pg.execute("select pg_try_advisory_lock(%s)", [KEY]).fetchone()
        if row and row[0]:
            return pg
        message = f"{lake.describe()}: lake is locked by {_holder(pg)}"
        if wait <= 0:
            raise WarehouseLocked(message)
        if on_wait:
            on_wait(message + "; waiting...")
        # wait in PostgreSQL's queue: first come, first served, so a machine that loads all
        # the time cannot keep taking the lock back from one that waits
        pg.execute(f"set lock_timeout = {max(1, int(wait * 1000))}")
        try:
            pg.execute("select pg_advisory_lock(%s)", [KEY])
        except psycopg.errors.LockNotAvailable:
            raise WarehouseLocked(f"{lake.describe()}: lake is locked by {_holder(pg)}; "
                                  f"waited {wait:g} s") from None
        pg.execute("set lock_timeout = 0")
        return pg
    except BaseException:
        pg.close()
        raise


def _holder(pg: Any) -> str:
    held = pg.execute(_HOLDER, [KEY]).fetchone()
    if not held:
        return "another writer"
    return (held[0] or "another client") + (f" at {held[1]}" if held[1] else "")


def hold(con: object, pg: Any) -> None:
    """Keep the lock for as long as `con` is open: `release(con)`, or when `con` is gone."""
    key = id(con)

    def let_go() -> None:
        _HELD.pop(key, None)
        pg.close()

    _HELD[key] = weakref.finalize(con, let_go)


def release(con: object) -> None:
    """Let go of the lock `con` holds, if any (after `con.close()`)."""
    fin = _HELD.get(id(con))
    if fin is not None:
        fin()
