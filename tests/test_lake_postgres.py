"""A lake whose catalog is in PostgreSQL (docs/lake.md): the pipeline on simulated posts and
the real recorded twarc2 archives, the build (every mart equal to the DuckDB file's), `tracker
sql`, `status` and `report`, the password never written or printed anywhere, and one clear line
when the server refuses or is not there.

The server is the local one of scripts/test-postgres (`make test` runs it); the connection
comes from libpq's environment (tests/postgres.env, tests/conftest.py): the catalog strings
hold only a database name. No test here is skipped without the server: the fixture fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.store.db import connect

from .conftest import pg_warehouse_toml, postgres_database, warehouse_toml, write_config
from .test_lake import CONFIG, TWARC_FILES

# test_lake's campaigns (simulated posts and the real twarc2 archives), without its warehouse
CAMPAIGNS = CONFIG.replace('[warehouse]\npath = "warehouse/tracker.duckdb"\n', "")
assert CAMPAIGNS != CONFIG


def password() -> str:
    return os.environ["PGPASSWORD"]


def tracker(cfg: Path, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """The `tracker` command in its own process (its real stdout and stderr)."""
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg), *args],
                            capture_output=True, text=True, timeout=240,
                            env=env if env is not None else dict(os.environ))
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def in_process(cfg: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exit_code == 0, result.output
    return result.output


def tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [f"{schema}.{t}" for (t,) in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? order by all", [schema]).fetchall()]


def contents(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


QUERY = "select campaign, posts from marts.campaign_summary order by campaign"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The same collection, import and build into a DuckDB file (in process) and into a lake
    on a PostgreSQL catalog (the `tracker` command, each one's output kept by name), then
    `tracker sql`, `status` and `report` on the lake."""
    base = tmp_path_factory.mktemp("pglake")
    (base / "file").mkdir()
    file_cfg = write_config(base / "file", warehouse_toml("duckdb") + CAMPAIGNS)
    in_process(file_cfg, "collect")
    in_process(file_cfg, "import", "--campaign", "fixtures", *map(str, TWARC_FILES))
    in_process(file_cfg, "build")
    with postgres_database() as dbname:
        (base / "pg").mkdir()
        pg_cfg = write_config(base / "pg", pg_warehouse_toml(dbname) + CAMPAIGNS)
        outputs = {
            "collect": tracker(pg_cfg, "collect"),
            "import": tracker(pg_cfg, "import", "--campaign", "fixtures",
                              *map(str, TWARC_FILES)),
            "build": tracker(pg_cfg, "build"),
            "sql": tracker(pg_cfg, "sql", "--format", "csv", QUERY),
            "status": tracker(pg_cfg, "status"),
            "report": tracker(pg_cfg, "report", "--campaign", "aleppo", "--no-images"),
            "shell": tracker(pg_cfg, "shell", "--print-sql"),
        }
        yield base, load_config(file_cfg), load_config(pg_cfg), dbname, outputs


def test_the_catalog_is_in_postgresql_and_holds_no_credentials(built):
    _, _, pg, dbname, _ = built
    assert pg.lake is not None and pg.lake.catalog == f"postgres:dbname={dbname}"
    import psycopg
    with psycopg.connect(dbname=dbname) as con:
        names = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'public'")}
        assert {"ducklake_snapshot", "ducklake_table", "ducklake_metadata"} <= names
        snapshots = con.execute("select count(*) from ducklake_snapshot").fetchone()
        assert snapshots is not None and snapshots[0] > 3
        metadata = con.execute("select key, value from ducklake_metadata").fetchall()
    assert dict(metadata)["data_path"].startswith(str(pg.lake.data_path))
    assert not any(password() in str(v) for row in metadata for v in row)


def test_pipeline_and_build_on_postgres_catalog_equal_the_duckdb_file(built):
    _, file_cfg, pg, _, _ = built
    src = connect(file_cfg.warehouse, read_only=True)
    dst = connect(pg.warehouse, lake=pg.lake, read_only=True)
    try:
        posts = dst.execute("select count(*) from norm.posts").fetchone()
        assert posts is not None and posts[0] > 500   # the archives and the simulated posts
        for schema in ("norm", "marts"):
            stored = tables(src, schema)
            assert len(stored) > 5 and tables(dst, schema) == stored
            for table in stored:
                assert contents(dst, table) == contents(src, table), table
        assert len(tables(src, "marts")) > 20
    finally:
        src.close()
        dst.close()


def test_sql_status_and_report_on_postgres_catalog(built):
    base, file_cfg, _, dbname, outputs = built
    assert outputs["sql"].stdout == in_process(file_cfg.path, "sql", "--format", "csv", QUERY)
    assert "aleppo" in outputs["sql"].stdout
    status = outputs["status"].stdout
    assert f"warehouse: lake on PostgreSQL (dbname={dbname})" in status
    assert "simulated-x" in status and "simulated-bluesky" in status
    summary = json.loads((base / "pg" / "out" / "aleppo" / "summary.json").read_text())
    assert isinstance(summary["snapshot"], int) and summary["snapshot"] > 0
    assert (base / "pg" / "out" / "aleppo" / "index.html").stat().st_size > 10_000
    assert f"'ducklake:postgres:dbname={dbname}'" in outputs["shell"].stdout


def test_the_password_is_nowhere(built):
    """Not in any file the commands wrote (writer file, lake data, payloads, reports, logs),
    nor in what they printed; the connection strings hold only the database's name."""
    base, _, pg, _, outputs = built
    secret = password().encode()
    for name, result in outputs.items():
        assert password() not in result.stdout + result.stderr, name
    files = [p for p in base.rglob("*") if p.is_file()]
    assert len(files) > 20 and any(p.suffix == ".parquet" for p in files)
    for path in files:
        assert secret not in path.read_bytes(), path
    assert password() not in pg.lake.catalog and password() not in pg.lake.describe()


@pytest.mark.parametrize("change", [{"PGPASSWORD": "not-the-password"}, {"PGPORT": "1"}],
                         ids=["wrong-password", "no-server"])
@pytest.mark.parametrize("command", [["status"], ["sql", "select 1"], ["collect"]])
def test_a_refused_or_missing_server_is_one_error_line(built, change, command):
    _, _, pg, dbname, _ = built
    result = tracker(pg.path, *command, env={**os.environ, **change}, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert f"dbname={dbname}" in lines[0]
    assert ("password authentication failed" if "PGPASSWORD" in change
            else "Connection refused") in lines[0]
    for secret in (password(), "not-the-password"):
        assert secret not in result.stdout + result.stderr


def test_a_fresh_lake_per_test_on_its_own_database(pg_lake, pg_database, tmp_path):
    from tracker.store.normalise import prepare
    assert pg_lake.catalog == f"postgres:dbname={pg_database}"
    con = connect(tmp_path / "w-writer.duckdb", lake=pg_lake)
    try:
        prepare(con, [])
        assert con.execute("select count(*) from norm.posts").fetchone() == (0,)
    finally:
        con.close()


def test_without_the_server_the_fixture_fails_in_one_line_naming_the_script(monkeypatch):
    from . import conftest
    monkeypatch.setenv("PGPORT", "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        with conftest.postgres_database():
            pass
    message = str(failed.value)
    assert len(message.splitlines()) == 1 and "scripts/test-postgres" in message, message
    assert password() not in message


def test_a_postgres_database_without_a_lake_is_a_warehouse_not_found(tmp_path, pg_database):
    cfg = write_config(tmp_path, pg_warehouse_toml(pg_database) + CAMPAIGNS)
    result = CliRunner().invoke(cli, ["--config", str(cfg), "sql", "select 1"])
    assert result.exit_code == 1
    assert result.output == (f"Error: lake on PostgreSQL (dbname={pg_database}): warehouse "
                             "not found (run `tracker collect`, `tracker import` or `tracker "
                             "demo` first)\n")
