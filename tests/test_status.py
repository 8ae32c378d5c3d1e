"""`tracker status`: per source outcome, counts, lag; exit code 2 when a source is failing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tracker.cli import cli
from tracker.pipeline import collect
from tracker.store import ledger
from tracker.store.db import connect


def run_status(cfg, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg.path), "status", *args])


def test_status_before_anything_ran(sim_config):
    cfg = sim_config()
    out = run_status(cfg)
    assert out.exit_code == 0, out.output
    assert "daemon: not running" in out.output
    assert "aleppo    simulated-x" in out.output and "never" in out.output


def test_status_counts_and_exit_code_for_a_failing_source(sim_config):
    cfg = sim_config(x_posts=300)
    con = connect(cfg.warehouse)
    collect(con, cfg)
    run = ledger.start_run(con, "collect", "aleppo", "simulated-bluesky")
    ledger.finish_run(con, run, "failed", errors=1, message="bluesky: HTTP 503 (retry in 60s)")
    con.close()

    out = run_status(cfg, "--json")
    assert out.exit_code == 2
    data = json.loads(out.output)
    assert data["failing"] == ["aleppo/simulated-bluesky"]
    by = {s["source"]: s for s in data["sources"]}
    assert by["simulated-x"]["posts_total"] == 300 and by["simulated-x"]["posts_24h"] == 300
    assert by["simulated-x"]["outcome"] == "ok" and not by["simulated-x"]["failing"]
    assert 0 <= by["simulated-x"]["lag_seconds"] < 60
    assert by["simulated-bluesky"]["outcome"] == "failed"
    assert by["simulated-bluesky"]["last_error"] == "bluesky: HTTP 503 (retry in 60s)"
    assert data["warehouse"]["bytes"] > 0 and data["daemon"]["running"] is False

    text = run_status(cfg)
    assert text.exit_code == 2
    assert "FAILING: aleppo/simulated-bluesky" in text.output
    assert "HTTP 503" in text.output

    con = connect(cfg.warehouse)        # the source recovers: status is healthy again
    collect(con, cfg, source="simulated-bluesky")
    con.close()
    assert run_status(cfg).exit_code == 0


def test_status_help_has_an_example():
    out = CliRunner().invoke(cli, ["status", "--help"])
    assert out.exit_code == 0 and "Example: tracker status" in out.output
    out = CliRunner().invoke(cli, ["run", "--help"])
    assert out.exit_code == 0 and "Example: tracker" in out.output


def test_rejected_spool_entries_make_status_fail(sim_config):
    cfg = sim_config()
    (cfg.spool / "rejected").mkdir(parents=True)
    (cfg.spool / "rejected" / "000000000001-batch.jsonl").write_text("{}\n")
    out = run_status(cfg)
    assert out.exit_code == 2
    assert "FAILING: spool: 1 rejected entries in" in out.output
