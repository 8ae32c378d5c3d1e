"""The DuckLake backend: the warehouse's tables in a DuckLake (catalog in SQLite or
PostgreSQL, data in Parquet files), attached to a DuckDB connection as the database `lake`.

A connection to the lake is an ordinary DuckDB connection with the lake attached and made
the default database (`USE lake`), so every model, report and query runs unchanged.

Writers and readers (docs/lake.md):
- A reader opens an in-memory DuckDB and attaches the lake read-only: it takes no lock, so
  it never waits for the daemon and never keeps the daemon from loading.
- A writer opens this machine's writer file (`[warehouse] path`, a small DuckDB file that
  holds no data) and attaches the lake to it. DuckDB's lock on that file lets one writer of
  this machine in at a time, with the same waiting and messages as the file backend; that
  keeps the norm merge's insert-where-not-stored exact (DuckLake has no primary keys).

The extensions load from the pinned wheels (requirements/lake.txt) by absolute path, with
DuckDB's signature checks on; without the wheels, from DuckDB's own extension folder (after
`INSTALL ducklake` on a machine with internet access).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..errors import WarehouseError

NAME = "lake"   # the attached database's name
RAW_DIR = "tracker_lake_raw"   # SQL variable: where the lake's payload segments are
MACHINE = "tracker_machine"    # SQL variable: this machine's name (NULL on a DuckDB file)
# Primary keys and unique constraints: DuckLake has none (it refuses them). Dedupe by key is
# done where rows are written (warehouse/normalise/_merge.sql, store/ledger.py), on both backends.
_INLINE_KEY = re.compile(r"\s+primary key\b", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*primary key\s*\([^)]*\)", re.IGNORECASE)
_EXTENSIONS = {"ducklake": "duckdb_extension_ducklake",
               "sqlite_scanner": "duckdb_extension_sqlite_scanner",
               "postgres_scanner": "duckdb_extension_postgres_scanner"}


@dataclass(frozen=True)
class Lake:
    """Where a lake is: `catalog` as DuckLake takes it after `ducklake:` (`sqlite:/abs/path`
    or `postgres:<libpq connection string>`) and the folder of its Parquet files."""

    catalog: str
    data_path: Path
    # this machine's name: its runs and cursors in the ledger are its own (store/ledger.py)
    machine: str = ""

    @property
    def kind(self) -> str:
        return self.catalog.split(":", 1)[0]

    @property
    def catalog_file(self) -> Path | None:
        """The SQLite catalog's file (None for PostgreSQL)."""
        return Path(self.catalog.split(":", 1)[1]) if self.kind == "sqlite" else None

    @property
    def raw_dir(self) -> Path:
        """The payload segments (store/segments.py): beside the lake's data folder, never in
        it, where DuckLake's maintenance (`ducklake_delete_orphaned_files`) would take them
        for files of its own that no snapshot references, and delete them."""
        return self.data_path.with_name(self.data_path.name + ".raw")

    def describe(self) -> str:
        """For messages: the catalog without anything a connection string may hold."""
        if self.kind == "sqlite":
            return f"lake {self.catalog_file}"
        return f"lake on PostgreSQL ({_safe_postgres(self.catalog)})"

    def exists(self) -> bool:
        f = self.catalog_file
        return f.exists() if f is not None else _postgres_lake_exists(self.catalog)


def _postgres_lake_exists(catalog: str) -> bool:
    """Whether the PostgreSQL database holds a DuckLake catalog; True when that cannot be
    told here (no psycopg, no connection), so that opening the lake says what is wrong."""
    try:
        import psycopg
        with psycopg.connect(catalog.split(":", 1)[1], connect_timeout=10) as pg:
            row = pg.execute("select to_regclass('ducklake_metadata') is not null").fetchone()
    except Exception:
        return True
    return bool(row and row[0])


def _safe_postgres(catalog: str) -> str:
    """dbname and host of a libpq string (never a password)."""
    parts = dict(re.findall(r"(\w+)=(\S+)", catalog.split(":", 1)[1]))
    return " ".join(f"{k}={parts[k]}" for k in ("dbname", "host") if k in parts) or "libpq defaults"


def without_keys(sql: str) -> str:
    """A schema file's SQL without primary keys, for the lake."""
    return _INLINE_KEY.sub("", _TABLE_KEY.sub("", sql))


def _extension_file(name: str) -> Path | None:
    spec = importlib.util.find_spec(_EXTENSIONS[name])
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    return path if path.exists() else None


def load_statements(lake: Lake) -> list[str]:
    """LOAD DuckLake and the catalog's scanner: from the pinned wheels by absolute path, else
    DuckDB's own installed extensions (after `INSTALL ducklake` with internet access)."""
    out = []
    for name in ("ducklake", "sqlite_scanner" if lake.kind == "sqlite" else "postgres_scanner"):
        path = _extension_file(name)
        out.append(f"load {_literal(str(path))}" if path else f"load {name}")
    return out


def attach_statements(lake: Lake, *, read_only: bool,
                      as_of: int | dt.datetime | None = None) -> list[str]:
    """The statements that open the lake in any DuckDB 1.5.5 session (`tracker shell` prints
    them): load the extensions, attach the lake as `lake` (as of an earlier snapshot: its
    number or a time), make it the default database and say where its payload segments are."""
    options = [f"data_path {_literal(str(lake.data_path) + '/')}"]
    if lake.kind == "sqlite":
        # WAL lets readers read while a writer commits; the busy timeout rides out a commit
        options += ["meta_journal_mode 'WAL'", "meta_busy_timeout 10000"]
    if read_only:
        options.append("read_only")
    if isinstance(as_of, int):
        options.append(f"snapshot_version {as_of}")
    elif as_of is not None:
        options.append(f"snapshot_time {_literal(as_of.isoformat())}")
    return [*load_statements(lake),
            f"attach {_literal('ducklake:' + lake.catalog)} as {NAME} ({', '.join(options)})",
            f"use {NAME}",
            f"set variable {RAW_DIR} = {_literal(str(lake.raw_dir))}",
            f"set variable {MACHINE} = {_literal(lake.machine)}"]


def attach(con: duckdb.DuckDBPyConnection, lake: Lake, *, read_only: bool,
           as_of: int | dt.datetime | None = None) -> None:
    """Attach the lake as `lake` and make it the default database."""
    for sql in attach_statements(lake, read_only=read_only, as_of=as_of):
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            if sql.startswith("load"):
                raise WarehouseError(
                    f"{lake.describe()}: cannot load a DuckDB extension for DuckDB "
                    f"{duckdb.__version__} ({first}); install the pinned set with `pip install "
                    "--require-hashes --no-deps -r requirements/lake.txt` (or "
                    "`pip install 'hashtag-tracker[lake]'`), or run `INSTALL ducklake` once "
                    "with internet access (docs/lake.md)") from None
            raise WarehouseError(f"{lake.describe()}: cannot open the lake: {first}") from None


# Snapshots are kept this long by default: longer than any report takes, so a report (or a
# reader) never loses the snapshot it reads, and `tracker report --as-of` reaches back a month
KEEP_SNAPSHOTS = 30 * 86400


@dataclass
class Maintained:
    tables_compacted: int     # tables whose small adjacent files were merged
    snapshots_expired: int
    files_deleted: int        # files only expired snapshots referenced


def maintain(con: duckdb.DuckDBPyConnection, keep_seconds: int = KEEP_SNAPSHOTS) -> Maintained:
    """Compact small files (each commit writes its own), expire snapshots older than
    `keep_seconds`, and delete the files only they referenced. A writer's job: the caller
    holds the writer file. Never `ducklake_delete_orphaned_files`: see `Lake.raw_dir`."""
    merged = con.execute(f"call ducklake_merge_adjacent_files('{NAME}')").fetchall()
    expired = con.execute(
        f"call ducklake_expire_snapshots('{NAME}', older_than => now() - to_seconds(?))",
        [keep_seconds]).fetchall()
    # files of dropped tables (a model whose columns changed is made anew) are scheduled for
    # deletion at once: delete only those scheduled `keep_seconds` ago, so that an old snapshot a
    # report may read again still finds its files
    deleted = con.execute(
        f"call ducklake_cleanup_old_files('{NAME}', older_than => now() - to_seconds(?))",
        [keep_seconds]).fetchall()
    return Maintained(len(merged), len(expired), len(deleted))


def purge_history(con: duckdb.DuckDBPyConnection) -> int:
    """Leave no earlier state of the lake anywhere (after `tracker forget`): every snapshot
    but the current one expired, and every file that held rows since deleted. DuckLake keeps
    deleted rows in their data files (a delete file marks them) and, for small inserts, in
    the catalog (inlined data) for time travel, so in that order: the inlined rows are
    written to files, every file holding a deleted row is rewritten without it, the earlier
    snapshots are expired, and the files they alone referenced are deleted at once (a reader
    still reading an earlier snapshot then fails and reads again). Returns the files
    deleted. `tracker report --as-of` cannot reach back before it."""
    con.execute(f"call ducklake_flush_inlined_data('{NAME}')")
    con.execute(f"call ducklake_rewrite_data_files('{NAME}', delete_threshold => 0)")
    con.execute(f"call ducklake_expire_snapshots('{NAME}', older_than => now())")
    deleted = con.execute(f"call ducklake_cleanup_old_files('{NAME}', cleanup_all => true)"
                          ).fetchall()
    return len(deleted)


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    """The lake snapshot the connection reads (None on a DuckDB file): a report records it, and
    `tracker report --as-of` reads it again."""
    if not is_lake(con):
        return None
    row = con.execute(f"from {NAME}.current_snapshot()").fetchone()
    return int(row[0]) if row else None


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("select type = 'ducklake' from duckdb_databases() "
                      "where database_name = current_database()").fetchone()
    return bool(row and row[0])


def checkpoint_file(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """CHECKPOINT a DuckDB file (`force`: even while other transactions run); on a lake do
    nothing and return False. There CHECKPOINT is not a file checkpoint but DuckLake's whole
    maintenance (flush inlined data, expire snapshots, merge and rewrite files, clean up and
    delete orphaned files), which `tracker maintain` runs on its own terms (`maintain`);
    it also crashed a process once in CI (a segmentation fault inside it, 2026-12-07). A
    lake's commits have written their files, and its row ids do not move when rows are
    deleted, so there is nothing a checkpoint must do."""
    if is_lake(con):
        return False
    con.execute("force checkpoint" if force else "checkpoint")
    return True


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
