"""Collection passes: cursors, resume, kill -9 during a load, and the demo end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.pipeline import collect
from tracker.store import ledger

from .conftest import connect_at, counts, open_warehouse, warehouse_toml, write_config

CORE = ["norm.posts", "norm.authors", "norm.post_hashtags", "norm.campaign_posts"]


def core_counts(con) -> dict[str, int]:
    c = counts(con)
    return {k: c[k] for k in CORE}


def test_collect_in_steps_equals_collect_at_once(sim_config, tmp_path, backend):
    once = sim_config(x_posts=700, backend=backend)
    con = connect_at(tmp_path, "once", backend)
    collect(con, once)
    want = core_counts(con)
    keys = set(con.execute("select platform, post_id from norm.posts").fetchall())
    con.close()

    steps = sim_config(x_posts=700, per_run=150, backend=backend)
    con = connect_at(tmp_path, "steps", backend)
    runs = 0
    while True:
        runs += 1
        results = collect(con, steps, source="simulated-x")
        if results[0].posts_new == 0:
            break
    collect(con, steps, source="simulated-mastodon")
    collect(con, steps, source="simulated-bluesky")
    assert runs == 6  # 700 posts released 150 per run, then one empty run
    assert core_counts(con) == want
    assert set(con.execute("select platform, post_id from norm.posts").fetchall()) == keys
    assert ledger.get_cursor(con, "aleppo", "simulated-x") == {"next_index": 700}
    statuses = con.execute("select distinct status from ledger.runs").fetchall()
    assert statuses == [("ok",)]
    con.close()


def test_repost_of_campaign_post_belongs_to_campaign(sim_config, tmp_path, backend):
    con = connect_at(tmp_path, "w", backend)
    collect(con, sim_config(x_posts=300, backend=backend), source="simulated-mastodon")
    orphans = con.execute("""
        select count(*) from norm.posts p
        where p.kind = 'repost' and not exists (
            select 1 from norm.campaign_posts c where c.post_id = p.post_id)""").fetchone()[0]
    reposts = con.execute(
        "select count(*) from norm.posts where kind = 'repost'").fetchone()[0]
    assert reposts > 0 and orphans == 0
    con.close()


def test_kill_during_load_loses_and_duplicates_nothing(sim_config, tmp_path, backend):
    cfg = sim_config(x_posts=6000, backend=backend)
    ref = connect_at(tmp_path, "ref", backend)
    collect(ref, cfg)
    want = core_counts(ref)
    ref.close()

    env = dict(os.environ, TRACKER_CONFIG=str(cfg.path))
    cmd = [sys.executable, "-m", "tracker.cli", "collect"]
    killed = 0
    for delay in (0.9, 1.3, 1.7):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert killed >= 1, "collection finished before any kill: make it bigger"
    con = open_warehouse(cfg, read_only=True)
    assert core_counts(con) == want
    dupes = con.execute("select count(*) - count(distinct (platform, post_id)) "
                        "from norm.posts").fetchone()[0]
    assert dupes == 0
    con.close()


def test_demo_cli_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--scale", "0.05"])
    assert result.exit_code == 0, result.output
    report = tmp_path / "reports" / "demo" / "aleppo-is-burning" / "index.html"
    assert f"Report: {report}" in result.output
    html = report.read_text(encoding="utf-8")
    assert "Synthetic data" in html
    assert "http://" not in html.split("<script>")[0]
    assert 'tracker --demo sql "select campaign' in result.output
    con = duckdb.connect("warehouse/demo.duckdb", read_only=True)
    assert con.execute("select bool_and(synthetic) from norm.posts").fetchone()[0] is True
    assert con.execute("select count(*) from marts.volume_daily").fetchone()[0] > 0
    con.close()
    # The printed query works, and so does --db on the demo's warehouse.
    printed = next(line for line in result.stdout.splitlines()
                   if line.startswith("  tracker --demo sql "))
    query = printed.split(" sql ", 1)[1].strip('"')
    q = CliRunner().invoke(cli, ["--demo", "sql", query])
    assert q.exit_code == 0 and q.output.split()[:3] == ["campaign", "platform", "posts"]
    q = CliRunner().invoke(cli, ["sql", "--db", "warehouse/demo.duckdb",
                                 "select count(*) as n from norm.posts where synthetic"])
    assert q.exit_code == 0 and q.output.splitlines()[0].split() == ["n"]


def test_sql_on_missing_warehouse(tmp_path, backend):
    if backend == "duckdb":
        args, missing = ["--db", str(tmp_path / "x.duckdb")], str(tmp_path / "x.duckdb")
    else:   # --db means a DuckDB file: a lake is named by its config
        cfg = load_config(write_config(tmp_path, warehouse_toml(backend, "wh/x.duckdb")))
        assert cfg.lake is not None
        args, missing = ["--config", str(cfg.path)], cfg.lake.describe()
    result = CliRunner().invoke(cli, [*args, "sql", "select 1"])
    assert result.exit_code == 1
    assert result.output == (f"Error: {missing}: warehouse not found (run "
                             "`tracker collect`, `tracker import` or `tracker demo` first)\n")
