"""The DuckLake backend's own commands and settings: `tracker migrate --to ducklake`,
`tracker shell`, the [warehouse] keys, and what a user sees when the lake cannot open.

(The pipeline, build, report and SQL tests run on both backends through conftest.BACKENDS.)
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import ConfigError, WarehouseError
from tracker.store import lake as lakes
from tracker.store.db import connect

from .conftest import FIXTURES, write_config

CONFIG = """
[warehouse]
path = "warehouse/tracker.duckdb"
[reports]
dir = "out"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
timezone = "Asia/Damascus"
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = 400
[[campaigns.sources]]
type = "simulated"
platform = "bluesky"
posts = 100
[[campaigns]]
name = "fixtures"
hashtags = ["unused_tag_x"]
"""
TWARC_FILES = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
LAKE_LINES = ('[warehouse]\nbackend = "ducklake"\ncatalog = "sqlite:warehouse/lake.sqlite"\n'
              'data_path = "warehouse/lake"')


def config_in(folder: Path, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    return write_config(folder, body)


def tracker(cfg: Path, *args: str):
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exit_code == 0, result.output
    return result


def tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    return [f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = "
        "current_database() and list_contains(?, schema_name) order by all",
        [list(schemas)]).fetchall()]


def contents(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A file warehouse (real twarc2 archives and simulated posts, built), then migrated."""
    base = tmp_path_factory.mktemp("migrate")
    cfg_path = write_config(base, CONFIG)
    tracker(cfg_path, "collect")
    tracker(cfg_path, "import", "--campaign", "fixtures", *map(str, TWARC_FILES))
    tracker(cfg_path, "build")
    result = tracker(cfg_path, "migrate", "--to", "ducklake")
    return base, cfg_path, result.output


def test_migrate_copies_every_stored_row_and_payload_and_builds_identical_marts(migrated):
    base, cfg_path, output = migrated
    assert output.endswith("To use it, set in tracker.toml:\n\n" + LAKE_LINES + "\n")
    file_cfg = load_config(cfg_path)
    lake_cfg = load_config(config_in(base / "lakecfg", CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"',
        LAKE_LINES.replace("warehouse/", "../warehouse/"))))
    assert lake_cfg.lake is not None and file_cfg.lake is None
    src = connect(file_cfg.warehouse, read_only=True)
    dst = connect(lake_cfg.warehouse, lake=lake_cfg.lake, read_only=True)
    try:
        stored = tables(src, ("raw", "norm", "ledger"))
        assert tables(dst, ("raw", "norm", "ledger")) == stored
        posts = src.execute("select count(*) from norm.posts").fetchone()[0]
        assert posts > 500   # the archives and the simulated posts are both there
        for table in stored:
            if table == "ledger.builds":   # the lake's own full build adds one
                built = contents(dst, table)
                assert len(built) == len(contents(src, table)) + 1
                assert set(contents(src, table)) < set(built)
                continue
            assert contents(dst, table) == contents(src, table), table
        # the payloads, byte for byte, read through the lake's raw.pages view
        sql = "select page_id, payload::varchar from raw.pages order by page_id"
        assert dst.execute(sql).fetchall() == src.execute(sql).fetchall()
        marts = tables(src, ("marts",))
        assert len(marts) > 20 and tables(dst, ("marts",)) == marts
        for table in marts:
            assert contents(dst, table) == contents(src, table), table
    finally:
        src.close()
        dst.close()


def test_migrate_refuses_a_lake_that_holds_data_and_a_config_already_on_a_lake(migrated):
    base, cfg_path, _ = migrated
    result = CliRunner().invoke(cli, ["--config", str(cfg_path), "migrate", "--to", "ducklake"])
    assert result.exit_code == 1
    assert result.output == (f"Error: lake {base / 'warehouse' / 'lake.sqlite'}: already holds "
                             "data; migrate into a new catalog and data_path\n")
    lake_cfg = config_in(base / "lakecfg2", CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"', LAKE_LINES))
    result = CliRunner().invoke(cli, ["--config", str(lake_cfg), "migrate", "--to", "ducklake"])
    assert result.exit_code == 1
    assert result.output == (f"Error: tracker.toml: the warehouse is already a lake (lake "
                             f"{base / 'lakecfg2' / 'warehouse' / 'lake.sqlite'})\n")


def test_shell_opens_the_lake_read_only_in_the_duckdb_shell(migrated):
    base, _, _ = migrated
    cfg_path = config_in(base / "shellcfg", CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"',
        LAKE_LINES.replace("warehouse/", "../warehouse/")))
    cfg = load_config(cfg_path)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    want = con.execute("select count(*) from norm.posts").fetchone()[0]
    pages = con.execute("select count(*) from raw.pages").fetchone()[0]
    con.close()
    tracker_exe = Path(sys.executable).parent / "tracker"
    done = subprocess.run(
        [str(tracker_exe), "--config", str(cfg_path), "shell"], capture_output=True, text=True,
        input="select count(*) from norm.posts; select count(*) from raw.pages;\n"
              "insert into ledger.gaps (run_id, reason) values ('x', 'y');\n", timeout=120)
    out = done.stdout + done.stderr
    assert re.search(rf"│\s+{want}\s+│", out), out
    assert re.search(rf"│\s+{pages}\s+│", out), out
    assert "read-only mode" in out   # the insert was refused
    printed = tracker(cfg_path, "shell", "--print-sql").output
    session = duckdb.connect()
    for statement in filter(None, printed.split(";\n")):
        session.execute(statement)
    assert session.execute("select count(*) from norm.posts").fetchone()[0] == want
    session.close()


@pytest.mark.parametrize("body,message", [
    ('backend = "lake"', "warehouse.backend: expected 'duckdb' or 'ducklake', got 'lake'"),
    ('catalog = "sqlite:x.sqlite"', "warehouse.catalog: only for backend = 'ducklake'"),
    ('backend = "ducklake"\ncatalog = "mysql:db"',
     "warehouse.catalog: expected 'sqlite:PATH' or 'postgres:CONNECTION STRING' "
     "(e.g. 'postgres:dbname=tracker host=db'), got 'mysql:db'"),
    ('backend = "ducklake"\ncatalog = "postgres:dbname=t password=secret"',
     "warehouse.catalog: no password in the config: use PGPASSWORD, ~/.pgpass or a service "
     "file (docs/lake.md)"),
    ('machine = "a"', "warehouse.machine: only for backend = 'ducklake'"),
    ('backend = "ducklake"\nmachine = "two words"',
     "warehouse.machine: expected 1 to 64 letters, digits, '.', '_' or '-', got 'two words'"),
])
def test_wrong_warehouse_settings_are_one_line_errors(tmp_path, body, message):
    path = write_config(tmp_path, f"[warehouse]\n{body}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"tracker.toml: {message}"
    assert "secret" not in str(err.value)


def test_defaults_of_a_lake_are_beside_the_config(tmp_path):
    cfg = load_config(write_config(tmp_path, '[warehouse]\nbackend = "ducklake"\n'))
    assert cfg.lake == lakes.Lake(catalog=f"sqlite:{tmp_path / 'warehouse' / 'lake.sqlite'}",
                                  data_path=tmp_path / "warehouse" / "lake",
                                  machine=socket.gethostname())
    assert cfg.warehouse == tmp_path / "warehouse" / "lake-writer.duckdb"
    assert cfg.spool == tmp_path / "warehouse" / "spool"


def test_a_reader_of_a_missing_lake_and_a_missing_extension_get_one_line(tmp_path, monkeypatch):
    lake = lakes.Lake(catalog=f"sqlite:{tmp_path / 'none.sqlite'}", data_path=tmp_path / "d")
    with pytest.raises(WarehouseError) as err:
        connect(tmp_path / "w.duckdb", lake=lake, read_only=True)
    assert str(err.value) == (f"lake {tmp_path / 'none.sqlite'}: warehouse not found (run "
                              "`tracker collect`, `tracker import` or `tracker demo` first)")
    monkeypatch.setattr(lakes, "_extension_file", lambda name: tmp_path / f"{name}.ext")
    with pytest.raises(WarehouseError) as err:
        connect(tmp_path / "w.duckdb", lake=lake)
    text = str(err.value)
    assert text.startswith(f"lake {tmp_path / 'none.sqlite'}: cannot load a DuckDB extension "
                           f"for DuckDB {duckdb.__version__} (")
    assert text.endswith("install the pinned set with `pip install --require-hashes "
                         "--no-deps -r requirements/lake.txt` (or `pip install "
                         "'hashtag-tracker[lake]'`), or run `INSTALL ducklake` once with "
                         "internet access (docs/lake.md)")
    assert "\n" not in text


def test_a_reader_holding_the_lake_open_never_holds_up_a_writer(tmp_path):
    """A notebook keeps a read-only connection open all afternoon: collection goes on, and
    the notebook's next query sees what was committed meanwhile."""
    cfg_path = write_config(tmp_path, CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"', LAKE_LINES))
    tracker(cfg_path, "collect", "--campaign", "aleppo", "--source", "simulated-bluesky")
    cfg = load_config(cfg_path)
    reader = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    try:
        before = reader.execute("select count(*) from norm.posts").fetchone()[0]
        assert before == 100
        result = CliRunner().invoke(cli, ["--config", str(cfg_path), "collect", "--campaign",
                                          "aleppo", "--source", "simulated-x"])
        assert result.exit_code == 0 and "waiting" not in result.output, result.output
        assert reader.execute("select count(*) from norm.posts").fetchone()[0] == 500
    finally:
        reader.close()


def test_report_as_of_an_earlier_snapshot_is_the_earlier_report(tmp_path):
    import json
    cfg_path = write_config(tmp_path, CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"', LAKE_LINES))
    tracker(cfg_path, "collect", "--campaign", "aleppo", "--source", "simulated-bluesky")
    report = ("report", "--campaign", "aleppo", "--no-images", "--out")
    tracker(cfg_path, *report, str(tmp_path / "first"))
    first = tmp_path / "first" / "aleppo"
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    snapshot = summary["snapshot"]
    assert isinstance(snapshot, int) and summary["figures"]["posts"] == 100
    tracker(cfg_path, "collect", "--campaign", "aleppo", "--source", "simulated-x")
    tracker(cfg_path, *report, str(tmp_path / "later"))
    later = json.loads((tmp_path / "later" / "aleppo" / "summary.json").read_text("utf-8"))
    assert later["figures"]["posts"] == 500 and later["snapshot"] > snapshot
    # maintenance keeps what a snapshot younger than --keep reads (the files of models that
    # the later build replaced included)
    tracker(cfg_path, "maintain", "--keep", "1d")
    tracker(cfg_path, *report, str(tmp_path / "again"), "--as-of", str(snapshot))
    again = tmp_path / "again" / "aleppo"
    redone = json.loads((again / "summary.json").read_text(encoding="utf-8"))
    for key in ("figures", "snapshot", "data_as_of", "coverage_gaps", "bucket"):
        assert redone[key] == summary[key], key
    csvs = sorted(p.name for p in first.glob("*.csv"))
    assert len(csvs) > 5 and sorted(p.name for p in again.glob("*.csv")) == csvs
    for name in csvs:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    # the lake was only read: nothing was built or written for the earlier report (the
    # maintenance's compaction is the one commit since)
    cfg = load_config(cfg_path)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    assert lakes.current_snapshot(con) <= later["snapshot"] + 1
    con.close()


def test_report_as_of_on_a_file_or_with_a_bad_value_is_one_line(tmp_path):
    cfg_path = write_config(tmp_path, CONFIG)
    result = CliRunner().invoke(cli, ["--config", str(cfg_path), "report", "--as-of", "3"])
    assert result.exit_code == 1
    assert result.output == ('Error: --as-of needs a lake ([warehouse] backend = "ducklake", '
                             "docs/lake.md)\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg_path), "report", "--as-of", "soon"])
    assert result.output == ("Error: --as-of: expected a snapshot number or an ISO 8601 time, "
                             "got 'soon'\n")


def test_maintenance_compacts_and_expires_without_changing_a_figure_or_a_payload(tmp_path):
    cfg_path = write_config(tmp_path, CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"', LAKE_LINES).replace(
        "posts = 400", "posts = 400\nper_run = 100"))
    for _ in range(4):
        tracker(cfg_path, "collect", "--campaign", "aleppo")
    tracker(cfg_path, "build")
    cfg = load_config(cfg_path)
    assert cfg.lake is not None

    def state():
        con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
        try:
            return {t: contents(con, t) for t in tables(con, ("raw", "norm", "marts"))} | {
                "payloads": con.execute("select page_id, payload::varchar from raw.pages "
                                        "order by 1").fetchall()}
        finally:
            con.close()

    def files():
        return sorted(cfg.lake.data_path.rglob("*.parquet"))

    before, files_before = state(), files()
    raw_files = sorted(cfg.lake.raw_dir.iterdir())
    result = tracker(cfg_path, "maintain", "--keep", "1d")   # nothing is a day old
    assert re.fullmatch(r"Compacted \d+ tables, expired 0 snapshots, deleted 0 files\.\n",
                        result.output), result.output
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        done = lakes.maintain(con, keep_seconds=0)   # every snapshot but the newest
        snapshots = con.execute("select count(*) from ducklake_snapshots('lake')").fetchone()
    finally:
        con.close()
    assert done.snapshots_expired > 4 and done.files_deleted > 0 and snapshots == (1,)
    assert len(files()) < len(files_before)
    assert state() == before
    assert sorted(cfg.lake.raw_dir.iterdir()) == raw_files   # the payload files untouched


def test_maintain_on_a_file_is_one_line(tmp_path):
    cfg_path = write_config(tmp_path, CONFIG)
    result = CliRunner().invoke(cli, ["--config", str(cfg_path), "maintain"])
    assert result.exit_code == 1
    assert result.output == ('Error: tracker maintain is for a lake ([warehouse] backend = '
                             '"ducklake", docs/lake.md); a DuckDB file needs none\n')


def test_daemon_maintenance_settings(tmp_path):
    from tracker.config import Schedule
    cfg = load_config(write_config(tmp_path, '[warehouse]\nbackend = "ducklake"\n[daemon]\n'
                                             'maintain = { interval = "6h" }\n'
                                             'keep_snapshots = "7d"\n'))
    assert cfg.daemon.maintain == Schedule(interval_seconds=6 * 3600)
    assert cfg.daemon.keep_snapshots == 7 * 86400
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, '[daemon]\nkeep_snapshots = "10m"\n'))
    assert str(err.value) == ("tracker.toml: daemon.keep_snapshots: expected a duration such "
                              "as '30s' or '5m' (at least 3600s), got '10m'")


def test_builds_keep_the_lake_catalog_from_growing_and_give_the_full_build_figures(tmp_path):
    """Each build used to replace its full-build tables, views and config tables, and DuckLake
    kept every replaced table, its columns and a schema version in the catalog until the
    snapshots expired (30 days): a daemon's build slowed with each one. Builds now empty and
    refill the tables they keep, so collecting and building again adds no table, view or
    schema version, and the figures are those of a full build."""
    cfg_path = write_config(tmp_path, CONFIG.replace(
        '[warehouse]\npath = "warehouse/tracker.duckdb"', LAKE_LINES).replace(
        "posts = 400", "posts = 400\nper_run = 100"))
    cfg = load_config(cfg_path)
    assert cfg.lake is not None
    meta = "__ducklake_metadata_lake"

    def catalog():
        con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
        try:
            return {t: con.execute(f"select count(*) from {meta}.{t}").fetchone()[0]
                    for t in ("ducklake_table", "ducklake_view", "ducklake_schema_versions")}
        finally:
            con.close()

    def marts():
        con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
        try:
            return {t: contents(con, t) for t in tables(con, ("core", "marts"))
                    if t != "core.build_state"}
        finally:
            con.close()

    tracker(cfg_path, "collect", "--campaign", "aleppo")
    tracker(cfg_path, "build")
    tracker(cfg_path, "collect", "--campaign", "aleppo")
    tracker(cfg_path, "build")
    first = catalog()
    for _ in range(2):
        tracker(cfg_path, "collect", "--campaign", "aleppo")
        tracker(cfg_path, "build")
    assert catalog() == first
    built = marts()
    tracker(cfg_path, "build", "--full")
    assert marts() == built
