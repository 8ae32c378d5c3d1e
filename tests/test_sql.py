"""`tracker sql`: read-only, one statement, output as table, CSV, JSON, JSONL or Parquet."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.sqlquery import check_read_only, run_query

from .conftest import BACKENDS, open_warehouse, warehouse_args, warehouse_toml

QUERY = "select campaign, day, sum(posts) as posts from marts.volume_daily group by all"


@pytest.fixture(scope="module", params=BACKENDS)
def db(request, tmp_path_factory):
    """The built warehouse's config: a DuckDB file, or a lake (its catalog, data and writer
    file beside the config)."""
    from tracker.config import load_config
    from tracker.models import build
    from tracker.pipeline import collect

    base = tmp_path_factory.mktemp("sql")
    path = base / "tracker.toml"
    path.write_text(warehouse_toml(request.param, "wh.duckdb") + CAMPAIGN, encoding="utf-8")
    cfg = load_config(path)
    con = open_warehouse(cfg)
    collect(con, cfg)
    build(con, cfg.campaigns)
    con.close()
    return cfg


CAMPAIGN = """
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
timezone = "Asia/Damascus"
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = 200
"""


def run(db, *args):
    """`tracker sql ARGS` on the warehouse: `--db FILE`, or `--config FILE` for a lake."""
    return CliRunner().invoke(cli, [*warehouse_args(db), "sql", *args])


def expected(db):
    con = open_warehouse(db, read_only=True)
    con.execute("set TimeZone = 'UTC'")
    rows = con.execute(QUERY + " order by all").fetchall()
    con.close()
    return rows


def test_table_output(db):
    result = run(db, QUERY + " order by all")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["campaign", "day", "posts"]
    assert lines[-1] == f"({len(expected(db))} rows)"


def test_csv_json_jsonl_agree_with_duckdb(db, tmp_path):
    want = [(c, d.isoformat(), n) for c, d, n in expected(db)]
    out = run(db, QUERY + " order by all", "--format", "csv").output
    got = [(r["campaign"], r["day"], int(r["posts"])) for r in csv.DictReader(io.StringIO(out))]
    assert got == want
    out = run(db, QUERY + " order by all", "--format", "json").output
    assert [(r["campaign"], r["day"], r["posts"]) for r in json.loads(out)] == want
    out = run(db, QUERY + " order by all", "--format", "jsonl").output
    assert [tuple(json.loads(line).values()) for line in out.splitlines()] == want
    target = tmp_path / "out.csv"
    result = run(db, QUERY, "--format", "csv", "-o", str(target))
    assert result.exit_code == 0 and target.read_text(encoding="utf-8").startswith("campaign,")


def test_parquet_needs_output_and_round_trips(db, tmp_path):
    result = run(db, QUERY, "--format", "parquet")
    assert result.exit_code == 1 and "needs --output" in result.output
    target = tmp_path / "sub" / "v.parquet"
    result = run(db, QUERY, "--format", "parquet", "-o", str(target))
    assert result.exit_code == 0, result.output
    rows = duckdb.sql(f"select * from '{target}' order by all").fetchall()
    assert rows == expected(db)


def test_query_from_file_and_examples_run(db, tmp_path):
    from tracker.resources import QUERIES_DIR
    examples = sorted((QUERIES_DIR / "examples").glob("*.sql"))
    assert len(examples) >= 4
    for path in examples:
        result = run(db, "-f", str(path))
        assert result.exit_code == 0, (path.name, result.output)
    result = run(db, "select 1", "-f", str(examples[0]))
    assert result.exit_code == 1 and "not both" in result.output


@pytest.mark.parametrize("query, word", [
    ("copy marts.bursts to 'x.csv'", "COPY"),
    ("attach 'other.duckdb'", "ATTACH"),
    ("install httpfs", "INSTALL"),
    ("load icu", "LOAD"),
    ("set threads = 1", "SET"),
    ("export database 'dump'", "EXPORT"),
    ("create table t as select 1", "CREATE"),
    ("insert into core.campaigns values ('x', 'x', 'UTC', null, null)", "INSERT"),
    ("delete from marts.bursts", "DELETE"),
    ("drop table marts.bursts", "DROP"),
    ("detach lake", "DETACH"),
    ("use memory", "USE"),
    ("pragma threads = 1", "PRAGMA"),
    ("checkpoint", "CHECKPOINT"),
    ("vacuum marts.bursts", "VACUUM"),
    ("begin transaction", "BEGIN"),
    ("call ducklake_expire_snapshots('lake', older_than => now())", "CALL"),
])
def test_writes_and_side_doors_are_refused(db, tmp_path, query, word):
    result = run(db, query)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: refused: {word} statements are not allowed; `tracker sql` is read-only "
        "(SELECT and EXPLAIN only)"]
    assert not (tmp_path / "x.csv").exists()


def test_reading_other_files_is_refused(db, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    result = run(db, f"select * from read_csv('{secret}')")
    assert result.exit_code == 1 and "Permission Error" in result.output
    result = run(db, f"copy (select 1) to '{tmp_path / 'y.csv'}'")
    assert result.exit_code == 1 and not (tmp_path / "y.csv").exists()


def test_one_statement_and_clear_errors(db):
    result = run(db, "select 1; select 2")
    assert result.exit_code == 1 and "one statement at a time" in result.output
    result = run(db, "selec 1")
    assert result.exit_code == 1 and "Parser Error" in result.output
    result = run(db, "select * from marts.nope")
    assert result.exit_code == 1 and "query failed" in result.output
    result = run(db)
    assert result.exit_code == 1 and "no query given" in result.output
    with pytest.raises(Exception, match="no SQL statement"):
        check_read_only("-- only a comment")


def test_read_only_connection_allows_describe_and_explain(db):
    cols, rows = run_query(db.warehouse, "describe marts.campaign_summary", lake=db.lake)
    assert "column_name" in cols and any(r[0] == "potential_reach" for r in rows)
    cols, rows = run_query(db.warehouse, "explain select * from marts.volume_daily",
                           lake=db.lake)
    assert rows


def _lake_state(db) -> tuple:
    """What a write would change: the rows of a mart, and (on a lake) its snapshots and
    files."""
    con = open_warehouse(db, read_only=True)
    try:
        rows = con.execute("select count(*) from marts.volume_daily").fetchone()
        snapshots = con.execute("select count(*) from ducklake_snapshots('lake')").fetchone() \
            if db.lake else None
    finally:
        con.close()
    files = sorted(p for p in db.lake.data_path.rglob("*")) if db.lake else []
    return rows, snapshots, files


@pytest.mark.parametrize("query", [
    "select * from ducklake_expire_snapshots('lake', older_than => now())",
    "select * from ducklake_cleanup_old_files('lake', cleanup_all => true)",
    "select * from ducklake_merge_adjacent_files('lake')",
    "select * from ducklake_flush_inlined_data('lake')",
    "select * from ducklake_set_option('lake', 'parquet_compression', 'zstd')",
    "select * from query('create table t as select 1')",
])
def test_a_select_that_would_write_is_refused(db, query):
    """DuckLake's maintenance functions are table functions a SELECT can call (some write
    files even on a lake attached read-only): they are refused and change nothing."""
    before = _lake_state(db)
    result = run(db, query)
    assert result.exit_code == 1 and ("refused" in result.output
                                      or "query failed" in result.output), result.output
    assert _lake_state(db) == before


@pytest.mark.parametrize("db", ["ducklake"], indirect=True)
def test_the_lake_writer_file_cannot_be_read_as_a_file(db):
    """A lake's reader may read its Parquet data and payloads (allowed_directories), not
    this machine's writer file, nor a file beside the lake."""
    other = db.path.parent / "beside.csv"
    other.write_text("a\n1\n", encoding="utf-8")
    for sql in (f"select * from read_blob('{db.warehouse}')", f"from read_csv('{other}')"):
        result = run(db, sql)
        assert result.exit_code == 1 and "Permission Error" in result.output, result.output
    result = run(db, "select ducklake_flush_inlined_data('lake')")
    assert result.exit_code == 1 and "refused: ducklake_flush_inlined_data()" in result.output

def test_a_query_reads_the_marts_and_the_raw_pages(db):
    con = open_warehouse(db, read_only=True)
    want = con.execute("select (select count(*) from marts.campaign_summary), "
                       "count(*), count(payload) from raw.pages").fetchone()
    con.close()
    assert want[0] == 1 and want[1] > 0 and want[2] == want[1]
    result = run(db, "select (select count(*) from marts.campaign_summary) as s, "
                     "count(*) as n, count(payload) as p from raw.pages", "--format", "json")
    assert result.exit_code == 0, result.output
    assert tuple(json.loads(result.output)[0].values()) == want
    result = run(db, "select payload from raw.pages limit 1", "--format", "jsonl")
    assert result.exit_code == 0 and json.loads(result.output)["payload"], result.output


@pytest.mark.parametrize("db", ["ducklake"], indirect=True)
def test_a_reader_never_waits_for_a_lake_writer(db):
    """While a writer holds the lake open for writing, in a transaction that has inserted
    rows, `tracker sql` and `tracker status` answer at once with the last committed data."""
    import time

    from tracker.store import ledger

    want = expected(db)
    writer = open_warehouse(db)   # this machine's writer file, and the lake read-write
    try:
        writer.execute("begin transaction")
        writer.execute("insert into marts.volume_daily select * from marts.volume_daily")
        run_id = ledger.start_run(writer, "collect", "aleppo", "simulated-x")
        ledger.finish_run(writer, run_id, "failed", errors=1, message="not committed")
        assert writer.execute(QUERY.replace("sum(posts)", "count(*)") + " order by all"
                              ).fetchall() != want
        t0 = time.monotonic()
        result = run(db, QUERY + " order by all", "--format", "json")
        took = time.monotonic() - t0
        assert result.exit_code == 0, result.output
        assert [(r["campaign"], r["day"], r["posts"]) for r in json.loads(result.output)] \
            == [(c, d.isoformat(), n) for c, d, n in want]
        assert took < 10, f"tracker sql took {took:.1f} s beside a writer"
        t0 = time.monotonic()
        status = CliRunner().invoke(cli, ["--config", str(db.path), "status", "--json"])
        took = time.monotonic() - t0
        assert status.exit_code == 0, status.output
        data = json.loads(status.output)
        x = next(s for s in data["sources"] if s["source"] == "simulated-x")
        assert x["outcome"] == "ok" and x["posts_total"] == 200 and not data["failing"]
        assert took < 10, f"tracker status took {took:.1f} s beside a writer"
        writer.execute("rollback")
    finally:
        writer.close()
    assert expected(db) == want
