"""The raw layer's payloads: append-only segment files beside the database.

Every payload is kept byte-exact in a Parquet file (zstd-compressed, written by DuckDB) in
the folder `<database>.raw/` (for `warehouse/tracker.duckdb`: `warehouse/tracker.duckdb.raw/`).
Each file holds (page_id, payload) for the pages of one stored batch. `raw.page_index` holds
every page's provenance and the segment that holds its payload; the view `raw.pages` joins
the two, so it returns the columns (and the payload text) the table of that name had.

Why: DuckDB rewrites the last row group of a table at each checkpoint, so a payload column
inside the database made each commit cost more as the warehouse grew. A segment is written
once and never changed.

Small batches (a live collection's pages, one lookup answer) would make many small files:
their payloads wait in the small table raw.page_inline (segment 'inline') until they add up
to INLINE_FLUSH_BYTES, then go to one segment in the transaction that passes the mark.

Crash safety: a segment is written under a temporary name, fsynced, renamed and its folder
fsynced *before* the transaction that adds its pages to raw.page_index commits. A crash
leaves at most a file that no index row references; the next writer to open the warehouse
removes it (`remove_orphans`). Removing pages (forget, purge) rewrites the segments that held
them without them (`rewrite`), and the old files, no longer referenced, are removed after the
commit.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import duckdb

from ..errors import WarehouseError
from .db import has_table, scalar

EMPTY = "empty.parquet"     # always present, so the view's glob matches a file
INLINE = "inline"           # raw.page_index.segment of a payload held in raw.page_inline
# Small batches (live collection) are kept in raw.page_inline until they add up to this
INLINE_FLUSH_BYTES = 8 * 1024 * 1024
SUFFIX = ".parquet"
VARIABLE = "tracker_raw_glob"
_COPY_OPTIONS = "(format parquet, compression zstd, row_group_size 20000)"
_memory_dirs: dict[str, Path] = {}



def database_path(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select path from duckdb_databases() "
                      "where database_name = current_database()").fetchone()
    return str(row[0]) if row and row[0] else ""


def raw_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The segment folder of the warehouse open on `con` (a temporary one in memory; a
    lake's beside its Parquet data, store/lake.py)."""
    from .lake import RAW_DIR
    lake_raw = con.execute(f"select getvariable('{RAW_DIR}')").fetchone()
    if lake_raw and lake_raw[0]:
        return Path(lake_raw[0])
    path = database_path(con)
    if not path or path == ":memory:":
        key = str(id(con))
        if key not in _memory_dirs:
            _memory_dirs[key] = Path(tempfile.mkdtemp(prefix="tracker-raw-"))
        return _memory_dirs[key]
    return Path(os.path.abspath(path + ".raw"))


def index_table(con: duckdb.DuckDBPyConnection) -> str:
    """raw.page_index, or raw.pages in a warehouse not migrated to schema 5 (read-only)."""
    return "raw.page_index" if has_table(con, "raw.page_index") else "raw.pages"


def glob(con: duckdb.DuckDBPyConnection) -> str:
    return str(raw_dir(con) / f"*{SUFFIX}")


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prepare(con: duckdb.DuckDBPyConnection, *, writer: bool) -> None:
    """Per connection: where the segments are (a SQL variable the view reads). A writer
    also creates the folder and its empty segment."""
    folder = raw_dir(con)
    if writer:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / EMPTY).exists():
            _copy(con, "select ''::varchar as page_id, '{}'::json as payload limit 0",
                  folder / EMPTY)
    con.execute(f"set variable {VARIABLE} = {sql_literal(glob(con))}")


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path,
          params: list[object] | None = None) -> None:
    """COPY a query to `target` durably: temporary name, fsync, rename, fsync the folder."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        con.execute(f"copy ({select}) to {sql_literal(str(tmp))} {_COPY_OPTIONS}", params)
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_name() -> str:
    return f"seg-{uuid.uuid4().hex}{SUFFIX}"


def write(con: duckdb.DuckDBPyConnection, select: str,
          params: list[object] | None = None) -> str:
    """Write the rows of `select` (columns page_id, payload) to a new segment, durably;
    returns its name (the value of raw.page_index.segment)."""
    name = new_name()
    _copy(con, f"select page_id, payload::json as payload from ({select})",
          raw_dir(con) / name, params)
    return name


def path_of(con: duckdb.DuckDBPyConnection, segment: str) -> Path:
    if "/" in segment or segment.startswith("."):
        raise WarehouseError(f"bad segment name in raw.page_index: {segment!r}")
    return raw_dir(con) / segment


def scan(con: duckdb.DuckDBPyConnection, segment: str) -> str:
    """SQL for reading one segment (page_id, payload, file_row_number)."""
    return (f"read_parquet({sql_literal(str(path_of(con, segment)))}, "
            "file_row_number = true)")


def read(con: duckdb.DuckDBPyConnection, page_id: str) -> str | None:
    """The payload of one page exactly as stored, or None if there is no such page."""
    row = con.execute("select segment from raw.page_index where page_id = ?",
                      [page_id]).fetchone()
    if row is None:
        return None
    source = "raw.page_inline" if row[0] == INLINE else scan(con, row[0])
    got = con.execute(f"select payload::varchar from {source} where page_id = ?",
                      [page_id]).fetchone()
    if got is None:
        raise WarehouseError(f"page {page_id}: its segment {row[0]} does not hold it")
    return str(got[0])


def rewrite(con: duckdb.DuckDBPyConnection, segments: list[str]) -> int:
    """Rewrite each of `segments` keeping only the pages raw.page_index still assigns to it
    (a page removed or moved to another segment leaves it). Runs in the caller's
    transaction; the old files become unreferenced (`remove_orphans` after the commit).
    Returns the number of segments rewritten."""
    done = 0
    for seg in sorted(set(segments)):
        if seg == INLINE:
            con.execute("delete from raw.page_inline n where not exists (select 1 from "
                        "raw.page_index i where i.page_id = n.page_id and i.segment = ?)",
                        [INLINE])
            continue
        if not path_of(con, seg).exists():
            continue
        kept = con.execute("select count(*) from raw.page_index where segment = ?",
                           [seg]).fetchone()
        if kept and kept[0]:
            name = write(con, f"""
                select s.page_id, s.payload from {scan(con, seg)} s
                semi join raw.page_index i on i.page_id = s.page_id and i.segment = $seg
                order by s.file_row_number""".replace("$seg", sql_literal(seg)))
            con.execute("update raw.page_index set segment = ? where segment = ?", [name, seg])
        done += 1
    return done


def store_inline(con: duckdb.DuckDBPyConnection, select: str) -> None:
    """Keep the payloads of `select` (page_id, payload) in raw.page_inline; when it then
    holds INLINE_FLUSH_BYTES or more, move them all to a segment (`flush_inline`)."""
    con.execute(f"insert into raw.page_inline select page_id, payload::json, "
                f"strlen(payload::varchar) from ({select})")
    if scalar(con, "select coalesce(sum(bytes), 0) from raw.page_inline") >= INLINE_FLUSH_BYTES:
        flush_inline(con)


def flush_inline(con: duckdb.DuckDBPyConnection) -> str | None:
    """Move every payload of raw.page_inline to a new segment (in the caller's transaction);
    returns its name, or None when there were none."""
    if not scalar(con, "select count(*) from raw.page_inline"):
        return None
    name = write(con, "select n.page_id, n.payload from raw.page_inline n "
                      "join raw.page_index i on i.page_id = n.page_id and i.segment = 'inline' "
                      "order by i.rowid")
    con.execute("update raw.page_index set segment = ? where segment = ?", [name, INLINE])
    con.execute("delete from raw.page_inline")
    return name


def remove_orphans(con: duckdb.DuckDBPyConnection) -> int:
    """Delete segment files no committed raw.page_index row references (left by a crash
    before a commit, or replaced by `rewrite`). Only with no transaction of this connection
    open; returns the number of files removed."""
    folder = raw_dir(con)
    if not folder.is_dir():
        return 0
    used = {r[0] for r in con.execute("select distinct segment from raw.page_index").fetchall()}
    removed = 0
    for f in folder.iterdir():
        if f.name == EMPTY or f.name in used:
            continue
        if f.name.endswith((SUFFIX, ".tmp")):
            f.unlink(missing_ok=True)
            removed += 1
    if removed:
        fsync_dir(folder)
    return removed


def view_sql(con: duckdb.DuckDBPyConnection) -> str:
    """raw.pages: every index row with its payload, read from its segment."""
    return f"""
create or replace view raw.pages as
select i.page_id, i.format, i.platform, i.source, i.campaign, i.request, i.retrieved_at,
       i.client, i.load_id, i.batch_id, i.synthetic, s.payload, i.redacted_by, i.redacted_at,
       i.redaction
from raw.page_index i
join read_parquet(coalesce(getvariable('{VARIABLE}'), {sql_literal(glob(con))}),
                  filename = true) s
  on s.page_id = i.page_id and parse_filename(s.filename) = i.segment
union all
select i.page_id, i.format, i.platform, i.source, i.campaign, i.request, i.retrieved_at,
       i.client, i.load_id, i.batch_id, i.synthetic, n.payload, i.redacted_by, i.redacted_at,
       i.redaction
from raw.page_index i join raw.page_inline n on n.page_id = i.page_id
where i.segment = 'inline'"""
