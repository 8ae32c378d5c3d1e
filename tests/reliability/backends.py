"""The daemon tests' helpers (tests/test_daemon.py) on either warehouse backend.

tests/test_daemon.py writes its config with `[warehouse] path = "wh/tracker.duckdb"` and opens
that file; these do the same through the config, so the reliability suite runs on the DuckDB
file and on a DuckLake (catalog wh/tracker.sqlite, data wh/tracker.lake/, this machine's
writer file wh/tracker-writer.duckdb: tests/conftest.py `warehouse_toml`).
"""

from __future__ import annotations

import os
from pathlib import Path

from tracker import config as tracker_config
from tracker.pipeline import collect

from .. import test_daemon
from ..conftest import counts, open_warehouse, warehouse_toml

FILE_WAREHOUSE = '[warehouse]\npath = "wh/tracker.duckdb"\n'


def write(tmp: Path, backend: str = "duckdb", **kw) -> Path:
    """test_daemon.write's config, with the [warehouse] of `backend`."""
    path = test_daemon.write(tmp, **kw)
    text = path.read_text(encoding="utf-8")
    assert FILE_WAREHOUSE in text, "tests/test_daemon.py's CONFIG changed its [warehouse]"
    path.write_text(text.replace(FILE_WAREHOUSE, warehouse_toml(backend)), encoding="utf-8")
    return path


def load_config(path: Path) -> tracker_config.Config:
    """The daemon tests' config, read as their daemon reads it (its 1 s schedule)."""
    before = os.environ.get("TRACKER_MIN_INTERVAL")
    os.environ["TRACKER_MIN_INTERVAL"] = "1"
    try:
        return tracker_config.load_config(path)
    finally:
        if before is None:
            del os.environ["TRACKER_MIN_INTERVAL"]
        else:
            os.environ["TRACKER_MIN_INTERVAL"] = before


def query(config: Path, sql: str, params: list | None = None) -> list[tuple]:
    """A read-only query of the config's warehouse ([] before it exists)."""
    cfg = load_config(config)
    if not cfg.warehouse_exists():
        return []
    con = open_warehouse(cfg, read_only=True, wait=30)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def cursors(config: Path) -> dict[str, int]:
    rows = query(config, "select source, cursor->>'next_index' from ledger.cursors")
    return {s: int(n) for s, n in rows}


def spooled(config: Path) -> int:
    return len(list(load_config(config).spool.glob("*.jsonl")))


def done(config: Path, x_posts: int = 200) -> bool:
    return (cursors(config) == {"simulated-x": x_posts, "simulated-bluesky": 100}
            and spooled(config) == 0)


def _figures(con) -> tuple[dict, set, set]:
    return (counts(con), set(con.execute("select page_id from raw.pages").fetchall()),
            set(con.execute("select platform, post_id from norm.posts").fetchall()))


def reference(tmp: Path, x_posts: int = 200, x_per_run: int = 40, batch_pages: int = 1,
              backend: str = "duckdb") -> tuple[dict, set, set]:
    """test_daemon.reference on `backend`: an uninterrupted sequence of runs, in-process."""
    ref = tmp / "ref"
    ref.mkdir()
    cfg = load_config(write(ref, backend, x_posts=x_posts, x_per_run=x_per_run,
                            interval="10s"))
    con = open_warehouse(cfg)
    try:
        while sum(r.posts_new for r in collect(con, cfg, batch_pages=batch_pages)):
            pass
        return _figures(con)
    finally:
        con.close()


def snapshot(config: Path) -> tuple[dict, set, set]:
    con = open_warehouse(load_config(config), read_only=True, wait=30)
    try:
        return _figures(con)
    finally:
        con.close()


# Columns that hold where a row sits in a norm table (its rowid), not a figure: they follow
# the order the loads stored posts in, which kills and restarts change (sources interleave
# differently), on either backend.
POSITIONS = ("norm_row",)


def marts(config: Path) -> dict[str, tuple]:
    """Per table of core and marts: (rows, md5 of its sorted rows without POSITIONS),
    read-only."""
    con = open_warehouse(load_config(config), read_only=True, wait=30)
    try:
        columns: dict[str, set[str]] = {}
        for s, t, c in con.execute(
                "select c.table_schema, c.table_name, c.column_name "
                "from information_schema.columns c join information_schema.tables t "
                "using (table_catalog, table_schema, table_name) "
                "where c.table_catalog = current_database() "
                "and c.table_schema in ('core', 'marts') and t.table_type = 'BASE TABLE'"
        ).fetchall():
            columns.setdefault(f"{s}.{t}", set()).add(c)
        figures = {}
        for table in sorted(columns):
            left_out = [c for c in POSITIONS if c in columns[table]]
            rows = f"(select * exclude ({', '.join(left_out)}) from {table})" if left_out \
                else table
            figures[table] = con.execute(
                f"select count(*), md5(coalesce(string_agg(t::varchar, '|' "
                f"order by t::varchar), '')) from {rows} t").fetchone()
        return figures
    finally:
        con.close()


def on_backend(config_text: str, backend: str) -> str:
    """A test config's text (its `[warehouse] path = "wh/tracker.duckdb"`) on `backend`."""
    assert FILE_WAREHOUSE in config_text, "the config's [warehouse] is not the expected one"
    return config_text.replace(FILE_WAREHOUSE, warehouse_toml(backend))
