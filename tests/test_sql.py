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

QUERY = "select campaign, day, sum(posts) as posts from marts.volume_daily group by all"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from tracker.config import parse_config
    from tracker.models import build
    from tracker.pipeline import collect
    from tracker.store.db import connect

    base = tmp_path_factory.mktemp("sql")
    cfg = parse_config({"warehouse": {"path": "wh.duckdb"}, "campaigns": [
        {"name": "aleppo", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
         "timezone": "Asia/Damascus",
         "sources": [{"type": "simulated", "platform": "x", "posts": 200}]}]},
        base / "tracker.toml")
    con = connect(cfg.warehouse)
    collect(con, cfg)
    build(con, cfg.campaigns)
    con.close()
    return cfg.warehouse


def run(*args):
    return CliRunner().invoke(cli, ["sql", *args])


def expected(db):
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    rows = con.execute(QUERY + " order by all").fetchall()
    con.close()
    return rows


def test_table_output(db):
    result = run(QUERY + " order by all", "--db", str(db))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["campaign", "day", "posts"]
    assert lines[-1] == f"({len(expected(db))} rows)"


def test_csv_json_jsonl_agree_with_duckdb(db, tmp_path):
    want = [(c, d.isoformat(), n) for c, d, n in expected(db)]
    out = run(QUERY + " order by all", "--db", str(db), "--format", "csv").output
    got = [(r["campaign"], r["day"], int(r["posts"])) for r in csv.DictReader(io.StringIO(out))]
    assert got == want
    out = run(QUERY + " order by all", "--db", str(db), "--format", "json").output
    assert [(r["campaign"], r["day"], r["posts"]) for r in json.loads(out)] == want
    out = run(QUERY + " order by all", "--db", str(db), "--format", "jsonl").output
    assert [tuple(json.loads(line).values()) for line in out.splitlines()] == want
    target = tmp_path / "out.csv"
    result = run(QUERY, "--db", str(db), "--format", "csv", "-o", str(target))
    assert result.exit_code == 0 and target.read_text(encoding="utf-8").startswith("campaign,")


def test_parquet_needs_output_and_round_trips(db, tmp_path):
    result = run(QUERY, "--db", str(db), "--format", "parquet")
    assert result.exit_code == 1 and "needs --output" in result.output
    target = tmp_path / "sub" / "v.parquet"
    result = run(QUERY, "--db", str(db), "--format", "parquet", "-o", str(target))
    assert result.exit_code == 0, result.output
    rows = duckdb.sql(f"select * from '{target}' order by all").fetchall()
    assert rows == expected(db)


def test_query_from_file_and_examples_run(db, tmp_path):
    from tracker.resources import QUERIES_DIR
    examples = sorted((QUERIES_DIR / "examples").glob("*.sql"))
    assert len(examples) >= 4
    for path in examples:
        result = run("-f", str(path), "--db", str(db))
        assert result.exit_code == 0, (path.name, result.output)
    result = run("select 1", "-f", str(examples[0]), "--db", str(db))
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
])
def test_writes_and_side_doors_are_refused(db, tmp_path, query, word):
    result = run(query, "--db", str(db))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: refused: {word} statements are not allowed; `tracker sql` is read-only "
        "(SELECT and EXPLAIN only)"]
    assert not (tmp_path / "x.csv").exists()


def test_reading_other_files_is_refused(db, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    result = run(f"select * from read_csv('{secret}')", "--db", str(db))
    assert result.exit_code == 1 and "Permission Error" in result.output
    result = run(f"copy (select 1) to '{tmp_path / 'y.csv'}'", "--db", str(db))
    assert result.exit_code == 1 and not (tmp_path / "y.csv").exists()


def test_one_statement_and_clear_errors(db):
    result = run("select 1; select 2", "--db", str(db))
    assert result.exit_code == 1 and "one statement at a time" in result.output
    result = run("selec 1", "--db", str(db))
    assert result.exit_code == 1 and "Parser Error" in result.output
    result = run("select * from marts.nope", "--db", str(db))
    assert result.exit_code == 1 and "query failed" in result.output
    result = run("--db", str(db))
    assert result.exit_code == 1 and "no query given" in result.output
    with pytest.raises(Exception, match="no SQL statement"):
        check_read_only("-- only a comment")


def test_read_only_connection_allows_describe_and_explain(db):
    cols, rows = run_query(db, "describe marts.campaign_summary")
    assert "column_name" in cols and any(r[0] == "potential_reach" for r in rows)
    cols, rows = run_query(db, "explain select * from marts.volume_daily")
    assert rows
